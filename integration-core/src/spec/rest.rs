//! [`RestConnector`]: an API the SDK does not ship, synced from a spec a host writes — its
//! `[[streams]]` listed by the spec's paging into the records cache as JSON records, with every
//! guarantee of the sync engine (checkpoints committed with their page, resumption, deletions on
//! a full refresh, the change stream).

use std::cmp::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ProviderSpec, RestStream, SpecClient, text_of as text};
use crate::SyncMode;
use crate::config::IntegrationConfig;
use crate::descriptor::{Descriptor, StreamDescriptor};
use crate::error::{Error, Result};
use crate::integration::{Checkpoint, ConnectionInfo, Integration, Page, ReadRequest, Record, RejectedRecord};
use crate::registry::BuildContext;

/// Where a stream's listing is: the page position within a pass, the change cursor the pass
/// lists from, and the greatest cursor value seen so far in it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high: Option<Value>,
}

/// A provider connected by spec whose streams the sync engine reads.
///
/// A stream lists `path` by the spec's paging; each record's id is at `primary_key`. With a
/// `cursor_field`, the stream is incremental: the first pass lists everything, and each later
/// pass sends the greatest value seen (`cursor_param`, inclusive: a record changed in the same
/// instant is read again rather than missed) and takes records whose `deleted` pointer is true
/// as tombstones. A record without an id is rejected into the run log with its raw data.
#[derive(Debug, Clone)]
pub struct RestConnector {
    client: SpecClient,
    descriptor: Descriptor,
}

/// `a` later than `b`: as times (RFC 3339), numbers, or text.
fn later(a: &Value, b: &Value) -> bool {
    let time = |v: &Value| v.as_str().and_then(|s| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok());
    let order = match (time(a), time(b), a.as_f64(), b.as_f64()) {
        (Some(x), Some(y), _, _) => x.cmp(&y),
        (_, _, Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_string().cmp(&b.to_string()),
    };
    order == Ordering::Greater
}

impl RestConnector {
    /// Connects `spec` (with at least one `[[streams]]`) with `config`, as
    /// [`SpecClient::new`] does.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error: a spec without streams, or the
    /// configuration's.
    pub fn new(spec: ProviderSpec, config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        if spec.streams.is_empty() {
            return Err(Error::config("the spec declares no [[streams]] to sync").with_field("streams"));
        }
        let streams = spec.streams.iter().map(|s| {
            let base = StreamDescriptor::new(s.name.clone(), ["remote_id"]).with_description(s.path.clone());
            match &s.cursor_field {
                Some(field) => base
                    .with_modes([SyncMode::FullRefresh, SyncMode::ResumableFullRefresh, SyncMode::Incremental])
                    .with_cursor_field(field.clone()),
                None => base.with_modes([SyncMode::FullRefresh, SyncMode::ResumableFullRefresh]),
            }
        });
        let descriptor = spec.descriptor_builder().streams(streams.collect::<Vec<_>>()).build()?;
        Ok(Self { client: SpecClient::new(spec, config, context)?, descriptor })
    }

    /// The client, for passthrough requests.
    pub fn client(&self) -> &SpecClient {
        &self.client
    }

    fn stream(&self, name: &str) -> Result<&RestStream> {
        self.client.spec().streams.iter().find(|s| s.name == name).ok_or_else(|| {
            Error::validation("stream", format!("{} has no stream {name:?}", self.client.spec().name))
                .with_provider(self.client.provider().as_str())
        })
    }
}

#[async_trait]
impl Integration for RestConnector {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.client.check().await.map(|()| ConnectionInfo::default())
    }

    async fn disconnect(&self) -> Result<()> {
        self.client.revoke().await
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        let stream = self.stream(&request.stream)?;
        let state: State = match &request.checkpoint {
            Some(checkpoint) => checkpoint.state()?,
            None => State::default(),
        };
        let incremental = request.mode == SyncMode::Incremental && stream.cursor_field.is_some();
        let mut query = Vec::new();
        if incremental && let (Some(param), Some(since)) = (&stream.cursor_param, &state.since) {
            query.push((param.clone(), text(since)));
        }
        let size = request.page_size.map(std::num::NonZeroU32::get);
        let page =
            self.client.page_with(&stream.path, state.at.as_deref(), size, &query, stream.records.as_deref()).await?;
        let (mut records, mut rejected, mut high) = (Vec::new(), Vec::new(), state.high.clone());
        for raw in page.records {
            let Some(id) = raw.pointer(&stream.primary_key).filter(|v| !v.is_null()).map(text) else {
                let error = Error::validation(stream.primary_key.trim_start_matches('/'), "the record has no id there")
                    .with_provider(self.client.provider().as_str());
                rejected.push(RejectedRecord::new(None, raw, error));
                continue;
            };
            if let Some(value) = stream.cursor_field.as_deref().and_then(|f| raw.pointer(f)).filter(|v| !v.is_null())
                && high.as_ref().is_none_or(|h| later(value, h))
            {
                high = Some(value.clone());
            }
            let deleted = stream.deleted.as_deref().and_then(|p| raw.pointer(p)).and_then(Value::as_bool) == Some(true);
            records.push(if deleted { Record::deleted(id) } else { Record::new(id, raw) });
        }
        let answer = match page.next {
            Some(at) => Page::more(records, Checkpoint::from_state(&State { at: Some(at), since: state.since, high })?),
            None => {
                // The pass is complete: the next one lists changes from the greatest value seen.
                let since = if stream.cursor_field.is_some() { high.or(state.since) } else { None };
                Page::last(records, Some(Checkpoint::from_state(&State { at: None, since, high: None })?))
            }
        };
        Ok(answer.with_rejected(rejected))
    }
}
