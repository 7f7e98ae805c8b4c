//! A software passkey authenticator: makes and uses P-256 passkeys as a browser with a platform
//! authenticator would, and answers with the JSON the pages post (webauthn-rs-proto types).
//!
//! Written by hand because webauthn-authenticator-rs's `SoftPasskey` cannot do discoverable credentials:
//! it needs `allowCredentials` to find its key and returns no user handle, so the sign-in button and
//! autofill (empty `allowCredentials`, the account named by the user handle) cannot be tested with it.
//! This one keeps its credentials resident (RP id and user handle with each), attests with format
//! "none", sends no extensions, and leaves its counters, flags and user handles open so tests can
//! misbehave on purpose. Shared with bench/passkeys.rs through `#[path]`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::alg::ecdsa::EcdsaJwsSigner;
use josekit::jws::{JwsSigner, ES256};
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePrivateKey;
use rand::{Rng, RngCore};
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use webauthn_rs_proto::{
    AuthenticationExtensionsClientOutputs, AuthenticatorAssertionResponseRaw, AuthenticatorAttestationResponseRaw,
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RegistrationExtensionsClientOutputs,
    RequestChallengeResponse,
};

/// Authenticator data flags.
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const BACKUP_ELIGIBLE: u8 = 0x08;
const BACKED_UP: u8 = 0x10;
const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;

/// COSE: key type EC2, algorithm ES256, curve P-256.
const COSE_EC2: i128 = 2;
const COSE_ES256: i128 = -7;
const COSE_P256: i128 = 1;

/// One resident credential.
pub struct Credential {
    pub id: Vec<u8>,
    pub rp_id: String,
    /// What the authenticator returns as `userHandle` (the RP's `user.id` at registration).
    pub user_handle: Vec<u8>,
    /// The signature counter of the last use; the next assertion sends one more.
    pub counter: u32,
    key: SigningKey,
    /// The same key as an OpenSSL signer, built once: OpenSSL signs P-256 several times faster than the
    /// p256 crate (no precomputed base point there), and the bench runs this on the server's cores.
    signer: EcdsaJwsSigner,
}

pub struct Authenticator {
    /// The model id sent at registration (all zeros: not disclosed).
    pub aaguid: [u8; 16],
    /// Whether the person is verified (PIN, biometrics): the UV flag.
    pub user_verification: bool,
    /// A synced passkey: the BE and BS flags.
    pub synced: bool,
    pub credentials: Vec<Credential>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self { aaguid: [0; 16], user_verification: true, synced: false, credentials: Vec::new() }
    }
}

impl Authenticator {
    pub fn new() -> Self {
        Self::default()
    }

    /// An authenticator that names its model (hyphenated UUID) at registration.
    pub fn with_aaguid(aaguid: &str) -> Self {
        Self { aaguid: *uuid::Uuid::parse_str(aaguid).expect("an AAGUID").as_bytes(), ..Self::default() }
    }

    /// The most recently created credential.
    pub fn last(&mut self) -> &mut Credential {
        self.credentials.last_mut().expect("a credential")
    }

    /// `navigator.credentials.create`: a new resident P-256 credential for the options' RP and user.
    pub fn register(&mut self, options: &CreationChallengeResponse, origin: &str) -> RegisterPublicKeyCredential {
        let o = &options.public_key;
        assert!(o.pub_key_cred_params.iter().any(|p| i128::from(p.alg) == COSE_ES256), "ES256 offered");
        let mut rng = rand::rng();
        let mut id = vec![0u8; rng.random_range(16..=32)];
        rng.fill_bytes(&mut id);
        let key = loop {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            // a random 32-byte string is a valid scalar except with negligible probability
            if let Ok(key) = SigningKey::from_slice(&secret) {
                break key;
            }
        };
        let signer = ES256.signer_from_der(key.to_pkcs8_der().expect("PKCS#8").as_bytes()).expect("an ES256 key");
        self.credentials.push(Credential {
            id,
            rp_id: o.rp.id.clone(),
            user_handle: o.user.id.clone(),
            counter: 0,
            key,
            signer,
        });
        self.attest(self.credentials.len() - 1, options, origin)
    }

    /// A registration answer for an existing credential (same id and key): what a client replaying a
    /// credential id into another ceremony would send.
    pub fn attest(
        &self,
        index: usize,
        options: &CreationChallengeResponse,
        origin: &str,
    ) -> RegisterPublicKeyCredential {
        let cred = &self.credentials[index];
        let client_data = client_data("webauthn.create", &options.public_key.challenge, origin);
        let point = cred.key.verifying_key().to_encoded_point(false);
        let cose_key = Value::Map(BTreeMap::from([
            (Value::Integer(1), Value::Integer(COSE_EC2)),
            (Value::Integer(3), Value::Integer(COSE_ES256)),
            (Value::Integer(-1), Value::Integer(COSE_P256)),
            (Value::Integer(-2), Value::Bytes(point.x().expect("x").to_vec())),
            (Value::Integer(-3), Value::Bytes(point.y().expect("y").to_vec())),
        ]));
        let mut auth_data = self.auth_data(&cred.rp_id, ATTESTED_CREDENTIAL_DATA, cred.counter);
        auth_data.extend_from_slice(&self.aaguid);
        auth_data.extend_from_slice(&u16::try_from(cred.id.len()).expect("short id").to_be_bytes());
        auth_data.extend_from_slice(&cred.id);
        auth_data.extend(serde_cbor_2::to_vec(&cose_key).expect("CBOR"));
        let attestation_object = Value::Map(BTreeMap::from([
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(BTreeMap::new())),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]));
        RegisterPublicKeyCredential {
            id: URL_SAFE_NO_PAD.encode(&cred.id),
            raw_id: cred.id.clone(),
            response: AuthenticatorAttestationResponseRaw {
                attestation_object: serde_cbor_2::to_vec(&attestation_object).expect("CBOR"),
                client_data_json: client_data,
                transports: None,
            },
            type_: "public-key".into(),
            extensions: RegistrationExtensionsClientOutputs::default(),
        }
    }

    /// `navigator.credentials.get`: the first allowed credential held, or with an empty
    /// `allowCredentials` (discoverable) the newest resident credential for the RP.
    pub fn assert(&mut self, options: &RequestChallengeResponse, origin: &str) -> PublicKeyCredential {
        let o = &options.public_key;
        let index = if o.allow_credentials.is_empty() {
            self.credentials.iter().rposition(|c| c.rp_id == o.rp_id)
        } else {
            self.credentials.iter().position(|c| c.rp_id == o.rp_id && o.allow_credentials.iter().any(|a| a.id == c.id))
        };
        self.assert_with(index.expect("a credential for this request"), options, origin)
    }

    /// An assertion by credential `index` whatever the options allow; the counter goes up by one first.
    pub fn assert_with(
        &mut self,
        index: usize,
        options: &RequestChallengeResponse,
        origin: &str,
    ) -> PublicKeyCredential {
        self.credentials[index].counter += 1;
        let cred = &self.credentials[index];
        let client_data = client_data("webauthn.get", &options.public_key.challenge, origin);
        let auth_data = self.auth_data(&cred.rp_id, 0, cred.counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        // OpenSSL answers in the JWS form (r || s); WebAuthn wants DER
        let signature = Signature::from_slice(&cred.signer.sign(&signed).expect("signed")).expect("r || s");
        PublicKeyCredential {
            id: URL_SAFE_NO_PAD.encode(&cred.id),
            raw_id: cred.id.clone(),
            response: AuthenticatorAssertionResponseRaw {
                authenticator_data: auth_data,
                client_data_json: client_data,
                signature: signature.to_der().as_bytes().to_vec(),
                user_handle: Some(cred.user_handle.clone()),
            },
            extensions: AuthenticationExtensionsClientOutputs::default(),
            type_: "public-key".into(),
        }
    }

    /// rpIdHash | flags | signCount: the part of the authenticator data every ceremony has.
    fn auth_data(&self, rp_id: &str, extra_flags: u8, counter: u32) -> Vec<u8> {
        let mut flags = USER_PRESENT | extra_flags;
        if self.user_verification {
            flags |= USER_VERIFIED;
        }
        if self.synced {
            flags |= BACKUP_ELIGIBLE | BACKED_UP;
        }
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }
}

/// clientDataJSON as a browser writes it.
fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": kind,
        "challenge": URL_SAFE_NO_PAD.encode(challenge),
        "origin": origin,
        "crossOrigin": false,
    }))
    .expect("JSON")
}
