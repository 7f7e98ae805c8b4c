//! Design system: small, accessible building blocks on theme tokens.

mod alert;
mod button;
mod card;
mod passkey_only;
mod text_field;

pub use alert::{Alert, AlertKind};
pub use button::{Button, ButtonKind, LinkButton};
pub use card::Card;
pub use passkey_only::PasskeyOnly;
pub use text_field::TextField;
