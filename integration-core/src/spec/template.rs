//! `{key}` templates over a connection's configuration (`https://{company_domain}.example.com`).

use crate::error::{Error, Result};

/// A template: text with `{key}` placeholders, each a configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template<'t> {
    parts: Vec<Part<'t>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part<'t> {
    Text(&'t str),
    Key(&'t str),
}

impl<'t> Template<'t> {
    /// Reads `text`; the reason when a brace is unmatched or a key is not `[a-z][a-z0-9_]*`.
    ///
    /// # Errors
    /// The reason, for the caller to name the key it came from.
    pub fn parse(text: &'t str) -> std::result::Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("a `}` without its `{`".to_owned());
            }
            let close = rest[open..].find('}').map(|c| open + c).ok_or("a `{` without its `}`")?;
            let key = &rest[open + 1..close];
            let mut chars = key.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(format!("{{{key}}} is not a configuration key (lowercase letters, digits, _)"));
            }
            if open > 0 {
                parts.push(Part::Text(&rest[..open]));
            }
            parts.push(Part::Key(key));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest));
        }
        Ok(Self { parts })
    }

    /// The keys it names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'t str> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Key(k) => Some(*k),
            Part::Text(_) => None,
        })
    }

    /// The text with each key's value.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error naming the first key `value` has no value for.
    pub fn render(&self, mut value: impl FnMut(&str) -> Option<String>) -> Result<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Key(key) => out.push_str(&value(key).ok_or_else(|| {
                    Error::config(format!("the configuration has no {key:?}, which the provider spec uses"))
                        .with_field(*key)
                })?),
            }
        }
        Ok(out)
    }
}

/// Renders template `text` with `value`.
///
/// ```
/// use integration_core::spec::render;
///
/// let url = render("https://{company}.example.com/v1", |k| (k == "company").then(|| "acme".to_owned()))?;
/// assert_eq!(url, "https://acme.example.com/v1");
/// assert_eq!(render("https://{nope}.example.com", |_| None).unwrap_err().field(), Some("nope"));
/// # Ok::<(), integration_core::Error>(())
/// ```
///
/// # Errors
/// A [`Config`](crate::ErrorKind::Config) error for a malformed template or a missing key.
pub fn render(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String> {
    Template::parse(text).map_err(Error::config)?.render(value)
}

/// Renders URL template `text` with `value`, each value percent-encoded as one host label or
/// path segment: a configuration value never adds a path, a query, a user or another host
/// (`acme.example.com/x` becomes `acme.example.com%2Fx`, which no host parses as). A value that
/// is empty, `.` or `..` is refused, so it cannot climb the path either.
///
/// ```
/// use integration_core::spec::render_url;
///
/// let value = |k: &str| Some(if k == "company" { "acme" } else { "evil.example.com/x?" }.to_owned());
/// assert_eq!(render_url("https://{company}.example.com/v1", value)?, "https://acme.example.com/v1");
/// assert_eq!(render_url("https://api.example.com/{path}", value)?, "https://api.example.com/evil.example.com%2Fx%3F");
/// assert!(render_url("https://api.example.com/{up}/x", |_| Some("..".to_owned())).is_err());
/// # Ok::<(), integration_core::Error>(())
/// ```
///
/// # Errors
/// As [`render`]; a [`Config`](crate::ErrorKind::Config) error naming a key whose value is
/// empty, `.` or `..`.
pub fn render_url(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String> {
    let template = Template::parse(text).map_err(Error::config)?;
    let mut refused = None;
    let rendered = template.render(|key| {
        let raw = value(key)?;
        if matches!(raw.as_str(), "" | "." | "..") && refused.is_none() {
            refused = Some(key.to_owned());
        }
        Some(escape(&raw))
    })?;
    match refused {
        Some(key) => Err(Error::config(format!(
            "the configuration's {key:?} is empty, `.` or `..`, which cannot go into the provider's URL"
        ))
        .with_field(key)),
        None => Ok(rendered),
    }
}

/// `text` with every byte but RFC 3986's unreserved characters percent-encoded.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Splits a URL template at the end of its origin: `("https://{host}", "/ccx/{tenant}")`.
pub(crate) fn split_origin(text: &str) -> (&str, &str) {
    let after_scheme = text.find("://").map_or(0, |i| i + 3);
    match text[after_scheme..].find(['/', '?', '#']) {
        Some(i) => text.split_at(after_scheme + i),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_read_keys_and_refuse_stray_braces() {
        let t = Template::parse("https://{a}.x/{b_2}/c").expect("a template");
        assert_eq!(t.keys().collect::<Vec<_>>(), ["a", "b_2"]);
        assert!(Template::parse("x{").is_err());
        assert!(Template::parse("x}").is_err());
        assert!(Template::parse("{Bad}").is_err());
        assert!(Template::parse("{}").is_err());
        assert_eq!(Template::parse("plain").expect("text").keys().count(), 0);
    }

    /// `value` rendered into a host label and a path segment stays there: the URL either does
    /// not parse (refused where it is used) or keeps its host, its two segments, no query, no
    /// fragment and no user.
    fn stays_inside(value: &str) {
        let Ok(url) = render_url("https://{host}.example.com/v1/{t}", |_| Some(value.to_owned())) else {
            assert!(matches!(value, "" | "." | ".."), "only those are refused: {value:?}");
            return;
        };
        if let Ok(parsed) = url::Url::parse(&url) {
            assert!(parsed.host_str().is_some_and(|h| h.ends_with(".example.com")), "{value:?}: {url}");
            assert_eq!(parsed.path_segments().map(Iterator::count), Some(2), "{value:?}: {url}");
            assert_eq!((parsed.query(), parsed.fragment(), parsed.username()), (None, None, ""), "{url}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_stays_inside_its_label_or_segment(value in "\\PC{0,24}|[a-z./@:?#%\\\\]{0,12}") {
            stays_inside(&value);
        }
    }

    #[test]
    fn url_templates_keep_values_inside_their_label_or_segment() {
        let hostile =
            ["evil.example.com/", "a@evil.example.com", "evil.example.com:1", "a?b", "a#b", "a\\b", "%2F", ".."];
        for value in hostile {
            stays_inside(value);
        }
        assert_eq!(split_origin("https://{h}/a/{b}"), ("https://{h}", "/a/{b}"));
        assert_eq!(split_origin("https://api.example.com"), ("https://api.example.com", ""));
    }
}
