//! SAML 2.0 service provider for the integrations SDK: the XML side of
//! [`integration_sso::saml`] on [`samael`] and the xmlsec C library — SP metadata, AuthnRequests
//! (HTTP-Redirect binding), and responses whose signatures are verified against the identity
//! provider's certificates, keeping only what they cover (no signature-wrapping).
//!
//! Opt-in and outside the SDK's workspace: it links libxmlsec1, libxml2 and OpenSSL and needs
//! libclang to build (Debian: `apt-get install libxmlsec1-dev libclang-dev pkg-config`).
//!
//! ```
//! use base64::Engine as _;
//! use integration_core::TenantId;
//! use integration_sso::saml::{Certificate, IdentityProvider, SamlConfig, SamlRefusal};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let idp_certificate_pem = "MAMCAQE="; // the IdP's signing certificate, PEM or bare base64
//! let idp = IdentityProvider::new("https://idp.acme.example", "https://idp.acme.example/sso")
//!     .with_certificate(Certificate::from_pem(idp_certificate_pem)?);
//! let config = SamlConfig::new("https://app.example/saml", "https://app.example/saml/acs", idp);
//! let login = integration_saml::login(TenantId::new("acme")?, config)?;
//!
//! // For the identity provider's administrator:
//! assert!(login.metadata()?.contains("https://app.example/saml/acs"));
//! // Send the browser to `url`; keep `pending` in its session:
//! let (url, pending) = login.begin(Some("/dashboard"))?;
//! assert!(url.starts_with("https://idp.acme.example/sso?SAMLRequest="));
//!
//! // The identity provider posts `SAMLResponse` back; an unsigned one is refused:
//! let unsigned = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0" IssueInstant="2026-12-07T12:00:00Z"/>"#;
//! let posted = base64::engine::general_purpose::STANDARD.encode(unsigned);
//! assert_eq!(login.finish(Some(&pending), &posted).await?, Err(SamlRefusal::Unsigned));
//! # Ok(()) }
//! ```
//!
//! With an identity provider's metadata (Okta, Entra ID, Google Workspace, ADFS):
//!
//! ```no_run
//! # use integration_core::TenantId;
//! # use integration_sso::saml::SamlConfig;
//! # async fn example(idp_metadata: &str, saml_response: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let idp = integration_saml::identity_provider_from_metadata(idp_metadata)?;
//! let config = SamlConfig::new("https://app.example/saml", "https://app.example/saml/acs", idp);
//! let login = integration_saml::login(TenantId::new("acme")?, config)?;
//! # let (_, pending) = login.begin(None)?;
//! match login.finish(Some(&pending), saml_response).await? {
//!     Ok(identity) => println!("signed in: {}", identity.name_id),
//!     Err(refusal) => println!("refused ({}): {refusal}", refusal.as_str()),
//! }
//! # Ok(()) }
//! ```

mod verify;

use std::str::FromStr;
use std::sync::Arc;

use integration_core::{Error, ErrorKind, Result, TenantId};
use integration_sso::saml::{
    Certificate, IdentityProvider, SamlConfig, SamlLogin, SamlProtocol, SamlRefusal, SignedAssertion,
};
use samael::metadata::{EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING, IndexedEndpoint, SpSsoDescriptor};
use samael::service_provider::ServiceProvider;
use samael::traits::ToXml;

/// The SAML protocol on samael and xmlsec.
#[derive(Debug, Clone, Copy, Default)]
pub struct XmlSecProtocol;

/// The SAML login of `tenant` through `config`, on [`XmlSecProtocol`].
///
/// # Errors
/// A `Config` error from [`SamlConfig::check`].
pub fn login(tenant: TenantId, config: SamlConfig) -> Result<SamlLogin> {
    SamlLogin::new(tenant, config, Arc::new(XmlSecProtocol))
}

fn config_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message.into())
}

/// The identity provider an `<EntityDescriptor>` (an IdP's metadata) describes: its entity ID,
/// its HTTP-Redirect single sign-on endpoint and its signing certificates.
///
/// # Errors
/// A `Config` error when the metadata is not XML, not an identity provider's, or lacks an
/// entity ID, a Redirect endpoint or a signing certificate.
pub fn identity_provider_from_metadata(metadata: &str) -> Result<IdentityProvider> {
    verify::well_formed(metadata).map_err(|e| config_error(format!("the identity provider's metadata: {e}")))?;
    let descriptor = EntityDescriptor::from_str(metadata)
        .map_err(|e| config_error(format!("the identity provider's metadata is not SAML metadata: {e}")))?;
    let entity_id =
        descriptor.entity_id.clone().ok_or_else(|| config_error("the identity provider's metadata has no entityID"))?;
    let idps = descriptor.idp_sso_descriptors.unwrap_or_default();
    let sso_url = idps
        .iter()
        .flat_map(|idp| &idp.single_sign_on_services)
        .find(|service| service.binding == HTTP_REDIRECT_BINDING)
        .map(|service| service.location.clone())
        .ok_or_else(|| config_error("the identity provider's metadata has no HTTP-Redirect SingleSignOnService"))?;
    let mut provider = IdentityProvider::new(entity_id, sso_url);
    for key in idps.iter().flat_map(|idp| &idp.key_descriptors) {
        if key.key_use.as_deref().is_some_and(|u| u != "signing" && !u.is_empty()) {
            continue;
        }
        for certificate in key.key_info.x509_data.iter().flat_map(|data| &data.certificates) {
            provider = provider.with_certificate(Certificate::from_pem(certificate)?);
        }
    }
    if provider.certificates.is_empty() {
        return Err(config_error("the identity provider's metadata has no signing certificate"));
    }
    Ok(provider)
}

impl XmlSecProtocol {
    fn service_provider(config: &SamlConfig) -> ServiceProvider {
        ServiceProvider {
            entity_id: Some(config.entity_id.clone()),
            acs_url: Some(config.acs_url.clone()),
            idp_metadata: verify::idp_descriptor(config),
            authn_name_id_format: config.name_id_format.clone(),
            ..ServiceProvider::default()
        }
    }
}

impl SamlProtocol for XmlSecProtocol {
    fn metadata(&self, config: &SamlConfig) -> Result<String> {
        let descriptor = EntityDescriptor {
            entity_id: Some(config.entity_id.clone()),
            sp_sso_descriptors: Some(vec![SpSsoDescriptor {
                protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
                authn_requests_signed: Some(false),
                want_assertions_signed: Some(true),
                name_id_formats: config.name_id_format.clone().map(|format| vec![format]),
                assertion_consumer_services: vec![IndexedEndpoint {
                    binding: HTTP_POST_BINDING.into(),
                    location: config.acs_url.clone(),
                    response_location: None,
                    index: 0,
                    is_default: Some(true),
                }],
                ..SpSsoDescriptor::default()
            }]),
            ..EntityDescriptor::default()
        };
        descriptor.to_string().map_err(|e| config_error(format!("the SP metadata could not be written: {e}")))
    }

    fn authn_request_url(&self, config: &SamlConfig, request_id: &str, relay_state: Option<&str>) -> Result<String> {
        let written =
            |e: Box<dyn std::error::Error>| config_error(format!("the AuthnRequest could not be written: {e}"));
        let mut request =
            Self::service_provider(config).make_authentication_request(&config.idp.sso_url).map_err(written)?;
        request.id = request_id.to_owned();
        let url = request.redirect(relay_state.unwrap_or_default()).map_err(written)?;
        url.map(String::from).ok_or_else(|| config_error("the AuthnRequest has no destination"))
    }

    fn verify(&self, config: &SamlConfig, response: &str) -> std::result::Result<SignedAssertion, SamlRefusal> {
        verify::verify(&Self::service_provider(config), response)
    }
}
