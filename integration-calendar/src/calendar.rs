//! The [`Calendar`] trait: what a calendar adapter can do, each optional operation behind a
//! [`capability`] its descriptor declares.

use async_trait::async_trait;
use integration_core::domain::{ListRequest, Listing, OperationKey, Remote};
use integration_core::{Integration, Result};

use crate::model::{CalendarInfo, Event, FreeBusy};
use crate::notifications::Channel;
use crate::time::Interval;
use crate::vocabulary::AccessRole;

/// The capabilities a calendar adapter may declare.
pub mod capability {
    use integration_core::Capability;

    /// Events are listed incrementally (CalDAV sync-collection, Google sync tokens, Graph delta).
    pub const CHANGES: Capability = Capability::from_static("calendar.changes");
    /// Events are created, updated and deleted.
    pub const WRITE: Capability = Capability::from_static("calendar.write");
    /// Calendars are shared and unshared.
    pub const SHARING: Capability = Capability::from_static("calendar.sharing");
    /// Changed events are announced by push channels or subscriptions
    /// ([`Calendar::watch`](super::Calendar::watch)).
    pub const NOTIFICATIONS: Capability = Capability::from_static("calendar.notifications");
}

/// A calendar account: its calendars and their events. Event ids are the provider's (a
/// CalDAV resource's path, a Google event id); an event's `etag` is what conditional writes
/// name.
#[async_trait]
pub trait Calendar: Integration {
    /// The account's calendars.
    async fn calendars(&self, request: ListRequest) -> Result<Listing<CalendarInfo>>;

    /// The events of every calendar, page by page; with `request.sync_token` (from the previous
    /// pass's [`Listing::sync_token`]) only what changed since, deletions as tombstones
    /// ([`capability::CHANGES`]). A token the provider no longer accepts is `ResyncRequired`.
    async fn events(&self, request: ListRequest) -> Result<Listing<Event>>;

    /// The events of `calendar_id` with an occurrence in `window` (a series once, with its
    /// exceptions: expand it with [`recurrence::expand`](crate::recurrence::expand)).
    async fn events_between(&self, calendar_id: &str, window: &Interval) -> Result<Vec<Remote<Event>>>;

    /// One event.
    async fn event(&self, calendar_id: &str, event_id: &str) -> Result<Remote<Event>>;

    /// Creates `event` in `calendar_id` ([`capability::WRITE`]). Its `uid`, when empty, is
    /// derived from `operation`: the same operation again is the same event, never a second.
    async fn create_event(&self, calendar_id: &str, operation: &OperationKey, event: &Event) -> Result<Remote<Event>> {
        let _ = (calendar_id, operation, event);
        Err(self.unsupported("create_event"))
    }

    /// Replaces event `event_id` with `event` ([`capability::WRITE`]) if it is still at
    /// `event.etag` (when given): a stale etag is a `Conflict`, and nothing changes.
    async fn update_event(&self, calendar_id: &str, event_id: &str, event: &Event) -> Result<Remote<Event>> {
        let _ = (calendar_id, event_id, event);
        Err(self.unsupported("update_event"))
    }

    /// Deletes event `event_id` ([`capability::WRITE`]) if it is still at `etag` (when given).
    /// Deleting what is already gone succeeds.
    async fn delete_event(&self, calendar_id: &str, event_id: &str, etag: Option<&str>) -> Result<()> {
        let _ = (calendar_id, event_id, etag);
        Err(self.unsupported("delete_event"))
    }

    /// The busy times of each calendar in `window`. By default from
    /// [`events_between`](Self::events_between) through
    /// [`availability::busy_of`](crate::availability::busy_of): each series expanded, free
    /// (`TRANSPARENT`) and cancelled occurrences left out. Providers with a free/busy query use
    /// it instead.
    async fn free_busy(&self, calendar_ids: &[String], window: &Interval) -> Result<Vec<FreeBusy>> {
        let mut out = Vec::with_capacity(calendar_ids.len());
        for id in calendar_ids {
            let events = self.events_between(id, window).await?;
            let busy = crate::availability::busy_of(events.iter().map(|e| &e.fields), window, chrono_tz::UTC)?;
            out.push(FreeBusy { id: id.clone(), busy });
        }
        Ok(out)
    }

    /// Gives `grantee` (an email or principal) `role` on `calendar_id` ([`capability::SHARING`]).
    async fn share(&self, calendar_id: &str, grantee: &str, role: AccessRole) -> Result<()> {
        let _ = (calendar_id, grantee, role);
        Err(self.unsupported("share"))
    }

    /// Takes `grantee`'s access to `calendar_id` away ([`capability::SHARING`]).
    async fn unshare(&self, calendar_id: &str, grantee: &str) -> Result<()> {
        let _ = (calendar_id, grantee);
        Err(self.unsupported("unshare"))
    }

    /// Asks the provider to announce changes to `calendar_id`'s events at `address` (the webhook
    /// router's endpoint), with `token` (the endpoint's secret), for `ttl`
    /// ([`capability::NOTIFICATIONS`]). Keep channels alive with
    /// [`notifications::renew`](crate::notifications::renew).
    async fn watch(&self, calendar_id: &str, address: &str, token: &str, ttl: chrono::Duration) -> Result<Channel> {
        let _ = (calendar_id, address, token, ttl);
        Err(self.unsupported("watch"))
    }

    /// Extends `channel` by `ttl` from now, in place, where the provider can (Graph
    /// subscriptions); `Unsupported` where a channel is made anew instead (Google), which
    /// [`notifications::renew`](crate::notifications::renew) then does. A channel the provider
    /// has already let go is `NotFound`.
    async fn renew_watch(&self, channel: &Channel, ttl: chrono::Duration) -> Result<Channel> {
        let _ = (channel, ttl);
        Err(self.unsupported("renew_watch"))
    }

    /// Stops `channel` ([`capability::NOTIFICATIONS`]).
    async fn stop_watching(&self, channel: &Channel) -> Result<()> {
        let _ = channel;
        Err(self.unsupported("stop_watching"))
    }
}
