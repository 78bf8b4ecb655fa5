//! The one error type of the SDK, with a kind a caller can branch on.
//!
//! Every fallible operation returns [`Error`]. Callers branch on [`Error::kind`], ask
//! [`Error::is_retryable`] and [`Error::retry_after`], and read the details an operator needs:
//! the provider, the operation, the HTTP status, the provider's own error code and a truncated
//! copy of its error body.
//!
//! ```
//! use integration_core::{Error, ErrorKind};
//! use std::time::Duration;
//!
//! let err = Error::new(ErrorKind::RateLimited, "too many requests")
//!     .with_provider("bamboohr")
//!     .with_status(429)
//!     .with_retry_after(Duration::from_secs(30));
//!
//! match err.kind() {
//!     ErrorKind::RateLimited => assert_eq!(err.retry_after(), Some(Duration::from_secs(30))),
//!     ErrorKind::Validation => eprintln!("fix the field {:?}", err.field()),
//!     _ => {}
//! }
//! assert!(err.is_retryable());
//! assert_eq!(
//!     err.to_string(),
//!     "rate limited: too many requests (provider bamboohr, HTTP 429, retry after 30s)"
//! );
//! ```
//!
//! Secrets never belong in an error. The HTTP layer scrubs every form of every credential an
//! attempt sent (see [`redact`](crate::redact)) from a provider's body before an error keeps
//! it, so a provider that echoes a token back in its error body does not leak it.

use std::fmt;
use std::time::Duration;

/// A boxed error from a lower layer (I/O, a database driver, a JSON parser).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The `Result` of this SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The largest provider error body kept in an [`Error`], in bytes.
pub const MAX_BODY_BYTES: usize = 2048;

/// What went wrong, as a caller needs to act on it.
///
/// `#[non_exhaustive]`: match with a wildcard arm; new kinds may arrive in minor releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is wrong: an unknown provider, a missing or malformed setting. Fix the
    /// configuration; retrying does not help.
    Config,
    /// The provider rejected the credentials (wrong API key, unknown client). Ask for new ones.
    AuthInvalid,
    /// The credentials expired. A refresh (OAuth2) or a new login fixes it.
    AuthExpired,
    /// The grant was revoked (`invalid_grant`): the connection needs to be authorized again.
    AuthRevoked,
    /// The credentials are valid but lack a permission or scope.
    Forbidden,
    /// The resource does not exist (or no longer exists).
    NotFound,
    /// The request conflicts with the current state (version mismatch, duplicate, lost lease).
    Conflict,
    /// The provider (or our own limiter) throttled the request; see [`Error::retry_after`].
    RateLimited,
    /// A temporary failure: a 5xx, a timeout, a reset connection. Retrying may succeed.
    Transient,
    /// The provider returned an error that fits no other kind; see [`Error::status`] and
    /// [`Error::code`].
    Provider,
    /// The input is invalid; [`Error::field`] names the field when known.
    Validation,
    /// The provider's response could not be understood (malformed JSON, a missing field).
    InvalidResponse,
    /// The provider or adapter does not support this operation.
    Unsupported,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// The circuit breaker for the provider's host is open: the request failed fast.
    CircuitOpen,
    /// Sealing or opening credentials failed: a tampered ciphertext, or one sealed for another
    /// tenant or connection.
    Crypto,
    /// The host's store failed (a lost database connection, a full disk).
    Storage,
    /// The provider no longer serves changes since the stream's checkpoint (QuickBooks change
    /// data capture looks back 30 days; Google answers an old sync token `410 Gone`): the sync
    /// engine reads the stream again in full in the same run, deletions included.
    ResyncRequired,
}

impl ErrorKind {
    /// Whether an error of this kind is worth retrying, all else being equal.
    ///
    /// The retry layer additionally refuses to retry a non-idempotent request that may have
    /// reached the provider; see [`Error::may_have_reached_provider`].
    pub const fn is_retryable_by_default(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient | Self::CircuitOpen)
    }

    /// Whether this kind is one of the three authentication failures.
    pub const fn is_auth(self) -> bool {
        matches!(self, Self::AuthInvalid | Self::AuthExpired | Self::AuthRevoked)
    }

    /// A short lowercase label, as used in [`Error`]'s `Display` and in logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Config => "configuration error",
            Self::AuthInvalid => "invalid credentials",
            Self::AuthExpired => "credentials expired",
            Self::AuthRevoked => "authorization revoked",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate limited",
            Self::Transient => "transient failure",
            Self::Provider => "provider error",
            Self::Validation => "validation failed",
            Self::InvalidResponse => "invalid response",
            Self::Unsupported => "unsupported",
            Self::Cancelled => "cancelled",
            Self::CircuitOpen => "circuit open",
            Self::Crypto => "credential sealing failed",
            Self::Storage => "storage failure",
            Self::ResyncRequired => "resync required",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a request got before it failed: what decides whether a retry may duplicate an effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Delivery {
    /// The request was never sent (bad input, an open circuit, a local rate limit).
    #[default]
    NotSent,
    /// The request may have been sent but no answer came (a timeout, a reset connection).
    MaybeSent,
    /// The provider answered (with an error status or an unparseable body).
    Responded,
}

/// The SDK's error: a [`ErrorKind`] plus the context needed to diagnose it.
///
/// Built with [`Error::new`] (or a shorthand such as [`Error::validation`]) and the `with_*`
/// setters. `Display` gives one line with the kind, the message and the context; the provider's
/// body is left out of it (it is in `Debug` and [`Error::body`]).
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<Inner>);

#[derive(thiserror::Error)]
#[error("{kind}: {message}{context}", context = Context(self))]
struct Inner {
    kind: ErrorKind,
    message: String,
    retryable: bool,
    delivery: Delivery,
    provider: Option<String>,
    operation: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    field: Option<String>,
    record: Option<String>,
    retry_after: Option<Duration>,
    body: Option<String>,
    #[source]
    source: Option<BoxError>,
}

impl Error {
    /// An error of `kind` with a message saying what was wrong (and, where possible, how to fix it).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            retryable: kind.is_retryable_by_default(),
            delivery: Delivery::NotSent,
            provider: None,
            operation: None,
            status: None,
            code: None,
            field: None,
            record: None,
            retry_after: None,
            body: None,
            source: None,
        }))
    }

    /// A [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// A [`ErrorKind::Validation`] error naming the invalid `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message).with_field(field)
    }

    /// An [`ErrorKind::Unsupported`] error for the operation `what`.
    pub fn unsupported(what: impl Into<String>) -> Self {
        let what = what.into();
        Self::new(ErrorKind::Unsupported, format!("{what} is not supported")).with_operation(what)
    }

    /// A [`ErrorKind::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A [`ErrorKind::Conflict`] error.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// A [`ErrorKind::ResyncRequired`] error: the change cursor is too old for the provider.
    pub fn resync_required(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResyncRequired, message)
    }

    /// A [`ErrorKind::Storage`] error from a store implementation.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, message)
    }

    /// A [`ErrorKind::InvalidResponse`] error: the provider sent something we cannot use.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidResponse, message).with_delivery(Delivery::Responded)
    }

    /// A [`ErrorKind::Cancelled`] error.
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }

    /// Sets the provider id (`"bamboohr"`).
    #[must_use]
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.0.provider = Some(provider.into());
        self
    }

    /// Sets the operation that failed (`"list_employees"`, `"GET /v1/employees/directory"`).
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.0.operation = Some(operation.into());
        self
    }

    /// Sets the HTTP status the provider answered with; implies [`Delivery::Responded`].
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self.0.delivery = Delivery::Responded;
        self
    }

    /// Sets the provider's own error code (`"invalid_grant"`, `"card_declined"`).
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(code.into());
        self
    }

    /// Names the field at fault (`"settings.subdomain"`, `"employees[3].hire_date"`).
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// Names the record at fault, by its remote id.
    #[must_use]
    pub fn with_record(mut self, remote_id: impl Into<String>) -> Self {
        self.0.record = Some(remote_id.into());
        self
    }

    /// Sets how long to wait before trying again.
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.0.retry_after = Some(delay);
        self
    }

    /// Sets how far the request got.
    #[must_use]
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.0.delivery = delivery;
        self
    }

    /// Keeps the provider's error body, truncated to [`MAX_BODY_BYTES`] (lossy UTF-8).
    #[must_use]
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.0.body = (!body.is_empty()).then(|| truncate_body(body));
        self
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Adds a sentence to the message (`"…; gave up after 4 attempts"`).
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        self.0.message.push_str("; ");
        self.0.message.push_str(note);
        self
    }

    /// Overrides whether the error is worth retrying (the default comes from the kind).
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = retryable;
        self
    }

    /// Replaces every form of `secret` (as sent raw, encoded in a form or query, in base64, in
    /// JSON) in the message, code and body with `[REDACTED]`.
    ///
    /// Secrets shorter than 4 bytes are left alone: redacting them would mangle ordinary text.
    #[must_use]
    pub fn redact(self, secret: &str) -> Self {
        self.redact_with(&crate::redact::Redactor::new().secret(secret))
    }

    /// Scrubs everything `redactor` knows from the message, code and body. The body was
    /// truncated already: scrub a provider's body with [`Redactor::scrub_bytes`] before
    /// [`Error::with_body`] where a secret could straddle the cut (the HTTP layer does).
    ///
    /// [`Redactor::scrub_bytes`]: crate::redact::Redactor::scrub_bytes
    #[must_use]
    pub fn redact_with(mut self, redactor: &crate::redact::Redactor) -> Self {
        if redactor.is_empty() {
            return self;
        }
        let inner = &mut *self.0;
        for text in [Some(&mut inner.message), inner.code.as_mut(), inner.body.as_mut()].into_iter().flatten() {
            if let std::borrow::Cow::Owned(scrubbed) = redactor.scrub(text) {
                *text = scrubbed;
            }
        }
        self
    }

    /// The kind to branch on.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without the context.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Whether retrying the same operation may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// How far the request got.
    pub fn delivery(&self) -> Delivery {
        self.0.delivery
    }

    /// Whether the request may have reached the provider (so a retry could duplicate its effect).
    pub fn may_have_reached_provider(&self) -> bool {
        self.0.delivery != Delivery::NotSent
    }

    /// The provider id, if known.
    pub fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }

    /// The operation that failed, if known.
    pub fn operation(&self) -> Option<&str> {
        self.0.operation.as_deref()
    }

    /// The HTTP status the provider answered with.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The provider's own error code.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The field at fault.
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// The remote id of the record at fault.
    pub fn record(&self) -> Option<&str> {
        self.0.record.as_deref()
    }

    /// The provider's error body, truncated to [`MAX_BODY_BYTES`].
    pub fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind).field("message", &inner.message);
        d.field("retryable", &inner.retryable).field("delivery", &inner.delivery);
        let optional: [(&str, Option<&dyn fmt::Debug>); 8] = [
            ("provider", inner.provider.as_ref().map(|v| v as _)),
            ("operation", inner.operation.as_ref().map(|v| v as _)),
            ("status", inner.status.as_ref().map(|v| v as _)),
            ("code", inner.code.as_ref().map(|v| v as _)),
            ("field", inner.field.as_ref().map(|v| v as _)),
            ("record", inner.record.as_ref().map(|v| v as _)),
            ("retry_after", inner.retry_after.as_ref().map(|v| v as _)),
            ("body", inner.body.as_ref().map(|v| v as _)),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                d.field(name, value);
            }
        }
        if let Some(source) = &inner.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Renders the context of an error as ` (provider x, operation y, HTTP 429, ...)`.
struct Context<'a>(&'a Inner);

impl fmt::Display for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0;
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &inner.provider {
            parts.push(format!("provider {p}"));
        }
        if let Some(op) = &inner.operation {
            parts.push(format!("operation {op}"));
        }
        if let Some(s) = inner.status {
            parts.push(format!("HTTP {s}"));
        }
        if let Some(c) = &inner.code {
            parts.push(format!("code {c:?}"));
        }
        if let Some(field) = &inner.field {
            parts.push(format!("field {field:?}"));
        }
        if let Some(r) = &inner.record {
            parts.push(format!("record {r:?}"));
        }
        if let Some(d) = inner.retry_after {
            parts.push(format!("retry after {}", human_duration(d)));
        }
        if parts.is_empty() { Ok(()) } else { write!(f, " ({})", parts.join(", ")) }
    }
}

fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

/// Keeps at most [`MAX_BODY_BYTES`] of `body` as text, cut at a character boundary, noting the
/// original length when it was cut.
pub fn truncate_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX_BODY_BYTES {
        return text.into_owned();
    }
    let mut end = MAX_BODY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes in all]", &text[..end], body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_context() {
        let err = Error::validation("settings.subdomain", "must be a hostname label").with_provider("bamboohr");
        assert_eq!(
            err.to_string(),
            "validation failed: must be a hostname label (provider bamboohr, field \"settings.subdomain\")"
        );
        assert_eq!(err.field(), Some("settings.subdomain"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn body_is_truncated_at_a_char_boundary() {
        let body = "é".repeat(MAX_BODY_BYTES); // 2 bytes each
        let err = Error::new(ErrorKind::Provider, "boom").with_body(body.as_bytes());
        let kept = err.body().unwrap();
        assert!(kept.len() < MAX_BODY_BYTES + 64);
        assert!(kept.ends_with(&format!("[truncated, {} bytes in all]", 2 * MAX_BODY_BYTES)));
        assert!(kept.starts_with("éé"));
    }

    #[test]
    fn redact_scrubs_message_code_and_body() {
        let err = Error::new(ErrorKind::AuthInvalid, "token sk_live_abc123 rejected")
            .with_code("sk_live_abc123")
            .with_body(br#"{"token":"sk_live_abc123"}"#)
            .redact("sk_live_abc123");
        let all = format!("{err} {err:?}");
        assert!(!all.contains("sk_live_abc123"), "{all}");
        assert!(all.contains("[REDACTED]"));
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = Error::new(ErrorKind::Transient, "connection lost").with_source(io);
        let source = std::error::Error::source(&err).expect("source");
        assert_eq!(source.to_string(), "reset by peer");
    }

    #[test]
    fn error_is_small() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
