//! Microsoft Outlook calendars through Microsoft Graph v1.0
//! (<https://learn.microsoft.com/en-us/graph/api/resources/calendar-overview>):
//!
//! - the HTTP shape — `https://graph.microsoft.com/v1.0`, OAuth2 through Microsoft Entra ID
//!   (authorization code, refresh tokens, the `tenant` setting), Outlook's 10,000 requests per
//!   10 minutes, the error message at `/error/message` — is the catalog's spec
//!   (`integration-core/catalog/microsoft_calendar.toml`);
//! - calendars: `me/calendars` (`@odata.nextLink` paging); events per calendar. Graph keeps a
//!   series as one event (`seriesMaster`, its `recurrence` a `patternedRecurrence`, read and
//!   written as an `RRULE`) and hands out its occurrences and exceptions as events of their
//!   own (`seriesMasterId`, `originalStart`). Record ids are Graph's event ids (unique in the
//!   mailbox); the calendar travels in the event;
//! - changes: each calendar's `calendarView/delta` over a window around the first sync
//!   (settings `sync_past_days`, default 30, and `sync_future_days`, default 365): single events,
//!   occurrences and exceptions; removals as `@removed` tombstones. The `@odata.deltaLink`s of
//!   all calendars travel as one (JSON) sync token; an expired one (`410`,
//!   `syncStateNotFound`) is `ResyncRequired` and the engine reads in full. The window is fixed
//!   by the first request of a round: a full sync moves it;
//! - [`events_between`](Calendar::events_between): the `calendarView` of the window, each
//!   series once (its master read), its exceptions inside it, and the occurrences the window
//!   misses (deleted ones) as excluded dates — what expanding it must give;
//! - writes: creates carry a `transactionId` derived from the operation key (Graph answers the
//!   same operation again with the event made the first time), updates (`PATCH`) and deletes
//!   `If-Match` the event's `@odata.etag` (`412`: `Conflict`; deleting what is gone is done).
//!   A series is written with one rule and no `RDATE`/`EXDATE` (Graph has none: delete an
//!   occurrence after the series is made); times in a zone go as its Windows name
//!   ([`windows_zones`](crate::windows_zones));
//! - free/busy: a person (an id with `@`) through `calendar/getSchedule`; a calendar of the
//!   account through its `calendarView`. Sharing: `calendarPermissions` (`freeBusyRead`, `read`,
//!   `write`, or a delegate role by name);
//! - notifications: subscriptions (`POST /subscriptions` on `me/calendars/{id}/events`, at
//!   most 10,080 minutes, the endpoint's secret as `clientState`), renewed in place by
//!   `PATCH` ([`Calendar::renew_watch`]); Graph first checks the endpoint with a
//!   `validationToken` the webhook router echoes.
//!
//! Configuration: secrets `client_id`, `client_secret` and (when authorized elsewhere)
//! `refresh_token`; settings `tenant` (default `common`), optional `base_url` and
//! `auth_base_url`, `sync_past_days`, `sync_future_days`.

mod pattern;
mod wire;

use std::collections::BTreeMap;

use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{IntegrationEvent, VerifiedWebhook, WebhookOutcome};

use crate::notifications::Channel;
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "microsoft_calendar";

/// Events a page (Graph's `odata.maxpagesize`).
const PAGE: u32 = 200;

/// The longest a subscription to Outlook events lives: 10,080 minutes.
const MAX_SUBSCRIPTION: i64 = 10_080;

/// The Microsoft Graph calendar adapter for one connection (one mailbox).
#[derive(Debug)]
pub struct MicrosoftCalendar {
    descriptor: Descriptor,
    api: SpecClient,
    /// Days before and after the first sync that its calendar view spans.
    window: (i64, i64),
}

impl Adapter for MicrosoftCalendar {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::CHANGES,
            capability::WRITE,
            capability::SHARING,
            capability::NOTIFICATIONS,
            Capability::HEALTH_CHECK,
        ];
        let spec =
            shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Microsoft calendar spec in the catalog"))?;
        spec.descriptor_builder().streams(crate::streams::descriptors(&capabilities)).capabilities(capabilities).build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let spec =
            shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Microsoft calendar spec in the catalog"))?;
        let days = |key: &str, default: &str| {
            config.setting_or(key, default).parse::<i64>().ok().filter(|d| (0..=3_650).contains(d)).ok_or_else(|| {
                Error::config(format!("{key} is a number of days from 0 to 3650")).with_field(key.to_owned())
            })
        };
        let window = (days("sync_past_days", "30")?, days("sync_future_days", "365")?);
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, window })
    }
}

/// Whether a Graph error says a delta link is no longer good.
fn expired_delta(error: &Error) -> bool {
    error.status() == Some(410)
        || ["syncStateNotFound", "SyncStateNotFound", "resyncRequired", "syncStateInvalid"]
            .iter()
            .any(|code| error.body().is_some_and(|b| b.contains(code)))
}

fn stale(error: &Error) -> bool {
    error.status() == Some(412)
        || (error.status() == Some(409) && error.body().is_some_and(|b| b.contains("ErrorIrresolvableConflict")))
}

fn items(answer: &Value) -> Vec<Value> {
    answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn text_at(answer: &Value, key: &str) -> Option<String> {
    answer.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl MicrosoftCalendar {
    /// A GET of `path` (or a next / delta link) with times asked for in UTC.
    async fn get(&self, path: &str, ids: &[&str], template: &str, query: &[(&str, String)]) -> Result<Value> {
        let request = if path.contains("://") {
            self.api.request(Method::GET, path)?
        } else {
            self.api.request_at(Method::GET, path, ids)?.query(query)
        };
        request
            .header("Prefer", &format!("outlook.timezone=\"UTC\", odata.maxpagesize={PAGE}"))
            .path_template(template.to_owned())
            .read_only()
            .send_json()
            .await
    }

    /// Every page of a listing, following `@odata.nextLink`.
    async fn all(&self, path: &str, ids: &[&str], template: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut answer = self.get(path, ids, template, query).await?;
        let mut seen = std::collections::BTreeSet::new();
        loop {
            out.extend(items(&answer));
            match text_at(&answer, "@odata.nextLink") {
                Some(next) if seen.insert(next.clone()) => answer = self.get(&next, &[], template, &[]).await?,
                _ => return Ok(out),
            }
        }
    }

    async fn calendar_ids(&self) -> Result<Vec<String>> {
        let calendars = self.all("/me/calendars", &[], "/me/calendars", &[]).await?;
        Ok(calendars.iter().filter_map(|c| text_at(c, "id")).collect())
    }

    /// One page of `calendar`'s delta round: its first (`page` `None`, from `token` or a new
    /// round), or the next link `page`.
    async fn page(
        &self,
        calendar: &str,
        page: Option<&str>,
        token: Option<&str>,
    ) -> Result<(Listing<Event>, Option<String>)> {
        let template = "/me/calendars/{id}/calendarView/delta";
        let answer = match (page, token) {
            (Some(link), _) | (None, Some(link)) => self.get(link, &[], template, &[]).await,
            (None, None) => {
                let now = Utc::now();
                let query = [
                    ("startDateTime", wire::iso(now - chrono::Duration::days(self.window.0))),
                    ("endDateTime", wire::iso(now + chrono::Duration::days(self.window.1))),
                ];
                self.get("/me/calendars", &[calendar, "calendarView", "delta"], template, &query).await
            }
        };
        let answer = match answer {
            Err(e) if token.is_some() && page.is_none() && expired_delta(&e) => {
                return Err(Error::resync_required(format!(
                    "Graph no longer accepts calendar {calendar}'s delta link: the events are read in full"
                ))
                .with_provider(PROVIDER));
            }
            other => other?,
        };
        let decoded = map_each(items(&answer), "id", |r| wire::event(r, calendar));
        Ok((Listing::decoded(decoded, text_at(&answer, "@odata.nextLink")), text_at(&answer, "@odata.deltaLink")))
    }

    /// The event at `id` of `calendar` (`/me/calendars/{calendar}/events/{id}`) for `method`.
    fn at(&self, method: Method, calendar: &str, id: &str) -> Result<integration_core::http::Request<'_>> {
        Ok(self
            .api
            .request_at(method, "/me/calendars", &[calendar, "events", id])?
            .path_template("/me/calendars/{id}/events/{id}".to_owned()))
    }

    /// A calendar's permissions.
    async fn permissions(&self, calendar: &str) -> Result<Vec<Value>> {
        self.all("/me/calendars", &[calendar, "calendarPermissions"], "/me/calendars/{id}/calendarPermissions", &[])
            .await
    }
}

#[async_trait]
impl Integration for MicrosoftCalendar {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let me = self.get("/me", &[], "/me", &[]).await?;
        let id = text_at(&me, "id").unwrap_or_default();
        let name = text_at(&me, "mail").or_else(|| text_at(&me, "userPrincipalName"));
        Ok(ConnectionInfo::with_account(id, name))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.get("/me/calendar", &[], "/me/calendar", &[])).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    /// A change notification (its `clientState` verified by the router): no event data, so no
    /// record changes; one `calendar.events_changed` per notification, naming the
    /// subscription (`channel_id`: the [`Channel`] whose calendar to sync), the event and the
    /// change.
    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let body: Value = serde_json::from_slice(delivery.body()).map_err(|e| {
            Error::invalid_response(format!("a Graph notification that is not JSON: {e}")).with_provider(PROVIDER)
        })?;
        let mut events = Vec::new();
        for note in body.get("value").and_then(Value::as_array).into_iter().flatten() {
            let payload = json!({
                "channel_id": note.get("subscriptionId"),
                "calendar_id": Value::Null,
                "event_id": note.pointer("/resourceData/id"),
                "change": note.get("changeType"),
            });
            events.push(IntegrationEvent::new("calendar.events_changed", payload));
        }
        Ok(WebhookOutcome::new(Vec::new(), events))
    }
}

#[async_trait]
impl Calendar for MicrosoftCalendar {
    async fn calendars(&self, request: ListRequest) -> Result<Listing<CalendarInfo>> {
        let answer = match &request.cursor {
            Some(link) => self.get(link, &[], "/me/calendars", &[]).await?,
            None => self.get("/me/calendars", &[], "/me/calendars", &[]).await?,
        };
        Ok(Listing::decoded(map_each(items(&answer), "id", wire::calendar), text_at(&answer, "@odata.nextLink")))
    }

    /// The calendars in turn (sorted by id), each calendar's delta link
    /// gathered on the way.
    async fn events(&self, request: ListRequest) -> Result<Listing<Event>> {
        let calendars = self.calendar_ids().await?;
        crate::in_turn::events(calendars, &request, |calendar, page, token| async move {
            self.page(&calendar, page.as_deref(), token.as_deref()).await
        })
        .await
    }

    async fn events_between(&self, calendar_id: &str, window: &Interval) -> Result<Vec<Remote<Event>>> {
        let query = [("startDateTime", wire::iso(window.start)), ("endDateTime", wire::iso(window.end))];
        let template = "/me/calendars/{id}/calendarView";
        let raws = self.all("/me/calendars", &[calendar_id, "calendarView"], template, &query).await?;
        let mut out = Vec::new();
        // Series master id → the original starts of its instances in the window, its exceptions.
        let mut series: BTreeMap<String, (Vec<DateTime<Utc>>, Vec<Event>)> = BTreeMap::new();
        for raw in &raws {
            let event = map_one(raw, "id", |r| wire::event(r, calendar_id))?;
            let Some(master) = event.fields.recurring_event_id.clone() else {
                out.push(event);
                continue;
            };
            let entry = series.entry(master).or_default();
            if let Some(original) = &event.fields.original_start {
                entry.0.push(original.instant(chrono_tz::UTC)?);
            }
            if raw.get("type").and_then(Value::as_str) == Some("exception") {
                entry.1.push(event.fields);
            }
        }
        for (master, (seen, exceptions)) in series {
            let mut event = self.event(calendar_id, &master).await?;
            // Occurrences of the rule the window should hold but Graph does not list: deleted.
            let expected: Vec<EventTime> =
                match crate::recurrence::expand(&event.fields, window, chrono_tz::UTC, 10_000) {
                    Ok(expansion) => expansion
                        .occurrences
                        .iter()
                        .filter_map(|o| o.recurrence_id.clone())
                        .filter(|original| original.instant(chrono_tz::UTC).is_ok_and(|at| !seen.contains(&at)))
                        .collect(),
                    Err(e) => {
                        tracing::warn!(event = %master, error = %e, "a Graph series could not be expanded");
                        Vec::new()
                    }
                };
            if let Some(recurrence) = event.fields.recurrence.as_mut() {
                recurrence.exceptions.extend(expected);
            }
            event.fields.exceptions = exceptions;
            out.push(event);
        }
        Ok(out)
    }

    async fn event(&self, calendar_id: &str, event_id: &str) -> Result<Remote<Event>> {
        let raw: Value = self
            .at(Method::GET, calendar_id, event_id)?
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .read_only()
            .send_json()
            .await?;
        map_one(&raw, "id", |r| wire::event(r, calendar_id))
    }

    async fn create_event(&self, calendar_id: &str, operation: &OperationKey, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let transaction = OperationKey::new(format!("graph event {}", operation.as_str()))?.for_provider(64);
        let body = wire::event_json(event, Some(&transaction)).map_err(|e| e.with_provider(PROVIDER))?;
        let raw: Value = self
            .api
            .request_at(Method::POST, "/me/calendars", &[calendar_id, "events"])?
            .path_template("/me/calendars/{id}/events".to_owned())
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .json(&body)
            .idempotent()
            .send_json()
            .await?;
        map_one(&raw, "id", |r| wire::event(r, calendar_id))
    }

    async fn update_event(&self, calendar_id: &str, event_id: &str, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::event_json(event, None).map_err(|e| e.with_provider(PROVIDER))?;
        let mut request = self
            .at(Method::PATCH, calendar_id, event_id)?
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .json(&body)
            .idempotent();
        if let Some(etag) = &event.etag {
            request = request.header("If-Match", etag);
        }
        match request.send_json::<Value>().await {
            Ok(raw) => map_one(&raw, "id", |r| wire::event(r, calendar_id)),
            Err(e) if stale(&e) => Err(crate::conditional::stale_update(PROVIDER, event_id, event.etag.as_deref())),
            Err(e) => Err(e),
        }
    }

    async fn delete_event(&self, calendar_id: &str, event_id: &str, etag: Option<&str>) -> Result<()> {
        let mut request = self.at(Method::DELETE, calendar_id, event_id)?.idempotent();
        if let Some(etag) = etag {
            request = request.header("If-Match", etag);
        }
        crate::conditional::deleted(request.send().await, stale, PROVIDER, event_id)
    }

    /// People (ids with `@`) through Graph's `getSchedule`; calendars of the account through
    /// their calendar view.
    async fn free_busy(&self, calendar_ids: &[String], window: &Interval) -> Result<Vec<FreeBusy>> {
        let people: Vec<&String> = calendar_ids.iter().filter(|id| id.contains('@')).collect();
        let mut schedules = BTreeMap::new();
        if !people.is_empty() {
            let at =
                |t: DateTime<Utc>| json!({ "dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" });
            let body = json!({ "schedules": people, "startTime": at(window.start), "endTime": at(window.end),
                               "availabilityViewInterval": 15 });
            let answer: Value = self
                .api
                .request(Method::POST, "/me/calendar/getSchedule")?
                .path_template("/me/calendar/getSchedule".to_owned())
                .header("Prefer", "outlook.timezone=\"UTC\"")
                .json(&body)
                .read_only()
                .send_json()
                .await?;
            for schedule in items(&answer) {
                let fields = Fields::new(&schedule);
                let id = fields.required_text("scheduleId")?;
                if let Some(reason) = fields.text("error.message")? {
                    return Err(Error::new(
                        ErrorKind::Provider,
                        format!("Graph could not tell {id}'s free/busy: {reason}"),
                    )
                    .with_provider(PROVIDER));
                }
                let mut busy = Vec::new();
                for item in fields.items("scheduleItems")? {
                    if !matches!(item.text("status")?.as_deref(), Some("busy" | "tentative" | "oof")) {
                        continue;
                    }
                    let instant = |path: &str| -> Result<Option<DateTime<Utc>>> {
                        let Some(text) = item.text(&format!("{path}.dateTime"))? else { return Ok(None) };
                        let zone = item.text(&format!("{path}.timeZone"))?.unwrap_or_else(|| "UTC".into());
                        let tz = wire::zone_of(&zone).map_or(chrono_tz::UTC, |(tz, _)| tz);
                        let local =
                            chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
                                Error::validation(format!("{path}.dateTime"), format!("{text:?} is not a date-time"))
                            })?;
                        Ok(chrono::TimeZone::from_local_datetime(&tz, &local).earliest().map(|t| t.to_utc()))
                    };
                    if let (Some(start), Some(end)) = (instant("start")?, instant("end")?) {
                        let (start, end) = (start.max(window.start), end.min(window.end));
                        if start < end {
                            busy.push(Interval { start, end });
                        }
                    }
                }
                schedules.insert(id.to_lowercase(), crate::availability::merge(busy));
            }
        }
        let mut out = Vec::with_capacity(calendar_ids.len());
        for id in calendar_ids {
            let busy = if id.contains('@') {
                schedules.get(&id.to_lowercase()).cloned().ok_or_else(|| {
                    Error::invalid_response(format!("Graph's schedule answer says nothing of {id}"))
                        .with_provider(PROVIDER)
                })?
            } else {
                let events = self.events_between(id, window).await?;
                crate::availability::busy_of(events.iter().map(|e| &e.fields), window, chrono_tz::UTC)?
            };
            out.push(FreeBusy { id: id.clone(), busy });
        }
        Ok(out)
    }

    /// A `calendarPermission` for `grantee`: made, or its role changed when it has one.
    async fn share(&self, calendar_id: &str, grantee: &str, role: AccessRole) -> Result<()> {
        let role = match role {
            AccessRole::FreeBusyReader => "freeBusyRead",
            AccessRole::Reader => "read",
            AccessRole::Writer => "write",
            AccessRole::Owner => {
                return Err(Error::validation(
                    "role",
                    "Graph makes nobody else a calendar's owner: share as a delegate (Other(\"delegateWithPrivateEventAccess\"))",
                ));
            }
            AccessRole::Other(other) => match other.as_str() {
                "limitedRead" | "delegateWithoutPrivateEventAccess" | "delegateWithPrivateEventAccess" => {
                    return self.grant(calendar_id, grantee, &other).await;
                }
                _ => return Err(Error::validation("role", format!("{other:?} is not a Graph calendar role"))),
            },
        };
        self.grant(calendar_id, grantee, role).await
    }

    async fn unshare(&self, calendar_id: &str, grantee: &str) -> Result<()> {
        let Some(id) = self.permission_of(calendar_id, grantee).await? else { return Ok(()) };
        let answer = self
            .api
            .request_at(Method::DELETE, "/me/calendars", &[calendar_id, "calendarPermissions", &id])?
            .path_template("/me/calendars/{id}/calendarPermissions/{id}".to_owned())
            .idempotent()
            .send()
            .await;
        gone_is_done(answer)
    }

    /// `POST /subscriptions` on the calendar's events: created, updated and deleted ones, to
    /// `address`, with `token` as the `clientState`, for `ttl` (at most 10,080 minutes).
    async fn watch(&self, calendar_id: &str, address: &str, token: &str, ttl: chrono::Duration) -> Result<Channel> {
        let expires = Utc::now() + ttl.min(chrono::Duration::minutes(MAX_SUBSCRIPTION - 1));
        let resource = format!("me/calendars/{calendar_id}/events");
        let body = json!({
            "changeType": "created,updated,deleted", "notificationUrl": address, "resource": resource,
            "expirationDateTime": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "clientState": token,
        });
        let answer: Value = self
            .api
            .request(Method::POST, "/subscriptions")?
            .path_template("/subscriptions".to_owned())
            .json(&body)
            .send_json()
            .await?;
        let fields = Fields::new(&answer);
        Ok(Channel {
            id: fields.id("id")?,
            resource_id: fields.text("resource")?.unwrap_or(resource),
            calendar_id: calendar_id.to_owned(),
            expires_at: fields.time("expirationDateTime")?,
        })
    }

    /// `PATCH /subscriptions/{id}` with a later `expirationDateTime`.
    async fn renew_watch(&self, channel: &Channel, ttl: chrono::Duration) -> Result<Channel> {
        let expires = Utc::now() + ttl.min(chrono::Duration::minutes(MAX_SUBSCRIPTION - 1));
        let body = json!({ "expirationDateTime": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) });
        let answer: Value = self
            .api
            .request_at(Method::PATCH, "/subscriptions", &[&channel.id])?
            .path_template("/subscriptions/{id}".to_owned())
            .json(&body)
            .idempotent()
            .send_json()
            .await?;
        let mut renewed = channel.clone();
        renewed.expires_at = Fields::new(&answer).time("expirationDateTime")?.or(Some(expires));
        Ok(renewed)
    }

    /// `DELETE /subscriptions/{id}`.
    async fn stop_watching(&self, channel: &Channel) -> Result<()> {
        let answer = self
            .api
            .request_at(Method::DELETE, "/subscriptions", &[&channel.id])?
            .path_template("/subscriptions/{id}".to_owned())
            .idempotent()
            .send()
            .await;
        gone_is_done(answer)
    }
}

impl MicrosoftCalendar {
    /// The id of `grantee`'s permission on `calendar`, if any.
    async fn permission_of(&self, calendar: &str, grantee: &str) -> Result<Option<String>> {
        let permissions = self.permissions(calendar).await?;
        Ok(permissions
            .iter()
            .find(|p| {
                p.pointer("/emailAddress/address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case(grantee))
            })
            .and_then(|p| text_at(p, "id")))
    }

    async fn grant(&self, calendar: &str, grantee: &str, role: &str) -> Result<()> {
        let request = match self.permission_of(calendar, grantee).await? {
            Some(id) => self
                .api
                .request_at(Method::PATCH, "/me/calendars", &[calendar, "calendarPermissions", &id])?
                .path_template("/me/calendars/{id}/calendarPermissions/{id}".to_owned())
                .json(&json!({ "role": role })),
            None => self
                .api
                .request_at(Method::POST, "/me/calendars", &[calendar, "calendarPermissions"])?
                .path_template("/me/calendars/{id}/calendarPermissions".to_owned())
                .json(&json!({ "emailAddress": { "address": grantee }, "role": role,
                               "isInsideOrganization": true, "isRemovable": true })),
        };
        request.idempotent().send().await.map(drop)
    }
}
