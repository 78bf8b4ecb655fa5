//! Step inputs: JSON in which strings may hold `{{ expression }}`s.
//!
//! - A string that is exactly one `{{ expression }}` takes the expression's value with its type
//!   (a number stays a number, an object an object).
//! - A string with text around expressions renders to a string.
//! - Everything else is kept as written.
//!
//! Expressions compile when the template is built, so a bad one is refused at load time.
//!
//! ```
//! use integration_automation::expression::Scope;
//! use integration_automation::template::Template;
//! use serde_json::json;
//!
//! let input = Template::compile(&json!({
//!     "employee_id": "{{ remote_id }}",
//!     "note": "{{ record.name }} left on {{ record.end }}",
//!     "count": "{{ record.tags | length }}",
//!     "fixed": true,
//! }))
//! .unwrap();
//! let scope = Scope::new(json!({"remote_id": "42", "record": {"name": "Ada", "end": "2026-11-30", "tags": [1, 2]}}));
//! assert_eq!(
//!     input.render(&scope).unwrap(),
//!     json!({"employee_id": "42", "note": "Ada left on 2026-11-30", "count": 2, "fixed": true})
//! );
//! ```

use std::fmt::Write as _;

use integration_core::{Error, Result};
use serde_json::{Map, Value};

use crate::expression::budget::Bounded;
use crate::expression::{Expression, MAX_OUTPUT, Scope};

/// A compiled input template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    Typed(Expression),
    Text(Vec<Part>),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expression(Expression),
}

/// What a template value will be once rendered, as far as can be known before running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape<'a> {
    /// Known now.
    Literal(&'a Value),
    /// A string, whatever the expressions give.
    Text,
    /// Only known at run time.
    Dynamic,
}

impl Template {
    /// Compiles `value`'s expressions; the error names the JSON path of a bad one.
    pub fn compile(value: &Value) -> Result<Self> {
        Ok(Self { root: compile_node(value, "input")? })
    }

    /// Renders the template in `scope`.
    pub fn render(&self, scope: &Scope) -> Result<Value> {
        render_node(&self.root, scope)
    }

    /// The shape of the top-level field `name`, when the template is an object holding it.
    pub(crate) fn field(&self, name: &str) -> Option<Shape<'_>> {
        let Node::Object(fields) = &self.root else { return None };
        fields.iter().find(|(k, _)| k == name).map(|(_, node)| match node {
            Node::Literal(v) => Shape::Literal(v),
            Node::Text(_) => Shape::Text,
            _ => Shape::Dynamic,
        })
    }

    /// The names of the top-level fields, when the template is an object.
    pub(crate) fn field_names(&self) -> Option<impl Iterator<Item = &str>> {
        match &self.root {
            Node::Object(fields) => Some(fields.iter().map(|(k, _)| k.as_str())),
            _ => None,
        }
    }

    /// Whether the template is a JSON object (or could render to one).
    pub(crate) fn is_object_like(&self) -> bool {
        matches!(self.root, Node::Object(_) | Node::Typed(_))
    }
}

fn compile_node(value: &Value, path: &str) -> Result<Node> {
    Ok(match value {
        Value::String(s) if s.contains("{{") || s.contains("{%") => compile_text(s, path)?,
        Value::Object(map) => Node::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), compile_node(v, &format!("{path}.{k}"))?)))
                .collect::<Result<_>>()?,
        ),
        Value::Array(items) => Node::Array(
            items.iter().enumerate().map(|(i, v)| compile_node(v, &format!("{path}[{i}]"))).collect::<Result<_>>()?,
        ),
        other => Node::Literal(other.clone()),
    })
}

fn compile_text(text: &str, path: &str) -> Result<Node> {
    if text.contains("{%") {
        return Err(Error::validation(
            path,
            "`{% ... %}` blocks are not supported in step inputs; use `{{ expression }}`, or a branch step",
        ));
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            return Err(Error::validation(path, format!("`{{{{` without a closing `}}}}` in {text:?}")));
        };
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let source = rest[start + 2..start + 2 + len].trim();
        let expression = Expression::compile(source).map_err(|e| Error::validation(path, e.message()))?;
        parts.push(Part::Expression(expression));
        rest = &rest[start + 2 + len + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(match parts.as_slice() {
        [Part::Expression(e)] => Node::Typed(e.clone()),
        _ => Node::Text(parts),
    })
}

fn render_node(node: &Node, scope: &Scope) -> Result<Value> {
    Ok(match node {
        Node::Literal(v) => v.clone(),
        Node::Typed(e) => e.eval(scope)?,
        Node::Text(parts) => {
            // Written through a bound: a value's printed form (a long list, say) is never built
            // past the largest text a template may render.
            let mut out = Bounded::keeping(MAX_OUTPUT);
            let too_large = || {
                Error::validation("input", format!("the rendered text is larger than the {MAX_OUTPUT} bytes allowed"))
            };
            for part in parts {
                match part {
                    Part::Text(t) => out.write_str(t).map_err(|_| too_large())?,
                    Part::Expression(e) => {
                        let value = e.eval_raw(scope)?;
                        if !value.is_undefined() && !value.is_none() {
                            write!(out, "{value}").map_err(|_| too_large())?;
                        }
                    }
                }
            }
            Value::String(out.text.unwrap_or_default())
        }
        Node::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (k, v) in fields {
                map.insert(k.clone(), render_node(v, scope)?);
            }
            Value::Object(map)
        }
        Node::Array(items) => Value::Array(items.iter().map(|n| render_node(n, scope)).collect::<Result<_>>()?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_expressions_and_blocks_are_refused_with_their_path() {
        let err = Template::compile(&json!({"a": {"b": ["ok", "{{ x == }}"]}})).unwrap_err();
        assert_eq!(err.field(), Some("input.a.b[1]"));
        let err = Template::compile(&json!({"a": "{% if x %}y{% endif %}"})).unwrap_err();
        assert!(err.message().contains("not supported"), "{err}");
        let err = Template::compile(&json!({"a": "{{ x "})).unwrap_err();
        assert!(err.message().contains("closing"), "{err}");
    }

    #[test]
    fn missing_values_render_empty_in_text_and_null_when_typed() {
        let t = Template::compile(&json!({"t": "id={{ nothing.here }}", "v": "{{ nothing }}"})).unwrap();
        assert_eq!(t.render(&Scope::new(json!({}))).unwrap(), json!({"t": "id=", "v": null}));
    }
}
