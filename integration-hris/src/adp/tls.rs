//! The adapter's own HTTPS client: ADP wants the client certificate on every call, token and
//! API alike, and a reqwest client presents one identity. Its connection pool, and the breaker,
//! limiter and retry-budget state of the [`HttpClient`] wrapped around it, are therefore per
//! connection rather than shared with the process's client.

use std::time::Duration;

use integration_core::http::HttpClient;
use integration_core::{Error, IntegrationConfig, Result};
use reqwest::{Certificate, Identity};
use secrecy::ExposeSecret;
use serde_json::Value;

/// An [`HttpClient`] presenting `client_certificate` + `client_key` and trusting, besides the
/// public roots, the optional `ca_certificate`. A bad PEM is a `Config` error naming its field;
/// errors never carry the key.
pub(super) fn mtls_client(config: &IntegrationConfig) -> Result<HttpClient> {
    let invalid = |field: &str, why: &str| {
        Error::config(format!("{field}: {why}")).with_field(field.to_owned()).with_provider(super::PROVIDER)
    };
    let certificate = config.secret("client_certificate")?.expose_secret();
    let key = config.secret("client_key")?.expose_secret();
    match Certificate::from_pem_bundle(certificate.as_bytes()) {
        Ok(certs) if !certs.is_empty() => {}
        _ => return Err(invalid("secrets.client_certificate", "not a PEM certificate (-----BEGIN CERTIFICATE-----)")),
    }
    let identity = Identity::from_pem(format!("{certificate}\n{key}").as_bytes()).map_err(|_| {
        invalid("secrets.client_key", "not an unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)")
    })?;
    let roots = match config.settings.get("ca_certificate").and_then(Value::as_str) {
        Some(ca) => match Certificate::from_pem_bundle(ca.as_bytes()) {
            Ok(roots) if !roots.is_empty() => roots,
            _ => return Err(invalid("settings.ca_certificate", "not a PEM certificate (-----BEGIN CERTIFICATE-----)")),
        },
        None => Vec::new(),
    };
    let builder = || {
        let builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("integrations-rs/", env!("CARGO_PKG_VERSION")));
        roots.iter().fold(builder, |b, root| b.add_root_certificate(root.clone()))
    };
    match builder().identity(identity).build() {
        Ok(client) => Ok(HttpClient::from_reqwest(client)),
        // Only the roots and the identity can fail the build: find which.
        Err(_) if builder().build().is_err() => {
            Err(invalid("settings.ca_certificate", "a certificate in it is not a valid X.509 certificate"))
        }
        Err(_) => Err(invalid("secrets.client_key", "the key does not match the certificate or is not supported")),
    }
}
