//! A hire in the HRIS becomes an EDI 834 on the insurance carrier's SFTP drop box:
//! `cargo run --example benefits --features benefits,automation,testkit`. No credentials: it
//! starts a BambooHR fake, and the real OpenSSH (as the carrier's drop box; installed with apt
//! on first use, so run it as root on Debian) and pyx12 (as the carrier's validator; installed,
//! pinned, into a virtualenv on first use).
//!
//! 1. BambooHR's employees are synced into the cache (here in memory; SQLite or PostgreSQL in a
//!    host);
//! 2. an automation watches the cache's change stream: a new hire triggers `benefits.enroll`,
//!    which renders the 834 for Sun Life's profile, stages it once in the outbox and puts it on
//!    the drop box;
//! 3. the carrier (pyx12) validates the file and answers with a 999, which the outbox matches
//!    back: the file is accepted;
//! 4. the new hire's eligibility, as the carrier accepted it.

use std::error::Error;
use std::sync::Arc;

use integration_automation::benefits::{StaticInsurance, actions as benefit_actions};
use integration_automation::{Actions, Engine, load};
use integration_benefits::delivery::{Outbox, OutboxStores, X12Answers};
use integration_benefits::insurance::eligibility_as_accepted;
use integration_core::store::MemoryStore;
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Domain, IntegrationConfig, ProviderId, SyncEngine, SyncJob,
    SyncMode, TenantId,
};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use integration_testkit::peers::{OpenSsh, Pyx12};

const ENROLL_NEW_HIRES: &str = r#"{
  "id": "enroll-new-hires",
  "trigger": { "record_change": { "stream": "employees", "changes": ["added"] } },
  "when": "record.employment.status == 'active' and record.employment.start_date >= 'GO_LIVE'",
  "steps": [
    { "action": "benefits.enroll",
      "input": { "connection": "sunlife", "event": "hire", "employee_id": "{{ remote_id }}", "employee": "{{ record }}",
                 "rules": { "coverages": [ { "line": "HLT", "plan": "Extended Health", "tier": "EMP" },
                                           { "line": "DEN", "plan": "Dental Basic", "tier": "EMP" } ],
                            "waiting": { "begins": "first_of_next_month" }, "policy": "G12345" },
                 "member": { "birth_date": "1990-03-04", "gender": "female",
                             "address": { "line1": "100 King St W", "city": "Toronto", "region": "ON",
                                          "postal_code": "M5X 1C9", "country": "CA" } } } }
  ]
}"#;

#[tokio::main]
pub(crate) async fn main() -> Result<(), Box<dyn Error>> {
    let (Some(drop_box), Some(pyx12)) = (OpenSsh::start(), Pyx12::install()) else {
        return Err("OpenSSH or pyx12 could not be installed here (see above)".into());
    };
    let tenant = TenantId::new("acme")?;

    // The HRIS, synced into the cache.
    let bamboo = FakeBambooHr::start(People::generate(3, 5)).await;
    let hris_connection = ConnectionId::new("bamboohr")?;
    let hris =
        integration_hris::build(&bamboo.config(tenant.clone(), hris_connection.clone()), &BuildContext::default())?;
    let store = MemoryStore::new();
    let sync = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "example");
    let job = SyncJob::new(tenant.clone(), hris_connection, "employees", SyncMode::Incremental);
    sync.run(hris.as_ref(), &job, &CancellationToken::new()).await?;

    // The carrier: Sun Life's profile, its drop box on SFTP (host key pinned), test files.
    let carrier_config = IntegrationConfig::new(
        tenant.clone(),
        ConnectionId::new("sunlife")?,
        Domain::Benefits,
        ProviderId::new("sun_life")?,
    )
    .with_setting("host", drop_box.host.clone())
    .with_setting("port", drop_box.port)
    .with_setting("user", drop_box.user.clone())
    .with_setting("host_key", drop_box.host_key.clone())
    .with_setting("drop_box_regions", "CA")
    .with_setting("sender_id", "ACMEHR")
    .with_setting("sponsor_name", "Acme Corp")
    .with_setting("sponsor_tax_id", "123456789")
    .with_setting("usage", "test")
    .with_secret("password", drop_box.password.clone());
    let carrier = integration_benefits::adapters::insurance::build(&carrier_config, &BuildContext::default())?;
    let carriers = StaticInsurance::new();
    carriers.insert(tenant.clone(), carrier_config.connection.clone(), carrier.clone());

    // The automation: new hires from today are enrolled.
    let stores = OutboxStores {
        records: Arc::new(store.clone()),
        claims: Arc::new(store.clone()),
        state: Arc::new(store.clone()),
    };
    let actions = Actions::new().with_all(benefit_actions(Arc::new(carriers), stores.clone(), None))?;
    let today = chrono::Utc::now().date_naive().to_string();
    let automation = load::from_json(&ENROLL_NEW_HIRES.replace("GO_LIVE", &today), &actions)?;
    let automations = Engine::new(Arc::new(store.clone()), actions).with_automation(automation)?;
    automations.follow_changes(&store, &store, &tenant).await?;
    let existing = automations.worker("example").run_until_idle().await?.succeeded;
    println!(
        "1. {} employees synced; enrollments started for them: {existing} (they were hired before go-live)",
        bamboo.people().people().len()
    );

    // A hire.
    let hired = bamboo.people().hire("Zoé", "Tremblay");
    sync.run(hris.as_ref(), &job, &CancellationToken::new()).await?;
    automations.follow_changes(&store, &store, &tenant).await?;
    let ran = automations.worker("example").run_until_idle().await?.succeeded;
    println!(
        "2. Zoé Tremblay hired (employee {hired}): {ran} enrollment run; in the drop box: {:?}",
        drop_box.uploaded()
    );

    // The carrier validates the file and answers.
    let name = drop_box.uploaded().into_iter().next().ok_or("no file arrived")?;
    let file = std::fs::read_to_string(drop_box.upload_dir().join(&name))?;
    let verdict = pyx12.validate(&file);
    println!("3. pyx12 on {name}: {}", if verdict.accepted() { "accepted (IK5*A)" } else { "REJECTED" });
    if !verdict.accepted() {
        return Err(format!("pyx12 refused the 834:\n{}\n{file}", verdict.log).into());
    }
    drop_box.put_outbound(&format!("{name}.999"), verdict.ack.unwrap_or_default().as_bytes());
    let outbox = Outbox::new(stores, carrier.drop_box(), tenant, carrier_config.connection.clone(), "ACMEHR");
    for settled in outbox.collect_answers(&X12Answers).await? {
        println!(
            "   the carrier's 999 matched back: {} (control {}) is {:?}",
            settled.name, settled.control, settled.state
        );
    }

    // Eligibility as the carrier accepted it.
    let begins = chrono::Utc::now().date_naive().checked_add_months(chrono::Months::new(1)).ok_or("a date")?;
    let eligibility = eligibility_as_accepted(&outbox.files().await?, &hired.to_string(), begins)?;
    for member in &eligibility.members {
        let lines: Vec<&str> = member.coverages.iter().map(|c| c.line.as_str()).collect();
        println!("4. on {begins}, {} is covered for {lines:?} (from {:?})", member.name, eligibility.files);
    }
    println!("\nThe 834 sent:\n{file}");
    Ok(())
}
