//! Conditions and input templates, in [MiniJinja](https://docs.rs/minijinja)'s expression
//! language — a maintained, sandboxed Jinja2 implementation, not a language of our own.
//!
//! - No code execution: expressions read the scope (the trigger, earlier steps' outputs) and call
//!   MiniJinja's built-in filters and tests; nothing reaches the file system, the network or the
//!   host's types.
//! - Bounded cost: an expression's text is measured before it is parsed (length, operators,
//!   nesting: [`shape`] — a long chain would otherwise overflow the parser's stack); every
//!   evaluation runs on [`FUEL`] units of fuel (about one per instruction) and a
//!   [budget](budget::EVALUATION_BUDGET) of bytes that every filter, function and growing
//!   operator (`*`, `~`, `+` and `in`, rewritten into bounded filters of the same meaning) draws
//!   on before it builds a value; a result is at most [`MAX_OUTPUT`] bytes. Past any of these,
//!   evaluation fails with an error, never with the process's memory.
//! - Missing data is not an error: `previous.employment.status` on an added record (no
//!   `previous`) is undefined, and compares unequal to everything.
//!
//! ```
//! use integration_automation::expression::{Expression, Scope};
//! use serde_json::json;
//!
//! let terminated = Expression::compile(
//!     r#"previous.employment.status == "active" and record.employment.status == "terminated""#,
//! )
//! .unwrap();
//! let change = json!({
//!     "record": { "employment": { "status": "terminated" } },
//!     "previous": { "employment": { "status": "active" } },
//! });
//! assert!(terminated.is_true(&Scope::new(change)).unwrap());
//! assert!(!terminated.is_true(&Scope::new(json!({ "record": {} }))).unwrap());
//! assert!(Expression::compile("record.status ==").is_err());
//!
//! // Within the fuel, but far past what one evaluation may build:
//! let doubling = Expression::compile(r#"("x" * 1000000) | replace("x", "xx") | replace("x", "xx") | replace("x", "xx")"#).unwrap();
//! assert!(doubling.eval(&Scope::new(json!({}))).unwrap_err().message().contains("too large"));
//! ```

pub mod budget;
mod language;
mod rewrite;
pub mod shape;

use std::fmt;
use std::sync::Arc;

use integration_core::{Error, Result};
use minijinja::value::{Enumerator, Object, ObjectRepr, Value as JinjaValue};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use yoke::Yoke;

/// The fuel one evaluation may burn (MiniJinja counts roughly one unit per instruction).
pub const FUEL: u64 = 20_000;

pub use budget::MAX_OUTPUT;

/// A compiled expression with its source.
#[derive(Clone)]
pub struct Expression {
    source: Arc<str>,
    compiled: Arc<minijinja::Expression<'static, 'static>>,
}

impl Expression {
    /// Compiles `source`; a syntax error, or an expression too long or too deeply nested to
    /// parse safely ([`shape`]), is a `Validation` error naming the problem.
    pub fn compile(source: &str) -> Result<Self> {
        shape::check(source).map_err(|why| Error::validation("expression", why))?;
        let refused = |e: &minijinja::Error| {
            Error::validation("expression", format!("the expression {source:?} does not compile: {}", describe(e)))
        };
        let text = rewrite::rewrite(source).map_err(|e| refused(&e))?.unwrap_or_else(|| source.to_owned());
        let compiled = language::ENVIRONMENT.compile_expression_owned(text).map_err(|e| refused(&e))?;
        Ok(Self { source: source.into(), compiled: Arc::new(compiled) })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression in `scope`, as JSON. An undefined result is `null`.
    pub fn eval(&self, scope: &Scope) -> Result<Value> {
        let value = self.eval_raw(scope)?;
        to_json(&value)
    }

    /// Evaluates the expression in `scope` as a condition (Jinja truthiness: `false`, `none`,
    /// undefined, `0`, `""` and empty collections are false).
    pub fn is_true(&self, scope: &Scope) -> Result<bool> {
        Ok(self.eval_raw(scope)?.is_true())
    }

    /// Evaluates to MiniJinja's value.
    pub(crate) fn eval_raw(&self, scope: &Scope) -> Result<JinjaValue> {
        budget::within(budget::EVALUATION_BUDGET, || self.compiled.eval(&scope.root)).map_err(|e| {
            Error::validation("expression", format!("the expression {:?} failed: {}", self.source, describe(&e)))
        })
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&&*self.source).finish()
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Expression {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Self::compile(&source).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// MiniJinja's error text, with its detail when it has one.
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{} ({detail})", e.kind()),
        None => e.to_string(),
    }
}

/// A MiniJinja value as JSON; undefined becomes `null`. A value whose JSON would be larger than
/// [`MAX_OUTPUT`] is refused before it is converted.
pub(crate) fn to_json(value: &JinjaValue) -> Result<Value> {
    if value.is_undefined() {
        return Ok(Value::Null);
    }
    let not_json =
        |e: &dyn fmt::Display| Error::validation("expression", format!("the expression's value is not JSON: {e}"));
    if value.as_str().is_none_or(|s| s.len() > MAX_OUTPUT / 2) {
        let mut size = budget::CountingSink::new(MAX_OUTPUT);
        if let Err(e) = serde_json::to_writer(&mut size, value) {
            return Err(if e.is_io() {
                Error::validation(
                    "expression",
                    format!("the expression's value is larger than the {MAX_OUTPUT} bytes a result may be"),
                )
            } else {
                not_json(&e)
            });
        }
    }
    serde_json::to_value(value).map_err(|e| not_json(&e))
}

/// What an expression can read: the trigger's data at the top level (`record`, `previous`,
/// `payload`...), plus `steps` (earlier steps' outputs by step id), `tenant`, and in on-failure
/// steps `error`.
///
/// JSON is read in place, not converted: an expression pays only for the fields it touches.
#[derive(Debug, Clone)]
pub struct Scope {
    root: JinjaValue,
}

impl Scope {
    /// A scope over `data` alone.
    pub fn new(data: Value) -> Self {
        Self::shared(Arc::new(data))
    }

    /// A scope over shared `data` (no copy: many automations can read one event).
    pub fn shared(data: Arc<Value>) -> Self {
        Self::with_extras(data, Vec::new())
    }

    /// A scope over `data`, with `extras` (name, value) shadowing its top-level keys.
    pub(crate) fn with_extras(data: Arc<Value>, extras: Vec<(&'static str, Value)>) -> Self {
        let data = JsonView::root(data);
        if extras.is_empty() {
            return Self { root: JinjaValue::from_dyn_object(data) };
        }
        let extras = extras.into_iter().map(|(k, v)| (k, JsonView::root(Arc::new(v)))).collect();
        Self { root: JinjaValue::from_object(Root { data, extras }) }
    }
}

/// The top of a scope with extras.
#[derive(Debug)]
struct Root {
    data: Arc<JsonView>,
    extras: Vec<(&'static str, Arc<JsonView>)>,
}

impl Object for Root {
    fn get_value(self: &Arc<Self>, key: &JinjaValue) -> Option<JinjaValue> {
        let name = key.as_str()?;
        match self.extras.iter().find(|(k, _)| *k == name) {
            Some((_, view)) => Some(JsonView::value(view)),
            None => JsonView::get(&self.data, key),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<JinjaValue> = self.extras.iter().map(|(k, _)| JinjaValue::from(*k)).collect();
        if let Value::Object(map) = self.data.node() {
            keys.extend(
                map.keys().filter(|k| !self.extras.iter().any(|(e, _)| e == k)).map(|k| JinjaValue::from(k.as_str())),
            );
        }
        Enumerator::Values(keys)
    }
}

/// A JSON value read in place: a reference into the shared document, kept alive by the
/// document's `Arc` (a [`Yoke`]), so reading a field is one lookup, however deep the view.
#[derive(Debug)]
struct JsonView {
    node: Yoke<&'static Value, Arc<Value>>,
}

impl JsonView {
    fn root(document: Arc<Value>) -> Arc<Self> {
        Arc::new(Self { node: Yoke::attach_to_cart(document, |document| document) })
    }

    fn node(&self) -> &Value {
        self.node.get()
    }

    /// The node as a MiniJinja value: scalars converted, containers viewed in place.
    fn value(this: &Arc<Self>) -> JinjaValue {
        scalar(this.node.get()).unwrap_or_else(|| JinjaValue::from_dyn_object(this.clone()))
    }

    /// The child `pick` chooses below `this`: a scalar converted at once, a container as a view
    /// of its own.
    fn child(this: &Arc<Self>, pick: impl for<'a> FnOnce(&'a Value) -> Option<&'a Value>) -> Option<JinjaValue> {
        let node: Yoke<&'static Value, _> = this.node.try_map_project_cloned(|node, _| pick(node).ok_or(())).ok()?;
        Some(scalar(node.get()).unwrap_or_else(|| JinjaValue::from_object(Self { node })))
    }

    fn get(this: &Arc<Self>, key: &JinjaValue) -> Option<JinjaValue> {
        let name = key.as_str()?;
        Self::child(this, |node| node.as_object()?.get(name))
    }
}

/// A JSON scalar as a MiniJinja value; `None` for arrays and objects.
fn scalar(node: &Value) -> Option<JinjaValue> {
    Some(match node {
        Value::Null => JinjaValue::from(()),
        Value::Bool(b) => JinjaValue::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => JinjaValue::from(i),
            (None, Some(u), _) => JinjaValue::from(u),
            (_, _, f) => JinjaValue::from(f.unwrap_or(f64::NAN)),
        },
        Value::String(s) => JinjaValue::from(s.as_str()),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

impl Object for JsonView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            Value::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &JinjaValue) -> Option<JinjaValue> {
        match self.node() {
            Value::Object(_) => Self::get(self, key),
            Value::Array(_) => {
                let index = key.as_usize()?;
                Self::child(self, |node| node.as_array()?.get(index))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Value::Object(map) => Enumerator::Values(map.keys().map(|k| JinjaValue::from(k.as_str())).collect()),
            Value::Array(items) => Enumerator::Seq(items.len()),
            _ => Enumerator::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_nested_json_arrays_and_extras() {
        let scope = Scope::with_extras(
            Arc::new(json!({"record": {"tags": ["a", "b"], "n": 3, "x": null}})),
            vec![("steps", json!({"notify": {"status": 202}}))],
        );
        let eval = |s: &str| Expression::compile(s).unwrap().eval(&scope).unwrap();
        assert_eq!(eval("record.tags[1]"), json!("b"));
        assert_eq!(eval("record.tags | length"), json!(2));
        assert_eq!(eval("record.n * 2"), json!(6));
        assert_eq!(eval("steps.notify.status"), json!(202));
        assert_eq!(eval("record"), json!({"tags": ["a", "b"], "n": 3, "x": null}));
        assert_eq!(eval("record.missing.deeper"), Value::Null);
        assert_eq!(eval("record.x is none"), json!(true));
    }

    #[test]
    fn deep_views_read_the_right_nodes_and_outlive_their_scope() {
        let document = json!({"a": {"items": [{"name": "x", "tags": ["p"]}, {"name": "y", "tags": ["q", "r"]}]}});
        let held = {
            let scope = Scope::new(document.clone());
            let eval = |s: &str| Expression::compile(s).unwrap().eval(&scope).unwrap();
            assert_eq!(eval("a.items[1].name"), json!("y"));
            assert_eq!(eval("a.items[1].tags[1]"), json!("r"));
            assert_eq!(eval("a.items | map(attribute='name') | join(',')"), json!("x,y"));
            assert_eq!(eval("a.items[2].name"), Value::Null, "past the end: undefined");
            assert_eq!(eval("a.items.name"), Value::Null, "a key of a list: undefined");
            Expression::compile("a.items[0]").unwrap().eval_raw(&scope).unwrap()
        };
        // The scope is gone; the view it handed out keeps its document alive.
        assert_eq!(to_json(&held).unwrap(), json!({"name": "x", "tags": ["p"]}));
    }

    #[test]
    fn runaway_evaluation_is_refused() {
        for source in ["(\"x\" * 1000000000) | length", "range(10000000) | length"] {
            let err = Expression::compile(source).unwrap().eval(&Scope::new(json!({}))).unwrap_err();
            assert!(err.message().contains("too large") || err.message().contains("too many"), "{source}: {err}");
        }
    }

    #[test]
    fn compile_errors_say_what_is_wrong() {
        let err = Expression::compile("record.status == ").unwrap_err();
        assert_eq!(err.field(), Some("expression"));
        assert!(err.message().contains("does not compile"), "{err}");
    }
}
