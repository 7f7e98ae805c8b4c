//! Which authenticator made a passkey: the AAGUID from the registration's authenticator data, and names
//! for well-known ones.
//!
//! webauthn-rs keeps the parsed authenticator data private, so the AAGUID is read here from the raw
//! attestation object (CBOR map with `authData`; AAGUID at bytes 37..53 when attested credential data is
//! present). The names are a short hand-kept list of common passkey providers, taken from the community
//! "passkey-authenticator-aaguids" list; unknown models simply show no authenticator name.

use serde_cbor_2::Value;

/// Flag in the authenticator data: attested credential data (with the AAGUID) follows the counter.
const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;

const KNOWN: &[(&str, &str)] = &[
    ("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager"),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    ("dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain (Managed)"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"),
    ("fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 Series with NFC"),
    ("2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 Series with NFC"),
];

/// The authenticator's name for a known AAGUID.
pub fn name(aaguid: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(id, _)| *id == aaguid).map(|(_, name)| *name)
}

/// The AAGUID in a registration's attestation object, as a hyphenated lower-case UUID. `None` when the
/// authenticator hid it (all zeros) or the object is malformed (webauthn-rs has refused those already).
pub fn from_attestation_object(attestation_object: &[u8]) -> Option<String> {
    let Ok(Value::Map(map)) = serde_cbor_2::from_slice::<Value>(attestation_object) else {
        return None;
    };
    let auth_data = map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Text(k), Value::Bytes(data)) if k == "authData" => Some(data),
        _ => None,
    })?;
    if auth_data.len() < 53 || auth_data[32] & ATTESTED_CREDENTIAL_DATA == 0 {
        return None;
    }
    let bytes: [u8; 16] = auth_data[37..53].try_into().ok()?;
    (bytes != [0; 16]).then(|| uuid::Uuid::from_bytes(bytes).hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn attestation_object(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut auth_data = vec![0u8; 32];
        auth_data.push(flags);
        auth_data.extend_from_slice(&[0, 0, 0, 1]);
        auth_data.extend_from_slice(&aaguid);
        auth_data.extend_from_slice(&[0, 0]);
        let mut map = BTreeMap::new();
        map.insert(Value::Text("fmt".into()), Value::Text("none".into()));
        map.insert(Value::Text("attStmt".into()), Value::Map(BTreeMap::new()));
        map.insert(Value::Text("authData".into()), Value::Bytes(auth_data));
        serde_cbor_2::to_vec(&Value::Map(map)).unwrap_or_default()
    }

    #[test]
    fn reads_the_aaguid_and_names_known_authenticators() {
        let icloud = uuid::Uuid::parse_str("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").unwrap_or_default();
        let found = from_attestation_object(&attestation_object(0x45, *icloud.as_bytes()));
        assert_eq!(found.as_deref(), Some("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"));
        assert_eq!(found.as_deref().and_then(name), Some("iCloud Keychain"));
        assert_eq!(name("01020304-0506-0708-0102-030405060708"), None);
    }

    #[test]
    fn hidden_or_missing_aaguids_give_none() {
        assert_eq!(from_attestation_object(&attestation_object(0x45, [0; 16])), None);
        assert_eq!(from_attestation_object(&attestation_object(0x05, [7; 16])), None);
        assert_eq!(from_attestation_object(b"not cbor"), None);
    }
}
