//! The server's keys: `secret_key` for hashing one-time codes, link tokens and recovery codes, and
//! `mfa.seal_key` for sealing TOTP seeds. Each comes from the configuration, or is generated once into
//! `<data_dir>/secret.key` and `<data_dir>/mfa-seal.key` (readable by the owner only).

use std::path::Path;

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::core::mfa::seal::SeedSealer;
use crate::core::tokens::TokenKey;

pub fn decode_key(value: &SecretString) -> Option<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(value.expose_secret().trim()).ok()?;
    bytes.try_into().ok()
}

/// The configured key, else the one in `data_dir`, else a new one written there.
pub fn load_or_create(configured: Option<&SecretString>, data_dir: &Path) -> std::io::Result<TokenKey> {
    key_bytes(configured, data_dir, "secret.key").map(TokenKey::from_bytes)
}

/// The MFA seal keys: the configured (or `<data_dir>/mfa-seal.key`) current key and the previous ones.
pub fn seed_sealer(
    configured: Option<&SecretString>,
    previous: &[SecretString],
    data_dir: &Path,
) -> std::io::Result<SeedSealer> {
    let current = key_bytes(configured, data_dir, "mfa-seal.key")?;
    let previous: Vec<[u8; 32]> = previous.iter().filter_map(decode_key).collect();
    Ok(SeedSealer::new(current, &previous))
}

fn key_bytes(configured: Option<&SecretString>, data_dir: &Path, file: &str) -> std::io::Result<[u8; 32]> {
    if let Some(bytes) = configured.and_then(decode_key) {
        return Ok(bytes);
    }
    let path = data_dir.join(file);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode_key(&SecretString::from(text))
            .ok_or_else(|| std::io::Error::other(format!("{} does not hold a base64 32-byte key", path.display())));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    std::fs::create_dir_all(data_dir)?;
    write_private(&path, base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new key");
    Ok(bytes)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = load_or_create(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let b = load_or_create(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.link_hash("x"), b.link_hash("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key")).map(|m| m.permissions().mode()).unwrap_or(0);
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = SecretString::from(base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
        let c = load_or_create(Some(&configured), dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.link_hash("x"), TokenKey::from_bytes([7; 32]).link_hash("x"));
        assert!(decode_key(&SecretString::from("c2hvcnQ=")).is_none());
    }
}
