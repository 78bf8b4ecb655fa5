//! BambooHR, following its API v1 documentation at <https://documentation.bamboohr.com/>:
//!
//! - the HTTP shape — host, path, auth (an API key as the HTTP Basic user name, password `x`),
//!   `Accept: application/json`, the error header, webhook signing — is the catalog's spec
//!   (`integration-core/catalog/bamboohr.toml`); this module is the mapping and BambooHR's calls;
//! - employees: a custom report (`POST /v1/reports/custom?format=JSON`) with every status, so
//!   terminated employees are included — one answer for the whole company, allowed
//!   [`REPORT_BODY_LIMIT`] (a company of 50,000); one employee:
//!   `GET /v1/employees/{id}?fields=`;
//! - changes: `GET /v1/employees/changed?since=` (deletions and the `latest` mark), then one
//!   custom report filtered on `lastChanged` for the changed records;
//! - departments and jobs: the `department` and `jobTitle` lists of `GET /v1/meta/lists`;
//! - time off: `GET /v1/time_off/requests?start=&end=` over a window around today
//!   (`time_off_days` either side, default 365);
//! - updates: `POST /v1/employees/{id}` with the fields to set (a flat JSON object of field
//!   names), answered `200` with an empty body; the employee is then read again. Setting values
//!   is idempotent, so the request is retried like a `PUT`;
//! - errors: the `X-BambooHR-Error-Message` header becomes part of the error; 429 and 503
//!   with `Retry-After` are retried;
//! - webhooks: field-based webhooks, `X-BambooHR-Signature` = hex HMAC-SHA256 of the body
//!   followed by `X-BambooHR-Timestamp`, keyed with the webhook's private key. Each employee in
//!   a delivery is read again, so the change carries the whole record.
//!
//! Configuration: `company_domain` (the `acme` of `acme.bamboohr.com`), secret `api_key`,
//! optional `base_url` (default `https://api.bamboohr.com`) and `time_off_days`.

mod wire;

use chrono::Duration;
use integration_core::descriptor::{GenericHmac, SignatureEncoding};
use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{VerifiedWebhook, WebhookOutcome, WebhookScheme};
use serde::de::DeserializeOwned;

use self::wire::{FIELDS, MetaList, Report, UPDATE_NAMES};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "bamboohr";

/// The fields the adapter asks for in custom reports and single-employee reads (comma-separated
/// BambooHR field names).
pub const REPORT_FIELDS: &str = wire::FIELDS;

/// The body limit of the employee report, one answer for the whole company (BambooHR does not
/// page it): sized for a company of 50,000 employees at 2 KiB each — four times the 480 bytes
/// an employee measured on the fake's records (`tests/bamboohr_contract.rs` keeps that true),
/// for longer real-world values. 100 MiB; every other call keeps the policy's limit (32 MiB by
/// default, about 16,000 employees' worth). Parsing a report that size takes several times as
/// much memory. A policy that allows more (a host's, per connection) applies to it too.
pub const REPORT_BODY_LIMIT: usize = 50_000 * 2 * 1024;

/// How BambooHR signs webhook deliveries.
pub fn webhook_scheme() -> WebhookScheme {
    WebhookScheme::GenericHmac(
        GenericHmac::new("X-BambooHR-Signature", SignatureEncoding::Hex)
            .with_timestamp("X-BambooHR-Timestamp", "{body}{timestamp}"),
    )
}

/// The BambooHR adapter for one connection.
#[derive(Debug)]
pub struct BambooHr {
    descriptor: Descriptor,
    api: SpecClient,
    company: String,
    time_off_days: i64,
}

impl Adapter for BambooHr {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::EMPLOYEE_CHANGES,
            capability::DEPARTMENTS,
            capability::JOBS,
            capability::TIME_OFF,
            capability::PAY,
            capability::EMPLOYEE_WRITE,
            Capability::HEALTH_CHECK,
        ];
        let days = FieldFormat::Integer { min: 1, max: 3660 };
        descriptor(PROVIDER, "BambooHR", "https://documentation.bamboohr.com/", capabilities)
            .webhook(webhook_scheme())
            .http_policy(HttpPolicy::standard().with_error_message_header("X-BambooHR-Error-Message"))
            .setting("company_domain", FieldFormat::HostLabel, "the `acme` of acme.bamboohr.com")
            .secret("api_key", FieldFormat::Text, "an API key (BambooHR: your name → API Keys)")
            .base_url(Some("https://api.bamboohr.com"), "the API host")
            .optional_setting("time_off_days", days, "days either side of today to read time off for, default 365")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let company = config.setting_str("company_domain")?.to_owned();
        let time_off_days = config.settings.get("time_off_days").and_then(Value::as_i64).unwrap_or(365);
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no BambooHR spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, company, time_off_days })
    }
}

impl BambooHr {
    async fn get<T: DeserializeOwned>(&self, path: &str, template: &str, query: &[(&str, String)]) -> Result<T> {
        let request = self.api.request(Method::GET, path)?;
        request.query(query).path_template(template).send_json().await
    }

    /// A custom report of every employee (all statuses), optionally only those changed since.
    async fn report(&self, since: Option<DateTime<Utc>>) -> Result<Listing<Employee>> {
        let mut body = json!({ "title": "integrations sync", "fields": FIELDS.split(',').collect::<Vec<_>>() });
        if let Some(since) = since {
            body["filters"] = json!({ "lastChanged": { "includeNull": "no", "value": since.to_rfc3339() } });
        }
        let request = self.api.request(Method::POST, "/reports/custom")?.json(&body).read_only();
        let query = [("format", "JSON"), ("onlyCurrent", "true")];
        let limit = REPORT_BODY_LIMIT.max(self.api.provider_client().policy().max_body_bytes);
        let request = request.query(&query).header("Accept", "application/json").max_body_bytes(limit);
        let report: Report = request.path_template("/v1/reports/custom").send_json().await?;
        Ok(Listing::decoded(map_each(report.employees, "id", wire::employee), None))
    }

    async fn meta_list(&self, alias: &str) -> Result<Vec<Value>> {
        let lists: Vec<MetaList> = self.get("/meta/lists", "/v1/meta/lists", &[]).await?;
        Ok(lists.into_iter().find(|l| l.alias.as_deref() == Some(alias)).map(|l| l.options).unwrap_or_default())
    }
}

#[async_trait]
impl Integration for BambooHr {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.meta_list("department").await?;
        Ok(ConnectionInfo::with_account(self.company.clone(), None))
    }

    // `disconnect` keeps its default: an API key is revoked by its owner in BambooHR, nothing is
    // held here; `health_check` too: it probes `connect`, one meta list read.

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let mut employees = Vec::new();
        for (id, deleted) in wire::webhook_employees(&delivery.json()?)? {
            if deleted {
                employees.push(Remote::deleted(id));
                continue;
            }
            match self.employee(&id).await {
                Ok(employee) => employees.push(employee),
                Err(e) if e.kind() == ErrorKind::NotFound => employees.push(Remote::deleted(id)),
                Err(e) => return Err(e),
            }
        }
        employee_webhook_outcome(employees)
    }
}

#[async_trait]
impl Hris for BambooHr {
    async fn employees(&self, _request: ListRequest) -> Result<Listing<Employee>> {
        self.report(None).await
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let query = [("fields", FIELDS.to_owned())];
        let request = self.api.request_at(Method::GET, "/employees", &[remote_id])?.query(&query);
        let raw: Value = request.path_template("/v1/employees/{id}").send_json().await?;
        map_one(&raw, "id", wire::employee)
    }

    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let since = request.since.ok_or_else(|| {
            Error::validation("since", "employee_changes needs a lower bound").with_provider(PROVIDER)
        })?;
        let raw: Value =
            self.get("/employees/changed", "/v1/employees/changed", &[("since", since.to_rfc3339())]).await?;
        let (latest, changes) = wire::changed(&raw).map_err(|e| e.with_provider(PROVIDER))?;
        let live = changes.iter().any(|c| !c.deleted);
        let mut listing = if live { self.report(Some(since)).await? } else { Listing::new(Vec::new(), None) };
        let deleted = changes.into_iter().filter(|c| c.deleted);
        listing.items.extend(deleted.map(|c| Remote::deleted(c.id).modified(c.at)));
        Ok(listing.with_high_water(latest))
    }

    async fn update_employee(&self, remote_id: &str, update: &EmployeeUpdate) -> Result<Remote<Employee>> {
        update.require_change().map_err(|e| e.with_provider(PROVIDER))?;
        // The id goes into the path of a write: only BambooHR's numeric ids are sent.
        if remote_id.is_empty() || !remote_id.bytes().all(|b| b.is_ascii_digit()) {
            let message = format!("{remote_id:?} is not a BambooHR employee id (a number)");
            return Err(Error::validation("remote_id", message)
                .with_provider(PROVIDER)
                .with_operation("update_employee"));
        }
        let request = self.api.request_at(Method::POST, "/employees", &[remote_id])?;
        let request = request.json(&update.to_provider_json(&UPDATE_NAMES));
        request.idempotent().path_template("/v1/employees/{id}").send().await?;
        self.employee(remote_id).await
    }

    async fn departments(&self, _request: ListRequest) -> Result<Listing<Department>> {
        Ok(Listing::decoded(map_each(self.meta_list("department").await?, "id", wire::department), None))
    }

    async fn jobs(&self, _request: ListRequest) -> Result<Listing<Job>> {
        Ok(Listing::decoded(map_each(self.meta_list("jobTitle").await?, "id", wire::job), None))
    }

    async fn time_off(&self, _request: ListRequest) -> Result<Listing<TimeOff>> {
        let (today, window) = (Utc::now().date_naive(), Duration::days(self.time_off_days));
        let query = [("start", (today - window).to_string()), ("end", (today + window).to_string())];
        let raws: Vec<Value> = self.get("/time_off/requests", "/v1/time_off/requests", &query).await?;
        Ok(Listing::decoded(map_each(raws, "id", wire::time_off), None))
    }
}
