//! [`FakeGoogleCalendar`]: Google Calendar API v3 on loopback, following its reference
//! (<https://developers.google.com/workspace/calendar/api/v3/reference>) and its guide to
//! synchronizing resources efficiently.
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `GET /calendar/v3/users/me/calendarList` | the account's calendars (`primary` first), with `accessRole` and `timeZone` |
//! | `GET /calendar/v3/calendars/{calendarId}` | one calendar (the credential check) |
//! | `GET /calendar/v3/calendars/{calendarId}/events` | `maxResults` (≤ 2500, default 250) and `pageToken`; `timeMin`/`timeMax` (events overlapping, a series once); `syncToken`: what changed since, deletions as `{"id", "status": "cancelled"}`; the last page carries `nextSyncToken`; an expired token is `410` `fullSyncRequired`; `syncToken` with `timeMin` is `400` |
//! | `POST …/events` | insert; a client `id` must be base32hex (`a-v`, `0-9`), 5–1024 characters (`400` `invalid`), and unique (`409` `duplicate`) |
//! | `GET`, `PUT`, `DELETE …/events/{eventId}` | read, replace, delete; `If-Match` with a stale ETag is `412` `conditionNotMet`; a deleted event is `410` `deleted` to `DELETE` and `404` to `GET` |
//! | `POST /calendar/v3/freeBusy` | busy spans per calendar in `[timeMin, timeMax)`: opaque, not cancelled; a series' occurrences expanded from its `recurrence` |
//! | `POST`, `DELETE /calendar/v3/calendars/{calendarId}/acl[/{ruleId}]` | sharing: rules `user:<email>` with a role |
//! | `POST /calendar/v3/calendars/{calendarId}/events/watch`, `POST /calendar/v3/channels/stop` | push channels: a `web_hook` to an `https` address with a token and a `ttl`; a `sync` message when made, then one per change to the calendar's events (`X-Goog-Channel-Token`, `-ID`, `X-Goog-Message-Number`, `X-Goog-Resource-State: exists`, `-URI`), collected by [`FakeGoogleCalendar::take_notifications`]; none after it expires or stops |
//! | `POST /token` | OAuth2 refresh-token grant (client in the body), access tokens lasting an hour |
//!
//! Errors are Google's JSON (`{"error": {"errors": [{"domain", "reason", "message"}], "code",
//! "message"}}`); every API call needs a live bearer token (`401` `authError` otherwise).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use integration_core::{ConnectionId, Domain, IntegrationConfig, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, OAuthClient, TokenIssuer, oauth_config};
use super::faults::Faults;
use super::server::FakeServer;

/// The OAuth2 client id the fake's token endpoint accepts.
pub const CLIENT_ID: &str = "1234567890-fake.apps.googleusercontent.com";
/// The OAuth2 client secret.
pub const CLIENT_SECRET: &str = "GOCSPX-fake-google-client-secret";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "1//0fake-google-refresh-token";
/// The account's primary calendar (its email).
pub const PRIMARY: &str = "ada@example.com";

/// One event as the fake keeps it: its JSON, the change sequence it was last written at, and
/// whether it is deleted.
#[derive(Debug, Clone)]
struct Stored {
    json: Value,
    changed: u64,
    deleted: bool,
}

/// A calendar: its calendarList entry, its events by id, its ACL rules (rule id → role).
type Held = (Value, BTreeMap<String, Stored>, BTreeMap<String, String>);

/// A push channel.
#[derive(Debug, Clone)]
struct Channel {
    id: String,
    resource_id: String,
    calendar: String,
    address: String,
    token: String,
    expires: DateTime<Utc>,
    number: u64,
}

#[derive(Debug, Default)]
struct Books {
    /// Calendar id → the calendar.
    calendars: BTreeMap<String, Held>,
    channels: Vec<Channel>,
    /// Notifications sent: the address and the headers.
    outbox: Vec<(String, HeaderMap)>,
    sequence: u64,
    /// Sync tokens below this sequence are expired.
    oldest_token: u64,
}

#[derive(Debug, Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    api: FakeApi,
    issuer: TokenIssuer,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn resource_uri(calendar: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(calendar.as_bytes()).collect();
    format!("https://www.googleapis.com/calendar/v3/calendars/{encoded}/events?alt=json")
}

impl Books {
    /// Sends `state` on every live channel of `calendar`.
    fn notify(&mut self, calendar: &str, state: &str) {
        let now = Utc::now();
        let mut sent = Vec::new();
        for channel in self.channels.iter_mut().filter(|c| c.calendar == calendar && c.expires > now) {
            channel.number += 1;
            let token = integration_core::webhook::WebhookSecret::new(channel.token.clone());
            let headers = integration_core::webhook::google_channel::headers(
                &token,
                &channel.id,
                channel.number,
                state,
                &resource_uri(calendar),
            );
            sent.push((channel.address.clone(), headers));
        }
        self.outbox.extend(sent);
    }
}

/// A running Google Calendar fake.
#[derive(Debug)]
pub struct FakeGoogleCalendar {
    server: FakeServer,
    shared: Shared,
}

/// Google's error answer.
fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"errors": [{"domain": "global", "reason": reason, "message": message}],
                                "code": status.as_u16(), "message": message}});
    (status, Json(body)).into_response()
}

fn calendar_entry(id: &str, summary: &str, zone: &str, role: &str, primary: bool) -> Value {
    json!({"kind": "calendar#calendarListEntry", "etag": "\"1\"", "id": id, "summary": summary, "timeZone": zone,
           "accessRole": role, "primary": primary, "backgroundColor": "#9fe1e7"})
}

impl FakeGoogleCalendar {
    /// Starts the fake with two calendars: the primary one ([`PRIMARY`], Europe/Berlin, owner)
    /// and `team@group.calendar.google.com` (America/New_York, writer), both empty.
    pub async fn start() -> Self {
        let mut books = Books::default();
        for (id, summary, zone, role, primary) in [
            (PRIMARY, "Ada", "Europe/Berlin", "owner", true),
            ("team@group.calendar.google.com", "Team", "America/New_York", "writer", false),
        ] {
            books.calendars.insert(
                id.to_owned(),
                (calendar_entry(id, summary, zone, role, primary), BTreeMap::new(), BTreeMap::new()),
            );
        }
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .minting(|| format!("ya29.fake-google-at.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone()))
            .unauthorized(|_| error(StatusCode::UNAUTHORIZED, "authError", "Invalid Credentials"));
        let shared = Shared { books: Arc::new(Mutex::new(books)), api: api.clone(), issuer };
        let routes = axum::Router::new()
            .route("/users/me/calendarList", get(calendar_list))
            .route("/calendars/{calendar}", get(calendar_get))
            .route("/calendars/{calendar}/events", get(events_list).post(event_insert))
            .route("/calendars/{calendar}/events/{event}", get(event_get).put(event_put).delete(event_delete))
            .route("/calendars/{calendar}/acl", post(acl_insert))
            .route("/calendars/{calendar}/acl/{rule}", delete(acl_delete))
            .route("/freeBusy", post(free_busy))
            .route("/calendars/{calendar}/events/watch", post(watch))
            .route("/channels/stop", post(stop));
        let app = axum::Router::new()
            .nest("/calendar/v3", api.guard(routes))
            .route("/token", post(token))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "notFound", "Not Found") })
            .with_state(shared.clone());
        Self { server: FakeServer::start(app).await, shared }
    }

    /// `http://127.0.0.1:<port>`: the API host and the token host.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A connection's configuration pointing at this fake, with the app's client and the
    /// refresh token.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        let client = OAuthClient { id: CLIENT_ID, secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN };
        let urls = (format!("{}/calendar/v3", self.base_url()), self.base_url());
        oauth_config((tenant, connection), (Domain::Calendar, "google_calendar"), urls, client)
    }

    /// Adds or replaces event `json` (with its `id`) in `calendar`, as another client would.
    pub fn put_event(&self, calendar: &str, json: Value) {
        let mut books = self.shared.lock();
        books.sequence += 1;
        let sequence = books.sequence;
        if let Some((_, events, _)) = books.calendars.get_mut(calendar) {
            let mut json = json;
            json["etag"] = json!(format!("\"{sequence}\""));
            json["updated"] = json!(Utc::now().to_rfc3339());
            let id = json["id"].as_str().unwrap_or_default().to_owned();
            events.insert(id, Stored { json, changed: sequence, deleted: false });
        }
        books.notify(calendar, "exists");
    }

    /// Deletes event `id` of `calendar`, as another client would.
    pub fn delete_event(&self, calendar: &str, id: &str) {
        let mut books = self.shared.lock();
        books.sequence += 1;
        let sequence = books.sequence;
        if let Some(stored) = books.calendars.get_mut(calendar).and_then(|(_, events, _)| events.get_mut(id)) {
            (stored.deleted, stored.changed) = (true, sequence);
        }
        books.notify(calendar, "exists");
    }

    /// The notifications sent since the last call: each channel's address and headers.
    pub fn take_notifications(&self) -> Vec<(String, HeaderMap)> {
        std::mem::take(&mut self.shared.lock().outbox)
    }

    /// Makes every channel expire now: they send nothing more.
    pub fn expire_channels(&self) {
        let past = Utc::now() - chrono::Duration::seconds(1);
        self.shared.lock().channels.iter_mut().for_each(|c| c.expires = past);
    }

    /// The live channels: (id, calendar).
    pub fn channels(&self) -> Vec<(String, String)> {
        let now = Utc::now();
        self.shared
            .lock()
            .channels
            .iter()
            .filter(|c| c.expires > now)
            .map(|c| (c.id.clone(), c.calendar.clone()))
            .collect()
    }

    /// Makes every sync token given so far expire: the next incremental listing is `410`.
    pub fn expire_sync_tokens(&self) {
        let mut books = self.shared.lock();
        books.oldest_token = books.sequence + 1;
    }

    /// The live events of `calendar` (their ids).
    pub fn event_ids(&self, calendar: &str) -> Vec<String> {
        let books = self.shared.lock();
        books.calendars.get(calendar).map_or_else(Vec::new, |(_, events, _)| {
            events.iter().filter(|(_, s)| !s.deleted).map(|(id, _)| id.clone()).collect()
        })
    }

    /// The ACL of `calendar`: rule id → role.
    pub fn acl(&self, calendar: &str) -> BTreeMap<String, String> {
        self.shared.lock().calendars.get(calendar).map(|(_, _, acl)| acl.clone()).unwrap_or_default()
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

async fn calendar_list(State(shared): State<Shared>) -> Response {
    let books = shared.lock();
    let items: Vec<Value> = books.calendars.values().map(|(entry, _, _)| entry.clone()).collect();
    Json(json!({"kind": "calendar#calendarList", "etag": "\"1\"", "items": items})).into_response()
}

async fn calendar_get(State(shared): State<Shared>, Path(calendar): Path<String>) -> Response {
    let books = shared.lock();
    let id = if calendar == "primary" { PRIMARY } else { calendar.as_str() };
    match books.calendars.get(id) {
        Some((entry, _, _)) => Json(json!({"kind": "calendar#calendar", "id": id, "summary": entry["summary"],
                                           "timeZone": entry["timeZone"]}))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "notFound", "Not Found"),
    }
}

fn resolve(calendar: &str) -> &str {
    if calendar == "primary" { PRIMARY } else { calendar }
}

/// An event's `start` or `end` as an instant (a date at UTC midnight).
fn instant(time: &Value) -> Option<DateTime<Utc>> {
    if let Some(at) = time.get("dateTime").and_then(Value::as_str) {
        return DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(time.get("date")?.as_str()?, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Whether an event (or, for a series, any occurrence until its `UNTIL`/`COUNT` is unknown:
/// any time after its start) overlaps `[min, max)`.
fn overlaps(json: &Value, min: Option<DateTime<Utc>>, max: Option<DateTime<Utc>>) -> bool {
    let (Some(start), Some(end)) = (instant(&json["start"]), instant(&json["end"])) else { return false };
    let series = json.get("recurrence").is_some();
    let ends_after_min = min.is_none_or(|min| series || end > min);
    let starts_before_max = max.is_none_or(|max| start < max);
    ends_after_min && starts_before_max
}

/// A time parameter; `Err` names the one that is not RFC 3339.
fn parse_time(query: &HashMap<String, String>, key: &'static str) -> Result<Option<DateTime<Utc>>, &'static str> {
    match query.get(key) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| key),
    }
}

async fn events_list(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let books = shared.lock();
    let Some((_, events, _)) = books.calendars.get(resolve(&calendar)) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Not Found");
    };
    let (min, max) = match (parse_time(&query, "timeMin"), parse_time(&query, "timeMax")) {
        (Ok(min), Ok(max)) => (min, max),
        (Err(key), _) | (_, Err(key)) => {
            return error(StatusCode::BAD_REQUEST, "badRequest", &format!("Bad Request: {key}"));
        }
    };
    let size: usize = query.get("maxResults").and_then(|m| m.parse().ok()).unwrap_or(250).clamp(1, 2500);
    let offset: usize =
        query.get("pageToken").and_then(|p| p.strip_prefix("page-")).and_then(|p| p.parse().ok()).unwrap_or(0);
    let since = match query.get("syncToken") {
        Some(_) if min.is_some() || max.is_some() => {
            return error(StatusCode::BAD_REQUEST, "invalid", "Sync token cannot be used with timeMin or timeMax");
        }
        Some(token) => match token.strip_prefix("sync-").and_then(|s| s.parse::<u64>().ok()) {
            Some(since) if since >= books.oldest_token => Some(since),
            _ => {
                return error(
                    StatusCode::GONE,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                );
            }
        },
        None => None,
    };
    let show_deleted = since.is_some() || query.get("showDeleted").is_some_and(|s| s == "true");
    let matching: Vec<Value> = events
        .values()
        .filter(|s| since.is_none_or(|since| s.changed > since))
        .filter(|s| show_deleted || !s.deleted)
        .filter(|s| s.deleted || overlaps(&s.json, min, max))
        .map(|s| {
            if s.deleted {
                json!({"kind": "calendar#event", "id": s.json["id"], "status": "cancelled", "etag": s.json["etag"]})
            } else {
                s.json.clone()
            }
        })
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(size).cloned().collect();
    let mut body = json!({"kind": "calendar#events", "summary": calendar, "items": page});
    if offset + size < matching.len() {
        body["nextPageToken"] = json!(format!("page-{}", offset + size));
    } else {
        body["nextSyncToken"] = json!(format!("sync-{}", books.sequence));
    }
    Json(body).into_response()
}

/// Times as Google answers them: a `dateTime` written without an offset (with a `timeZone`)
/// gets the zone's offset, as RFC 3339 wants.
fn normalize(event: &mut Value) {
    for key in ["start", "end", "originalStartTime"] {
        let Some(time) = event.get_mut(key) else { continue };
        let (Some(text), Some(zone)) = (time["dateTime"].as_str(), time["timeZone"].as_str()) else { continue };
        if DateTime::parse_from_rfc3339(text).is_ok() {
            continue;
        }
        let (Ok(local), Ok(tz)) =
            (chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"), zone.parse::<chrono_tz::Tz>())
        else {
            continue;
        };
        if let Some(at) = chrono::TimeZone::from_local_datetime(&tz, &local).earliest() {
            time["dateTime"] = json!(at.to_rfc3339());
        }
    }
}

fn valid_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

fn if_match(headers: &HeaderMap, current: &Value) -> bool {
    headers
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|etag| etag == "*" || Some(etag) == current["etag"].as_str())
}

async fn event_insert(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    Json(mut event): Json<Value>,
) -> Response {
    let mut books = shared.lock();
    books.sequence += 1;
    let sequence = books.sequence;
    let Some((_, events, _)) = books.calendars.get_mut(resolve(&calendar)) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Not Found");
    };
    normalize(&mut event);
    if instant(&event["start"]).is_none() || instant(&event["end"]).is_none() {
        return error(StatusCode::BAD_REQUEST, "required", "Missing end time.");
    }
    let id = match event.get("id").and_then(Value::as_str) {
        Some(id) if !valid_id(id) => return error(StatusCode::BAD_REQUEST, "invalid", "Invalid resource id value."),
        Some(id) if events.contains_key(id) => {
            return error(StatusCode::CONFLICT, "duplicate", "The requested identifier already exists.");
        }
        Some(id) => id.to_owned(),
        None => format!("{:026x}", fastrand::u128(..)).chars().map(|c| if c > 'v' { 'a' } else { c }).collect(),
    };
    normalize(&mut event);
    event["id"] = json!(id);
    event["kind"] = json!("calendar#event");
    event["etag"] = json!(format!("\"{sequence}\""));
    event["updated"] = json!(Utc::now().to_rfc3339());
    event["status"] = event.get("status").cloned().unwrap_or(json!("confirmed"));
    if event.get("iCalUID").is_none() {
        event["iCalUID"] = json!(format!("{id}@google.com"));
    }
    events.insert(id, Stored { json: event.clone(), changed: sequence, deleted: false });
    books.notify(resolve(&calendar), "exists");
    Json(event).into_response()
}

async fn event_get(State(shared): State<Shared>, Path((calendar, id)): Path<(String, String)>) -> Response {
    let books = shared.lock();
    match books.calendars.get(resolve(&calendar)).and_then(|(_, events, _)| events.get(&id)) {
        Some(stored) if !stored.deleted => Json(stored.json.clone()).into_response(),
        _ => error(StatusCode::NOT_FOUND, "notFound", "Not Found"),
    }
}

/// Runs `change` on event `id` of `calendar` — when it is there, not deleted, and `If-Match`
/// (if sent) names its ETag — with the next change sequence; then notifies its channels.
fn change_event(
    shared: &Shared,
    (calendar, id): (&str, &str),
    headers: &HeaderMap,
    change: impl FnOnce(&mut Stored, u64) -> Response,
) -> Response {
    let mut books = shared.lock();
    books.sequence += 1;
    let sequence = books.sequence;
    let calendar = resolve(calendar);
    let Some(stored) = books.calendars.get_mut(calendar).and_then(|(_, events, _)| events.get_mut(id)) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Not Found");
    };
    if stored.deleted {
        return error(StatusCode::GONE, "deleted", "Resource has been deleted");
    }
    if !if_match(headers, &stored.json) {
        return error(StatusCode::PRECONDITION_FAILED, "conditionNotMet", "Precondition Failed");
    }
    let answer = change(stored, sequence);
    books.notify(calendar, "exists");
    answer
}

async fn event_put(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(mut event): Json<Value>,
) -> Response {
    change_event(&shared, (&calendar, &id), &headers, |stored, sequence| {
        normalize(&mut event);
        event["id"] = json!(id);
        event["kind"] = json!("calendar#event");
        event["etag"] = json!(format!("\"{sequence}\""));
        event["updated"] = json!(Utc::now().to_rfc3339());
        event["iCalUID"] = stored.json["iCalUID"].clone();
        event["status"] = event.get("status").cloned().unwrap_or(json!("confirmed"));
        *stored = Stored { json: event.clone(), changed: sequence, deleted: false };
        Json(event).into_response()
    })
}

async fn event_delete(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    change_event(&shared, (&calendar, &id), &headers, |stored, sequence| {
        (stored.deleted, stored.changed) = (true, sequence);
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn acl_insert(State(shared): State<Shared>, Path(calendar): Path<String>, Json(rule): Json<Value>) -> Response {
    let mut books = shared.lock();
    let Some((_, _, acl)) = books.calendars.get_mut(resolve(&calendar)) else {
        return error(StatusCode::NOT_FOUND, "notFound", "Not Found");
    };
    let (Some(role), Some(kind), Some(value)) = (
        rule["role"].as_str(),
        rule.pointer("/scope/type").and_then(Value::as_str),
        rule.pointer("/scope/value").and_then(Value::as_str),
    ) else {
        return error(StatusCode::BAD_REQUEST, "required", "Missing role or scope.");
    };
    if !matches!(role, "none" | "freeBusyReader" | "reader" | "writer" | "owner") {
        return error(StatusCode::BAD_REQUEST, "invalid", "Invalid role.");
    }
    let id = format!("{kind}:{value}");
    acl.insert(id.clone(), role.to_owned());
    Json(json!({"kind": "calendar#aclRule", "id": id, "role": role, "scope": {"type": kind, "value": value}}))
        .into_response()
}

async fn acl_delete(State(shared): State<Shared>, Path((calendar, rule)): Path<(String, String)>) -> Response {
    let mut books = shared.lock();
    match books.calendars.get_mut(resolve(&calendar)).map(|(_, _, acl)| acl.remove(&rule)) {
        Some(Some(_)) => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::NOT_FOUND, "notFound", "Not Found"),
    }
}

/// An event's `start` / `end` as the calendar domain's time (what Google's JSON says).
fn event_time(time: &Value) -> Option<integration_calendar::EventTime> {
    use integration_calendar::EventTime;
    if let Some(date) = time.get("date").and_then(Value::as_str) {
        return chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(EventTime::date);
    }
    let text = time.get("dateTime")?.as_str()?;
    match time.get("timeZone").and_then(Value::as_str) {
        Some(zone) => {
            let tz: chrono_tz::Tz = zone.parse().ok()?;
            let local = match DateTime::parse_from_rfc3339(text) {
                Ok(at) => at.with_timezone(&tz).naive_local(),
                Err(_) => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?,
            };
            Some(EventTime::zoned(local, zone))
        }
        None => DateTime::parse_from_rfc3339(text).ok().map(|t| EventTime::utc(t.with_timezone(&Utc))),
    }
}

/// Busy spans: each live, opaque occurrence overlapping the window — a series expanded from
/// its `recurrence` lines, all-day events placed in the calendar's zone.
async fn free_busy(State(shared): State<Shared>, Json(request): Json<Value>) -> Response {
    let parse = |key: &str| {
        request[key].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
    };
    let (Some(min), Some(max)) = (parse("timeMin"), parse("timeMax")) else {
        return error(StatusCode::BAD_REQUEST, "required", "Missing timeMin or timeMax.");
    };
    let Ok(window) = integration_calendar::Interval::new(min, max) else {
        return error(StatusCode::BAD_REQUEST, "timeRangeEmpty", "The specified time range is empty.");
    };
    let books = shared.lock();
    let mut calendars = serde_json::Map::new();
    for item in request["items"].as_array().into_iter().flatten() {
        let id = item["id"].as_str().unwrap_or_default();
        let Some((entry, events, _)) = books.calendars.get(resolve(id)) else {
            calendars
                .insert(id.to_owned(), json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}));
            continue;
        };
        let zone: chrono_tz::Tz = entry["timeZone"].as_str().and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
        let mut busy = Vec::new();
        for stored in events.values().filter(|s| !s.deleted) {
            let json = &stored.json;
            if json["transparency"] == "transparent" || json["status"] == "cancelled" {
                continue;
            }
            let (Some(start), Some(end)) = (event_time(&json["start"]), event_time(&json["end"])) else { continue };
            let mut event = integration_calendar::Event::new("", start, end);
            let lines: Vec<String> = json["recurrence"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            if !lines.is_empty() {
                event.recurrence = integration_calendar::ical::parse_recurrence_lines(&lines).ok();
            }
            let Ok(expansion) = integration_calendar::recurrence::expand(&event, &window, zone, 10_000) else {
                continue;
            };
            for o in expansion.occurrences {
                busy.push(integration_calendar::Interval { start: o.start.max(min), end: o.end.min(max) });
            }
        }
        let busy: Vec<Value> = integration_calendar::availability::merge(busy)
            .into_iter()
            .map(|b| json!({"start": b.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "end": b.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
            .collect();
        calendars.insert(id.to_owned(), json!({"busy": busy}));
    }
    Json(json!({"kind": "calendar#freeBusy", "timeMin": request["timeMin"], "timeMax": request["timeMax"], "calendars": calendars})).into_response()
}

async fn watch(State(shared): State<Shared>, Path(calendar): Path<String>, Json(request): Json<Value>) -> Response {
    let mut books = shared.lock();
    let calendar = resolve(&calendar).to_owned();
    if !books.calendars.contains_key(&calendar) {
        return error(StatusCode::NOT_FOUND, "notFound", "Not Found");
    }
    let (Some(id), Some(address)) = (request["id"].as_str(), request["address"].as_str()) else {
        return error(StatusCode::BAD_REQUEST, "required", "Required");
    };
    if request["type"] != "web_hook" {
        return error(StatusCode::BAD_REQUEST, "invalid", "Invalid channel type.");
    }
    if !address.starts_with("https://") {
        return error(StatusCode::BAD_REQUEST, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS");
    }
    if books.channels.iter().any(|c| c.id == id) {
        return error(StatusCode::BAD_REQUEST, "channelIdNotUnique", "Channel id not unique.");
    }
    let ttl: i64 = request
        .pointer("/params/ttl")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
        .unwrap_or(604_800)
        .clamp(1, 2_592_000);
    let expires = Utc::now() + chrono::Duration::seconds(ttl);
    let resource_id = format!("res-{:016x}", fastrand::u64(..));
    let token = request["token"].as_str().unwrap_or_default().to_owned();
    books.channels.push(Channel {
        id: id.to_owned(),
        resource_id: resource_id.clone(),
        calendar: calendar.clone(),
        address: address.to_owned(),
        token: token.clone(),
        expires,
        number: 0,
    });
    books.notify(&calendar, "sync");
    Json(json!({"kind": "api#channel", "id": id, "resourceId": resource_id, "resourceUri": resource_uri(&calendar),
                "token": token, "expiration": expires.timestamp_millis().to_string()}))
    .into_response()
}

async fn stop(State(shared): State<Shared>, Json(request): Json<Value>) -> Response {
    let mut books = shared.lock();
    let before = books.channels.len();
    books.channels.retain(|c| !(request["id"] == c.id.as_str() && request["resourceId"] == c.resource_id.as_str()));
    if books.channels.len() == before {
        return error(StatusCode::NOT_FOUND, "notFound", "Channel not found");
    }
    StatusCode::NO_CONTENT.into_response()
}
