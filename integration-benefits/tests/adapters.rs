//! The carrier and pension adapters built from a connection's configuration, against the real
//! OpenSSH drop box: connecting, configuration errors naming the field, profile and layout
//! overrides, the answers stream, a pension run delivered and confirmed — and no secret in
//! anything printed.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use integration_benefits::adapters::{insurance, pension};
use integration_benefits::delivery::{DeliveryState, Outbox, OutboxStores};
use integration_core::store::MemoryStore;
use integration_core::{
    BuildContext, ConnectionId, Domain, ErrorKind, IntegrationConfig, ProviderId, ReadRequest, Registry, SyncMode,
    TenantId,
};
use integration_testkit::peers::OpenSsh;

const PASSWORD_SHOWN_NOWHERE: &str = "Wr0ng-Pa55-Zq7";

fn config(server: &OpenSsh, provider: &str) -> IntegrationConfig {
    IntegrationConfig::new(
        TenantId::new("acme").unwrap(),
        ConnectionId::new(provider.replace('_', "-")).unwrap(),
        Domain::Benefits,
        ProviderId::new(provider).unwrap(),
    )
    .with_setting("host", server.host.clone())
    .with_setting("port", server.port)
    .with_setting("user", server.user.clone())
    .with_setting("host_key", server.host_key.clone())
    .with_setting("drop_box_regions", "CA,GB")
    .with_secret("password", server.password.clone())
}

fn carrier_config(server: &OpenSsh) -> IntegrationConfig {
    config(server, "manulife")
        .with_setting("sender_id", "ACMEHR")
        .with_setting("sponsor_name", "Acme Corp")
        .with_setting("sponsor_tax_id", "123456789")
        .with_setting("profile", r#"{"receiver_id": "MLF0042", "require_subscriber_address": false}"#)
        .with_setting("plans", r#"[{"line": "HLT", "plan": "Flex Health", "tiers": ["EMP", "FAM"]}]"#)
}

async fn a_carrier_is_built_from_its_configuration_and_connects() {
    let Some(server) = OpenSsh::start() else { return };
    let carrier = insurance::build(&carrier_config(&server), &BuildContext::default()).unwrap();
    let info = carrier.connect().await.unwrap();
    assert_eq!(info.account_name.as_deref(), Some("Manulife"));
    assert_eq!(carrier.profile().receiver_id, "MLF0042", "the profile setting changes one field");
    assert!(carrier.profile().member_references.contains(&"1L".to_owned()), "and keeps the others");
    assert_eq!(carrier.plans()[0].tiers, ["EMP", "FAM"]);
    assert_eq!(carrier.drop_box().placement().regions.len(), 2);
    assert!(!format!("{carrier:?}").contains(&server.password), "no password in Debug");
    assert_eq!(carrier.claims().await.unwrap_err().kind(), ErrorKind::Unsupported);

    let mut registry = Registry::new();
    integration_benefits::adapters::register_all(&mut registry).unwrap();
    assert_eq!(registry.build(carrier_config(&server)).unwrap().descriptor().provider.as_str(), "manulife");

    // The 834 it renders carries the configured receiver and the Manulife profile's rules.
    let (name, text) = carrier.enroll(&common::termination(), 77, common::at()).unwrap();
    assert_eq!(name, "ACMEHR_MLF0042_20260115_000000077.834");
    assert!(text.contains("*ZZ*MLF0042        *"), "{text}");
}

async fn configuration_errors_name_the_field_and_show_no_secret() {
    let Some(server) = OpenSsh::start() else { return };
    let context = BuildContext::default();
    let field = |config: IntegrationConfig| {
        let e = insurance::build(&config, &context).expect_err("refused");
        assert!(!format!("{e} {e:?}").contains(&server.password), "{e:?}");
        (e.kind(), e.field().map(str::to_owned))
    };
    let mut missing = carrier_config(&server);
    missing.settings.remove("sender_id");
    assert_eq!(field(missing), (ErrorKind::Config, Some("settings.sender_id".into())));
    assert_eq!(
        field(carrier_config(&server).with_setting("host_key", "not a key")),
        (ErrorKind::Config, Some("settings.host_key".into()))
    );
    assert_eq!(
        field(carrier_config(&server).with_setting("profile", "{not json")),
        (ErrorKind::Config, Some("settings.profile".into()))
    );
    assert_eq!(
        field(carrier_config(&server).with_setting("drop_box_regions", "Canada")),
        (ErrorKind::Config, Some("settings.drop_box_regions".into()))
    );
    let mut no_secret = carrier_config(&server);
    no_secret.secrets = integration_core::Secrets::new();
    assert_eq!(field(no_secret).0, ErrorKind::Config);

    // A wrong password is refused when connecting, and not shown.
    let wrong = carrier_config(&server).with_secret("password", PASSWORD_SHOWN_NOWHERE);
    let carrier = insurance::build(&wrong, &context).unwrap();
    let e = carrier.connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AuthInvalid);
    assert!(!format!("{e} {e:?} {carrier:?}").contains(PASSWORD_SHOWN_NOWHERE));
}

async fn a_pension_run_is_delivered_and_its_confirmation_read_as_a_stream_and_by_the_outbox() {
    let Some(server) = OpenSsh::start() else { return };
    let provider = pension::build(&config(&server, "group_rrsp"), &BuildContext::default()).unwrap();
    let memory = Arc::new(MemoryStore::new());
    let stores = OutboxStores { records: memory.clone(), claims: memory.clone(), state: memory.clone() };
    let outbox = Outbox::new(
        stores,
        provider.drop_box(),
        TenantId::new("acme").unwrap(),
        ConnectionId::new("group-rrsp").unwrap(),
        "EMP00042",
    );
    let run = common::pension::run();
    let staged = outbox.stage("2026-03", |control| provider.contributions(&run, control)).await.unwrap();
    assert_eq!(staged.name, "EMP00042_20260331_000000001.csv");
    outbox.send().await.unwrap();
    let arrived = std::fs::read_to_string(server.upload_dir().join(&staged.name)).unwrap();
    assert!(arrived.starts_with("Plan Number,Division,Member ID,SIN,"), "{arrived}");

    server.put_outbound(
        "confirmation.csv",
        format!("File,Member ID,Contribution Type,Amount,Status,Reason\n{0},E0001,RRSP-EE,116.67,ACCEPTED,\n{0},E0001,DPSP-ER,70.00,ACCEPTED,\n", staged.name).as_bytes(),
    );
    let page = provider.read(ReadRequest::new("answers", SyncMode::FullRefresh)).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].data["answers"][0]["about"]["file"], staged.name.as_str());
    assert_eq!(page.records[0].data["answers"][0]["status"], "accepted");
    let settled = outbox.collect_answers(&provider.answer_reader()).await.unwrap();
    assert_eq!(settled[0].state, DeliveryState::Accepted);
}

async fn claims_reports_give_each_claim_its_status_over_time() {
    use integration_benefits::insurance::ClaimStatus;
    let Some(server) = OpenSsh::start() else { return };
    let without = insurance::build(&carrier_config(&server), &BuildContext::default()).unwrap();
    let e = without.claims().await.unwrap_err();
    assert_eq!((e.kind(), e.field()), (ErrorKind::Unsupported, Some("settings.claims")));

    let config = carrier_config(&server)
        .with_setting("claims", r#"{"statuses": {"RECU": "received", "PAYE": "paid", "REFUSE": "denied"}}"#);
    let carrier = insurance::build(&config, &BuildContext::default()).unwrap();
    server.put_outbound(
        "claims-20260302.csv",
        b"Claim,Member,Status,Date,Amount\nC1,E0001,RECU,2026-03-02,120.00\nC2,E0002,RECU,2026-03-02,80.00\n",
    );
    server.put_outbound("claims-20260306.csv", b"Claim,Member,Status,Date,Amount\nC1,E0001,PAYE,2026-03-06,96.00\nC2,E0002,REFUSE,2026-03-05,\nC3,E0001,RECU,2026-03-06,15.50\n");
    // The same report delivered twice changes nothing.
    server
        .put_outbound("claims-20260306-copy.csv", b"Claim,Member,Status,Date,Amount\nC1,E0001,PAYE,2026-03-06,96.00\n");
    server.put_outbound("unrelated.999", b"ISA*not a claims report");
    let claims = carrier.claims().await.unwrap();
    let story: Vec<(&str, Vec<ClaimStatus>)> =
        claims.iter().map(|c| (c.id.as_str(), c.history.iter().map(|s| s.status).collect())).collect();
    assert_eq!(
        story,
        [
            ("C1", vec![ClaimStatus::Received, ClaimStatus::Paid]),
            ("C2", vec![ClaimStatus::Received, ClaimStatus::Denied]),
            ("C3", vec![ClaimStatus::Received]),
        ]
    );
    assert_eq!(claims[0].history[1].amount, Some(rust_decimal::Decimal::new(9600, 2)));
    let page = carrier.read(ReadRequest::new("claims", SyncMode::FullRefresh)).await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(page.records[1].data["history"][1]["status"], "denied");

    server.put_outbound("claims-20260309.csv", b"Claim,Member,Status,Date,Amount\nC4,E0003,LOST,2026-03-09,1.00\n");
    let e = carrier.claims().await.unwrap_err();
    assert!(e.message().contains("claims-20260309.csv") && e.message().contains("\"LOST\""), "{e}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::openssh()],
        integration_testkit::trials![async a_carrier_is_built_from_its_configuration_and_connects, async configuration_errors_name_the_field_and_show_no_secret, async a_pension_run_is_delivered_and_its_confirmation_read_as_a_stream_and_by_the_outbox, async claims_reports_give_each_claim_its_status_over_time],
    )
}
