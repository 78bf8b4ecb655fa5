//! How big an expression may be, checked on its text before MiniJinja parses it.
//!
//! MiniJinja's parser recurses once per prefix operator (`not not not ...`, `- - - 1`) and builds
//! one tree level per postfix or binary operator (`x|upper|upper...`, `a ~ a ~ ...`,
//! `record.a.a...`); compiling and dropping that tree recurse once per level. A long enough chain
//! overflows the thread's stack, which aborts the whole process — no error can be returned. So
//! the text is measured first, without recursion: its length, how many operators it holds (each
//! adds at most one level to the tree) and how deeply its brackets nest. What passes stays far
//! within a 2 MiB thread stack: tests hold the longest accepted chains to 128 KiB of stack in a
//! release build and 1 MiB in a debug build.

/// The longest expression, in bytes.
pub const MAX_LENGTH: usize = 16 * 1024;
/// The most operators one expression may hold (`.`, `|`, `[`, `(`, arithmetic, comparison,
/// `not`, `and`, `or`, `in`, `is`, `if`, ...).
pub const MAX_OPERATORS: usize = 256;
/// The deepest nesting of brackets (`(`, `[`, `{`).
pub const MAX_NESTING: usize = 32;

/// Why an expression's text is refused, if it is.
pub(crate) fn check(source: &str) -> Result<(), String> {
    if source.len() > MAX_LENGTH {
        return Err(format!(
            "the expression is {} bytes long, more than the {MAX_LENGTH} allowed; split it into several conditions or steps",
            source.len()
        ));
    }
    let bytes = source.as_bytes();
    let (mut operators, mut depth, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' | b'\'' => i = skip_string(bytes, i, b),
            b'0'..=b'9' => i = skip_number(bytes, i),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i - 1;
                while bytes.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                    i += 1;
                }
                if matches!(&source[start..i], "not" | "and" | "or" | "in" | "is" | "if" | "else") {
                    operators += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                operators += 1;
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!("the expression nests brackets more than {MAX_NESTING} deep; simplify it"));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'.' | b'|' | b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'<' | b'>' | b'=' | b'!' => {
                operators += 1;
                // Two-character operators (`**`, `//`, `==`, `!=`, `<=`, `>=`) count once.
                let pair = (b, bytes.get(i).copied().unwrap_or_default());
                if matches!(pair, (b'*', b'*') | (b'/', b'/') | (b'=' | b'!' | b'<' | b'>', b'=')) {
                    i += 1;
                }
            }
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(format!(
                "the expression has more than {MAX_OPERATORS} operators (`.`, `|`, `not`, `~`, ...); split it into several conditions or steps"
            ));
        }
    }
    Ok(())
}

/// The index after the string literal opened by `quote` (just before `i`).
fn skip_string(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while let Some(&c) = bytes.get(i) {
        i += 1;
        match c {
            b'\\' => i += 1,
            c if c == quote => break,
            _ => {}
        }
    }
    i
}

/// The index after the number whose first digit is just before `i` (`1`, `1.5`, `1e9`, `1_000`).
fn skip_number(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&c) = bytes.get(i) {
        let exponent_sign = matches!(c, b'+' | b'-') && matches!(bytes.get(i - 1), Some(b'e' | b'E'));
        let fraction = c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_alphanumeric() || c == b'_' || exponent_sign || fraction {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_expressions_pass() {
        for source in [
            r#"previous.employment.status == "active" and record.employment.status == "terminated""#,
            r#"record.department in ["Sales", "Support (EU)", "R&D"] and not record.contractor"#,
            "record.pay.amount * 12 >= 1.5e5 and record.tags | length > 0",
            r#""a.b.c|d not in x" ~ 'it\'s ( [ {'"#,
        ] {
            assert_eq!(check(source), Ok(()), "{source}");
        }
    }

    #[test]
    fn operators_in_strings_and_numbers_do_not_count() {
        let text = format!("\"{}\"", ".|(".repeat(5_000));
        assert_eq!(check(&text), Ok(()));
        let numbers = vec!["1.5e-3"; 200].join(", ");
        assert_eq!(check(&format!("[{numbers}]")), Ok(()));
    }

    #[test]
    fn long_chains_and_deep_nesting_are_refused() {
        for (source, says) in [
            ("not ".repeat(300) + "true", "operators"),
            ("- ".repeat(300) + "1", "operators"),
            ("x".to_owned() + &"|upper".repeat(300), "operators"),
            ("a".to_owned() + &" ~ a".repeat(300), "operators"),
            ("record".to_owned() + &".a".repeat(300), "operators"),
            ("(".repeat(40) + "1" + &")".repeat(40), "nests"),
            ("x".repeat(MAX_LENGTH + 1), "bytes long"),
        ] {
            let err = check(&source).unwrap_err();
            assert!(err.contains(says), "{}: {err}", &source[..20]);
        }
    }
}
