//! SCIM's error answer (RFC 7644 §3.12): an HTTP status, a `scimType` for the `400`s that have
//! one, and a detail for the client.

use serde_json::{Value, json};

/// The schema of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error: what the server answers, and what a client reads back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SCIM {status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    status: u16,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    /// An error with `status`, `scim_type` (RFC 7644 Table 9) and `detail`.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// `400 invalidFilter`: a filter that does not parse or cannot be evaluated.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }

    /// `400 invalidPath`: a PATCH path that does not parse or names nothing.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    /// `400 invalidValue`: a value of the wrong type or missing where required.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    /// `400 invalidSyntax`: a body that is not the request it should be.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    /// `409 uniqueness`: a value another resource already holds.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    /// `404`: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// `412`: the resource's version is not the one `If-Match` names.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `scimType`, if the status has one.
    pub fn scim_type(&self) -> Option<&'static str> {
        self.scim_type
    }

    /// The detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The error as SCIM's JSON body.
    pub fn to_json(&self) -> Value {
        let mut body = json!({"schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail});
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body
    }
}

impl From<ScimError> for integration_core::Error {
    fn from(error: ScimError) -> Self {
        use integration_core::{Error, ErrorKind};
        let kind = match error.status {
            400 => ErrorKind::Validation,
            401 | 403 => ErrorKind::AuthInvalid,
            404 => ErrorKind::NotFound,
            409 | 412 => ErrorKind::Conflict,
            _ => ErrorKind::Provider,
        };
        let mut out = Error::new(kind, error.detail.clone());
        if let Some(scim_type) = error.scim_type {
            out = out.with_code(scim_type);
        }
        out
    }
}
