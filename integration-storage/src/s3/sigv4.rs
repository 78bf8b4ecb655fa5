//! AWS Signature Version 4 on AWS's own `aws-sigv4` crate (never hand-written), with S3's
//! rules: the path encoded once and not normalised, and the payload's SHA-256 signed and sent as
//! `x-amz-content-sha256`. As an [`Authenticator`], every attempt of a request is signed anew
//! (a retried request carries a fresh date); [`SigV4::presign`] makes a URL that works without
//! credentials until it expires.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use integration_core::auth::{AuthStamp, Authenticator};
use integration_core::http::{HeaderName, HeaderValue};
use integration_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Signs requests for one access key in one region.
#[derive(Clone)]
pub struct SigV4 {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    region: String,
    service: String,
}

impl std::fmt::Debug for SigV4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.access_key_id.chars().take(4).collect();
        f.debug_struct("SigV4")
            .field("access_key_id", &format!("{shown}…"))
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn signing_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Validation, format!("the request could not be signed: {e}"))
}

impl SigV4 {
    /// Signs for S3 in `region` with an access key.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: SecretString::from(secret_access_key.into()),
            session_token: None,
            region: region.into(),
            service: "s3".into(),
        }
    }

    /// With temporary credentials' session token.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(SecretString::from(token.into()));
        self
    }

    fn identity(&self) -> Identity {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose_secret().to_owned(),
            self.session_token.as_ref().map(|t| t.expose_secret().to_owned()),
            None,
            "integrations",
        )
        .into()
    }

    fn settings(location: SignatureLocation, expires_in: Option<Duration>) -> SigningSettings {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = match location {
            SignatureLocation::Headers => PayloadChecksumKind::XAmzSha256,
            _ => PayloadChecksumKind::NoHeader,
        };
        settings.signature_location = location;
        settings.expires_in = expires_in;
        settings
    }

    /// A URL for `method` on `url` that works without credentials for `expires_in` (at most
    /// seven days, S3's limit) from `now`.
    ///
    /// # Errors
    /// A `Validation` error for a longer expiry or a URL that cannot be signed.
    pub fn presign(&self, method: &str, url: &Url, expires_in: Duration, now: SystemTime) -> Result<Url> {
        if expires_in > Duration::from_secs(7 * 24 * 3600) || expires_in.is_zero() {
            return Err(Error::validation("expires_in", "a presigned URL lasts from one second to seven days"));
        }
        let identity = self.identity();
        let host = host_header(url)?;
        let signable = SignableRequest::new(
            method,
            url.as_str(),
            std::iter::once(("host", host.as_str())),
            SignableBody::UnsignedPayload,
        )
        .map_err(signing_error)?;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(now)
            .settings(Self::settings(SignatureLocation::QueryParams, Some(expires_in)))
            .build()
            .map_err(signing_error)?
            .into();
        let (instructions, _) = sign(signable, &params).map_err(signing_error)?.into_parts();
        let mut signed = url.clone();
        {
            let mut query = signed.query_pairs_mut();
            for (name, value) in instructions.params() {
                query.append_pair(name, value);
            }
        }
        Ok(signed)
    }
}

/// The `Host` header a request to `url` carries (with a port other than the scheme's).
fn host_header(url: &Url) -> Result<String> {
    let host = url.host_str().ok_or_else(|| Error::validation("url", "the URL has no host"))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[async_trait]
impl Authenticator for SigV4 {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp> {
        let identity = self.identity();
        let host = host_header(request.url())?;
        let mut headers: Vec<(&str, &str)> = vec![("host", host.as_str())];
        headers.extend(
            request
                .headers()
                .iter()
                .filter(|(name, _)| *name != "host")
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
        );
        let body = match request.body() {
            Some(body) => match body.as_bytes() {
                Some(bytes) => SignableBody::Bytes(bytes),
                None => SignableBody::UnsignedPayload,
            },
            None => SignableBody::Bytes(&[]),
        };
        let signable =
            SignableRequest::new(request.method().as_str(), request.url().as_str(), headers.into_iter(), body)
                .map_err(signing_error)?;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(Self::settings(SignatureLocation::Headers, None))
            .build()
            .map_err(signing_error)?
            .into();
        let (instructions, _) = sign(signable, &params).map_err(signing_error)?.into_parts();
        let (signed_headers, _) = instructions.into_parts();
        for header in signed_headers {
            let name = HeaderName::from_static(header.name());
            let mut value = HeaderValue::from_str(header.value()).map_err(signing_error)?;
            value.set_sensitive(header.sensitive() || name == "authorization");
            request.headers_mut().insert(name, value);
        }
        Ok(AuthStamp(0))
    }
}
