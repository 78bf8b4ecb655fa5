//! SAML 2.0 login — the service provider side of Web Browser SSO (SP-initiated, HTTP-Redirect
//! binding out, HTTP-POST binding back).
//!
//! The flow and every check live here: the AuthnRequest's ID kept for the callback, the
//! response's size and encoding, then — on the signed part only — issuer, age, `NotBefore` /
//! `NotOnOrAfter`, audience, a bearer confirmation for our ACS URL answering our request, and
//! the assertion's ID recorded so that a replay is refused. XML signatures are never checked by
//! hand-written code: a [`SamlProtocol`] does the XML — the `integration-saml` crate's, on
//! `samael` and the xmlsec C library, kept out of the default build because it needs C
//! libraries (see the README).
//!
//! ```
//! use integration_sso::saml::{Certificate, IdentityProvider, SamlConfig};
//!
//! let idp = IdentityProvider::new("https://idp.acme.example", "https://idp.acme.example/sso")
//!     .with_certificate(Certificate::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x01])?);
//! let config = SamlConfig::new("https://app.example/saml", "https://app.example/saml/acs", idp)
//!     .map_attribute("http://schemas.xmlsoap.org/claims/Group", "groups");
//! config.check()?;
//! # Ok::<(), integration_core::Error>(())
//! ```
//!
//! A login: `begin` gives the URL to send the browser to and a [`PendingSaml`] to keep (in the
//! browser's session); the identity provider posts `SAMLResponse` to the ACS URL, and `finish`
//! turns it into a [`SamlIdentity`] — or a [`SamlRefusal`] saying why not.

mod checks;
mod ledger;
mod model;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use integration_core::store::{AuditAction, AuditSink};
use integration_core::{Error, ErrorKind, Result, TenantId};
use url::Url;

pub use ledger::{AssertionLedger, MemoryAssertionLedger};
pub use model::{Confirmation, SamlIdentity, SamlRefusal, SignedAssertion};

/// The largest `SAMLResponse` form value taken, base64 (512 KiB).
pub const MAX_RESPONSE_BYTES: usize = 512 * 1024;

/// An X.509 certificate (DER) an identity provider signs with.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate(Vec<u8>);

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({} bytes)", self.0.len())
    }
}

fn config_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message.into())
}

impl Certificate {
    /// A certificate from its DER bytes.
    ///
    /// # Errors
    /// A `Config` error when the bytes are not a DER `SEQUENCE` (not a certificate).
    pub fn from_der(der: Vec<u8>) -> Result<Self> {
        if der.first() != Some(&0x30) || der.len() < 4 {
            return Err(config_error("the identity provider's certificate is not DER (an X.509 SEQUENCE)"));
        }
        Ok(Self(der))
    }

    /// A certificate from PEM (`-----BEGIN CERTIFICATE-----`…) or from the bare base64 an
    /// IdP's metadata gives in `<X509Certificate>`.
    ///
    /// # Errors
    /// A `Config` error when it is neither.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("-----"))
            .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| config_error(format!("the identity provider's certificate is not PEM or base64: {e}")))?;
        Self::from_der(der)
    }

    /// Its DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0
    }
}

/// The identity provider a tenant signs in through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Its entity ID (the `Issuer` of its assertions).
    pub entity_id: String,
    /// Its single sign-on endpoint (HTTP-Redirect binding).
    pub sso_url: String,
    /// The certificates its signatures are checked against (more than one during a rollover).
    pub certificates: Vec<Certificate>,
}

impl IdentityProvider {
    /// An identity provider without certificates yet.
    pub fn new(entity_id: impl Into<String>, sso_url: impl Into<String>) -> Self {
        Self { entity_id: entity_id.into(), sso_url: sso_url.into(), certificates: Vec::new() }
    }

    /// With a signing certificate.
    pub fn with_certificate(mut self, certificate: Certificate) -> Self {
        self.certificates.push(certificate);
        self
    }
}

/// A tenant's SAML service provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SamlConfig {
    /// Our entity ID: the audience assertions must name.
    pub entity_id: String,
    /// Our Assertion Consumer Service URL (HTTP-POST): the `Recipient` and `Destination`.
    pub acs_url: String,
    /// The identity provider.
    pub idp: IdentityProvider,
    /// The clock difference allowed with the identity provider (default 60 s).
    pub clock_skew: Duration,
    /// How long after its `IssueInstant` an assertion is taken (default 5 minutes).
    pub max_assertion_age: Duration,
    /// The `NameIDPolicy` format asked for, if any.
    pub name_id_format: Option<String>,
    /// Whether responses nobody asked for (IdP-initiated) are taken (default: no).
    pub allow_unsolicited: bool,
    /// SAML attribute names → claim names (others keep their names).
    pub attribute_names: BTreeMap<String, String>,
}

impl SamlConfig {
    /// A service provider with the defaults.
    pub fn new(entity_id: impl Into<String>, acs_url: impl Into<String>, idp: IdentityProvider) -> Self {
        Self {
            entity_id: entity_id.into(),
            acs_url: acs_url.into(),
            idp,
            clock_skew: Duration::from_secs(60),
            max_assertion_age: Duration::from_secs(300),
            name_id_format: None,
            allow_unsolicited: false,
            attribute_names: BTreeMap::new(),
        }
    }

    /// With the SAML attribute `saml_name` given to roles and the host as `claim`.
    pub fn map_attribute(mut self, saml_name: impl Into<String>, claim: impl Into<String>) -> Self {
        self.attribute_names.insert(saml_name.into(), claim.into());
        self
    }

    /// With another allowed clock skew.
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// With IdP-initiated logins taken (a replay is still refused by the ledger).
    pub fn allow_unsolicited(mut self) -> Self {
        self.allow_unsolicited = true;
        self
    }

    /// With a `NameIDPolicy` format asked for
    /// (`urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`…).
    pub fn with_name_id_format(mut self, format: impl Into<String>) -> Self {
        self.name_id_format = Some(format.into());
        self
    }

    /// Checks the configuration: URLs where URLs go, entity IDs given, at least one
    /// certificate (a response is never taken unverified).
    ///
    /// # Errors
    /// A `Config` error naming what is wrong.
    pub fn check(&self) -> Result<()> {
        for (what, value) in
            [("the entity ID", &self.entity_id), ("the identity provider's entity ID", &self.idp.entity_id)]
        {
            if value.trim().is_empty() {
                return Err(config_error(format!("{what} is empty")));
            }
        }
        for (what, value) in [("the ACS URL", &self.acs_url), ("the identity provider's SSO URL", &self.idp.sso_url)] {
            Url::parse(value).map_err(|e| config_error(format!("{what} is not a URL ({value}): {e}")))?;
        }
        if self.idp.certificates.is_empty() {
            return Err(config_error(
                "the identity provider has no signing certificate: responses could not be verified",
            ));
        }
        Ok(())
    }
}

/// What to keep between `begin` and `finish` (in the browser's session): the request's ID.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingSaml {
    /// The AuthnRequest's `ID`, which the assertion must answer.
    pub request_id: String,
    /// Where the browser was going.
    pub relay_state: Option<String>,
    /// When the login began.
    pub started_at: DateTime<Utc>,
}

/// The XML side of SAML, implemented over an XML security library (`integration-saml`):
/// metadata and AuthnRequests written, and responses verified — reduced to what the identity
/// provider's certificates signed.
pub trait SamlProtocol: Send + Sync + std::fmt::Debug {
    /// Our SP metadata (`<EntityDescriptor>`).
    ///
    /// # Errors
    /// When the configuration cannot be written as metadata.
    fn metadata(&self, config: &SamlConfig) -> Result<String>;

    /// The URL sending the browser to the identity provider with an AuthnRequest of ID
    /// `request_id` (HTTP-Redirect binding) and `relay_state`.
    ///
    /// # Errors
    /// When the request cannot be written.
    fn authn_request_url(&self, config: &SamlConfig, request_id: &str, relay_state: Option<&str>) -> Result<String>;

    /// The signed assertion of `response` (the decoded `SAMLResponse`), its signatures checked
    /// against `config.idp.certificates`, taking only what they cover; a refusal for an
    /// unsigned, tampered, malformed or error response.
    fn verify(&self, config: &SamlConfig, response: &str) -> std::result::Result<SignedAssertion, SamlRefusal>;
}

/// A tenant's SAML login.
#[derive(Debug, Clone)]
pub struct SamlLogin {
    tenant: TenantId,
    config: SamlConfig,
    protocol: Arc<dyn SamlProtocol>,
    ledger: Arc<dyn AssertionLedger>,
    audit: crate::audit::Audit,
}

impl SamlLogin {
    /// The login of `tenant` through `config`'s identity provider, with `protocol` doing the
    /// XML; assertions used are remembered in memory until [`with_ledger`](Self::with_ledger).
    ///
    /// # Errors
    /// A `Config` error from [`SamlConfig::check`].
    pub fn new(tenant: TenantId, config: SamlConfig, protocol: Arc<dyn SamlProtocol>) -> Result<Self> {
        config.check()?;
        Ok(Self {
            tenant,
            config,
            protocol,
            ledger: Arc::new(MemoryAssertionLedger::new()),
            audit: crate::audit::Audit::default(),
        })
    }

    /// With used assertions remembered in `ledger` (shared by every worker taking logins).
    pub fn with_ledger(mut self, ledger: Arc<dyn AssertionLedger>) -> Self {
        self.ledger = ledger;
        self
    }

    /// With every finished login recorded in `sink` (`sign_in`: the NameID, or the refusal's
    /// reason).
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = crate::audit::Audit::to(sink);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SamlConfig {
        &self.config
    }

    /// Our SP metadata, for the identity provider's administrator.
    ///
    /// # Errors
    /// The protocol's.
    pub fn metadata(&self) -> Result<String> {
        self.protocol.metadata(&self.config)
    }

    /// Begins a login: the URL to send the browser to, and what to keep for the response.
    ///
    /// # Errors
    /// The protocol's; a `Crypto` error without randomness.
    pub fn begin(&self, relay_state: Option<&str>) -> Result<(String, PendingSaml)> {
        // An xs:ID must not begin with a digit; 128 random bits.
        let random = integration_core::crypto::random_bytes(16)?;
        let request_id = format!("_{}", integration_core::hex::encode(&random));
        let url = self.protocol.authn_request_url(&self.config, &request_id, relay_state)?;
        let pending = PendingSaml { request_id, relay_state: relay_state.map(str::to_owned), started_at: Utc::now() };
        Ok((url, pending))
    }

    /// Finishes a login from the posted `SAMLResponse` and the pending login the host kept
    /// (`None` if it had none), at the current time. See [`finish_at`](Self::finish_at).
    ///
    /// # Errors
    /// The ledger's errors; a refusal is `Ok(Err(refusal))`.
    pub async fn finish(
        &self,
        pending: Option<&PendingSaml>,
        saml_response: &str,
    ) -> Result<std::result::Result<SamlIdentity, SamlRefusal>> {
        self.finish_at(pending, saml_response, Utc::now()).await
    }

    /// Finishes a login at `now`: the response decoded (at most [`MAX_RESPONSE_BYTES`]), its
    /// signatures verified and only the signed part read, the assertion checked, its ID
    /// recorded (a second use is refused as `Replayed`), the attributes mapped.
    ///
    /// # Errors
    /// The ledger's errors; a refusal is `Ok(Err(refusal))`.
    pub async fn finish_at(
        &self,
        pending: Option<&PendingSaml>,
        saml_response: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<SamlIdentity, SamlRefusal>> {
        let outcome = self.finished(pending, saml_response, now).await?;
        let counted = outcome.as_ref().err().map_or("success", SamlRefusal::as_str);
        crate::audit::count(crate::audit::Counted::SignIn { protocol: "saml", outcome: counted });
        let action = AuditAction::SignIn;
        match &outcome {
            Ok(identity) => {
                let detail = format!("saml name_id={} issuer={}", identity.name_id, identity.issuer);
                self.audit.record(&self.tenant, action, detail, None).await;
            }
            Err(refusal) => {
                let detail = format!("saml issuer={}", self.config.idp.entity_id);
                self.audit.record(&self.tenant, action, detail, Some(refusal.as_str())).await;
            }
        }
        Ok(outcome)
    }

    async fn finished(
        &self,
        pending: Option<&PendingSaml>,
        saml_response: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<SamlIdentity, SamlRefusal>> {
        let xml = match decode(saml_response) {
            Ok(xml) => xml,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let assertion = match self.protocol.verify(&self.config, &xml) {
            Ok(assertion) => assertion,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Err(refusal) = checks::check(&self.config, pending, &assertion, now) {
            return Ok(Err(refusal));
        }
        let until = checks::remember_until(&self.config, &assertion);
        if !self.ledger.first_use(&self.tenant, &assertion.issuer, &assertion.id, until, now).await? {
            return Ok(Err(SamlRefusal::Replayed));
        }
        let mut attributes = BTreeMap::<String, Vec<String>>::new();
        for (name, values) in assertion.attributes {
            let claim = self.config.attribute_names.get(&name).cloned().unwrap_or(name);
            attributes.entry(claim).or_default().extend(values);
        }
        Ok(Ok(SamlIdentity {
            name_id: assertion.name_id,
            name_id_format: assertion.name_id_format,
            issuer: assertion.issuer,
            session_index: assertion.session_index,
            attributes,
        }))
    }
}

/// The `SAMLResponse` form value decoded: base64 (line breaks allowed), at most
/// [`MAX_RESPONSE_BYTES`], UTF-8.
fn decode(saml_response: &str) -> std::result::Result<String, SamlRefusal> {
    if saml_response.len() > MAX_RESPONSE_BYTES {
        return Err(SamlRefusal::Malformed(format!(
            "the response is {} bytes, more than the {MAX_RESPONSE_BYTES} taken",
            saml_response.len()
        )));
    }
    let compact: Vec<u8> = saml_response.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| SamlRefusal::Malformed(format!("the response is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| SamlRefusal::Malformed("the response is not UTF-8".into()))
}
