//! What a SAML response says once its signature has been checked — only the signed part — and
//! why a login was refused.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A `<SubjectConfirmation>` of an assertion, with its `<SubjectConfirmationData>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// Its method (`urn:oasis:names:tc:SAML:2.0:cm:bearer` for a browser login).
    pub method: String,
    /// The URL the assertion was issued for (our ACS URL).
    pub recipient: Option<String>,
    /// The request it answers (our AuthnRequest's `ID`).
    pub in_response_to: Option<String>,
    /// Not to be used before.
    pub not_before: Option<DateTime<Utc>>,
    /// Not to be used on or after.
    pub not_on_or_after: Option<DateTime<Utc>>,
}

/// The signed `<Assertion>` of a response, as the service provider checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedAssertion {
    /// The assertion's `ID` (what replays are recognised by).
    pub id: String,
    /// Its issuer (the identity provider's entity ID).
    pub issuer: String,
    /// When it was issued.
    pub issue_instant: DateTime<Utc>,
    /// The subject's `<NameID>`.
    pub name_id: String,
    /// The `<NameID>`'s format, if given.
    pub name_id_format: Option<String>,
    /// Its subject confirmations.
    pub confirmations: Vec<Confirmation>,
    /// `<Conditions NotBefore>`.
    pub not_before: Option<DateTime<Utc>>,
    /// `<Conditions NotOnOrAfter>`.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// Each `<AudienceRestriction>`'s audiences (every restriction must name us).
    pub audience_restrictions: Vec<Vec<String>>,
    /// The `SessionIndex` of its `<AuthnStatement>` (for single logout).
    pub session_index: Option<String>,
    /// Its attributes: name → values, in order.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A user signed in through SAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentity {
    /// The subject's `<NameID>`.
    pub name_id: String,
    /// The `<NameID>`'s format, if given.
    pub name_id_format: Option<String>,
    /// The identity provider's entity ID.
    pub issuer: String,
    /// The session index, for single logout.
    pub session_index: Option<String>,
    /// The attributes under their claim names (after the configured mapping), each a list of
    /// values.
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl SamlIdentity {
    /// The identity as claims for [`RoleRules`](crate::roles::RoleRules): `sub` (the NameID),
    /// `iss`, and each attribute as a list of strings (`groups`, `email`…).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use integration_sso::saml::SamlIdentity;
    /// let identity = SamlIdentity {
    ///     name_id: "ada@acme.example".into(),
    ///     name_id_format: None,
    ///     issuer: "https://idp.acme.example".into(),
    ///     session_index: None,
    ///     attributes: BTreeMap::from([("groups".to_owned(), vec!["Engineering".to_owned()])]),
    /// };
    /// assert_eq!(identity.claims()["groups"][0], "Engineering");
    /// assert_eq!(identity.claims()["sub"], "ada@acme.example");
    /// ```
    pub fn claims(&self) -> Value {
        let mut claims = Map::new();
        for (name, values) in &self.attributes {
            claims.insert(name.clone(), Value::from(values.clone()));
        }
        claims.insert("sub".into(), Value::from(self.name_id.clone()));
        claims.insert("iss".into(), Value::from(self.issuer.clone()));
        Value::Object(claims)
    }
}

/// Why a SAML login was refused. Each is a reason of its own, as audit events record it
/// ([`as_str`](Self::as_str)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SamlRefusal {
    /// Not a SAML response: bad base64, not XML, a DOCTYPE, too large, no assertion.
    Malformed(String),
    /// Nothing in the response is signed.
    Unsigned,
    /// A signature does not verify against the identity provider's certificates (the response
    /// was changed after signing, or signed by another key).
    Signature,
    /// The identity provider answered with an error status.
    Status(String),
    /// Issued by another identity provider.
    Issuer(String),
    /// The response's `Destination` is not our ACS URL.
    Destination(String),
    /// No bearer confirmation names our ACS URL as its `Recipient`.
    Recipient(String),
    /// The assertion is not for this service provider (its audiences do not name us).
    Audience(String),
    /// The assertion (or its confirmation) is past its `NotOnOrAfter`, or was issued too long
    /// ago.
    Expired(String),
    /// The assertion is not valid yet (`NotBefore` ahead, beyond the allowed clock skew).
    NotYetValid(String),
    /// The assertion answers another request than the pending login's.
    InResponseTo(String),
    /// No login is pending for this response and unsolicited (IdP-initiated) logins are off.
    Unsolicited,
    /// This assertion was used already.
    Replayed,
    /// Something this service provider does not do (an encrypted assertion).
    Unsupported(String),
}

impl SamlRefusal {
    /// The reason's name (`unsigned`, `signature`, `expired`…), as audit events give it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Unsigned => "unsigned",
            Self::Signature => "signature",
            Self::Status(_) => "status",
            Self::Issuer(_) => "issuer",
            Self::Destination(_) => "destination",
            Self::Recipient(_) => "recipient",
            Self::Audience(_) => "audience",
            Self::Expired(_) => "expired",
            Self::NotYetValid(_) => "not_yet_valid",
            Self::InResponseTo(_) => "in_response_to",
            Self::Unsolicited => "unsolicited",
            Self::Replayed => "replayed",
            Self::Unsupported(_) => "unsupported",
        }
    }
}

impl std::fmt::Display for SamlRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(d) => write!(f, "not a usable SAML response: {d}"),
            Self::Unsigned => f.write_str("nothing in the SAML response is signed"),
            Self::Signature => f.write_str(
                "a signature of the SAML response does not verify against the identity provider's certificates",
            ),
            Self::Status(d) => write!(f, "the identity provider answered with an error status: {d}"),
            Self::Issuer(d) => write!(f, "the assertion is from another identity provider: {d}"),
            Self::Destination(d) => write!(f, "the response is for another destination: {d}"),
            Self::Recipient(d) => write!(f, "the assertion is for another recipient: {d}"),
            Self::Audience(d) => write!(f, "the assertion is not for this service provider: {d}"),
            Self::Expired(d) => write!(f, "the assertion has expired: {d}"),
            Self::NotYetValid(d) => write!(f, "the assertion is not valid yet: {d}"),
            Self::InResponseTo(d) => write!(f, "the assertion answers another request: {d}"),
            Self::Unsolicited => {
                f.write_str("no login is pending for this response and unsolicited logins are not allowed")
            }
            Self::Replayed => f.write_str("this assertion was used already"),
            Self::Unsupported(d) => write!(f, "not supported: {d}"),
        }
    }
}
