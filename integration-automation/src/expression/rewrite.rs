//! The operators that can build large values, routed through bounded filters.
//!
//! MiniJinja's own `*` repeats a string up to 100 MB, `~` and `+` concatenate whatever they are
//! given, and `in` turns a list into text to look for a substring in it — all inside the VM,
//! where no filter or limit can intervene. So an expression is parsed (MiniJinja's own parser,
//! through its `unstable_machinery` API, hence the exact version pin), and each such operator is
//! rewritten into a call of a bounded filter of the same meaning ([`language`](super::language)),
//! working on the source text by the spans the parser reports:
//!
//! | written | evaluated as |
//! |---|---|
//! | `a * b` | `a\|__mul(b)` |
//! | `a ~ b ~ c` | `a\|__concat(b)\|__concat(c)` |
//! | `a + b` | `a\|__add(b)` |
//! | `a not in b` | `(not a\|__in(b))` |
//! | `-a * b` | `(-a)\|__mul(b)` |
//!
//! A filter binds more tightly than any operator, so the call stands where the operator
//! expression stood without changing how it combines with what surrounds it.
//!
//! Filters, unlike functions, are never looked up in the scope, so trigger data cannot shadow
//! them. Other operators (comparison, `-`, `/`, `//`, `%`, `**`) build nothing larger than
//! their operands.

use minijinja::machinery::ast::{BinOpKind, CallArg, CompareOpKind, Expr, UnaryOpKind};
use minijinja::machinery::parse_expr;

/// A span of the source to replace with `left|filter(right)`.
struct Call {
    start: usize,
    end: usize,
    /// `x not in y`: the `not` sits between the operands, so it is written out again.
    negated: bool,
    filter: &'static str,
    left: (usize, usize),
    /// Whether the left operand needs parentheses before `|` (it binds more loosely than a
    /// filter: `-a`, `a is b`, `not a`, a comparison). A left operand that is itself rewritten
    /// is a filter call already, so `a ~ b ~ c` becomes `a|__concat(b)|__concat(c)`, which
    /// MiniJinja parses in a loop rather than by recursion.
    bracket_left: bool,
    right: (usize, usize),
}

/// `source` with its growing operators rewritten; `Ok(None)` when it has none. A syntax error
/// is MiniJinja's.
///
/// The rewritten text is parsed again and its tree compared with the original's, the bounded
/// filters read as the operators they stand for: an expression whose rewrite would mean
/// anything else is refused, never evaluated with another meaning.
pub(crate) fn rewrite(source: &str) -> Result<Option<String>, minijinja::Error> {
    let expr = parse_expr(source)?;
    let mut calls = Vec::new();
    collect(source, &expr, &mut calls)?;
    if calls.is_empty() {
        return Ok(None);
    }
    // Outer spans first where two start together (`a ~ b ~ c`: the outer `~` covers the inner).
    calls.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    let mut out = String::with_capacity(source.len() + 24 * calls.len());
    emit(source, &calls, (0, source.len()), &mut out);
    let same = parse_expr(&out).is_ok_and(|again| {
        let (mut before, mut after) = (String::new(), String::new());
        shape_of(&expr, &mut before);
        shape_of(&again, &mut after);
        before == after
    });
    if !same {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::SyntaxError,
            "this combination of operators cannot be evaluated within the expression limits; add parentheses or split it",
        ));
    }
    Ok(Some(out))
}

/// The smallest range covering both.
fn join((a, b): (usize, usize), (c, d): (usize, usize)) -> (usize, usize) {
    (a.min(c), b.max(d))
}

fn span(expr: &Expr<'_>) -> (usize, usize) {
    let span = expr.span();
    (span.start_offset as usize, span.end_offset as usize)
}

/// `range` with the parentheses that enclose exactly it: an operand written `(a + b)` keeps
/// its parentheses when it is moved.
fn widen(source: &str, (mut start, mut end): (usize, usize)) -> (usize, usize) {
    loop {
        let before = source.get(..start).unwrap_or_default().trim_end();
        let after = source.get(end..).unwrap_or_default().trim_start();
        if before.ends_with('(') && after.starts_with(')') {
            start = before.len() - 1;
            end = source.len() - after.len() + 1;
        } else {
            return (start, end);
        }
    }
}

/// Appends `range` of `source` to `out`, with every call that starts in it (and is not inside
/// another one there) written as a filter call.
fn emit(source: &str, calls: &[Call], (start, end): (usize, usize), out: &mut String) {
    let mut at = start;
    for call in calls.iter().filter(|c| c.start >= start && c.end <= end) {
        if call.start < at {
            continue; // inside a call already written
        }
        out.push_str(source.get(at..call.start).unwrap_or_default());
        out.push_str(if call.negated { "(not " } else { "" });
        out.push_str(if call.bracket_left { "(" } else { "" });
        emit(source, calls, call.left, out);
        out.push_str(if call.bracket_left { ")|" } else { "|" });
        out.push_str(call.filter);
        out.push('(');
        emit(source, calls, call.right, out);
        out.push_str(if call.negated { "))" } else { ")" });
        at = call.end;
    }
    out.push_str(source.get(at..end).unwrap_or_default());
}

/// The bounded filter standing for an operator.
fn filter_for(op: &BinOpKind) -> Option<&'static str> {
    match op {
        BinOpKind::Mul => Some("__mul"),
        BinOpKind::Concat => Some("__concat"),
        BinOpKind::Add => Some("__add"),
        BinOpKind::In => Some("__in"),
        _ => None,
    }
}

/// Walks the tree, noting the operators to rewrite; returns the range of the source `expr` is
/// written in.
///
/// A node's own span is not always its text: comparisons (and so `in`), conditional
/// expressions and tests start theirs at the token *before* their first operand. So a node's
/// range starts at its first operand's, and only leaves, lists, maps, prefix operators and
/// postfix operations (whose spans start at their own first token) contribute their own start.
fn collect(source: &str, expr: &Expr<'_>, calls: &mut Vec<Call>) -> Result<(usize, usize), minijinja::Error> {
    let own = span(expr);
    let end_only = (usize::MAX, own.1);
    // An operand's range counts with the parentheses around it, so a node's range is whole.
    let sub = |e: &Expr<'_>, calls: &mut Vec<Call>| collect(source, e, calls).map(|r| widen(source, r));
    Ok(match expr {
        Expr::Var(_) | Expr::Const(_) => own,
        Expr::Slice(s) => {
            let mut range = join(own, sub(&s.expr, calls)?);
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                range = join(range, sub(part, calls)?);
            }
            range
        }
        Expr::UnaryOp(u) => {
            let inner = sub(&u.expr, calls)?;
            // `x not in y` parses as `not (x in y)`, the `not` written between the operands;
            // `not x in y` parses the same, the `not` written before them.
            let between = |c: &Call| source.get(c.left.1..c.right.0).unwrap_or_default().contains("not");
            if matches!(u.op, UnaryOpKind::Not)
                && let Expr::BinOp(b) = &u.expr
                && matches!(b.op, BinOpKind::In)
                && let Some(call) = calls.last_mut().filter(|c| between(c))
            {
                call.negated = true;
                inner
            } else {
                join(own, inner)
            }
        }
        Expr::BinOp(b) => {
            let (left, right) = (collect(source, &b.left, calls)?, collect(source, &b.right, calls)?);
            let range = join(end_only, join(widen(source, left), widen(source, right)));
            if let Some(filter) = filter_for(&b.op) {
                let bracket_left = match &b.left {
                    Expr::BinOp(inner) => filter_for(&inner.op).is_none(),
                    Expr::UnaryOp(_) | Expr::Compare(_) | Expr::IfExpr(_) | Expr::Test(_) => true,
                    _ => false,
                };
                // An operand already in parentheses keeps them and needs no more.
                let (bare, left, right) = (left, widen(source, left), widen(source, right));
                let bracket_left = bracket_left && left == bare;
                calls.push(Call { start: left.0, end: right.1, negated: false, filter, left, bracket_left, right });
            }
            range
        }
        Expr::Compare(c) => {
            if c.ops.iter().any(|op| matches!(op.op, CompareOpKind::In | CompareOpKind::NotIn)) {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::SyntaxError,
                    "`in` inside a chain of comparisons (`a < b in c`) is not supported; join the comparisons with `and`",
                ));
            }
            let mut range = join(end_only, sub(&c.expr, calls)?);
            for op in &c.ops {
                range = join(range, sub(&op.expr, calls)?);
            }
            range
        }
        Expr::IfExpr(i) => {
            let mut range = join(end_only, sub(&i.test_expr, calls)?);
            range = join(range, sub(&i.true_expr, calls)?);
            if let Some(e) = &i.false_expr {
                range = join(range, sub(e, calls)?);
            }
            range
        }
        Expr::Filter(f) => {
            let mut range = own;
            if let Some(e) = &f.expr {
                range = join(range, sub(e, calls)?);
            }
            join(range, collect_args(source, &f.args, calls)?)
        }
        Expr::Test(t) => {
            let range = join(end_only, sub(&t.expr, calls)?);
            join(range, collect_args(source, &t.args, calls)?)
        }
        Expr::GetAttr(g) => join(own, sub(&g.expr, calls)?),
        Expr::GetItem(g) => {
            let range = join(own, sub(&g.expr, calls)?);
            join(range, sub(&g.subscript_expr, calls)?)
        }
        Expr::Call(c) => {
            let range = join(own, sub(&c.expr, calls)?);
            join(range, collect_args(source, &c.args, calls)?)
        }
        Expr::List(l) => {
            let mut range = own;
            for item in &l.items {
                range = join(range, sub(item, calls)?);
            }
            range
        }
        Expr::Map(m) => {
            let mut range = own;
            for item in m.keys.iter().chain(&m.values) {
                range = join(range, sub(item, calls)?);
            }
            range
        }
    })
}

fn collect_args(source: &str, args: &[CallArg<'_>], calls: &mut Vec<Call>) -> Result<(usize, usize), minijinja::Error> {
    let mut range = (usize::MAX, 0);
    for arg in args {
        match arg {
            CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => {
                range = join(range, widen(source, collect(source, e, calls)?));
            }
        }
    }
    Ok(range)
}

/// The tree's structure as text, the bounded filters written as the operators they stand for:
/// equal for an expression and its rewrite exactly when they mean the same.
fn shape_of(expr: &Expr<'_>, out: &mut String) {
    use std::fmt::Write as _;
    let all = |exprs: &[&Expr<'_>], out: &mut String| {
        for e in exprs {
            out.push(' ');
            shape_of(e, out);
        }
    };
    match expr {
        Expr::Var(v) => {
            let _ = write!(out, "(var {})", v.id);
        }
        Expr::Const(c) => {
            let _ = write!(out, "(const {:?})", c.value);
        }
        Expr::Slice(s) => {
            out.push_str("(slice");
            all(&[&s.expr], out);
            for part in [&s.start, &s.stop, &s.step] {
                match part {
                    Some(e) => all(&[e], out),
                    None => out.push_str(" -"),
                }
            }
            out.push(')');
        }
        Expr::UnaryOp(u) => {
            let _ = write!(out, "({}", if matches!(u.op, UnaryOpKind::Not) { "not" } else { "neg" });
            all(&[&u.expr], out);
            out.push(')');
        }
        Expr::BinOp(b) => {
            let _ = write!(out, "(op {}", binop_name(&b.op));
            all(&[&b.left, &b.right], out);
            out.push(')');
        }
        Expr::Compare(c) => {
            out.push_str("(compare");
            all(&[&c.expr], out);
            for op in &c.ops {
                let _ = write!(out, " {}", compare_name(&op.op));
                all(&[&op.expr], out);
            }
            out.push(')');
        }
        Expr::IfExpr(i) => {
            out.push_str("(if");
            all(&[&i.test_expr, &i.true_expr], out);
            if let Some(e) = &i.false_expr {
                all(&[e], out);
            }
            out.push(')');
        }
        Expr::Filter(f) => {
            let operator = ["__mul", "__concat", "__add", "__in"].iter().position(|n| *n == f.name);
            match (operator, &f.expr, f.args.as_slice()) {
                (Some(i), Some(left), [CallArg::Pos(right)]) => {
                    let name = ["mul", "concat", "add", "in"][i];
                    let _ = write!(out, "(op {name}");
                    all(&[left, right], out);
                    out.push(')');
                }
                _ => {
                    let _ = write!(out, "(filter {}", f.name);
                    if let Some(e) = &f.expr {
                        all(&[e], out);
                    }
                    args_shape(&f.args, out);
                    out.push(')');
                }
            }
        }
        Expr::Test(t) => {
            let _ = write!(out, "(test {}", t.name);
            all(&[&t.expr], out);
            args_shape(&t.args, out);
            out.push(')');
        }
        Expr::GetAttr(g) => {
            let _ = write!(out, "(attr {}", g.name);
            all(&[&g.expr], out);
            out.push(')');
        }
        Expr::GetItem(g) => {
            out.push_str("(item");
            all(&[&g.expr, &g.subscript_expr], out);
            out.push(')');
        }
        Expr::Call(c) => {
            out.push_str("(call");
            all(&[&c.expr], out);
            args_shape(&c.args, out);
            out.push(')');
        }
        Expr::List(l) => {
            out.push_str("(list");
            for item in &l.items {
                all(&[item], out);
            }
            out.push(')');
        }
        Expr::Map(m) => {
            out.push_str("(map");
            for (k, v) in m.keys.iter().zip(&m.values) {
                all(&[k, v], out);
            }
            out.push(')');
        }
    }
}

fn args_shape(args: &[CallArg<'_>], out: &mut String) {
    for arg in args {
        let (mark, e) = match arg {
            CallArg::Pos(e) => ("", e),
            CallArg::Kwarg(name, e) => (*name, e),
            CallArg::PosSplat(e) => ("*", e),
            CallArg::KwargSplat(e) => ("**", e),
        };
        out.push_str(" (arg ");
        out.push_str(mark);
        out.push(' ');
        shape_of(e, out);
        out.push(')');
    }
}

fn binop_name(op: &BinOpKind) -> &'static str {
    match op {
        BinOpKind::Eq => "eq",
        BinOpKind::Ne => "ne",
        BinOpKind::Lt => "lt",
        BinOpKind::Lte => "lte",
        BinOpKind::Gt => "gt",
        BinOpKind::Gte => "gte",
        BinOpKind::ScAnd => "and",
        BinOpKind::ScOr => "or",
        BinOpKind::Add => "add",
        BinOpKind::Sub => "sub",
        BinOpKind::Mul => "mul",
        BinOpKind::Div => "div",
        BinOpKind::FloorDiv => "floordiv",
        BinOpKind::Rem => "rem",
        BinOpKind::Pow => "pow",
        BinOpKind::Concat => "concat",
        BinOpKind::In => "in",
    }
}

fn compare_name(op: &CompareOpKind) -> &'static str {
    match op {
        CompareOpKind::Eq => "eq",
        CompareOpKind::Ne => "ne",
        CompareOpKind::Lt => "lt",
        CompareOpKind::Lte => "lte",
        CompareOpKind::Gt => "gt",
        CompareOpKind::Gte => "gte",
        CompareOpKind::In => "in",
        CompareOpKind::NotIn => "notin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        rewrite(source).ok().flatten().unwrap_or_else(|| source.to_owned())
    }

    #[test]
    fn growing_operators_become_bounded_filters() {
        assert_eq!(rewritten("a * 3"), "a|__mul(3)");
        assert_eq!(rewritten("a ~ b ~ c"), "a|__concat(b)|__concat(c)");
        assert_eq!(rewritten("(a + b) * 2 > 3"), "(a|__add(b))|__mul(2) > 3");
        assert_eq!(rewritten("x not in ['a', 'b' ~ y]"), "(not x|__in(['a', 'b'|__concat(y)]))");
        assert_eq!(rewritten("f(a ~ b, k=c * 2)|upper"), "f(a|__concat(b), k=c|__mul(2))|upper");
        assert_eq!(rewritten("-a * b - (a is b) ~ c"), "(-a)|__mul(b) - (a is b)|__concat(c)");
        assert_eq!(rewritten("a - b ~ c"), "a - b|__concat(c)");
        assert_eq!(rewritten("a.b - c / 2 == d"), "a.b - c / 2 == d");
        assert_eq!(rewritten("a in [1] and b not in [2]"), "a|__in([1]) and (not b|__in([2]))");
        assert_eq!(rewritten("f((a) * (b + c))"), "f((a)|__mul((b|__add(c))))");
        assert_eq!(
            rewritten("x ~ (y if c else z) ~ (w is defined)"),
            "x|__concat((y if c else z))|__concat((w is defined))"
        );
    }

    #[test]
    fn in_within_a_chain_of_comparisons_is_refused() {
        let err = rewrite("a < b in c").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("chain of comparisons"), "{err}");
    }
}
