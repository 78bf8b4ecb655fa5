//! Provider specs: a provider's HTTP shape as data.
//!
//! A [`ProviderSpec`] is read from TOML (the format is `docs/provider-specs.md`): where the API
//! is (a base URL over configuration fields), how a connection authenticates, the API version,
//! default headers, how it pages and where records sit, the published rate limit and its
//! headers, where an error's message is, how webhooks are signed, and the call that checks
//! credentials. [`ProviderSpec::parse`] checks all of it; an error names the line and the key.
//! [`catalog`] holds the specs the SDK ships, each written from the provider's own documentation.
//!
//! ```
//! use integration_core::spec::{Auth, Paging, ProviderSpec};
//!
//! let spec = ProviderSpec::parse(r#"
//! id = "jot"
//! name = "Jot"
//! domains = ["crm"]
//! docs = "https://jot.example.com/docs"
//! base_url = "https://{workspace}.jot.example.com/api"
//!
//! [[settings]]
//! key = "workspace"
//! description = "The workspace's subdomain"
//!
//! [[secrets]]
//! key = "token"
//! description = "An API token"
//!
//! [auth]
//! kind = "bearer"
//! token = "{token}"
//!
//! [pagination]
//! style = "cursor"
//! records = "/data"
//! limit_param = "limit"
//! max_limit = 100
//! cursor_param = "cursor"
//! next_cursor = "/next_cursor"
//!
//! [check]
//! path = "/me"
//! "#)?;
//! assert!(matches!(spec.auth, Auth::Bearer { .. }));
//! assert_eq!(spec.pagination.style, Paging::Cursor);
//!
//! // A bad spec is refused naming the line and the key.
//! let bad = ProviderSpec::parse("id = \"x\"\nname = \"X\"\ndomains = [\"crm\"]\ndocs = \"http://x.example.com\"\nbase_url = \"https://x.example.com\"\n[auth]\nkind = \"none\"\n[check]\npath = \"/\"\n").unwrap_err();
//! assert_eq!(bad.field(), Some("docs"));
//! assert!(bad.to_string().contains("line 4"), "{bad}");
//! # Ok::<(), integration_core::Error>(())
//! ```

mod catalog;
mod check;
mod client;
mod lines;
mod rest;
mod template;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use catalog::{CatalogEntry, catalog, catalog_spec, shared_catalog_spec};
pub use client::{AUTHORIZATION_URL, Passthrough, PassthroughResponse, SpecClient, SpecPage};
pub use rest::RestConnector;
pub use template::{Template, render, render_url};

use crate::descriptor::Domain;
use crate::error::Result;

/// A JSON value as the text a provider takes back (a cursor, an id, a setting): text as it is,
/// anything else as written.
pub(crate) fn text_of(value: &serde_json::Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// The catalog categories a spec may name; those that are SDK domains map onto [`Domain`].
pub const CATEGORIES: [&str; 13] = [
    "hris",
    "accounting",
    "payments",
    "calendar",
    "sso",
    "storage",
    "benefits",
    "email",
    "version_control",
    "crm",
    "chat",
    "lms",
    "other",
];

/// A provider's HTTP shape (see the module docs and `docs/provider-specs.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderSpec {
    /// The provider id (`[a-z][a-z0-9_]*`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Catalog categories ([`CATEGORIES`]).
    pub domains: Vec<String>,
    /// The documentation the spec follows.
    pub docs: String,
    /// The API root, a template over the configuration fields.
    pub base_url: String,
    /// What the spec does not cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Non-secret configuration fields the templates use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<ConfigField>,
    /// Secret configuration fields the templates use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ConfigField>,
    /// How a connection authenticates.
    pub auth: Auth,
    /// Whether every call, the token request included, presents a client certificate (mutual
    /// TLS, as ADP asks): the connection then takes the secrets `client_certificate` and
    /// `client_key` (PEM) and an optional `ca_certificate` setting (an extra root, PEM).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mutual_tls: bool,
    /// Headers sent with every request (templates allowed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The API version, when it is sent in a header or the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// How listings page, and where records sit.
    #[serde(default)]
    pub pagination: Pagination,
    /// The published rate limit and the headers carrying its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Where an error's explanation is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Errors>,
    /// How webhooks are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Webhooks>,
    /// The call that checks credentials.
    pub check: Check,
    /// Streams the generic REST connector syncs ([`RestConnector`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<RestStream>,
}

/// A stream of the generic REST connector: a resource listed by the spec's paging, synced into
/// the records cache as JSON records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestStream {
    /// The stream's name (`customers`).
    pub name: String,
    /// The resource's path, joined to the base URL.
    pub path: String,
    /// JSON pointer to the records, instead of the spec's `pagination.records`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// JSON pointer to each record's id.
    pub primary_key: String,
    /// JSON pointer to each record's change time (or version): the stream is then incremental,
    /// listing from the greatest value seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_field: Option<String>,
    /// The query parameter the greatest value seen is sent in (`updated_since`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<String>,
    /// JSON pointer to a boolean marking a deleted record (a change listing's tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

/// A configuration field a spec uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    /// Its key in the connection's settings or secrets.
    pub key: String,
    /// What it is and where the customer finds it.
    pub description: String,
    /// The value when the configuration has none (settings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Where a credential or a version travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
}

/// How a connection authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    None {},
    /// An API key in a header or the query.
    ApiKey {
        /// Header or query.
        #[serde(rename = "in")]
        location: Location,
        /// The header or parameter name.
        name: String,
        /// The value, a template (`"{api_key}"`, `"SSWS {api_token}"`).
        value: String,
    },
    /// HTTP Basic.
    Basic {
        /// The user name, a template.
        username: String,
        /// The password, a template (`""` when unused).
        password: String,
    },
    /// A bearer token from the configuration.
    Bearer {
        /// The token, a template.
        token: String,
    },
    /// OAuth 2.0.
    Oauth2 {
        /// The grants the provider offers for this API.
        grants: Vec<Grant>,
        /// The token endpoint.
        token_url: String,
        /// The authorization endpoint (authorization code grant).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_url: Option<String>,
        /// The revocation endpoint (RFC 7009), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revocation_url: Option<String>,
        /// The scopes a typical connection asks for.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
        /// How scopes are joined (`" "` unless the provider says otherwise).
        #[serde(default = "space")]
        scope_separator: String,
        /// Whether the authorization code grant uses PKCE.
        #[serde(default)]
        pkce: bool,
        /// Whether each refresh returns a new refresh token, invalidating the old one.
        #[serde(default)]
        rotating_refresh_tokens: bool,
        /// How the client authenticates at the token endpoint.
        #[serde(default)]
        client_auth: ClientAuth,
        /// Extra authorization request parameters (templates allowed).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        authorization_params: BTreeMap<String, String>,
        /// Extra token request parameters (templates allowed).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        token_params: BTreeMap<String, String>,
    },
}

fn space() -> String {
    " ".to_owned()
}

/// An OAuth 2.0 grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Authorization code (a user consents).
    AuthorizationCode,
    /// Client credentials (machine to machine).
    ClientCredentials,
    /// A signed JWT assertion (RFC 7523).
    JwtBearer,
    /// Refresh token.
    RefreshToken,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic (`client_secret_basic`).
    #[default]
    Basic,
    /// In the form body (`client_secret_post`).
    Body,
}

/// The API version sent with every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// Header or query.
    #[serde(rename = "in")]
    pub location: Location,
    /// The header or parameter name (`Stripe-Version`, `minorversion`).
    pub name: String,
    /// The version (`2024-06-20`).
    pub value: String,
}

/// A paging style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paging {
    /// One answer holds everything (or the API is not listed through the spec).
    #[default]
    None,
    /// A cursor from the answer or from the last record.
    Cursor,
    /// An offset and a limit.
    Offset,
    /// A page number.
    Page,
    /// RFC 8288 `Link: <…>; rel="next"`.
    LinkHeader,
    /// A next link in the body (`@odata.nextLink`).
    Odata,
    /// Pages, then a delta link or sync token for the changes since.
    Delta,
}

/// How listings page, and where records sit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pagination {
    /// The style.
    pub style: Paging,
    /// JSON pointer to the records (`""`: the body is the array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// The page-size parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_param: Option<String>,
    /// Instead of a parameter, the page size as an RFC 7240 preference of this name
    /// (`Prefer: odata.maxpagesize=100`: Graph's calendar and mail delta queries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_prefer: Option<String>,
    /// The largest page allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u32>,
    /// The parameter the next cursor is sent in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<String>,
    /// JSON pointer to the next cursor in an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// JSON pointer, into the page's last record, of the next cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_field: Option<String>,
    /// JSON pointer to a boolean saying another page follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<String>,
    /// The offset parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_param: Option<String>,
    /// JSON pointer to the total count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// The page-number parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_param: Option<String>,
    /// The first page's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<u32>,
    /// JSON pointer to the next page's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    /// JSON pointer to the delta link ending a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_link: Option<String>,
    /// JSON pointer to the sync token ending a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    /// The parameter the sync token is sent back in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_param: Option<String>,
}

/// The published rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// …per this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_seconds: Option<u32>,
    /// The most requests sent at once (`requests` unless said): a provider with a second,
    /// shorter limit (QuickBooks: 500 a minute, 10 a second) keeps under both with a small one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// The header with the requests remaining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_header: Option<String>,
    /// The header with the window's reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_header: Option<String>,
    /// The header saying how long to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_header: Option<String>,
}

/// Where an error's explanation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errors {
    /// JSON pointer into the error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A header carrying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_header: Option<String>,
}

/// How webhooks are signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// `standard_webhooks`, `stripe`, `github`, `slack`, `xero`, `intuit`, `adyen`,
    /// `google_channel`, `graph_client_state` or `hmac`.
    pub scheme: String,
    /// For `hmac`: the signature header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// For `hmac`: `hex` or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// For `hmac`: a prefix before the signature (`sha256=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// For `hmac` over a timestamp too: the header carrying it…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// …and what is signed, from `{body}` and `{timestamp}` (`"{body}{timestamp}"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<String>,
}

/// The call that checks credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The path, joined to the base URL (templates allowed).
    pub path: String,
    /// `GET` (the default), `POST` or `HEAD`.
    #[serde(default = "get")]
    pub method: String,
}

fn get() -> String {
    "GET".to_owned()
}

impl ProviderSpec {
    /// Reads and checks a spec from TOML.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error whose message starts with the line
    /// (`line 14: …`) and whose field is the key (`auth.token_url`).
    pub fn parse(text: &str) -> Result<Self> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| lines::syntax(text, &e))?;
        let spec: Self = serde_path_to_error::deserialize(deserializer).map_err(|e| lines::shape(text, &e))?;
        if let Err((key, message)) = check::check(&spec) {
            return Err(lines::at_key(text, &key, &message));
        }
        Ok(spec)
    }

    /// The SDK domains among the spec's categories.
    pub fn sdk_domains(&self) -> Vec<Domain> {
        self.domains
            .iter()
            .filter_map(|d| {
                let name = if d == "version_control" { "vcs" } else { d.as_str() };
                serde_json::from_value(serde_json::Value::from(name)).ok()
            })
            .collect()
    }

    /// Every configuration key the spec declares, settings then secrets.
    pub fn config_keys(&self) -> impl Iterator<Item = &str> {
        self.settings.iter().chain(&self.secrets).map(|f| f.key.as_str())
    }
}
