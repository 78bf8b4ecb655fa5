//! Where deliveries go: [`Endpoint`]s (one connection, at `/{provider}/{key}`) and
//! [`AppEndpoint`]s (one provider app for many connections, at `/{provider}`, routed by the
//! account id in the payload), found through an [`EndpointResolver`].

use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use hashbrown::HashMap;
use serde_json::Value;

use super::WebhookSecret;
use crate::descriptor::WebhookScheme;
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, ProviderId, TenantId};

/// One connection's webhook endpoint: deliveries at `/{provider}/{key}`, signed with one of
/// `secrets` (several during a rotation).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Endpoint {
    /// The tenant.
    pub tenant: TenantId,
    /// The connection.
    pub connection: ConnectionId,
    /// The provider.
    pub provider: ProviderId,
    /// How the provider signs.
    pub scheme: WebhookScheme,
    /// The secrets any of which may have signed a delivery.
    pub secrets: Vec<WebhookSecret>,
}

impl Endpoint {
    /// An endpoint for `tenant`'s `connection`.
    pub fn new(
        tenant: TenantId,
        connection: ConnectionId,
        provider: ProviderId,
        scheme: WebhookScheme,
        secrets: Vec<WebhookSecret>,
    ) -> Self {
        Self { tenant, connection, provider, scheme, secrets }
    }

    /// Checks that the endpoint can verify deliveries: a scheme that can verify, at least one
    /// secret, and each secret well-formed for the scheme. A `Validation` error names the
    /// secret at fault (`secrets[1]`); its text never appears.
    pub fn validate(&self) -> Result<()> {
        check_secrets(&self.scheme, &self.secrets)
    }
}

fn check_secrets(scheme: &WebhookScheme, secrets: &[WebhookSecret]) -> Result<()> {
    scheme.validate().map_err(|why| Error::validation("scheme", why))?;
    if secrets.is_empty() {
        return Err(Error::validation("secrets", "an endpoint needs at least one secret"));
    }
    for (i, secret) in secrets.iter().enumerate() {
        scheme
            .check_secret(secret)
            .map_err(|why| Error::validation(format!("secrets[{i}]"), format!("secrets[{i}]: {why}")))?;
    }
    Ok(())
}

/// A provider app's endpoint, shared by every connection of that provider (Xero, Intuit, Slack
/// and Stripe Connect sign per app, not per connection): deliveries at `/{provider}`, verified
/// with the app's secrets, then routed by the account ids found at `account_path` in the JSON
/// body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AppEndpoint {
    /// The provider.
    pub provider: ProviderId,
    /// How the provider signs.
    pub scheme: WebhookScheme,
    /// The app's secrets.
    pub secrets: Vec<WebhookSecret>,
    /// Where the account id is in the payload: JSON pointer segments separated by `/`, where
    /// `*` means every element of an array (`/events/*/tenantId` for Xero,
    /// `/eventNotifications/*/realmId` for Intuit, `/team_id` for Slack).
    pub account_path: String,
}

impl AppEndpoint {
    /// An app endpoint for `provider`.
    pub fn new(provider: ProviderId, scheme: WebhookScheme, secrets: Vec<WebhookSecret>, account_path: &str) -> Self {
        Self { provider, scheme, secrets, account_path: account_path.to_owned() }
    }

    /// Checks that the app can verify deliveries, as [`Endpoint::validate`] does.
    pub fn validate(&self) -> Result<()> {
        check_secrets(&self.scheme, &self.secrets)
    }

    /// The distinct account ids in `payload`, in order of appearance.
    pub fn accounts(&self, payload: &Value) -> Vec<String> {
        let mut found = Vec::new();
        let segments: Vec<&str> = self.account_path.split('/').filter(|s| !s.is_empty()).collect();
        collect(payload, &segments, &mut found);
        let mut seen = std::collections::HashSet::new();
        found.retain(|id| seen.insert(id.clone()));
        found
    }
}

fn collect(value: &Value, path: &[&str], out: &mut Vec<String>) {
    let Some((head, rest)) = path.split_first() else {
        match value {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            _ => {}
        }
        return;
    };
    match (value, *head) {
        (Value::Array(items), "*") => items.iter().for_each(|item| collect(item, rest, out)),
        (Value::Object(map), key) => {
            if let Some(next) = map.get(key) {
                collect(next, rest, out);
            }
        }
        (Value::Array(items), index) => {
            if let Some(next) = index.parse::<usize>().ok().and_then(|i| items.get(i)) {
                collect(next, rest, out);
            }
        }
        _ => {}
    }
}

/// Finds endpoints. Implement it over the host's configuration (the webhook secret is usually a
/// connection or app secret); [`StaticEndpoints`] keeps them in memory.
#[async_trait]
pub trait EndpointResolver: Send + Sync + fmt::Debug {
    /// The endpoint at `/{provider}/{key}`.
    async fn endpoint(&self, provider: &str, key: &str) -> Result<Option<Arc<Endpoint>>>;

    /// The app endpoint at `/{provider}`.
    async fn app(&self, provider: &str) -> Result<Option<Arc<AppEndpoint>>>;

    /// The connection that `account` (an id from an app delivery's payload) belongs to.
    async fn account(&self, provider: &str, account: &str) -> Result<Option<(TenantId, ConnectionId)>>;
}

/// An in-memory [`EndpointResolver`].
#[derive(Debug, Default)]
pub struct StaticEndpoints {
    inner: RwLock<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    /// provider -> key -> endpoint, so lookups by `&str` allocate nothing.
    endpoints: HashMap<String, HashMap<String, Arc<Endpoint>>>,
    apps: HashMap<String, Arc<AppEndpoint>>,
    accounts: HashMap<String, HashMap<String, (TenantId, ConnectionId)>>,
}

impl StaticEndpoints {
    /// No endpoints.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `endpoint` at `/{provider}/{key}`. `key` is an unguessable path segment of the
    /// host's choosing (not the tenant's name); it must be 1 to 128 URL-safe characters. The
    /// endpoint is [validated](Endpoint::validate) first: a malformed secret is refused here,
    /// not discovered when deliveries fail.
    pub fn add_endpoint(&self, key: &str, endpoint: Endpoint) -> Result<()> {
        endpoint.validate()?;
        let ok = (1..=128).contains(&key.len())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
        if !ok {
            return Err(Error::validation("key", format!("an endpoint key is 1 to 128 URL-safe characters: {key:?}")));
        }
        let mut t = self.inner.write().unwrap_or_else(|p| p.into_inner());
        t.endpoints.entry(endpoint.provider.to_string()).or_default().insert(key.to_owned(), Arc::new(endpoint));
        Ok(())
    }

    /// Serves `app` at `/{provider}`, once [validated](AppEndpoint::validate).
    pub fn add_app(&self, app: AppEndpoint) -> Result<()> {
        app.validate()?;
        let mut t = self.inner.write().unwrap_or_else(|p| p.into_inner());
        t.apps.insert(app.provider.to_string(), Arc::new(app));
        Ok(())
    }

    /// Routes app deliveries for `account` to `tenant`'s `connection`.
    pub fn add_account(&self, provider: &ProviderId, account: &str, tenant: TenantId, connection: ConnectionId) {
        let mut t = self.inner.write().unwrap_or_else(|p| p.into_inner());
        t.accounts.entry(provider.to_string()).or_default().insert(account.to_owned(), (tenant, connection));
    }
}

#[async_trait]
impl EndpointResolver for StaticEndpoints {
    async fn endpoint(&self, provider: &str, key: &str) -> Result<Option<Arc<Endpoint>>> {
        let t = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ok(t.endpoints.get(provider).and_then(|keys| keys.get(key)).cloned())
    }

    async fn app(&self, provider: &str) -> Result<Option<Arc<AppEndpoint>>> {
        let t = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ok(t.apps.get(provider).cloned())
    }

    async fn account(&self, provider: &str, account: &str) -> Result<Option<(TenantId, ConnectionId)>> {
        let t = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ok(t.accounts.get(provider).and_then(|accounts| accounts.get(account)).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(path: &str) -> AppEndpoint {
        AppEndpoint::new(ProviderId::new("xero").unwrap(), WebhookScheme::Xero, vec![], path)
    }

    #[test]
    fn account_paths_walk_objects_arrays_and_wildcards() {
        let payload = json!({
            "events": [{"tenantId": "t1"}, {"tenantId": "t2"}, {"tenantId": "t1"}, {"other": 1}],
            "team_id": "T42",
            "n": [{"id": 7}]
        });
        assert_eq!(app("/events/*/tenantId").accounts(&payload), ["t1", "t2"]);
        assert_eq!(app("/team_id").accounts(&payload), ["T42"]);
        assert_eq!(app("/events/1/tenantId").accounts(&payload), ["t2"]);
        assert_eq!(app("/n/*/id").accounts(&payload), ["7"]);
        assert!(app("/missing/*/x").accounts(&payload).is_empty());
        assert!(app("/events/*/tenantId").accounts(&json!({"events": []})).is_empty());
    }
}
