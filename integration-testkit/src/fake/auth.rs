//! How a fake checks who is calling: [`Auth`] (an API key in a header, HTTP Basic, a fixed
//! bearer token, or the access tokens an OAuth2 [`TokenIssuer`] issued), and the token endpoint
//! logic of an OAuth2 provider — the refresh-token and client-credentials grants, client
//! authentication by HTTP Basic or in the form, access tokens that expire, and refresh tokens
//! that rotate.
//!
//! ```
//! use integration_testkit::fake::auth::{Auth, TokenIssuer};
//! use axum::http::{HeaderMap, HeaderValue, header};
//!
//! let issuer = TokenIssuer::new("client", "secret").with_refresh_token("rt-1").rotating();
//! let form = [("grant_type", "refresh_token"), ("refresh_token", "rt-1"), ("client_id", "client"), ("client_secret", "secret")];
//! let answer = issuer.grant(&HeaderMap::new(), &form.map(|(k, v)| (k.to_owned(), v.to_owned())).into()).unwrap();
//! let access = answer["access_token"].as_str().unwrap();
//! assert_ne!(answer["refresh_token"], "rt-1", "a rotating issuer hands out a new refresh token");
//!
//! let auth = Auth::OAuth2(issuer.clone());
//! let mut headers = HeaderMap::new();
//! headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {access}")).unwrap());
//! assert!(auth.allows(&headers));
//! auth.expire();
//! assert!(!auth.allows(&headers), "expired tokens are refused");
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

/// Who may call a fake's API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// Anyone (an API the fake guards itself, or a public one).
    None,
    /// An API key in a header (`X-Api-Key: <key>`).
    ApiKey {
        /// The header's name.
        header: &'static str,
        /// The key.
        key: String,
    },
    /// HTTP Basic. With `password: None` any password is accepted: the provider's API key is
    /// the user name (BambooHR).
    Basic {
        /// The user name.
        user: String,
        /// The password, when it matters.
        password: Option<String>,
    },
    /// `Authorization: Bearer <token>` with one fixed token.
    Bearer(String),
    /// `Authorization: Bearer <token>` with a live token the issuer issued.
    OAuth2(TokenIssuer),
}

impl Auth {
    /// Whether `headers` carry the credentials.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let bearer = authorization.and_then(|v| v.strip_prefix("Bearer "));
        match self {
            Self::None => true,
            Self::ApiKey { header, key } => headers.get(*header).and_then(|v| v.to_str().ok()) == Some(key.as_str()),
            Self::Basic { user, password } => basic_credentials(headers)
                .is_some_and(|(u, p)| u == *user && password.as_ref().is_none_or(|expected| *expected == p)),
            Self::Bearer(token) => bearer == Some(token.as_str()),
            Self::OAuth2(issuer) => bearer.is_some_and(|token| issuer.is_live(token)),
        }
    }

    /// Expires the credentials the provider can expire: an OAuth2 issuer forgets every access
    /// token it issued (only a refreshed one works again). Fixed keys cannot expire.
    pub fn expire(&self) {
        if let Self::OAuth2(issuer) = self {
            issuer.expire_all();
        }
    }
}

/// The user name and password of an `Authorization: Basic` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let (user, password) =
        String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))?;
    Some((user, password))
}

/// An OAuth2 token endpoint's refusal (RFC 6749 §5.2): its status and `error` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `400`, or `401` for `invalid_client`.
    pub status: StatusCode,
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`.
    pub error: &'static str,
    /// A human description.
    pub description: &'static str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.error, "error_description": self.description}))).into_response()
    }
}

#[derive(Debug, Clone)]
struct Config {
    client_id: String,
    client_secret: String,
    refresh_token: Option<String>,
    client_credentials: bool,
    rotating: bool,
    basic_only: bool,
    lifetime: Duration,
    mint: fn() -> String,
}

/// An authorization code handed out and not yet used.
#[derive(Debug, Clone)]
struct Code {
    redirect_uri: String,
    /// The PKCE S256 challenge, when the request had one.
    challenge: Option<String>,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Tokens {
    /// Authorization codes by value (single use; ten minutes).
    codes: BTreeMap<String, Code>,
    /// Live access tokens and when each expires.
    access: BTreeMap<String, Instant>,
    /// The refresh token that works now (rotation replaces it).
    refresh: Option<String>,
    requests: u64,
    issued: Vec<String>,
}

/// The token side of an OAuth2 provider; clones share it.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    config: Arc<Config>,
    tokens: Arc<Mutex<Tokens>>,
}

fn mint_default() -> String {
    format!("at-{:032x}", fastrand::u128(..))
}

impl TokenIssuer {
    /// An issuer for one client, granting nothing until [`with_refresh_token`](Self::with_refresh_token)
    /// or [`client_credentials`](Self::client_credentials); access tokens live an hour.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self::build(Config {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            refresh_token: None,
            client_credentials: false,
            rotating: false,
            basic_only: false,
            lifetime: Duration::from_secs(3600),
            mint: mint_default,
        })
    }

    fn build(config: Config) -> Self {
        let tokens = Tokens { refresh: config.refresh_token.clone(), ..Tokens::default() };
        Self { config: Arc::new(config), tokens: Arc::new(Mutex::new(tokens)) }
    }

    fn reconfigure(self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.config).clone();
        change(&mut config);
        Self::build(config)
    }

    /// Grants `refresh_token` with this refresh token.
    pub fn with_refresh_token(self, refresh_token: &str) -> Self {
        self.reconfigure(|c| c.refresh_token = Some(refresh_token.to_owned()))
    }

    /// Grants `client_credentials`.
    pub fn client_credentials(self) -> Self {
        self.reconfigure(|c| c.client_credentials = true)
    }

    /// Every refresh answers a new refresh token and refuses the one it used (`invalid_grant`).
    pub fn rotating(self) -> Self {
        self.reconfigure(|c| c.rotating = true)
    }

    /// The client authenticates only with HTTP Basic, not in the form.
    pub fn basic_only(self) -> Self {
        self.reconfigure(|c| c.basic_only = true)
    }

    /// How long an access token lives (and the `expires_in` answered).
    pub fn lifetime(self, lifetime: Duration) -> Self {
        self.reconfigure(|c| c.lifetime = lifetime)
    }

    /// How access tokens look (providers differ: opaque hex, UUIDs…).
    pub fn minting(self, mint: fn() -> String) -> Self {
        self.reconfigure(|c| c.mint = mint)
    }

    fn lock(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers a token request: `params` are the form (and, where the provider reads them, the
    /// query), `headers` may carry the client as HTTP Basic. The answer's JSON, or the refusal.
    ///
    /// # Errors
    /// `invalid_request` without a grant type, `invalid_client` for another client,
    /// `unsupported_grant_type`, `invalid_grant` for a refresh token that is not the current one.
    pub fn grant(&self, headers: &HeaderMap, params: &HashMap<String, String>) -> Result<Value, Refusal> {
        let refuse = |status, error, description| Refusal { status, error, description };
        self.lock().requests += 1;
        let Some(grant_type) = params.get("grant_type") else {
            return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant_type"));
        };
        let in_form = (!self.config.basic_only)
            .then(|| Some((params.get("client_id")?.clone(), params.get("client_secret")?.clone())))
            .flatten();
        let client = basic_credentials(headers).or(in_form);
        if client
            .as_ref()
            .is_none_or(|(id, secret)| *id != self.config.client_id || *secret != self.config.client_secret)
        {
            return Err(refuse(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client credentials"));
        }
        let mut tokens = self.lock();
        let mut answer = json!({"token_type": "Bearer", "expires_in": self.config.lifetime.as_secs()});
        match grant_type.as_str() {
            "client_credentials" if self.config.client_credentials => {}
            "authorization_code" => {
                let code = params.get("code").and_then(|c| tokens.codes.remove(c));
                let Some(code) = code.filter(|c| c.expires > Instant::now()) else {
                    return Err(refuse(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid or used authorization code"));
                };
                if params.get("redirect_uri") != Some(&code.redirect_uri) {
                    return Err(refuse(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri does not match"));
                }
                if let Some(challenge) = &code.challenge {
                    let verifier = params.get("code_verifier").map(String::as_str).unwrap_or_default();
                    if s256(verifier) != *challenge {
                        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed"));
                    }
                }
                let refresh = format!("rt-{:032x}", fastrand::u128(..));
                tokens.refresh = Some(refresh.clone());
                answer["refresh_token"] = Value::from(refresh);
            }
            "refresh_token" if tokens.refresh.is_some() => {
                if params.get("refresh_token").is_none_or(|given| Some(given) != tokens.refresh.as_ref()) {
                    return Err(refuse(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid refresh token"));
                }
                if self.config.rotating {
                    let next = format!("rt-{:032x}", fastrand::u128(..));
                    tokens.refresh = Some(next.clone());
                    answer["refresh_token"] = Value::from(next);
                }
            }
            _ => return Err(refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant_type")),
        }
        let access = (self.config.mint)();
        tokens.access.insert(access.clone(), Instant::now() + self.config.lifetime);
        tokens.issued.push(access.clone());
        answer["access_token"] = Value::from(access);
        Ok(answer)
    }

    /// Answers an authorization request (RFC 6749 §4.1.1, with PKCE S256 when the request has
    /// a challenge) as the person consenting would: where to send the browser back — the
    /// `redirect_uri` with a single-use `code` and the request's `state`.
    ///
    /// # Errors
    /// `invalid_request` without `response_type=code`, a `redirect_uri`, or with a challenge
    /// method other than `S256`; `unauthorized_client` for another client id.
    pub fn authorize(&self, query: &HashMap<String, String>) -> Result<url::Url, Refusal> {
        let refuse = |error, description| Refusal { status: StatusCode::BAD_REQUEST, error, description };
        if query.get("response_type").map(String::as_str) != Some("code") {
            return Err(refuse("unsupported_response_type", "response_type must be code"));
        }
        if query.get("client_id") != Some(&self.config.client_id) {
            return Err(refuse("unauthorized_client", "Unknown client_id"));
        }
        let Some(redirect) = query.get("redirect_uri").and_then(|r| url::Url::parse(r).ok()) else {
            return Err(refuse("invalid_request", "Missing or invalid redirect_uri"));
        };
        let challenge = query.get("code_challenge").cloned();
        if challenge.is_some() && query.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return Err(refuse("invalid_request", "code_challenge_method must be S256"));
        }
        let code = format!("ac-{:032x}", fastrand::u128(..));
        let entry =
            Code { redirect_uri: redirect.to_string(), challenge, expires: Instant::now() + Duration::from_secs(600) };
        self.lock().codes.insert(code.clone(), entry);
        let mut back = redirect;
        back.query_pairs_mut().append_pair("code", &code);
        if let Some(state) = query.get("state") {
            back.query_pairs_mut().append_pair("state", state);
        }
        Ok(back)
    }

    /// The consent page of an authorization request: the app's name and an "Allow access"
    /// button posting the request back to the same path (see [`approve`](Self::approve)).
    pub fn consent_page(&self, path: &str, query: &HashMap<String, String>) -> Response {
        let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let hidden: String = query
            .iter()
            .map(|(k, v)| format!(r#"<input type="hidden" name="{}" value="{}">"#, escape(k), escape(v)))
            .collect();
        let html = format!(
            r#"<!doctype html><html><head><title>Authorize</title></head><body><h1>Allow access?</h1><p>Client {} asks for access.</p><form method="post" action="{}">{hidden}<button type="submit" id="allow">Allow access</button></form></body></html>"#,
            escape(&self.config.client_id),
            escape(path)
        );
        axum::response::Html(html).into_response()
    }

    /// The consent form's post: a `302` to the client's `redirect_uri` with the code, or the
    /// refusal.
    pub fn approve(&self, form: &HashMap<String, String>) -> Response {
        match self.authorize(form) {
            Ok(back) => (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response(),
            Err(refusal) => refusal.into_response(),
        }
    }

    /// [`grant`](Self::grant) as an HTTP answer.
    pub fn answer(&self, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
        match self.grant(headers, params) {
            Ok(answer) => Json(answer).into_response(),
            Err(refusal) => refusal.into_response(),
        }
    }

    /// [`answer`](Self::answer) for a token request's form-encoded `body` (the token endpoint
    /// of every OAuth2 fake).
    pub fn answer_form(&self, headers: &HeaderMap, body: &str) -> Response {
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        self.answer(headers, &form)
    }

    /// Whether `token` is an access token issued and not yet expired.
    pub fn is_live(&self, token: &str) -> bool {
        self.lock().access.get(token).is_some_and(|expires| *expires > Instant::now())
    }

    /// Expires every access token issued so far.
    pub fn expire_all(&self) {
        self.lock().access.clear();
    }

    /// How many token requests were made, granted or not.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Every access token issued, in order.
    pub fn issued(&self) -> Vec<String> {
        self.lock().issued.clone()
    }

    /// The refresh token that works now.
    pub fn refresh_token(&self) -> Option<String> {
        self.lock().refresh.clone()
    }
}

/// `BASE64URL(SHA-256(verifier))`, PKCE's S256 (RFC 7636 §4.2).
fn s256(verifier: &str) -> String {
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The app's OAuth2 client and a refresh token a fake accepts.
#[derive(Debug, Clone, Copy)]
pub struct OAuthClient<'a> {
    /// The client id.
    pub id: &'a str,
    /// The client secret.
    pub secret: &'a str,
    /// The refresh token.
    pub refresh_token: &'a str,
}

/// A connection's configuration for `provider` in `domain` pointing at an OAuth2 fake: its API
/// at `api` (the `base_url` setting), its token endpoint on `origin` (`auth_base_url`), and
/// `client`'s credentials as secrets.
pub fn oauth_config(
    (tenant, connection): (integration_core::TenantId, integration_core::ConnectionId),
    (domain, provider): (integration_core::Domain, &str),
    (api, origin): (String, String),
    client: OAuthClient<'_>,
) -> integration_core::IntegrationConfig {
    #[allow(clippy::expect_used)]
    let provider = integration_core::ProviderId::new(provider).expect("a valid provider id");
    integration_core::IntegrationConfig::new(tenant, connection, domain, provider)
        .with_setting("base_url", api)
        .with_setting("auth_base_url", origin)
        .with_secret("client_id", client.id)
        .with_secret("client_secret", client.secret)
        .with_secret("refresh_token", client.refresh_token)
}
