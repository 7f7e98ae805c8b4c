//! Sign-up, verification, sign-in and sign-out. Each posts from a plain HTML form (JavaScript off: the
//! answer is a redirect and errors travel in the session's flash) or from the hydrated page (the answer
//! is the result itself).

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::{AccountView, Flash, VerifyPageState};

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    use http::request::Parts;
    use leptos::prelude::use_context;
    use tower_sessions::Session;

    use crate::error::AppError;
    use crate::server::auth::{is_plain_form_post, set_flash};
    use crate::server::state::AppState;
    use crate::types::Flash;

    pub struct Ctx {
        pub state: AppState,
        pub session: Session,
        pub parts: Parts,
    }

    impl Ctx {
        pub async fn get() -> Result<Self, AppError> {
            let state = use_context::<AppState>().ok_or_else(|| AppError::internal("no app state"))?;
            let parts = use_context::<Parts>().ok_or_else(|| AppError::internal("no request parts"))?;
            let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| AppError::internal("no session"))?;
            Ok(Self { state, session, parts })
        }

        pub fn meta(&self) -> crate::core::audit::RequestMeta {
            crate::server::auth::request_meta(&self.parts, &self.state.config.trusted_proxies)
        }

        /// Ends a form's server function: on success go to `next`; on failure, for a plain form post, keep
        /// the error and the values to show again in the flash (Leptos then sends the browser back to the
        /// form), otherwise answer with the error and its status.
        pub async fn finish(&self, result: Result<String, AppError>, mut flash: Flash) -> Result<(), AppError> {
            match result {
                Ok(next) => {
                    leptos_axum::redirect(&next);
                    Ok(())
                }
                Err(err) if is_plain_form_post(&self.parts) => {
                    flash.error = Some(err.clone());
                    set_flash(&self.session, &flash).await?;
                    Err(err)
                }
                Err(err) => Err(crate::server_fns::with_status(err)),
            }
        }
    }
}

#[server(endpoint = "auth/signup")]
pub async fn sign_up(email: String, password: String, display_name: Option<String>) -> Result<(), AppError> {
    use crate::core::accounts::{signup, SignupInput};
    use crate::server::auth::{now, send_notice, PENDING_EMAIL_KEY, VERIFICATION_ROW_KEY};
    let cx = ctx::Ctx::get().await?;
    let result = async {
        let input = SignupInput { email: &email, password: &password, display_name: display_name.as_deref() };
        let (notice, row) = signup(&cx.state.deps(), &input, &cx.meta(), now(), &mut os_seeded_rng()).await?;
        send_notice(&cx.state, notice).await?;
        let normalized = crate::core::accounts::normalize_email(&email).unwrap_or_default();
        cx.session.insert(PENDING_EMAIL_KEY, normalized).await.map_err(AppError::internal)?;
        match row {
            Some(row) => cx.session.insert(VERIFICATION_ROW_KEY, row).await.map_err(AppError::internal)?,
            // same session writes whether or not the address had an account
            None => cx
                .session
                .insert(VERIFICATION_ROW_KEY, uuid::Uuid::new_v4().to_string())
                .await
                .map_err(AppError::internal)?,
        }
        Ok("/verify-email".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "signup".into(), email: Some(email), display_name, ..Flash::default() }).await
}

#[server(endpoint = "auth/login")]
pub async fn log_in(email: String, password: String) -> Result<(), AppError> {
    use crate::core::accounts::{login, LoginInput, LoginOutcome};
    use crate::server::auth::{after_first_factor, now, send_notice, PENDING_EMAIL_KEY, VERIFICATION_ROW_KEY};
    let cx = ctx::Ctx::get().await?;
    let result = async {
        let input = LoginInput { email: &email, password: &password };
        match login(&cx.state.deps(), &input, &cx.meta(), now(), &mut os_seeded_rng()).await? {
            LoginOutcome::SignedIn { account_id } => {
                let seen = crate::core::accounts::deletion::SeenAtSignIn::Unread;
                after_first_factor(&cx.state, &cx.session, &account_id, seen, &["pwd".to_string()], &cx.meta()).await
            }
            LoginOutcome::NeedsVerification { email, notice, row_id } => {
                send_notice(&cx.state, notice).await?;
                cx.session.insert(PENDING_EMAIL_KEY, email).await.map_err(AppError::internal)?;
                cx.session.insert(VERIFICATION_ROW_KEY, row_id).await.map_err(AppError::internal)?;
                Ok("/verify-email".to_string())
            }
        }
    }
    .await;
    cx.finish(result, Flash { form: "login".into(), email: Some(email), ..Flash::default() }).await
}

#[server(endpoint = "auth/verify-code")]
pub async fn verify_email_code(email: String, code: String) -> Result<(), AppError> {
    use crate::server::auth::{now, VERIFICATION_ROW_KEY};
    let cx = ctx::Ctx::get().await?;
    let result = async {
        let row: Option<String> = cx.session.get(VERIFICATION_ROW_KEY).await.ok().flatten();
        let verified =
            crate::core::accounts::verify_code(&cx.state.deps(), &email, &code, row.as_deref(), &cx.meta(), now())
                .await?;
        after_verification(&cx, verified).await
    }
    .await;
    cx.finish(result, Flash { form: "verify".into(), email: Some(email), ..Flash::default() }).await
}

#[server(endpoint = "auth/verify-link")]
pub async fn verify_email_link(token: String) -> Result<(), AppError> {
    use crate::server::auth::{now, VERIFICATION_ROW_KEY};
    let cx = ctx::Ctx::get().await?;
    let result = async {
        let row: Option<String> = cx.session.get(VERIFICATION_ROW_KEY).await.ok().flatten();
        let verified =
            crate::core::accounts::verify_link(&cx.state.deps(), &token, row.as_deref(), &cx.meta(), now()).await?;
        after_verification(&cx, verified).await
    }
    .await;
    cx.finish(result, Flash { form: "verify".into(), ..Flash::default() }).await
}

/// Signs the browser in when the message was issued to it; otherwise asks it to sign in.
#[cfg(feature = "ssr")]
async fn after_verification(cx: &ctx::Ctx, verified: crate::core::accounts::Verified) -> Result<String, AppError> {
    if verified.same_session {
        // the code or link from the mailbox is a one-time code (RFC 8176 "otp")
        crate::server::auth::after_first_factor(
            &cx.state,
            &cx.session,
            &verified.account_id,
            crate::core::accounts::deletion::SeenAtSignIn::Unread,
            &["otp".to_string()],
            &cx.meta(),
        )
        .await
    } else {
        Ok("/login?verified=1".to_string())
    }
}

#[server(endpoint = "auth/resend")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    use crate::server::auth::{now, send_notice, set_flash, PENDING_EMAIL_KEY, VERIFICATION_ROW_KEY};
    let cx = ctx::Ctx::get().await?;
    let result = async {
        let row: Option<String> = cx.session.get(VERIFICATION_ROW_KEY).await.ok().flatten();
        let issued = crate::core::accounts::resend(
            &cx.state.deps(),
            &email,
            row.as_deref(),
            &cx.meta(),
            now(),
            &mut os_seeded_rng(),
        )
        .await?;
        if let Some((notice, row_id)) = issued {
            send_notice(&cx.state, notice).await?;
            cx.session.insert(VERIFICATION_ROW_KEY, row_id).await.map_err(AppError::internal)?;
        }
        let normalized = crate::core::accounts::normalize_email(&email).unwrap_or_default();
        cx.session.insert(PENDING_EMAIL_KEY, normalized).await.map_err(AppError::internal)?;
        // without JavaScript the confirmation travels to the next page in the flash; the hydrated page shows
        // it from the action's result
        if crate::server::auth::is_plain_form_post(&cx.parts) {
            let sent = Flash { form: "verify".into(), notice: Some("verify.resent".into()), ..Flash::default() };
            set_flash(&cx.session, &sent).await?;
        }
        Ok("/verify-email".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "verify".into(), email: Some(email), ..Flash::default() }).await
}

/// `POST /logout`: ends the session on the server and clears the cookie.
#[server(prefix = "", endpoint = "logout")]
pub async fn log_out() -> Result<(), AppError> {
    let cx = ctx::Ctx::get().await?;
    // the apps this sign-in was used for hear of it too (back-channel logout)
    crate::server::oauth::logout::end_session(&cx.state, &cx.session, &cx.meta()).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The flash left for this page by a form posted without JavaScript (read once).
#[server(endpoint = "auth/flash")]
pub async fn page_flash() -> Result<Option<Flash>, AppError> {
    let cx = ctx::Ctx::get().await?;
    Ok(crate::server::auth::take_flash(&cx.session).await)
}

#[server(endpoint = "auth/verify-state")]
pub async fn load_verify_page() -> Result<VerifyPageState, AppError> {
    use crate::server::auth::{take_flash, PENDING_EMAIL_KEY};
    let cx = ctx::Ctx::get().await?;
    let pending_email = cx.session.get::<String>(PENDING_EMAIL_KEY).await.ok().flatten();
    Ok(VerifyPageState { pending_email, flash: take_flash(&cx.session).await })
}

/// The signed-in account, or `None`.
#[server(endpoint = "auth/me")]
pub async fn current_account() -> Result<Option<AccountView>, AppError> {
    let cx = ctx::Ctx::get().await?;
    let Some(id) = crate::server::auth::signed_in_account(&cx.session).await else {
        return Ok(None);
    };
    let account = crate::db::accounts::find_by_id(&cx.state.db.pool, &id).await?;
    let mfa_setup_required = crate::server::auth::mfa_setup_pending(&cx.session).await;
    Ok(account.map(|a| AccountView {
        email: a.email,
        display_name: a.display_name,
        email_verified: a.email_verified_at.is_some(),
        created_at: a.created_at,
        mfa_setup_required,
    }))
}

/// A CSPRNG seeded from the OS, owned by the request (`rand::rng()` is thread-local and cannot cross an
/// await on the multi-threaded runtime).
#[cfg(feature = "ssr")]
pub(crate) fn os_seeded_rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::from_os_rng()
}
