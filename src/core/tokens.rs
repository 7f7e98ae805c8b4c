//! One-time codes and link tokens (security.md "Recovery and verification"): codes are 6 random digits,
//! link tokens 256 random bits; both are stored only as HMAC-SHA-256 under the server's token key, so a copy
//! of the database cannot be used to brute-force the 10^6 codes offline.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, Rng};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The key codes and links are hashed under. Never printed, never serialised.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty digest regardless.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Hash of a code, bound to the row it belongs to (the same code in two rows hashes differently).
    pub fn code_hash(&self, row_id: &str, code: &str) -> String {
        self.mac(&[b"code", row_id.as_bytes(), code.as_bytes()])
    }

    /// Hash of a recovery code, bound to its account.
    pub fn recovery_hash(&self, account_id: &str, code: &str) -> String {
        self.mac(&[b"recovery", account_id.as_bytes(), code.as_bytes()])
    }

    pub fn link_hash(&self, token: &str) -> String {
        self.mac(&[b"link", token.as_bytes()])
    }

    /// The pseudonym an erased account's audit events keep: the same for every event of the account (they
    /// stay linkable to each other), but without the key nobody can tell whose account it was.
    pub fn audit_pseudonym(&self, account_id: &str) -> String {
        self.mac(&[b"audit-pseudonym", account_id.as_bytes()])
    }
}

/// Constant-time comparison of two hex hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Six digits, uniformly distributed, leading zeros kept.
pub fn new_code(rng: &mut impl CryptoRng) -> String {
    format!("{:06}", rng.random_range(0..1_000_000u32))
}

/// 256 random bits, URL-safe.
pub fn new_link_token(rng: &mut impl CryptoRng) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_tokens_carry_256_bits() {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let code = new_code(&mut rng);
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
        let token = new_link_token(&mut rng);
        assert_eq!(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&token).map(|b| b.len()).ok(), Some(32));
        assert_ne!(token, new_link_token(&mut rng));
    }

    #[test]
    fn hashes_depend_on_key_row_and_value() {
        let a = TokenKey::from_bytes([1; 32]);
        let b = TokenKey::from_bytes([2; 32]);
        assert_eq!(a.code_hash("r1", "123456"), a.code_hash("r1", "123456"));
        assert_ne!(a.code_hash("r1", "123456"), a.code_hash("r2", "123456"));
        assert_ne!(a.code_hash("r1", "123456"), b.code_hash("r1", "123456"));
        assert_ne!(a.link_hash("t"), a.code_hash("", "t"));
        assert!(hashes_equal(&a.link_hash("t"), &a.link_hash("t")));
        assert!(!hashes_equal(&a.link_hash("t"), &a.link_hash("u")));
        assert!(!format!("{a:?}").contains('1'));
    }
}
