//! Loading automations from JSON or TOML. A definition is checked completely at load time —
//! shape, expressions, cron, durations, action names and input types — and an error names the
//! line, the column and the field:
//!
//! ```
//! use integration_automation::action::Actions;
//! use integration_automation::load;
//!
//! let text = r#"
//! id = "nightly"
//! trigger = { schedule = { cron = "0 25 * * *", timezone = "Europe/Paris" } }
//! steps = [ { delay = "1m" } ]
//! "#;
//! let err = load::from_toml(text, &Actions::new()).unwrap_err();
//! assert_eq!(err.field(), Some("trigger.schedule.cron"));
//! assert!(err.message().starts_with("line 3"), "{err}");
//! ```
//!
//! While a definition is being read, the [`Actions`] it is checked against are known to this
//! thread only (they are needed deep inside deserialization, where serde passes no context).

use std::cell::RefCell;

use integration_core::{Error, Result};
use serde_json::Value;

use crate::action::Actions;
use crate::definition::Automation;

thread_local! {
    static LOADING: RefCell<Option<Actions>> = const { RefCell::new(None) };
}

/// The actions the definition being read on this thread is checked against.
pub(crate) fn current_actions() -> Option<Actions> {
    LOADING.with(|l| l.borrow().clone())
}

/// Makes `actions` current for the duration of `read`.
fn with_actions<T>(actions: &Actions, read: impl FnOnce() -> T) -> T {
    struct Reset(Option<Actions>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            LOADING.with(|l| *l.borrow_mut() = previous);
        }
    }
    let _reset = Reset(LOADING.with(|l| l.borrow_mut().replace(actions.clone())));
    read()
}

/// Reads an automation from JSON.
pub fn from_json(text: &str, actions: &Actions) -> Result<Automation> {
    let automation = with_actions(actions, || {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            let text = inner.to_string();
            let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
            refusal(e.path().to_string(), Some((inner.line(), inner.column())), message)
        })
    })?;
    checked(automation, actions)
}

/// Reads an automation from TOML.
pub fn from_toml(text: &str, actions: &Actions) -> Result<Automation> {
    let automation = with_actions(actions, || {
        let de = toml::Deserializer::parse(text).map_err(|e| toml_refusal(text, String::new(), &e))?;
        serde_path_to_error::deserialize(de).map_err(|e| toml_refusal(text, e.path().to_string(), e.inner()))
    })?;
    checked(automation, actions)
}

/// Reads an automation from a JSON value (what [`AutomationBuilder::build`] does).
///
/// [`AutomationBuilder::build`]: crate::AutomationBuilder::build
pub fn from_value(value: Value, actions: &Actions) -> Result<Automation> {
    let automation = with_actions(actions, || {
        serde_path_to_error::deserialize(value).map_err(|e| refusal(e.path().to_string(), None, &e.inner().to_string()))
    })?;
    checked(automation, actions)
}

fn checked(automation: Automation, actions: &Actions) -> Result<Automation> {
    automation.validate(actions)?;
    Ok(automation)
}

fn toml_refusal(text: &str, path: String, e: &toml::de::Error) -> Error {
    let position = e.span().map(|span| line_and_column(text, span.start));
    refusal(path, position, e.message())
}

/// A `Validation` error at `path` (`"."` or empty for the whole document).
fn refusal(path: String, position: Option<(usize, usize)>, message: &str) -> Error {
    let field = if path.is_empty() || path == "." { "automation".to_owned() } else { path };
    let message = match position {
        Some((line, column)) => format!("line {line}, column {column}: {field}: {message}"),
        None => format!("{field}: {message}"),
    };
    Error::validation(field, message)
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
