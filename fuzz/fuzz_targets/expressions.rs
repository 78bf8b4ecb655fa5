//! Arbitrary text as an automation expression and as a template: compiling either refuses it
//! or yields something that evaluates to a value or an error — never a panic, a stack overflow
//! or an allocation past the evaluation's budget.
//!
//! `cargo fuzz run expressions` (from this folder).

#![no_main]

use integration_automation::template::Template;
use integration_automation::{Expression, Scope};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let scope = Scope::new(json!({"record": {"name": "Ada", "tags": ["a", "b"], "n": 3}}));
    if let Ok(expression) = Expression::compile(text) {
        let _ = expression.eval(&scope);
    }
    if let Ok(template) = Template::compile(&json!({ "t": text })) {
        let _ = template.render(&scope);
    }
});
