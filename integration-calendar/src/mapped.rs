//! The calendar operations through a connection's field mappings: what `build` returns when
//! the connection has some. Listings and single reads are mapped and checked; writes are passed
//! through, their answers mapped like reads.

use async_trait::async_trait;
use integration_core::Result;
use integration_core::domain::{ListRequest, Listing, OperationKey, Remote};
use integration_core::mapping::Mapped;

use crate::calendar::Calendar;
use crate::model::{CalendarInfo, Event, FreeBusy};
use crate::notifications::Channel;
use crate::time::Interval;
use crate::vocabulary::AccessRole;

#[async_trait]
impl Calendar for Mapped<dyn Calendar> {
    async fn calendars(&self, request: ListRequest) -> Result<Listing<CalendarInfo>> {
        self.listing("calendars", self.inner().calendars(request).await)
    }

    async fn events(&self, request: ListRequest) -> Result<Listing<Event>> {
        self.listing("events", self.inner().events(request).await)
    }

    async fn events_between(&self, calendar_id: &str, window: &Interval) -> Result<Vec<Remote<Event>>> {
        let events = self.inner().events_between(calendar_id, window).await?;
        events.into_iter().map(|event| self.one("events", Ok(event))).collect()
    }

    async fn event(&self, calendar_id: &str, event_id: &str) -> Result<Remote<Event>> {
        self.one("events", self.inner().event(calendar_id, event_id).await)
    }

    async fn create_event(&self, calendar_id: &str, operation: &OperationKey, event: &Event) -> Result<Remote<Event>> {
        self.one("events", self.inner().create_event(calendar_id, operation, event).await)
    }

    async fn update_event(&self, calendar_id: &str, event_id: &str, event: &Event) -> Result<Remote<Event>> {
        self.one("events", self.inner().update_event(calendar_id, event_id, event).await)
    }

    async fn delete_event(&self, calendar_id: &str, event_id: &str, etag: Option<&str>) -> Result<()> {
        self.inner().delete_event(calendar_id, event_id, etag).await
    }

    async fn free_busy(&self, calendar_ids: &[String], window: &Interval) -> Result<Vec<FreeBusy>> {
        self.inner().free_busy(calendar_ids, window).await
    }

    async fn share(&self, calendar_id: &str, grantee: &str, role: AccessRole) -> Result<()> {
        self.inner().share(calendar_id, grantee, role).await
    }

    async fn unshare(&self, calendar_id: &str, grantee: &str) -> Result<()> {
        self.inner().unshare(calendar_id, grantee).await
    }

    async fn watch(&self, calendar_id: &str, address: &str, token: &str, ttl: chrono::Duration) -> Result<Channel> {
        self.inner().watch(calendar_id, address, token, ttl).await
    }

    async fn stop_watching(&self, channel: &Channel) -> Result<()> {
        self.inner().stop_watching(channel).await
    }
}
