//! The expression language: MiniJinja's built-in filters, tests and functions, each held to the
//! evaluation's [budget](super::budget), plus the bounded operators the
//! [rewrite](super::rewrite) routes `*`, `~`, `+` and `in` through.
//!
//! Every filter and function call draws a small fixed charge and the size of what it returns.
//! Those that read their operands as text (`upper`, `split`, `string`, `format`, ...) — which
//! turns a list into its whole printed form — first measure that text without building it, and
//! those that can multiply their input (`replace`, `indent`, `join`, `batch`, `slice`, `*`,
//! `range`) work out the size of their result before building it. Left out, as nothing an
//! automation needs: `pprint`, `debug` and `namespace`.

use std::sync::LazyLock;

use minijinja::value::{Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, filters, functions, tests};

use super::FUEL;
use super::budget::{self, CALL, ITEM};

/// How a filter or test reads its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// As text: an operand that is not text yet is printed first, so its printed length is
    /// measured and charged before the call.
    Text,
    /// As values: only what the call returns is charged.
    Values,
}

/// The built-in filters the language keeps, and how each reads its operands.
fn builtin_filters() -> Vec<(&'static str, Value, Reads)> {
    use Reads::{Text, Values};
    vec![
        ("safe", Value::from_function(filters::safe), Text),
        ("escape", Value::from_function(filters::escape), Text),
        ("e", Value::from_function(filters::escape), Text),
        ("lower", Value::from_function(filters::lower), Text),
        ("upper", Value::from_function(filters::upper), Text),
        ("title", Value::from_function(filters::title), Text),
        ("capitalize", Value::from_function(filters::capitalize), Text),
        ("replace", Value::from_function(filters::replace), Text),
        ("length", Value::from_function(filters::length), Values),
        ("count", Value::from_function(filters::length), Values),
        ("dictsort", Value::from_function(filters::dictsort), Values),
        ("items", Value::from_function(filters::items), Values),
        ("reverse", Value::from_function(filters::reverse), Values),
        ("trim", Value::from_function(filters::trim), Text),
        ("join", Value::from_function(filters::join), Values),
        ("split", Value::from_function(filters::split), Text),
        ("lines", Value::from_function(filters::lines), Text),
        ("default", Value::from_function(filters::default), Values),
        ("d", Value::from_function(filters::default), Values),
        ("round", Value::from_function(filters::round), Values),
        ("abs", Value::from_function(filters::abs), Values),
        ("int", Value::from_function(filters::int), Values),
        ("float", Value::from_function(filters::float), Values),
        ("attr", Value::from_function(filters::attr), Values),
        ("first", Value::from_function(filters::first), Values),
        ("last", Value::from_function(filters::last), Values),
        ("min", Value::from_function(filters::min), Values),
        ("max", Value::from_function(filters::max), Values),
        ("sort", Value::from_function(filters::sort), Values),
        ("list", Value::from_function(filters::list), Values),
        ("string", Value::from_function(filters::string), Text),
        ("bool", Value::from_function(filters::bool), Values),
        ("batch", Value::from_function(filters::batch), Values),
        ("slice", Value::from_function(filters::slice), Values),
        ("sum", Value::from_function(filters::sum), Values),
        ("indent", Value::from_function(filters::indent), Text),
        ("select", Value::from_function(filters::select), Values),
        ("reject", Value::from_function(filters::reject), Values),
        ("selectattr", Value::from_function(filters::selectattr), Values),
        ("rejectattr", Value::from_function(filters::rejectattr), Values),
        ("map", Value::from_function(filters::map), Values),
        ("groupby", Value::from_function(filters::groupby), Values),
        ("unique", Value::from_function(filters::unique), Values),
        ("chain", Value::from_function(filters::chain), Values),
        ("zip", Value::from_function(filters::zip), Values),
        ("format", Value::from_function(filters::format), Text),
    ]
}

/// The built-in tests that read their operands as text (the others return a boolean and
/// build nothing, and are kept as they are).
fn text_tests() -> Vec<(&'static str, Value)> {
    vec![
        ("startingwith", Value::from_function(tests::is_startingwith)),
        ("endingwith", Value::from_function(tests::is_endingwith)),
        ("lower", Value::from_function(tests::is_lower)),
        ("upper", Value::from_function(tests::is_upper)),
        ("in", Value::from_function(tests::is_in)),
    ]
}

/// The environment every expression compiles against: fuel on, chainable undefined values, the
/// bounded language. Immutable once built.
pub(crate) static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for name in ["pprint", "tojson", "urlencode"] {
        env.remove_filter(name);
    }
    for name in ["debug", "namespace"] {
        env.remove_global(name);
    }
    for (name, inner, reads) in builtin_filters() {
        env.add_filter(name, move |state: &State, args: Rest<Value>| guarded(name, &inner, reads, state, &args));
    }
    for (name, inner) in text_tests() {
        env.add_test(name, move |state: &State, args: Rest<Value>| {
            guarded(name, &inner, Reads::Text, state, &args).map(|v| v.is_true())
        });
    }
    env.add_function("range", range);
    env.add_filter("__mul", |a: Value, b: Value| operator(Operator::Mul, a, b));
    env.add_filter("__add", |a: Value, b: Value| operator(Operator::Add, a, b));
    env.add_filter("__in", |a: Value, b: Value| operator(Operator::In, a, b));
    env.add_filter("__concat", concat);
    env
});

/// One call of a built-in filter or test within the budget.
fn guarded(name: &str, inner: &Value, reads: Reads, state: &State, args: &[Value]) -> Result<Value, Error> {
    budget::charge(CALL, name)?;
    if reads == Reads::Text {
        for arg in args.iter().filter(|a| a.as_str().is_none() && !a.is_kwargs() && !is_scalar(a)) {
            let len = budget::display_len(arg, budget::left())
                .ok_or_else(|| budget::too_large(&format!("the text of `{name}`'s operand")))?;
            budget::charge(len, name)?;
        }
    }
    if let Some(size) = predict(name, args)? {
        budget::charge(size, &format!("the result of `{name}`"))?;
    }
    let out = inner.call(state, args)?;
    budget::charge(budget::cost(&out), &format!("the result of `{name}`"))?;
    Ok(out)
}

/// Numbers, booleans, none and undefined print short.
fn is_scalar(value: &Value) -> bool {
    use minijinja::value::ValueKind;
    matches!(value.kind(), ValueKind::Number | ValueKind::Bool | ValueKind::None | ValueKind::Undefined)
}

/// The size of what the filters that can multiply their input would build, worked out before
/// they build it.
fn predict(name: &str, args: &[Value]) -> Result<Option<usize>, Error> {
    let text = |i: usize| args.get(i).and_then(Value::as_str);
    let kwarg = |key: &str| args.last().filter(|a| a.is_kwargs()).and_then(|k| k.get_attr(key).ok());
    let count = |v: Option<Value>| v.and_then(|v| v.as_usize());
    Ok(match name {
        "replace" => {
            let (Some(value), Some(from), Some(to)) = (text(0), text(1), text(2)) else { return Ok(None) };
            let hits = if from.is_empty() { value.chars().count() + 1 } else { value.matches(from).count() };
            Some(value.len().saturating_add(hits.saturating_mul(to.len())))
        }
        "indent" => {
            let width = count(args.get(1).cloned()).or_else(|| count(kwarg("width"))).unwrap_or(4);
            let lines = text(0).map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1);
            Some(lines.saturating_mul(width))
        }
        "join" => {
            let joiner = text(1).map_or(0, str::len);
            let Some(value) = args.first() else { return Ok(None) };
            let mut size = 0usize;
            if let Some(s) = value.as_str() {
                size = s.chars().count().saturating_mul(joiner.saturating_add(4));
            } else if let Ok(items) = value.try_iter() {
                for item in items {
                    let limit = budget::left().saturating_sub(size);
                    let len = budget::display_len(&item, limit).ok_or_else(|| budget::too_large("the joined text"))?;
                    size = size.saturating_add(len).saturating_add(joiner);
                    if size > budget::left() {
                        return Err(budget::too_large("the joined text"));
                    }
                }
            }
            Some(size)
        }
        "batch" | "slice" => count(args.get(1).cloned()).map(|n| n.saturating_mul(ITEM)),
        "list" => text(0).map(|s| s.chars().count().saturating_mul(ITEM)),
        "format" => {
            if let Some(format) = text(0) {
                check_format_widths(format)?;
            }
            None
        }
        _ => None,
    })
}

/// `format` pads to any width it is given: widths and precisions above 1,000 are refused.
fn check_format_widths(format: &str) -> Result<(), Error> {
    let mut digits = 0usize;
    let mut in_spec = false;
    for c in format.chars() {
        if c == '%' {
            in_spec = !in_spec;
            digits = 0;
        } else if in_spec && c.is_ascii_digit() {
            digits += 1;
            if digits > 3 {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "format widths and precisions above 999 are not supported",
                ));
            }
        } else if in_spec && c == '.' {
            digits = 0;
        } else if in_spec && c.is_ascii_alphabetic() {
            in_spec = false;
        }
    }
    Ok(())
}

/// `range`, its items charged before they are made.
fn range(lower: isize, upper: Option<isize>, step: Option<isize>) -> Result<Value, Error> {
    budget::charge(CALL, "range")?;
    let (start, end) = match upper {
        Some(upper) => (lower, upper),
        None => (0, lower),
    };
    let step = step.unwrap_or(1);
    let span = end.saturating_sub(start).unsigned_abs();
    let items = if step == 0 { 0 } else { span / step.unsigned_abs() };
    budget::charge(items.saturating_mul(ITEM), "the range")?;
    functions::range(lower, upper, Some(step))
}

/// `a ~ b`: the two printed one after the other, within the budget.
fn concat(a: Value, b: Value) -> Result<Value, Error> {
    use std::fmt::Write as _;
    budget::charge(CALL, "~")?;
    let mut text = budget::Bounded::keeping(budget::left());
    write!(text, "{a}{b}").map_err(|_| budget::too_large("the text `~` builds"))?;
    budget::charge(text.len, "the text `~` builds")?;
    Ok(Value::from(text.text.unwrap_or_default()))
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    Mul,
    Add,
    In,
}

/// MiniJinja's own operators, for [`operator`] to run once their result is known to fit.
static PLAIN: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::empty();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env
});

/// `a * b`, `a + b` and `a in b`, compiled once.
static OPERATORS: LazyLock<Vec<minijinja::Expression<'static, 'static>>> = LazyLock::new(|| {
    ["a * b", "a + b", "a in b"].into_iter().filter_map(|source| PLAIN.compile_expression_owned(source).ok()).collect()
});

fn operator(op: Operator, a: Value, b: Value) -> Result<Value, Error> {
    let symbol = match op {
        Operator::Mul => "*",
        Operator::Add => "+",
        Operator::In => "in",
    };
    budget::charge(CALL, symbol)?;
    let size = |v: &Value| v.as_str().map(str::len).or_else(|| v.len().map(|n| n.saturating_mul(ITEM)));
    match op {
        Operator::Mul => {
            let times = a.as_usize().or_else(|| b.as_usize());
            let repeated = if a.as_usize().is_some() { size(&b) } else { size(&a) };
            if let (Some(times), Some(unit)) = (times, repeated) {
                budget::charge(unit.saturating_mul(times), "the repetition `*` builds")?;
            }
        }
        Operator::Add => {
            if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                budget::charge(x.len().saturating_add(y.len()), "the text `+` builds")?;
            }
        }
        Operator::In => {
            if b.as_str().is_some() && a.as_str().is_none() && !is_scalar(&a) {
                let len = budget::display_len(&a, budget::left())
                    .ok_or_else(|| budget::too_large("the text `in` looks for"))?;
                budget::charge(len, "in")?;
            }
        }
    }
    let expression = OPERATORS
        .get(op as usize)
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("`{symbol}` is not available")))?;
    expression.eval(minijinja::context! { a => a, b => b })
}
