//! ADP Workforce Now, following ADP's developer articles and its published sample payloads:
//!
//! - the HTTP shape — hosts, mutual TLS, the client credentials grant, headers, `$top`/`$skip`
//!   paging and its end, the credential check — is the catalog's spec
//!   (`integration-core/catalog/adp.toml`); this module is the mapping and the event queue;
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

use integration_core::RejectedRecord;
use integration_core::http::Method;
use integration_core::schema::AUTH_BASE_URL;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use reqwest::StatusCode;

use self::wire::Table;
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "adp";
const WORKERS: &str = "/hr/v2/workers";
const MESSAGES: &str = "/core/v1/event-notification-messages";
const MAX_PAGE: u32 = 100;

/// The ADP Workforce Now adapter for one connection.
#[derive(Debug)]
pub struct Adp {
    descriptor: Descriptor,
    api: SpecClient,
    client_id: String,
}

impl Adapter for Adp {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::EMPLOYEE_CHANGES, capability::DEPARTMENTS, capability::JOBS, capability::PAY];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no ADP spec in the catalog"))?;
        let docs = "https://developers.adp.com/articles/general/introduction-to-adp-restful-apis";
        descriptor(PROVIDER, "ADP Workforce Now", docs, capabilities)
            .http_policy(spec.http_policy())
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
        let client_id = config.setting_str("client_id")?.to_owned();
        // The spec gives the hosts, the client certificate on every call (token and API alike),
        // the client credentials grant and the headers (`masked=false`, `roleCode`).
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no ADP spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, client_id })
    }
}

impl Adp {
    /// The worker `aoid`, `None` when ADP has none by that id.
    async fn worker(&self, aoid: &str) -> Result<Option<Decoded<Remote<Employee>>>> {
        let request = self.api.request_at(Method::GET, WORKERS, &[aoid])?.path_template("/hr/v2/workers/{aoid}");
        let read = |r: Response| if r.status() == StatusCode::NO_CONTENT { Ok(None) } else { r.json().map(Some) };
        let answer: Option<wire::Workers> = match request.send_with(read).await {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            answer => answer?,
        };
        Ok(answer.filter(|a| !a.workers.is_empty()).map(|a| map_each(a.workers, "associateOID", wire::employee)))
    }

    /// Deletes a message from the queue; one already gone (a resumed sync) is fine.
    async fn acknowledge(&self, id: &str) -> Result<()> {
        let request = self.api.request_at(Method::DELETE, MESSAGES, &[id])?;
        match request.path_template("/core/v1/event-notification-messages/{msgid}").send().await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The oldest message on the queue and its id, `None` when it is empty.
    async fn oldest_message(&self) -> Result<Option<(String, Value)>> {
        let read = |r: Response| {
            if r.status() == StatusCode::NO_CONTENT {
                return Ok(None);
            }
            let id = r.header("adp-msg-msgid").filter(|id| !id.is_empty()).map(str::to_owned);
            Ok(Some((id, r.json::<Value>()?)))
        };
        let Some((id, raw)) = self.api.request(Method::GET, MESSAGES)?.path_template(MESSAGES).send_with(read).await?
        else {
            return Ok(None);
        };
        let id = id.ok_or_else(|| {
            Error::invalid_response("an event notification message came without adp-msg-msgid").with_provider(PROVIDER)
        })?;
        Ok(Some((id, raw)))
    }

    async fn table(&self, name: &str) -> Result<Vec<Value>> {
        let path = format!("/hcm/v1/validation-tables/{name}");
        let table: Table = self.api.request(Method::GET, &path)?.path_template(path.clone()).send_json().await?;
        Ok(table.list_items)
    }
}

#[async_trait]
impl Integration for Adp {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.api.check().await?;
        Ok(ConnectionInfo::with_account(self.client_id.clone(), None))
    }

    async fn disconnect(&self) -> Result<()> {
        // ADP publishes no revocation endpoint: client credentials are revoked in its console.
        // This forgets the access token held here.
        self.api.revoke().await
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }
}

#[async_trait]
impl Hris for Adp {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let size = Some(request.limit(MAX_PAGE));
        let page = self.api.page(WORKERS, request.cursor.as_deref(), size).await?;
        Ok(Listing::decoded(map_each(page.records, "associateOID", wire::employee), page.next))
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
        let Some((id, raw)) = self.oldest_message().await? else {
            return Ok(Listing::new(Vec::new(), None));
        };
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
