//! The npm package `saml-idp` (1.2.1, its `samlp` pinned to Auth0's 7.1.1), a SAML 2.0
//! identity provider, run by `peers/saml-idp/server.js`: a key and a self-signed certificate
//! made with `openssl` in a folder of the peer's own, the Response and the Assertion signed
//! (RSA-SHA256, exclusive c14n), the audience fixed at start, the ACS URL taken from the
//! AuthnRequest. It authenticates nobody: [`SamlIdp::sign_in`] fills in its login form with
//! whatever user the test gives, like a person would, and returns what the browser would post to
//! the service provider.

use std::process::{Child, ChildStdin, Command};
use std::time::Duration;

use super::{repository_root, spawn_announcing, unavailable};

/// A running `saml-idp`; stopped (and its key folder removed) when dropped.
#[derive(Debug)]
pub struct SamlIdp {
    url: String,
    issuer: String,
    certificate_pem: String,
    folder: std::path::PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
}

/// What the identity provider's page posts to the service provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedResponse {
    /// Where it posts (the form's `action`: the ACS URL).
    pub acs_url: String,
    /// The `SAMLResponse` form value (base64 XML).
    pub saml_response: String,
    /// The `RelayState` form value.
    pub relay_state: String,
}

impl PostedResponse {
    /// The response's XML.
    pub fn xml(&self) -> String {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.saml_response).expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    /// The same post with `xml` as its response.
    pub fn with_xml(&self, xml: &str) -> Self {
        use base64::Engine as _;
        Self { saml_response: base64::engine::general_purpose::STANDARD.encode(xml), ..self.clone() }
    }
}

// Undoes the HTML escaping of Handlebars and EJS in an attribute value.
fn unescape(value: &str) -> String {
    [("&#x3D;", "="), ("&#x27;", "'"), ("&#39;", "'"), ("&#x60;", "`"), ("&quot;", "\""), ("&lt;", "<"), ("&gt;", ">")]
        .iter()
        .fold(value.to_owned(), |v, (from, to)| v.replace(from, to))
        .replace("&amp;", "&")
}

// The quoted value of the first `attribute=` in `text`, unescaped.
fn quoted(text: &str, attribute: &str) -> Option<String> {
    let value = &text[text.find(attribute)? + attribute.len()..];
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..];
    Some(unescape(&value[..value.find(quote)?]))
}

// The value of the form field `name` in `page`, if any.
fn field(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\"")).or_else(|| page.find(&format!("name='{name}'")))?;
    quoted(&page[at..], "value=")
}

impl SamlIdp {
    /// Starts an identity provider for the service provider `audience` (its entity ID), posting
    /// to `acs_url` unless an AuthnRequest names another, installing the pinned package first if
    /// it is not installed yet; `None` (with the reason printed) when Node.js, npm or openssl
    /// is missing on a developer's machine. Blocks until it listens.
    pub fn start(audience: &str, acs_url: &str) -> Option<Self> {
        let dir = repository_root().join("peers/saml-idp");
        if let Err(why) = super::npm_install(&dir) {
            match unavailable("saml-idp", &why)? {}
        }
        let folder = std::env::temp_dir().join(format!("saml-idp-{}-{}", std::process::id(), fastrand::u64(..)));
        let mut command = Command::new("node");
        command.arg("server.js").current_dir(&dir).arg("--dir").arg(&folder);
        command.args(["--audience", audience, "--acsUrl", acs_url]);
        let (mut child, stdin, announced) = spawn_announcing("saml-idp", command, Duration::from_secs(60))?;
        let fields = (announced["url"].as_str(), announced["issuer"].as_str(), announced["cert"].as_str());
        let (Some(url), Some(issuer), Some(cert)) = fields else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("saml-idp announced no URL, issuer or certificate: {announced}");
        };
        let certificate_pem = std::fs::read_to_string(cert).expect("the peer's certificate");
        Some(Self { url: url.to_owned(), issuer: issuer.to_owned(), certificate_pem, folder, child, stdin })
    }

    /// Its base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its entity ID (the `Issuer` of what it signs).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Its single sign-on endpoint (HTTP-Redirect and HTTP-POST bindings).
    pub fn sso_url(&self) -> String {
        format!("{}/saml/sso", self.url)
    }

    /// The certificate it signs with, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Its metadata (`GET /metadata`).
    pub async fn metadata(&self) -> String {
        let response = reqwest::get(format!("{}/metadata", self.url)).await.expect("the metadata");
        assert!(response.status().is_success(), "the metadata: {}", response.status());
        response.text().await.expect("the metadata's text")
    }

    /// Changes its settings until it stops (`POST /settings`): `signResponse`, `signAssertion`,
    /// `audience`, `lifetimeInSeconds`, `acsUrl`, `allowRequestAcsUrl`…
    pub async fn settings(&self, settings: &[(&str, &str)]) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(settings).finish();
        let response = client
            .post(format!("{}/settings", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the settings are posted");
        assert!(response.status().is_redirection(), "the settings were refused: {}", response.status());
    }

    /// Follows `authn_url` (a service provider's HTTP-Redirect AuthnRequest) the way a person
    /// would: opens the login page, signs in as `user` (`userName`, `email`, `firstName`,
    /// `lastName`, `groups` — comma-separated), and returns what the page posts back.
    pub async fn sign_in(&self, authn_url: &str, user: &[(&str, &str)]) -> PostedResponse {
        let page = reqwest::get(authn_url).await.expect("the login page").text().await.expect("its text");
        let request = field(&page, "_authnRequest")
            .unwrap_or_else(|| panic!("the login page carries no AuthnRequest: {page:.2000}"));
        let mut form = vec![("_authnRequest", request.as_str())];
        form.extend_from_slice(user);
        self.post_sign_in(&form).await
    }

    /// Signs in as `user` with no AuthnRequest: an unsolicited (IdP-initiated) response, posted
    /// to the ACS URL given at start.
    pub async fn sign_in_unsolicited(&self, user: &[(&str, &str)]) -> PostedResponse {
        self.post_sign_in(user).await
    }

    async fn post_sign_in(&self, form: &[(&str, &str)]) -> PostedResponse {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let page = reqwest::Client::new()
            .post(format!("{}/signin", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the login form is posted")
            .text()
            .await
            .expect("its text");
        PostedResponse {
            acs_url: quoted(&page, "action=").unwrap_or_default(),
            saml_response: field(&page, "SAMLResponse").unwrap_or_else(|| panic!("no SAMLResponse in {page:.2000}")),
            relay_state: field(&page, "RelayState").unwrap_or_default(),
        }
    }
}

impl Drop for SamlIdp {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
