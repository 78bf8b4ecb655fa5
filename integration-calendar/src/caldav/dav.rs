//! CalDAV's XML: the request bodies (RFC 4791 calendar-query and calendar-multiget, RFC 6578
//! sync-collection, the PROPFINDs of discovery) and what a calendar adapter reads from a
//! multistatus — parsed by the WebDAV kit ([`integration_core::dav`]).

use integration_core::Result;
use integration_core::dav::{self, DAV, XML_HEADER as HEADER};

pub(super) use integration_core::dav::escape;

const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
const CALENDAR_SERVER: &str = "http://calendarserver.org/ns/";
const APPLE: &str = "http://apple.com/ns/ical/";

/// PROPFIND for the current user's principal.
pub(super) fn principal_query() -> String {
    format!(r#"{HEADER}<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#)
}

/// PROPFIND for a principal's calendar home.
pub(super) fn home_query() -> String {
    format!(
        r#"{HEADER}<d:propfind xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#
    )
}

/// PROPFIND (depth 1) of a calendar home: each collection and what describes a calendar.
pub(super) fn calendars_query() -> String {
    format!(
        r#"{HEADER}<d:propfind xmlns:d="DAV:" xmlns:c="{CALDAV}" xmlns:cs="{CALENDAR_SERVER}" xmlns:a="{APPLE}"><d:prop><d:resourcetype/><d:displayname/><d:sync-token/><d:owner/><d:current-user-privilege-set/><c:calendar-description/><c:calendar-timezone/><c:supported-calendar-component-set/><cs:getctag/><a:calendar-color/></d:prop></d:propfind>"#
    )
}

/// calendar-query: every event, or those with an occurrence in `[start, end)` (UTC,
/// `YYYYMMDDTHHMMSSZ`).
pub(super) fn events_query(range: Option<(&str, &str)>) -> String {
    let filter = match range {
        Some((start, end)) => format!(r#"<c:time-range start="{start}" end="{end}"/>"#),
        None => String::new(),
    };
    format!(
        r#"{HEADER}<c:calendar-query xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">{filter}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
    )
}

/// calendar-multiget of `hrefs`.
pub(super) fn multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs.iter().map(|h| format!("<d:href>{}</d:href>", escape(h))).collect();
    format!(
        r#"{HEADER}<c:calendar-multiget xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"#
    )
}

/// sync-collection from `token` (empty: everything).
pub(super) fn sync_collection(token: &str) -> String {
    format!(
        r#"{HEADER}<d:sync-collection xmlns:d="DAV:"><d:sync-token>{}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#,
        escape(token)
    )
}

/// One `response` of a multistatus: its href, its own status (a removed member in a
/// sync-collection answer is `404`), and the properties found (`200` propstats only).
#[derive(Debug, Default, Clone)]
pub(super) struct Entry {
    pub href: String,
    pub status: Option<u16>,
    pub etag: Option<String>,
    pub calendar_data: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub time_zone: Option<String>,
    pub color: Option<String>,
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    pub owner: Option<String>,
    pub principal: Option<String>,
    pub home: Option<String>,
    pub is_calendar: bool,
    /// The components a calendar holds (`VEVENT`, `VTODO`); empty when it does not say.
    pub components: Vec<String>,
    pub can_write: Option<bool>,
}

/// A multistatus answer: its responses, and (sync-collection) its new token.
#[derive(Debug, Default)]
pub(super) struct Multistatus {
    pub entries: Vec<Entry>,
    pub sync_token: Option<String>,
}

/// Reads a multistatus body into calendar entries.
///
/// # Errors
/// An `InvalidResponse` error for a body that is not a DAV multistatus.
pub(super) fn parse(body: &str) -> Result<Multistatus> {
    let answer = dav::parse(body)?;
    let entries = answer.responses.into_iter().map(entry).collect();
    Ok(Multistatus { entries, sync_token: answer.sync_token })
}

fn entry(response: dav::Response) -> Entry {
    let text = |ns: &str, name: &str| response.text(ns, name).map(str::to_owned);
    let mut entry = Entry {
        href: response.href.clone(),
        status: response.status,
        etag: text(DAV, "getetag"),
        calendar_data: response.prop(CALDAV, "calendar-data").and_then(|p| p.raw_text.clone()),
        display_name: text(DAV, "displayname"),
        description: text(CALDAV, "calendar-description"),
        time_zone: text(CALDAV, "calendar-timezone"),
        color: text(APPLE, "calendar-color"),
        sync_token: text(DAV, "sync-token"),
        ctag: text(CALENDAR_SERVER, "getctag"),
        owner: response.prop(DAV, "owner").and_then(|p| p.href.clone().or_else(|| p.text.clone())),
        principal: response.prop(DAV, "current-user-principal").and_then(|p| p.href.clone()),
        home: response.prop(CALDAV, "calendar-home-set").and_then(|p| p.href.clone()),
        ..Entry::default()
    };
    if let Some(kind) = response.prop(DAV, "resourcetype") {
        entry.is_calendar = kind.has_element(CALDAV, "calendar");
    }
    if let Some(set) = response.prop(CALDAV, "supported-calendar-component-set") {
        entry.components = set
            .elements
            .iter()
            .filter(|e| e.namespace == CALDAV && e.name == "comp")
            .filter_map(|e| e.attributes.iter().find(|(k, _)| k == "name").map(|(_, v)| v.to_ascii_uppercase()))
            .collect();
    }
    if let Some(privileges) = response.prop(DAV, "current-user-privilege-set") {
        entry.can_write =
            Some(privileges.elements.iter().any(|e| matches!(e.name.as_str(), "write" | "write-content" | "all")));
    }
    entry
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_sync_collection_answer_gives_changes_removals_and_the_new_token() {
        let body = r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/cal/b.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:sync-token>http://example.com/sync/2</d:sync-token></d:multistatus>"#;
        let answer = parse(body).expect("read");
        assert_eq!(answer.sync_token.as_deref(), Some("http://example.com/sync/2"));
        assert_eq!((answer.entries[0].href.as_str(), answer.entries[0].etag.as_deref()), ("/cal/a.ics", Some("\"1\"")));
        assert_eq!(answer.entries[1].status, Some(404));
        assert!(parse("<html/>").is_err());
        assert!(parse(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><d:multistatus xmlns:d="DAV:"/>"#).is_err(), "no DTDs");
        assert!(multiget(&["/a&b<c>.ics".into()]).contains("/a&amp;b&lt;c&gt;.ics"));
    }

    proptest! {
        /// Any text: a multistatus or an error, never a panic.
        #[test]
        fn any_body_is_read_or_refused(body in "\\PC{0,300}", inner in "[<>/a-z:=\" ]{0,200}") {
            let _ = parse(&body);
            let _ = parse(&format!(r#"<d:multistatus xmlns:d="DAV:"><d:response>{inner}</d:response></d:multistatus>"#));
        }
    }
}
