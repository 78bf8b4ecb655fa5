//! Pension contribution files: PAPDIS and a Canadian group RRSP/DPSP remittance written from a
//! run, the provider's confirmation read and reconciled, and the file delivered through the
//! outbox with the confirmation matched back.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use integration_benefits::delivery::{DeliveryState, MemoryDropBox, Outbox, OutboxStores};
use integration_benefits::pension::*;
use integration_core::residency::{Placement, Region};
use integration_core::store::MemoryStore;
use integration_core::{ConnectionId, ErrorKind, TenantId};
use rust_decimal::Decimal;

fn rows(file: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(file.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn papdis_has_a_row_per_member_with_amounts_and_percents() {
    let file = FileLayout::papdis().render(&common::pension::run()).unwrap();
    let rows = rows(&file);
    assert_eq!(rows.len(), 4, "a header and three members");
    let header = &rows[0];
    let at = |title: &str| header.iter().position(|h| h == title).unwrap_or_else(|| panic!("no column {title}"));
    let ada = &rows[1];
    assert_eq!(ada[at("PAPDIS Version")], "PAP11");
    assert_eq!(ada[at("Payroll Period Start Date")], "01/03/2026");
    assert_eq!(ada[at("Pensionable Earnings Amount")], "2333.33");
    assert_eq!(ada[at("Employee Contributions Amount")], "116.67", "5 % of 2333.33, rounded half away from zero");
    assert_eq!(ada[at("Employee Contributions Percent")], "5");
    assert_eq!(ada[at("Employer Contributions Amount")], "70.00");
    let grace = &rows[2];
    assert_eq!(grace[at("Surname")], "O'Hara, Jr.", "a comma in a name is quoted, not a new column");
    assert_eq!(grace[at("Address2")], "Flat 2, Rear");
    assert_eq!((grace[at("Event Code")].as_str(), grace[at("Event Date")].as_str()), ("3", "01/03/2026"));
    assert_eq!(grace[at("Employee Contributions Percent")], "");
    let alan = &rows[3];
    assert_eq!((alan[at("Event Code")].as_str(), alan[at("Opt Out Date")].as_str()), ("2", "10/03/2026"));
    assert_eq!(alan[at("Employee Contributions Amount")], "0.00");
    assert!(file.contains("\r\n"), "CSV rows end with CRLF");
}

#[test]
fn the_canadian_remittance_has_a_row_per_contribution_type() {
    let file = FileLayout::canadian_group_rrsp_dpsp().render(&common::pension::run()).unwrap();
    let rows = rows(&file);
    let types: Vec<(&str, &str, &str)> =
        rows[1..].iter().map(|r| (r[2].as_str(), r[9].as_str(), r[10].as_str())).collect();
    assert_eq!(
        types,
        [
            ("E0001", "RRSP-EE", "116.67"),
            ("E0001", "DPSP-ER", "70.00"),
            ("E0002", "RRSP-EE", "90.00"),
            ("E0002", "DPSP-ER", "54.00"),
            // The opt-out is reported, with nothing paid.
            ("E0003", "RRSP-EE", "0.00"),
            ("E0003", "DPSP-ER", "0.00"),
        ]
    );
    assert_eq!(rows[5][11], "OPTOUT");
}

#[test]
fn a_layout_is_data_and_round_trips_through_json() {
    let layout = FileLayout::papdis();
    let json = serde_json::to_string(&layout).unwrap();
    assert_eq!(serde_json::from_str::<FileLayout>(&json).unwrap(), layout);
    let custom: FileLayout = serde_json::from_value(serde_json::json!({
        "name": "a provider's own", "delimiter": ";", "header": false, "date_format": "%Y%m%d",
        "rows": {"rows": "per_member"},
        "events": {"enrolled": "E", "opted_in": "I", "opted_out": "O", "ceased": "C"},
        "columns": [
            {"title": "id", "field": {"field": "employee_id"}},
            {"title": "ee", "field": {"field": "employee_amount"}},
            {"title": "kind", "field": {"field": "const", "value": "REG"}},
        ]
    }))
    .unwrap();
    assert_eq!(
        custom.render(&common::pension::run()).unwrap(),
        "E0001;116.67;REG\r\nE0002;90.00;REG\r\nE0003;0.00;REG\r\n"
    );
}

#[test]
fn lines_that_cannot_be_paid_are_refused_naming_the_member_and_field() {
    let mut run = common::pension::run();
    run.lines[1].employee = Contribution::Percent(Decimal::new(150, 0));
    let e = FileLayout::papdis().render(&run).unwrap_err();
    assert_eq!((e.kind(), e.field(), e.record()), (ErrorKind::Validation, Some("employee"), Some("E0002")));

    let mut run = common::pension::run();
    run.lines[2].employee = Contribution::Amount(Decimal::new(10, 0));
    let e = FileLayout::papdis().render(&run).unwrap_err();
    assert!(e.message().contains("opted out"), "{e}");

    let mut run = common::pension::run();
    run.lines[0].pensionable_earnings = Decimal::new(-1, 0);
    assert_eq!(FileLayout::papdis().render(&run).unwrap_err().field(), Some("pensionable_earnings"));
}

#[test]
fn a_confirmation_is_reconciled_with_what_was_sent() {
    let run = common::pension::run();
    let layout = FileLayout::canadian_group_rrsp_dpsp();
    let confirmation = "File,Member ID,Contribution Type,Amount,Status,Reason\n\
        g.csv,E0001,RRSP-EE,116.67,ACCEPTED,\n\
        g.csv,E0001,DPSP-ER,70.00,ACCEPTED,\n\
        g.csv,E0002,RRSP-EE,\"9,000.00\",ACCEPTED,\n\
        g.csv,E0002,DPSP-ER,54.00,REJECTED,member not enrolled in the DPSP\n\
        g.csv,E0099,RRSP-EE,10.00,ACCEPTED,\n\
        other.csv,E0001,RRSP-EE,1.00,ACCEPTED,\n";
    let confirmed = ConfirmationLayout::default().read(confirmation.as_bytes()).unwrap();
    let check = reconcile(&run, &layout, "g.csv", &confirmed).unwrap();
    assert_eq!(check.matched, 2);
    assert_eq!(check.different.len(), 1);
    assert_eq!(
        (check.different[0].sent, check.different[0].confirmed),
        (Some(Decimal::new(9000, 2)), Some(Decimal::new(900_000, 2)))
    );
    assert_eq!(check.refused[0].reason.as_deref(), Some("member not enrolled in the DPSP"));
    assert_eq!(check.unexpected[0].employee_id, "E0099");
    assert!(check.missing.is_empty(), "E0003 opted out: nothing sent, nothing missing");
    assert!(!check.is_clean());

    let clean = "File,Member ID,Contribution Type,Amount,Status,Reason\n\
        g.csv,E0001,RRSP-EE,116.67,OK,\ng.csv,E0001,DPSP-ER,70.00,OK,\ng.csv,E0002,RRSP-EE,90.00,OK,\ng.csv,E0002,DPSP-ER,54.00,OK,\n";
    let check =
        reconcile(&run, &layout, "g.csv", &ConfirmationLayout::default().read(clean.as_bytes()).unwrap()).unwrap();
    assert!(check.is_clean(), "{check:?}");
}

#[test]
fn a_confirmation_that_cannot_be_read_says_where() {
    let e = ConfirmationLayout::default().read(b"File,Member,Amount\nx,1,2\n").unwrap_err();
    assert!(e.message().contains("no column \"Member ID\""), "{e}");
    let e = ConfirmationLayout::default()
        .read(b"File,Member ID,Contribution Type,Amount,Status,Reason\ng.csv,E1,RRSP-EE,lots,OK,\n")
        .unwrap_err();
    assert!(e.message().starts_with("row 1: \"lots\" in column \"Amount\" is not an amount"), "{e}");
}

#[tokio::test]
async fn a_contribution_file_goes_through_the_outbox_and_its_confirmation_settles_it() {
    let memory = Arc::new(MemoryStore::new());
    let stores = OutboxStores { records: memory.clone(), claims: memory.clone(), state: memory.clone() };
    let provider = MemoryDropBox::new(Placement::new("provider (UK)", [Region::new("GB").unwrap()]));
    let outbox = Outbox::new(
        stores,
        Arc::new(provider.clone()),
        TenantId::new("acme").unwrap(),
        ConnectionId::new("nest").unwrap(),
        "EMP00042",
    );
    let run = common::pension::run();
    let layout = FileLayout::papdis();
    let staged = outbox
        .stage("pension:2026-03", |control| Ok((format!("EMP00042_{control:06}.csv"), layout.render(&run)?)))
        .await
        .unwrap();
    outbox.send().await.unwrap();
    assert_eq!(provider.uploaded().keys().collect::<Vec<_>>(), [&staged.name]);

    let confirmation = format!(
        "File,Member ID,Contribution Type,Amount,Status,Reason\n{0},E0001,,186.67,OK,\n{0},E0002,,144.00,REJECTED,NI number does not match\n",
        staged.name
    );
    provider.answer_with("confirmation-2026-03.csv", confirmation.as_bytes());
    let reader = PensionConfirmations {
        layout: ConfirmationLayout { contribution_type: None, ..ConfirmationLayout::default() },
    };
    let changed = outbox.collect_answers(&reader).await.unwrap();
    assert_eq!(changed[0].state, DeliveryState::AcceptedWithErrors);
    assert_eq!(changed[0].notes, ["member E0002 (total): refused: NI number does not match"]);
    let rows = reader.layout.read(confirmation.as_bytes()).unwrap();
    let check = reconcile(&run, &layout, &staged.name, &rows).unwrap();
    assert_eq!((check.matched, check.refused.len(), check.missing.len()), (1, 1, 1), "{check:?}");
}
