//! Google Calendar, through its API v3
//! (<https://developers.google.com/workspace/calendar/api/v3/reference>):
//!
//! - the HTTP shape — `https://www.googleapis.com/calendar/v3`, OAuth2 (authorization code,
//!   refresh tokens), 600 requests a minute, the error message at `/error/message` — is the
//!   catalog's spec (`integration-core/catalog/google_calendar.toml`);
//! - calendars: `users/me/calendarList`; events per calendar, 2,500 a page (`pageToken`); a
//!   series is one event (`singleEvents=false`) and its changed occurrences events of their own
//!   (`recurringEventId`, `originalStartTime`); ids in records are `{calendarId}/{eventId}` (the
//!   same event may sit in two calendars), and the methods take either form;
//! - changes: each calendar's `nextSyncToken`, sent back as `syncToken` (deletions come as
//!   `status: cancelled`: tombstones); the tokens of all calendars travel as one (JSON) sync
//!   token; `410 Gone` (an expired token) is `ResyncRequired` and the engine reads in full;
//! - writes: inserts with a client-chosen `id` derived from the operation key (base32hex: the
//!   same operation again is `409`, answered with the event made the first time), updates and
//!   deletes with `If-Match` (`412`: `Conflict`; deleting what is gone, `410`, is done);
//! - free/busy: `POST /freeBusy`; sharing: ACL rules (`user:<email>`).
//!
//! Configuration: secrets `client_id`, `client_secret` and (when authorized elsewhere)
//! `refresh_token`; optional `base_url` and `auth_base_url`.

mod wire;

use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::webhook::google_channel;
use integration_core::{IntegrationEvent, VerifiedWebhook, WebhookOutcome};

use crate::notifications::Channel;
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "google_calendar";

/// Events a page.
const PAGE: u32 = 2_500;

/// The Google Calendar adapter for one connection (one Google account).
#[derive(Debug)]
pub struct GoogleCalendar {
    descriptor: Descriptor,
    api: SpecClient,
}

impl Adapter for GoogleCalendar {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::CHANGES, capability::WRITE, capability::SHARING, Capability::HEALTH_CHECK];
        let spec =
            shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Google Calendar spec in the catalog"))?;
        spec.descriptor_builder().streams(crate::streams::descriptors(&capabilities)).capabilities(capabilities).build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let spec =
            shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Google Calendar spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api })
    }
}

/// The event id in a record id (`{calendarId}/{eventId}`) or a plain one.
fn plain(event_id: &str) -> &str {
    event_id.rsplit('/').next().unwrap_or(event_id)
}

impl GoogleCalendar {
    async fn get(&self, path: &str, ids: &[&str], template: &str, query: &[(&str, String)]) -> Result<Value> {
        self.api
            .request_at(Method::GET, path, ids)?
            .path_template(template.to_owned())
            .query(query)
            .read_only()
            .send_json()
            .await
    }

    async fn calendar_ids(&self) -> Result<Vec<String>> {
        let answer = self.get("/users/me/calendarList", &[], "/users/me/calendarList", &[]).await?;
        let mut ids: Vec<String> = answer
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// One page of `calendar`'s events: everything (`token` `None`), or what changed since it.
    async fn page(
        &self,
        calendar: &str,
        page: Option<&str>,
        token: Option<&str>,
        size: u32,
    ) -> Result<(Listing<Event>, Option<String>)> {
        let mut query = vec![("maxResults", size.to_string())];
        match token {
            Some(token) => query.push(("syncToken", token.to_owned())),
            None => query.push(("showDeleted", "false".to_owned())),
        }
        if let Some(page) = page {
            query.push(("pageToken", page.to_owned()));
        }
        let answer = match self.get("/calendars", &[calendar, "events"], "/calendars/{calendarId}/events", &query).await
        {
            Err(e) if e.status() == Some(410) => {
                return Err(Error::resync_required(format!(
                    "Google no longer accepts calendar {calendar}'s sync token: the events are read in full"
                ))
                .with_provider(PROVIDER));
            }
            other => other?,
        };
        let items = answer.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        let decoded = map_each(items, "id", |r| wire::event(r, calendar));
        let next = answer.get("nextPageToken").and_then(Value::as_str).map(str::to_owned);
        let sync = answer.get("nextSyncToken").and_then(Value::as_str).map(str::to_owned);
        Ok((Listing::decoded(decoded, next), sync))
    }
}

#[async_trait]
impl Integration for GoogleCalendar {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let primary = self.get("/calendars", &["primary"], "/calendars/{calendarId}", &[]).await?;
        let id = primary.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(ConnectionInfo::with_account(id.clone(), Some(id)))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.get("/calendars", &["primary"], "/calendars/{calendarId}", &[])).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    /// A channel's notification (verified by the router against the channel's token): no
    /// data, so no record changes; `calendar.events_changed` (with the calendar's id) for a
    /// change — the host answers it with an incremental sync of `events` —, nothing for the
    /// `sync` message that opens a channel.
    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let header = |name: &str| delivery.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let state = header(google_channel::RESOURCE_STATE);
        if state == "sync" {
            return Ok(WebhookOutcome::default());
        }
        let calendar = calendar_of(header(google_channel::RESOURCE_URI));
        let payload = json!({
            "calendar_id": calendar,
            "channel_id": header(google_channel::CHANNEL_ID),
            "state": state,
        });
        Ok(WebhookOutcome::new(Vec::new(), vec![IntegrationEvent::new("calendar.events_changed", payload)]))
    }
}

/// The calendar a watched resource's URI names (`…/calendars/{calendarId}/events…`),
/// percent-decoded.
fn calendar_of(uri: &str) -> Option<String> {
    let rest = uri.split("/calendars/").nth(1)?;
    let encoded = rest.split(['/', '?']).next()?;
    Some(percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned())
}

#[async_trait]
impl Calendar for GoogleCalendar {
    async fn calendars(&self, request: ListRequest) -> Result<Listing<CalendarInfo>> {
        let mut query = vec![];
        if let Some(page) = &request.cursor {
            query.push(("pageToken", page.clone()));
        }
        let answer = self.get("/users/me/calendarList", &[], "/users/me/calendarList", &query).await?;
        let items = answer.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        let next = answer.get("nextPageToken").and_then(Value::as_str).map(str::to_owned);
        Ok(Listing::decoded(map_each(items, "id", wire::calendar), next))
    }

    /// The calendars in turn (sorted by id), each calendar's `nextSyncToken`
    /// gathered on the way.
    async fn events(&self, request: ListRequest) -> Result<Listing<Event>> {
        let calendars = self.calendar_ids().await?;
        let size = request.limit(PAGE);
        crate::in_turn::events(calendars, &request, |calendar, page, token| async move {
            self.page(&calendar, page.as_deref(), token.as_deref(), size).await
        })
        .await
    }

    async fn events_between(&self, calendar_id: &str, window: &Interval) -> Result<Vec<Remote<Event>>> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut query = vec![
                ("timeMin", wire::rfc3339(window.start)),
                ("timeMax", wire::rfc3339(window.end)),
                ("maxResults", PAGE.to_string()),
            ];
            if let Some(page) = &page {
                query.push(("pageToken", page.clone()));
            }
            let answer =
                self.get("/calendars", &[calendar_id, "events"], "/calendars/{calendarId}/events", &query).await?;
            for raw in answer.get("items").and_then(Value::as_array).into_iter().flatten() {
                let event = map_one(raw, "id", |r| wire::event(r, calendar_id))?;
                if !event.remote_was_deleted {
                    out.push(event);
                }
            }
            match answer.get("nextPageToken").and_then(Value::as_str) {
                Some(next) if Some(next) != page.as_deref() => page = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn event(&self, calendar_id: &str, event_id: &str) -> Result<Remote<Event>> {
        let raw = self
            .get(
                "/calendars",
                &[calendar_id, "events", plain(event_id)],
                "/calendars/{calendarId}/events/{eventId}",
                &[],
            )
            .await?;
        map_one(&raw, "id", |r| wire::event(r, calendar_id))
    }

    async fn create_event(&self, calendar_id: &str, operation: &OperationKey, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let id = operation_id(operation)?;
        let body = wire::event_json(event, Some(&id));
        let created = self
            .api
            .request_at(Method::POST, "/calendars", &[calendar_id, "events"])?
            .path_template("/calendars/{calendarId}/events".to_owned())
            .json(&body)
            .idempotent()
            .send_json::<Value>()
            .await;
        match created {
            Ok(raw) => map_one(&raw, "id", |r| wire::event(r, calendar_id)),
            // Made by an earlier attempt whose answer was lost: the same operation's event.
            Err(e) if e.kind() == ErrorKind::Conflict => self.event(calendar_id, &id).await,
            Err(e) => Err(e),
        }
    }

    async fn update_event(&self, calendar_id: &str, event_id: &str, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let id = plain(event_id);
        let mut request = self
            .api
            .request_at(Method::PUT, "/calendars", &[calendar_id, "events", id])?
            .path_template("/calendars/{calendarId}/events/{eventId}".to_owned())
            .json(&wire::event_json(event, None))
            .idempotent();
        if let Some(etag) = &event.etag {
            request = request.header("If-Match", etag);
        }
        match request.send_json::<Value>().await {
            Ok(raw) => map_one(&raw, "id", |r| wire::event(r, calendar_id)),
            Err(e) if e.status() == Some(412) => {
                Err(crate::conditional::stale_update(PROVIDER, event_id, event.etag.as_deref()))
            }
            Err(e) => Err(e),
        }
    }

    async fn delete_event(&self, calendar_id: &str, event_id: &str, etag: Option<&str>) -> Result<()> {
        let mut request = self
            .api
            .request_at(Method::DELETE, "/calendars", &[calendar_id, "events", plain(event_id)])?
            .path_template("/calendars/{calendarId}/events/{eventId}".to_owned())
            .idempotent();
        if let Some(etag) = etag {
            request = request.header("If-Match", etag);
        }
        crate::conditional::deleted(request.send().await, |e| e.status() == Some(412), PROVIDER, event_id)
    }

    /// Google's own free/busy query.
    async fn free_busy(&self, calendar_ids: &[String], window: &Interval) -> Result<Vec<FreeBusy>> {
        let items: Vec<Value> = calendar_ids.iter().map(|id| json!({ "id": id })).collect();
        let body =
            json!({ "timeMin": wire::rfc3339(window.start), "timeMax": wire::rfc3339(window.end), "items": items });
        let answer: Value = self.api.request(Method::POST, "/freeBusy")?.json(&body).read_only().send_json().await?;
        let mut out = Vec::with_capacity(calendar_ids.len());
        for id in calendar_ids {
            // Calendar ids hold dots: looked up as a key, not as a path.
            let entry = answer.get("calendars").and_then(|c| c.get(id)).ok_or_else(|| {
                Error::invalid_response(format!("Google's free/busy answer says nothing of calendar {id}"))
                    .with_provider(PROVIDER)
            })?;
            let calendar = Fields::new(entry);
            if let Some(reason) = calendar.first_of("errors", |e| e.text("reason"))? {
                return Err(Error::new(
                    ErrorKind::Provider,
                    format!("Google could not tell calendar {id}'s free/busy: {reason}"),
                )
                .with_provider(PROVIDER));
            }
            let mut busy = Vec::new();
            for span in calendar.items("busy")? {
                let (start, end) = (span.time("start")?, span.time("end")?);
                if let (Some(start), Some(end)) = (start, end)
                    && start < end
                {
                    busy.push(Interval { start, end });
                }
            }
            out.push(FreeBusy { id: id.clone(), busy: crate::availability::merge(busy) });
        }
        Ok(out)
    }

    async fn share(&self, calendar_id: &str, grantee: &str, role: AccessRole) -> Result<()> {
        let role = match role {
            AccessRole::FreeBusyReader => "freeBusyReader",
            AccessRole::Reader => "reader",
            AccessRole::Writer => "writer",
            AccessRole::Owner => "owner",
            AccessRole::Other(other) => {
                return Err(Error::validation("role", format!("{other:?} is not a Google Calendar role")));
            }
        };
        let body = json!({ "role": role, "scope": { "type": "user", "value": grantee } });
        self.api
            .request_at(Method::POST, "/calendars", &[calendar_id, "acl"])?
            .path_template("/calendars/{calendarId}/acl".to_owned())
            .json(&body)
            .idempotent()
            .send()
            .await
            .map(drop)
    }

    /// `POST /calendars/{calendarId}/events/watch`: a `web_hook` channel to `address` with
    /// `token`, for `ttl`.
    async fn watch(&self, calendar_id: &str, address: &str, token: &str, ttl: chrono::Duration) -> Result<Channel> {
        let id = crate::notifications::channel_id(calendar_id, Utc::now())?;
        let body = json!({
            "id": id, "type": "web_hook", "address": address, "token": token,
            "params": { "ttl": ttl.num_seconds().max(1).to_string() },
        });
        let answer: Value = self
            .api
            .request_at(Method::POST, "/calendars", &[calendar_id, "events", "watch"])?
            .path_template("/calendars/{calendarId}/events/watch".to_owned())
            .json(&body)
            .send_json()
            .await?;
        let fields = Fields::new(&answer);
        let expires_at = fields.parse("expiration", |t| {
            t.parse::<i64>().map(DateTime::from_timestamp_millis).map_err(|_| format!("{t:?} is not milliseconds"))
        })?;
        Ok(Channel {
            id: fields.id("id")?,
            resource_id: fields.required_text("resourceId")?,
            calendar_id: calendar_id.to_owned(),
            expires_at,
        })
    }

    /// `POST /channels/stop`.
    async fn stop_watching(&self, channel: &Channel) -> Result<()> {
        let body = json!({ "id": channel.id, "resourceId": channel.resource_id });
        gone_is_done(self.api.request(Method::POST, "/channels/stop")?.json(&body).idempotent().send().await)
    }

    async fn unshare(&self, calendar_id: &str, grantee: &str) -> Result<()> {
        let rule = format!("user:{grantee}");
        let answer = self
            .api
            .request_at(Method::DELETE, "/calendars", &[calendar_id, "acl", &rule])?
            .path_template("/calendars/{calendarId}/acl/{ruleId}".to_owned())
            .idempotent()
            .send()
            .await;
        gone_is_done(answer)
    }
}

/// A base32hex event id for `operation`: a SHA-256 digest in lowercase hex (`0-9a-f` are
/// base32hex digits). The space in the key makes it always a digest.
fn operation_id(operation: &OperationKey) -> Result<String> {
    Ok(OperationKey::new(format!("google event {}", operation.as_str()))?.for_provider(64))
}
