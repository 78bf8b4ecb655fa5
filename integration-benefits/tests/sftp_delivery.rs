//! Delivery over SFTP to a real OpenSSH server standing in for the carrier: sign-in by
//! password and by key with the host key pinned, 834s staged and sent once however the process
//! dies, the carrier's 999 (written by pyx12) matched back, and residency refused before any
//! write.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use integration_benefits::delivery::*;
use integration_benefits::enrollment::{self, Enrollment};
use integration_benefits::x12::{self, Limits};
use integration_core::residency::{Placement, Region, Residency};
use integration_core::store::{
    ChangeBatch, ChangeCursor, MemoryStore, PageWrite, RecordStore, StoredRecord, StreamScope, WriteSummary,
};
use integration_core::{Checkpoint, ConnectionId, Error, ErrorKind, Result, RunId, TenantId};
use integration_testkit::peers::{OpenSsh, Pyx12};
use secrecy::SecretString;

fn canada() -> Placement {
    Placement::new("carrier drop box (Toronto)", [Region::new("CA").unwrap()])
}

fn config(server: &OpenSsh, auth: SftpAuth) -> SftpConfig {
    SftpConfig {
        host: server.host.clone(),
        port: server.port,
        user: server.user.clone(),
        auth,
        host_key: server.host_key.clone(),
        upload_dir: "upload".into(),
        answers_dir: "outbound".into(),
        placement: canada(),
        max_answer_bytes: 1 << 20,
        timeout: std::time::Duration::from_secs(20),
    }
}

fn key(path: &std::path::Path) -> SftpAuth {
    SftpAuth::Key { private_key: SecretString::from(std::fs::read_to_string(path).unwrap()), passphrase: None }
}

fn stores(memory: &Arc<MemoryStore>) -> OutboxStores {
    OutboxStores { records: memory.clone(), claims: memory.clone(), state: memory.clone() }
}

fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// Renders `e` as the interchange numbered `control`, named for `prefix`.
fn render(e: &Enrollment, prefix: &str) -> impl FnOnce(u32) -> Result<(String, String)> + Send + use<> {
    let e = e.clone();
    let prefix = prefix.to_owned();
    move |control| {
        let text = enrollment::interchange(&e, &common::sender(), &common::profile(), control, common::at())?;
        Ok((format!("{prefix}_{control:09}.834"), text))
    }
}

async fn password_and_keys_sign_in_and_a_wrong_host_key_or_password_is_refused() {
    let Some(server) = OpenSsh::start() else { return };
    for auth in [
        SftpAuth::Password(SecretString::from(server.password.clone())),
        key(&server.private_key),
        key(&server.private_key_rsa),
    ] {
        let described = format!("{auth:?}");
        let drop_box = SftpDropBox::new(config(&server, auth)).unwrap();
        let name = format!("probe_{}.txt", fastrand::u32(..));
        drop_box.put(&name, b"hello").await.unwrap_or_else(|e| panic!("{described}: {e}"));
        assert!(drop_box.exists(&name).await.unwrap());
        assert_eq!(drop_box.put(&name, b"again").await.unwrap_err().kind(), ErrorKind::Conflict, "never replaced");
        assert_eq!(std::fs::read(server.upload_dir().join(&name)).unwrap(), b"hello");
    }
    server.put_outbound("ack_1.999", b"answer");
    // Carriers name their files as they like: spaces and brackets are read too.
    server.put_outbound("ACK 2026-03 (1).999", b"another");
    let drop_box = SftpDropBox::new(config(&server, key(&server.private_key))).unwrap();
    assert_eq!(drop_box.answers().await.unwrap(), ["ACK 2026-03 (1).999", "ack_1.999"]);
    assert_eq!(drop_box.answer("ack_1.999").await.unwrap(), b"answer");
    assert_eq!(drop_box.answer("ACK 2026-03 (1).999").await.unwrap(), b"another");
    assert_eq!(drop_box.answer("../etc/passwd").await.unwrap_err().kind(), ErrorKind::Validation);

    let wrong_password = "not-the-password-Zx9";
    let refused = SftpDropBox::new(config(&server, SftpAuth::Password(SecretString::from(wrong_password)))).unwrap();
    let e = refused.exists("x.834").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AuthInvalid, "{e}");
    assert!(!format!("{e} {e:?} {refused:?}").contains(wrong_password), "a password never shows");

    let other_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let impostor =
        SftpDropBox::new(SftpConfig { host_key: other_key.into(), ..config(&server, key(&server.private_key)) })
            .unwrap();
    let e = impostor.exists("x.834").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AuthInvalid);
    assert!(e.message().contains("host key other than the pinned one"), "{e}");
}

async fn an_834_is_sent_once_and_the_carriers_999_is_matched_back() {
    let Some(server) = OpenSsh::start() else { return };
    let Some(pyx12) = Pyx12::install() else { return };
    let memory = Arc::new(MemoryStore::new());
    let drop_box = Arc::new(SftpDropBox::new(config(&server, key(&server.private_key))).unwrap());
    let outbox = Outbox::new(stores(&memory), drop_box, tenant(), ConnectionId::new("sunlife").unwrap(), "ACMEHR");

    let hire = outbox.stage("hire:E0001", render(&common::new_hire(), "hire")).await.unwrap();
    let term = outbox.stage("term:E0002", render(&common::termination(), "term")).await.unwrap();
    // Staging the same change again stages nothing new.
    assert_eq!(outbox.stage("hire:E0001", render(&common::new_hire(), "hire")).await.unwrap(), hire);
    assert_ne!(hire.control, term.control);

    let report = outbox.send().await.unwrap();
    assert_eq!(report.sent, [hire.name.clone(), term.name.clone()]);
    assert_eq!(outbox.send().await.unwrap(), SendReport::default(), "nothing is sent twice");
    assert_eq!(server.uploaded(), [hire.name.clone(), term.name.clone()]);

    // The carrier validates what arrived (pyx12) and answers with its 999; the termination's
    // is made a rejection.
    for (file, reject) in [(&hire, false), (&term, true)] {
        let arrived = std::fs::read_to_string(server.upload_dir().join(&file.name)).unwrap();
        let arrived = if reject { arrived.replacen("*EMP~", "*XXX~", 1) } else { arrived };
        let verdict = pyx12.validate(&arrived);
        assert_eq!(verdict.accepted(), !reject, "{}", verdict.log);
        server.put_outbound(&format!("{}.999", file.name), verdict.ack.unwrap().as_bytes());
    }
    server.put_outbound("junk.999", b"ISA*this is not an acknowledgement");
    let changed = outbox.collect_answers(&X12Answers).await.unwrap();
    assert_eq!(changed.len(), 2);
    let hire = outbox.get("hire:E0001").await.unwrap().unwrap();
    assert_eq!(hire.state, DeliveryState::Accepted, "{:?}", hire.notes);
    let term = outbox.get("term:E0002").await.unwrap().unwrap();
    assert_eq!(term.state, DeliveryState::Rejected);
    assert!(
        term.notes.iter().any(|n| n.contains("element HD05: invalid code value (7), value \"XXX\"")),
        "{:?}",
        term.notes
    );
    // Answers are read once; the unreadable one is kept raw.
    assert!(outbox.collect_answers(&X12Answers).await.unwrap().is_empty());
    let scope = StreamScope::new(tenant(), ConnectionId::new("sunlife").unwrap(), "outbox-answers");
    let junk = memory.record(&scope, "junk.999").await.unwrap().unwrap();
    assert!(junk.data["raw"].as_str().unwrap().contains("this is not an acknowledgement"), "{}", junk.data);
}

/// Where the simulated crash strikes, counted over every drop-box operation and ledger write.
#[derive(Debug)]
struct Crash {
    at: usize,
    phase: Phase,
    count: AtomicUsize,
    upload_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Dies before the operation.
    Before,
    /// Dies after the operation took effect, before its caller learned of it.
    After,
    /// For a put: dies with half the file written under its temporary name.
    Midway,
}

impl Crash {
    fn strikes(&self) -> bool {
        self.count.fetch_add(1, Ordering::SeqCst) + 1 == self.at
    }
}

fn died() -> Error {
    Error::new(ErrorKind::Cancelled, "the process died here")
}

#[derive(Debug)]
struct CrashingDropBox {
    inner: Arc<SftpDropBox>,
    crash: Arc<Crash>,
}

#[async_trait]
impl DropBox for CrashingDropBox {
    async fn put(&self, name: &str, contents: &[u8]) -> Result<()> {
        if self.crash.strikes() {
            match self.crash.phase {
                Phase::Before => return Err(died()),
                Phase::Midway => {
                    let partial = self.crash.upload_dir.join(format!(".{name}.part"));
                    std::fs::write(&partial, &contents[..contents.len() / 2]).unwrap();
                    // As the SFTP user would have left it.
                    use std::os::unix::fs::MetadataExt;
                    let owner = std::fs::metadata(&self.crash.upload_dir).unwrap();
                    std::os::unix::fs::chown(&partial, Some(owner.uid()), Some(owner.gid())).unwrap();
                    return Err(died());
                }
                Phase::After => {
                    self.inner.put(name, contents).await?;
                    return Err(died());
                }
            }
        }
        self.inner.put(name, contents).await
    }
    async fn exists(&self, name: &str) -> Result<bool> {
        if self.crash.strikes() {
            return Err(died());
        }
        self.inner.exists(name).await
    }
    async fn answers(&self) -> Result<Vec<String>> {
        self.inner.answers().await
    }
    async fn answer(&self, name: &str) -> Result<Vec<u8>> {
        self.inner.answer(name).await
    }
    fn placement(&self) -> &Placement {
        self.inner.placement()
    }
}

#[derive(Debug)]
struct CrashingRecords {
    inner: Arc<MemoryStore>,
    crash: Arc<Crash>,
}

#[async_trait]
impl RecordStore for CrashingRecords {
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary> {
        if self.crash.strikes() {
            if self.crash.phase == Phase::Before {
                return Err(died());
            }
            self.inner.write_page(scope, page).await?;
            return Err(died());
        }
        self.inner.write_page(scope, page).await
    }
    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        self.inner.delete_unseen(scope, run, checkpoint).await
    }
    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>> {
        self.inner.record(scope, remote_id).await
    }
    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        deleted: bool,
    ) -> Result<Vec<StoredRecord>> {
        self.inner.records(scope, after, limit, deleted).await
    }
    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch> {
        self.inner.changes_since(tenant, cursor, limit).await
    }
}

async fn a_crash_at_any_point_sends_each_file_exactly_once_with_unique_control_numbers() {
    let Some(server) = OpenSsh::start() else { return };
    let sftp = Arc::new(SftpDropBox::new(config(&server, key(&server.private_key))).unwrap());
    let changes = [
        ("hire:E0001", common::new_hire()),
        ("term:E0002", common::termination()),
        ("change:E0003", common::coverage_change()),
    ];
    let mut runs = 0;
    let mut found_in_place = 0;
    for phase in [Phase::Before, Phase::After, Phase::Midway] {
        for at in 1..=16 {
            runs += 1;
            // One durable database across the "restart"; one connection (and file prefix) per case.
            let memory = Arc::new(MemoryStore::new());
            let connection = ConnectionId::new(format!("carrier-{runs}")).unwrap();
            let prefix = format!("c{runs}");
            let crash = Arc::new(Crash { at, phase, count: AtomicUsize::new(0), upload_dir: server.upload_dir() });
            let crashing = OutboxStores {
                records: Arc::new(CrashingRecords { inner: memory.clone(), crash: crash.clone() }),
                claims: memory.clone(),
                state: memory.clone(),
            };
            let doomed = Outbox::new(
                crashing,
                Arc::new(CrashingDropBox { inner: sftp.clone(), crash }),
                tenant(),
                connection.clone(),
                "ACMEHR",
            );
            let attempt = async {
                for (key, change) in &changes {
                    doomed.stage(key, render(change, &prefix)).await?;
                }
                doomed.send().await
            };
            let died_midway = attempt.await.is_err();
            drop(doomed);
            // The process starts again: the same changes are staged again and sent.
            let outbox = Outbox::new(stores(&memory), sftp.clone(), tenant(), connection, "ACMEHR");
            // A lease left by the dead process would hold the send back; a real restart waits it out.
            for (key, change) in &changes {
                outbox.stage(key, render(change, &prefix)).await.unwrap();
            }
            let report = outbox.send().await.unwrap();
            assert!(!report.busy || !died_midway, "case {runs}: the dead sender's lease is released on error");
            found_in_place += report.found_in_place.len();
            let files = outbox.files().await.unwrap();
            assert_eq!(files.len(), 3, "case {runs} ({phase:?} at {at})");
            assert!(files.iter().all(|f| f.state == DeliveryState::Sent), "case {runs}: {files:?}");
            let mut controls: Vec<u32> = files.iter().map(|f| f.control).collect();
            controls.sort_unstable();
            controls.dedup();
            assert_eq!(controls.len(), 3, "case {runs}: control numbers are unique");
            let at_carrier: Vec<String> = std::fs::read_dir(server.upload_dir())
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&format!("{prefix}_")) || n.starts_with(&format!(".{prefix}_")))
                .collect();
            let mut expected: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
            let mut got = at_carrier.clone();
            expected.sort();
            got.sort();
            assert_eq!(
                got, expected,
                "case {runs} ({phase:?} at {at}): exactly one file per change at the carrier, nothing half-written"
            );
            for f in &files {
                let text = std::fs::read(server.upload_dir().join(&f.name)).unwrap();
                let env = x12::open(&x12::read(&text, &Limits::default()).unwrap()).unwrap();
                assert_eq!(env.control, format!("{:09}", f.control), "case {runs}: the whole file arrived");
            }
        }
    }
    assert!(found_in_place >= 3, "the crashes after a rename were recovered by finding the file in place");
}

async fn a_connection_bound_elsewhere_stages_nothing_and_the_refusal_is_audited() {
    use integration_core::crypto::{KeyRing, Sealer, SealingKey};
    use integration_core::{Connections, Domain, IntegrationConfig, ProviderId};
    let memory = Arc::new(MemoryStore::new());
    let connections =
        Connections::new(memory.clone(), Sealer::new(KeyRing::new("k1", SealingKey::generate())), memory.clone());
    let connection = ConnectionId::new("sunlife").unwrap();
    let config =
        IntegrationConfig::new(tenant(), connection.clone(), Domain::Benefits, ProviderId::new("sun_life").unwrap())
            .with_region(Region::new("CA-QC").unwrap());
    connections.save(&config).await.unwrap();
    let residency = Residency::new(memory.clone(), memory.clone());

    let us = MemoryDropBox::new(Placement::new("carrier drop box (Virginia)", [Region::new("US").unwrap()]));
    let outbox = Outbox::new(stores(&memory), Arc::new(us.clone()), tenant(), connection.clone(), "ACMEHR")
        .with_residency(residency.clone());
    let rendered = AtomicUsize::new(0);
    let e = outbox
        .stage("hire:E0001", |control| {
            rendered.fetch_add(1, Ordering::SeqCst);
            render(&common::new_hire(), "hire")(control)
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert!(e.message().contains("bound to CA-QC"), "{e}");
    assert_eq!(rendered.load(Ordering::SeqCst), 0, "nothing rendered");
    assert!(outbox.files().await.unwrap().is_empty(), "nothing staged");
    assert!(us.uploaded().is_empty());
    let audited = memory.audit_events(&tenant());
    assert!(audited.iter().any(|a| a.action.as_str() == "residency_refused"), "{audited:?}");

    // A drop box in Quebec (or anywhere in Canada) takes it.
    let quebec = MemoryDropBox::new(Placement::new("carrier drop box (Montreal)", [Region::new("CA-QC").unwrap()]));
    let outbox = Outbox::new(stores(&memory), Arc::new(quebec.clone()), tenant(), connection, "ACMEHR")
        .with_residency(residency);
    outbox.stage("hire:E0001", render(&common::new_hire(), "hire")).await.unwrap();
    outbox.send().await.unwrap();
    assert_eq!(quebec.uploaded().len(), 1);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("pyx12"), Need::openssh()],
        integration_testkit::trials![async password_and_keys_sign_in_and_a_wrong_host_key_or_password_is_refused, async an_834_is_sent_once_and_the_carriers_999_is_matched_back, async a_crash_at_any_point_sends_each_file_exactly_once_with_unique_control_numbers, async a_connection_bound_elsewhere_stages_nothing_and_the_refusal_is_audited],
    )
}
