//! The one table from an HTTP status plus headers to an [`ErrorKind`] and a retry delay.
//!
//! Adapters call [`Error::from_response`] on every non-success response; provider quirks
//! (a code in the body that means something more specific) are layered on top of the result with
//! [`Error::with_code`] and friends, never by a second table.
//!
//! | status | kind | retryable |
//! |---|---|---|
//! | 400 | `Validation` (`AuthRevoked` for an OAuth `invalid_grant`, `AuthInvalid` for `invalid_client`) | no |
//! | 401 | `AuthInvalid` (`AuthExpired` when `WWW-Authenticate` says the token expired) | no |
//! | 403 | `Forbidden` (`RateLimited` when `X-RateLimit-Remaining: 0` or `Retry-After` is present) | no / yes |
//! | 404, 410 | `NotFound` | no |
//! | 408, 425 | `Transient` | yes |
//! | 409, 412, 423 | `Conflict` | no |
//! | 413, 414, 415, 422 | `Validation` | no |
//! | 429 | `RateLimited`, delay from `Retry-After` else a rate-limit reset header | yes |
//! | 501, 505 | `Provider` | no |
//! | other 5xx | `Transient`, delay from `Retry-After` | yes |
//! | anything else | `Provider` | no |
//!
//! ```
//! use http::{HeaderMap, HeaderValue, StatusCode};
//! use integration_core::{Error, ErrorKind};
//! use std::time::Duration;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("retry-after", HeaderValue::from_static("120"));
//! let err = Error::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, br#"{"message":"slow down"}"#);
//! assert_eq!(err.kind(), ErrorKind::RateLimited);
//! assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
//! assert_eq!(err.message(), "slow down");
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode, header};

use crate::error::{Delivery, Error, ErrorKind};

/// Reset headers, in order of preference, that say when a rate-limit window resets. Each holds
/// either seconds from now or (when larger than ~2001-09-09) a Unix timestamp.
const RESET_HEADERS: [&str; 4] =
    ["ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset", "x-ratelimit-reset-after"];

/// Values above this are Unix timestamps, not a number of seconds.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// Delays are capped here: a header that asks for more is treated as asking for this much.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The outcome of classifying a response: the kind and, if the provider said, when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusClass {
    /// The error kind.
    pub kind: ErrorKind,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
}

/// Classifies an error response by its status and headers, as of `now`.
pub fn classify_status(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> StatusClass {
    let code = status.as_u16();
    let kind = match code {
        400 => ErrorKind::Validation,
        401 if token_expired(headers) => ErrorKind::AuthExpired,
        401 => ErrorKind::AuthInvalid,
        403 if throttled_forbidden(headers) => ErrorKind::RateLimited,
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        408 | 425 => ErrorKind::Transient,
        409 | 412 | 423 => ErrorKind::Conflict,
        413..=415 | 422 => ErrorKind::Validation,
        429 => ErrorKind::RateLimited,
        501 | 505 => ErrorKind::Provider,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Provider,
    };
    let retry_after = match kind {
        ErrorKind::RateLimited => retry_after(headers, now).or_else(|| rate_limit_reset(headers, now)),
        ErrorKind::Transient => retry_after(headers, now),
        _ => None,
    };
    StatusClass { kind, retry_after }
}

/// Parses `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to `now`.
///
/// A date in the past gives zero; an unparseable value gives `None`; delays are capped at
/// [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// Parses the rate-limit reset headers providers use (`RateLimit-Reset`, `X-RateLimit-Reset`,
/// ...): seconds from now, or a Unix timestamp (GitHub), relative to `now`.
pub fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = RESET_HEADERS.iter().find_map(|name| headers.get(*name))?.to_str().ok()?.trim();
    let delay = if let Ok(n) = value.parse::<u64>() {
        if n > EPOCH_THRESHOLD {
            let at = UNIX_EPOCH + Duration::from_secs(n);
            at.duration_since(now).unwrap_or(Duration::ZERO)
        } else {
            Duration::from_secs(n)
        }
    } else {
        let secs = value.parse::<f64>().ok()?;
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())).ok()?
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

fn token_expired(headers: &HeaderMap) -> bool {
    headers.get_all(header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        let v = v.to_ascii_lowercase();
        v.contains("invalid_token") && v.contains("expired")
    })
}

fn throttled_forbidden(headers: &HeaderMap) -> bool {
    let exhausted = ["x-ratelimit-remaining", "ratelimit-remaining"]
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim() == "0");
    exhausted || headers.contains_key(header::RETRY_AFTER)
}

/// What a JSON error body says, read from the shapes most providers use: OAuth2's
/// `{"error": "...", "error_description": "..."}`, `{"code": ..., "message": ...}` and
/// `{"error": {"code": ..., "message": ...}}`.
#[derive(Default)]
struct BodySummary {
    code: Option<String>,
    message: Option<String>,
}

fn summarize_body(body: &[u8]) -> BodySummary {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return BodySummary::default();
    };
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let nested = map.get("error").and_then(|e| e.as_object());
    // Workday-style: `{"error": "<sentence>", "errors": [{"error", "code", "field"}]}` — the top
    // `error` is the message and the first item's `code` the code.
    let first_item = map.get("errors").and_then(|e| e.as_array()).and_then(|a| a.first()).and_then(|e| e.as_object());
    if let Some(item) = first_item
        && let Some(sentence) = text(map.get("error"))
    {
        let code = text(item.get("code")).or_else(|| text(map.get("code")));
        let detail = text(item.get("error")).filter(|d| *d != sentence);
        let message = match detail {
            Some(detail) => format!("{sentence}: {detail}"),
            None => sentence,
        };
        return BodySummary { code, message: Some(message) };
    }
    let code =
        text(map.get("error")).or_else(|| text(map.get("code"))).or_else(|| nested.and_then(|e| text(e.get("code"))));
    let message = text(map.get("error_description"))
        .or_else(|| text(map.get("message")))
        .or_else(|| nested.and_then(|e| text(e.get("message"))));
    BodySummary { code, message }
}

impl Error {
    /// Builds the error for a non-success response: kind and delay from [`classify_status`],
    /// code and message from a JSON body when it has the usual shape, and the body kept
    /// (truncated). Add the provider and operation with [`Error::with_provider`] and
    /// [`Error::with_operation`].
    pub fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        Self::from_response_at(status, headers, body, SystemTime::now())
    }

    /// [`Error::from_response`] as of `now` (for HTTP-date `Retry-After` values).
    pub fn from_response_at(status: StatusCode, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Self {
        let class = classify_status(status, headers, now);
        let summary = summarize_body(body);
        let kind = match (class.kind, status.as_u16(), summary.code.as_deref()) {
            (_, 400 | 401, Some("invalid_grant")) => ErrorKind::AuthRevoked,
            (_, 400 | 401, Some("invalid_client")) => ErrorKind::AuthInvalid,
            (kind, ..) => kind,
        };
        let message = summary.message.unwrap_or_else(|| {
            format!("the provider answered {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
                .trim_end()
                .to_owned()
        });
        let mut err =
            Error::new(kind, message).with_status(status.as_u16()).with_delivery(Delivery::Responded).with_body(body);
        if let Some(code) = summary.code {
            err = err.with_code(code);
        }
        if let Some(delay) = class.retry_after {
            err = err.with_retry_after(delay);
        }
        err
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_errors_array_gives_message_and_code() {
        let body =
            br#"{"error":"Validation error occurred.","errors":[{"error":"Invalid ID","code":"S22","field":"id"}]}"#;
        let summary = summarize_body(body);
        assert_eq!(summary.code.as_deref(), Some("S22"));
        assert_eq!(summary.message.as_deref(), Some("Validation error occurred.: Invalid ID"));
    }

    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[track_caller]
    fn check(status: u16, hdrs: &[(&'static str, &str)], kind: ErrorKind, retry: bool, delay: Option<u64>) {
        let now = at(1_700_000_000);
        let err = Error::from_response_at(StatusCode::from_u16(status).unwrap(), &headers(hdrs), b"", now);
        assert_eq!(err.kind(), kind, "kind for {status} {hdrs:?}");
        assert_eq!(err.is_retryable(), retry, "retryable for {status} {hdrs:?}");
        assert_eq!(err.retry_after(), delay.map(Duration::from_secs), "delay for {status} {hdrs:?}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.delivery(), Delivery::Responded);
    }

    #[test]
    fn the_status_table() {
        use ErrorKind::*;
        let date_in_90s = httpdate::fmt_http_date(at(1_700_000_090));
        let date_in_past = httpdate::fmt_http_date(at(1_600_000_000));
        check(400, &[], Validation, false, None);
        check(401, &[], AuthInvalid, false, None);
        check(
            401,
            &[("www-authenticate", r#"Bearer error="invalid_token", error_description="The access token expired""#)],
            AuthExpired,
            false,
            None,
        );
        check(403, &[], Forbidden, false, None);
        check(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000060")], RateLimited, true, Some(60));
        check(404, &[], NotFound, false, None);
        check(409, &[], Conflict, false, None);
        check(422, &[], Validation, false, None);
        check(429, &[], RateLimited, true, None);
        check(429, &[("retry-after", "7")], RateLimited, true, Some(7));
        check(429, &[("retry-after", &date_in_90s)], RateLimited, true, Some(90));
        check(429, &[("retry-after", &date_in_past)], RateLimited, true, Some(0));
        check(429, &[("retry-after", "soon")], RateLimited, true, None);
        check(429, &[("x-ratelimit-reset", "12")], RateLimited, true, Some(12));
        check(429, &[("retry-after", "3"), ("x-ratelimit-reset", "12")], RateLimited, true, Some(3));
        check(429, &[("retry-after", "99999999")], RateLimited, true, Some(MAX_RETRY_AFTER.as_secs()));
        check(500, &[], Transient, true, None);
        check(501, &[], Provider, false, None);
        check(502, &[], Transient, true, None);
        check(503, &[], Transient, true, None);
        check(503, &[("retry-after", "30")], Transient, true, Some(30));
        check(503, &[("retry-after", &date_in_90s)], Transient, true, Some(90));
        check(504, &[], Transient, true, None);
        check(408, &[], Transient, true, None);
        check(418, &[], Provider, false, None);
    }

    #[test]
    fn oauth_error_bodies_refine_the_kind() {
        let body = br#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#;
        let err = Error::from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ErrorKind::AuthRevoked);
        assert_eq!(err.code(), Some("invalid_grant"));
        assert_eq!(err.message(), "refresh token revoked");
    }

    #[test]
    fn nested_error_objects_are_read() {
        let body = br#"{"error":{"code":"card_declined","message":"Your card was declined."}}"#;
        let err = Error::from_response(StatusCode::PAYMENT_REQUIRED, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.code(), Some("card_declined"));
        assert_eq!(err.message(), "Your card was declined.");
        assert_eq!(err.body(), Some(std::str::from_utf8(body).unwrap()));
    }

    #[test]
    fn non_json_bodies_give_a_status_message() {
        let err = Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!(err.message(), "the provider answered 502 Bad Gateway");
        assert_eq!(err.body(), Some("<html>bad gateway</html>"));
    }

    #[test]
    fn fractional_and_garbage_reset_headers() {
        let now = at(1_700_000_000);
        assert_eq!(rate_limit_reset(&headers(&[("ratelimit-reset", "1.5")]), now), Some(Duration::from_millis(1500)));
        assert_eq!(rate_limit_reset(&headers(&[("ratelimit-reset", "-3")]), now), None);
        assert_eq!(rate_limit_reset(&headers(&[("ratelimit-reset", "NaN")]), now), None);
        assert_eq!(rate_limit_reset(&headers(&[("ratelimit-reset", "1e300")]), now), Some(MAX_RETRY_AFTER));
    }

    proptest::proptest! {
        #[test]
        fn classification_never_panics(status in 100u16..1000, value in ".{0,40}", body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut map = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) {
                map.insert(header::RETRY_AFTER, v.clone());
                map.insert("x-ratelimit-reset", v);
            }
            let status = StatusCode::from_u16(status).unwrap();
            let err = Error::from_response(status, &map, &body);
            if let Some(d) = err.retry_after() {
                proptest::prop_assert!(d <= MAX_RETRY_AFTER);
            }
        }
    }
}
