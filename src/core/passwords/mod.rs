//! Passwords: the acceptance rules (security.md "Passwords") and argon2id hashing.

pub mod hasher;
pub mod policy;
