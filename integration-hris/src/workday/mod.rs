//! Workday, through its REST API (Staffing v6), following Workday's REST directory
//! <https://community.workday.com/sites/default/files/file-hosting/restapi/index.html> and the
//! Staffing v6 specification as published in the generated SDKs
//! (<https://github.com/konfig-sdks/workday-staffing-python-sdk>):
//!
//! - the HTTP shape — the Staffing base URL, OAuth2 with a refresh token, `limit`/`offset`
//!   paging, the error pointer, the credential check — is the catalog's spec
//!   (`integration-core/catalog/workday.toml`); this module is the mapping and the status
//!   search; the configured `base_url` is the spec's `https://{host}`, and the token endpoint
//!   on the same host follows it;
//! - auth: OAuth2 with the refresh token of an API client registered for integrations
//!   (non-expiring refresh tokens), `POST {host}/ccx/oauth2/{tenant}/token` with
//!   `grant_type=refresh_token` and the client id and secret as HTTP Basic; access tokens are
//!   renewed by the [`TokenManager`](integration_core::auth::TokenManager) (once per connection at a time) and a `401` causes one
//!   renewal and one retry. The configured refresh token is used until the provider hands out
//!   another one; a stored one it refuses falls back to the configured one.
//! - collections: `GET {host}/ccx/api/staffing/{version}/{tenant}/...`, paged by `limit` (at
//!   most 100) and `offset` into `{"total", "data"}`; the page cursor is the next offset.
//! - employees: `GET /workers?includeTerminatedWorkers=true`. No field says a worker is
//!   terminated, but the list without that flag holds only non-terminated workers: each page's
//!   workers are looked up there with one `search` by their worker IDs (space-separated terms
//!   are OR'ed), and those not found are terminated. Hire dates come from
//!   `GET /workers/{ID}/serviceDates` (one call per worker; setting `hire_dates`, default on),
//!   added to the raw JSON as `serviceDates`. Names: Staffing has only the display name
//!   (`descriptor`), split at its first space. Not in the REST API, so left empty: termination
//!   dates, leaves (an employee on leave is `active`), full/part time, manager, pay.
//! - no `employee_changes`: REST has no updated-since filter, change feed or webhooks.
//!   Incremental reads need the SOAP `Get_Workers` operation with `Transaction_Log_Criteria_Data`,
//!   which this adapter does not use; full refreshes find changes by content instead.
//! - departments: `GET /supervisoryOrganizations?includeInactive=true` (parents are only in
//!   each organization's `orgChart`, not read); jobs: `GET /jobProfiles?includeInactive=true`.
//! - time off: not supported. Absence Management lists time off per worker and per day, with no
//!   id, and has no tenant-wide listing.
//! - errors: `{"error": "...", "errors": [{"error", "code", "field", "path"}]}`; 429 when the
//!   tenant is loaded, without `Retry-After` (backoff then).
//!
//! Configuration: `base_url` (the API host, e.g. `https://wd2-impl-services1.workday.com`),
//! `tenant`, secrets `client_id`, `client_secret`, `refresh_token`; optional `staffing_version`
//! (default `v6`) and `hire_dates` (default `true`).

mod wire;

use std::collections::BTreeSet;

use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use serde::de::DeserializeOwned;

use self::wire::{Collection, SERVICE_DATES};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "workday";

/// The largest page Workday serves.
const MAX_PAGE: u32 = 100;

/// Pages of search results allowed per page of searched worker ids (a term can match a few
/// workers whose names contain it).
const SEARCH_PAGES_PER_TERM_PAGE: usize = 5;

/// The Workday adapter for one connection.
#[derive(Debug)]
pub struct Workday {
    descriptor: Descriptor,
    api: SpecClient,
    tenant: String,
    hire_dates: bool,
}

impl Adapter for Workday {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::DEPARTMENTS, capability::JOBS, Capability::HEALTH_CHECK];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Workday spec in the catalog"))?;
        descriptor(PROVIDER, "Workday", &spec.docs, capabilities)
            .http_policy(spec.http_policy())
            .base_url(None, "the API host, e.g. https://wd2-impl-services1.workday.com")
            .setting("tenant", FieldFormat::Text, "the tenant name")
            .secret("client_id", FieldFormat::Text, "the API client's id (View API Clients)")
            .secret("client_secret", FieldFormat::Text, "the API client's secret")
            .secret("refresh_token", FieldFormat::Text, "from Manage Refresh Tokens for Integrations")
            .optional_setting("staffing_version", FieldFormat::Text, "the Staffing version, default v6")
            .optional_setting("hire_dates", FieldFormat::Boolean, "read hire dates (a call per worker), default true")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let tenant = config.setting_str("tenant")?.to_owned();
        let version = config.setting_or("staffing_version", "v6");
        if !version.strip_prefix('v').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
            return Err(Error::config(format!("{version:?} is not a service version such as v6"))
                .with_field("settings.staffing_version")
                .with_provider(PROVIDER));
        }
        let hire_dates = config.settings.get("hire_dates").and_then(Value::as_bool).unwrap_or(true);
        // The spec's `https://{host}`: the configured `base_url`, which the token endpoint
        // (on the same host) follows. The refresh token configured is used until Workday hands
        // out another one.
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Workday spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, tenant, hire_dates })
    }
}

impl Workday {
    /// `GET` of a resource under the Staffing service; `template` is its path for traces.
    async fn get<T: DeserializeOwned>(&self, segments: &[&str], template: &str) -> Result<T> {
        let template = format!("/ccx/api/staffing/{{version}}/{{tenant}}{template}");
        self.api.request_at(Method::GET, "", segments)?.path_template(template).send_json().await
    }

    /// The page of `resource` at `request`'s cursor, and the cursor after it.
    async fn page(
        &self,
        resource: &str,
        request: &ListRequest,
        extra: (&str, &str),
    ) -> Result<(Vec<Value>, Option<String>)> {
        let extra = [(extra.0.to_owned(), extra.1.to_owned())];
        let size = Some(request.limit(MAX_PAGE));
        let page = self.api.page_with(&format!("/{resource}"), request.cursor.as_deref(), size, &extra, None).await?;
        Ok((page.records, page.next))
    }

    /// The ids of those of `workers` that are not terminated: one search of the default worker
    /// list (which leaves terminated workers out) by their worker IDs.
    async fn active_among(&self, workers: &[Value]) -> Result<BTreeSet<String>> {
        let text = |w: &Value, key: &str| w.get(key).and_then(Value::as_str).map(str::to_owned);
        let terms: Vec<String> =
            workers.iter().filter_map(|w| text(w, "workerId").or_else(|| text(w, "descriptor"))).collect();
        let mut active = BTreeSet::new();
        let mut at = None;
        // The search matches at most a few workers per term; a total that never ends (or
        // pages that never empty) must not keep one listing page going forever.
        let max_pages = terms.len().div_ceil(MAX_PAGE as usize) * SEARCH_PAGES_PER_TERM_PAGE;
        let search = [("search".to_owned(), terms.join(" "))];
        for searched in 0.. {
            if terms.is_empty() {
                break;
            }
            if searched == max_pages {
                return Err(Error::invalid_response(format!(
                    "the worker search for {} workers did not end after {max_pages} pages",
                    terms.len()
                ))
                .with_provider(PROVIDER));
            }
            let page = self.api.page_with("/workers", at.as_deref(), Some(MAX_PAGE), &search, None).await?;
            active.extend(page.records.iter().filter_map(|w| text(w, "id")));
            match page.next {
                Some(next) => at = Some(next),
                None => break,
            }
        }
        Ok(active)
    }

    /// Maps workers onto employees, with their status and (if configured) hire dates.
    async fn employees_from(&self, mut workers: Vec<Value>) -> Result<Listing<Employee>> {
        let active = self.active_among(&workers).await?;
        for worker in workers.iter_mut().filter(|_| self.hire_dates) {
            let Some(id) = worker.get("id").and_then(Value::as_str).map(str::to_owned) else { continue };
            let path = ["workers", &id, SERVICE_DATES];
            let dates = match self.get::<Collection>(&path, "/workers/{id}/serviceDates").await {
                Ok(dates) => dates.data.into_iter().next(),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            if let (Some(dates), Some(object)) = (dates, worker.as_object_mut()) {
                object.insert(SERVICE_DATES.to_owned(), dates);
            }
        }
        let decoded = map_each(workers, "id", |r| {
            let is_active = r.raw().get("id").and_then(Value::as_str).is_some_and(|id| active.contains(id));
            wire::employee(r, is_active)
        });
        Ok(Listing::decoded(decoded, None))
    }
}

#[async_trait]
impl Integration for Workday {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.api.check().await?;
        Ok(ConnectionInfo::with_account(self.tenant.clone(), None))
    }

    async fn disconnect(&self) -> Result<()> {
        // Workday publishes no revocation endpoint for API clients: the configured refresh
        // token is revoked in the tenant (Manage Refresh Tokens for Integrations). This revokes
        // what the token source can and forgets the tokens held for the connection.
        self.api.revoke().await
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.api.check()).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }
}

#[async_trait]
impl Hris for Workday {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let (workers, next) = self.page("workers", &request, ("includeTerminatedWorkers", "true")).await?;
        let mut listing = self.employees_from(workers).await?;
        listing.next = next;
        Ok(listing)
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let raw: Value = self.get(&["workers", remote_id], "/workers/{id}").await?;
        let mut listing = self.employees_from(vec![raw]).await?;
        match (listing.items.pop(), listing.rejected.pop()) {
            (Some(employee), _) => Ok(employee),
            (None, Some(rejected)) => Err(rejected.error),
            (None, None) => Err(Error::invalid_response("the worker could not be read").with_provider(PROVIDER)),
        }
    }

    async fn departments(&self, request: ListRequest) -> Result<Listing<Department>> {
        let (raws, next) = self.page("supervisoryOrganizations", &request, ("includeInactive", "true")).await?;
        Ok(Listing::decoded(map_each(raws, "id", wire::department), next))
    }

    async fn jobs(&self, request: ListRequest) -> Result<Listing<Job>> {
        let (raws, next) = self.page("jobProfiles", &request, ("includeInactive", "true")).await?;
        Ok(Listing::decoded(map_each(raws, "id", wire::job), next))
    }
}
