//! A domain's streams, declared once in a [`StreamTable`]: the sync engine's stream descriptors,
//! an adapter's [`Integration::read`], the checkpoint between passes and webhook outcomes all
//! follow from it, so a typed listing and a sync share one code path.
//!
//! The checkpoint holds the page cursor within a pass and, between passes, the inclusive lower
//! bound for the next change listing: the provider's change mark when it gives one
//! ([`Listing::high_water`]), otherwise the time the pass began less [`CLOCK_MARGIN`], so that a
//! provider clock behind ours loses nothing. Records read twice at that boundary are recognized
//! by the cache's content hash and not reported as changes again. A provider that lists changes
//! by token instead ([`Listing::sync_token`]) gets its token back on the next pass
//! ([`ListRequest::sync_token`]); the token given during a pass is kept until the pass ends, so
//! a pass interrupted half-way starts again from the previous token.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ListRequest, Listing, Remote};
use crate::Capability;
use crate::descriptor::{RunLimits, StreamDescriptor, SyncMode};
use crate::error::{Error, Result};
use crate::integration::{
    Checkpoint, Integration, IntegrationEvent, Page, ReadRequest, Record, RecordChange, RejectedRecord, WebhookOutcome,
};

/// How far before a pass began the next change listing starts, when the provider gives no
/// change mark of its own.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(300);

/// A boxed listing future, as a stream's listing functions return it.
pub type ListingFuture<'a> = Pin<Box<dyn Future<Output = Result<Parts>> + Send + 'a>>;

/// One of a domain's listing operations on its trait object `D`, erased to [`Parts`]: write it
/// as a small `fn` calling the typed method, with [`Listing::into_parts`].
pub type ListFn<D> = for<'a> fn(&'a D, ListRequest) -> ListingFuture<'a>;

/// A listing with its records in the sync engine's form.
#[derive(Debug)]
#[non_exhaustive]
pub struct Parts {
    /// The records.
    pub records: Vec<Record>,
    /// The records that did not map.
    pub rejected: Vec<RejectedRecord>,
    /// The next page's cursor.
    pub next: Option<String>,
    /// The provider's change mark.
    pub high_water: Option<DateTime<Utc>>,
    /// The provider's token for the next change listing.
    pub sync_token: Option<String>,
    /// Prefixes of remote ids deleted with everything under them ([`Listing::deleted_under`]).
    pub deleted_under: Vec<String>,
}

impl<T: Serialize> Listing<T> {
    /// The listing in the sync engine's form.
    pub fn into_parts(self) -> Result<Parts> {
        let records = self.items.into_iter().map(Remote::into_record).collect::<Result<Vec<_>>>()?;
        Ok(Parts {
            records,
            rejected: self.rejected,
            next: self.next,
            high_water: self.high_water,
            sync_token: self.sync_token,
            deleted_under: self.deleted_under,
        })
    }
}

/// One stream of a domain.
pub struct StreamSpec<D: ?Sized> {
    /// Its name in the sync engine (`"employees"`).
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// The capability an adapter declares to serve it; `None`: every adapter does.
    pub capability: Option<Capability>,
    /// The full listing, page by page.
    pub list: ListFn<D>,
    /// The change listing (records changed at or after `ListRequest::since`, deletions as
    /// tombstones) and the capability that says an adapter has it: the stream is then
    /// incremental after a first full pass.
    pub changes: Option<(Capability, ListFn<D>)>,
}

impl<D: ?Sized> std::fmt::Debug for StreamSpec<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSpec")
            .field("name", &self.name)
            .field("capability", &self.capability)
            .field("incremental", &self.changes.as_ref().map(|(c, _)| c))
            .finish_non_exhaustive()
    }
}

/// A domain's streams, and what follows from them.
#[derive(Debug)]
pub struct StreamTable<D: ?Sized + 'static> {
    domain: &'static str,
    streams: &'static [StreamSpec<D>],
    limits: RunLimits,
}

impl<D: ?Sized + 'static> StreamTable<D> {
    /// The streams of `domain` (named in errors), with the engine's default run limits.
    pub const fn new(domain: &'static str, streams: &'static [StreamSpec<D>]) -> Self {
        Self { domain, streams, limits: RunLimits::DEFAULT }
    }

    /// How much one run of any of these streams may read.
    #[must_use]
    pub const fn with_limits(mut self, limits: RunLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Every stream.
    pub fn streams(&self) -> &'static [StreamSpec<D>] {
        self.streams
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> Option<&'static StreamSpec<D>> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// The descriptors of the streams an adapter with `capabilities` serves: full refresh and
    /// resumable full refresh always, incremental where it has the change listing's capability;
    /// read ahead (a domain's listings change nothing at the provider — an adapter whose do says
    /// so with `DescriptorBuilder::without_read_ahead`).
    pub fn descriptors(&self, capabilities: &[Capability]) -> Vec<StreamDescriptor> {
        let has = |c: &Capability| capabilities.contains(c);
        self.streams
            .iter()
            .filter(|s| s.capability.as_ref().is_none_or(has))
            .map(|s| {
                let incremental = s.changes.as_ref().is_some_and(|(c, _)| has(c));
                self.descriptor(s, incremental)
            })
            .collect()
    }

    /// The descriptor of `stream`, incremental or not.
    pub fn descriptor(&self, stream: &StreamSpec<D>, incremental: bool) -> StreamDescriptor {
        let mut modes = vec![SyncMode::FullRefresh, SyncMode::ResumableFullRefresh];
        let base = StreamDescriptor::new(stream.name, ["remote_id"]).with_read_ahead().with_limits(self.limits);
        let base = if incremental {
            modes.push(SyncMode::Incremental);
            base.with_cursor_field("modified_at")
        } else {
            base
        };
        base.with_modes(modes).with_description(stream.description)
    }
}

impl<D: ?Sized + Integration + 'static> StreamTable<D> {
    /// Reads one page of a stream of `domain`: what an adapter's `Integration::read` returns.
    pub async fn read(&self, domain: &D, request: ReadRequest) -> Result<Page> {
        let descriptor = domain.descriptor();
        let stream = self.stream(&request.stream).ok_or_else(|| {
            Error::validation("stream", format!("the {} domain has no stream {:?}", self.domain, request.stream))
                .with_provider(descriptor.provider.as_str())
        })?;
        let position: Position = match &request.checkpoint {
            Some(checkpoint) => checkpoint.state()?,
            None => Position::default(),
        };
        let changes = match &stream.changes {
            Some((capability, list)) if request.mode == SyncMode::Incremental && descriptor.supports(capability) => {
                position.since.map(|since| (since, list))
            }
            _ => None,
        };
        let pass_started = position.pass_started.unwrap_or_else(Utc::now);
        let list =
            ListRequest::first().at(position.cursor.clone()).page_size(request.page_size).dry_run(request.dry_run);
        let parts = match changes {
            Some((since, changes)) => {
                changes(domain, list.since(since).sync_token(position.sync_token.clone())).await?
            }
            None => (stream.list)(domain, list).await?,
        };
        let high_water = parts.high_water.max(position.high_water);
        let next_sync_token = parts.sync_token.or_else(|| position.next_sync_token.clone());
        let page = match parts.next {
            Some(cursor) => {
                let next = Position {
                    cursor: Some(cursor),
                    since: position.since,
                    pass_started: Some(pass_started),
                    high_water,
                    sync_token: position.sync_token.clone(),
                    next_sync_token,
                };
                Page::more(parts.records, Checkpoint::from_state(&next)?)
            }
            None => {
                let margin = chrono::Duration::from_std(CLOCK_MARGIN).unwrap_or_default();
                let since = high_water.unwrap_or(pass_started - margin);
                // A pass without a new token keeps the one it started from only when it was a
                // change listing (a full read starts the next pass by time).
                let sync_token = next_sync_token.or_else(|| changes.and(position.sync_token.clone()));
                let next = Position { since: Some(since), sync_token, ..Position::default() };
                Page::last(parts.records, Some(Checkpoint::from_state(&next)?))
            }
        };
        Ok(page.with_rejected(parts.rejected).with_deleted_under(parts.deleted_under))
    }
}

/// The engine-facing position within a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Position {
    /// The page cursor within the current pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    /// The inclusive lower bound of the current (or next) change listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<DateTime<Utc>>,
    /// When the current pass began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pass_started: Option<DateTime<Utc>>,
    /// The highest change mark the provider reported in the current pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high_water: Option<DateTime<Utc>>,
    /// The provider's token this pass lists changes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_token: Option<String>,
    /// The token a page of this pass gave, for the next pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_sync_token: Option<String>,
}

/// What a webhook about records of `stream` amounts to: each record's change on the stream,
/// and an event per record, of the kind `kind` names for it (`"employee.deleted"`), carrying
/// the record (a deleted one: its `remote_id`).
pub fn webhook_outcome<T: Serialize>(
    stream: &str,
    items: Vec<Remote<T>>,
    kind: impl Fn(&Remote<T>) -> &'static str,
) -> Result<WebhookOutcome> {
    let mut changes = Vec::with_capacity(items.len());
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        let kind = kind(&item);
        let occurred_at = item.modified_at;
        let record = item.into_record()?;
        let payload =
            if record.deleted { serde_json::json!({ "remote_id": record.remote_id }) } else { record.data.clone() };
        let mut event = IntegrationEvent::new(kind, payload);
        event.occurred_at = occurred_at;
        events.push(event);
        changes.push(RecordChange::new(stream, record));
    }
    Ok(WebhookOutcome::new(changes, events))
}
