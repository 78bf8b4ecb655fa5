//! CalDAV (RFC 4791) over the core HTTP client — its retries, rate limits and circuit breaker
//! apply to every request —, with Basic authentication:
//!
//! - discovery: the principal (`current-user-principal`), its `calendar-home-set`, then the
//!   calendars in it (collections whose `resourcetype` is a calendar holding events); ids are
//!   the server's paths — a calendar's collection, an event's resource;
//! - events: one `calendar-query` REPORT per calendar (a page each); a window asks the server
//!   for a `time-range` (it expands recurrences to choose); one resource is one event with its
//!   exceptions; a resource that cannot be read is a rejected record with its iCalendar text;
//! - changes: `sync-collection` (RFC 6578) from each calendar's token — changed resources read
//!   back by `calendar-multiget`, removed ones as tombstones —; the tokens of all calendars
//!   travel as one (JSON) sync token; a token the server no longer accepts is
//!   `ResyncRequired`. A full pass takes each calendar's `sync-token` before reading it, so what
//!   changes during the pass is read again on the next one;
//! - writes: `PUT` of the iCalendar object — a new one with `If-None-Match: *` at a path made
//!   from its UID (a retry after a lost answer finds its own event, not a second one), an update
//!   with `If-Match` (a stale ETag is `Conflict`) —, `DELETE` with `If-Match` (already gone is
//!   done).
//!
//! Configuration: `base_url` (the server, a principal or a calendar home: discovery starts
//! there), `username`; secret `password`.
//!
//! Not supported: sharing (CalDAV servers share through extensions — CalendarServer's sharing,
//! ACLs — not the protocol). A server without `sync-collection` (no `sync-token` on a calendar)
//! has its incremental passes answered `ResyncRequired`: the engine reads in full, deletions
//! found.

mod dav;

use std::collections::BTreeMap;
use std::sync::Arc;

use integration_core::auth::Basic;
use integration_core::http::Method;
use integration_core::integration::RejectedRecord;
use url::Url;

use crate::ical;
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "caldav";

/// The most resources one `calendar-multiget` names.
const MULTIGET_BATCH: usize = 100;

/// The largest answer read (a calendar's events in one REPORT).
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Where the account's calendars are.
#[derive(Debug, Clone)]
struct Home {
    principal: String,
    home: String,
}

/// The CalDAV adapter for one connection (one account on one server).
#[derive(Debug)]
pub struct CalDav {
    descriptor: Descriptor,
    http: ProviderClient,
    base: Url,
    user: String,
    home: tokio::sync::OnceCell<Home>,
}

impl Adapter for CalDav {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::CHANGES, capability::WRITE, Capability::HEALTH_CHECK];
        descriptor(PROVIDER, "CalDAV", "https://www.rfc-editor.org/rfc/rfc4791", capabilities)
            .http_policy(HttpPolicy::standard())
            .base_url(None, "the CalDAV server, a principal or a calendar home (discovery starts there)")
            .setting("username", FieldFormat::Text, "the account's user name")
            .secret("password", FieldFormat::Text, "the account's password (an app password where the server has them)")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let base = config.base_url(None)?;
        let user = config
            .settings
            .get("username")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::config("a CalDAV connection names its user").with_field("settings.username"))?
            .to_owned();
        let password = config.secret("password")?;
        let http = context
            .provider_client(&descriptor, config)
            .with_auth(Arc::new(Basic::new(&user, password.expose_secret())));
        Ok(Self { descriptor, http, base, user, home: tokio::sync::OnceCell::new() })
    }
}

/// A calendar as listed: its path and what the server says of it.
struct Collection {
    href: String,
    info: CalendarInfo,
    sync_token: Option<String>,
}

impl CalDav {
    /// `href` (a path from the server) on the configured server: another origin is refused,
    /// so credentials never go elsewhere.
    fn url(&self, href: &str) -> Result<Url> {
        let url = self.base.join(href).map_err(|e| Error::invalid_response(format!("{href:?} is not a path: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(Error::invalid_response(format!("the server pointed to another host ({href}); not followed"))
                .with_provider(PROVIDER));
        }
        Ok(url)
    }

    /// A DAV request with an XML body, its multistatus read.
    async fn dav(&self, method: &str, href: &str, depth: &str, body: String) -> Result<dav::Multistatus> {
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| Error::config(e.to_string()))?;
        let template = format!("{method} {{collection}}");
        let answer = self
            .http
            .request(method, self.url(href)?)
            .header("Depth", depth)
            .body(body, "application/xml; charset=utf-8")
            .read_only()
            .path_template(template)
            .max_body_bytes(MAX_ANSWER_BYTES)
            .send()
            .await?;
        let text = String::from_utf8_lossy(answer.bytes());
        dav::parse(&text).map_err(|e| e.with_provider(PROVIDER))
    }

    /// The principal and calendar home, found once.
    async fn home(&self) -> Result<&Home> {
        self.home
            .get_or_try_init(|| async {
                let start = self.base.path().to_owned();
                let found = self.dav("PROPFIND", &start, "0", dav::principal_query()).await?;
                let principal = found.entries.iter().find_map(|e| e.principal.clone()).unwrap_or_else(|| start.clone());
                let found = self.dav("PROPFIND", &principal, "0", dav::home_query()).await?;
                let home = found.entries.iter().find_map(|e| e.home.clone()).unwrap_or_else(|| principal.clone());
                Ok(Home { principal, home })
            })
            .await
    }

    /// The calendars holding events, by path.
    async fn collections(&self) -> Result<Vec<Collection>> {
        let home = self.home().await?.home.clone();
        let found = self.dav("PROPFIND", &home, "1", dav::calendars_query()).await?;
        let mut out: Vec<Collection> = found
            .entries
            .into_iter()
            .filter(|e| e.is_calendar && (e.components.is_empty() || e.components.iter().any(|c| c == "VEVENT")))
            .map(|e| {
                let role = match e.can_write {
                    Some(true) => Some(AccessRole::Writer),
                    Some(false) => Some(AccessRole::Reader),
                    None => None,
                };
                let info = CalendarInfo {
                    name: e.display_name.clone().unwrap_or_else(|| e.href.clone()),
                    description: e.description,
                    owner: e.owner,
                    time_zone: e.time_zone.as_deref().and_then(zone_of_vtimezone),
                    access_role: role,
                    primary: false,
                    color: e.color,
                    version: e.sync_token.clone().or(e.ctag),
                };
                Collection { href: e.href, info, sync_token: e.sync_token }
            })
            .collect();
        out.sort_by(|a, b| a.href.cmp(&b.href));
        Ok(out)
    }

    /// The resources of a multistatus as events of `calendar`: each a record, or a rejection
    /// with its iCalendar text.
    fn records(calendar: &str, entries: Vec<dav::Entry>) -> (Vec<Remote<Event>>, Vec<RejectedRecord>) {
        let (mut ok, mut rejected) = (Vec::new(), Vec::new());
        for entry in entries {
            let Some(text) = entry.calendar_data else { continue };
            match resource(calendar, &entry.href, &text, entry.etag.clone()) {
                Ok(event) => ok.push(event),
                Err(error) => {
                    let error = error.with_record(entry.href.clone()).with_provider(PROVIDER);
                    rejected.push(RejectedRecord::new(Some(entry.href), Value::String(text), error));
                }
            }
        }
        (ok, rejected)
    }

    /// The full events of one calendar.
    async fn calendar_events(&self, calendar: &str, range: Option<(&str, &str)>) -> Result<dav::Multistatus> {
        self.dav("REPORT", calendar, "1", dav::events_query(range)).await
    }

    /// What changed in `calendar` since `token` (`""`: everything): records, tombstones,
    /// rejections, and the new token.
    async fn calendar_changes(&self, calendar: &str, token: &str) -> Result<(Listing<Event>, Option<String>)> {
        let answer = match self.dav("REPORT", calendar, "0", dav::sync_collection(token)).await {
            Ok(answer) => answer,
            Err(e) if is_invalid_token(&e) => {
                return Err(Error::resync_required(format!(
                    "the server no longer accepts calendar {calendar}'s sync token: the events are read in full"
                ))
                .with_provider(PROVIDER));
            }
            Err(e) => return Err(e),
        };
        let mut listing = Listing::new(Vec::new(), None);
        let mut changed = Vec::new();
        for entry in answer.entries {
            if entry.href.trim_end_matches('/') == calendar.trim_end_matches('/') {
                continue;
            }
            if entry.status == Some(404) {
                listing.items.push(Remote::deleted(entry.href));
            } else {
                changed.push(entry.href);
            }
        }
        for batch in changed.chunks(MULTIGET_BATCH) {
            let found = self.dav("REPORT", calendar, "1", dav::multiget(batch)).await?;
            let (ok, rejected) = Self::records(calendar, found.entries);
            listing.items.extend(ok);
            listing.rejected.extend(rejected);
        }
        Ok((listing, answer.sync_token))
    }

    /// A `PUT` of `event` at `href` with `condition` (`If-None-Match: *` or `If-Match`).
    async fn put(&self, href: &str, event: &Event, condition: (&str, &str)) -> Result<Option<String>> {
        let answer = self
            .http
            .request(Method::PUT, self.url(href)?)
            .header(condition.0, condition.1)
            .body(ical::write(event), "text/calendar; charset=utf-8")
            .idempotent()
            .path_template("PUT {event}".to_owned())
            .send()
            .await?;
        Ok(answer.header("etag").map(str::to_owned))
    }
}

/// Whether a sync-collection error says the token is no longer valid (RFC 6578 §3.2: the
/// `DAV:valid-sync-token` precondition, `403` or `409`).
fn is_invalid_token(error: &Error) -> bool {
    matches!(error.status(), Some(403 | 409 | 410)) && error.body().is_some_and(|b| b.contains("valid-sync-token"))
        || error.status() == Some(410)
}

/// The zone a `calendar-timezone` (a VTIMEZONE object) names, when it is an IANA one.
fn zone_of_vtimezone(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.trim_start().to_ascii_uppercase().starts_with("TZID"))?;
    let name = line.split_once(':')?.1.trim();
    crate::time::parse_zone(name).ok().map(|_| name.to_owned())
}

/// One calendar object resource as an event (a series with its exceptions).
fn resource(calendar: &str, href: &str, text: &str, etag: Option<String>) -> Result<Remote<Event>> {
    let mut events = ical::parse(text)?;
    if events.len() != 1 {
        return Err(Error::validation(
            "UID",
            format!("a calendar object resource holds one event (RFC 4791 §4.1); this one holds {}", events.len()),
        ));
    }
    let mut event = events.remove(0);
    event.calendar_id = Some(calendar.to_owned());
    event.etag = etag;
    let updated = event.updated;
    Ok(Remote::new(href, event).modified(updated).with_remote_data(Value::String(text.to_owned())))
}

/// The resource name for `uid`: the UID itself when it is plain, otherwise a digest of it.
fn resource_name(uid: &str) -> String {
    let plain =
        uid.len() <= 120 && uid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if plain && !uid.starts_with('.') {
        format!("{uid}.ics")
    } else {
        let key = OperationKey::new(uid).map(|k| k.for_provider(64)).unwrap_or_default();
        format!("{key}.ics")
    }
}

/// The tokens of every calendar, as one sync token.
fn token_map(text: Option<&str>) -> Result<BTreeMap<String, String>> {
    match text {
        None | Some("") => Ok(BTreeMap::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|_| Error::validation("sync_token", "not a CalDAV sync token of this adapter")),
    }
}

#[async_trait]
impl Integration for CalDav {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let home = self.home().await?;
        Ok(ConnectionInfo::with_account(home.principal.clone(), Some(self.user.clone())))
    }

    /// A `PROPFIND` of the calendar home, every time (discovery is remembered; the server's
    /// health is not).
    async fn health_check(&self) -> Result<Health> {
        let probe = async {
            let home = self.home().await?.home.clone();
            self.dav("PROPFIND", &home, "0", dav::home_query()).await
        };
        Ok(Health::probe(probe).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }
}

#[async_trait]
impl Calendar for CalDav {
    async fn calendars(&self, request: ListRequest) -> Result<Listing<CalendarInfo>> {
        let _ = request;
        let items = self.collections().await?.into_iter().map(|c| Remote::new(c.href, c.info)).collect();
        Ok(Listing::new(items, None))
    }

    /// One calendar a page (the cursor is the next calendar's path); incremental passes read
    /// every calendar's changes in one page.
    async fn events(&self, request: ListRequest) -> Result<Listing<Event>> {
        let collections = self.collections().await?;
        if let Some(token) = request.sync_token.as_deref().filter(|_| request.since.is_some()) {
            let mut tokens = token_map(Some(token))?;
            let mut out = Listing::new(Vec::new(), None);
            let mut next_tokens = BTreeMap::new();
            if let Some(without) = collections.iter().find(|c| c.sync_token.is_none()) {
                // No sync-collection there (RFC 6578): only a full read finds its changes.
                return Err(Error::resync_required(format!(
                    "calendar {} has no sync token (the server lacks sync-collection): the events are read in full",
                    without.href
                ))
                .with_provider(PROVIDER));
            }
            for collection in &collections {
                let from = tokens.remove(&collection.href).unwrap_or_default();
                let (listing, new) = self.calendar_changes(&collection.href, &from).await?;
                out.items.extend(listing.items);
                out.rejected.extend(listing.rejected);
                if let Some(new) = new.or_else(|| (!from.is_empty()).then_some(from)) {
                    next_tokens.insert(collection.href.clone(), new);
                }
            }
            let token = serde_json::to_string(&next_tokens).unwrap_or_default();
            return Ok(out.with_sync_token(Some(token)));
        }
        let position = match &request.cursor {
            None => 0,
            Some(cursor) => collections.iter().position(|c| c.href >= *cursor).unwrap_or(collections.len()),
        };
        let Some(collection) = collections.get(position) else { return Ok(Listing::new(Vec::new(), None)) };
        // The tokens before anything is read: changes made during this pass are read next time.
        let tokens = (request.cursor.is_none()).then(|| {
            let map: BTreeMap<&str, &str> =
                collections.iter().filter_map(|c| Some((c.href.as_str(), c.sync_token.as_deref()?))).collect();
            serde_json::to_string(&map).unwrap_or_default()
        });
        let answer = self.calendar_events(&collection.href, None).await?;
        let (items, rejected) = Self::records(&collection.href, answer.entries);
        let next = collections.get(position + 1).map(|c| c.href.clone());
        let mut listing = Listing::new(items, next);
        listing.rejected = rejected;
        Ok(listing.with_sync_token(tokens))
    }

    async fn events_between(&self, calendar_id: &str, window: &Interval) -> Result<Vec<Remote<Event>>> {
        let format = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let (start, end) = (format(window.start), format(window.end));
        let answer = self.calendar_events(calendar_id, Some((&start, &end))).await?;
        let (items, rejected) = Self::records(calendar_id, answer.entries);
        if let Some(first) = rejected.into_iter().next() {
            return Err(first.error);
        }
        Ok(items)
    }

    async fn event(&self, calendar_id: &str, event_id: &str) -> Result<Remote<Event>> {
        let answer = self
            .http
            .request(Method::GET, self.url(event_id)?)
            .read_only()
            .path_template("GET {event}".to_owned())
            .send()
            .await?;
        let etag = answer.header("etag").map(str::to_owned);
        let text = String::from_utf8_lossy(answer.bytes()).into_owned();
        resource(calendar_id, event_id, &text, etag).map_err(|e| e.with_record(event_id).with_provider(PROVIDER))
    }

    async fn create_event(&self, calendar_id: &str, operation: &OperationKey, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let mut event = event.clone();
        if event.uid.trim().is_empty() {
            event.uid = operation.for_provider(120);
        }
        let href = format!("{}/{}", calendar_id.trim_end_matches('/'), resource_name(&event.uid));
        match self.put(&href, &event, ("If-None-Match", "*")).await {
            Ok(_) => self.event(calendar_id, &href).await,
            // Already there: ours, made by an earlier attempt whose answer was lost, or
            // another event with the same UID.
            Err(e) if e.kind() == ErrorKind::Conflict => {
                let existing = self.event(calendar_id, &href).await?;
                if existing.fields.uid == event.uid && existing.fields.summary == event.summary {
                    Ok(existing)
                } else {
                    Err(Error::conflict(format!("an event with UID {:?} already exists in {calendar_id}", event.uid))
                        .with_provider(PROVIDER))
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn update_event(&self, calendar_id: &str, event_id: &str, event: &Event) -> Result<Remote<Event>> {
        event.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let condition = match &event.etag {
            Some(etag) => ("If-Match", etag.as_str()),
            None => ("If-Match", "*"),
        };
        self.put(event_id, event, condition).await.map_err(|e| {
            if e.kind() == ErrorKind::Conflict {
                crate::conditional::stale_update(PROVIDER, event_id, event.etag.as_deref())
            } else {
                e
            }
        })?;
        self.event(calendar_id, event_id).await
    }

    async fn delete_event(&self, calendar_id: &str, event_id: &str, etag: Option<&str>) -> Result<()> {
        let _ = calendar_id;
        let mut request = self.http.request(Method::DELETE, self.url(event_id)?).idempotent();
        if let Some(etag) = etag {
            request = request.header("If-Match", etag);
        }
        crate::conditional::deleted(
            request.path_template("DELETE {event}".to_owned()).send().await,
            |e| e.kind() == ErrorKind::Conflict,
            PROVIDER,
            event_id,
        )
    }
}
