//! PKCE (RFC 7636), S256 only: `plain` would send the secret itself through the browser. Four lines of
//! SHA-256 and base64url; no crate does the server side of this alone.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A verifier or challenge: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 section 4.1).
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` hashes to `challenge` under S256, compared in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let digest = Sha256::digest(verifier.as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    crate::core::tokens::hashes_equal(&computed, challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(challenge, challenge), "plain: the challenge as its own verifier");
        assert!(!verify_s256("short", challenge));
        assert!(is_well_formed(challenge) && !is_well_formed("has space and is long enough to pass the length check"));
    }
}
