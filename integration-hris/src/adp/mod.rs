//! ADP Workforce Now, following ADP's developer articles and its published sample payloads:
//!
//! - auth: OAuth2 client credentials at `{accounts_base}/auth/oauth/v2/token` (client id and
//!   secret by HTTP Basic, `grant_type` in the form), tokens valid an hour and renewed on expiry
//!   or on a `401`; **mutual TLS** with the ADP-signed client certificate on every call, token
//!   and API alike (<https://developers.adp.com/articles/general/access-tokens>,
//!   <https://developers.adp.com/articles/guides/auth-process-data-connector-apps>);
//! - employees: Workers v2, `GET /hr/v2/workers?$top=&$skip=` — at most 100 a page, the end
//!   marked by `204 No Content`, a short page or `meta.totalNumber` — and `GET
//!   /hr/v2/workers/{aoid}`, asking `Accept: application/json;masked=false` so pay rates are
//!   readable (<https://developers.adp.com/articles/general/introduction-to-adp-api-open-data-protocol-odata>,
//!   samples under `wfn/hr/workers-v2/` of <https://github.com/adpllc/marketplace-sample-payloads>);
//! - changes: the event notification queue
//!   (<https://developers.adp.com/articles/general/adp-event-apis-and-event-notification-guide>):
//!   `GET /core/v1/event-notification-messages` serves the oldest message (its id in
//!   `adp-msg-msgid`, `204` when empty) until `DELETE .../{id}` removes it. Each page is one
//!   message: the workers its events name, each read again so the record is whole (a worker
//!   gone is a tombstone). The message is deleted only when the *next* page is asked for — the
//!   sync engine asks only after committing the page — so a sync that fails between the two
//!   loses nothing: the message is served again (at least once; the records cache absorbs a
//!   repeat). The page cursor is the message id. ADP's queue is not time-based: `since` is
//!   ignored, and a dry run of the incremental stream does consume the messages it read;
//! - departments and jobs: the validation tables `GET /hcm/v1/validation-tables/departments`
//!   and `.../jobs` (samples under `wfn/Validation Tables/`);
//! - errors: ADP's bodies (OAuth, gateway `response.applicationCode`, `confirmMessage`) are kept
//!   on the error; `429` and `503` are retried, honouring `Retry-After`.
//!
//! Configuration: `client_id`; secrets `client_secret`, `client_certificate` and `client_key`
//! (PEM); optional `ca_certificate` (PEM, an extra root to trust), `api_base` (default
//! `https://api.adp.com`) and `accounts_base` (default `https://accounts.adp.com`).

mod tls;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::auth::{OAuth2Client, OAuth2Endpoints, OAuth2Source, TokenManager};
use integration_core::decode::{Decoded, decode, decode_each};
use integration_core::http::{HttpPolicy, ProviderClient, Response};
use integration_core::schema::{ConfigField, FieldFormat};
use integration_core::{
    BuildContext, Capability, ConnectionId, ConnectionInfo, Descriptor, Domain, Error, ErrorKind, Health, Integration,
    IntegrationConfig, Page, ReadRequest, RejectedRecord, Result, TenantId,
};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use self::wire::{Message, Table, TableItem, Worker, Workers};
use crate::adapter::Adapter;
use crate::hris::{Hris, ListRequest, Listing, capability};
use crate::model::{Department, Employee, Job, Remote};
use crate::streams::HrisStream;

/// The provider id.
pub const PROVIDER: &str = "adp";
const MESSAGES: &str = "/core/v1/event-notification-messages";
const MAX_PAGE: u32 = 100;

/// The ADP Workforce Now adapter for one connection.
#[derive(Debug)]
pub struct Adp {
    descriptor: Descriptor,
    client: ProviderClient,
    tokens: Arc<TokenManager>,
    tenant: TenantId,
    connection: ConnectionId,
    api: Url,
    client_id: String,
}

impl Adapter for Adp {
    fn describe() -> Result<Descriptor> {
        let pem = |key: &str, what: &str| ConfigField::secret(key).with_format(FieldFormat::Pem).with_description(what);
        let url = |key: &str, what: &str| ConfigField::optional(key, FieldFormat::HttpsUrl).with_description(what);
        let mut builder = Descriptor::builder(PROVIDER, Domain::Hris, "ADP Workforce Now")
            .documentation("https://developers.adp.com/articles/general/introduction-to-adp-restful-apis")
            .http_policy(HttpPolicy::standard())
            .field(
                ConfigField::required("client_id", FieldFormat::Text)
                    .with_description("the data connector's client id"),
            )
            .field(ConfigField::secret("client_secret").with_description("the data connector's client secret"))
            .field(pem("client_certificate", "the ADP-signed client certificate (PEM), presented on every call"))
            .field(pem("client_key", "the client certificate's private key (unencrypted PEM)"))
            .field(
                ConfigField::optional("ca_certificate", FieldFormat::Pem)
                    .with_description("an extra root certificate to trust (PEM), e.g. for TLS inspection"),
            )
            .field(url("api_base", "the API host, default https://api.adp.com"))
            .field(url("accounts_base", "the token host, default https://accounts.adp.com"));
        for c in [capability::EMPLOYEE_CHANGES, capability::DEPARTMENTS, capability::JOBS, capability::PAY] {
            builder = builder.capability(c);
        }
        for stream in [HrisStream::Employees, HrisStream::Departments, HrisStream::Jobs] {
            builder = builder.stream(stream.descriptor(true));
        }
        builder.capability(Capability::HEALTH_CHECK).build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let base = |key: &str, default: &str| {
            let text = config.settings.get(key).and_then(Value::as_str).unwrap_or(default);
            Url::parse(text.trim_end_matches('/')).map_err(|e| {
                Error::config(format!("{key} is not a URL: {e}"))
                    .with_field(format!("settings.{key}"))
                    .with_provider(PROVIDER)
            })
        };
        let api = base("api_base", "https://api.adp.com")?;
        let token_url = join(&base("accounts_base", "https://accounts.adp.com")?, "/auth/oauth/v2/token", None);
        let client_id = config.setting_str("client_id")?.to_owned();
        let secret = config.secret("client_secret")?.expose_secret();
        let http = tls::mtls_client(config)?.provider(&descriptor).for_tenant(config.tenant.clone());
        let oauth = OAuth2Client::new(http.clone(), client_id.clone(), OAuth2Endpoints::new(None, token_url))
            .with_client_secret(secret);
        let tokens = context.token_manager(Arc::new(OAuth2Source::client_credentials(oauth, &[])));
        let client = http.with_auth(tokens.authenticator(config.tenant.clone(), config.connection.clone()));
        let (tenant, connection) = (config.tenant.clone(), config.connection.clone());
        Ok(Self { descriptor, client, tokens, tenant, connection, api, client_id })
    }
}

impl Adp {
    /// A GET of `api_base` + `path` (+ `id`, escaped), traced as `template`.
    async fn get(&self, path: &str, id: Option<&str>, template: &str, query: &[(&str, String)]) -> Result<Response> {
        let request = self.client.get(join(&self.api, path, id)).header("Accept", "application/json;masked=false");
        request.header("roleCode", "practitioner").query(query).path_template(template).send().await
    }

    /// A page of workers (none on `204`), how many raw records it held, and `meta.totalNumber`.
    async fn workers(
        &self,
        id: Option<&str>,
        query: &[(&str, String)],
    ) -> Result<(Decoded<Remote<Employee>>, usize, Option<u64>)> {
        let template = if id.is_some() { "/hr/v2/workers/{aoid}" } else { "/hr/v2/workers" };
        let response = self.get("/hr/v2/workers", id, template, query).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok((Decoded::default(), 0, None));
        }
        let page: Workers = response.json()?;
        let (count, total) = (page.workers.len(), page.meta.and_then(|m| m.total_number));
        Ok((decode_each(page.workers, "associateOID", |w: Worker, raw| w.into_remote(raw)), count, total))
    }

    /// One worker, `None` when ADP has none by that id.
    async fn worker(&self, aoid: &str) -> Result<Option<Decoded<Remote<Employee>>>> {
        match self.workers(Some(aoid), &[]).await {
            Ok((decoded, count, _)) => Ok((count > 0).then_some(decoded)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a message from the queue; one already gone (a resumed sync) is fine.
    async fn acknowledge(&self, id: &str) -> Result<()> {
        let request = self.client.delete(join(&self.api, MESSAGES, Some(id)));
        match request.path_template("/core/v1/event-notification-messages/{msgid}").send().await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn table(&self, name: &str) -> Result<Vec<Value>> {
        let path = format!("/hcm/v1/validation-tables/{name}");
        let table: Table = self.get(&path, None, &path, &[]).await?.json()?;
        Ok(table.list_items)
    }
}

#[async_trait]
impl Integration for Adp {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.workers(None, &[("$top", "1".into())]).await?;
        Ok(ConnectionInfo::with_account(self.client_id.clone(), None))
    }

    async fn disconnect(&self) -> Result<()> {
        // Client credentials are revoked in ADP's console; forget the access token held here.
        self.tokens.forget(&self.tenant, &self.connection).await.map(|_| ())
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.connect()).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }
}

#[async_trait]
impl Hris for Adp {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let top = request.page_size.map_or(MAX_PAGE, |n| n.get().min(MAX_PAGE));
        let skip: u64 = match request.cursor.as_deref() {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| Error::validation("cursor", format!("{c:?} is not an offset")).with_provider(PROVIDER))?,
        };
        let query = [("$top", top.to_string()), ("$skip", skip.to_string())];
        let (decoded, count, total) = self.workers(None, &query).await?;
        let next = skip + u64::from(top);
        let more = count >= top as usize && total.is_none_or(|total| next < total);
        Ok(Listing::decoded(decoded, more.then(|| next.to_string())))
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let not_found = || Error::not_found(format!("ADP has no worker {remote_id:?}")).with_provider(PROVIDER);
        let mut decoded = self.worker(remote_id).await?.ok_or_else(not_found)?;
        match decoded.ok.pop() {
            Some(employee) => Ok(employee),
            None => Err(decoded.rejected.pop().map_or_else(not_found, |r| r.error)),
        }
    }

    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        // The cursor is the message of the page before, which the engine has committed by now.
        if let Some(done) = request.cursor.as_deref() {
            self.acknowledge(done).await?;
        }
        let response = self.get(MESSAGES, None, MESSAGES, &[]).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(Listing::new(Vec::new(), None));
        }
        let id = response.header("adp-msg-msgid").filter(|id| !id.is_empty()).map(str::to_owned).ok_or_else(|| {
            Error::invalid_response("an event notification message came without adp-msg-msgid").with_provider(PROVIDER)
        })?;
        let raw: Value = response.json()?;
        let mut page = Decoded::default();
        match decode::<Message>(&raw) {
            // Kept in the run log and deleted with the next page, so it cannot block the queue.
            Err(e) => page.rejected.push(RejectedRecord::new(Some(id.clone()), raw, e.with_record(id.clone()))),
            Ok(message) => {
                for (aoid, at) in message.workers() {
                    match self.worker(&aoid).await? {
                        Some(decoded) => {
                            page.ok.extend(decoded.ok);
                            page.rejected.extend(decoded.rejected);
                        }
                        None => page.ok.push(Remote::deleted(aoid).modified(at)),
                    }
                }
            }
        }
        Ok(Listing::decoded(page, Some(id)))
    }

    async fn departments(&self, _request: ListRequest) -> Result<Listing<Department>> {
        let items = self.table("departments").await?;
        Ok(Listing::decoded(decode_each(items, "code", |i: TableItem, raw| i.department(raw)), None))
    }

    async fn jobs(&self, _request: ListRequest) -> Result<Listing<Job>> {
        let items = self.table("jobs").await?;
        Ok(Listing::decoded(decode_each(items, "code", |i: TableItem, raw| i.job(raw)), None))
    }
}

/// `base` + `path`, then `id` as one escaped path segment.
fn join(base: &Url, path: &str, id: Option<&str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path.split('/').filter(|s| !s.is_empty())).extend(id);
    }
    url
}
