//! ADP Workforce Now, following ADP's developer articles and its published sample payloads:
//!
//! - auth: OAuth2 client credentials at `{auth_base_url}/auth/oauth/v2/token` (client id and
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
//!   sync engine asks only after committing the page, since this stream turns read-ahead off —
//!   so a sync that fails between the two
//!   loses nothing: the message is served again (at least once; the records cache absorbs a
//!   repeat). The page cursor is the message id. ADP's queue is not time-based: `since` is
//!   ignored. A dry run deletes nothing, so it shows the oldest message's changes and ends;
//! - departments and jobs: the validation tables `GET /hcm/v1/validation-tables/departments`
//!   and `.../jobs` (samples under `wfn/Validation Tables/`);
//! - errors: ADP's bodies (OAuth, gateway `response.applicationCode`, `confirmMessage`) are kept
//!   on the error; `429` and `503` are retried, honouring `Retry-After`.
//!
//! Configuration: `client_id`; secrets `client_secret`, `client_certificate` and `client_key`
//! (PEM); optional `ca_certificate` (PEM, an extra root to trust), `base_url` (default
//! `https://api.adp.com`) and `auth_base_url` (default `https://accounts.adp.com`).

mod wire;

use std::sync::Arc;

use integration_core::RejectedRecord;
use integration_core::auth::{OAuth2Client, OAuth2Endpoints, OAuth2Source, TokenManager};
use integration_core::http::{ClientCertificate, HttpClient, join_path};
use integration_core::schema::AUTH_BASE_URL;
use reqwest::StatusCode;
use url::Url;

use self::wire::{Table, Workers};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "adp";
const MESSAGES: &str = "/core/v1/event-notification-messages";
const MAX_PAGE: u32 = 100;

/// A page of workers, how many raw records it held, and `meta.totalNumber`.
type WorkerPage = (Decoded<Remote<Employee>>, usize, Option<u64>);

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
        let capabilities = [capability::EMPLOYEE_CHANGES, capability::DEPARTMENTS, capability::JOBS, capability::PAY];
        let docs = "https://developers.adp.com/articles/general/introduction-to-adp-restful-apis";
        descriptor(PROVIDER, "ADP Workforce Now", docs, capabilities)
            // Reading the next page of changes deletes the message before: only once it is committed.
            .without_read_ahead(HrisStream::Employees.name())
            .capability(Capability::HEALTH_CHECK)
            .setting("client_id", FieldFormat::Text, "the data connector's client id")
            .secret("client_secret", FieldFormat::Text, "the data connector's client secret")
            .secret("client_certificate", FieldFormat::Pem, "the ADP-signed client certificate (PEM)")
            .secret("client_key", FieldFormat::Pem, "the client certificate's private key (unencrypted PEM)")
            .optional_setting("ca_certificate", FieldFormat::Pem, "an extra root certificate to trust (PEM)")
            .base_url(Some("https://api.adp.com"), "the API host")
            .optional_setting(AUTH_BASE_URL, FieldFormat::HttpsUrl, "the token host, default https://accounts.adp.com")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let api = config.base_url(Some("https://api.adp.com"))?;
        let accounts = config.setting_url(AUTH_BASE_URL, Some("https://accounts.adp.com"))?;
        let token_url = join_path(&accounts, "/auth/oauth/v2/token", &[]);
        let client_id = config.setting_str("client_id")?.to_owned();
        let secret = config.secret("client_secret")?.expose_secret();
        // ADP wants the client certificate on every call, token and API alike: a client (and a
        // connection pool) of the connection's own.
        let http = HttpClient::builder().client_certificate(config, ClientCertificate::default())?.build()?;
        let policy = context.http_policy_for(&descriptor, config);
        let http = http.provider_with(descriptor.provider.clone(), policy).for_tenant(config.tenant.clone());
        let oauth = OAuth2Client::new(http.clone(), client_id.clone(), OAuth2Endpoints::new(None, token_url))
            .with_client_secret(secret);
        let tokens = context.token_manager(Arc::new(OAuth2Source::client_credentials(oauth, &[])));
        let client = http.with_auth(tokens.authenticator(config.tenant.clone(), config.connection.clone()));
        let (tenant, connection) = (config.tenant.clone(), config.connection.clone());
        Ok(Self { descriptor, client, tokens, tenant, connection, api, client_id })
    }
}

/// How an answer is read.
type Parse<T> = fn(Response) -> Result<T>;

/// A JSON answer, or nothing on `204 No Content`.
fn unless_no_content<T: serde::de::DeserializeOwned>(response: Response) -> Result<Option<T>> {
    if response.status() == StatusCode::NO_CONTENT { Ok(None) } else { response.json().map(Some) }
}

impl Adp {
    /// A GET of `base_url` + `path` (+ `id`, escaped), traced as `template`.
    /// The answer is read by `parse`; one that does not parse is asked for again.
    async fn get<T>(&self, at: (&str, Option<&str>, &str), query: &[(&str, String)], parse: Parse<T>) -> Result<T> {
        let (path, id, template) = at;
        let request = self.client.get(join_path(&self.api, path, id.as_slice()));
        let request = request.header("Accept", "application/json;masked=false").header("roleCode", "practitioner");
        request.query(query).path_template(template).send_with(parse).await
    }

    /// A page of workers (none on `204`).
    async fn workers(&self, id: Option<&str>, query: &[(&str, String)]) -> Result<WorkerPage> {
        let template = if id.is_some() { "/hr/v2/workers/{aoid}" } else { "/hr/v2/workers" };
        let Some(page) =
            self.get::<Option<Workers>>(("/hr/v2/workers", id, template), query, unless_no_content).await?
        else {
            return Ok((Decoded::default(), 0, None));
        };
        let (count, total) = (page.workers.len(), page.meta.and_then(|m| m.total_number));
        Ok((map_each(page.workers, "associateOID", wire::employee), count, total))
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
        let request = self.client.delete(join_path(&self.api, MESSAGES, &[id]));
        match request.path_template("/core/v1/event-notification-messages/{msgid}").send().await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn table(&self, name: &str) -> Result<Vec<Value>> {
        let path = format!("/hcm/v1/validation-tables/{name}");
        let table: Table = self.get((&path, None, &path), &[], |r| r.json()).await?;
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
        // ADP publishes no revocation endpoint: client credentials are revoked in its console.
        // This revokes what the token source can and forgets the access token held here.
        self.tokens.revoke(&self.tenant, &self.connection).await.map(|_| ())
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }
}

#[async_trait]
impl Hris for Adp {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let (top, skip) = (request.limit(MAX_PAGE), request.offset().map_err(|e| e.with_provider(PROVIDER))?);
        let query = [("$top", top.to_string()), ("$skip", skip.to_string())];
        let (decoded, count, total) = self.workers(None, &query).await?;
        let next = skip + u64::from(top);
        let more = count >= top as usize && total.is_none_or(|total| next < total);
        Ok(Listing::decoded(decoded, more.then(|| next.to_string())))
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let not_found = || Error::not_found(format!("ADP has no worker {remote_id:?}")).with_provider(PROVIDER);
        self.worker(remote_id).await?.and_then(Decoded::single).unwrap_or_else(|| Err(not_found()))
    }

    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        // The cursor is the message of the page before, which the engine has committed by now.
        // A dry run deletes nothing, so the queue would serve that message again: it ends there.
        match request.cursor.as_deref() {
            Some(_) if request.dry_run => return Ok(Listing::new(Vec::new(), None)),
            Some(done) => self.acknowledge(done).await?,
            None => {}
        }
        let message = |r: Response| Ok(unless_no_content::<Value>(r.clone())?.map(|raw| (r, raw)));
        let Some((response, raw)) = self.get((MESSAGES, None, MESSAGES), &[], message).await? else {
            return Ok(Listing::new(Vec::new(), None));
        };
        let id = response.header("adp-msg-msgid").filter(|id| !id.is_empty()).map(str::to_owned).ok_or_else(|| {
            Error::invalid_response("an event notification message came without adp-msg-msgid").with_provider(PROVIDER)
        })?;
        let mut page = Decoded::default();
        match wire::message_workers(&raw) {
            // Kept in the run log and deleted with the next page, so it cannot block the queue.
            Err(e) => page.rejected.push(RejectedRecord::new(Some(id.clone()), raw, e.with_record(id.clone()))),
            Ok(workers) => {
                for (aoid, at) in workers {
                    match self.worker(&aoid).await? {
                        Some(decoded) => page.merge(decoded),
                        None => page.ok.push(Remote::deleted(aoid).modified(at)),
                    }
                }
            }
        }
        Ok(Listing::decoded(page, Some(id)))
    }

    async fn departments(&self, _request: ListRequest) -> Result<Listing<Department>> {
        let items = self.table("departments").await?;
        Ok(Listing::decoded(map_each(items, "code", wire::department), None))
    }

    async fn jobs(&self, _request: ListRequest) -> Result<Listing<Job>> {
        let items = self.table("jobs").await?;
        Ok(Listing::decoded(map_each(items, "code", wire::job), None))
    }
}
