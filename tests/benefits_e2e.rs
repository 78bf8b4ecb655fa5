//! End to end: a termination in the BambooHR fake, seen by the incremental sync, becomes the
//! 834 termination on the carrier's SFTP drop box through an automation — once, however often
//! the change is seen again — and pyx12 accepts it.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use integration_automation::benefits::{StaticInsurance, actions};
use integration_automation::{Actions, Engine, load};
use integration_benefits::delivery::{DeliveryState, Outbox, OutboxStores};
use integration_benefits::enrollment::{self, Maintenance};
use integration_core::store::{MemoryStore, RecordStore};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Domain, IntegrationConfig, ProviderId, SyncEngine, SyncJob,
    SyncMode, TenantId,
};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use integration_testkit::peers::{OpenSsh, Pyx12};

const TERMINATIONS: &str = r#"{
  "id": "terminate-coverage",
  "trigger": { "record_change": { "stream": "employees", "changes": ["updated"] } },
  "when": "previous.employment.status == 'active' and record.employment.status == 'terminated'",
  "steps": [
    { "action": "benefits.enroll",
      "input": { "connection": "carrier", "event": "termination", "employee_id": "{{ remote_id }}", "employee": "{{ record }}",
                 "rules": { "coverages": [ { "line": "HLT", "tier": "EMP" } ], "ends": "end_of_month" } } }
  ]
}"#;

async fn a_termination_becomes_one_834_termination_at_the_carrier() {
    let (Some(server), Some(pyx12)) = (OpenSsh::start(), Pyx12::install()) else { return };
    let tenant = TenantId::new("acme").unwrap();
    let fake = FakeBambooHr::start(People::generate(11, 6)).await;
    let hris = integration_hris::build(
        &fake.config(tenant.clone(), ConnectionId::new("hr").unwrap()),
        &BuildContext::default(),
    )
    .unwrap();
    let store = MemoryStore::new();
    let sync = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "e2e");
    let job = SyncJob::new(tenant.clone(), ConnectionId::new("hr").unwrap(), "employees", SyncMode::Incremental);
    sync.run(hris.as_ref(), &job, &CancellationToken::new()).await.unwrap();

    let config = IntegrationConfig::new(
        tenant.clone(),
        ConnectionId::new("carrier").unwrap(),
        Domain::Benefits,
        ProviderId::new("edi_834").unwrap(),
    )
    .with_setting("host", server.host.clone())
    .with_setting("port", server.port)
    .with_setting("user", server.user.clone())
    .with_setting("host_key", server.host_key.clone())
    .with_setting("sender_id", "ACMEHR")
    .with_setting("sponsor_name", "Acme Corp")
    .with_setting("sponsor_tax_id", "123456789")
    .with_setting("usage", "test")
    .with_setting("profile", r#"{"receiver_id": "BLUEINS", "require_birth_date": false}"#)
    .with_secret("private_key", std::fs::read_to_string(&server.private_key).unwrap());
    let carrier = integration_benefits::adapters::insurance::build(&config, &BuildContext::default()).unwrap();
    let carriers = StaticInsurance::new();
    carriers.insert(tenant.clone(), config.connection.clone(), carrier.clone());
    let stores = OutboxStores {
        records: Arc::new(store.clone()),
        claims: Arc::new(store.clone()),
        state: Arc::new(store.clone()),
    };
    let registry = Actions::new().with_all(actions(Arc::new(carriers), stores.clone(), None)).unwrap();
    let automation = load::from_json(TERMINATIONS, &registry).unwrap();
    let automations = Engine::new(Arc::new(store.clone()), registry).with_automation(automation).unwrap();
    automations.follow_changes(&store, &store, &tenant).await.unwrap();
    assert_eq!(automations.worker("w").run_until_idle().await.unwrap().claimed, 0);

    let leaver = 103;
    let last_day = chrono::NaiveDate::from_ymd_opt(2026, 2, 10).unwrap();
    assert!(fake.people().terminate(leaver, last_day));
    sync.run(hris.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    automations.follow_changes(&store, &store, &tenant).await.unwrap();
    let report = automations.worker("w").run_until_idle().await.unwrap();
    assert_eq!((report.succeeded, report.failed), (1, 0), "{report:?}");

    let files = server.uploaded();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(server.upload_dir().join(&files[0])).unwrap();
    let verdict = pyx12.validate(&text);
    assert!(verdict.accepted(), "{}\n{text}", verdict.log);
    let sent = enrollment::read(text.as_bytes(), &Default::default()).unwrap().remove(0);
    let member = &sent.members[0];
    assert_eq!(
        (member.subscriber_id.as_str(), member.maintenance),
        (leaver.to_string().as_str(), Maintenance::Terminate)
    );
    assert_eq!(member.dates.employment_ended, Some(last_day));
    assert_eq!(
        member.coverages[0].ends,
        Some(chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
        "coverage ends at the month's end"
    );
    assert_eq!(member.employment_status.as_deref(), Some("TE"));

    // The change seen again (a second sync, the whole change stream replayed): nothing more is sent.
    sync.run(hris.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    automations.follow_changes(&store, &store, &tenant).await.unwrap();
    for change in store.changes_since(&tenant, None, 10_000).await.unwrap().changes {
        automations.on_change(&change).await.unwrap();
    }
    automations.worker("w2").run_until_idle().await.unwrap();
    assert_eq!(server.uploaded(), files, "one file, however often the change is seen");
    let outbox = Outbox::new(stores, carrier.drop_box(), tenant, config.connection.clone(), "ACMEHR");
    let staged = outbox.files().await.unwrap();
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0].state, DeliveryState::Sent);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("pyx12"), Need::openssh()],
        integration_testkit::trials![async a_termination_becomes_one_834_termination_at_the_carrier],
    )
}
