//! Mutual TLS: an [`HttpClient`](super::HttpClient) that presents a client certificate, as
//! providers such as ADP require on every call. A reqwest pool presents one identity, so such a
//! client — its pool, and the breaker, limiter and retry-budget state around it — belongs to one
//! connection rather than to the process.

use reqwest::{Certificate, Identity};
use secrecy::ExposeSecret;

use super::client::HttpClientBuilder;
use crate::config::IntegrationConfig;
use crate::error::{Error, Result};

const NOT_A_CERTIFICATE: &str = "not a PEM certificate (-----BEGIN CERTIFICATE-----)";

/// Where a connection's mutual-TLS material is in its configuration: the secrets holding the
/// client certificate and its private key (PEM), and an optional setting with extra root
/// certificates to trust besides the public ones (PEM).
#[derive(Debug, Clone, Copy)]
pub struct ClientCertificate<'a> {
    /// The secret holding the client certificate (and any intermediates), PEM.
    pub certificate: &'a str,
    /// The secret holding its unencrypted private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: &'a str,
    /// The optional setting holding extra roots to trust, PEM.
    pub extra_roots: Option<&'a str>,
}

impl Default for ClientCertificate<'static> {
    /// The conventional names: secrets `client_certificate` and `client_key`, setting
    /// `ca_certificate`.
    fn default() -> Self {
        Self { certificate: "client_certificate", key: "client_key", extra_roots: Some("ca_certificate") }
    }
}

impl HttpClientBuilder {
    /// Presents the client certificate `from` names in `config` on every connection. A bad PEM is
    /// a [`Config`](crate::ErrorKind::Config) error naming its field (`secrets.client_key`) and
    /// the provider, here; a key that does not match its certificate, or an extra root that is
    /// not a valid certificate, is one from [`build`](HttpClientBuilder::build). Errors never
    /// carry the key.
    ///
    /// ```
    /// use integration_core::http::{ClientCertificate, HttpClient};
    /// use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
    ///
    /// let config = IntegrationConfig::new(TenantId::new("acme")?, ConnectionId::new("payroll")?, Domain::Hris,
    ///         ProviderId::new("adp")?)
    ///     .with_secret("client_certificate", "not a certificate")
    ///     .with_secret("client_key", "not a key");
    /// let from = ClientCertificate { certificate: "client_certificate", key: "client_key", extra_roots: None };
    /// let error = HttpClient::builder().client_certificate(&config, from).unwrap_err();
    /// assert_eq!(error.field(), Some("secrets.client_certificate"));
    /// # Ok::<(), integration_core::Error>(())
    /// ```
    pub fn client_certificate(mut self, config: &IntegrationConfig, from: ClientCertificate<'_>) -> Result<Self> {
        let invalid = |field: String, why: &str| {
            Error::config(format!("{field}: {why}")).with_field(field).with_provider(config.provider.as_str())
        };
        let certificate = config.secret(from.certificate)?.expose_secret();
        let key = config.secret(from.key)?.expose_secret();
        match Certificate::from_pem_bundle(certificate.as_bytes()) {
            Ok(certs) if !certs.is_empty() => {}
            _ => return Err(invalid(format!("secrets.{}", from.certificate), NOT_A_CERTIFICATE)),
        }
        let identity = Identity::from_pem(format!("{certificate}\n{key}").as_bytes()).map_err(|_| {
            invalid(
                format!("secrets.{}", from.key),
                "not an unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)",
            )
        })?;
        if let Some(setting) = from.extra_roots
            && let Some(pem) = config.settings.get(setting).and_then(serde_json::Value::as_str)
        {
            match Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(roots) if !roots.is_empty() => self.roots = roots,
                _ => return Err(invalid(format!("settings.{setting}"), NOT_A_CERTIFICATE)),
            }
        }
        // Whether the roots and the key are usable shows when the client is built, once.
        let blame = Blame {
            key: format!("secrets.{}", from.key),
            roots: format!("settings.{}", from.extra_roots.unwrap_or("extra_roots")),
            provider: config.provider.as_str().to_owned(),
        };
        self.identity = Some((identity, blame));
        Ok(self)
    }
}

/// Which configuration fields to name when a client presenting a certificate cannot be built.
#[derive(Debug, Clone)]
pub(super) struct Blame {
    key: String,
    roots: String,
    provider: String,
}

impl Blame {
    /// The error of a failed build. Only the extra roots and the identity can fail it: the roots
    /// if a build without the identity fails too (`roots_fail`), else the key.
    pub(super) fn failed_build(&self, roots_fail: bool) -> Error {
        let (field, why) = if roots_fail {
            (&self.roots, "a certificate in it is not a valid X.509 certificate")
        } else {
            (&self.key, "the key does not match the certificate")
        };
        Error::config(format!("{field}: {why}")).with_field(field.clone()).with_provider(&self.provider)
    }
}
