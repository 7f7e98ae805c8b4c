//! Sign-up, verification, sign-in and the signed-in account page.

mod account;
mod form_state;
mod login;
mod passkey_sign_in;
mod security;
mod signup;
mod verify;

pub use account::AccountPage;
pub use login::LoginPage;
pub use security::SecurityPage;
pub use signup::SignupPage;
pub use verify::VerifyEmailPage;
