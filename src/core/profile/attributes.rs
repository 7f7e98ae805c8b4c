//! Operator-defined profile attributes: their definitions as configured (`[[profile.attributes]]`), checked
//! once at start, and the rules a submitted value must pass. Values are stored in the account's
//! `attributes` JSON object (strings, numbers, booleans), so a new attribute needs no migration.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use time::Date;

use crate::i18n::t;
use crate::types::{AttributeField, AttributeKind, ChoiceOption};

/// Attributes an operator may define (a form longer than this helps nobody).
pub const MAX_ATTRIBUTES: usize = 100;
const DEFAULT_MAX_LENGTH: usize = 200;
const MAX_MAX_LENGTH: usize = 2000;
const MAX_LABEL: usize = 100;
const MAX_HINT: usize = 500;
const MAX_CHOICES: usize = 500;
/// Whole numbers beyond this lose precision as JSON numbers (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `[[profile.attributes]]` as written in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttribute {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: AttributeKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default = "editable_by_default")]
    pub editable: bool,
    #[serde(default)]
    pub hint: Option<String>,
    /// Text: most characters (default 200, at most 2000).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Text: a regular expression (regex crate syntax) the whole value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Number: the smallest value; date: the earliest, as "YYYY-MM-DD".
    #[serde(default)]
    pub min: Option<Bound>,
    /// Number: the largest value; date: the latest, as "YYYY-MM-DD".
    #[serde(default)]
    pub max: Option<Bound>,
    /// Number: whole numbers only.
    #[serde(default)]
    pub integer: Option<bool>,
    /// Choice: the allowed values, each `{ value = "...", label = "..." }`.
    #[serde(default)]
    pub choices: Option<Vec<RawChoice>>,
}

fn editable_by_default() -> bool {
    true
}

impl RawAttribute {
    /// An optional, editable attribute without further rules (tests and code-built configurations).
    pub fn new(key: &str, label: &str, kind: AttributeKind) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            kind,
            required: false,
            editable: true,
            hint: None,
            max_length: None,
            pattern: None,
            min: None,
            max: None,
            integer: None,
            choices: None,
        }
    }
}

/// A `min` or `max`: a number for numbers, a date string for dates.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Text(String),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub value: String,
    pub label: String,
}

/// A checked attribute definition.
#[derive(Clone, Debug)]
pub struct AttributeDef {
    pub key: String,
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub editable: bool,
    pub rule: Rule,
}

/// What a value of an attribute must be.
#[derive(Clone, Debug)]
pub enum Rule {
    /// `pattern` is anchored at both ends when compiled.
    Text {
        max_length: usize,
        pattern: Option<Regex>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    Boolean,
    Date {
        min: Option<Date>,
        max: Option<Date>,
    },
    Choice {
        choices: Vec<ChoiceOption>,
    },
}

/// Checks the configured attributes; every problem goes to `problems` (one line each, naming the entry),
/// and the good definitions are returned.
pub fn compile(raw: &[RawAttribute], problems: &mut Vec<String>) -> Vec<AttributeDef> {
    if raw.len() > MAX_ATTRIBUTES {
        problems.push(format!("profile.attributes has {} entries; at most {MAX_ATTRIBUTES} are allowed", raw.len()));
    }
    let mut defs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, attr) in raw.iter().enumerate() {
        let at = format!("profile.attributes[{i}] (key = {:?})", attr.key);
        let before = problems.len();
        if !valid_key(&attr.key) {
            problems
                .push(format!("{at}: key must start with a-z and have only a-z, 0-9 and _ (at most 40 characters)"));
        } else if !seen.insert(attr.key.as_str()) {
            problems.push(format!("{at}: key is used by an earlier attribute"));
        }
        if attr.label.trim().is_empty() || attr.label.chars().count() > MAX_LABEL {
            problems.push(format!("{at}: label must be 1 to {MAX_LABEL} characters"));
        }
        if attr.hint.as_ref().is_some_and(|h| h.chars().count() > MAX_HINT) {
            problems.push(format!("{at}: hint must be at most {MAX_HINT} characters"));
        }
        if attr.required && !attr.editable {
            problems.push(format!(
                "{at}: required = true with editable = false: the user could never fill it in; make it editable or optional"
            ));
        }
        if attr.required && attr.kind == AttributeKind::Boolean {
            problems.push(format!(
                "{at}: a boolean cannot be required (an unticked box is an answer too); make it optional"
            ));
        }
        let rule = compile_rule(attr, &at, problems);
        if problems.len() == before {
            if let Some(rule) = rule {
                defs.push(AttributeDef {
                    key: attr.key.clone(),
                    label: attr.label.trim().to_string(),
                    hint: attr.hint.as_deref().map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned),
                    required: attr.required,
                    editable: attr.editable,
                    rule,
                });
            }
        }
    }
    defs
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The type's own settings; a setting another type uses is a problem (a likely mistake, not ignored).
fn compile_rule(attr: &RawAttribute, at: &str, problems: &mut Vec<String>) -> Option<Rule> {
    let kind = attr.kind;
    let type_name = format!("{kind:?}").to_lowercase();
    let mut only_for = |set: bool, name: &str, owner: &str| {
        if set {
            problems.push(format!("{at}: {name} applies only to type = \"{owner}\", not \"{type_name}\""));
        }
    };
    only_for(attr.max_length.is_some() && kind != AttributeKind::Text, "max_length", "text");
    only_for(attr.pattern.is_some() && kind != AttributeKind::Text, "pattern", "text");
    only_for(attr.integer.is_some() && kind != AttributeKind::Number, "integer", "number");
    only_for(attr.choices.is_some() && kind != AttributeKind::Choice, "choices", "choice");
    let bounded = matches!(kind, AttributeKind::Number | AttributeKind::Date);
    only_for((attr.min.is_some() || attr.max.is_some()) && !bounded, "min/max", "number\" or \"date");
    match kind {
        AttributeKind::Text => {
            let max_length = attr.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
            if !(1..=MAX_MAX_LENGTH).contains(&max_length) {
                problems.push(format!("{at}: max_length = {max_length} must be between 1 and {MAX_MAX_LENGTH}"));
            }
            let pattern = match attr.pattern.as_deref() {
                None => None,
                Some(p) => match Regex::new(&format!("^(?:{p})$")) {
                    Ok(re) => Some(re),
                    Err(e) => {
                        let why = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                        problems.push(format!("{at}: pattern {p:?} is not a valid regular expression ({why})"));
                        None
                    }
                },
            };
            Some(Rule::Text { max_length, pattern })
        }
        AttributeKind::Number => {
            let mut number = |bound: &Option<Bound>, name: &str| match bound {
                None => None,
                Some(Bound::Number(n)) if n.is_finite() => Some(*n),
                Some(_) => {
                    problems.push(format!("{at}: {name} must be a number for type = \"number\""));
                    None
                }
            };
            let (min, max) = (number(&attr.min, "min"), number(&attr.max, "max"));
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    problems.push(format!("{at}: min = {min} is greater than max = {max}"));
                }
            }
            Some(Rule::Number { min, max, integer: attr.integer.unwrap_or(false) })
        }
        AttributeKind::Boolean => Some(Rule::Boolean),
        AttributeKind::Date => {
            let mut date = |bound: &Option<Bound>, name: &str| match bound {
                None => None,
                Some(Bound::Text(s)) if parse_date(s).is_some() => parse_date(s),
                Some(_) => {
                    problems.push(format!("{at}: {name} must be a date written as \"YYYY-MM-DD\" (quoted)"));
                    None
                }
            };
            let (min, max) = (date(&attr.min, "min"), date(&attr.max, "max"));
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    problems.push(format!("{at}: min = {min} is later than max = {max}"));
                }
            }
            Some(Rule::Date { min, max })
        }
        AttributeKind::Choice => {
            let raw = attr.choices.as_deref().unwrap_or_default();
            if raw.is_empty() || raw.len() > MAX_CHOICES {
                problems.push(format!(
                    "{at}: type = \"choice\" needs choices = [{{ value = \"...\", label = \"...\" }}, ...] (1 to {MAX_CHOICES})"
                ));
            }
            let mut values = std::collections::HashSet::new();
            for choice in raw {
                let value = choice.value.trim();
                if value.is_empty() || value.chars().count() > DEFAULT_MAX_LENGTH || value != choice.value {
                    problems.push(format!(
                        "{at}: choice value {:?} must be 1 to {DEFAULT_MAX_LENGTH} characters without surrounding spaces",
                        choice.value
                    ));
                } else if !values.insert(value) {
                    problems.push(format!("{at}: choice value {value:?} appears twice"));
                }
                if choice.label.trim().is_empty() || choice.label.chars().count() > MAX_LABEL {
                    problems.push(format!("{at}: the label of choice {value:?} must be 1 to {MAX_LABEL} characters"));
                }
            }
            let choices = raw
                .iter()
                .map(|c| ChoiceOption { value: c.value.clone(), label: c.label.trim().to_string() })
                .collect();
            Some(Rule::Choice { choices })
        }
    }
}

/// A calendar date written `YYYY-MM-DD` (what `<input type="date">` posts).
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| s.get(r).filter(|p| p.bytes().all(|c| c.is_ascii_digit()));
    let year: i32 = digits(0..4)?.parse().ok()?;
    let month: u8 = digits(5..7)?.parse().ok()?;
    let day: u8 = digits(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn format_number(n: f64) -> String {
    // `Display` of f64 never uses exponents, and whole numbers print without ".0"
    format!("{n}")
}

impl AttributeDef {
    pub fn kind(&self) -> AttributeKind {
        match self.rule {
            Rule::Text { .. } => AttributeKind::Text,
            Rule::Number { .. } => AttributeKind::Number,
            Rule::Boolean => AttributeKind::Boolean,
            Rule::Date { .. } => AttributeKind::Date,
            Rule::Choice { .. } => AttributeKind::Choice,
        }
    }

    /// The stored value to store for what the form posted (`None`: the field was not posted, which for a
    /// checkbox means unticked). `Ok(None)`: empty, nothing to store. `Err`: the message for the person.
    pub fn parse(&self, posted: Option<&str>) -> Result<Option<Value>, String> {
        if let Rule::Boolean = self.rule {
            return match posted.map(str::trim) {
                None | Some("") | Some("false") => Ok(Some(Value::Bool(false))),
                Some("true") | Some("on") => Ok(Some(Value::Bool(true))),
                Some(_) => Err(t("profile.error.boolean").into()),
            };
        }
        let value = posted.map(str::trim).unwrap_or_default();
        if value.is_empty() {
            return if self.required { Err(t("profile.error.required").into()) } else { Ok(None) };
        }
        match &self.rule {
            Rule::Text { max_length, pattern } => {
                if value.chars().any(char::is_control) {
                    return Err(t("profile.error.control").into());
                }
                if value.chars().count() > *max_length {
                    return Err(t("profile.error.too_long").replace("{max}", &max_length.to_string()));
                }
                if pattern.as_ref().is_some_and(|re| !re.is_match(value)) {
                    return Err(t("profile.error.pattern").into());
                }
                Ok(Some(Value::String(value.into())))
            }
            Rule::Number { min, max, integer } => {
                let n: f64 = value.parse().ok().filter(|n: &f64| n.is_finite()).ok_or(t("profile.error.number"))?;
                if *integer && (n.fract() != 0.0 || n.abs() > MAX_SAFE_INTEGER) {
                    return Err(t("profile.error.integer").into());
                }
                if let Some(min) = min.filter(|min| n < *min) {
                    return Err(t("profile.error.min").replace("{min}", &format_number(min)));
                }
                if let Some(max) = max.filter(|max| n > *max) {
                    return Err(t("profile.error.max").replace("{max}", &format_number(max)));
                }
                if *integer {
                    // whole and within ±2^53 (checked above): exact as an i64
                    return Ok(Some(Value::from(n as i64)));
                }
                Ok(serde_json::Number::from_f64(n).map(Value::Number))
            }
            Rule::Date { min, max } => {
                let date = parse_date(value).ok_or(t("profile.error.date"))?;
                if let Some(min) = min.filter(|min| date < *min) {
                    return Err(t("profile.error.date_min").replace("{min}", &format_date(min)));
                }
                if let Some(max) = max.filter(|max| date > *max) {
                    return Err(t("profile.error.date_max").replace("{max}", &format_date(max)));
                }
                Ok(Some(Value::String(format_date(date))))
            }
            Rule::Choice { choices } => match choices.iter().find(|c| c.value == value) {
                Some(c) => Ok(Some(Value::String(c.value.clone()))),
                None => Err(t("profile.error.choice").into()),
            },
            Rule::Boolean => Ok(None), // handled above
        }
    }

    /// Whether `stored` counts as a value (for required attributes: whether it is still missing).
    pub fn is_set(&self, stored: Option<&Value>) -> bool {
        match stored {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }

    /// The stored value as the form control holds it.
    pub fn shown(&self, stored: Option<&Value>) -> String {
        match stored {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => {
                n.as_i64().map(|i| i.to_string()).or_else(|| n.as_f64().map(format_number)).unwrap_or_default()
            }
            _ if matches!(self.rule, Rule::Boolean) => "false".into(),
            _ => String::new(),
        }
    }

    /// The attribute as a form shows it, holding `stored`.
    pub fn field(&self, stored: Option<&Value>) -> AttributeField {
        let (mut min, mut max, mut step, mut max_length, mut choices) = (None, None, None, None, Vec::new());
        match &self.rule {
            Rule::Text { max_length: m, .. } => max_length = Some(*m),
            Rule::Number { min: lo, max: hi, integer } => {
                min = lo.map(format_number);
                max = hi.map(format_number);
                step = Some(if *integer { "1" } else { "any" }.to_string());
            }
            Rule::Date { min: lo, max: hi } => {
                min = lo.map(format_date);
                max = hi.map(format_date);
            }
            Rule::Choice { choices: c } => choices = c.clone(),
            Rule::Boolean => {}
        }
        AttributeField {
            key: self.key.clone(),
            label: self.label.clone(),
            hint: self.hint.clone(),
            kind: self.kind(),
            required: self.required,
            editable: self.editable,
            value: self.shown(stored),
            choices,
            min,
            max,
            step,
            max_length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(raw: Vec<RawAttribute>) -> (Vec<AttributeDef>, Vec<String>) {
        let mut problems = Vec::new();
        let defs = compile(&raw, &mut problems);
        (defs, problems)
    }

    fn one(raw: RawAttribute) -> AttributeDef {
        let (mut defs, problems) = compiled(vec![raw]);
        assert!(problems.is_empty(), "{problems:?}");
        defs.remove(0)
    }

    fn choice(value: &str, label: &str) -> RawChoice {
        RawChoice { value: value.into(), label: label.into() }
    }

    #[test]
    fn keys_are_checked_and_unique() {
        let raw = vec![
            RawAttribute::new("ok_1", "OK", AttributeKind::Text),
            RawAttribute::new("ok_1", "Again", AttributeKind::Text),
            RawAttribute::new("1bad", "Bad", AttributeKind::Text),
            RawAttribute::new("Bad", "Bad", AttributeKind::Text),
            RawAttribute::new(&"a".repeat(41), "Long", AttributeKind::Text),
            RawAttribute::new("", "Empty", AttributeKind::Text),
        ];
        let (defs, problems) = compiled(raw);
        assert_eq!(defs.len(), 1);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("profile.attributes[1]") && problems[0].contains("earlier"), "{problems:?}");
        assert!(problems.iter().skip(1).all(|p| p.contains("key must start with a-z")), "{problems:?}");
        assert!(valid_key(&"a".repeat(40)));
    }

    #[test]
    fn required_needs_editable_and_booleans_cannot_be_required() {
        let mut fixed = RawAttribute::new("tier", "Tier", AttributeKind::Text);
        (fixed.required, fixed.editable) = (true, false);
        let mut agree = RawAttribute::new("agree", "Agree", AttributeKind::Boolean);
        agree.required = true;
        let (defs, problems) = compiled(vec![fixed, agree]);
        assert!(defs.is_empty());
        assert!(problems[0].contains("[0]") && problems[0].contains("editable = false"), "{problems:?}");
        assert!(problems[1].contains("[1]") && problems[1].contains("boolean cannot be required"), "{problems:?}");
    }

    #[test]
    fn settings_of_another_type_and_bad_settings_are_refused_one_message_each() {
        let mut text = RawAttribute::new("a", "A", AttributeKind::Text);
        (text.integer, text.max_length, text.pattern) = (Some(true), Some(5000), Some("([a-z]".into()));
        let mut number = RawAttribute::new("b", "B", AttributeKind::Number);
        (number.min, number.max, number.choices) =
            (Some(Bound::Number(5.0)), Some(Bound::Text("x".into())), Some(vec![choice("x", "X")]));
        let mut date = RawAttribute::new("c", "C", AttributeKind::Date);
        (date.min, date.max) = (Some(Bound::Text("2020-02-30".into())), Some(Bound::Number(3.0)));
        let mut reversed = RawAttribute::new("d", "D", AttributeKind::Date);
        (reversed.min, reversed.max) = (Some(Bound::Text("2020-01-02".into())), Some(Bound::Text("2020-01-01".into())));
        let empty_choice = RawAttribute::new("e", "E", AttributeKind::Choice);
        let mut dup = RawAttribute::new("f", "", AttributeKind::Choice);
        dup.choices = Some(vec![choice("s", "Small"), choice("s", "Again"), choice(" m", "M")]);
        let mut bool_min = RawAttribute::new("g", "G", AttributeKind::Boolean);
        bool_min.min = Some(Bound::Number(1.0));
        let (defs, problems) = compiled(vec![text, number, date, reversed, empty_choice, dup, bool_min]);
        assert!(defs.is_empty(), "{defs:?}");
        let expect = [
            "[0] (key = \"a\"): integer applies only to type = \"number\"",
            "[0] (key = \"a\"): max_length = 5000 must be between 1 and 2000",
            "[0] (key = \"a\"): pattern \"([a-z]\" is not a valid regular expression",
            "[1] (key = \"b\"): choices applies only to type = \"choice\"",
            "[1] (key = \"b\"): max must be a number",
            "[2] (key = \"c\"): min must be a date",
            "[2] (key = \"c\"): max must be a date",
            "[3] (key = \"d\"): min = 2020-01-02 is later than max = 2020-01-01",
            "[4] (key = \"e\"): type = \"choice\" needs choices",
            "[5] (key = \"f\"): label must be 1 to 100 characters",
            "[5] (key = \"f\"): choice value \"s\" appears twice",
            "[5] (key = \"f\"): choice value \" m\" must be 1 to 200 characters",
            "[6] (key = \"g\"): min/max applies only",
        ];
        for e in expect {
            assert!(problems.iter().any(|p| p.contains(e)), "missing {e:?} in {problems:#?}");
        }
        assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    }

    #[test]
    fn text_is_trimmed_limited_and_matched_whole() {
        let mut raw = RawAttribute::new("member", "Member number", AttributeKind::Text);
        (raw.pattern, raw.max_length) = (Some("[A-Z]{2}[0-9]{4}".into()), Some(7));
        let def = one(raw);
        assert_eq!(def.parse(Some("  AB1234 ")), Ok(Some(Value::String("AB1234".into()))));
        assert_eq!(def.parse(Some("")), Ok(None));
        assert_eq!(def.parse(None), Ok(None));
        // the pattern matches the whole value, not a part of it
        assert_eq!(def.parse(Some("xAB1234")), Err(t("profile.error.pattern").to_string()));
        assert_eq!(def.parse(Some("AB12345")), Err(t("profile.error.pattern").to_string()));
        assert_eq!(def.parse(Some("AB123456")), Err(t("profile.error.too_long").replace("{max}", "7")));
        assert_eq!(def.parse(Some("AB123")), Err(t("profile.error.pattern").to_string()));
        assert_eq!(def.parse(Some("ab1234")), Err(t("profile.error.pattern").to_string()));
        let plain = one(RawAttribute::new("note", "Note", AttributeKind::Text));
        assert_eq!(plain.parse(Some("a\u{0}b")), Err(t("profile.error.control").to_string()));
        assert_eq!(plain.parse(Some(&"é".repeat(200))).map(|v| v.is_some()), Ok(true));
        assert!(plain.parse(Some(&"é".repeat(201))).is_err());
    }

    #[test]
    fn required_values_must_be_given() {
        let mut raw = RawAttribute::new("company", "Company", AttributeKind::Text);
        raw.required = true;
        let def = one(raw);
        assert_eq!(def.parse(Some("   ")), Err(t("profile.error.required").to_string()));
        assert_eq!(def.parse(None), Err(t("profile.error.required").to_string()));
        assert!(!def.is_set(Some(&Value::String(" ".into()))));
        assert!(!def.is_set(None));
        assert!(def.is_set(Some(&Value::String("Acme".into()))));
    }

    #[test]
    fn numbers_are_finite_in_range_and_whole_when_asked() {
        let mut raw = RawAttribute::new("age", "Age", AttributeKind::Number);
        (raw.min, raw.max, raw.integer) = (Some(Bound::Number(0.0)), Some(Bound::Number(150.0)), Some(true));
        let age = one(raw);
        assert_eq!(age.parse(Some("42")), Ok(Some(Value::from(42))));
        assert_eq!(age.parse(Some("42.0")), Ok(Some(Value::from(42))));
        assert_eq!(age.parse(Some("42.5")), Err(t("profile.error.integer").to_string()));
        assert_eq!(age.parse(Some("-1")), Err(t("profile.error.min").replace("{min}", "0")));
        assert_eq!(age.parse(Some("151")), Err(t("profile.error.max").replace("{max}", "150")));
        for bad in ["abc", "NaN", "inf", "1,5"] {
            assert_eq!(age.parse(Some(bad)), Err(t("profile.error.number").to_string()), "{bad}");
        }
        let mut raw = RawAttribute::new("height", "Height", AttributeKind::Number);
        raw.max = Some(Bound::Number(2.5));
        let height = one(raw);
        assert_eq!(height.parse(Some("1.75")), Ok(Some(serde_json::json!(1.75))));
        assert_eq!(height.parse(Some("2.51")), Err(t("profile.error.max").replace("{max}", "2.5")));
        assert_eq!(height.shown(Some(&serde_json::json!(1.75))), "1.75");
        assert_eq!(age.shown(Some(&Value::from(42))), "42");
        let field = age.field(None);
        assert_eq!(
            (field.min.as_deref(), field.max.as_deref(), field.step.as_deref()),
            (Some("0"), Some("150"), Some("1"))
        );
        let huge = one(RawAttribute { integer: Some(true), ..RawAttribute::new("n", "N", AttributeKind::Number) });
        assert_eq!(huge.parse(Some("1e300")), Err(t("profile.error.integer").to_string()));
    }

    #[test]
    fn booleans_absent_mean_false() {
        let def = one(RawAttribute::new("news", "Newsletter", AttributeKind::Boolean));
        assert_eq!(def.parse(None), Ok(Some(Value::Bool(false))));
        assert_eq!(def.parse(Some("")), Ok(Some(Value::Bool(false))));
        assert_eq!(def.parse(Some("true")), Ok(Some(Value::Bool(true))));
        assert_eq!(def.parse(Some("on")), Ok(Some(Value::Bool(true))));
        assert_eq!(def.parse(Some("yes please")), Err(t("profile.error.boolean").to_string()));
        assert_eq!(def.shown(None), "false");
        assert_eq!(def.shown(Some(&Value::Bool(true))), "true");
    }

    #[test]
    fn dates_are_iso_real_and_in_range() {
        let mut raw = RawAttribute::new("birthday", "Birthday", AttributeKind::Date);
        (raw.min, raw.max) = (Some(Bound::Text("1900-01-01".into())), Some(Bound::Text("2024-12-31".into())));
        let def = one(raw);
        assert_eq!(def.parse(Some("2000-02-29")), Ok(Some(Value::String("2000-02-29".into()))));
        for bad in ["2001-02-29", "2000-2-29", "29.02.2000", "2000-13-01", "+200-01-01", "2000/01/01"] {
            assert_eq!(def.parse(Some(bad)), Err(t("profile.error.date").to_string()), "{bad}");
        }
        assert_eq!(def.parse(Some("1899-12-31")), Err(t("profile.error.date_min").replace("{min}", "1900-01-01")));
        assert_eq!(def.parse(Some("2025-01-01")), Err(t("profile.error.date_max").replace("{max}", "2024-12-31")));
        assert_eq!(def.field(None).min.as_deref(), Some("1900-01-01"));
    }

    #[test]
    fn choices_accept_only_their_values() {
        let mut raw = RawAttribute::new("size", "T-shirt size", AttributeKind::Choice);
        raw.choices = Some(vec![choice("s", "Small"), choice("m", "Medium")]);
        let def = one(raw);
        assert_eq!(def.parse(Some("m")), Ok(Some(Value::String("m".into()))));
        assert_eq!(def.parse(Some("Medium")), Err(t("profile.error.choice").to_string()));
        assert_eq!(def.parse(Some("xl")), Err(t("profile.error.choice").to_string()));
        let field = def.field(Some(&Value::String("m".into())));
        assert_eq!(field.shown_value("yes", "no", "-"), "Medium");
        assert_eq!(field.choices.len(), 2);
    }
}
