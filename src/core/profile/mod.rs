//! The profile: the standard fields (display, given and family name, preferred language, time zone) and
//! the attributes an operator defines (`attributes`). Normalises and checks what a form submitted, reporting
//! every problem at once, each at its field.

pub mod attributes;
pub mod store;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

pub use attributes::{AttributeDef, RawAttribute, Rule};
pub use store::ProfileError;

use crate::error::Problem;
use crate::i18n::t;
use crate::types::{attribute_field, ChoiceOption};

/// The languages a user can prefer: BCP 47 tag and the catalog key of its name.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "language.en"),
    ("de", "language.de"),
    ("fr", "language.fr"),
    ("es", "language.es"),
    ("it", "language.it"),
    ("nl", "language.nl"),
    ("pt", "language.pt"),
    ("pl", "language.pl"),
    ("sv", "language.sv"),
    ("ja", "language.ja"),
];

/// Most characters of a given or family name.
pub const MAX_NAME: usize = 100;

/// The languages as the select offers them.
pub fn language_options() -> Vec<ChoiceOption> {
    LANGUAGES
        .iter()
        .map(|(tag, key)| ChoiceOption {
            value: (*tag).to_string(),
            label: crate::i18n::t_opt(key).unwrap_or(tag).to_string(),
        })
        .collect()
}

/// The time zones the select offers: the IANA names of places (Area/Location) and UTC, sorted. Older
/// aliases ("US/Eastern", "Etc/GMT+5") are still accepted when posted, just not offered.
pub fn time_zones() -> &'static [String] {
    static ZONES: LazyLock<Vec<String>> = LazyLock::new(|| {
        const AREAS: [&str; 10] = [
            "Africa/",
            "America/",
            "Antarctica/",
            "Arctic/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        ];
        let mut zones: Vec<String> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|name| *name == "UTC" || AREAS.iter().any(|area| name.starts_with(area)))
            .map(str::to_owned)
            .collect();
        zones.sort();
        zones.dedup();
        zones
    });
    &ZONES
}

/// Whether `name` is an IANA time zone name (exactly as the database spells it).
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok_and(|tz| tz.name() == name)
}

/// What the profile form submitted.
#[derive(Clone, Copy, Debug)]
pub struct ProfileInput<'a> {
    pub display_name: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub locale: &'a str,
    pub time_zone: &'a str,
    pub attributes: &'a HashMap<String, String>,
}

/// A profile as stored: `None` and absent keys mean not set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub attributes: Map<String, Value>,
}

impl Profile {
    /// The names of the fields that differ from `before` (`attributes.<key>` for attributes): what the audit
    /// log records, never the values.
    pub fn changed_fields(&self, before: &Profile) -> Vec<String> {
        let standard = [
            ("display_name", &self.display_name, &before.display_name),
            ("given_name", &self.given_name, &before.given_name),
            ("family_name", &self.family_name, &before.family_name),
            ("locale", &self.locale, &before.locale),
            ("time_zone", &self.time_zone, &before.time_zone),
        ];
        let mut changed: Vec<String> =
            standard.into_iter().filter(|(_, now, was)| now != was).map(|(name, _, _)| name.to_string()).collect();
        let mut keys: Vec<&String> = self.attributes.keys().chain(before.attributes.keys()).collect();
        keys.sort();
        keys.dedup();
        changed.extend(
            keys.into_iter()
                .filter(|k| self.attributes.get(*k) != before.attributes.get(*k))
                .map(|k| format!("attributes.{k}")),
        );
        changed
    }
}

/// The stored `attributes` column as an object. Anything else means the row was damaged: an error rather
/// than an empty object that the next save would write over the stored data with.
pub fn parse_stored(json: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("attributes column is not a JSON object".into()),
        Err(e) => Err(format!("attributes column is not JSON: {e}")),
    }
}

fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem { field: field.into(), message: message.into() }
}

/// A given or family name: trimmed, empty means none, at most `MAX_NAME` characters, one line.
fn name(field: &str, input: &str, too_long: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let value = input.trim();
    if value.chars().any(char::is_control) {
        problems.push(problem(field, t("profile.error.control")));
    } else if value.chars().count() > MAX_NAME {
        problems.push(problem(field, too_long));
    }
    (!value.is_empty()).then(|| value.to_string())
}

/// The profile the form asks for, given what is stored (`stored`: the account's attributes). Attributes not
/// editable by the user and attributes the configuration no longer defines keep their stored values;
/// editable ones take the submitted value (an optional one left empty is removed; an unticked or absent
/// checkbox is `false`). Every problem is reported, each at its field.
pub fn normalize(
    defs: &[AttributeDef],
    input: &ProfileInput<'_>,
    stored: &Map<String, Value>,
) -> Result<Profile, Vec<Problem>> {
    let mut problems = Vec::new();
    let display_name = match crate::core::accounts::normalize_display_name(input.display_name) {
        Ok(name) if name.as_deref().is_some_and(|n| n.chars().any(char::is_control)) => {
            problems.push(problem("display_name", t("profile.error.control")));
            None
        }
        Ok(name) => name,
        Err(_) => {
            problems.push(problem("display_name", t("account.display_name_too_long")));
            None
        }
    };
    let given_name = name("given_name", input.given_name, t("profile.error.name_too_long"), &mut problems);
    let family_name = name("family_name", input.family_name, t("profile.error.name_too_long"), &mut problems);
    let locale = Some(input.locale.trim()).filter(|l| !l.is_empty()).map(str::to_owned);
    if locale.as_deref().is_some_and(|l| !LANGUAGES.iter().any(|(tag, _)| *tag == l)) {
        problems.push(problem("locale", t("profile.error.language")));
    }
    let time_zone = Some(input.time_zone.trim()).filter(|z| !z.is_empty()).map(str::to_owned);
    if time_zone.as_deref().is_some_and(|z| !is_time_zone(z)) {
        problems.push(problem("time_zone", t("profile.error.time_zone")));
    }

    let mut attributes = stored.clone();
    refuse_unknown_and_fixed(defs, input.attributes, &mut problems);
    for def in defs.iter().filter(|d| d.editable) {
        match def.parse(input.attributes.get(&def.key).map(String::as_str)) {
            Ok(Some(value)) => {
                attributes.insert(def.key.clone(), value);
            }
            Ok(None) => {
                attributes.remove(&def.key);
            }
            Err(message) => problems.push(problem(&attribute_field(&def.key), message)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Profile { display_name, given_name, family_name, locale, time_zone, attributes })
}

/// Submitted keys the user may not set: undefined ones, and ones only operators set. Refused, never
/// silently ignored, so a form out of step with the configuration says so.
fn refuse_unknown_and_fixed(defs: &[AttributeDef], submitted: &HashMap<String, String>, problems: &mut Vec<Problem>) {
    let mut keys: Vec<&String> = submitted.keys().collect();
    keys.sort();
    for key in keys {
        match defs.iter().find(|d| &d.key == key) {
            None => problems.push(problem(&attribute_field(key), t("profile.error.unknown"))),
            Some(def) if !def.editable => problems.push(problem(&attribute_field(key), t("profile.error.read_only"))),
            Some(_) => {}
        }
    }
}

/// The required attributes `stored` lacks (what progressive profiling asks for after a sign-in).
pub fn missing_required<'a>(defs: &'a [AttributeDef], stored: &Map<String, Value>) -> Vec<&'a AttributeDef> {
    defs.iter().filter(|d| d.required && d.editable && !d.is_set(stored.get(&d.key))).collect()
}

/// The attributes after the "complete your profile" form: only required attributes may be submitted there,
/// and each one still missing must be. Everything else stays as stored.
pub fn complete(
    defs: &[AttributeDef],
    submitted: &HashMap<String, String>,
    stored: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    refuse_unknown_and_fixed(defs, submitted, &mut problems);
    let mut keys: Vec<&String> = submitted.keys().collect();
    keys.sort();
    for key in keys {
        if defs.iter().any(|d| &d.key == key && d.editable && !d.required) {
            problems.push(problem(&attribute_field(key), t("profile.error.unknown")));
        }
    }
    let mut attributes = stored.clone();
    for def in defs.iter().filter(|d| d.required && d.editable) {
        let posted = submitted.get(&def.key);
        if posted.is_none() && def.is_set(stored.get(&def.key)) {
            continue; // already there and not part of this form
        }
        match def.parse(posted.map(String::as_str)) {
            Ok(Some(value)) => {
                attributes.insert(def.key.clone(), value);
            }
            Ok(None) => {} // required: parse refuses empty values
            Err(message) => problems.push(problem(&attribute_field(&def.key), message)),
        }
    }
    if problems.is_empty() {
        Ok(attributes)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AttributeKind;
    use attributes::{Bound, RawChoice};

    fn defs() -> Vec<AttributeDef> {
        let mut company = RawAttribute::new("company", "Company", AttributeKind::Text);
        company.required = true;
        let mut age = RawAttribute::new("age", "Age", AttributeKind::Number);
        (age.min, age.integer) = (Some(Bound::Number(0.0)), Some(true));
        let news = RawAttribute::new("news", "Newsletter", AttributeKind::Boolean);
        let mut tier = RawAttribute::new("tier", "Tier", AttributeKind::Choice);
        tier.editable = false;
        tier.choices = Some(vec![RawChoice { value: "gold".into(), label: "Gold".into() }]);
        let birthday = RawAttribute::new("birthday", "Birthday", AttributeKind::Date);
        let mut problems = Vec::new();
        let defs = attributes::compile(&[company, age, news, tier, birthday], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        defs
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn input<'a>(attributes: &'a HashMap<String, String>) -> ProfileInput<'a> {
        ProfileInput {
            display_name: " Ann ",
            given_name: "Ann",
            family_name: "Lee",
            locale: "de",
            time_zone: "Europe/Berlin",
            attributes,
        }
    }

    fn fields(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn a_valid_profile_is_normalised_and_keeps_what_the_user_does_not_own() {
        let stored = serde_json::json!({"tier": "gold", "retired": "kept", "age": 30, "news": true});
        let stored = stored.as_object().cloned().unwrap_or_default();
        let posted = form(&[("company", " Acme "), ("age", ""), ("birthday", "1990-05-17")]);
        let profile = normalize(&defs(), &input(&posted), &stored).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(profile.display_name.as_deref(), Some("Ann"));
        assert_eq!((profile.locale.as_deref(), profile.time_zone.as_deref()), (Some("de"), Some("Europe/Berlin")));
        assert_eq!(
            Value::Object(profile.attributes.clone()),
            serde_json::json!({"tier": "gold", "retired": "kept", "company": "Acme", "news": false, "birthday": "1990-05-17"})
        );
        let before = Profile { attributes: stored, ..Profile::default() };
        assert_eq!(
            profile.changed_fields(&before),
            [
                "display_name",
                "given_name",
                "family_name",
                "locale",
                "time_zone",
                "attributes.age",
                "attributes.birthday",
                "attributes.company",
                "attributes.news"
            ]
        );
        assert!(profile.changed_fields(&profile).is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_its_field() {
        let posted = form(&[("company", ""), ("age", "-3"), ("tier", "gold"), ("shoe", "44"), ("news", "maybe")]);
        let long = "x".repeat(101);
        let bad = ProfileInput {
            display_name: &long,
            given_name: "A\nB",
            family_name: &long,
            locale: "klingon",
            time_zone: "Mars/Olympus",
            attributes: &posted,
        };
        let problems = normalize(&defs(), &bad, &Map::new()).err().unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [
                "display_name",
                "given_name",
                "family_name",
                "locale",
                "time_zone",
                "attributes[shoe]",
                "attributes[tier]",
                "attributes[company]",
                "attributes[age]",
                "attributes[news]"
            ]
        );
        assert_eq!(problems[5].message, t("profile.error.unknown"));
        assert_eq!(problems[6].message, t("profile.error.read_only"));
        assert_eq!(problems[7].message, t("profile.error.required"));
    }

    #[test]
    fn empty_standard_fields_mean_not_set() {
        let posted = form(&[("company", "Acme")]);
        let empty = ProfileInput {
            display_name: " ",
            given_name: "",
            family_name: "",
            locale: "",
            time_zone: "",
            attributes: &posted,
        };
        let profile = normalize(&defs(), &empty, &Map::new()).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(profile.display_name, None);
        assert_eq!((profile.locale, profile.time_zone), (None, None));
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert!(is_time_zone("Europe/Berlin") && is_time_zone("UTC") && is_time_zone("America/Argentina/Salta"));
        assert!(!is_time_zone("europe/berlin") && !is_time_zone("Mars/Olympus") && !is_time_zone(""));
        let zones = time_zones();
        assert!(zones.len() > 300 && zones.len() < 700, "{}", zones.len());
        assert!(zones.iter().all(|z| is_time_zone(z)));
        assert!(zones.iter().any(|z| z == "Asia/Tokyo") && !zones.iter().any(|z| z.starts_with("US/")));
    }

    #[test]
    fn every_language_has_a_name_in_the_catalog() {
        for (tag, key) in LANGUAGES {
            assert!(crate::i18n::t_opt(key).is_some(), "{tag}: {key} missing from i18n/en.rs");
        }
        assert_eq!(language_options().len(), LANGUAGES.len());
    }

    #[test]
    fn missing_required_attributes_are_found_and_completed() {
        let defs = defs();
        let missing = missing_required(&defs, &Map::new());
        assert_eq!(missing.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(), ["company"]);
        let stored = serde_json::json!({"company": "Acme"}).as_object().cloned().unwrap_or_default();
        assert!(missing_required(&defs, &stored).is_empty());

        // the prompt: a missing one must be given; only required attributes may be posted
        let problems = complete(&defs, &form(&[]), &Map::new()).err().unwrap_or_default();
        assert_eq!(fields(&problems), ["attributes[company]"]);
        let problems = complete(&defs, &form(&[("company", "Acme"), ("age", "3"), ("tier", "x")]), &Map::new())
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&problems), ["attributes[tier]", "attributes[age]"]);
        let kept = serde_json::json!({"tier": "gold"}).as_object().cloned().unwrap_or_default();
        let done = complete(&defs, &form(&[("company", " Acme ")]), &kept).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(Value::Object(done), serde_json::json!({"tier": "gold", "company": "Acme"}));
    }

    #[test]
    fn stored_attributes_must_be_an_object() {
        assert!(parse_stored("{}").is_ok_and(|m| m.is_empty()));
        assert!(parse_stored("[]").is_err() && parse_stored("nope").is_err());
    }
}
