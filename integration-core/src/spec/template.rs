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
    pub fn render(&self, value: impl Fn(&str) -> Option<String>) -> Result<String> {
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
}
