//! Sign-up, verification, sign-in, and the security page of the signed-in account.

mod email_code;
pub(crate) mod form_state;
mod login;
mod passkey_sign_in;
mod reset_password;
mod second_factor;
mod security;
mod signup;
mod two_step;
mod verify;

pub use email_code::EmailCodePage;
pub use login::LoginPage;
pub use reset_password::ResetPasswordPage;
pub use second_factor::SecondFactorPage;
pub use security::SecurityPage;
pub(crate) use security::{Confirm, ConfirmActions};
pub use signup::SignupPage;
pub use verify::VerifyEmailPage;
