//! [`FakeGraphCalendar`]: Microsoft Graph v1.0's Outlook calendar API on loopback, following
//! its reference (<https://learn.microsoft.com/en-us/graph/api/resources/calendar-overview>),
//! its guide to calendar view delta queries and its change-notification guide.
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `GET /v1.0/me`, `GET /v1.0/me/calendar` | the signed-in user; the default calendar (the credential check) |
//! | `GET /v1.0/me/calendars[/{id}]` | the mailbox's calendars, 10 a page (`$top`, `@odata.nextLink`), with `canEdit`, `canShare`, `isDefaultCalendar`, `owner` |
//! | `GET …/calendars/{id}/calendarView` | single events, occurrences and exceptions overlapping `startDateTime`–`endDateTime` (both required: `400`), 10 a page or `Prefer: odata.maxpagesize` |
//! | `GET …/calendars/{id}/calendarView/delta` | a delta round over the window: pages with `@odata.nextLink` (`$skiptoken`), the last with `@odata.deltaLink` (`$deltatoken`); a delta link gives what changed since — deletions as `{"id", "@removed": {"reason": "deleted"}}` —; an expired one is `410` `syncStateNotFound` |
//! | `POST …/calendars/{id}/events` | create; a `transactionId` seen before answers the event it made; a zone Graph does not know is `400` `TimeZoneNotSupportedException`; a `recurrence` is checked as Graph does |
//! | `GET`, `PATCH`, `DELETE …/calendars/{id}/events/{eventId}` | read, change (an occurrence changed becomes an exception), delete (an occurrence deleted is gone from the series); `If-Match` with a stale `@odata.etag` is `412` `ErrorIrresolvableConflict`; what is not there is `404` `ErrorItemNotFound` |
//! | `POST /v1.0/me/calendar/getSchedule` | busy items per person: the user's own from the default calendar, others' from [`FakeGraphCalendar::set_schedule`], unknown people an `error` |
//! | `GET`, `POST …/calendars/{id}/calendarPermissions`, `PATCH`, `DELETE …/calendarPermissions/{id}` | sharing: roles `none`, `freeBusyRead`, `limitedRead`, `read`, `write`, `delegateWithoutPrivateEventAccess`, `delegateWithPrivateEventAccess` |
//! | `POST`, `GET /v1.0/subscriptions`, `PATCH`, `DELETE /v1.0/subscriptions/{id}` | change notifications on `me/calendars/{id}/events`: at most 10,080 minutes, `clientState` up to 128 characters; made only after the notification URL answers Graph's validation request (`POST ?validationToken=…`, the token back as `text/plain` within 10 s — the fake calls it, so it must be on loopback); then one notification per change (collected by [`FakeGraphCalendar::take_notifications`]) until it expires (then it is gone: `404`) |
//! | `POST /{tenant}/oauth2/v2.0/token` | the Microsoft identity platform's refresh-token grant, access tokens lasting an hour |
//!
//! Times are answered in the zone `Prefer: outlook.timezone="…"` names (UTC otherwise), with
//! `originalStartTimeZone` the zone the event was written in; `timeZone` takes Windows names
//! and IANA names. Errors are Graph's JSON (`{"error": {"code", "message", "innerError"}}`);
//! every API call needs a live bearer token (`401` `InvalidAuthenticationToken` otherwise).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use integration_core::{ConnectionId, Domain, IntegrationConfig, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, OAuthClient, TokenIssuer, oauth_config};
use super::faults::Faults;
use super::server::FakeServer;

/// The OAuth2 client id (an Entra application id) the fake's token endpoint accepts.
pub const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
/// The OAuth2 client secret.
pub const CLIENT_SECRET: &str = "fake~graph~client~secret~8Q~";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "M.C507_BAY.0.U.-fake-graph-refresh-token";
/// The signed-in user.
pub const USER: &str = "ada@contoso.example";
/// The user's default calendar.
pub const DEFAULT_CALENDAR: &str = "AAMkAGRlZmF1bHQ";
/// A second calendar of the user's.
pub const TEAM_CALENDAR: &str = "AAMkAHRlYW0";
const USER_ID: &str = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
const TENANT_ID: &str = "84ee0a14-5a41-4d2c-9c5d-a7d4b1bc4f43";
/// The longest a subscription to Outlook events may live, in minutes.
const MAX_SUBSCRIPTION_MINUTES: i64 = 10_080;

#[derive(Debug, Clone)]
struct Stored {
    json: Value,
    changed: u64,
    deleted: bool,
    /// For a series: its deleted occurrences (their ids).
    cancelled: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Held {
    entry: Value,
    events: BTreeMap<String, Stored>,
    /// Permission id → the permission.
    permissions: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
struct Subscription {
    json: Value,
    calendar: String,
    expires: DateTime<Utc>,
}

/// A delta round's pages, or a delta link's snapshot: the calendar, the window, and (for a
/// snapshot) each instance's etag then.
#[derive(Debug, Clone)]
struct Round {
    calendar: String,
    window: (DateTime<Utc>, DateTime<Utc>),
    items: Vec<Value>,
    snapshot: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Books {
    calendars: BTreeMap<String, Held>,
    subscriptions: BTreeMap<String, Subscription>,
    outbox: Vec<(String, Value)>,
    sequence: u64,
    rounds: HashMap<String, Round>,
    deltas: HashMap<String, Round>,
    schedules: BTreeMap<String, Vec<Busy>>,
}

/// A busy item of a person's schedule: start, end, status.
type Busy = (DateTime<Utc>, DateTime<Utc>, String);

/// A request Graph refuses: the status, the code, the message.
#[derive(Debug)]
struct Refusal(StatusCode, &'static str, String);

impl Refusal {
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, code, message.into())
    }

    fn answer(self) -> Response {
        error(self.0, self.1, &self.2)
    }
}

#[derive(Debug, Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    api: FakeApi,
    issuer: TokenIssuer,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running Microsoft Graph calendar fake.
#[derive(Debug)]
pub struct FakeGraphCalendar {
    server: FakeServer,
    shared: Shared,
}

/// Graph's error answer.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message,
        "innerError": {"date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                       "request-id": format!("{:032x}", fastrand::u128(..))}}});
    (status, Json(body)).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "ErrorItemNotFound", "The specified object was not found in the store.")
}

fn calendar_entry(id: &str, name: &str, default: bool) -> Value {
    json!({"id": id, "name": name, "color": "auto", "hexColor": "", "isDefaultCalendar": default,
           "changeKey": "fJKVL07sbkmIfHqjbDnRgQAAAAACWw==", "canShare": true, "canViewPrivateItems": true,
           "canEdit": true, "allowedOnlineMeetingProviders": ["teamsForBusiness"],
           "defaultOnlineMeetingProvider": "teamsForBusiness", "isTallyingResponses": true, "isRemovable": !default,
           "owner": {"name": "Ada Lovelace", "address": USER}})
}

/// The zone a Graph `timeZone` names (Windows or IANA).
fn zone(name: &str) -> Option<Tz> {
    integration_calendar::windows_zones::iana(name).unwrap_or(name).parse().ok()
}

fn local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// A `dateTimeTimeZone` as an instant (an all-day one at UTC midnight).
fn instant(time: &Value, all_day: bool) -> Option<DateTime<Utc>> {
    let naive = local(time.get("dateTime")?.as_str()?)?;
    if all_day {
        return Some(naive.date().and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let tz = zone(time.get("timeZone")?.as_str()?)?;
    tz.from_local_datetime(&naive).earliest().map(|t| t.to_utc())
}

/// `at` as a `dateTimeTimeZone` in `zone_name`; an all-day time keeps its date.
fn in_zone(at: DateTime<Utc>, zone_name: &str, all_day: bool) -> Value {
    let naive = if all_day {
        at.naive_utc()
    } else {
        at.with_timezone(&zone(zone_name).unwrap_or(chrono_tz::UTC)).naive_local()
    };
    json!({"dateTime": naive.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": zone_name})
}

fn all_day(json: &Value) -> bool {
    json["isAllDay"].as_bool().unwrap_or(false)
}

/// The zone `Prefer: outlook.timezone="…"` asks for (UTC otherwise), and the page size
/// `odata.maxpagesize` does.
fn prefer(headers: &HeaderMap) -> (String, Option<usize>) {
    let mut zone_name = "UTC".to_owned();
    let mut size = None;
    for value in headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()) {
        for part in value.split(',').map(str::trim) {
            if let Some(name) = part.strip_prefix("outlook.timezone=") {
                let name = name.trim_matches('"');
                if zone(name).is_some() {
                    name.clone_into(&mut zone_name);
                }
            } else if let Some(n) = part.strip_prefix("odata.maxpagesize=") {
                size = n.parse().ok().filter(|n| *n > 0);
            }
        }
    }
    (zone_name, size)
}

/// `event` as answered: its times in `zone_name`.
fn answer_event(event: &Value, zone_name: &str) -> Value {
    let mut out = event.clone();
    let all = all_day(event);
    for key in ["start", "end"] {
        if let Some(at) = instant(&event[key], all) {
            out[key] = in_zone(at, zone_name, all);
        }
    }
    out
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

fn weekday(name: &str) -> Option<Weekday> {
    DAY_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, d)| *d)
}

/// A `patternedRecurrence` as Graph checks it; `Err` is the message.
fn check_recurrence(recurrence: &Value) -> Result<(), String> {
    let pattern = &recurrence["pattern"];
    let range = &recurrence["range"];
    let kind = pattern["type"].as_str().ok_or("recurrence.pattern.type is required")?;
    let days = pattern["daysOfWeek"].as_array().map(Vec::len).unwrap_or(0);
    if pattern["daysOfWeek"].as_array().into_iter().flatten().any(|d| d.as_str().and_then(weekday).is_none()) {
        return Err("recurrence.pattern.daysOfWeek holds a value that is not a day".into());
    }
    if pattern["interval"].as_i64().unwrap_or(0) < 1 {
        return Err("recurrence.pattern.interval must be at least 1".into());
    }
    let day_of_month = pattern["dayOfMonth"].as_i64().unwrap_or(0);
    let month = pattern["month"].as_i64().unwrap_or(0);
    let index_ok = matches!(pattern["index"].as_str(), Some("first" | "second" | "third" | "fourth" | "last"));
    let fits = match kind {
        "daily" => true,
        "weekly" => days > 0,
        "absoluteMonthly" => (1..=31).contains(&day_of_month),
        "relativeMonthly" => days > 0 && index_ok,
        "absoluteYearly" => (1..=31).contains(&day_of_month) && (1..=12).contains(&month),
        "relativeYearly" => days > 0 && index_ok && (1..=12).contains(&month),
        other => return Err(format!("{other:?} is not a recurrence pattern type")),
    };
    if !fits {
        return Err(format!("the {kind} pattern lacks a property it requires"));
    }
    let start = range["startDate"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let start = start.ok_or("recurrence.range.startDate is required")?;
    match range["type"].as_str() {
        Some("noEnd") => Ok(()),
        Some("numbered") if range["numberOfOccurrences"].as_i64().unwrap_or(0) >= 1 => Ok(()),
        Some("endDate") => {
            match range["endDate"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
                Some(end) if end >= start => Ok(()),
                _ => Err("recurrence.range.endDate must be a date on or after startDate".into()),
            }
        }
        _ => Err("recurrence.range is not a valid range".into()),
    }
}

/// Whether `date` is the `index`th of the dates of its month on one of `days`.
fn relative_match(date: NaiveDate, days: &[Weekday], index: &str) -> bool {
    if !days.contains(&date.weekday()) {
        return false;
    }
    let Some(first) = date.with_day(1) else { return false };
    let matching: Vec<NaiveDate> =
        first.iter_days().take_while(|d| d.month() == date.month()).filter(|d| days.contains(&d.weekday())).collect();
    let at = match index {
        "first" => matching.first(),
        "second" => matching.get(1),
        "third" => matching.get(2),
        "fourth" => matching.get(3),
        _ => matching.last(),
    };
    at == Some(&date)
}

/// The dates of a series until `until` (exclusive), found by walking day by day from the
/// range's start — the plain reading of the pattern, independent of any `RRULE` library.
fn occurrence_dates(recurrence: &Value, until: NaiveDate) -> Vec<NaiveDate> {
    let (pattern, range) = (&recurrence["pattern"], &recurrence["range"]);
    let parse = |v: &Value| v.as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let Some(start) = parse(&range["startDate"]) else { return Vec::new() };
    let end = if range["type"] == "endDate" { parse(&range["endDate"]) } else { None };
    let count = if range["type"] == "numbered" { range["numberOfOccurrences"].as_u64() } else { None };
    let interval = pattern["interval"].as_i64().unwrap_or(1).max(1);
    let days: Vec<Weekday> =
        pattern["daysOfWeek"].as_array().into_iter().flatten().filter_map(|d| d.as_str().and_then(weekday)).collect();
    let first_day = pattern["firstDayOfWeek"].as_str().and_then(weekday).unwrap_or(Weekday::Sun);
    let week_of = |d: NaiveDate| {
        let back = (7 + d.weekday().num_days_from_monday() - first_day.num_days_from_monday()) % 7;
        d - Duration::days(i64::from(back))
    };
    let months =
        |d: NaiveDate| i64::from(d.year() - start.year()) * 12 + i64::from(d.month()) - i64::from(start.month());
    let day_of_month = pattern["dayOfMonth"].as_u64().unwrap_or(0);
    let month = pattern["month"].as_u64().unwrap_or(0);
    let index = pattern["index"].as_str().unwrap_or("first");
    let mut out = Vec::new();
    for date in start.iter_days().take(366 * 30) {
        if date >= until || end.is_some_and(|end| date > end) || count.is_some_and(|c| out.len() as u64 >= c) {
            break;
        }
        let fits = match pattern["type"].as_str().unwrap_or_default() {
            "daily" => (date - start).num_days() % interval == 0,
            "weekly" => {
                days.contains(&date.weekday()) && ((week_of(date) - week_of(start)).num_days() / 7) % interval == 0
            }
            "absoluteMonthly" => u64::from(date.day()) == day_of_month && months(date) % interval == 0,
            "relativeMonthly" => months(date) % interval == 0 && relative_match(date, &days, index),
            "absoluteYearly" => {
                u64::from(date.month()) == month
                    && u64::from(date.day()) == day_of_month
                    && i64::from(date.year() - start.year()) % interval == 0
            }
            "relativeYearly" => {
                u64::from(date.month()) == month
                    && i64::from(date.year() - start.year()) % interval == 0
                    && relative_match(date, &days, index)
            }
            _ => false,
        };
        if fits {
            out.push(date);
        }
    }
    out
}

impl Books {
    fn next(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// The single events, occurrences and exceptions of `calendar` overlapping `[min, max)`,
    /// by start.
    fn instances(&self, calendar: &str, min: DateTime<Utc>, max: DateTime<Utc>) -> Vec<Value> {
        let Some(held) = self.calendars.get(calendar) else { return Vec::new() };
        let overlaps = |json: &Value| {
            let all = all_day(json);
            match (instant(&json["start"], all), instant(&json["end"], all)) {
                (Some(start), Some(end)) => start < max && (end > min || (start == end && start >= min)),
                _ => false,
            }
        };
        let mut out = Vec::new();
        for (id, stored) in held.events.iter().filter(|(_, s)| !s.deleted) {
            match stored.json["type"].as_str() {
                Some("seriesMaster") => {
                    for occurrence in self.occurrences(held, id, stored, max) {
                        if overlaps(&occurrence) {
                            out.push(occurrence);
                        }
                    }
                }
                Some("exception") => {}
                _ if overlaps(&stored.json) => out.push(stored.json.clone()),
                _ => {}
            }
        }
        out.sort_by_key(|e| instant(&e["start"], all_day(e)));
        out
    }

    /// A series' occurrences starting before `max`: each generated from the master, or its
    /// exception; deleted ones left out.
    fn occurrences(&self, held: &Held, id: &str, master: &Stored, max: DateTime<Utc>) -> Vec<Value> {
        let json = &master.json;
        let all = all_day(json);
        let (Some(start), Some(end)) = (instant(&json["start"], all), instant(&json["end"], all)) else {
            return Vec::new();
        };
        let tz = if all {
            chrono_tz::UTC
        } else {
            json["start"]["timeZone"].as_str().and_then(zone).unwrap_or(chrono_tz::UTC)
        };
        let time_of_day = start.with_timezone(&tz).time();
        let until = max.with_timezone(&tz).date_naive() + Duration::days(1);
        let mut out = Vec::new();
        for date in occurrence_dates(&json["recurrence"], until) {
            let occurrence_id = format!("{id}_{}", date.format("%Y%m%d"));
            if master.cancelled.contains(&occurrence_id) {
                continue;
            }
            if let Some(exception) = held.events.get(&occurrence_id).filter(|s| !s.deleted) {
                out.push(exception.json.clone());
                continue;
            }
            let Some(begins) = tz.from_local_datetime(&date.and_time(time_of_day)).earliest().map(|t| t.to_utc())
            else {
                continue;
            };
            let mut occurrence = json.clone();
            occurrence["id"] = json!(occurrence_id);
            occurrence["type"] = json!("occurrence");
            occurrence["seriesMasterId"] = json!(id);
            occurrence["recurrence"] = Value::Null;
            occurrence["originalStart"] = json!(begins.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            let zone_name = json["start"]["timeZone"].as_str().unwrap_or("UTC");
            occurrence["start"] = in_zone(begins, zone_name, all);
            occurrence["end"] =
                in_zone(begins + (end - start), json["end"]["timeZone"].as_str().unwrap_or(zone_name), all);
            out.push(occurrence);
        }
        out
    }

    /// The event or occurrence `id` of `calendar`, as stored or generated.
    fn find(&self, calendar: &str, id: &str) -> Option<Value> {
        let held = self.calendars.get(calendar)?;
        if let Some(stored) = held.events.get(id).filter(|s| !s.deleted) {
            return Some(stored.json.clone());
        }
        let (master_id, date) = id.rsplit_once('_')?;
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
        let master = held.events.get(master_id).filter(|s| !s.deleted && s.json["type"] == "seriesMaster")?;
        let max = date.succ_opt()?.and_time(chrono::NaiveTime::MIN).and_utc() + Duration::days(1);
        self.occurrences(held, master_id, master, max).into_iter().find(|o| o["id"] == id)
    }

    /// Announces a change to event `id` of `calendar` on the live subscriptions to it.
    fn notify(&mut self, calendar: &str, id: &str, etag: &Value, change: &str) {
        let now = Utc::now();
        let mut sent = Vec::new();
        for subscription in self.subscriptions.values().filter(|s| s.calendar == calendar && s.expires > now) {
            let wanted = subscription.json["changeType"].as_str().unwrap_or_default();
            if !wanted.split(',').any(|c| c.trim() == change) {
                continue;
            }
            let resource = format!("Users/{USER_ID}/Events/{id}");
            let note = json!({"value": [{
                "subscriptionId": subscription.json["id"],
                "subscriptionExpirationDateTime": subscription.json["expirationDateTime"],
                "changeType": change, "resource": resource, "clientState": subscription.json["clientState"],
                "tenantId": TENANT_ID,
                "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "@odata.id": resource,
                                 "@odata.etag": etag, "id": id},
            }]});
            sent.push((subscription.json["notificationUrl"].as_str().unwrap_or_default().to_owned(), note));
        }
        self.outbox.extend(sent);
    }
}

fn etag(sequence: u64) -> String {
    format!("W/\"DwAAABYAAAB{sequence:010}\"")
}

impl FakeGraphCalendar {
    /// Starts the fake with the user's two calendars: the default one ([`DEFAULT_CALENDAR`],
    /// "Calendar") and [`TEAM_CALENDAR`] ("Team"), both empty.
    pub async fn start() -> Self {
        let mut books = Books::default();
        for (id, name, default) in [(DEFAULT_CALENDAR, "Calendar", true), (TEAM_CALENDAR, "Team", false)] {
            books.calendars.insert(id.to_owned(), Held { entry: calendar_entry(id, name, default), ..Held::default() });
        }
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .minting(|| format!("eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| {
            error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            )
        });
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap_or_default();
        let shared = Shared { books: Arc::new(Mutex::new(books)), api: api.clone(), issuer, http };
        let routes = axum::Router::new()
            .route("/me", get(me))
            .route("/me/calendar", get(default_calendar))
            .route("/me/calendar/getSchedule", post(get_schedule))
            .route("/me/calendars", get(calendars))
            .route("/me/calendars/{calendar}", get(calendar_get))
            .route("/me/calendars/{calendar}/calendarView", get(calendar_view))
            .route("/me/calendars/{calendar}/calendarView/delta", get(delta))
            .route("/me/calendars/{calendar}/events", post(event_create))
            .route("/me/calendars/{calendar}/events/{event}", get(event_get).patch(event_patch).delete(event_delete))
            .route("/me/calendars/{calendar}/calendarPermissions", get(permissions_list).post(permission_create))
            .route(
                "/me/calendars/{calendar}/calendarPermissions/{permission}",
                patch(permission_patch).delete(permission_delete),
            )
            .route("/subscriptions", post(subscription_create).get(subscriptions_list))
            .route("/subscriptions/{id}", patch(subscription_patch).delete(subscription_delete));
        let app = axum::Router::new()
            .nest("/v1.0", api.guard(routes))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .fallback(|| async { error(StatusCode::BAD_REQUEST, "BadRequest", "Resource not found for the segment.") })
            .with_state(shared.clone());
        Self { server: FakeServer::start(app).await, shared }
    }

    /// `http://127.0.0.1:<port>`: the Graph host and the identity platform's.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// The token endpoint's issuer (to expire or inspect tokens).
    pub fn issuer(&self) -> &TokenIssuer {
        &self.shared.issuer
    }

    /// A connection's configuration pointing at this fake, with the app's client and the
    /// refresh token.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        let client = OAuthClient { id: CLIENT_ID, secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN };
        let urls = (format!("{}/v1.0", self.base_url()), self.base_url());
        oauth_config((tenant, connection), (Domain::Calendar, "microsoft_calendar"), urls, client)
    }

    /// Adds event `json` (Graph's shape, with its `id`; `type` `seriesMaster` when it has a
    /// `recurrence`) to `calendar`, as another client would.
    pub fn put_event(&self, calendar: &str, json: Value) {
        let mut books = self.shared.lock();
        let sequence = books.next();
        let id = json["id"].as_str().unwrap_or_default().to_owned();
        let json = complete(json, &id, sequence, None);
        let tag = json["@odata.etag"].clone();
        let existed = books.calendars.get(calendar).is_some_and(|h| h.events.contains_key(&id));
        if let Some(held) = books.calendars.get_mut(calendar) {
            held.events
                .insert(id.clone(), Stored { json, changed: sequence, deleted: false, cancelled: BTreeSet::new() });
        }
        books.notify(calendar, &id, &tag, if existed { "updated" } else { "created" });
    }

    /// Deletes event (or occurrence) `id` of `calendar`, as another client would.
    pub fn delete_event(&self, calendar: &str, id: &str) {
        let mut books = self.shared.lock();
        remove(&mut books, calendar, id);
    }

    /// The live events of `calendar` (singles, series and exceptions; their ids).
    pub fn event_ids(&self, calendar: &str) -> Vec<String> {
        let books = self.shared.lock();
        books.calendars.get(calendar).map_or_else(Vec::new, |held| {
            held.events.iter().filter(|(_, s)| !s.deleted).map(|(id, _)| id.clone()).collect()
        })
    }

    /// Gives `person` busy times (start, end, status: `busy`, `tentative`, `oof`,
    /// `workingElsewhere`, `free`) for `getSchedule`.
    pub fn set_schedule(&self, person: &str, items: Vec<(DateTime<Utc>, DateTime<Utc>, &str)>) {
        let items = items.into_iter().map(|(s, e, status)| (s, e, status.to_owned())).collect();
        self.shared.lock().schedules.insert(person.to_lowercase(), items);
    }

    /// The permissions of `calendar`: grantee address → role.
    pub fn permissions(&self, calendar: &str) -> BTreeMap<String, String> {
        let books = self.shared.lock();
        books.calendars.get(calendar).map_or_else(BTreeMap::new, |held| {
            held.permissions
                .values()
                .map(|p| {
                    let address = p.pointer("/emailAddress/address").and_then(Value::as_str).unwrap_or_default();
                    (address.to_owned(), p["role"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
    }

    /// The notifications sent since the last call: each subscription's URL and the body.
    pub fn take_notifications(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.shared.lock().outbox)
    }

    /// The live subscriptions: (id, calendar, expiry).
    pub fn subscriptions(&self) -> Vec<(String, String, DateTime<Utc>)> {
        let now = Utc::now();
        let books = self.shared.lock();
        books
            .subscriptions
            .iter()
            .filter(|(_, s)| s.expires > now)
            .map(|(id, s)| (id.clone(), s.calendar.clone(), s.expires))
            .collect()
    }

    /// Makes every subscription expire now: Graph deletes them, so they send nothing more and
    /// cannot be renewed.
    pub fn expire_subscriptions(&self) {
        self.shared.lock().subscriptions.clear();
    }

    /// Makes every delta link given so far expire: following one is `410` `syncStateNotFound`.
    pub fn expire_delta_links(&self) {
        self.shared.lock().deltas.clear();
    }
}

/// `json` as stored after a write at `sequence`: id, etag, change key, times, type, defaults.
fn complete(mut json: Value, id: &str, sequence: u64, previous: Option<&Value>) -> Value {
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    json["id"] = json!(id);
    json["@odata.etag"] = json!(etag(sequence));
    json["changeKey"] = json!(format!("DwAAABYAAAB{sequence:010}"));
    json["lastModifiedDateTime"] = json!(now);
    let from = |key: &str, default: Value| previous.and_then(|p| p.get(key)).cloned().unwrap_or(default);
    json["createdDateTime"] = from("createdDateTime", json!(now));
    json["iCalUId"] = from("iCalUId", json!(format!("040000008200E00074C5B7101A82E008{sequence:016X}")));
    for (key, default) in [
        ("isAllDay", json!(false)),
        ("isCancelled", json!(false)),
        ("isOrganizer", json!(true)),
        ("showAs", json!("busy")),
        ("isReminderOn", json!(true)),
        ("reminderMinutesBeforeStart", json!(15)),
        ("subject", json!("")),
        ("attendees", json!([])),
        ("recurrence", Value::Null),
        ("seriesMasterId", Value::Null),
        ("organizer", json!({"emailAddress": {"name": "Ada Lovelace", "address": USER}})),
        ("webLink", json!(format!("https://outlook.office365.com/owa/?itemid={id}"))),
    ] {
        if json.get(key).is_none() {
            json[key] = from(key, default);
        }
    }
    if json.get("type").is_none() {
        json["type"] = json!(if json["recurrence"].is_null() { "singleInstance" } else { "seriesMaster" });
    }
    for (time, original) in [("start", "originalStartTimeZone"), ("end", "originalEndTimeZone")] {
        if let Some(name) = json[time]["timeZone"].as_str() {
            json[original] = json!(name);
        }
    }
    if let Some(attendees) = json["attendees"].as_array_mut() {
        for attendee in attendees {
            if attendee.get("status").is_none() {
                attendee["status"] = json!({"response": "none", "time": "0001-01-01T00:00:00Z"});
            }
        }
    }
    json
}

/// Deletes event or occurrence `id` of `calendar` (an occurrence: gone from its series; a
/// series: with its exceptions) and announces it.
fn remove(books: &mut Books, calendar: &str, id: &str) -> bool {
    let sequence = books.next();
    let Some(held) = books.calendars.get_mut(calendar) else { return false };
    let master = match held.events.get_mut(id) {
        Some(stored) if !stored.deleted => {
            (stored.deleted, stored.changed) = (true, sequence);
            let master = stored.json["seriesMasterId"].as_str().map(str::to_owned);
            if stored.json["type"] == "seriesMaster" {
                for exception in held.events.values_mut().filter(|s| s.json["seriesMasterId"] == id) {
                    (exception.deleted, exception.changed) = (true, sequence);
                }
            }
            master
        }
        _ => match id.rsplit_once('_') {
            Some((master, _)) if held.events.get(master).is_some_and(|s| !s.deleted) => Some(master.to_owned()),
            _ => return false,
        },
    };
    if let Some(master) = master.and_then(|m| held.events.get_mut(&m)) {
        master.cancelled.insert(id.to_owned());
        master.changed = sequence;
    }
    books.notify(calendar, id, &json!(etag(sequence)), "deleted");
    true
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

async fn me() -> Response {
    Json(json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "id": USER_ID,
                "displayName": "Ada Lovelace", "mail": USER, "userPrincipalName": USER}))
    .into_response()
}

async fn default_calendar(State(shared): State<Shared>) -> Response {
    let books = shared.lock();
    books.calendars.get(DEFAULT_CALENDAR).map_or_else(not_found, |held| Json(held.entry.clone()).into_response())
}

async fn calendar_get(State(shared): State<Shared>, Path(calendar): Path<String>) -> Response {
    let books = shared.lock();
    books.calendars.get(&calendar).map_or_else(not_found, |held| Json(held.entry.clone()).into_response())
}

/// `items` paged by `$skip` from `offset`, `size` a page, the next link to `path`.
fn paged(headers: &HeaderMap, path: &str, items: Vec<Value>, offset: usize, size: usize, extra: &str) -> Value {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let page: Vec<Value> = items.iter().skip(offset).take(size).cloned().collect();
    let mut body = json!({"value": page});
    if offset + size < items.len() {
        body["@odata.nextLink"] =
            json!(format!("http://{host}/v1.0{path}?{extra}%24skip={}&%24top={size}", offset + size));
    }
    body
}

fn skip_top(query: &HashMap<String, String>, default: usize) -> (usize, usize) {
    let skip = query.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let top = query.get("$top").and_then(|s| s.parse().ok()).filter(|n| *n > 0).unwrap_or(default).min(1000);
    (skip, top)
}

async fn calendars(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let books = shared.lock();
    let items: Vec<Value> = books.calendars.values().map(|h| h.entry.clone()).collect();
    let (skip, top) = skip_top(&query, 10);
    Json(paged(&headers, "/me/calendars", items, skip, top, "")).into_response()
}

/// The window of `startDateTime` / `endDateTime`, or Graph's `400`.
fn window(query: &HashMap<String, String>) -> Result<(DateTime<Utc>, DateTime<Utc>), Refusal> {
    let parse = |key: &str| {
        let text = query.get(key)?;
        DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).ok().or_else(|| local(text).map(|t| t.and_utc()))
    };
    match (parse("startDateTime"), parse("endDateTime")) {
        (Some(start), Some(end)) => Ok((start, end)),
        _ => Err(Refusal::bad(
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )),
    }
}

async fn calendar_view(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (start, end) = match window(&query) {
        Ok(w) => w,
        Err(refusal) => return refusal.answer(),
    };
    let books = shared.lock();
    if !books.calendars.contains_key(&calendar) {
        return not_found();
    }
    let (zone_name, size) = prefer(&headers);
    let items: Vec<Value> =
        books.instances(&calendar, start, end).iter().map(|e| answer_event(e, &zone_name)).collect();
    let (skip, top) = skip_top(&query, size.unwrap_or(10));
    let extra = format!(
        "startDateTime={}&endDateTime={}&",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    );
    Json(paged(&headers, &format!("/me/calendars/{calendar}/calendarView"), items, skip, top, &extra)).into_response()
}

/// A calendar view delta round: its first page, a page of it (`$skiptoken`), or what changed
/// since a delta link (`$deltatoken`).
async fn delta(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (zone_name, size) = prefer(&headers);
    let size = size.unwrap_or(100);
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    let mut books = shared.lock();
    if !books.calendars.contains_key(&calendar) {
        return not_found();
    }
    let (key, offset) = if let Some(skip) = query.get("$skiptoken") {
        let Some((key, offset)) =
            skip.rsplit_once('.').and_then(|(k, o)| Some((k.to_owned(), o.parse::<usize>().ok()?)))
        else {
            return error(StatusCode::BAD_REQUEST, "BadRequest", "The skip token is not valid.");
        };
        if !books.rounds.contains_key(&key) {
            return error(StatusCode::GONE, "syncStateNotFound", "The sync state generation is not found.");
        }
        (key, offset)
    } else {
        let (round_window, since) = match query.get("$deltatoken") {
            Some(token) => match books.deltas.get(token) {
                Some(old) if old.calendar == calendar => (old.window, Some(old.snapshot.clone())),
                _ => return error(StatusCode::GONE, "syncStateNotFound", "The sync state generation is not found."),
            },
            None => match window(&query) {
                Ok(w) => (w, None),
                Err(refusal) => return refusal.answer(),
            },
        };
        let now = books.instances(&calendar, round_window.0, round_window.1);
        let snapshot: BTreeMap<String, String> = now
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap_or_default().to_owned(),
                    e["@odata.etag"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let items: Vec<Value> = match &since {
            None => now.iter().map(|e| answer_event(e, &zone_name)).collect(),
            Some(before) => {
                let mut items: Vec<Value> = now
                    .iter()
                    .filter(|e| {
                        before.get(e["id"].as_str().unwrap_or_default())
                            != e["@odata.etag"].as_str().map(str::to_owned).as_ref()
                    })
                    .map(|e| answer_event(e, &zone_name))
                    .collect();
                items.extend(before.keys().filter(|id| !snapshot.contains_key(*id)).map(
                    |id| json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}}),
                ));
                items
            }
        };
        let key = format!("r{:016x}", fastrand::u64(..));
        books.rounds.insert(key.clone(), Round { calendar: calendar.clone(), window: round_window, items, snapshot });
        (key, 0)
    };
    let Some(round) = books.rounds.get(&key).cloned() else {
        return error(StatusCode::GONE, "syncStateNotFound", "The sync state generation is not found.");
    };
    let path = format!("http://{host}/v1.0/me/calendars/{calendar}/calendarView/delta");
    let page: Vec<Value> = round.items.iter().skip(offset).take(size).cloned().collect();
    let mut body =
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)", "value": page});
    if offset + size < round.items.len() {
        body["@odata.nextLink"] = json!(format!("{path}?%24skiptoken={key}.{}", offset + size));
    } else {
        let token = format!("d{:016x}", fastrand::u64(..));
        books.deltas.insert(token.clone(), round);
        body["@odata.deltaLink"] = json!(format!("{path}?%24deltatoken={token}"));
    }
    Json(body).into_response()
}

/// A written event's times and recurrence as Graph checks them; `Err` is the answer.
fn check_event(event: &Value) -> Result<(), Refusal> {
    let all = all_day(event);
    for key in ["start", "end"] {
        let time = &event[key];
        let Some(name) = time["timeZone"].as_str() else {
            return Err(Refusal::bad("ErrorInvalidRequest", format!("{key}.timeZone is required")));
        };
        if zone(name).is_none() {
            return Err(Refusal::bad(
                "TimeZoneNotSupportedException",
                format!(
                    "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
                ),
            ));
        }
        if time["dateTime"].as_str().and_then(local).is_none() {
            return Err(Refusal::bad("ErrorInvalidRequest", format!("{key}.dateTime is not valid")));
        }
    }
    if let (Some(start), Some(end)) = (instant(&event["start"], all), instant(&event["end"], all))
        && end < start
    {
        return Err(Refusal::bad("ErrorInvalidRequest", "The end of the event is before its start."));
    }
    if !event["recurrence"].is_null()
        && let Err(message) = check_recurrence(&event["recurrence"])
    {
        return Err(Refusal::bad("ErrorInvalidRequest", message));
    }
    Ok(())
}

async fn event_create(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    headers: HeaderMap,
    Json(event): Json<Value>,
) -> Response {
    let (zone_name, _) = prefer(&headers);
    if let Err(refusal) = check_event(&event) {
        return refusal.answer();
    }
    let mut books = shared.lock();
    let Some(held) = books.calendars.get(&calendar) else { return not_found() };
    if let Some(transaction) = event["transactionId"].as_str()
        && let Some(made) = held.events.values().find(|s| !s.deleted && s.json["transactionId"] == transaction)
    {
        return (StatusCode::CREATED, Json(answer_event(&made.json, &zone_name))).into_response();
    }
    let sequence = books.next();
    let id = format!("AAMkAGI2{sequence:012}AAA");
    let mut event = event;
    if let Some(map) = event.as_object_mut() {
        map.retain(|k, _| !matches!(k.as_str(), "id" | "type" | "seriesMasterId" | "@odata.etag" | "changeKey"));
    }
    let json = complete(event, &id, sequence, None);
    if let Some(held) = books.calendars.get_mut(&calendar) {
        held.events.insert(
            id.clone(),
            Stored { json: json.clone(), changed: sequence, deleted: false, cancelled: BTreeSet::new() },
        );
    }
    books.notify(&calendar, &id, &json["@odata.etag"], "created");
    (StatusCode::CREATED, Json(answer_event(&json, &zone_name))).into_response()
}

async fn event_get(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (zone_name, _) = prefer(&headers);
    let books = shared.lock();
    books.find(&calendar, &id).map_or_else(not_found, |event| Json(answer_event(&event, &zone_name)).into_response())
}

/// Whether `If-Match` (when sent) names `current`'s etag.
fn if_match(headers: &HeaderMap, current: &Value) -> bool {
    headers
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|tag| tag == "*" || Some(tag) == current["@odata.etag"].as_str())
}

fn conflict() -> Response {
    error(
        StatusCode::PRECONDITION_FAILED,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
    )
}

async fn event_patch(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(change): Json<Value>,
) -> Response {
    let (zone_name, _) = prefer(&headers);
    let mut books = shared.lock();
    let Some(current) = books.find(&calendar, &id) else { return not_found() };
    if !if_match(&headers, &current) {
        return conflict();
    }
    let mut merged = current.clone();
    for (key, value) in change.as_object().into_iter().flatten() {
        if !matches!(
            key.as_str(),
            "id" | "type" | "seriesMasterId" | "originalStart" | "@odata.etag" | "changeKey" | "transactionId"
        ) {
            merged[key] = value.clone();
        }
    }
    if current["type"] == "occurrence" || current["type"] == "exception" {
        merged["type"] = json!("exception");
        merged["recurrence"] = Value::Null;
    } else if current["type"] == "seriesMaster" && change.get("recurrence").is_some_and(Value::is_null) {
        merged["type"] = json!("singleInstance");
    } else if !merged["recurrence"].is_null() {
        merged["type"] = json!("seriesMaster");
    }
    if let Err(refusal) = check_event(&merged) {
        return refusal.answer();
    }
    let sequence = books.next();
    let json = complete(merged, &id, sequence, Some(&current));
    let Some(held) = books.calendars.get_mut(&calendar) else { return not_found() };
    let cancelled = held.events.get(&id).map(|s| s.cancelled.clone()).unwrap_or_default();
    held.events.insert(id.clone(), Stored { json: json.clone(), changed: sequence, deleted: false, cancelled });
    books.notify(&calendar, &id, &json["@odata.etag"], "updated");
    Json(answer_event(&json, &zone_name)).into_response()
}

async fn event_delete(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut books = shared.lock();
    let Some(current) = books.find(&calendar, &id) else { return not_found() };
    if !if_match(&headers, &current) {
        return conflict();
    }
    if remove(&mut books, &calendar, &id) { StatusCode::NO_CONTENT.into_response() } else { not_found() }
}

async fn get_schedule(State(shared): State<Shared>, headers: HeaderMap, Json(request): Json<Value>) -> Response {
    let (zone_name, _) = prefer(&headers);
    let (Some(start), Some(end)) = (instant(&request["startTime"], false), instant(&request["endTime"], false)) else {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "startTime and endTime are required.");
    };
    let Some(people) = request["schedules"].as_array().filter(|p| !p.is_empty() && p.len() <= 100) else {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "schedules holds 1 to 100 addresses.");
    };
    let books = shared.lock();
    let mut out = Vec::new();
    for person in people.iter().filter_map(Value::as_str) {
        let items: Option<Vec<Busy>> = if person.eq_ignore_ascii_case(USER) {
            Some(
                books
                    .instances(DEFAULT_CALENDAR, start, end)
                    .iter()
                    .filter(|e| e["isCancelled"] != true)
                    .filter_map(|e| {
                        let all = all_day(e);
                        Some((
                            instant(&e["start"], all)?,
                            instant(&e["end"], all)?,
                            e["showAs"].as_str().unwrap_or("busy").to_owned(),
                        ))
                    })
                    .collect(),
            )
        } else {
            books.schedules.get(&person.to_lowercase()).cloned()
        };
        let Some(items) = items else {
            out.push(json!({"scheduleId": person, "availabilityView": "", "scheduleItems": [],
                "error": {"message": format!("The user {person} was not found."), "responseCode": "ErrorMailRecipientNotFound"}}));
            continue;
        };
        let items: Vec<Value> = items
            .iter()
            .filter(|(s, e, status)| *s < end && *e > start && status != "free")
            .map(|(s, e, status)| json!({"isPrivate": false, "status": status,
                                          "start": in_zone(*s, &zone_name, false), "end": in_zone(*e, &zone_name, false)}))
            .collect();
        out.push(json!({"scheduleId": person, "availabilityView": "", "scheduleItems": items,
                        "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                                         "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                                         "timeZone": {"name": "W. Europe Standard Time"}}}));
    }
    Json(json!({"value": out})).into_response()
}

const ROLES: [&str; 7] = [
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
];

async fn permissions_list(State(shared): State<Shared>, Path(calendar): Path<String>) -> Response {
    let books = shared.lock();
    books.calendars.get(&calendar).map_or_else(not_found, |held| {
        let mut value = vec![json!({"id": "RGVmYXVsdA==", "isRemovable": false, "isInsideOrganization": true,
                                    "role": "freeBusyRead", "allowedRoles": ["none", "freeBusyRead", "limitedRead", "read"],
                                    "emailAddress": {"name": "My Organization"}})];
        value.extend(held.permissions.values().cloned());
        Json(json!({"value": value})).into_response()
    })
}

async fn permission_create(
    State(shared): State<Shared>,
    Path(calendar): Path<String>,
    Json(request): Json<Value>,
) -> Response {
    let mut books = shared.lock();
    let sequence = books.next();
    let Some(held) = books.calendars.get_mut(&calendar) else { return not_found() };
    let (Some(address), Some(role)) =
        (request.pointer("/emailAddress/address").and_then(Value::as_str), request["role"].as_str())
    else {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "emailAddress and role are required.");
    };
    if !ROLES.contains(&role) {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", &format!("'{role}' is not a calendar role."));
    }
    if held.permissions.values().any(|p| p.pointer("/emailAddress/address").and_then(Value::as_str) == Some(address)) {
        return error(StatusCode::CONFLICT, "ErrorItemAlreadyExists", "A permission for this user already exists.");
    }
    let id = format!("L289ExiAAcL{sequence:08}");
    let permission = json!({"id": id, "isRemovable": true, "isInsideOrganization": true, "role": role,
                            "allowedRoles": ROLES, "emailAddress": {"name": address, "address": address}});
    held.permissions.insert(id, permission.clone());
    (StatusCode::CREATED, Json(permission)).into_response()
}

async fn permission_patch(
    State(shared): State<Shared>,
    Path((calendar, id)): Path<(String, String)>,
    Json(request): Json<Value>,
) -> Response {
    let mut books = shared.lock();
    let Some(permission) = books.calendars.get_mut(&calendar).and_then(|h| h.permissions.get_mut(&id)) else {
        return not_found();
    };
    match request["role"].as_str() {
        Some(role) if ROLES.contains(&role) => {
            permission["role"] = json!(role);
            Json(permission.clone()).into_response()
        }
        _ => error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "role is not a calendar role."),
    }
}

async fn permission_delete(State(shared): State<Shared>, Path((calendar, id)): Path<(String, String)>) -> Response {
    let mut books = shared.lock();
    match books.calendars.get_mut(&calendar).and_then(|h| h.permissions.remove(&id)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}

/// The calendar a subscription's `resource` watches: `me/calendars/{id}/events` (or `me/events`:
/// the default calendar).
fn watched(resource: &str) -> Option<String> {
    let resource = resource.trim_start_matches('/');
    let lower = resource.to_ascii_lowercase();
    if lower == "me/events" || lower == "me/calendar/events" {
        return Some(DEFAULT_CALENDAR.to_owned());
    }
    let rest = resource.get("me/calendars/".len()..).filter(|_| lower.starts_with("me/calendars/"))?;
    let (id, tail) = rest.split_once('/')?;
    tail.eq_ignore_ascii_case("events").then(|| id.trim_start_matches("('").trim_end_matches("')").to_owned())
}

/// The expiry a request asks for, or Graph's `400`.
fn expiry(request: &Value) -> Result<DateTime<Utc>, Refusal> {
    let Some(at) = request["expirationDateTime"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) else {
        return Err(Refusal::bad("ExtensionError", "expirationDateTime is required."));
    };
    let at = at.to_utc();
    if at <= Utc::now() {
        return Err(Refusal::bad("ExtensionError", "Subscription expiration must be in the future."));
    }
    if at > Utc::now() + Duration::minutes(MAX_SUBSCRIPTION_MINUTES) {
        return Err(Refusal::bad(
            "ExtensionError",
            format!("Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes in the future."),
        ));
    }
    Ok(at)
}

async fn subscription_create(State(shared): State<Shared>, Json(request): Json<Value>) -> Response {
    let bad = |message: &str| error(StatusCode::BAD_REQUEST, "ExtensionError", message);
    let change = request["changeType"].as_str().unwrap_or_default();
    if change.is_empty() || !change.split(',').all(|c| matches!(c.trim(), "created" | "updated" | "deleted")) {
        return bad("changeType must be one or more of created, updated, deleted.");
    }
    let Some(calendar) = request["resource"].as_str().and_then(watched) else {
        return bad("The resource is not one that can be subscribed to.");
    };
    if !shared.lock().calendars.contains_key(&calendar) {
        return not_found();
    }
    if request["clientState"].as_str().is_some_and(|s| s.chars().count() > 128) {
        return bad("clientState must be at most 128 characters.");
    }
    let expires = match expiry(&request) {
        Ok(at) => at,
        Err(refusal) => return refusal.answer(),
    };
    let Some(url) = request["notificationUrl"].as_str().and_then(|u| url::Url::parse(u).ok()) else {
        return bad("notificationUrl is required.");
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !loopback {
        let message = if url.scheme() == "https" {
            "Subscription validation request failed: the fake calls notification URLs on loopback only."
        } else {
            "Subscription validation request failed. Must be an https URL."
        };
        return bad(message);
    }
    // Graph's validation request: the token must come back, as text, within ten seconds.
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {:032x}",
        fastrand::u128(..)
    );
    let mut check = url.clone();
    check.query_pairs_mut().append_pair("validationToken", &token);
    let answer = shared.http.post(check).header("content-type", "text/plain; charset=utf-8").send().await;
    let echoed = match answer {
        Ok(answer) if answer.status() == reqwest::StatusCode::OK => answer.text().await.ok(),
        _ => None,
    };
    if echoed.as_deref() != Some(token.as_str()) {
        return bad(
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        );
    }
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(..0x1000),
        fastrand::u64(..0x1_0000_0000_0000)
    );
    let json = json!({"id": id, "resource": request["resource"], "applicationId": CLIENT_ID, "changeType": change,
                      "clientState": request["clientState"], "notificationUrl": url.as_str(),
                      "expirationDateTime": expires.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                      "creatorId": USER_ID, "latestSupportedTlsVersion": "v1_2"});
    shared.lock().subscriptions.insert(id, Subscription { json: json.clone(), calendar, expires });
    (StatusCode::CREATED, Json(json)).into_response()
}

async fn subscriptions_list(State(shared): State<Shared>) -> Response {
    let now = Utc::now();
    let books = shared.lock();
    let value: Vec<Value> = books.subscriptions.values().filter(|s| s.expires > now).map(|s| s.json.clone()).collect();
    Json(json!({"value": value})).into_response()
}

async fn subscription_patch(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(request): Json<Value>,
) -> Response {
    let expires = match expiry(&request) {
        Ok(at) => at,
        Err(refusal) => return refusal.answer(),
    };
    let mut books = shared.lock();
    let now = Utc::now();
    books.subscriptions.retain(|_, s| s.expires > now);
    let Some(subscription) = books.subscriptions.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was not found.");
    };
    subscription.expires = expires;
    subscription.json["expirationDateTime"] = json!(expires.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
    Json(subscription.json.clone()).into_response()
}

async fn subscription_delete(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().subscriptions.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was not found."),
    }
}
