//! A whole HRIS adapter in one file: "TinyHR", a small REST API (the testkit's `FakeTinyHr`).
//! `docs/adapter-guide.md` walks through it. Run it with `cargo run --example custom_adapter`;
//! `cargo test --example custom_adapter` runs the HRIS contract suite against the fake.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use integration_core::auth::Bearer;
use integration_core::decode::{decode_each, decode_one};
use integration_core::http::{HttpPolicy, ProviderClient};
use integration_core::schema::{ConfigField, FieldFormat};
use integration_core::{
    BuildContext, Capability, ConnectionInfo, Descriptor, Domain, Health, Integration, IntegrationConfig, Page,
    ReadRequest, Result,
};
use integration_hris::wire::{id, optional_date, optional_text, optional_time};
use integration_hris::{
    Adapter, Employee, Employment, EmploymentStatus, Hris, HrisStream, ListRequest, Listing, Remote,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

// 1. The provider's JSON, as its documentation shows it. Deserializing it one record at a time
//    with `decode_each` turns a malformed record into a rejection naming the field.
#[derive(Debug, Deserialize)]
struct WireEmployee {
    #[serde(deserialize_with = "id")]
    id: String,
    name: WireName,
    #[serde(default, deserialize_with = "optional_text")]
    email: Option<String>,
    status: String,
    #[serde(default, deserialize_with = "optional_date")]
    hired_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "optional_date")]
    terminated_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "optional_time")]
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct WireName {
    first: Option<String>,
    last: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WirePage {
    data: Vec<Value>,
    next_page: Option<u32>,
}

// 2. Its mapping onto the common model. Unknown enum values land in `Other`, never an error.
impl WireEmployee {
    fn into_remote(self, raw: &Value) -> Result<Remote<Employee>> {
        let display_name = match (&self.name.first, &self.name.last) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            _ => None,
        };
        let mut employee = Employee::default();
        employee.first_name = self.name.first;
        employee.last_name = self.name.last;
        employee.display_name = display_name;
        employee.work_email = self.email;
        let mut employment = Employment::default();
        employment.status = EmploymentStatus::parse(&self.status);
        employment.start_date = self.hired_on;
        employment.termination_date = self.terminated_on;
        employee.employment = employment;
        Ok(Remote::new(self.id, employee).modified(self.updated_at).with_remote_data(raw.clone()))
    }
}

// 3. The adapter: a descriptor, a constructor from configuration, and the calls.
#[derive(Debug)]
struct TinyHr {
    descriptor: Descriptor,
    client: ProviderClient,
    base: String,
}

impl Adapter for TinyHr {
    fn describe() -> Result<Descriptor> {
        Descriptor::builder("tinyhr", Domain::Hris, "TinyHR")
            .documentation("https://tinyhr.example.com/docs/api/v2")
            .http_policy(HttpPolicy::standard())
            .field(ConfigField::required("base_url", FieldFormat::HttpsUrl).with_description("the API host"))
            .field(ConfigField::secret("token").with_description("an API token (Settings → API)"))
            .capability(Capability::HEALTH_CHECK)
            .stream(HrisStream::Employees.descriptor(false))
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let base = format!("{}/api/v2", config.setting_str("base_url")?.trim_end_matches('/'));
        let token = Bearer::new(config.secret("token")?.expose_secret());
        let client = context.http.provider(&descriptor).for_tenant(config.tenant.clone()).with_auth(Arc::new(token));
        Ok(Self { descriptor, client, base })
    }
}

#[async_trait]
impl Integration for TinyHr {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.client.get(format!("{}/employees?per_page=1", self.base)).send().await?;
        Ok(ConnectionInfo::default())
    }

    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.connect()).await)
    }

    // The sync engine's streams come from the `Hris` methods below.
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        integration_hris::read(self, request).await
    }
}

#[async_trait]
impl Hris for TinyHr {
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let page = request.cursor.unwrap_or_else(|| "1".to_owned());
        let per_page = request.page_size.map_or(50, |n| n.get().min(50)).to_string();
        let body: WirePage = self
            .client
            .get(format!("{}/employees", self.base))
            .query(&[("page", page.as_str()), ("per_page", per_page.as_str())])
            .path_template("/api/v2/employees")
            .send_json()
            .await?;
        let decoded = decode_each(body.data, "id", |w: WireEmployee, raw| w.into_remote(raw));
        Ok(Listing::decoded(decoded, body.next_page.map(|n| n.to_string())))
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let raw: Value = self
            .client
            .get(format!("{}/employees/{remote_id}", self.base))
            .path_template("/api/v2/employees/{id}")
            .send_json()
            .await?;
        decode_one(&raw, "id", |w: WireEmployee, raw| w.into_remote(raw))
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    use integration_testkit::fake::{people::People, tinyhr::FakeTinyHr};
    let fake = FakeTinyHr::start(People::generate(1, 5)).await;
    let config = fake.config(integration_core::TenantId::new("acme")?, integration_core::ConnectionId::new("tinyhr")?);
    let hris = TinyHr::from_config(&config, &BuildContext::default())?;
    for employee in hris.employees(ListRequest::first()).await?.items {
        let e = employee.fields;
        println!("{:>4}  {:<20} {}", employee.remote_id, e.display_name.unwrap_or_default(), e.employment.status);
    }
    Ok(())
}

// 4. The proof: the HRIS contract suite against the fake. Capabilities TinyHR does not declare
//    (changes, webhooks, departments...) are skipped with a printed reason.
#[cfg(test)]
mod contract {
    use integration_testkit::contract::hris::{HrisFixture, Malformed};
    use integration_testkit::fake::faults::Faults;
    use integration_testkit::fake::people::People;
    use integration_testkit::fake::tinyhr::FakeTinyHr;
    use serde_json::json;

    use super::*;

    struct Fixture {
        fake: FakeTinyHr,
        hris: Arc<dyn Hris>,
    }

    #[async_trait]
    impl HrisFixture for Fixture {
        async fn start(people: People) -> Self {
            let fake = FakeTinyHr::start(people).await;
            let tenant = integration_core::TenantId::new("contract").unwrap();
            let config = fake.config(tenant, integration_core::ConnectionId::new("tinyhr").unwrap());
            let hris = Arc::new(TinyHr::from_config(&config, &BuildContext::default()).unwrap());
            Self { fake, hris }
        }
        fn hris(&self) -> Arc<dyn Hris> {
            self.hris.clone()
        }
        fn people(&self) -> &People {
            self.fake.people()
        }
        fn faults(&self) -> &Faults {
            self.fake.faults()
        }
        fn malformed(&self) -> Vec<Malformed> {
            vec![
                Malformed { provider_field: "hired_on", value: json!("next tuesday"), expected_field: "hired_on" },
                Malformed { provider_field: "name", value: json!("Ada"), expected_field: "name" },
            ]
        }
        fn recovers_expired_credentials(&self) -> bool {
            false
        }
    }

    integration_testkit::hris_contract_suite!(Fixture);
}
