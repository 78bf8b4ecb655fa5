//! Spec errors that name the line: from the TOML parser's spans, from serde's path to a field
//! of the wrong shape, and from the spans of the document's keys for what the checks refuse.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::error::Error;

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset.min(text.len())).filter(|b| **b == b'\n').count() + 1
}

fn at_line(text: &str, span: Option<Range<usize>>, message: &str) -> String {
    match span {
        Some(span) => format!("line {}: {message}", line_of(text, span.start)),
        None => message.to_owned(),
    }
}

/// A document that is not TOML.
pub(super) fn syntax(text: &str, error: &toml::de::Error) -> Error {
    Error::config(at_line(text, error.span(), error.message().trim()))
}

/// A document whose keys or values do not fit a spec.
pub(super) fn shape(text: &str, error: &serde_path_to_error::Error<toml::de::Error>) -> Error {
    let path = error.path().to_string();
    let inner = error.inner();
    // An unknown key inside a table read as a whole (a tagged table like [auth]) is spanned by
    // its table: point at the key itself.
    let unknown = inner.message().strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')).map(|(k, _)| k);
    let within = |key: &str| if path == "." { key.to_owned() } else { format!("{path}.{key}") };
    let span =
        unknown.and_then(|key| span_of(text, &within(key))).or_else(|| inner.span()).or_else(|| span_of(text, &path));
    let message =
        if path == "." { inner.message().trim().to_owned() } else { format!("{path}: {}", inner.message().trim()) };
    let refused = Error::config(at_line(text, span, &message));
    if path == "." { refused } else { refused.with_field(path) }
}

/// A key the checks refuse.
pub(super) fn at_key(text: &str, key: &str, message: &str) -> Error {
    Error::config(at_line(text, span_of(text, key), &format!("{key}: {message}"))).with_field(key)
}

/// The span of `path` (`auth.token_url`, `settings[1].key`) in `text`, or of the nearest table
/// above it that is there.
fn span_of(text: &str, path: &str) -> Option<Range<usize>> {
    let document = DeTable::parse(text).ok()?;
    let mut table = document.get_ref();
    let mut found = None;
    for segment in path.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name) else {
            return found;
        };
        found = Some(key.span());
        let value = match (value.get_ref(), index) {
            (DeValue::Array(items), Some(i)) => {
                let Some(item) = items.get(i) else { return found };
                found = Some(item.span());
                item
            }
            _ => value,
        };
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_on_their_lines() {
        let text = "id = \"x\"\n\n[auth]\nkind = \"oauth2\"\ntoken_url = \"http://a\"\n\n[[secrets]]\nkey = \"a\"\n\n[[secrets]]\nkey = \"b\"\n";
        let line = |path| span_of(text, path).map(|s| line_of(text, s.start));
        assert_eq!(line("id"), Some(1));
        assert_eq!(line("auth.token_url"), Some(5));
        assert_eq!(line("auth.scopes"), Some(3), "a missing key: the line of its table");
        assert_eq!(line("nothing"), None);
        assert_eq!(line("secrets[1].key"), Some(11));
    }
}
