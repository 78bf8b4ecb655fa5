//! BambooHR, following its API v1 documentation at <https://documentation.bamboohr.com/>:
//!
//! - auth: an API key as the HTTP Basic user name (password `x`), `Accept: application/json`;
//! - employees: a custom report (`POST /v1/reports/custom?format=JSON`) with every status, so
//!   terminated employees are included; one employee: `GET /v1/employees/{id}?fields=`;
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
//! optional `api_base` (default `https://api.bamboohr.com`) and `time_off_days`.

mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use integration_core::auth::Basic;
use integration_core::decode::{decode_each, decode_one};
use integration_core::descriptor::{GenericHmac, SignatureEncoding};
use integration_core::http::{HttpPolicy, ProviderClient, Response};
use integration_core::schema::{ConfigField, FieldFormat};
use integration_core::{
    BuildContext, Capability, ConnectionInfo, Descriptor, Domain, Error, ErrorKind, Health, Integration,
    IntegrationConfig, Page, ReadRequest, Result, VerifiedWebhook, WebhookOutcome, WebhookScheme,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use self::wire::{Changed, FIELDS, MetaList, MetaOption, Report, WebhookBody, WireEmployee, WireTimeOff, WireUpdate};
use crate::adapter::Adapter;
use crate::hris::{Hris, ListRequest, Listing, capability};
use crate::model::{Department, Employee, EmployeeUpdate, Job, Remote, TimeOff};
use crate::streams::{HrisStream, employee_webhook_outcome};

/// The provider id.
pub const PROVIDER: &str = "bamboohr";

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
    client: ProviderClient,
    base: String,
    company: String,
    time_off_days: i64,
}

impl Adapter for BambooHr {
    fn describe() -> Result<Descriptor> {
        let mut builder = Descriptor::builder(PROVIDER, Domain::Hris, "BambooHR")
            .documentation("https://documentation.bamboohr.com/")
            .webhook(webhook_scheme())
            .http_policy(HttpPolicy::standard().with_error_message_header("X-BambooHR-Error-Message"))
            .field(
                ConfigField::required("company_domain", FieldFormat::HostLabel)
                    .with_description("the company's BambooHR subdomain: the `acme` of acme.bamboohr.com"),
            )
            .field(ConfigField::secret("api_key").with_description("an API key (BambooHR: your name → API Keys)"))
            .field(
                ConfigField::optional("api_base", FieldFormat::HttpsUrl)
                    .with_description("the API host, default https://api.bamboohr.com"),
            )
            .field(
                ConfigField::optional("time_off_days", FieldFormat::Integer { min: 1, max: 3660 })
                    .with_description("how many days before and after today time off is read, default 365"),
            );
        for c in [
            capability::EMPLOYEE_CHANGES,
            capability::DEPARTMENTS,
            capability::JOBS,
            capability::TIME_OFF,
            capability::PAY,
            capability::EMPLOYEE_WRITE,
            Capability::WEBHOOKS,
            Capability::HEALTH_CHECK,
        ] {
            builder = builder.capability(c);
        }
        for stream in HrisStream::ALL {
            builder = builder.stream(stream.descriptor(true));
        }
        builder.build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let company = config.setting_str("company_domain")?.to_owned();
        let api_base = config.settings.get("api_base").and_then(Value::as_str).unwrap_or("https://api.bamboohr.com");
        let time_off_days = config.settings.get("time_off_days").and_then(Value::as_i64).unwrap_or(365);
        let key = config.secret("api_key")?;
        let client = context
            .http
            .provider(&descriptor)
            .for_tenant(config.tenant.clone())
            .with_auth(Arc::new(Basic::new(key.expose_secret(), "x")));
        let base = format!("{}/api/gateway.php/{company}/v1", api_base.trim_end_matches('/'));
        Ok(Self { descriptor, client, base, company, time_off_days })
    }
}

impl BambooHr {
    /// The adapter for `config` (checked against the schema by the registry or
    /// [`crate::build`]).
    pub fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        <Self as Adapter>::from_config(config, context)
    }

    async fn get(&self, path: &str, template: &str, query: &[(&str, String)]) -> Result<Response> {
        self.client
            .get(format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .query(query)
            .path_template(template)
            .send()
            .await
    }

    /// A custom report of every employee (all statuses), optionally only those changed since.
    async fn report(&self, since: Option<chrono::DateTime<Utc>>) -> Result<Listing<Employee>> {
        let mut body = json!({ "title": "integrations sync", "fields": FIELDS });
        if let Some(since) = since {
            body["filters"] = json!({ "lastChanged": { "includeNull": "no", "value": since.to_rfc3339() } });
        }
        let report: Report = self
            .client
            .post(format!("{}/reports/custom", self.base))
            .query(&[("format", "JSON"), ("onlyCurrent", "true")])
            .header("Accept", "application/json")
            .json(&body)
            .read_only()
            .path_template("/v1/reports/custom")
            .send_json()
            .await?;
        let decoded = decode_each(report.employees, "id", |w: WireEmployee, raw| w.into_remote(raw));
        Ok(Listing::decoded(decoded, None))
    }

    async fn meta_list(&self, alias: &str) -> Result<Vec<Value>> {
        let lists: Vec<MetaList> = self.get("/meta/lists", "/v1/meta/lists", &[]).await?.json()?;
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

    async fn disconnect(&self) -> Result<()> {
        // An API key is revoked by its owner in BambooHR; nothing is held here.
        Ok(())
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.meta_list("department")).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let body: WebhookBody = delivery.json()?;
        let mut employees = Vec::with_capacity(body.employees.len());
        for entry in body.employees {
            if entry.action.eq_ignore_ascii_case("deleted") {
                employees.push(Remote::deleted(entry.id));
                continue;
            }
            match self.employee(&entry.id).await {
                Ok(employee) => employees.push(employee),
                Err(e) if e.kind() == ErrorKind::NotFound => employees.push(Remote::deleted(entry.id)),
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
        let fields = FIELDS.join(",");
        let raw: Value =
            self.get(&format!("/employees/{remote_id}"), "/v1/employees/{id}", &[("fields", fields)]).await?.json()?;
        decode_one(&raw, "id", |w: WireEmployee, raw| w.into_remote(raw))
    }

    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let since = request.since.ok_or_else(|| {
            integration_core::Error::validation("since", "employee_changes needs a lower bound").with_provider(PROVIDER)
        })?;
        let changed: Changed =
            self.get("/employees/changed", "/v1/employees/changed", &[("since", since.to_rfc3339())]).await?.json()?;
        let deleted: Vec<Remote<Employee>> = changed
            .employees
            .values()
            .filter(|e| e.action.eq_ignore_ascii_case("deleted"))
            .map(|e| Remote::deleted(e.id.clone()).modified(e.last_changed))
            .collect();
        let live = changed.employees.values().any(|e| !e.action.eq_ignore_ascii_case("deleted"));
        let mut listing = if live { self.report(Some(since)).await? } else { Listing::new(Vec::new(), None) };
        listing.items.extend(deleted);
        Ok(listing.with_high_water(changed.latest))
    }

    async fn update_employee(&self, remote_id: &str, update: &EmployeeUpdate) -> Result<Remote<Employee>> {
        if update.is_empty() {
            return Err(Error::validation("update", "the update sets no field; set at least one")
                .with_provider(PROVIDER)
                .with_operation("update_employee"));
        }
        // The id goes into the path of a write: only BambooHR's numeric ids are sent.
        if remote_id.is_empty() || !remote_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "remote_id",
                format!("{remote_id:?} is not a BambooHR employee id (a number)"),
            )
            .with_provider(PROVIDER)
            .with_operation("update_employee"));
        }
        self.client
            .post(format!("{}/employees/{remote_id}", self.base))
            .header("Accept", "application/json")
            .json(&WireUpdate::from(update))
            .idempotent()
            .path_template("/v1/employees/{id}")
            .send()
            .await?;
        self.employee(remote_id).await
    }

    async fn departments(&self, _request: ListRequest) -> Result<Listing<Department>> {
        let options = self.meta_list("department").await?;
        Ok(Listing::decoded(decode_each(options, "id", |o: MetaOption, raw| o.department(raw)), None))
    }

    async fn jobs(&self, _request: ListRequest) -> Result<Listing<Job>> {
        let options = self.meta_list("jobTitle").await?;
        Ok(Listing::decoded(decode_each(options, "id", |o: MetaOption, raw| o.job(raw)), None))
    }

    async fn time_off(&self, _request: ListRequest) -> Result<Listing<TimeOff>> {
        let today = Utc::now().date_naive();
        let window = Duration::days(self.time_off_days);
        let query = [("start", (today - window).to_string()), ("end", (today + window).to_string())];
        let raws: Vec<Value> = self.get("/time_off/requests", "/v1/time_off/requests", &query).await?.json()?;
        Ok(Listing::decoded(decode_each(raws, "id", |w: WireTimeOff, raw| w.into_remote(raw)), None))
    }
}
