//! Mutual TLS for the fakes: a certificate authority made at start ([`Authority`]), the client
//! certificates it issues, and [`TlsServer`], an axum application served over HTTPS on
//! `127.0.0.1:0` that refuses, during the handshake, every client without a certificate the
//! authority signed.
//!
//! ```
//! use integration_testkit::fake::tls::Authority;
//!
//! let ca = Authority::new("Fake CA");
//! let (cert, key) = ca.issue_client("client-1");
//! assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(key.contains("PRIVATE KEY"));
//! assert!(ca.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// A certificate authority generated in memory: it signs the server's certificate and the
/// client certificates the fake accepts.
pub struct Authority {
    certificate: CertificateDer<'static>,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A new authority named `name` (a fresh P-256 key).
    ///
    /// # Panics
    /// If the key or the certificate cannot be generated — the test cannot run at all then.
    #[allow(clippy::expect_used)]
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let certificate = params.self_signed(&key).expect("a self-signed CA certificate");
        let pem = certificate.pem();
        Self { certificate: certificate.der().clone(), pem, issuer: Issuer::new(params, key) }
    }

    /// The authority's certificate (PEM): the root a client trusts to reach the fake.
    pub fn certificate_pem(&self) -> &str {
        &self.pem
    }

    /// A client certificate for `common_name` signed by this authority: `(certificate PEM,
    /// PKCS#8 private key PEM)`.
    ///
    /// # Panics
    /// If the key or the certificate cannot be generated.
    #[allow(clippy::expect_used)]
    pub fn issue_client(&self, common_name: &str) -> (String, String) {
        let key = KeyPair::generate().expect("a client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client parameters");
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let certificate = params.signed_by(&key, &self.issuer).expect("a client certificate");
        (certificate.pem(), key.serialize_pem())
    }

    /// A server configuration for `127.0.0.1` and `localhost` that requires a client
    /// certificate signed by this authority.
    ///
    /// # Panics
    /// If the certificate or the configuration cannot be made.
    #[allow(clippy::expect_used)]
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().expect("a server key");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("server parameters");
        params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let certificate = params.signed_by(&key, &self.issuer).expect("a server certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.certificate.clone()).expect("the CA certificate is a valid root");
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .expect("a client certificate verifier");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![certificate.der().clone()], key)
            .expect("the server certificate and key match");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// An axum application served over HTTPS (HTTP/1.1) on a free loopback port, for as long as
/// the handle lives. A client whose certificate the configuration refuses fails the handshake.
#[derive(Debug)]
pub struct TlsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsServer {
    /// Serves `app` with `config` on `127.0.0.1:0`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(app: axum::Router, config: Arc<rustls::ServerConfig>) -> Self {
        #[allow(clippy::expect_used)]
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port for a fake");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("the fake's address");
        let acceptor = TlsAcceptor::from(config);
        let task = tokio::spawn(async move {
            // The connections live in the set, so stopping the server (aborting this task)
            // closes them too.
            let mut connections = JoinSet::new();
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "a TLS fake could not accept a connection");
                        continue;
                    }
                };
                while connections.try_join_next().is_some() {}
                let (acceptor, app) = (acceptor.clone(), app.clone());
                connections.spawn(async move {
                    let tls = match acceptor.accept(stream).await {
                        Ok(tls) => tls,
                        Err(e) => return tracing::debug!(error = %e, "TLS handshake refused"),
                    };
                    let service = TowerToHyperService::new(app);
                    if let Err(e) =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await
                    {
                        tracing::debug!(error = %e, "a TLS fake connection ended with an error");
                    }
                });
            }
        });
        Self { addr, task }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
