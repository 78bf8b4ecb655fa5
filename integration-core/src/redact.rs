//! [`Redactor`]: every form a credential was sent in, scrubbed from what a provider sends back.
//!
//! Providers echo requests in their error bodies, often on `400` and `401` answers: an API key
//! in the `Basic` form `base64("<key>:x")`, a refresh token in a token endpoint's error, the
//! client's `base64(client_id:client_secret)`. The HTTP layer keeps what each attempt sent
//! (sensitive headers, query parameters its authenticator added, credential fields of a form
//! body) and scrubs every form of it from the whole body before an [`Error`](crate::Error) keeps
//! its message or a truncated copy of the body — so no partial secret survives at the
//! truncation point either. Success bodies are never scrubbed: a token endpoint may rightly
//! return the refresh token it was sent.
//!
//! ```
//! use integration_core::redact::Redactor;
//!
//! let redactor = Redactor::new().basic("sk_live_123456", "x").secret("rt-secret/token+1");
//! let echoed = "bad request: Authorization: Basic c2tfbGl2ZV8xMjM0NTY6eA== refresh_token=rt-secret%2Ftoken%2B1";
//! assert_eq!(
//!     redactor.scrub(echoed),
//!     "bad request: Authorization: Basic [REDACTED] refresh_token=[REDACTED]"
//! );
//! ```

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, HeaderMap, PROXY_AUTHORIZATION};
use zeroize::Zeroizing;

/// What replaces a secret.
pub const MASK: &str = "[REDACTED]";

/// Secrets shorter than this are left alone: scrubbing them would mangle ordinary text (the
/// `x` password of an API key sent as a Basic user name, say).
pub const MIN_SECRET_LEN: usize = 4;

/// The form fields that carry credentials in OAuth2 and similar form bodies.
pub const CREDENTIAL_FIELDS: [&str; 10] = [
    "client_secret",
    "refresh_token",
    "access_token",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "password",
    "token",
    "api_key",
];

/// Every form of a set of credentials; `Debug` shows only how many.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Vec<Zeroizing<String>>,
}

impl Redactor {
    /// Nothing to scrub yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `secret` in every form it may travel in: as it is, form- and percent-encoded,
    /// base64 (standard and URL-safe, padded or not) and JSON-escaped.
    #[must_use]
    pub fn secret(mut self, secret: &str) -> Self {
        self.add_secret(secret);
        self
    }

    /// [`Redactor::secret`], in place.
    pub fn add_secret(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        self.push(secret.to_owned());
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if form.contains('+') {
            self.push(form.replace('+', "%20"));
        }
        self.push(form);
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            self.push(engine.encode(secret));
        }
        if let Ok(json) = serde_json::to_string(secret) {
            let inner = &json[1..json.len() - 1];
            self.push(inner.to_owned());
            self.push(inner.replace('/', "\\/"));
        }
    }

    /// Adds HTTP Basic credentials: the user name and the password as secrets (an API key is
    /// often sent as the user name), and `base64(user:password)` — as is and with both parts
    /// form-encoded first, as OAuth2 client authentication does (RFC 6749, section 2.3.1).
    #[must_use]
    pub fn basic(mut self, user: &str, password: &str) -> Self {
        self.add_basic(user, password);
        self
    }

    /// [`Redactor::basic`], in place.
    pub fn add_basic(&mut self, user: &str, password: &str) {
        self.add_secret(user);
        self.add_secret(password);
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        for pair in [format!("{user}:{password}"), format!("{}:{}", form(user), form(password))] {
            self.add_secret(&pair);
        }
    }

    /// Adds the credentials `headers` carry: `Authorization` and `Proxy-Authorization` (a Basic
    /// value decoded into its user and password, a Bearer token, any other value whole) and
    /// every header marked sensitive (an API key header).
    pub fn add_headers(&mut self, headers: &HeaderMap) {
        for (name, value) in headers {
            let authorization = name == AUTHORIZATION || name == PROXY_AUTHORIZATION;
            if !authorization && !value.is_sensitive() {
                continue;
            }
            let Ok(text) = value.to_str() else { continue };
            match text.split_once(' ') {
                Some((scheme, credentials)) if authorization => {
                    self.add_secret(credentials.trim());
                    if scheme.eq_ignore_ascii_case("basic")
                        && let Ok(decoded) = STANDARD.decode(credentials.trim())
                        && let Ok(pair) = String::from_utf8(decoded)
                        && let Some((user, password)) = pair.split_once(':')
                    {
                        self.add_basic(user, password);
                    }
                }
                _ => self.add_secret(text),
            }
        }
    }

    /// Adds the values of a form body's credential fields ([`CREDENTIAL_FIELDS`]).
    pub fn add_form(&mut self, body: &[u8]) {
        for (key, value) in url::form_urlencoded::parse(body) {
            if CREDENTIAL_FIELDS.contains(&key.as_ref()) {
                self.add_secret(&value);
            }
        }
    }

    /// Adds every value of a query string (`a=1&b=2`): for parameters an authenticator added.
    pub fn add_query(&mut self, query: &str) {
        for (_, value) in url::form_urlencoded::parse(query.as_bytes()) {
            self.add_secret(&value);
        }
    }

    /// Adds everything `other` scrubs.
    pub fn extend(&mut self, other: &Redactor) {
        for needle in &other.needles {
            self.push(needle.as_str().to_owned());
        }
    }

    fn push(&mut self, needle: String) {
        if needle.len() >= MIN_SECRET_LEN && !self.needles.iter().any(|n| **n == needle) {
            self.needles.push(Zeroizing::new(needle));
        }
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every form of every secret replaced by [`MASK`]; borrowed when nothing was
    /// found.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        // Longest first: a form that contains another (base64 with padding) goes whole.
        let mut needles: Vec<&str> = self.needles.iter().map(|n| n.as_str()).collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for needle in needles {
            if out.contains(needle) {
                out = Cow::Owned(out.replace(needle, MASK));
            }
        }
        out
    }

    /// [`Redactor::scrub`] for a body that may not be UTF-8: scrubbed as lossy text when it
    /// holds any secret, returned as it is otherwise.
    pub fn scrub_bytes<'a>(&self, body: &'a [u8]) -> Cow<'a, [u8]> {
        if self.is_empty() {
            return Cow::Borrowed(body);
        }
        let text = String::from_utf8_lossy(body);
        match self.scrub(&text) {
            Cow::Borrowed(_) => Cow::Borrowed(body),
            Cow::Owned(scrubbed) => Cow::Owned(scrubbed.into_bytes()),
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn every_form_of_a_secret_is_scrubbed() {
        let secret = "s3cr\"et/with space+plus";
        let r = Redactor::new().secret(secret);
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for text in [
            secret.to_owned(),
            form.clone(),
            form.replace('+', "%20"),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
            serde_json::to_string(secret).unwrap_or_default(),
        ] {
            let scrubbed = r.scrub(&text);
            assert!(scrubbed.contains(MASK), "{text} -> {scrubbed}");
            assert!(!scrubbed.contains("s3cr"), "{text} -> {scrubbed}");
        }
        assert_eq!(Redactor::new().secret("abc").scrub("abc"), "abc", "too short to scrub safely");
    }

    #[test]
    fn authorization_headers_give_up_their_parts() {
        let mut headers = HeaderMap::new();
        let basic = format!("Basic {}", STANDARD.encode("client:cl-secret"));
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&basic).unwrap_or(HeaderValue::from_static("x")));
        let mut key = HeaderValue::from_static("key-123456");
        key.set_sensitive(true);
        headers.insert("x-api-key", key);
        let mut r = Redactor::new();
        r.add_headers(&headers);
        let echoed = format!("{basic} / cl-secret / {} / key-123456", STANDARD.encode("client:cl-secret"));
        let scrubbed = r.scrub(&echoed);
        assert!(!scrubbed.contains("cl-secret") && !scrubbed.contains("key-123456"), "{scrubbed}");
        assert!(!scrubbed.contains(&STANDARD.encode("client:cl-secret")), "{scrubbed}");
    }

    #[test]
    fn credential_fields_of_a_form_are_secrets() {
        let mut r = Redactor::new();
        r.add_form(b"grant_type=refresh_token&refresh_token=rt%2F123456&client_id=app");
        assert_eq!(r.scrub("token rt/123456 for app"), "token [REDACTED] for app");
        assert!(format!("{r:?}").starts_with("Redactor("));
    }
}
