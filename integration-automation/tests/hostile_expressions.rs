//! Expressions written to hurt: chains long enough to overflow the parser's stack (which
//! aborts the whole process, so each is refused at load time with the field named), and
//! expressions that stay within MiniJinja's fuel while building hundreds of megabytes (each now
//! fails with "too large" instead). Ordinary expressions evaluate as plain MiniJinja does.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use integration_automation::action::Actions;
use integration_automation::http_request::{HostPolicy, HttpRequest};
use integration_automation::template::Template;
use integration_automation::{Expression, Scope, load};
use integration_core::ErrorKind;
use serde_json::{Value, json};

fn actions() -> Actions {
    Actions::new().with(Arc::new(HttpRequest::new(HostPolicy::new().allow_host("hooks.example.com")))).unwrap()
}

/// The long chains of the hostile test suite, each about 40 KB.
fn chains() -> Vec<(&'static str, String)> {
    vec![
        ("not", "not ".repeat(10_000) + "true"),
        ("minus", "- ".repeat(20_000) + "1"),
        ("filters", "x".to_owned() + &"|upper".repeat(5_000)),
        ("concatenation", "a".to_owned() + &" ~ a".repeat(10_000)),
        ("attributes", "record".to_owned() + &".a".repeat(20_000)),
    ]
}

fn definition(when: &str, note: &str) -> String {
    json!({
        "id": "hostile",
        "trigger": { "record_change": { "stream": "employees" } },
        "when": when,
        "steps": [ { "action": "http.request", "input": { "url": "https://hooks.example.com/x", "body": { "note": note } } } ],
    })
    .to_string()
}

#[test]
fn a_long_chain_in_a_condition_is_refused_at_load_naming_the_field() {
    for (name, chain) in chains() {
        let err = load::from_json(&definition(&chain, "fine"), &actions()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation, "{name}: {err}");
        assert_eq!(err.field(), Some("when"), "{name}: {err}");
        assert!(err.message().contains("split it") || err.message().contains("bytes long"), "{name}: {err}");
    }
}

#[test]
fn a_long_chain_in_a_template_is_refused_at_load_naming_the_field() {
    for (name, chain) in chains() {
        let err = load::from_json(&definition("true", &format!("{{{{ {chain} }}}}")), &actions()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation, "{name}: {err}");
        assert_eq!(err.field(), Some("steps[0]"), "{name}: {err}");
        assert!(err.message().contains("input.body.note: the expression is"), "{name}: {err}");
    }
    // The same through TOML.
    let text = format!(
        "id = \"x\"\ntrigger = {{ record_change = {{ stream = \"employees\" }} }}\nwhen = \"{}\"\nsteps = [ {{ delay = \"1m\" }} ]\n",
        "not ".repeat(10_000) + "true"
    );
    let err = load::from_toml(&text, &actions()).unwrap_err();
    assert_eq!(err.field(), Some("when"), "{err}");
}

/// The longest chain of each kind that is accepted still compiles, evaluates and is dropped on
/// a small stack: 128 KiB in a release build, 1 MiB in a debug build (whose frames are several
/// times larger) — a tokio worker has 2 MiB.
#[test]
fn the_longest_accepted_chains_run_on_a_small_stack() {
    let n = integration_automation::expression::shape::MAX_OPERATORS - 2;
    let cases = vec![
        ("not ".repeat(n) + "true", json!(true)),
        ("- ".repeat(n) + "1", json!(1)),
        ("'x'".to_owned() + &"|upper".repeat(n), json!("X")),
        ("'a'".to_owned() + &" ~ 'a'".repeat(n), json!("a".repeat(n + 1))),
        ("record".to_owned() + &".a".repeat(n), Value::Null),
        ("(".repeat(31) + "1" + &")".repeat(31), json!(1)),
    ];
    let worker = std::thread::Builder::new().stack_size(if cfg!(debug_assertions) { 1024 } else { 128 } * 1024).spawn(
        move || {
            let scope = Scope::new(json!({"record": {"a": {}}}));
            cases
                .into_iter()
                .map(|(source, expected)| {
                    let value = Expression::compile(&source).and_then(|e| e.eval(&scope));
                    (source.chars().take(12).collect::<String>(), value.map_err(|e| e.to_string()), expected)
                })
                .collect::<Vec<_>>()
        },
    );
    for (start, value, expected) in worker.unwrap().join().unwrap() {
        assert_eq!(value, Ok(expected), "{start}...");
    }
}

fn evaluated(source: &str) -> Result<Value, integration_core::Error> {
    Expression::compile(source)?.eval(&Scope::new(json!({"record": {"name": "Ada", "notes": "n".repeat(200_000)}})))
}

fn too_large(source: &str) {
    let err = match evaluated(source) {
        Ok(value) => panic!("{source}: evaluated to {} bytes of JSON", value.to_string().len()),
        Err(err) => err,
    };
    assert!(err.message().contains("too large") || err.message().contains("larger than"), "{source}: {err}");
}

#[test]
fn values_built_within_the_fuel_are_bounded_too() {
    // The cases of the hostile suite: doubling with replace (256 MB in 35 s before), `~` of two
    // 100 MB repeats, a 90 MB join of a range.
    too_large(&(r#"("x" * 1000000)"#.to_owned() + &r#" | replace("x", "xx")"#.repeat(8)));
    too_large(r#"("x" * 100000000) ~ ("y" * 100000000)"#);
    too_large(r#"range(99999) | join("-------------------------------------------")"#);
    // Others of the same family.
    too_large(r#"([record.notes] * 1000) | join"#);
    too_large(r#"([record.notes] * 100) | string"#);
    too_large(r#"([record.notes] * 100) | upper"#);
    too_large(r#"([record.notes] * 100) ~ """#);
    too_large(r#"([record.notes] * 100) in "a""#);
    too_large(r#"record.notes | replace("n", "\n") | indent(1000)"#);
    too_large(r#"[1] | batch(100000000, 0) | list"#);
    too_large(r#"range(10000) | map("string") | map("indent", 900) | list"#);
    too_large(
        r#"record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes ~ record.notes"#,
    );
    // A result larger than a result may be.
    too_large(r#"[record.notes, record.notes, record.notes, record.notes, record.notes, record.notes]"#);
    let err = evaluated(r#""%99999999s" | format("x")"#).unwrap_err();
    assert!(err.message().contains("above 999"), "{err}");
    assert!(evaluated("debug()").is_err(), "debug() prints the whole scope: not in the language");
}

#[test]
fn a_template_renders_at_most_its_output_limit() {
    let template = Template::compile(&json!({ "text": "{{ record.notes }}{{ record.notes }}{{ record.notes }}{{ record.notes }}{{ record.notes }}{{ record.notes }}" })).unwrap();
    let scope = Scope::new(json!({"record": {"notes": "n".repeat(200_000)}}));
    let err = template.render(&scope).unwrap_err();
    assert!(err.message().contains("larger than"), "{err}");
    let template = Template::compile(&json!({ "text": "{{ record.notes }}!" })).unwrap();
    assert_eq!(template.render(&scope).unwrap()["text"].as_str().map(str::len), Some(200_001));
}

/// The bounded language means what MiniJinja means: the rewritten operators and the wrapped
/// filters give the plain environment's results.
#[test]
fn ordinary_expressions_mean_what_plain_minijinja_means() {
    let mut plain = minijinja::Environment::new();
    plain.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    let data = json!({
        "record": {"name": "Ada Lovelace", "tags": ["a", "b"], "pay": {"amount": 5000, "rate": 1.5},
                   "department": "R&D", "status": "active", "notes": "line one\nline two"},
        "previous": {"status": "leave"},
    });
    for source in [
        "record.pay.amount * 12",
        "record.pay.rate * 2",
        "'-' * 10",
        "3 * 'ab'",
        "record.tags * 2",
        "record.name ~ ' (' ~ record.department ~ ')'",
        "record.missing ~ 'x'",
        "1 + 2 * 3",
        "record.tags + ['c']",
        "'R' in record.department",
        "'c' not in record.tags",
        "record.status in ['active', 'leave'] and previous.status not in ['active']",
        "(record.pay.amount + 500) * 12 >= 60000",
        "record.name | upper | replace('A', 'a')",
        "record.tags | join(', ')",
        "record.name | split(' ') | first",
        "record.notes | indent(2)",
        "range(5) | join('')",
        "range(2, 10, 3) | list",
        "record.tags | map('upper') | list",
        "record.name | length > 3",
        "'%s is %d' | format(record.name, 36)",
        "record.name is startingwith('Ada')",
        "[1, 2, 3] | batch(2, 0) | list",
        "record | dictsort | first",
        "record.tags[0] ~ record.tags[1:] | join",
        "not record.missing and record.name.split is undefined",
    ] {
        let ours = Expression::compile(source).unwrap().eval(&Scope::new(data.clone())).unwrap();
        let theirs = plain.compile_expression(source).unwrap().eval(&data).unwrap();
        let theirs: Value = if theirs.is_undefined() { Value::Null } else { serde_json::to_value(&theirs).unwrap() };
        assert_eq!(ours, theirs, "{source}");
    }
}

mod same_meaning {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use integration_automation::{Expression, Scope};

    fn data() -> Value {
        json!({"record": {"name": "Ada", "tags": ["a", "b"], "n": 3, "x": 2.5, "none": null}})
    }

    /// Random expressions over the operators the rewrite touches and those around them.
    fn expression() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("record.name".to_owned()),
            Just("record.tags".to_owned()),
            Just("record.n".to_owned()),
            Just("record.x".to_owned()),
            Just("record.none".to_owned()),
            Just("record.missing".to_owned()),
            Just("2".to_owned()),
            Just("-1".to_owned()),
            Just("'ab'".to_owned()),
            Just("[1, 'a']".to_owned()),
            Just("true".to_owned()),
        ];
        atom.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(vec!["~", "*", "+", "-", "in", "not in", "==", "and", "or", "<"]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                (inner.clone(), prop::sample::select(vec!["~", "*", "+", "in"]), inner.clone())
                    .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
                // In parentheses: MiniJinja reads a bare `not` after `~` as a variable named `not`.
                inner.clone().prop_map(|a| format!("(not {a})")),
                inner.clone().prop_map(|a| format!("-{a}")),
                inner.clone().prop_map(|a| format!("({a})|string|upper")),
                inner.clone().prop_map(|a| format!("[{a}]|length")),
                (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| format!("{a} if {b} else {c}")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn the_bounded_language_agrees_with_plain_minijinja(source in expression()) {
            let mut plain = minijinja::Environment::new();
            plain.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
            let theirs = plain.compile_expression(&source).and_then(|e| e.eval(data()));
            let ours = Expression::compile(&source).and_then(|e| e.eval(&Scope::new(data())));
            match (theirs, ours) {
                (Ok(theirs), Ok(ours)) => {
                    let theirs = if theirs.is_undefined() { Value::Null } else { serde_json::to_value(&theirs).unwrap() };
                    prop_assert_eq!(ours, theirs, "{}", source);
                }
                (Err(_), Err(_)) => {}
                // Refused on purpose: `in` within a chain of comparisons.
                (Ok(_), Err(ours)) if ours.message().contains("chain of comparisons") => {}
                (Ok(theirs), Err(ours)) => prop_assert!(false, "{source}: plain gave {theirs:?}, ours failed: {ours}"),
                (Err(theirs), Ok(ours)) => prop_assert!(false, "{source}: plain failed ({theirs}), ours gave {ours}"),
            }
        }
    }
}
