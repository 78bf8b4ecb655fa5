//! The outbox: files staged durably, sent exactly once, answers matched back.
//!
//! Each file is a record in the host's [`RecordStore`] (stream `outbox`, keyed by the
//! caller's key) holding its name, control number, contents and state:
//!
//! 1. [`Outbox::stage`] claims the key in the [`IdempotencyStore`] (two workers staging the
//!    same change stage it once), takes a control number that was never handed out, renders
//!    the file and writes the record `staged` — before anything leaves.
//! 2. [`Outbox::send`], under a lease (one sender per outbox at a time), puts each staged file
//!    in the drop box — under a temporary name, renamed into place — and only then records it
//!    `sent`. A file found already in place (the process died between the rename and the
//!    record) is recorded `sent` without being put again; a file half-written under its
//!    temporary name is written again. So a crash anywhere sends each file once.
//! 3. [`Outbox::collect_answers`] reads every answer not read before, matches it to its file by
//!    control number or name, and records `accepted` or `rejected` with the notes. An answer
//!    that cannot be read is kept with its raw text.
//!
//! Residency: a connection bound to a region (see [`integration_core::residency`]) stages
//! nothing for a drop box whose placement does not admit it — refused before any write.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::residency::Residency;
use integration_core::store::{Claim, IdempotencyStore, PageWrite, RecordStore, StateStore, StoredRecord, StreamScope};
use integration_core::{ConnectionId, Error, ErrorKind, Record, Result, TenantId};
use serde::{Deserialize, Serialize};

use super::{AnswerKey, AnswerReader, DropBox, check_name};
use crate::x12::{AckStatus, ControlNumbers, StoredControlNumbers};

/// Where a file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Staged, not yet sent.
    Staged,
    /// In the drop box; no answer yet (or only an interchange acknowledgement).
    Sent,
    /// The carrier accepted it.
    Accepted,
    /// The carrier accepted it, noting errors.
    AcceptedWithErrors,
    /// The carrier rejected it: see its notes.
    Rejected,
}

/// One staged file, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staged {
    /// The caller's key (a change's id, a pay period): staging it again stages nothing.
    pub key: String,
    /// The file's name in the drop box.
    pub name: String,
    /// Its control number (never handed out twice on the connection).
    pub control: u32,
    /// Where it stands.
    pub state: DeliveryState,
    /// What it holds.
    pub contents: String,
    /// When it was staged.
    pub staged_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When an answer settled it.
    pub answered_at: Option<DateTime<Utc>>,
    /// What the answers said.
    pub notes: Vec<String>,
    /// The answers applied to it, by file name.
    pub answers: Vec<String>,
}

/// The host's stores an [`Outbox`] keeps its state in.
#[derive(Debug, Clone)]
pub struct OutboxStores {
    /// The ledger of files (stream `outbox`) and of answers read (stream `outbox-answers`).
    pub records: Arc<dyn RecordStore>,
    /// Claims on staging keys and control numbers.
    pub claims: Arc<dyn IdempotencyStore>,
    /// The send lease and the control numbers' high-water mark.
    pub state: Arc<dyn StateStore>,
}

/// What [`Outbox::send`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Files put in the drop box now.
    pub sent: Vec<String>,
    /// Files found already in place (a send interrupted after its rename) and recorded.
    pub found_in_place: Vec<String>,
    /// Whether another worker held the send lease (nothing was sent).
    pub busy: bool,
}

/// Files staged, sent once and answered, for one connection to one carrier.
#[derive(Debug, Clone)]
pub struct Outbox {
    stores: OutboxStores,
    drop_box: Arc<dyn DropBox>,
    residency: Option<Residency>,
    files: StreamScope,
    answered: StreamScope,
    sender: String,
    holder: String,
}

const LEASE_TTL: Duration = Duration::from_secs(300);
const CLAIM_TTL: Duration = Duration::from_secs(600);
/// Kept of an answer that cannot be read.
const RAW_KEPT: usize = 4096;

impl Outbox {
    /// The outbox of `connection` of `tenant`, sending to `drop_box`; `sender` is the id
    /// control numbers are counted for (`ISA06`, or a file prefix).
    pub fn new(
        stores: OutboxStores,
        drop_box: Arc<dyn DropBox>,
        tenant: TenantId,
        connection: ConnectionId,
        sender: impl Into<String>,
    ) -> Self {
        let files = StreamScope::new(tenant.clone(), connection.clone(), "outbox");
        let answered = StreamScope::new(tenant, connection, "outbox-answers");
        let holder = format!("outbox-{}-{}", std::process::id(), uuid_like());
        Self { stores, drop_box, residency: None, files, answered, sender: sender.into(), holder }
    }

    /// Checks every staging against the connection's region (see
    /// [`integration_core::residency`]).
    #[must_use]
    pub fn with_residency(mut self, residency: Residency) -> Self {
        self.residency = Some(residency);
        self
    }

    /// Stages the file for `key`, unless it is staged already (then the staged one is
    /// returned, unchanged). `render` gets the control number and returns the file's name and
    /// contents.
    ///
    /// # Errors
    /// - [`Forbidden`](ErrorKind::Forbidden): the connection's region is not one the drop box
    ///   serves (nothing written; audited).
    /// - [`Conflict`](ErrorKind::Conflict): another worker is staging the same key now.
    /// - what `render` returns; the stores failing.
    pub async fn stage(
        &self,
        key: &str,
        render: impl FnOnce(u32) -> Result<(String, String)> + Send,
    ) -> Result<Staged> {
        if let Some(residency) = &self.residency {
            let what = format!("staging file {key:?} for {}", self.drop_box.placement().name);
            residency.check(&self.files.tenant, &self.files.connection, self.drop_box.placement(), &what).await?;
        }
        if let Some(staged) = self.get(key).await? {
            return Ok(staged);
        }
        let namespace = format!("outbox-stage:{}", self.files.connection);
        let token = match self.stores.claims.claim(&self.files.tenant, &namespace, key, CLAIM_TTL).await? {
            Claim::Acquired(token) => token,
            Claim::Completed { .. } => {
                return self.get(key).await?.ok_or_else(|| {
                    Error::storage(format!("{key:?} was staged but its record is gone from the outbox"))
                });
            }
            Claim::InProgress { until } => {
                return Err(Error::conflict(format!("{key:?} is being staged by another worker (until {until})")));
            }
            _ => return Err(Error::conflict(format!("{key:?} cannot be claimed for staging now"))),
        };
        let staged = async {
            let numbers = StoredControlNumbers::new(self.stores.claims.clone(), self.stores.state.clone());
            let control = numbers.next(&self.files.tenant, &self.files.connection, &self.sender).await?;
            let (name, contents) = render(control)?;
            check_name(&name)?;
            let staged = Staged {
                key: key.to_owned(),
                name,
                control,
                state: DeliveryState::Staged,
                contents,
                staged_at: Utc::now(),
                sent_at: None,
                answered_at: None,
                notes: Vec::new(),
                answers: Vec::new(),
            };
            self.put(&staged).await?;
            Ok::<_, Error>(staged)
        }
        .await;
        match staged {
            Ok(staged) => {
                self.stores.claims.complete(&token, Some(serde_json::json!({ "control": staged.control }))).await?;
                Ok(staged)
            }
            Err(e) => {
                let _ = self.stores.claims.release(&token).await;
                Err(e)
            }
        }
    }

    /// The file staged under `key`.
    ///
    /// # Errors
    /// The store failing, or a record it cannot read.
    pub async fn get(&self, key: &str) -> Result<Option<Staged>> {
        match self.stores.records.record(&self.files, key).await? {
            Some(stored) if !stored.deleted => decode(&stored).map(Some),
            _ => Ok(None),
        }
    }

    /// Every file, in key order.
    ///
    /// # Errors
    /// The store failing, or a record it cannot read.
    pub async fn files(&self) -> Result<Vec<Staged>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.stores.records.records(&self.files, after.as_deref(), 200, false).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.remote_id.clone());
            for stored in &page {
                out.push(decode(stored)?);
            }
        }
        Ok(out)
    }

    /// Sends every staged file (see the module docs); nothing when another worker holds the
    /// send lease.
    ///
    /// # Errors
    /// The drop box or the stores failing: what was sent before is recorded, and the next
    /// call goes on from there.
    pub async fn send(&self) -> Result<SendReport> {
        let key = format!("outbox-send/{}", self.files.connection);
        let Some(lease) = self.stores.state.acquire_lease(&self.files.tenant, &key, &self.holder, LEASE_TTL).await?
        else {
            return Ok(SendReport { busy: true, ..SendReport::default() });
        };
        let result = self.send_staged().await;
        let _ = self.stores.state.release_lease(&lease).await;
        result
    }

    async fn send_staged(&self) -> Result<SendReport> {
        let mut report = SendReport::default();
        for mut file in self.files().await?.into_iter().filter(|f| f.state == DeliveryState::Staged) {
            if self.drop_box.exists(&file.name).await? {
                report.found_in_place.push(file.name.clone());
            } else {
                match self.drop_box.put(&file.name, file.contents.as_bytes()).await {
                    Ok(()) => report.sent.push(file.name.clone()),
                    // Put in place between our look and our rename: it is there.
                    Err(e) if e.kind() == ErrorKind::Conflict => report.found_in_place.push(file.name.clone()),
                    Err(e) => return Err(e),
                }
            }
            file.state = DeliveryState::Sent;
            file.sent_at = Some(Utc::now());
            self.put(&file).await?;
            tracing::info!(file = %file.name, control = file.control, "file delivered to the carrier");
        }
        Ok(report)
    }

    /// Reads the answers not read before with `reader` and records what they say on the files
    /// they are about. Returns the files whose state changed.
    ///
    /// # Errors
    /// The drop box or the stores failing.
    pub async fn collect_answers(&self, reader: &dyn AnswerReader) -> Result<Vec<Staged>> {
        let mut changed: Vec<Staged> = Vec::new();
        // The outbox's files, read once (on the first answer) and kept current as answers apply.
        let mut files: Option<Vec<Staged>> = None;
        for name in self.drop_box.answers().await? {
            if self.stores.records.record(&self.answered, &name).await?.is_some_and(|r| !r.deleted) {
                continue;
            }
            let contents = self.drop_box.answer(&name).await?;
            let (answers, outcome) = match reader.read(&name, &contents) {
                Ok(answers) => {
                    let n = answers.len();
                    (answers, serde_json::json!({ "answers": n }))
                }
                Err(e) => {
                    let raw = String::from_utf8_lossy(&contents[..contents.len().min(RAW_KEPT)]).into_owned();
                    tracing::warn!(answer = %name, error = %e, "an answer from the carrier could not be read; kept raw");
                    (Vec::new(), serde_json::json!({ "error": e.to_string(), "raw": raw }))
                }
            };
            for answer in answers {
                if files.is_none() {
                    files = Some(self.files().await?);
                }
                let known = files.as_deref_mut().unwrap_or_default();
                let found = known.iter_mut().find(|f| match &answer.key {
                    AnswerKey::Control(control) => f.control == *control,
                    AnswerKey::FileName(file) => &f.name == file,
                });
                let Some(file) = found else {
                    tracing::warn!(answer = %name, key = ?answer.key, "an answer about no file this outbox sent");
                    continue;
                };
                file.answers.push(name.clone());
                file.notes.extend(answer.notes.iter().cloned());
                if answer.is_final || !answer.status.is_accepted() {
                    file.state = match answer.status {
                        AckStatus::Accepted => DeliveryState::Accepted,
                        AckStatus::AcceptedWithErrors => DeliveryState::AcceptedWithErrors,
                        AckStatus::PartiallyAccepted | AckStatus::Rejected => DeliveryState::Rejected,
                    };
                    file.answered_at = Some(Utc::now());
                }
                self.put(file).await?;
                changed.retain(|f| f.key != file.key);
                changed.push(file.clone());
            }
            let record = Record::new(name, outcome);
            self.stores.records.write_page(&self.answered, PageWrite::new(vec![record], None, None)).await?;
        }
        Ok(changed)
    }

    async fn put(&self, file: &Staged) -> Result<()> {
        let data = serde_json::to_value(file).map_err(|e| Error::storage(format!("an outbox record: {e}")))?;
        let record = Record::new(file.key.clone(), data);
        self.stores.records.write_page(&self.files, PageWrite::new(vec![record], None, None)).await.map(drop)
    }
}

fn decode(stored: &StoredRecord) -> Result<Staged> {
    serde_json::from_value(stored.data.clone())
        .map_err(|e| Error::storage(format!("the outbox record {:?} cannot be read: {e}", stored.remote_id)))
}

fn uuid_like() -> String {
    format!("{:016x}", fastrand::u64(..))
}
