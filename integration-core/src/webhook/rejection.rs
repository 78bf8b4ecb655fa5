//! Why a webhook delivery was refused, and the HTTP status that says so.

use std::fmt;

use http::StatusCode;

/// Why the router refused a delivery. Each maps to a status ([`Rejection::status`]) and a short
/// stable reason code ([`Rejection::reason`]) recorded in the delivery log and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No endpoint is registered at this path. `404`.
    UnknownRoute,
    /// Only `POST` is accepted. `405`.
    MethodNotAllowed,
    /// The body is larger than the limit. `413`.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A header the scheme needs is absent. `401`.
    MissingHeader(String),
    /// A header that must appear once appears several times. `401`.
    DuplicateHeader(String),
    /// A header is not in the scheme's format. `401`.
    MalformedHeader {
        /// The header.
        header: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No signature matched any of the endpoint's secrets. `401`.
    SignatureMismatch,
    /// The signed timestamp is older than the tolerance. `401`.
    Stale {
        /// How old it is, in seconds.
        age_secs: i64,
    },
    /// The signed timestamp is further in the future than the tolerance. `401`.
    Future {
        /// How far ahead it is, in seconds.
        ahead_secs: i64,
    },
    /// A verified app delivery whose body is not JSON, so no account can be read from it. `400`.
    UnroutablePayload,
    /// The body ended before it was complete: the client announced more than it sent, or the
    /// connection broke while it was being read. `400`.
    IncompleteBody,
    /// The endpoint's configuration cannot verify anything (no secret, a malformed secret).
    /// `500`: the fault is ours, and the provider should retry once it is fixed.
    Misconfigured(String),
}

impl Rejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute => StatusCode::NOT_FOUND,
            Self::UnroutablePayload | Self::IncompleteBody => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::MissingHeader(_)
            | Self::DuplicateHeader(_)
            | Self::MalformedHeader { .. }
            | Self::SignatureMismatch
            | Self::Stale { .. }
            | Self::Future { .. } => StatusCode::UNAUTHORIZED,
        }
    }

    /// A short, stable reason code (`"signature_mismatch"`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownRoute => "unknown_route",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooLarge { .. } => "too_large",
            Self::MissingHeader(_) => "missing_header",
            Self::DuplicateHeader(_) => "duplicate_header",
            Self::MalformedHeader { .. } => "malformed_header",
            Self::SignatureMismatch => "signature_mismatch",
            Self::Stale { .. } => "stale_timestamp",
            Self::Future { .. } => "future_timestamp",
            Self::UnroutablePayload => "unroutable_payload",
            Self::IncompleteBody => "incomplete_body",
            Self::Misconfigured(_) => "misconfigured_endpoint",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownRoute => f.write_str("no webhook endpoint at this path"),
            Self::MethodNotAllowed => f.write_str("webhooks are delivered with POST"),
            Self::TooLarge { limit } => write!(f, "the body is larger than the {limit}-byte limit"),
            Self::MissingHeader(h) => write!(f, "the {h} header is missing"),
            Self::DuplicateHeader(h) => write!(f, "the {h} header appears more than once"),
            Self::MalformedHeader { header, why } => write!(f, "the {header} header is malformed: {why}"),
            Self::SignatureMismatch => f.write_str("no signature matches"),
            Self::Stale { age_secs } => write!(f, "the signed timestamp is {age_secs}s old, beyond the tolerance"),
            Self::Future { ahead_secs } => {
                write!(f, "the signed timestamp is {ahead_secs}s in the future, beyond the tolerance")
            }
            Self::UnroutablePayload => f.write_str("the body is not JSON, so no account can be read from it"),
            Self::IncompleteBody => f.write_str("the body ended before it was complete"),
            Self::Misconfigured(why) => write!(f, "the endpoint cannot verify deliveries: {why}"),
        }
    }
}

impl std::error::Error for Rejection {}
