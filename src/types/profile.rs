//! The profile pages' wire types: /account (the profile form) and /account/complete-profile (the required
//! attributes an account still lacks).

use serde::{Deserialize, Serialize};

use super::Flash;

/// The type of an operator-defined attribute (`profile.attributes[].type` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    Text,
    Number,
    Boolean,
    Date,
    Choice,
}

/// One entry of a select: the value the form posts and the text shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// One operator-defined attribute as a form shows it: its definition's shown parts and the current value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeField {
    pub key: String,
    pub label: String,
    pub hint: Option<String>,
    pub kind: AttributeKind,
    pub required: bool,
    /// `false`: shown read-only (operators set it).
    pub editable: bool,
    /// The current value as the control holds it: "" when not set, "true"/"false" for booleans, a number
    /// in plain notation, a date as YYYY-MM-DD.
    pub value: String,
    /// For `Choice`: the allowed values.
    pub choices: Vec<ChoiceOption>,
    /// Limits the browser can check before posting (the server checks them again): the number or date
    /// range, the number step ("1" for integers, "any" otherwise), the text length.
    pub min: Option<String>,
    pub max: Option<String>,
    pub step: Option<String>,
    pub max_length: Option<usize>,
}

impl AttributeField {
    /// The form field's name (`attributes[key]`), also the `field` of its validation problems.
    pub fn field_name(&self) -> String {
        attribute_field(&self.key)
    }

    /// The value to show read-only: the choice's label, yes/no for booleans, the value otherwise.
    pub fn shown_value(&self, yes: &str, no: &str, not_set: &str) -> String {
        match self.kind {
            AttributeKind::Boolean => (if self.value == "true" { yes } else { no }).to_string(),
            _ if self.value.is_empty() => not_set.to_string(),
            AttributeKind::Choice => self
                .choices
                .iter()
                .find(|c| c.value == self.value)
                .map_or_else(|| self.value.clone(), |c| c.label.clone()),
            _ => self.value.clone(),
        }
    }
}

/// The form field name of attribute `key`: serde_qs' map notation, so the server function receives every
/// attribute in one `HashMap` argument.
pub fn attribute_field(key: &str) -> String {
    format!("attributes[{key}]")
}

/// The standard fields of the profile form as the controls hold them ("" when not set). The attributes'
/// values travel in their `AttributeField`s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileValues {
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub locale: String,
    pub time_zone: String,
}

/// What /account shows and edits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilePageState {
    pub email: String,
    pub email_verified: bool,
    /// The saved values, or after a refused plain form post the values as typed.
    pub values: ProfileValues,
    /// The operator-defined attributes, editable ones and read-only ones, in configuration order.
    pub attributes: Vec<AttributeField>,
    /// The languages to choose from (BCP 47 tag and name).
    pub languages: Vec<ChoiceOption>,
    /// The IANA time zone names to choose from.
    pub time_zones: Vec<String>,
    pub flash: Option<Flash>,
    /// A sign-in of this session just cancelled the account's deletion: said once, on the first page load
    /// after it (`server::account_data::take_deletion_cancelled`).
    pub deletion_cancelled: bool,
}

/// What the /account loader answers: the page, or (once after a sign-in that left required attributes
/// missing) a visit to /account/complete-profile first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountPageLoad {
    Profile(Box<ProfilePageState>),
    CompleteProfileFirst,
}

/// What /account/complete-profile shows: the required attributes the account lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteProfileState {
    /// Empty when nothing is missing (the page then continues to /account). After a refused plain form
    /// post the values are the ones typed.
    pub missing: Vec<AttributeField>,
    pub flash: Option<Flash>,
}
