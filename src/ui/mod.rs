//! The hosted pages: design-system components, layouts and one folder of pages per flow.
//! Components style themselves only through theme tokens (CSS custom properties in style/tailwind.css),
//! so a per-app theme can restyle every page by overriding variables.

pub mod components;
pub mod layouts;
pub mod pages;
pub mod webauthn;
