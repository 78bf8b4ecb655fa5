//! The npm package `oidc-provider` (an OpenID Certified server), configured in
//! `peers/oidc-provider/server.mjs`:
//! - a confidential client `confidential` / `confidential-secret` (`client_secret_basic`;
//!   authorization code, refresh token, client credentials) and a public client `public`
//!   (PKCE only); both redirect to `http://127.0.0.1/callback`;
//! - PKCE (S256) required, refresh tokens rotated, scopes `openid offline_access api:read`,
//!   resource `urn:api` (JWT access tokens);
//! - development login and consent forms that accept any user — [`OidcProvider::authorize`]
//!   fills them in like a person would.

use std::collections::BTreeMap;
use std::process::{Child, ChildStdin, Command};
use std::time::Duration;

use super::{repository_root, spawn_announcing, unavailable};

// The confidential client's id.
const CONFIDENTIAL_CLIENT: &str = "confidential";
// The confidential client's secret.
const CONFIDENTIAL_SECRET: &str = "confidential-secret";
// The public client's id.
const PUBLIC_CLIENT: &str = "public";
// The redirect URI both clients registered.
const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// A running `oidc-provider`; stopped when dropped.
#[derive(Debug)]
pub struct OidcProvider {
    issuer: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl OidcProvider {
    /// The confidential client's id.
    pub const CONFIDENTIAL_CLIENT: &'static str = CONFIDENTIAL_CLIENT;
    /// The confidential client's secret.
    pub const CONFIDENTIAL_SECRET: &'static str = CONFIDENTIAL_SECRET;
    /// The public client's id.
    pub const PUBLIC_CLIENT: &'static str = PUBLIC_CLIENT;
    /// The registered redirect URI.
    pub const REDIRECT_URI: &'static str = REDIRECT_URI;

    /// Starts a provider on a free port, installing the pinned package first if it is not
    /// installed yet; `None` (with the reason printed) when Node.js or npm is missing on a
    /// developer's machine. Blocks until it listens.
    pub fn start() -> Option<Self> {
        Self::launch(&[])
    }

    /// Starts a provider signing with the keys kept in `keys` (a file of private JWKs, made with
    /// one new RS256 key when missing), on `port` when given (to start it again where it was);
    /// with `rotate`, a new key is put first — it signs from now on, the older ones are still
    /// published: a signing key rotation. Otherwise as [`start`](Self::start).
    pub fn start_with_keys(keys: &std::path::Path, port: Option<u16>, rotate: bool) -> Option<Self> {
        let mut env = vec![("OIDC_PEER_KEYS", keys.display().to_string())];
        if let Some(port) = port {
            env.push(("OIDC_PEER_PORT", port.to_string()));
        }
        if rotate {
            env.push(("OIDC_PEER_ROTATE", "1".to_owned()));
        }
        Self::launch(&env)
    }

    fn launch(env: &[(&str, String)]) -> Option<Self> {
        let dir = repository_root().join("peers/oidc-provider");
        if let Err(why) = super::npm_install(&dir) {
            match unavailable("oidc-provider", &why)? {}
        }
        let mut command = Command::new("node");
        command.arg("server.mjs").current_dir(&dir);
        for (name, value) in env {
            command.env(name, value);
        }
        let (mut child, stdin, announced) = spawn_announcing("oidc-provider", command, Duration::from_secs(30))?;
        let Some(issuer) = announced["issuer"].as_str().map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("oidc-provider announced no issuer: {announced}");
        };
        Some(Self { issuer, child, stdin })
    }

    /// The port it listens on.
    pub fn port(&self) -> Option<u16> {
        url::Url::parse(&self.issuer).ok()?.port()
    }

    /// The issuer URL (`http://127.0.0.1:<port>`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Follows an authorization URL the way a person would: logs in as `user` on the
    /// development form, consents, and returns the callback's query parameters (`code`,
    /// `state`, `iss`, or `error`).
    pub async fn authorize(&self, authorization_url: &str, user: &str) -> BTreeMap<String, String> {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without redirects");
        let mut jar = BTreeMap::<String, String>::new();
        let mut next = (reqwest::Method::GET, authorization_url.to_owned(), None::<Vec<(&str, String)>>);
        for _ in 0..20 {
            let (method, url, form) = next.clone();
            if url.starts_with(REDIRECT_URI) {
                let parsed = url::Url::parse(&url).expect("callback URL");
                return parsed.query_pairs().into_owned().collect();
            }
            let cookie = jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            let mut request = browser.request(method, &url).header("cookie", cookie);
            if let Some(form) = form {
                let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
            }
            let response = request.send().await.expect("the provider answers");
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap_or_default().split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() {
                        jar.remove(name);
                    } else {
                        jar.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()["location"].to_str().expect("location").to_owned();
                let absolute = url::Url::parse(&url).and_then(|base| base.join(&location)).expect("redirect URL");
                next = (reqwest::Method::GET, absolute.to_string(), None);
                continue;
            }
            let page = response.text().await.unwrap_or_default();
            assert!(status.is_success(), "the provider answered {status}: {page}");
            next = if page.contains(r#"value="login""#) {
                (
                    reqwest::Method::POST,
                    url,
                    Some(vec![("prompt", "login".into()), ("login", user.into()), ("password", "any".into())]),
                )
            } else if page.contains(r#"value="consent""#) {
                (reqwest::Method::POST, url, Some(vec![("prompt", "consent".into())]))
            } else {
                panic!("an interaction page with neither a login nor a consent form: {page}");
            };
        }
        panic!("the authorization flow did not reach the callback within 20 steps");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
