//! Which passwords Vestibule accepts (security.md "Passwords").
//!
//! Any Unicode is welcome, spaces and emoji included, and there are no composition rules. A password is
//! normalised with NFKC (never truncated) and then must:
//! - have at least [`MIN_LEN_ONLY_FACTOR`] code points when it is the account's only factor, else
//!   [`MIN_LEN_WITH_MFA`];
//! - be at most [`MAX_BYTES`] bytes of UTF-8, the guard against absurd input before hashing;
//! - not be on the shipped list of common passwords (`common-passwords.txt`, see
//!   `COMMON-PASSWORDS-NOTICE.md`), compared in lowercase;
//! - not contain the local part of the account's email address, nor the product name, ignoring case.
//!
//! [`check`] reports every problem at once, so a person fixes them in one go, and on success returns the
//! normalised password: that string, not the raw input, is what gets hashed and later verified.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// The fewest code points for a password that is the account's only factor.
pub const MIN_LEN_ONLY_FACTOR: usize = 15;
/// The fewest code points for a password backed by a second factor.
pub const MIN_LEN_WITH_MFA: usize = 8;
/// The most UTF-8 bytes a normalised password may have.
pub const MAX_BYTES: usize = 1024;

/// Input longer than this is refused without being normalised. NFKC removes no code points and shrinks UTF-8
/// at most fourfold (U+1D400 "𝐀" becomes "A"; U+1D414 U+0308 U+0304, 8 bytes, becomes "Ǖ", 2 bytes), so
/// such input could never normalise to [`MAX_BYTES`] or fewer.
const MAX_RAW_BYTES: usize = 4 * MAX_BYTES;

/// Refused whatever the letter case; an account's passwords should not name the service.
const PRODUCT_NAME: &str = "vestibule";

/// The local part of an email address is only checked from this many characters on, so that short ones
/// ("jo@…") do not refuse half of all passwords.
const MIN_EMAIL_LOCAL_LEN: usize = 3;

/// The common-password list: lowercase, NFKC-stable, 8 or more characters, one per line.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().filter(|l| !l.is_empty()).collect());

/// Why a password was refused; each has a message key in i18n/en.rs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PasswordProblem {
    /// Fewer code points than the context needs.
    TooShort { min: usize },
    /// More UTF-8 bytes than [`MAX_BYTES`] after normalisation.
    TooLong { max_bytes: usize },
    /// On the list of common passwords.
    Common,
    /// Contains the local part of the account's email address.
    ContainsEmail,
    /// Contains the product name.
    ContainsProductName,
}

impl PasswordProblem {
    /// The key of this problem's text in the message catalog. The text may hold a placeholder
    /// (`{min}`, `{max_bytes}`); [`PasswordProblem::message`] fills it in.
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password.too_short",
            Self::TooLong { .. } => "password.too_long",
            Self::Common => "password.common",
            Self::ContainsEmail => "password.contains_email",
            Self::ContainsProductName => "password.contains_product_name",
        }
    }

    /// The English text for a person, with its number filled in.
    pub fn message(&self) -> String {
        let text = crate::i18n::t(self.message_key());
        match self {
            Self::TooShort { min } => text.replace("{min}", &min.to_string()),
            Self::TooLong { max_bytes } => text.replace("{max_bytes}", &max_bytes.to_string()),
            Self::Common | Self::ContainsEmail | Self::ContainsProductName => text.to_owned(),
        }
    }
}

/// What the rules need to know about the account.
#[derive(Clone, Copy, Debug)]
pub struct PasswordContext<'a> {
    /// The account's email address (may be empty when there is none yet).
    pub email: &'a str,
    /// The password is the only factor: the longer minimum applies.
    pub only_factor: bool,
}

/// NFKC-normalised password, never truncated.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Checks the rules; returns the normalised password to hash, or every problem found (not only the first).
pub fn check(password: &str, context: &PasswordContext<'_>) -> Result<String, Vec<PasswordProblem>> {
    if password.len() > MAX_RAW_BYTES {
        return Err(vec![PasswordProblem::TooLong { max_bytes: MAX_BYTES }]);
    }
    let normalized = normalize(password);
    let lower = normalized.to_lowercase();
    let mut problems = Vec::new();

    let min = if context.only_factor { MIN_LEN_ONLY_FACTOR } else { MIN_LEN_WITH_MFA };
    if normalized.chars().count() < min {
        problems.push(PasswordProblem::TooShort { min });
    }
    if normalized.len() > MAX_BYTES {
        problems.push(PasswordProblem::TooLong { max_bytes: MAX_BYTES });
    }
    if COMMON.contains(lower.as_str()) {
        problems.push(PasswordProblem::Common);
    }
    if let Some(local) = email_local_part(context.email) {
        if lower.contains(&local) {
            problems.push(PasswordProblem::ContainsEmail);
        }
    }
    if lower.contains(PRODUCT_NAME) {
        problems.push(PasswordProblem::ContainsProductName);
    }

    if problems.is_empty() {
        Ok(normalized)
    } else {
        Err(problems)
    }
}

/// The part of `email` before its last '@', normalised and lowercased like the password; `None` when it is
/// too short to be worth refusing. An address without '@' counts as all local part.
fn email_local_part(email: &str) -> Option<String> {
    let local = email.rsplit_once('@').map_or(email, |(local, _domain)| local);
    let local = normalize(local).to_lowercase();
    (local.chars().count() >= MIN_EMAIL_LOCAL_LEN).then_some(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "alice@example.com";

    fn only_factor() -> PasswordContext<'static> {
        PasswordContext { email: ALICE, only_factor: true }
    }

    fn with_mfa() -> PasswordContext<'static> {
        PasswordContext { email: ALICE, only_factor: false }
    }

    fn problems(password: &str, context: &PasswordContext<'_>) -> Vec<PasswordProblem> {
        check(password, context).err().unwrap_or_default()
    }

    #[test]
    fn minimum_is_15_for_an_only_factor_and_8_with_mfa() {
        let eleven = "kettle moss"; // 11 code points
        assert_eq!(problems(eleven, &only_factor()), vec![PasswordProblem::TooShort { min: 15 }]);
        assert!(check(eleven, &with_mfa()).is_ok());
        assert_eq!(problems("kettle!", &with_mfa()), vec![PasswordProblem::TooShort { min: 8 }]);
        assert_eq!(problems("", &with_mfa()), vec![PasswordProblem::TooShort { min: 8 }]);
    }

    #[test]
    fn exactly_the_minimum_passes() {
        let fifteen = "kettle moss fog";
        assert_eq!(fifteen.chars().count(), MIN_LEN_ONLY_FACTOR);
        assert_eq!(check(fifteen, &only_factor()).as_deref(), Ok(fifteen));
        assert_eq!(problems(&fifteen[..14], &only_factor()), vec![PasswordProblem::TooShort { min: 15 }]);

        let eight = "kettle!?";
        assert_eq!(eight.chars().count(), MIN_LEN_WITH_MFA);
        assert_eq!(check(eight, &with_mfa()).as_deref(), Ok(eight));
        assert_eq!(problems(&eight[..7], &with_mfa()), vec![PasswordProblem::TooShort { min: 8 }]);
    }

    #[test]
    fn length_counts_code_points_after_nfkc() {
        // 7 code points once "e" + combining acute composes to "é"; 8 before.
        let decomposed = "tomat e\u{301}";
        assert_eq!(decomposed.chars().count(), 8);
        assert_eq!(problems(decomposed, &with_mfa()), vec![PasswordProblem::TooShort { min: 8 }]);
        // 8 emoji are 8 code points (32 bytes): long enough with MFA.
        assert!(check(&"🦀".repeat(8), &with_mfa()).is_ok());
    }

    #[test]
    fn long_passwords_emoji_and_spaces_are_accepted() {
        let long: String = "Tr0ub4dor & 3 horses, ".chars().cycle().take(128).collect();
        assert_eq!(long.chars().count(), 128);
        assert_eq!(check(&long, &only_factor()).as_deref(), Ok(long.as_str()));

        let emoji = "🦀 crab on a beach 🌊 at dusk";
        assert_eq!(check(emoji, &only_factor()).as_deref(), Ok(emoji));
        let spaces = "   leading and trailing spaces count   ";
        assert_eq!(check(spaces, &only_factor()).as_deref(), Ok(spaces), "never trimmed");
    }

    #[test]
    fn more_than_1024_bytes_is_refused_and_1024_accepted() {
        let at_limit = "x".repeat(MAX_BYTES);
        assert_eq!(check(&at_limit, &only_factor()).as_deref(), Ok(at_limit.as_str()));
        let over = "x".repeat(MAX_BYTES + 1);
        assert_eq!(problems(&over, &only_factor()), vec![PasswordProblem::TooLong { max_bytes: 1024 }]);

        // bytes, not characters: 256 crabs are 1024 bytes, one more letter is too many
        let crabs = "🦀".repeat(256);
        assert_eq!(crabs.len(), MAX_BYTES);
        assert!(check(&crabs, &only_factor()).is_ok());
        assert_eq!(problems(&format!("{crabs}a"), &only_factor()), vec![PasswordProblem::TooLong { max_bytes: 1024 }]);
    }

    #[test]
    fn the_byte_limit_applies_after_nfkc() {
        // 400 fullwidth letters are 1200 bytes as typed but 400 once normalised.
        let fullwidth = "ａｂｃｄ".repeat(100);
        assert_eq!(fullwidth.len(), 1200);
        assert_eq!(check(&fullwidth, &only_factor()), Ok("abcd".repeat(100)));
        // U+FDFA is 3 bytes and normalises to 33: 32 of them pass as typed but not once normalised.
        let expanding = "\u{FDFA}".repeat(32);
        assert_eq!(expanding.len(), 96);
        assert_eq!(problems(&expanding, &only_factor()), vec![PasswordProblem::TooLong { max_bytes: 1024 }]);
        // the guard before normalising is exact: the worst fourfold shrink still gets through at the limit
        let shrinking = "\u{1D414}\u{308}\u{304}".repeat(512);
        assert_eq!(shrinking.len(), 4 * MAX_BYTES);
        assert_eq!(check(&shrinking, &only_factor()), Ok("\u{1D5}".repeat(512)));
        assert_eq!(normalize(&shrinking).len(), MAX_BYTES);
        // absurd input is refused without being normalised
        let huge = "x".repeat(1 << 20);
        assert_eq!(problems(&huge, &only_factor()), vec![PasswordProblem::TooLong { max_bytes: 1024 }]);
    }

    #[test]
    fn nfkc_normalises_and_common_passwords_are_caught_in_any_form() {
        assert_eq!(normalize("ｐａｓｓｗｏｒｄ１"), "password1");
        assert_eq!(normalize("ﬁnance"), "finance");
        assert_eq!(normalize("e\u{301}"), "\u{e9}");

        assert!(COMMON.contains("password1"));
        for form in ["password1", "PASSWORD1", "PassWord1", "ｐａｓｓｗｏｒｄ１", "ＰＡＳＳＷＯＲＤ１"]
        {
            assert_eq!(problems(form, &with_mfa()), vec![PasswordProblem::Common], "{form}");
        }

        let long_common = "1qaz2wsx3edc4rfv";
        assert!(COMMON.contains(long_common));
        assert!(long_common.chars().count() >= MIN_LEN_ONLY_FACTOR);
        assert_eq!(problems("１ＱＡＺ２ｗｓｘ３ｅｄｃ４ＲＦＶ", &only_factor()), vec![PasswordProblem::Common]);
    }

    #[test]
    fn common_list_has_100000_distinct_usable_entries() {
        let lines: Vec<&str> = include_str!("common-passwords.txt").lines().collect();
        assert!(lines.len() >= 100_000, "{} entries", lines.len());
        assert_eq!(COMMON.len(), lines.len(), "duplicates in common-passwords.txt");
        for entry in lines {
            assert!(entry.chars().count() >= MIN_LEN_WITH_MFA, "{entry:?} is shorter than any allowed password");
            assert_eq!(entry, entry.trim(), "{entry:?} has surrounding spaces");
            assert_eq!(normalize(&entry.to_lowercase()), entry, "{entry:?} is not in checked form");
        }
    }

    #[test]
    fn email_local_part_is_refused_ignoring_case() {
        let context = PasswordContext { email: "Alice.Smith@Example.com", only_factor: true };
        assert_eq!(problems("my name is alice.smith ok", &context), vec![PasswordProblem::ContainsEmail]);
        assert_eq!(problems("MY NAME IS ALICE.SMITH OK", &context), vec![PasswordProblem::ContainsEmail]);
        // the domain and parts of the local part are fine
        assert!(check("alice and smith at example.com", &context).is_ok());

        // the local part ends at the last '@'
        let quoted = PasswordContext { email: "\"bob@home\"@example.com", only_factor: false };
        assert_eq!(problems("x\"BOB@HOME\"x", &quoted), vec![PasswordProblem::ContainsEmail]);

        // local parts under 3 characters are not checked
        let short = PasswordContext { email: "al@example.com", only_factor: false };
        assert!(check("always alert", &short).is_ok());
        let three = PasswordContext { email: "ali@example.com", only_factor: false };
        assert_eq!(problems("always alive", &three), vec![PasswordProblem::ContainsEmail]);
        let none = PasswordContext { email: "", only_factor: false };
        assert!(check("always alive", &none).is_ok());
    }

    #[test]
    fn product_name_is_refused_ignoring_case() {
        for password in
            ["my vestibule password", "MY VESTIBULE PASSWORD", "my VeStIbUlE password", "ｖｅｓｔｉｂｕｌｅ 2025!!"]
        {
            assert_eq!(problems(password, &only_factor()), vec![PasswordProblem::ContainsProductName], "{password}");
        }
    }

    #[test]
    fn every_problem_is_reported_together() {
        let context = PasswordContext { email: "password@example.com", only_factor: true };
        assert_eq!(
            problems("Password1", &context),
            vec![PasswordProblem::TooShort { min: 15 }, PasswordProblem::Common, PasswordProblem::ContainsEmail]
        );
        let context = PasswordContext { email: "alice@example.com", only_factor: true };
        assert_eq!(
            problems("AliceVestibule", &context),
            vec![
                PasswordProblem::TooShort { min: 15 },
                PasswordProblem::ContainsEmail,
                PasswordProblem::ContainsProductName
            ]
        );
        let long = format!("alice vestibule {}", "x".repeat(MAX_BYTES));
        assert_eq!(
            problems(&long, &context),
            vec![
                PasswordProblem::TooLong { max_bytes: 1024 },
                PasswordProblem::ContainsEmail,
                PasswordProblem::ContainsProductName
            ]
        );
    }

    #[test]
    fn check_returns_the_normalised_password_with_its_case() {
        assert_eq!(
            check("Ｃｏｒｒｅｃｔ\u{3000}Ｈｏｒｓｅ\u{3000}Ｂａｔｔｅｒｙ", &only_factor()),
            Ok("Correct Horse Battery".to_owned())
        );
        assert_eq!(check("ﬁne tomate\u{301}s here", &only_factor()), Ok("fine tomat\u{e9}s here".to_owned()));
    }

    #[test]
    fn every_problem_has_a_message_with_its_number() {
        let all = [
            PasswordProblem::TooShort { min: 15 },
            PasswordProblem::TooLong { max_bytes: 1024 },
            PasswordProblem::Common,
            PasswordProblem::ContainsEmail,
            PasswordProblem::ContainsProductName,
        ];
        for problem in &all {
            let key = problem.message_key();
            assert!(key.starts_with("password."), "{key}");
            assert_ne!(crate::i18n::t(key), key, "{key} is missing from i18n/en.rs");
            let message = problem.message();
            assert!(!message.contains('{'), "unfilled placeholder in {key}: {message}");
        }
        assert!(PasswordProblem::TooShort { min: 15 }.message().contains("15"));
        assert!(PasswordProblem::TooShort { min: 8 }.message().contains('8'));
        assert!(PasswordProblem::TooLong { max_bytes: 1024 }.message().contains("1024"));
    }

    #[test]
    fn problems_round_trip_through_json() {
        let problems = vec![PasswordProblem::TooShort { min: 15 }, PasswordProblem::Common];
        let json = serde_json::to_string(&problems).unwrap();
        assert_eq!(serde_json::from_str::<Vec<PasswordProblem>>(&json).unwrap(), problems);
    }
}
