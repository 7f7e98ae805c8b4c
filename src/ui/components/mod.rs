//! Design system: small, accessible building blocks on theme tokens.

mod alert;
mod button;
mod card;
mod text_field;

pub use alert::{Alert, AlertKind};
pub use button::{Button, ButtonKind, LinkButton};
pub use card::Card;
pub use text_field::TextField;
