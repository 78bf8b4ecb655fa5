//! Every calendar's events as one listing: the calendars are read in turn (sorted by id), each
//! page by page, and the change token each ends with (Google's `nextSyncToken`, Graph's
//! `@odata.deltaLink`) gathered on the way; the pass's last page carries them all as one
//! (JSON) sync token. Adapters supply how one page of one calendar is read.

use std::collections::BTreeMap;
use std::future::Future;

use integration_core::domain::{ListRequest, Listing};
use integration_core::{Error, Result};

use crate::model::Event;

/// Where a pass is: the calendar it reads, its page there, and the tokens of the calendars
/// read before it.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Cursor {
    calendar: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<String>,
    #[serde(default)]
    tokens: BTreeMap<String, String>,
}

/// One page of a calendar's events and, on its last page, the calendar's change token.
pub(crate) type CalendarPage = (Listing<Event>, Option<String>);

/// The page of the pass `request` asks for. `read(calendar, page, token)` reads one page of
/// `calendar`: its first (`page` `None`) or the one `page` names, everything (`token` `None`)
/// or what changed since `token`. A calendar without a token yet (new since the last pass) is
/// read in full.
///
/// # Errors
/// A `Validation` error for a cursor or sync token this module did not write; `read`'s errors.
pub(crate) async fn events<F, Fut>(calendars: Vec<String>, request: &ListRequest, read: F) -> Result<Listing<Event>>
where
    F: FnOnce(String, Option<String>, Option<String>) -> Fut,
    Fut: Future<Output = Result<CalendarPage>>,
{
    let mut calendars = calendars;
    calendars.sort();
    calendars.dedup();
    let incremental = request.since.is_some() && request.sync_token.is_some();
    let previous: BTreeMap<String, String> = match request.sync_token.as_deref().filter(|_| incremental) {
        Some(text) => serde_json::from_str(text)
            .map_err(|_| Error::validation("sync_token", "not a sync token of this adapter's event listing"))?,
        None => BTreeMap::new(),
    };
    let cursor: Cursor = match &request.cursor {
        Some(text) => {
            serde_json::from_str(text).map_err(|_| Error::validation("cursor", "not a cursor of this adapter"))?
        }
        None => Cursor { calendar: calendars.first().cloned().unwrap_or_default(), ..Cursor::default() },
    };
    let tokens_text = |tokens: &BTreeMap<String, String>| serde_json::to_string(tokens).unwrap_or_default();
    let Some(position) = calendars.iter().position(|c| *c >= cursor.calendar) else {
        return Ok(Listing::new(Vec::new(), None).with_sync_token(Some(tokens_text(&cursor.tokens))));
    };
    let calendar = calendars[position].clone();
    let token = previous.get(&calendar).cloned();
    let (mut listing, sync) = read(calendar.clone(), cursor.page, token).await?;
    let mut tokens = cursor.tokens;
    if let Some(sync) = sync {
        tokens.insert(calendar.clone(), sync);
    }
    let next = match listing.next.take() {
        Some(page) => Some(Cursor { calendar, page: Some(page), tokens: tokens.clone() }),
        None => calendars.get(position + 1).map(|c| Cursor { calendar: c.clone(), page: None, tokens: tokens.clone() }),
    };
    listing.next = next.map(|c| serde_json::to_string(&c).unwrap_or_default());
    Ok(listing.with_sync_token(Some(tokens_text(&tokens))))
}
