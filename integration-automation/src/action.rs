//! Actions: named operations with a described input, which automation steps call.
//!
//! A domain's write operations are registered as actions (`hris.update_employee`), beside the
//! built-in [`http.request`](crate::http_request::HttpRequest). A step's input is checked against
//! the action's [`ActionSchema`] when the automation is loaded — unknown fields, missing required
//! ones and literals of the wrong type are refused then — and the rendered input is checked again
//! before each call.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use integration_automation::action::{Action, ActionCall, ActionSchema, Actions, InputField, InputKind};
//! use serde_json::{json, Value};
//!
//! #[derive(Debug)]
//! struct Greet;
//!
//! #[async_trait]
//! impl Action for Greet {
//!     fn schema(&self) -> ActionSchema {
//!         ActionSchema::new("demo.greet", "Says hello.").field(InputField::required("name", InputKind::String))
//!     }
//!     async fn run(&self, call: ActionCall) -> integration_core::Result<Value> {
//!         Ok(json!({ "greeting": format!("hello {}", call.input["name"].as_str().unwrap_or("")) }))
//!     }
//! }
//!
//! let actions = Actions::new().with(Arc::new(Greet)).unwrap();
//! assert!(actions.get("demo.greet").is_some());
//! let err = actions.schema_of("demo.greet").unwrap().check(&json!({"name": 7}), "input").unwrap_err();
//! assert_eq!(err.field(), Some("input.name"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{AutomationRunId, Error, Result, TenantId};
use serde::Serialize;
use serde_json::Value;

use crate::template::{Shape, Template};

/// A named operation a step can call.
#[async_trait]
pub trait Action: Send + Sync + fmt::Debug {
    /// The action's name and input.
    fn schema(&self) -> ActionSchema;

    /// Runs the action. The input has been checked against the schema. Pass
    /// [`ActionCall::idempotency_key`] to the provider when it accepts one: a step whose result was
    /// not saved (a crash) runs again with the same key.
    async fn run(&self, call: ActionCall) -> Result<Value>;
}

/// One call of an action.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionCall {
    /// The tenant the run is for.
    pub tenant: TenantId,
    /// The run.
    pub run: AutomationRunId,
    /// The step's path in the automation.
    pub step: String,
    /// The same for every attempt of this step in this run.
    pub idempotency_key: String,
    /// Which attempt this is (1 = the first).
    pub attempt: u32,
    /// The rendered input.
    pub input: Value,
}

impl ActionCall {
    /// A call (for hosts testing their own actions).
    pub fn new(tenant: TenantId, run: AutomationRunId, step: impl Into<String>, input: Value) -> Self {
        let step = step.into();
        Self { idempotency_key: format!("{run}:{step}"), tenant, run, step, attempt: 1, input }
    }
}

/// The type of an input field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputKind {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// Anything.
    Any,
}

impl InputKind {
    fn accepts(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Number => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Object => value.is_object(),
            Self::Array => value.is_array(),
            Self::Any => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Boolean => "a boolean",
            Self::Object => "an object",
            Self::Array => "an array",
            Self::Any => "any value",
        }
    }
}

/// One field of an action's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InputField {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub kind: InputKind,
    /// Whether it must be given.
    pub required: bool,
    /// Whether its value is secret: redacted in the run log.
    pub secret: bool,
    /// What it is for.
    pub description: String,
}

impl InputField {
    /// A required field.
    pub fn required(name: impl Into<String>, kind: InputKind) -> Self {
        Self { name: name.into(), kind, required: true, secret: false, description: String::new() }
    }

    /// An optional field.
    pub fn optional(name: impl Into<String>, kind: InputKind) -> Self {
        Self { required: false, ..Self::required(name, kind) }
    }

    /// Marks the value secret.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Describes the field.
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

/// An action's name, description and input fields (an object; no other fields accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ActionSchema {
    /// The name steps call it by (`"<domain>.<operation>"`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its input's fields.
    pub fields: Vec<InputField>,
}

impl ActionSchema {
    /// A schema with no fields yet.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self { name: name.into(), description: description.into(), fields: Vec::new() }
    }

    /// Adds a field.
    pub fn field(mut self, field: InputField) -> Self {
        self.fields.push(field);
        self
    }

    /// Checks a rendered input; the error names the field (`{path}.{field}`).
    pub fn check(&self, input: &Value, path: &str) -> Result<()> {
        let Value::Object(map) = input else {
            return Err(Error::validation(path, format!("the input of {} must be an object", self.name)));
        };
        for name in map.keys() {
            self.known(name, path)?;
        }
        for field in &self.fields {
            match map.get(&field.name) {
                None | Some(Value::Null) if field.required => return Err(self.missing(field, path)),
                None | Some(Value::Null) => {}
                Some(value) if !field.kind.accepts(value) => return Err(self.mistyped(field, value, path)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Checks a template before anything runs: field names, required fields, and the types of
    /// literals and text.
    pub(crate) fn check_template(&self, input: &Template, path: &str) -> Result<()> {
        let Some(names) = input.field_names() else {
            return if input.is_object_like() {
                Ok(())
            } else {
                Err(Error::validation(path, format!("the input of {} must be an object", self.name)))
            };
        };
        for name in names {
            self.known(name, path)?;
        }
        for field in &self.fields {
            match input.field(&field.name) {
                None if field.required => return Err(self.missing(field, path)),
                Some(Shape::Literal(Value::Null)) if field.required => return Err(self.missing(field, path)),
                Some(Shape::Literal(value)) if !value.is_null() && !field.kind.accepts(value) => {
                    return Err(self.mistyped(field, value, path));
                }
                Some(Shape::Text) if !matches!(field.kind, InputKind::String | InputKind::Any) => {
                    return Err(Error::validation(
                        format!("{path}.{}", field.name),
                        format!(
                            "{} takes {} for `{}`, but text around `{{{{ }}}}` always renders to a string; write the expression alone, as \"{{{{ expression }}}}\"",
                            self.name,
                            field.kind.name(),
                            field.name
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The input as a JSON Schema (draft 2020-12): an object of the fields, each with its type
    /// and description, secret ones `writeOnly`, the required ones listed, no others allowed —
    /// what [`ActionSchema::check`] accepts, for callers that speak JSON Schema (an agent's tool
    /// list, a form).
    ///
    /// ```
    /// use integration_automation::{ActionSchema, InputField, InputKind};
    ///
    /// let schema = ActionSchema::new("hris.update_employee", "Changes an employee")
    ///     .field(InputField::required("employee_id", InputKind::String).describe("The employee"))
    ///     .field(InputField::optional("note", InputKind::String));
    /// let json = schema.input_json_schema();
    /// assert_eq!(json["required"], serde_json::json!(["employee_id"]));
    /// assert_eq!(json["properties"]["employee_id"]["type"], "string");
    /// assert_eq!(json["additionalProperties"], false);
    /// ```
    pub fn input_json_schema(&self) -> Value {
        let mut properties = serde_json::Map::new();
        for field in &self.fields {
            let mut property = serde_json::Map::new();
            let kind = match field.kind {
                InputKind::String => Some("string"),
                InputKind::Integer => Some("integer"),
                InputKind::Number => Some("number"),
                InputKind::Boolean => Some("boolean"),
                InputKind::Object => Some("object"),
                InputKind::Array => Some("array"),
                InputKind::Any => None,
            };
            match (kind, field.required) {
                (Some(kind), true) => {
                    property.insert("type".into(), Value::from(kind));
                }
                // An optional field may be given as null (check takes null for absent).
                (Some(kind), false) => {
                    property.insert("type".into(), serde_json::json!([kind, "null"]));
                }
                (None, _) => {}
            }
            if !field.description.is_empty() {
                property.insert("description".into(), Value::from(field.description.clone()));
            }
            if field.secret {
                property.insert("writeOnly".into(), Value::Bool(true));
            }
            properties.insert(field.name.clone(), Value::Object(property));
        }
        let required: Vec<&str> = self.fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
        serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.name,
            "description": self.description,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The names of secret fields.
    pub(crate) fn secret_fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().filter(|f| f.secret).map(|f| f.name.as_str())
    }

    fn known(&self, name: &str, path: &str) -> Result<()> {
        if self.fields.iter().any(|f| f.name == name) {
            return Ok(());
        }
        let expected: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        Err(Error::validation(
            format!("{path}.{name}"),
            format!("{} has no input `{name}`; its inputs are: {}", self.name, expected.join(", ")),
        ))
    }

    fn missing(&self, field: &InputField, path: &str) -> Error {
        Error::validation(
            format!("{path}.{}", field.name),
            format!("{} needs `{}` ({})", self.name, field.name, field.kind.name()),
        )
    }

    fn mistyped(&self, field: &InputField, value: &Value, path: &str) -> Error {
        Error::validation(
            format!("{path}.{}", field.name),
            format!("{} takes {} for `{}`, not {}", self.name, field.kind.name(), field.name, json_type(value)),
        )
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An action with its schema, read once at registration.
type Registered = (ActionSchema, Arc<dyn Action>);

/// The actions available to automations, by name. Clones share the same actions.
#[derive(Clone, Default)]
pub struct Actions {
    by_name: Arc<BTreeMap<String, Registered>>,
}

impl Actions {
    /// No actions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `action`; a name already taken is a `Config` error.
    pub fn with(mut self, action: Arc<dyn Action>) -> Result<Self> {
        let schema = action.schema();
        let map = Arc::make_mut(&mut self.by_name);
        if map.contains_key(&schema.name) {
            return Err(Error::new(
                integration_core::ErrorKind::Config,
                format!("an action named {:?} is already registered", schema.name),
            ));
        }
        map.insert(schema.name.clone(), (schema, action));
        Ok(self)
    }

    /// Adds each of `actions`.
    pub fn with_all(self, actions: impl IntoIterator<Item = Arc<dyn Action>>) -> Result<Self> {
        actions.into_iter().try_fold(self, Self::with)
    }

    /// The action named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Action>> {
        self.by_name.get(name).map(|(_, a)| a)
    }

    /// The schema of the action named `name`.
    pub fn schema_of(&self, name: &str) -> Option<&ActionSchema> {
        self.by_name.get(name).map(|(s, _)| s)
    }

    /// Every action's schema, by name: a catalog to show users.
    pub fn schemas(&self) -> impl Iterator<Item = &ActionSchema> {
        self.by_name.values().map(|(s, _)| s)
    }

    /// The error for a step naming an action that is not registered.
    pub(crate) fn unknown(&self, name: &str, path: &str) -> Error {
        let known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        Error::validation(path, format!("no action named {name:?} is registered; known actions: {}", known.join(", ")))
    }
}

impl fmt::Debug for Actions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}
