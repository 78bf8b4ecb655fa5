//! Credentials that never change: API keys, Basic, static Bearer tokens.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::{AuthStamp, Authenticator};
use crate::error::{Error, Result};

/// A sensitive header value (never logged by `http`'s Debug).
fn sensitive(value: &str, what: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| Error::validation(what, "the credential contains characters not allowed in an HTTP header"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// An API key sent in a header or a query parameter.
#[derive(Clone)]
pub struct ApiKey {
    place: Place,
    key: SecretString,
}

#[derive(Clone)]
enum Place {
    Header(HeaderName, HeaderValue),
    Query(String),
}

impl ApiKey {
    /// The key in header `name` (`X-Api-Key`). Fails on a header name or key value HTTP does not
    /// allow.
    pub fn header(name: &str, key: impl Into<String>) -> Result<Self> {
        let key: String = key.into();
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::validation("api_key.header", format!("{name:?} is not a valid header name")))?;
        let value = sensitive(&key, "api_key")?;
        Ok(Self { place: Place::Header(name, value), key: key.into() })
    }

    /// The key in query parameter `name`. Query strings are never logged or put in errors.
    pub fn query(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self { place: Place::Query(name.into()), key: SecretString::from(key.into()) }
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match &self.place {
            Place::Header(name, _) => format!("header {name}"),
            Place::Query(name) => format!("query {name}"),
        };
        f.debug_struct("ApiKey").field("in", &place).field("key", &"[redacted]").finish()
    }
}

#[async_trait]
impl Authenticator for ApiKey {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp> {
        match &self.place {
            Place::Header(name, value) => {
                request.headers_mut().insert(name.clone(), value.clone());
            }
            Place::Query(name) => {
                request.url_mut().query_pairs_mut().append_pair(name, self.key.expose_secret());
            }
        }
        Ok(AuthStamp::default())
    }
}

/// HTTP Basic authentication.
#[derive(Clone)]
pub struct Basic {
    value: HeaderValue,
}

impl Basic {
    /// `user` and `password`, encoded once.
    pub fn new(user: impl AsRef<str>, password: impl AsRef<str>) -> Self {
        let encoded = STANDARD.encode(format!("{}:{}", user.as_ref(), password.as_ref()));
        let mut value =
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        Self { value }
    }
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Basic([redacted])")
    }
}

#[async_trait]
impl Authenticator for Basic {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp> {
        request.headers_mut().insert(AUTHORIZATION, self.value.clone());
        Ok(AuthStamp::default())
    }
}

/// A static bearer token (a personal access token, say). For OAuth2 tokens that expire, use
/// the [`TokenManager`](super::TokenManager).
#[derive(Clone)]
pub struct Bearer {
    value: Result<HeaderValue, String>,
}

impl Bearer {
    /// `token` as `Authorization: Bearer <token>`.
    pub fn new(token: impl AsRef<str>) -> Self {
        let value = sensitive(&format!("Bearer {}", token.as_ref()), "token").map_err(|e| e.message().to_owned());
        Self { value }
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer([redacted])")
    }
}

#[async_trait]
impl Authenticator for Bearer {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp> {
        let value = self.value.as_ref().map_err(|message| Error::validation("token", message.clone()))?;
        request.headers_mut().insert(AUTHORIZATION, value.clone());
        Ok(AuthStamp::default())
    }
}

/// Sets `Authorization: Bearer <token>` on a request.
pub(crate) fn set_bearer(request: &mut reqwest::Request, token: &SecretString) -> Result<()> {
    let value = sensitive(&format!("Bearer {}", token.expose_secret()), "access_token")?;
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, "https://api.example.com/v1/x?a=1".parse().expect("url"))
    }

    #[tokio::test]
    async fn each_credential_lands_where_it_belongs_and_never_in_debug() {
        let mut r = request();
        ApiKey::header("X-Api-Key", "k-123").expect("valid").authorize(&mut r).await.expect("ok");
        assert_eq!(r.headers()["x-api-key"], "k-123");
        assert!(r.headers()["x-api-key"].is_sensitive());

        let mut r = request();
        ApiKey::query("api_key", "k 123").authorize(&mut r).await.expect("ok");
        assert_eq!(r.url().query(), Some("a=1&api_key=k+123"));

        let mut r = request();
        Basic::new("user", "pa:ss").authorize(&mut r).await.expect("ok");
        assert_eq!(r.headers()[AUTHORIZATION], "Basic dXNlcjpwYTpzcw==");

        let mut r = request();
        Bearer::new("t0k").authorize(&mut r).await.expect("ok");
        assert_eq!(r.headers()[AUTHORIZATION], "Bearer t0k");

        let debug = format!(
            "{:?} {:?} {:?} {:?}",
            ApiKey::header("X-Api-Key", "k-123").expect("valid"),
            ApiKey::query("api_key", "k-123"),
            Basic::new("user", "pa:ss"),
            Bearer::new("t0k")
        );
        for secret in ["k-123", "pa:ss", "dXNlcjpwYTpzcw", "t0k"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[tokio::test]
    async fn credentials_http_cannot_carry_are_a_validation_error() {
        let err = ApiKey::header("X-Api-Key", "bad\nkey").expect_err("newline");
        assert_eq!(err.field(), Some("api_key"));
        assert!(!err.to_string().contains("bad"), "{err}");
        assert!(ApiKey::header("bad header", "k").is_err());
        let err = Bearer::new("a\r\nb").authorize(&mut request()).await.expect_err("newline");
        assert_eq!(err.field(), Some("token"));
    }
}
