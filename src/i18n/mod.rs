//! User-facing text, kept out of logic so translations can be added as catalogs beside `en`.
//!
//! Code names a message by key (`t("home.title")`); the catalog holds the words. A later issue adds
//! language negotiation; until then English is the only catalog.

mod en;

use std::collections::HashMap;
use std::sync::LazyLock;

static EN: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| en::MESSAGES.iter().copied().collect());

/// The English text for `key`; the key itself when the catalog lacks it (a unit test keeps that from
/// happening for the keys the code uses).
pub fn t(key: &'static str) -> &'static str {
    EN.get(key).copied().unwrap_or(key)
}

/// The English text for a key built at run time (e.g. from an audit event's kind); `None` when the
/// catalog lacks it, so the caller chooses a fallback.
pub fn t_opt(key: &str) -> Option<&'static str> {
    EN.get(key).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_no_duplicate_keys() {
        assert_eq!(EN.len(), en::MESSAGES.len(), "a key appears twice in i18n/en.rs");
    }

    #[test]
    fn every_key_used_in_the_code_is_in_the_catalog() {
        let mut missing = Vec::new();
        // i18n/ itself is skipped: its docs show the call shape with a made-up key.
        let sources = rust_sources(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
        for file in sources.into_iter().filter(|f| !f.to_string_lossy().contains("/src/i18n/")) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (i, _) in text.match_indices("t(\"") {
                // a call site looks like `t("key")`: skip identifiers that merely end in t, e.g. `format!(`
                let before = text[..i].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue;
                }
                let rest = &text[i + 3..];
                if let Some(end) = rest.find('"') {
                    let key = &rest[..end];
                    if !key.contains(' ') && !EN.contains_key(key) {
                        missing.push(format!("{}: {key}", file.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from i18n/en.rs: {missing:?}");
    }

    fn rust_sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(rust_sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
