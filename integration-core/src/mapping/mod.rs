//! Field mappings and validation rules, per connection, for every domain.
//!
//! A host maps provider fields the common model lacks — a custom field, a value nested in the
//! provider's raw record — onto named **custom fields** of the record
//! ([`Remote::custom_fields`](crate::domain::Remote::custom_fields)), through a few
//! [`Transform`]s, and adds [`Rule`]s a record must keep. [`Mappings`] are data: they are stored
//! with the connection ([`IntegrationConfig::mappings`](crate::IntegrationConfig::mappings)),
//! checked when it is saved (a bad one is refused naming its field) and applied the same way by
//! the sync (every page read) and by a domain's typed listings (the [`Mapped`] wrapper the typed
//! `build` and [`Registry::build`](crate::Registry::build) put around the adapter). A record that
//! breaks a rule, or whose mapping fails, is rejected into the run log (or the listing's
//! `rejected`) with the rule and field named, like a record that does not map; the others go on.
//!
//! | mapping piece | meaning |
//! |---|---|
//! | `source` | an RFC 6901 JSON pointer into the provider's raw record (`/customFields/4021`) |
//! | `target` | the custom field's name (`shirt_size`: lowercase letters, digits, `_`) |
//! | [`Transform`] | `trim`, `lowercase`, `uppercase`, `date` (one format to another), `lookup` (a table), `default` |
//! | [`Rule`] | `required`, `pattern` (a regular expression), `range` (numbers or dates), `one_of` |
//!
//! A rule's `field` is a dotted path into the mapped record: a common-model field
//! (`work_email`, `employment.status`) or a custom one (`custom_fields.shirt_size`). As JSON
//! (how hosts store and edit them; unknown keys are refused):
//!
//! ```json
//! {"fields": [{"stream": "employees", "source": "/customFields/4021", "target": "shirt_size",
//!              "transforms": [{"op": "trim"}, {"op": "lookup", "table": {"1": "S", "2": "M"}}]}],
//!  "rules": [{"stream": "employees", "field": "custom_fields.shirt_size",
//!             "check": {"rule": "one_of", "values": ["S", "M"]}}]}
//! ```
//!
//! ```
//! use integration_core::mapping::{Check, FieldMapping, Mapper, Mappings, Rule, Transform};
//! use serde_json::json;
//!
//! let mappings = Mappings::default()
//!     .map(FieldMapping::new("employees", "/customFields/shirt", "shirt_size").then(Transform::Trim).then(Transform::Uppercase))
//!     .rule(Rule::new("employees", "custom_fields.shirt_size", Check::OneOf { values: vec![json!("S"), json!("M"), json!("L")] }));
//! let mapper = Mapper::compile(&mappings, None)?;
//!
//! let raw = json!({"id": "7", "customFields": {"shirt": " m "}});
//! let mut record = json!({"remote_id": "7", "work_email": "ada@example.com"});
//! mapper.apply("employees", &mut record, Some(&raw))?;
//! assert_eq!(record["custom_fields"]["shirt_size"], "M");
//!
//! let odd = json!({"id": "8", "customFields": {"shirt": "XXL"}});
//! let broken = mapper.apply("employees", &mut json!({"remote_id": "8"}), Some(&odd)).unwrap_err();
//! assert_eq!(broken.field(), Some("custom_fields.shirt_size"));
//! assert!(broken.to_string().contains("one_of"), "{broken}");
//!
//! // Checked when saved: a bad regular expression is refused, naming where it is.
//! let bad = Mappings::default().rule(Rule::new("employees", "work_email", Check::Pattern { regex: "(".into() }));
//! assert_eq!(Mapper::compile(&bad, None).unwrap_err().field(), Some("mappings.rules[0].check.regex"));
//!
//! // And read from the JSON a host stores.
//! let stored: Mappings = serde_json::from_value(json!({"rules": [{"stream": "employees", "field": "work_email",
//!     "check": {"rule": "pattern", "regex": "@example\\.com$"}}]}))?;
//! assert_eq!(stored.rules[0].check.name(), "pattern");
//! assert!(serde_json::from_value::<Mappings>(json!({"rulez": []})).is_err(), "a typo is refused");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compile;
mod mapped;
mod transform;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use compile::Mapper;
pub use mapped::Mapped;

/// The most field mappings, and the most rules, a connection may have.
pub const MAX_ENTRIES: usize = 256;

/// A connection's field mappings and validation rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mappings {
    /// Provider fields mapped onto custom fields, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldMapping>,
    /// Rules every record of their stream must keep, checked after the mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

impl Mappings {
    /// No mapping and no rule.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.rules.is_empty()
    }

    /// Adds a field mapping.
    #[must_use]
    pub fn map(mut self, mapping: FieldMapping) -> Self {
        self.fields.push(mapping);
        self
    }

    /// Adds a rule.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }
}

/// One provider field mapped onto a custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The stream whose records it applies to (`"employees"`).
    pub stream: String,
    /// An RFC 6901 JSON pointer into the provider's raw record.
    pub source: String,
    /// The custom field it fills.
    pub target: String,
    /// What is done to the value on the way, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
}

impl FieldMapping {
    /// `source` of `stream`'s raw records onto custom field `target`, as it is.
    pub fn new(stream: &str, source: &str, target: &str) -> Self {
        Self { stream: stream.to_owned(), source: source.to_owned(), target: target.to_owned(), transforms: Vec::new() }
    }

    /// Adds a transform.
    #[must_use]
    pub fn then(mut self, transform: Transform) -> Self {
        self.transforms.push(transform);
        self
    }
}

/// A step applied to a mapped value. A missing value is `null`: every step but
/// [`Default`](Transform::Default) and [`Lookup`](Transform::Lookup)'s `otherwise` leaves it so,
/// and a `null` result leaves the custom field out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Removes leading and trailing white space from text.
    Trim,
    /// Lowercases text.
    Lowercase,
    /// Uppercases text.
    Uppercase,
    /// Reads text as a date (or date and time) in chrono's `from` format and writes it in `to`
    /// (ISO 8601, `%Y-%m-%d`, by default); text that is not one fails the mapping.
    Date {
        /// The provider's format (`%d/%m/%Y`).
        from: String,
        /// The format written.
        #[serde(default = "iso_date")]
        to: String,
    },
    /// Replaces a value by its entry in `table` (keys are the value as text); a value with no
    /// entry becomes `otherwise`, or fails the mapping when there is none.
    Lookup {
        /// The table.
        table: BTreeMap<String, Value>,
        /// The value for anything not in the table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        otherwise: Option<Value>,
    },
    /// A missing (`null`) value becomes `value`.
    Default {
        /// The value.
        value: Value,
    },
}

fn iso_date() -> String {
    "%Y-%m-%d".to_owned()
}

/// A rule every record of a stream must keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The stream.
    pub stream: String,
    /// A dotted path into the mapped record (`work_email`, `custom_fields.shirt_size`).
    pub field: String,
    /// What the field must be.
    pub check: Check,
}

impl Rule {
    /// `field` of `stream`'s records must pass `check`.
    pub fn new(stream: &str, field: &str, check: Check) -> Self {
        Self { stream: stream.to_owned(), field: field.to_owned(), check }
    }
}

/// What a field must be. Every check but [`Required`](Check::Required) passes a missing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Present, and not `null` or empty text.
    Required,
    /// Text matching a regular expression (Rust `regex` syntax: linear time, no look-around).
    Pattern {
        /// The expression; anchor it (`^…$`) to match the whole text.
        regex: String,
    },
    /// A number, or a date (`YYYY-MM-DD`, or a time whose date is compared), within bounds
    /// (inclusive); the bounds are both numbers or both dates.
    Range {
        /// The least value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<Value>,
        /// The greatest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<Value>,
    },
    /// One of these values.
    OneOf {
        /// The values allowed.
        values: Vec<Value>,
    },
}

impl Check {
    /// The rule's name, as rejections say it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Pattern { .. } => "pattern",
            Self::Range { .. } => "range",
            Self::OneOf { .. } => "one_of",
        }
    }
}
