//! The browser's half of passkey ceremonies: hand the server's options to `navigator.credentials` and
//! the authenticator's answer back as JSON. Only the hydrated bundle does this; on the server the
//! functions report `Unsupported` (they are only called from event handlers).

/// Why a ceremony did not produce an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeremonyError {
    /// No WebAuthn in this browser (or not a secure context).
    Unsupported,
    /// The person closed the dialog, no passkey matched, or the request was aborted.
    Cancelled,
    /// This authenticator already holds a passkey for the account (it is in the excluded list).
    AlreadyRegistered,
    /// The options or the answer could not be converted.
    Failed,
}

impl CeremonyError {
    pub fn message_key(self) -> &'static str {
        match self {
            CeremonyError::Unsupported => "passkeys.unsupported",
            CeremonyError::Cancelled => "passkeys.cancelled",
            CeremonyError::AlreadyRegistered => "passkeys.already_registered",
            CeremonyError::Failed => "passkeys.failed",
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{
    cancel_conditional, conditional_available, create, get_assertion as get, get_conditional, supported,
};

#[cfg(not(feature = "hydrate"))]
pub use server_side::{cancel_conditional, conditional_available, create, get, get_conditional, supported};

#[cfg(feature = "hydrate")]
mod browser {
    //! Written by hand rather than with webauthn-rs-proto's "wasm" conversions: those pull `serde_with`,
    //! `serde-wasm-bindgen` and the whole proto crate into the bundle (1,203 KB with them, 1,102 KB with
    //! this file, both measured with wasm-opt -Oz), unwrap on unexpected input (a panic in the page) and
    //! log every extension result to the console. The JSON forms are the WebAuthn Level 3 ones (binary
    //! fields as unpadded base64url), so only the binary fields need converting.

    use super::CeremonyError;
    use base64::Engine;
    use js_sys::{Array, Object, Reflect, Uint8Array, JSON};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    thread_local! {
        /// Cancels the pending autofill request: it must end before a dialog can start. The browser runs
        /// one thread, so a thread-local is the page-wide slot.
        static CONDITIONAL: std::cell::RefCell<Option<web_sys::AbortController>> = const { std::cell::RefCell::new(None) };
    }

    /// Ends the pending autofill request, if any.
    pub fn cancel_conditional() {
        if let Some(controller) = CONDITIONAL.with(|slot| slot.borrow_mut().take()) {
            controller.abort();
        }
    }

    fn credentials() -> Option<web_sys::CredentialsContainer> {
        web_sys::window().map(|w| w.navigator().credentials())
    }

    /// WebAuthn exists here (a secure context with `PublicKeyCredential`).
    pub fn supported() -> bool {
        web_sys::window()
            .is_some_and(|w| w.is_secure_context() && Reflect::has(&w, &"PublicKeyCredential".into()).unwrap_or(false))
    }

    /// The browser can offer passkeys in the autofill of a field marked `autocomplete="... webauthn"`.
    pub async fn conditional_available() -> bool {
        if !supported() {
            return false;
        }
        let Some(class) = web_sys::window().and_then(|w| Reflect::get(&w, &"PublicKeyCredential".into()).ok()) else {
            return false;
        };
        let Some(check) = Reflect::get(&class, &"isConditionalMediationAvailable".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return false;
        };
        let Some(promise) = check.call0(&class).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) else {
            return false;
        };
        JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    fn classify(err: JsValue) -> CeremonyError {
        let name = err.dyn_ref::<web_sys::DomException>().map(|e| e.name()).unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "AbortError" => CeremonyError::Cancelled,
            "NotSupportedError" | "SecurityError" => CeremonyError::Unsupported,
            "InvalidStateError" => CeremonyError::AlreadyRegistered,
            _ => CeremonyError::Failed,
        }
    }

    fn get(target: &JsValue, key: &str) -> JsValue {
        Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
    }

    fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<(), CeremonyError> {
        Reflect::set(target, &key.into(), value).map(|_| ()).map_err(|_| CeremonyError::Failed)
    }

    /// Replaces the base64url text at `target[key]` with its bytes.
    fn decode_in_place(target: &JsValue, key: &str) -> Result<(), CeremonyError> {
        let text = get(target, key).as_string().ok_or(CeremonyError::Failed)?;
        let bytes = B64.decode(text.trim_end_matches('=')).map_err(|_| CeremonyError::Failed)?;
        set(target, key, &Uint8Array::from(bytes.as_slice()))
    }

    /// Decodes the `id` of every entry in `target[key]` (allow and exclude lists).
    fn decode_ids(target: &JsValue, key: &str) -> Result<(), CeremonyError> {
        if let Ok(list) = get(target, key).dyn_into::<Array>() {
            for entry in list.iter() {
                decode_in_place(&entry, "id")?;
            }
        }
        Ok(())
    }

    /// JSON `null` where the browser's dictionaries expect a value or nothing: drop those members.
    fn drop_nulls(value: &JsValue) {
        if let Ok(array) = value.clone().dyn_into::<Array>() {
            array.iter().for_each(|v| drop_nulls(&v));
        } else if value.is_object() {
            for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
                let member = Reflect::get(value, &key).unwrap_or(JsValue::UNDEFINED);
                if member.is_null() {
                    let _ = Reflect::delete_property(value.unchecked_ref::<Object>(), &key);
                } else {
                    drop_nulls(&member);
                }
            }
        }
    }

    fn parse_options(options_json: &str) -> Result<(JsValue, JsValue), CeremonyError> {
        let options = JSON::parse(options_json).map_err(|_| CeremonyError::Failed)?;
        drop_nulls(&options);
        let public_key = get(&options, "publicKey");
        decode_in_place(&public_key, "challenge")?;
        Ok((options, public_key))
    }

    fn encode(bytes: &JsValue) -> JsValue {
        JsValue::from_str(&B64.encode(Uint8Array::new(bytes).to_vec()))
    }

    /// The credential as WebAuthn Level 3 JSON, with the `response` members listed in `binary` encoded.
    fn credential_json(credential: &JsValue, binary: &[&str]) -> Result<String, CeremonyError> {
        let response = get(credential, "response");
        let out = Object::new();
        set(&out, "id", &get(credential, "id"))?;
        set(&out, "rawId", &encode(&get(credential, "rawId")))?;
        set(&out, "type", &get(credential, "type"))?;
        let out_response = Object::new();
        for key in binary {
            let value = get(&response, key);
            if !value.is_null() && !value.is_undefined() {
                set(&out_response, key, &encode(&value))?;
            }
        }
        if let Some(credential) = credential.dyn_ref::<web_sys::PublicKeyCredential>() {
            set(&out, "clientExtensionResults", &credential.get_client_extension_results())?;
        }
        set(&out, "response", &out_response)?;
        JSON::stringify(&out).ok().and_then(|s| s.as_string()).ok_or(CeremonyError::Failed)
    }

    /// Creates a passkey from the server's creation options; returns the answer as JSON.
    pub async fn create(options_json: &str) -> Result<String, CeremonyError> {
        let container = credentials().filter(|_| supported()).ok_or(CeremonyError::Unsupported)?;
        let (options, public_key) = parse_options(options_json)?;
        decode_in_place(&get(&public_key, "user"), "id")?;
        decode_ids(&public_key, "excludeCredentials")?;
        let promise = container.create_with_options(options.unchecked_ref()).map_err(classify)?;
        let credential = JsFuture::from(promise).await.map_err(classify)?;
        credential_json(&credential, &["clientDataJSON", "attestationObject"])
    }

    /// Signs in with a passkey from the server's request options (a dialog); returns the answer as JSON.
    pub async fn get_assertion(options_json: &str) -> Result<String, CeremonyError> {
        assertion(options_json, None).await
    }

    /// Offers passkeys in the autofill of the field marked `autocomplete="... webauthn"`; stays pending
    /// until the person picks one or `cancel_conditional` ends it.
    pub async fn get_conditional(options_json: &str) -> Result<String, CeremonyError> {
        cancel_conditional();
        let controller = web_sys::AbortController::new().map_err(|_| CeremonyError::Failed)?;
        CONDITIONAL.with(|slot| *slot.borrow_mut() = Some(controller.clone()));
        assertion(options_json, Some(controller.signal())).await
    }

    async fn assertion(options_json: &str, signal: Option<web_sys::AbortSignal>) -> Result<String, CeremonyError> {
        let container = credentials().filter(|_| supported()).ok_or(CeremonyError::Unsupported)?;
        let (options, public_key) = parse_options(options_json)?;
        decode_ids(&public_key, "allowCredentials")?;
        if let Some(signal) = signal {
            set(&options, "signal", &signal)?;
        }
        let promise = container.get_with_options(options.unchecked_ref()).map_err(classify)?;
        let credential = JsFuture::from(promise).await.map_err(classify)?;
        if credential.is_null() {
            return Err(CeremonyError::Cancelled);
        }
        credential_json(&credential, &["clientDataJSON", "authenticatorData", "signature", "userHandle"])
    }
}

#[cfg(not(feature = "hydrate"))]
mod server_side {
    use super::CeremonyError;

    pub fn cancel_conditional() {}

    pub fn supported() -> bool {
        false
    }

    pub async fn conditional_available() -> bool {
        false
    }

    pub async fn create(_options_json: &str) -> Result<String, CeremonyError> {
        Err(CeremonyError::Unsupported)
    }

    pub async fn get(_options_json: &str) -> Result<String, CeremonyError> {
        Err(CeremonyError::Unsupported)
    }

    pub async fn get_conditional(_options_json: &str) -> Result<String, CeremonyError> {
        Err(CeremonyError::Unsupported)
    }
}

/// Sends the browser to `path` with a full page load (the header and every page see the new session).
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
