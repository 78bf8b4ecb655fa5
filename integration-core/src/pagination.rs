//! Where the next page is: the pagination styles providers use, and a guard that turns a cursor
//! that repeats into an error instead of an endless loop.
//!
//! | style | used by | helper |
//! |---|---|---|
//! | `Link: <...>; rel="next"` (RFC 8288) | GitHub, Stripe-like, many REST APIs | [`next_link`] |
//! | `@odata.nextLink` in the body | Microsoft Graph, Workday, Dynamics | [`odata_next_link`] |
//! | offset and limit | ADP (`$skip`/`$top`), BambooHR reports | [`Offset`] |
//! | page number | many admin APIs | [`PageNumber`] |
//! | opaque cursor | Slack, Stripe (`starting_after`) | [`CursorGuard`] |
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use integration_core::pagination::{CursorGuard, next_link};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("link", HeaderValue::from_static(
//!     r#"<https://api.example.com/items?page=3>; rel="next", <https://api.example.com/items?page=9>; rel="last""#,
//! ));
//! let next = next_link(&headers).unwrap().unwrap();
//! assert_eq!(next.as_str(), "https://api.example.com/items?page=3");
//!
//! let mut guard = CursorGuard::new("github", "issues");
//! guard.advance(next.as_str()).unwrap();
//! assert!(guard.advance(next.as_str()).is_err(), "the same cursor twice would loop forever");
//! ```

use std::collections::HashSet;

use http::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::error::{Delivery, Error, Result};

/// The `rel="next"` target of the response's `Link` headers (RFC 8288), if any.
///
/// Several `Link` headers and several links per header are read; `rel` may list several
/// relation types (`rel="next last"`). A malformed header, or a next link that is not an
/// absolute http(s) URL, is an [`InvalidResponse`](crate::ErrorKind::InvalidResponse) error.
pub fn next_link(headers: &HeaderMap) -> Result<Option<Url>> {
    for value in headers.get_all(http::header::LINK) {
        let text = value
            .to_str()
            .map_err(|_| Error::invalid_response("a Link header is not visible ASCII").with_field("link"))?;
        for link in split_links(text) {
            let (target, params) = parse_link(link)?;
            if params.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("rel") && v.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
            }) {
                let url = Url::parse(target).map_err(|e| {
                    Error::invalid_response(format!("the next link {target:?} is not an absolute URL: {e}"))
                        .with_field("link")
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(
                        Error::invalid_response(format!("the next link {target:?} is not http(s)")).with_field("link")
                    );
                }
                return Ok(Some(url));
            }
        }
    }
    Ok(None)
}

/// Splits a `Link` value at the commas between links (not those inside `<...>` or quotes).
fn split_links(text: &str) -> Vec<&str> {
    let (mut parts, mut start, mut in_url, mut in_quotes) = (Vec::new(), 0, false, false);
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' if !in_url => in_quotes = !in_quotes,
            '<' if !in_quotes => in_url = true,
            '>' if !in_quotes => in_url = false,
            ',' if !in_url && !in_quotes => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// `<target>; key=value; key="quoted"` into the target and its parameters.
fn parse_link(link: &str) -> Result<(&str, Vec<(&str, String)>)> {
    let malformed =
        |why: &str| Error::invalid_response(format!("malformed Link header ({why}): {link:?}")).with_field("link");
    let rest = link.strip_prefix('<').ok_or_else(|| malformed("a link starts with <"))?;
    let end = rest.find('>').ok_or_else(|| malformed("no closing >"))?;
    let target = rest[..end].trim();
    let mut params = Vec::new();
    for param in rest[end + 1..].split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(quoted) => {
                quoted.strip_suffix('"').ok_or_else(|| malformed("an unterminated quote"))?.replace("\\\"", "\"")
            }
            None => value.to_owned(),
        };
        params.push((key.trim(), value));
    }
    Ok((target, params))
}

/// The `@odata.nextLink` of an OData response body, if any.
pub fn odata_next_link(body: &Value) -> Option<&str> {
    body.get("@odata.nextLink").and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Offset and limit paging (`$skip`/`$top`, `offset`/`limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    /// How many records to skip.
    pub offset: u64,
    /// How many records a page holds at most.
    pub limit: u64,
}

impl Offset {
    /// The first page of `limit` records (at least 1).
    pub fn first(limit: u64) -> Self {
        Self { offset: 0, limit: limit.max(1) }
    }

    /// The page after one that returned `returned` records; `None` when it was short (the last).
    pub fn next(self, returned: u64) -> Option<Self> {
        (returned >= self.limit).then(|| Self { offset: self.offset.saturating_add(returned), limit: self.limit })
    }
}

/// Page-number paging (`page=1, 2, ...`), stopping at a short page or at the total the provider
/// reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    /// The page (from 1).
    pub page: u64,
    /// Records per page.
    pub per_page: u64,
}

impl PageNumber {
    /// Page 1 of `per_page` records (at least 1).
    pub fn first(per_page: u64) -> Self {
        Self { page: 1, per_page: per_page.max(1) }
    }

    /// The page after one that returned `returned` records, given the total number of pages if
    /// the provider said; `None` after the last.
    pub fn next(self, returned: u64, total_pages: Option<u64>) -> Option<Self> {
        let more = match total_pages {
            Some(total) => self.page < total,
            None => returned >= self.per_page,
        };
        more.then(|| Self { page: self.page.saturating_add(1), per_page: self.per_page })
    }
}

/// Remembers the cursors of one read so a provider that hands back a cursor it already gave
/// (a bug, or a changing dataset under an unstable sort) stops the read with an error instead of
/// looping forever.
#[derive(Debug, Clone)]
pub struct CursorGuard {
    provider: String,
    stream: String,
    seen: HashSet<String>,
}

impl CursorGuard {
    /// A guard for one read of `stream` at `provider`.
    pub fn new(provider: &str, stream: &str) -> Self {
        Self { provider: provider.to_owned(), stream: stream.to_owned(), seen: HashSet::new() }
    }

    /// Records `cursor`; an [`InvalidResponse`](crate::ErrorKind::InvalidResponse) error if it
    /// was seen before.
    pub fn advance(&mut self, cursor: &str) -> Result<()> {
        if self.seen.insert(cursor.to_owned()) {
            return Ok(());
        }
        Err(Error::invalid_response(format!(
            "{} returned the cursor {cursor:?} for {} a second time; reading on would never end",
            self.provider, self.stream
        ))
        .with_provider(self.provider.clone())
        .with_delivery(Delivery::Responded))
    }

    /// How many distinct cursors were seen.
    pub fn pages(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn links(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(http::header::LINK, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn link_headers_as_providers_send_them() {
        // GitHub's shape.
        let gh = r#"<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last""#;
        assert_eq!(next_link(&links(&[gh])).unwrap().unwrap().query(), Some("page=4"));
        // Unquoted rel, several relation types, parameters with commas inside quotes.
        let odd = r#"<https://x.test/a?b=1,2>; title="a, b"; rel="last next""#;
        assert_eq!(next_link(&links(&[odd])).unwrap().unwrap().as_str(), "https://x.test/a?b=1,2");
        assert!(next_link(&links(&["<https://x.test/p2>; rel=next"])).unwrap().is_some());
        // Several headers; no next.
        assert!(
            next_link(&links(&[r#"<https://x.test/1>; rel="first""#, r#"<https://x.test/9>; rel="last""#]))
                .unwrap()
                .is_none()
        );
        assert!(next_link(&HeaderMap::new()).unwrap().is_none());
    }

    #[test]
    fn malformed_link_headers_are_invalid_responses() {
        for bad in [
            r#"https://x.test/2; rel="next""#,
            r#"<https://x.test/2; rel="next""#,
            r#"</relative>; rel="next""#,
            r#"<ftp://x.test/2>; rel="next""#,
            r#"<https://x.test/2>; rel="next"#,
        ] {
            let err = next_link(&links(&[bad])).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidResponse, "{bad}");
            assert_eq!(err.field(), Some("link"));
        }
    }

    #[test]
    fn odata_offsets_and_page_numbers() {
        let body = serde_json::json!({"value": [], "@odata.nextLink": "https://graph.test/users?$skiptoken=X"});
        assert_eq!(odata_next_link(&body), Some("https://graph.test/users?$skiptoken=X"));
        assert_eq!(odata_next_link(&serde_json::json!({"value": []})), None);
        let first = Offset::first(100);
        assert_eq!(first.next(100), Some(Offset { offset: 100, limit: 100 }));
        assert_eq!(first.next(99), None, "a short page is the last");
        assert_eq!(Offset::first(0).limit, 1);
        let p = PageNumber::first(50);
        assert_eq!(p.next(50, None).map(|n| n.page), Some(2));
        assert_eq!(p.next(50, Some(1)), None, "the provider said there is one page");
        assert_eq!(p.next(10, None), None);
    }

    #[test]
    fn a_repeating_cursor_is_an_error() {
        let mut guard = CursorGuard::new("slack", "users");
        for c in ["a", "b", "c"] {
            guard.advance(c).unwrap();
        }
        let err = guard.advance("b").unwrap_err();
        assert_eq!((err.kind(), err.provider()), (crate::ErrorKind::InvalidResponse, Some("slack")));
        assert_eq!(guard.pages(), 3);
    }

    proptest! {
        #[test]
        fn link_parsing_never_panics(value in "[ -~]{0,200}") {
            if let Ok(v) = HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                map.insert(http::header::LINK, v);
                if let Ok(Some(url)) = next_link(&map) {
                    prop_assert!(matches!(url.scheme(), "http" | "https"));
                }
            }
        }
    }
}
