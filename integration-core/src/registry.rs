//! The catalog of providers ([`Registry`]) and how adapters are built from stored configuration
//! ([`Factory`]).
//!
//! Each adapter ships one [`Factory`]. The host registers the factories of the providers it
//! enables; [`Registry::build`] then turns a tenant's [`IntegrationConfig`] into a ready
//! `Arc<dyn Integration>` after checking it against the provider's [`ConfigSchema`]:
//!
//! - an unknown provider is a [`Config`](crate::ErrorKind::Config) error listing the known ones;
//! - a missing or malformed field is a `Config` error naming the field and the provider.
//!
//! The registry also keeps the latest [`Health`] of each connection it checked.
//!
//! [`ConfigSchema`]: crate::schema::ConfigSchema

use crate::mapping::{Mapped, Mapper};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::auth::{TokenManager, TokenSource};
use crate::config::IntegrationConfig;
use crate::crypto::{KeyRing, Sealer, SealingKey};
use crate::descriptor::{Descriptor, Domain};
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpPolicy, ProviderClient};
use crate::ids::{ConnectionId, ProviderId, TenantId};
use crate::integration::{Health, Integration};
use crate::store::{MemoryStore, TokenStore};

/// Builds an adapter for one provider from a validated configuration.
pub trait Factory: Send + Sync + fmt::Debug {
    /// The provider's descriptor: its configuration schema is checked before [`Factory::build`].
    fn descriptor(&self) -> &Descriptor;

    /// Builds the adapter for one connection. `config` has passed the descriptor's schema.
    fn build(&self, config: IntegrationConfig, context: &BuildContext) -> Result<Arc<dyn Integration>>;
}

/// What the registry hands every adapter it builds: resources shared across connections.
#[derive(Clone)]
#[non_exhaustive]
pub struct BuildContext {
    /// The process-wide HTTP client: its connection pool, circuit breakers, rate limiters and
    /// retry budgets are shared by every adapter. Adapters take their connection's client with
    /// [`BuildContext::provider_client`].
    pub http: HttpClient,
    /// Where OAuth adapters keep their tokens, sealed: with a store shared by many processes a
    /// token is refreshed once across all of them. `None`: each adapter keeps its tokens in
    /// memory, sealed with a key generated for the process, and refreshes once per process.
    pub tokens: Option<TokenVault>,
    /// The host's say over each connection's HTTP policy (see [`BuildContext::with_http_policy`]).
    pub http_policy: Option<HttpPolicyHook>,
}

/// A host's adjustment of the HTTP policy an adapter declares, per connection: given the
/// connection's configuration and the declared policy, the policy to use.
pub type HttpPolicyHook = Arc<dyn Fn(&IntegrationConfig, HttpPolicy) -> HttpPolicy + Send + Sync>;

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("http", &self.http)
            .field("tokens", &self.tokens)
            .field("http_policy", &self.http_policy.as_ref().map(|_| "host hook"))
            .finish()
    }
}

/// A token store and the sealer its tokens are sealed with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenVault {
    /// The store.
    pub store: Arc<dyn TokenStore>,
    /// The sealer.
    pub sealer: Sealer,
}

impl BuildContext {
    /// A context around an existing client (to share the host application's pool).
    pub fn with_http(http: HttpClient) -> Self {
        Self { http, tokens: None, http_policy: None }
    }

    /// Lets the host adjust the HTTP policy (timeouts, retries, rate limit, body limit) an
    /// adapter declares, per connection — longer timeouts for one tenant's slow Workday,
    /// retries off in a test:
    ///
    /// ```
    /// use std::time::Duration;
    /// use integration_core::BuildContext;
    /// use integration_core::http::{RetryPolicy, Timeouts};
    ///
    /// let context = BuildContext::default().with_http_policy(|config, declared| {
    ///     if config.tenant.as_str() == "slow-corp" {
    ///         declared.with_timeouts(Timeouts::standard().with_attempt(Some(Duration::from_secs(120))))
    ///     } else {
    ///         declared.with_retry(RetryPolicy::standard().with_max_attempts(6))
    ///     }
    /// });
    /// # drop(context);
    /// ```
    #[must_use]
    pub fn with_http_policy(
        mut self,
        hook: impl Fn(&IntegrationConfig, HttpPolicy) -> HttpPolicy + Send + Sync + 'static,
    ) -> Self {
        self.http_policy = Some(Arc::new(hook));
        self
    }

    /// The HTTP client of one connection: the provider's declared policy, as the host's
    /// [`with_http_policy`](Self::with_http_policy) adjusts it for `config`, rate limited under
    /// the connection's tenant. What adapters build their calls on.
    pub fn provider_client(&self, descriptor: &Descriptor, config: &IntegrationConfig) -> ProviderClient {
        let policy = self.http_policy_for(descriptor, config);
        self.http.provider_with(descriptor.provider.clone(), policy).for_tenant(config.tenant.clone())
    }

    /// The HTTP policy of one connection: the provider's declared one, as the host's hook
    /// adjusts it (for an adapter that builds a client of its own, such as one presenting a
    /// client certificate).
    pub fn http_policy_for(&self, descriptor: &Descriptor, config: &IntegrationConfig) -> HttpPolicy {
        let declared = descriptor.http.clone();
        match &self.http_policy {
            Some(hook) => hook(config, declared),
            None => declared,
        }
    }

    /// Keeps OAuth tokens in `store`, sealed with `sealer`.
    #[must_use]
    pub fn with_tokens(mut self, store: Arc<dyn TokenStore>, sealer: Sealer) -> Self {
        self.tokens = Some(TokenVault { store, sealer });
        self
    }

    /// A token manager over this context's vault (or an in-memory one) fetching tokens from
    /// `source`.
    pub fn token_manager(&self, source: Arc<dyn TokenSource>) -> Arc<TokenManager> {
        let (store, sealer) = match &self.tokens {
            Some(vault) => (vault.store.clone(), vault.sealer.clone()),
            None => {
                let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
                (store, Sealer::new(KeyRing::new("process", SealingKey::generate())))
            }
        };
        Arc::new(TokenManager::builder(store, sealer, source).build())
    }
}

impl Default for BuildContext {
    /// A context with a default [`HttpClient`] and in-memory tokens. Falls back to reqwest's
    /// defaults if the client cannot be built with ours (it can only fail to start TLS, which
    /// reqwest's defaults would hit too).
    fn default() -> Self {
        let http = HttpClient::new().unwrap_or_else(|_| {
            // Even the fallback takes credentials to no other origin.
            let fallback = reqwest::Client::builder().redirect(crate::http::same_origin_redirects()).build();
            HttpClient::from_reqwest(fallback.unwrap_or_default())
        });
        Self { http, tokens: None, http_policy: None }
    }
}

/// The catalog of registered providers, and the health of the connections it checked.
///
/// ```
/// use integration_core::{Registry, ErrorKind, IntegrationConfig, TenantId, ConnectionId, ProviderId, Domain};
///
/// let registry = Registry::new();
/// let config = IntegrationConfig::new(
///     TenantId::new("acme").unwrap(),
///     ConnectionId::new("hr").unwrap(),
///     Domain::Hris,
///     ProviderId::new("workday").unwrap(),
/// );
/// let err = registry.build(config).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Config);
/// assert_eq!(err.field(), Some("provider"));
/// ```
#[derive(Default)]
pub struct Registry {
    factories: BTreeMap<ProviderId, Arc<dyn Factory>>,
    context: BuildContext,
    health: RwLock<HashMap<(TenantId, ConnectionId), Health>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("providers", &self.factories.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry with a default [`BuildContext`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry handing `context` to the adapters it builds.
    pub fn with_context(context: BuildContext) -> Self {
        Self { context, ..Self::default() }
    }

    /// What the registry hands the adapters it builds (the HTTP client, the token vault).
    pub fn context(&self) -> &BuildContext {
        &self.context
    }

    /// Registers a provider's factory; a provider registered twice is a
    /// [`Config`](crate::ErrorKind::Config) error.
    pub fn register(&mut self, factory: impl Factory + 'static) -> Result<&mut Self> {
        let provider = factory.descriptor().provider.clone();
        if self.factories.contains_key(&provider) {
            return Err(
                Error::config(format!("provider {provider} is registered twice")).with_provider(provider.as_str())
            );
        }
        self.factories.insert(provider, Arc::new(factory));
        Ok(self)
    }

    /// The descriptors of every registered provider, by provider id.
    pub fn providers(&self) -> impl Iterator<Item = &Descriptor> {
        self.factories.values().map(|f| f.descriptor())
    }

    /// The descriptors of the providers in `domain`.
    pub fn providers_in(&self, domain: Domain) -> impl Iterator<Item = &Descriptor> {
        self.providers().filter(move |d| d.domain == domain)
    }

    /// The descriptor of `provider`.
    pub fn descriptor(&self, provider: &str) -> Option<&Descriptor> {
        self.factories.iter().find(|(id, _)| id.as_str() == provider).map(|(_, f)| f.descriptor())
    }

    /// Checks `config` against its provider: known, in the right domain, and matching the
    /// configuration schema.
    pub fn validate(&self, config: &IntegrationConfig) -> Result<()> {
        self.factory_for(config).map(|_| ())
    }

    fn factory_for(&self, config: &IntegrationConfig) -> Result<&Arc<dyn Factory>> {
        let factory = self.factories.get(&config.provider).ok_or_else(|| {
            let known: Vec<&str> = self.factories.keys().map(ProviderId::as_str).collect();
            let known = if known.is_empty() {
                "none are registered".to_owned()
            } else {
                format!("known providers: {}", known.join(", "))
            };
            Error::config(format!(
                "unknown provider {:?} ({known}); is its cargo feature enabled and its factory registered?",
                config.provider.as_str()
            ))
            .with_field("provider")
            .with_provider(config.provider.as_str())
        })?;
        let descriptor = factory.descriptor();
        if descriptor.domain != config.domain {
            return Err(Error::config(format!(
                "provider {} is in the {} domain, but the configuration says {}",
                descriptor.provider, descriptor.domain, config.domain
            ))
            .with_field("domain")
            .with_provider(config.provider.as_str()));
        }
        descriptor.config.validate(&descriptor.provider, &config.settings, &config.secrets)?;
        Mapper::compile(&config.mappings, Some(descriptor))?;
        Ok(factory)
    }

    /// Validates `config` and builds its adapter.
    pub fn build(&self, config: IntegrationConfig) -> Result<Arc<dyn Integration>> {
        let span = tracing::debug_span!(
            "integration.build",
            tenant = %config.tenant,
            connection = %config.connection,
            provider = %config.provider,
        );
        let _enter = span.enter();
        let factory = self.factory_for(&config)?;
        let provider = config.provider.clone();
        let mapper = Mapper::compile(&config.mappings, Some(factory.descriptor()))?;
        let adapter = factory
            .build(config, &self.context)
            .map_err(|e| if e.provider().is_some() { e } else { e.with_provider(provider.as_str()) })?;
        if adapter.descriptor().provider != provider {
            return Err(Error::config(format!(
                "the factory for {provider} built an adapter for {}",
                adapter.descriptor().provider
            ))
            .with_provider(provider.as_str()));
        }
        if mapper.is_empty() {
            return Ok(adapter);
        }
        Ok(Arc::new(Mapped::new(adapter, Arc::new(mapper))))
    }

    /// Runs `adapter`'s health check, records the result for the connection and returns it.
    /// A failing check is recorded as [`Unhealthy`](crate::HealthStatus::Unhealthy), not
    /// returned as an error.
    pub async fn check_health(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        adapter: &dyn Integration,
    ) -> Health {
        let started = Instant::now();
        let health = match adapter.health_check().await {
            Ok(health) => health,
            Err(e) => Health::unhealthy(&e, started.elapsed()),
        };
        self.record_health(tenant, connection, health.clone());
        health
    }

    /// Records `health` for a connection.
    pub fn record_health(&self, tenant: &TenantId, connection: &ConnectionId, health: Health) {
        let mut map = self.health.write().unwrap_or_else(|p| p.into_inner());
        map.insert((tenant.clone(), connection.clone()), health);
    }

    /// The last recorded health of a connection.
    pub fn health(&self, tenant: &TenantId, connection: &ConnectionId) -> Option<Health> {
        let map = self.health.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(tenant.clone(), connection.clone())).cloned()
    }

    /// The last recorded health of every checked connection of `tenant`.
    pub fn tenant_health(&self, tenant: &TenantId) -> Vec<(ConnectionId, Health)> {
        let map = self.health.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> =
            map.iter().filter(|((t, _), _)| t == tenant).map(|((_, c), h)| (c.clone(), h.clone())).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
