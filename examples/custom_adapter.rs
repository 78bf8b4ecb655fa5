//! A whole HRIS adapter in one file: "TinyHR", a small REST API (the testkit's `FakeTinyHr`).
//! `docs/adapter-guide.md` walks through it. Run it with `cargo run --example custom_adapter`;
//! `cargo test --example custom_adapter` runs the HRIS contract suite against the fake.

use std::sync::Arc;

use integration_core::auth::Bearer;
use integration_hris::prelude::*;
use serde::Deserialize;

// 1. The provider's records, read in place by path. A field that is missing or null is `None`;
//    one that is there but unreadable (`"hired_on": "next tuesday"`) rejects the record with an
//    error naming the field, and `map_each` keeps it with its raw JSON while the page goes on.
//    Unknown enum values land in `Other`, never an error.
fn employee(r: &Fields) -> Result<Remote<Employee>> {
    let (first, last) = (r.text("name.first")?, r.text("name.last")?);
    let mut employee = Employee::default();
    employee.display_name = first.as_ref().zip(last.as_ref()).map(|(first, last)| format!("{first} {last}"));
    employee.first_name = first;
    employee.last_name = last;
    employee.work_email = r.text("email")?;
    employee.employment.status = EmploymentStatus::parse(&r.required_text("status")?);
    employee.employment.start_date = r.date("hired_on")?;
    employee.employment.termination_date = r.date("terminated_on")?;
    Ok(Remote::new(r.id("id")?, employee).modified(r.time("updated_at")?).with_remote_data(r.raw().clone()))
}

// A page's envelope is read with serde: a body that is not one is an `invalid_response` error.
#[derive(Debug, Deserialize)]
struct WirePage {
    data: Vec<Value>,
    next_page: Option<u32>,
}

// 2. The adapter: a descriptor (its streams follow from the capabilities), a constructor from
//    configuration, and the calls.
#[derive(Debug)]
struct TinyHr {
    descriptor: Descriptor,
    client: ProviderClient,
    base: String,
}

impl Adapter for TinyHr {
    fn describe() -> Result<Descriptor> {
        descriptor("tinyhr", "TinyHR", "https://tinyhr.example.com/docs/api/v2", [Capability::HEALTH_CHECK])
            .base_url(None, "the API host")
            .secret("token", FieldFormat::Text, "an API token (Settings → API)")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let base = format!("{}/api/v2", config.base_url(None)?.as_str().trim_end_matches('/'));
        let token = Bearer::new(config.secret("token")?.expose_secret());
        let client = context.provider_client(&descriptor, config).with_auth(Arc::new(token));
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

    // `disconnect` (nothing to release with a static token) and `health_check` (probe
    // `connect`) keep their defaults.

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
        Ok(Listing::decoded(map_each(body.data, "id", employee), body.next_page.map(|n| n.to_string())))
    }

    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>> {
        let raw: Value = self
            .client
            .get(format!("{}/employees/{remote_id}", self.base))
            .path_template("/api/v2/employees/{id}")
            .send_json()
            .await?;
        map_one(&raw, "id", employee)
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

// 3. The proof: the HRIS contract suite against the fake. Capabilities TinyHR does not declare
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
