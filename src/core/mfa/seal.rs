//! TOTP seeds at rest: sealed with XChaCha20-Poly1305 (authenticated; a random 192-bit nonce per seal, so
//! nonces never repeat in practice) under the MFA seal key, with the account id as associated data so a
//! sealed seed copied onto another account's row does not open. Each sealed value names its key, so old
//! keys keep opening old seeds until `vestibule mfa reseal` moves them to the current key.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::CryptoRng;
use sha2::{Digest, Sha256};

const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed under a key that is no longer configured ({0})")]
    UnknownKey(String),
    #[error("sealed value damaged or not for this account")]
    Damaged,
}

/// The configured seal keys: the current one (new seals) and previous ones (opening only). Never printed,
/// never serialised.
#[derive(Clone)]
pub struct SeedSealer {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for SeedSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedSealer").field("current_key_id", &self.current_key_id()).finish_non_exhaustive()
    }
}

/// A public name for a key: the first 16 hex digits of its SHA-256 under a label.
fn key_id(key: &[u8; 32]) -> String {
    let digest = Sha256::new().chain_update(b"vestibule mfa seal key").chain_update(key).finalize();
    hex::encode(&digest[..8])
}

impl SeedSealer {
    pub fn new(current: [u8; 32], previous: &[[u8; 32]]) -> Self {
        let keys = std::iter::once(current).chain(previous.iter().copied()).map(|k| (key_id(&k), k)).collect();
        Self { keys }
    }

    pub fn current_key_id(&self) -> &str {
        self.keys.first().map(|(id, _)| id.as_str()).unwrap_or_default()
    }

    /// Seals `secret` for `account_id` under the current key: (base64 of nonce and ciphertext, key id).
    pub fn seal(
        &self,
        account_id: &str,
        secret: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(String, String), SealError> {
        let (id, key) = self.keys.first().ok_or(SealError::Damaged)?;
        let mut nonce = [0u8; NONCE_BYTES];
        rng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(key.into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad: account_id.as_bytes() })
            .map_err(|_| SealError::Damaged)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok((base64::engine::general_purpose::STANDARD.encode(out), id.clone()))
    }

    /// Opens a seed sealed by `seal` for the same account under any configured key.
    pub fn open(&self, account_id: &str, sealed: &str, key_id: &str) -> Result<Vec<u8>, SealError> {
        let (_, key) =
            self.keys.iter().find(|(id, _)| id == key_id).ok_or_else(|| SealError::UnknownKey(key_id.to_string()))?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).map_err(|_| SealError::Damaged)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        XChaCha20Poly1305::new(key.into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: account_id.as_bytes() })
            .map_err(|_| SealError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_open_only_for_their_account_and_with_a_configured_key() {
        let old = SeedSealer::new([1; 32], &[]);
        let (sealed, id) = old.seal("acct-a", b"twenty bytes of seed", &mut rand::rng()).unwrap_or_default();
        assert!(!sealed.contains("twenty"));
        assert_eq!(old.open("acct-a", &sealed, &id).as_deref(), Ok(&b"twenty bytes of seed"[..]));
        assert_eq!(old.open("acct-b", &sealed, &id), Err(SealError::Damaged), "bound to the account");

        // rotated: the new current key still opens what the previous one sealed
        let rotated = SeedSealer::new([2; 32], &[[1; 32]]);
        assert_ne!(rotated.current_key_id(), id);
        assert_eq!(rotated.open("acct-a", &sealed, &id).as_deref(), Ok(&b"twenty bytes of seed"[..]));
        let dropped = SeedSealer::new([2; 32], &[]);
        assert_eq!(dropped.open("acct-a", &sealed, &id), Err(SealError::UnknownKey(id.clone())));

        // a flipped bit is caught by the tag
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap_or_default();
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(old.open("acct-a", &tampered, &id), Err(SealError::Damaged));
    }

    #[test]
    fn two_seals_of_the_same_seed_differ() {
        let s = SeedSealer::new([3; 32], &[]);
        let a = s.seal("x", b"seed", &mut rand::rng()).unwrap_or_default();
        let b = s.seal("x", b"seed", &mut rand::rng()).unwrap_or_default();
        assert_ne!(a.0, b.0);
    }
}
