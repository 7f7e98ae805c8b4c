//! The rules of Vestibule, free of HTTP and UI: accounts, passwords, passkeys, MFA, recovery, sessions,
//! consent, OAuth. Time (`now`, Unix seconds) and randomness are parameters, so expiry and throttling are
//! tested without sleeping.

pub mod accounts;
pub mod audit;
pub mod mfa;
pub mod oidc;
pub mod passkeys;
pub mod passwords;
pub mod profile;
pub mod roles;
pub mod throttle;
pub mod tokens;
pub mod user_agent;
