//! What an adapter declares about itself: the [`Descriptor`].
//!
//! The registry lists descriptors as the catalog; the factory validates a tenant's configuration
//! against the descriptor's [`ConfigSchema`]; the sync engine reads its [`StreamDescriptor`]s;
//! the contract suites skip what its [`Capability`] set leaves out.
//!
//! ```
//! use integration_core::descriptor::{Capability, Descriptor, Domain, StreamDescriptor, SyncMode};
//! use integration_core::schema::{ConfigField, FieldFormat};
//!
//! let descriptor = Descriptor::builder("bamboohr", Domain::Hris, "BambooHR")
//!     .capability(Capability::new("employees.read"))
//!     .stream(
//!         StreamDescriptor::new("employees", ["id"])
//!             .with_cursor_field("lastChanged")
//!             .with_modes([SyncMode::FullRefresh, SyncMode::Incremental]),
//!     )
//!     .field(ConfigField::required("subdomain", FieldFormat::HostLabel))
//!     .field(ConfigField::secret("api_key"))
//!     .build()
//!     .unwrap();
//! assert_eq!(descriptor.stream("employees").unwrap().cursor_field.as_deref(), Some("lastChanged"));
//! ```

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::HttpPolicy;
use crate::ids::ProviderId;
use crate::schema::{ConfigField, ConfigSchema, FieldFormat};

/// The business domain an adapter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Domain {
    /// Human resources: employees, departments, time off.
    Hris,
    /// Insurance and pension providers (EDI 834).
    Benefits,
    /// Accounting: invoices, ledgers, payments received.
    Accounting,
    /// Payment gateways.
    Payments,
    /// Calendars and scheduling.
    Calendar,
    /// Single sign-on and provisioning.
    Sso,
    /// Cloud file storage.
    Storage,
    /// Email.
    Email,
    /// Version control.
    Vcs,
    /// Customer relationship management.
    Crm,
    /// Team chat.
    Chat,
    /// Anything else: an API connected through its provider spec (passthrough, the generic REST
    /// connector) rather than a domain's trait.
    Other,
}

impl Domain {
    /// The domain's name as used in configuration (`"hris"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hris => "hris",
            Self::Benefits => "benefits",
            Self::Accounting => "accounting",
            Self::Payments => "payments",
            Self::Calendar => "calendar",
            Self::Sso => "sso",
            Self::Storage => "storage",
            Self::Email => "email",
            Self::Vcs => "vcs",
            Self::Crm => "crm",
            Self::Chat => "chat",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something an adapter can do, named `"<resource>.<verb>"` (`"employees.write"`) or by a
/// cross-cutting name such as [`Capability::WEBHOOKS`]. Domain crates define their own constants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Capability(Cow<'static, str>);

impl Capability {
    /// The adapter turns verified webhook deliveries into changes and events.
    pub const WEBHOOKS: Capability = Capability::from_static("webhooks");
    /// The adapter can check its connection's health cheaply.
    pub const HEALTH_CHECK: Capability = Capability::from_static("health_check");

    /// A capability from a static name, usable in `const` items.
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// A capability by name.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self(name.into())
    }

    /// The capability's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a stream can be synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncMode {
    /// Read everything; records not seen by a completed run are soft-deleted.
    FullRefresh,
    /// Read what changed since the stored cursor (inclusive; duplicates are absorbed).
    Incremental,
    /// Read everything, committing the page cursor so a crashed run resumes mid-way.
    ResumableFullRefresh,
    /// Changes arrive from webhooks and are applied through the same path as reads.
    EventDriven,
}

impl SyncMode {
    /// The mode's name (`"incremental"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FullRefresh => "full_refresh",
            Self::Incremental => "incremental",
            Self::ResumableFullRefresh => "resumable_full_refresh",
            Self::EventDriven => "event_driven",
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stream of records an adapter can read (`employees`, `invoices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StreamDescriptor {
    /// The stream's name, unique within the adapter.
    pub name: String,
    /// The field path(s) that identify a record; joined, they make its remote id.
    pub primary_key: Vec<String>,
    /// The field whose value orders changes, for incremental syncs.
    pub cursor_field: Option<String>,
    /// The modes this stream supports.
    pub sync_modes: Vec<SyncMode>,
    /// What the stream holds.
    pub description: String,
    /// Whether reading a page of this stream changes nothing at the provider, so the sync
    /// engine may ask for the next page while it writes the one before (see
    /// [`with_read_ahead`](Self::with_read_ahead)). Off unless declared.
    pub read_ahead: bool,
    /// The most pages and records one run reads before it stops, failed (see [`RunLimits`]).
    pub limits: RunLimits,
}

/// How much one sync run may read before it stops, failed: a provider that never ends its
/// listing (a total that never comes, new records on every page) cannot keep a run going
/// forever. The defaults — 50,000 pages, 10 million records — are far above what a sane
/// listing of one stream needs; a stream that needs more says so with
/// [`StreamDescriptor::with_limits`], and a job can set its own ([`SyncJob`](crate::sync::SyncJob)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunLimits {
    /// Pages one run may read.
    pub max_pages: u64,
    /// Records (and rejected records) one run may read.
    pub max_records: u64,
}

impl RunLimits {
    /// 50,000 pages, 10,000,000 records.
    pub const DEFAULT: Self = Self::new(50_000, 10_000_000);

    /// `max_pages` pages and `max_records` records.
    pub const fn new(max_pages: u64, max_records: u64) -> Self {
        Self { max_pages, max_records }
    }
}

impl Default for RunLimits {
    /// [`RunLimits::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl StreamDescriptor {
    /// A stream named `name` keyed by `primary_key`, supporting [`SyncMode::FullRefresh`].
    pub fn new<I, S>(name: impl Into<String>, primary_key: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: name.into(),
            primary_key: primary_key.into_iter().map(Into::into).collect(),
            cursor_field: None,
            sync_modes: vec![SyncMode::FullRefresh],
            description: String::new(),
            read_ahead: false,
            limits: RunLimits::default(),
        }
    }

    /// Sets the cursor field used by incremental syncs.
    #[must_use]
    pub fn with_cursor_field(mut self, field: impl Into<String>) -> Self {
        self.cursor_field = Some(field.into());
        self
    }

    /// Sets the supported sync modes.
    #[must_use]
    pub fn with_modes(mut self, modes: impl IntoIterator<Item = SyncMode>) -> Self {
        self.sync_modes = modes.into_iter().collect();
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Declares that reading a page changes nothing at the provider: the sync engine then asks
    /// for page N+1 while it writes page N, so the provider's latency and the store's writes
    /// overlap. Do not declare it for a stream whose read acknowledges or consumes what the page
    /// before returned (an event queue whose messages a read deletes): such a stream relies on
    /// the engine asking for the next page only once the previous one is committed, which is
    /// what it does otherwise.
    #[must_use]
    pub fn with_read_ahead(mut self) -> Self {
        self.read_ahead = true;
        self
    }

    /// Sets how much one run may read (default [`RunLimits::default`]).
    #[must_use]
    pub fn with_limits(mut self, limits: RunLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether the stream supports `mode`.
    pub fn supports(&self, mode: SyncMode) -> bool {
        self.sync_modes.contains(&mode)
    }

    /// The mode a scheduled sync of the stream uses: incremental when the stream offers it, a
    /// full refresh otherwise.
    pub fn usual_mode(&self) -> SyncMode {
        if self.supports(SyncMode::Incremental) { SyncMode::Incremental } else { SyncMode::FullRefresh }
    }
}

/// How a provider signs its webhook deliveries. Verification lives in the webhook module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "scheme")]
#[non_exhaustive]
pub enum WebhookScheme {
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,...`).
    StandardWebhooks,
    /// Stripe (`Stripe-Signature: t=...,v1=...`).
    Stripe,
    /// GitHub (`X-Hub-Signature-256: sha256=...`).
    GitHub,
    /// Slack (`X-Slack-Signature: v0=...` with `X-Slack-Request-Timestamp`).
    Slack,
    /// Xero (`x-xero-signature`, base64 HMAC-SHA256 of the body).
    Xero,
    /// Intuit QuickBooks (`intuit-signature`, base64 HMAC-SHA256 of the body).
    Intuit,
    /// Adyen (each notification item signed in its body, `additionalData.hmacSignature`: base64
    /// HMAC-SHA256 of its fields, keyed with the hex HMAC key; answered `[accepted]`).
    Adyen,
    /// Google push notification channels: not signed; the channel's token
    /// (`X-Goog-Channel-Token`) must be one of the endpoint's secrets; a delivery is its
    /// channel and message number.
    GoogleChannel,
    /// Microsoft Graph change notifications: not signed; each notification's `clientState` must
    /// be one of the endpoint's secrets; Graph's `validationToken` check of the endpoint is
    /// answered by the router.
    GraphClientState,
    /// A provider-specific HMAC scheme.
    GenericHmac(GenericHmac),
}

/// A configurable HMAC-SHA256 webhook signature scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GenericHmac {
    /// The header carrying the signature.
    pub signature_header: String,
    /// How the signature bytes are written.
    pub encoding: SignatureEncoding,
    /// A prefix before the encoded signature (`"sha256="`), if any.
    pub prefix: Option<String>,
    /// The header carrying the timestamp, if the scheme has one.
    pub timestamp_header: Option<String>,
    /// What is signed, with `{body}` and `{timestamp}` placeholders (`"{timestamp}.{body}"`).
    pub signed_content: String,
}

impl GenericHmac {
    /// A scheme signing the raw body, with the signature in `signature_header`.
    pub fn new(signature_header: impl Into<String>, encoding: SignatureEncoding) -> Self {
        Self {
            signature_header: signature_header.into(),
            encoding,
            prefix: None,
            timestamp_header: None,
            signed_content: "{body}".into(),
        }
    }

    /// Sets the prefix before the encoded signature.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Sets the timestamp header and the signed-content template.
    #[must_use]
    pub fn with_timestamp(mut self, header: impl Into<String>, signed_content: impl Into<String>) -> Self {
        self.timestamp_header = Some(header.into());
        self.signed_content = signed_content.into();
        self
    }
}

/// How signature bytes are written in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// Lowercase hexadecimal.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// An adapter's declaration of what it is and what it supports.
///
/// Built with [`Descriptor::builder`], which checks it for consistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Descriptor {
    /// The provider's stable id.
    pub provider: ProviderId,
    /// The domain.
    pub domain: Domain,
    /// A human-readable name (`"BambooHR"`).
    pub display_name: String,
    /// What the adapter can do.
    pub capabilities: BTreeSet<Capability>,
    /// The OAuth scopes the adapter asks for: only those its capabilities need.
    pub oauth_scopes: Vec<String>,
    /// The streams the adapter can read.
    pub streams: Vec<StreamDescriptor>,
    /// How the provider signs webhooks, if it sends them.
    pub webhook: Option<WebhookScheme>,
    /// The configuration the adapter needs.
    pub config: ConfigSchema,
    /// The provider's API documentation the adapter follows.
    pub documentation: Option<String>,
    /// How requests to the provider are timed out, retried, broken and rate limited.
    pub http: HttpPolicy,
}

impl Descriptor {
    /// Starts a descriptor for `provider` (a lowercase slug) in `domain`.
    pub fn builder(provider: &str, domain: Domain, display_name: impl Into<String>) -> DescriptorBuilder {
        DescriptorBuilder {
            provider: provider.to_owned(),
            domain,
            display_name: display_name.into(),
            capabilities: BTreeSet::new(),
            oauth_scopes: Vec::new(),
            streams: Vec::new(),
            webhook: None,
            fields: Vec::new(),
            documentation: None,
            http: HttpPolicy::standard(),
        }
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> Option<&StreamDescriptor> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// Whether the adapter declares `capability`.
    pub fn supports(&self, capability: &Capability) -> bool {
        self.capabilities.contains(capability)
    }
}

/// Builds a [`Descriptor`]; see [`Descriptor::builder`].
#[derive(Debug, Clone)]
pub struct DescriptorBuilder {
    provider: String,
    domain: Domain,
    display_name: String,
    capabilities: BTreeSet<Capability>,
    oauth_scopes: Vec<String>,
    streams: Vec<StreamDescriptor>,
    webhook: Option<WebhookScheme>,
    fields: Vec<ConfigField>,
    documentation: Option<String>,
    http: HttpPolicy,
}

impl DescriptorBuilder {
    /// Declares a capability.
    #[must_use]
    pub fn capability(mut self, capability: Capability) -> Self {
        self.capabilities.insert(capability);
        self
    }

    /// Declares each of `capabilities`.
    #[must_use]
    pub fn capabilities(mut self, capabilities: impl IntoIterator<Item = Capability>) -> Self {
        self.capabilities.extend(capabilities);
        self
    }

    /// Adds an OAuth scope the adapter needs.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.oauth_scopes.push(scope.into());
        self
    }

    /// Adds a stream.
    #[must_use]
    pub fn stream(mut self, stream: StreamDescriptor) -> Self {
        self.streams.push(stream);
        self
    }

    /// Sets the webhook signature scheme (and declares [`Capability::WEBHOOKS`]).
    #[must_use]
    pub fn webhook(mut self, scheme: WebhookScheme) -> Self {
        self.webhook = Some(scheme);
        self.capabilities.insert(Capability::WEBHOOKS);
        self
    }

    /// Turns read-ahead off for the stream `name` (see [`StreamDescriptor::with_read_ahead`]):
    /// for a stream declared elsewhere whose reads acknowledge or consume what the page before
    /// returned.
    #[must_use]
    pub fn without_read_ahead(mut self, name: &str) -> Self {
        self.streams.iter_mut().filter(|s| s.name == name).for_each(|s| s.read_ahead = false);
        self
    }

    /// Adds each of `streams`.
    #[must_use]
    pub fn streams(mut self, streams: impl IntoIterator<Item = StreamDescriptor>) -> Self {
        self.streams.extend(streams);
        self
    }

    /// Adds a configuration field.
    #[must_use]
    pub fn field(mut self, field: ConfigField) -> Self {
        self.fields.push(field);
        self
    }

    /// Adds a required setting: [`ConfigField::required`] with its description.
    #[must_use]
    pub fn setting(self, key: &str, format: FieldFormat, description: &str) -> Self {
        self.field(ConfigField::required(key, format).with_description(description))
    }

    /// Declares where the provider's API is: the [`BASE_URL`](crate::schema::BASE_URL) setting
    /// every adapter reads its API root from (an https URL; optional with the provider's
    /// public host as `default`, required for tenant-specific hosts such as Workday's). One
    /// name for every adapter, so a host points any of them at a sandbox, a regional host or a
    /// test fake the same way; read it with [`IntegrationConfig::base_url`](crate::IntegrationConfig::base_url).
    #[must_use]
    pub fn base_url(self, default: Option<&str>, description: &str) -> Self {
        let key = crate::schema::BASE_URL;
        match default {
            Some(default) => {
                self.optional_setting(key, FieldFormat::HttpsUrl, &format!("{description}, default {default}"))
            }
            None => self.setting(key, FieldFormat::HttpsUrl, description),
        }
    }

    /// Adds an optional setting: [`ConfigField::optional`] with its description.
    #[must_use]
    pub fn optional_setting(self, key: &str, format: FieldFormat, description: &str) -> Self {
        self.field(ConfigField::optional(key, format).with_description(description))
    }

    /// Adds a required secret of `format` ([`FieldFormat::Text`] for any text) with its
    /// description.
    #[must_use]
    pub fn secret(self, key: &str, format: FieldFormat, description: &str) -> Self {
        self.field(ConfigField::secret(key).with_format(format).with_description(description))
    }

    /// Names the API documentation the adapter follows.
    #[must_use]
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.documentation = Some(url.into());
        self
    }

    /// Sets the HTTP policy: the provider's rate limit, retries, timeouts, circuit breaker.
    #[must_use]
    pub fn http_policy(mut self, policy: HttpPolicy) -> Self {
        self.http = policy;
        self
    }

    /// Checks the declaration and builds the descriptor.
    ///
    /// Fails with a [`Validation`](crate::ErrorKind::Validation) error naming the offending part:
    /// an invalid provider id, duplicate stream or field names, a stream with no mode or no
    /// primary key, or an incremental stream without a cursor field.
    pub fn build(self) -> Result<Descriptor> {
        let provider = ProviderId::new(self.provider)?;
        let named = |field: String, message: String| Error::validation(field, message).with_provider(provider.as_str());
        let mut names = BTreeSet::new();
        for (i, stream) in self.streams.iter().enumerate() {
            let at = format!("streams[{i}]");
            if stream.name.is_empty() {
                return Err(named(format!("{at}.name"), "a stream needs a name".into()));
            }
            if !names.insert(stream.name.as_str()) {
                return Err(named(format!("{at}.name"), format!("stream {:?} is declared twice", stream.name)));
            }
            if stream.primary_key.is_empty() {
                return Err(named(
                    format!("{at}.primary_key"),
                    format!("stream {:?} needs a primary key", stream.name),
                ));
            }
            if stream.sync_modes.is_empty() {
                return Err(named(
                    format!("{at}.sync_modes"),
                    format!("stream {:?} supports no sync mode", stream.name),
                ));
            }
            if stream.supports(SyncMode::Incremental) && stream.cursor_field.is_none() {
                return Err(named(
                    format!("{at}.cursor_field"),
                    format!("stream {:?} supports incremental sync but has no cursor field", stream.name),
                ));
            }
        }
        if let Some(scheme) = &self.webhook {
            scheme.validate().map_err(|why| named("webhook".into(), why))?;
        }
        let config = ConfigSchema::new(self.fields).map_err(|e| e.with_provider(provider.as_str()))?;
        Ok(Descriptor {
            provider,
            domain: self.domain,
            display_name: self.display_name,
            capabilities: self.capabilities,
            oauth_scopes: self.oauth_scopes,
            streams: self.streams,
            webhook: self.webhook,
            config,
            documentation: self.documentation,
            http: self.http,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_streams_need_a_cursor() {
        let err = Descriptor::builder("acme", Domain::Hris, "Acme")
            .stream(StreamDescriptor::new("employees", ["id"]).with_modes([SyncMode::Incremental]))
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("streams[0].cursor_field"));
        assert_eq!(err.provider(), Some("acme"));
    }

    #[test]
    fn duplicate_streams_are_refused() {
        let err = Descriptor::builder("acme", Domain::Hris, "Acme")
            .stream(StreamDescriptor::new("employees", ["id"]))
            .stream(StreamDescriptor::new("employees", ["id"]))
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("streams[1].name"));
    }

    #[test]
    fn webhook_scheme_implies_the_capability() {
        let d =
            Descriptor::builder("acme", Domain::Hris, "Acme").webhook(WebhookScheme::StandardWebhooks).build().unwrap();
        assert!(d.supports(&Capability::WEBHOOKS));
    }

    #[test]
    fn generic_webhook_layouts_are_checked() {
        let no_body = GenericHmac::new("x-sig", SignatureEncoding::Hex).with_timestamp("x-ts", "{timestamp}");
        let err = Descriptor::builder("acme", Domain::Hris, "Acme")
            .webhook(WebhookScheme::GenericHmac(no_body))
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("webhook"));
        let bad_header = GenericHmac::new("x sig", SignatureEncoding::Hex);
        assert!(
            Descriptor::builder("acme", Domain::Hris, "Acme")
                .webhook(WebhookScheme::GenericHmac(bad_header))
                .build()
                .is_err()
        );
    }

    #[test]
    fn descriptors_serialize_for_a_catalog() {
        let d = Descriptor::builder("acme", Domain::Hris, "Acme")
            .webhook(WebhookScheme::GenericHmac(
                GenericHmac::new("x-sig", SignatureEncoding::Hex).with_prefix("sha256="),
            ))
            .build()
            .unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["provider"], "acme");
        assert_eq!(json["domain"], "hris");
        assert_eq!(json["webhook"]["scheme"], "generic_hmac");
        assert_eq!(json["webhook"]["prefix"], "sha256=");
    }
}
