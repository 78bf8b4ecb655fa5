//! WebDAV and CalDAV XML: the request bodies (RFC 4918 PROPFIND, RFC 4791 calendar-query and
//! calendar-multiget, RFC 6578 sync-collection) and the multistatus answers, read with
//! `roxmltree` (no DTDs, a bounded number of nodes).

use integration_core::{Error, Result};

const DAV: &str = "DAV:";
const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
const CALENDAR_SERVER: &str = "http://calendarserver.org/ns/";
const APPLE: &str = "http://apple.com/ns/ical/";

/// The most XML nodes one answer may hold.
const MAX_NODES: u32 = 2_000_000;

/// `text` escaped for XML character data and attribute values.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const HEADER: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

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

fn status_code(text: &str) -> Option<u16> {
    text.split_whitespace().nth(1)?.parse().ok()
}

fn child_href(node: roxmltree::Node<'_, '_>) -> Option<String> {
    node.children().find(|c| c.has_tag_name((DAV, "href"))).and_then(|h| h.text()).map(|t| t.trim().to_owned())
}

fn text_of(node: roxmltree::Node<'_, '_>) -> Option<String> {
    let text: String = node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Reads a multistatus body.
///
/// # Errors
/// An `InvalidResponse` error for a body that is not a DAV multistatus.
pub(super) fn parse(body: &str) -> Result<Multistatus> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..Default::default() };
    let document = roxmltree::Document::parse_with_options(body, options)
        .map_err(|e| Error::invalid_response(format!("the server's answer is not XML: {e}")))?;
    let root = document.root_element();
    if !root.has_tag_name((DAV, "multistatus")) {
        return Err(Error::invalid_response(format!(
            "the server answered <{}>, not a DAV multistatus",
            root.tag_name().name()
        )));
    }
    let mut out = Multistatus::default();
    for node in root.children().filter(roxmltree::Node::is_element) {
        if node.has_tag_name((DAV, "sync-token")) {
            out.sync_token = text_of(node);
            continue;
        }
        if !node.has_tag_name((DAV, "response")) {
            continue;
        }
        let Some(href) = child_href(node) else { continue };
        let mut entry = Entry { href, ..Entry::default() };
        entry.status =
            node.children().find(|c| c.has_tag_name((DAV, "status"))).and_then(|s| s.text()).and_then(status_code);
        for propstat in node.children().filter(|c| c.has_tag_name((DAV, "propstat"))) {
            let ok = propstat
                .children()
                .find(|c| c.has_tag_name((DAV, "status")))
                .and_then(|s| s.text())
                .and_then(status_code)
                .is_none_or(|code| (200..300).contains(&code));
            let Some(prop) = propstat.children().find(|c| c.has_tag_name((DAV, "prop"))) else { continue };
            if !ok {
                continue;
            }
            for p in prop.children().filter(roxmltree::Node::is_element) {
                let (ns, name) = (p.tag_name().namespace().unwrap_or_default(), p.tag_name().name());
                match (ns, name) {
                    (DAV, "getetag") => entry.etag = text_of(p),
                    (DAV, "displayname") => entry.display_name = text_of(p),
                    (DAV, "sync-token") => entry.sync_token = text_of(p),
                    (DAV, "owner") => entry.owner = child_href(p).or_else(|| text_of(p)),
                    (DAV, "current-user-principal") => entry.principal = child_href(p),
                    (DAV, "resourcetype") => {
                        entry.is_calendar = p.children().any(|c| c.has_tag_name((CALDAV, "calendar")))
                    }
                    (DAV, "current-user-privilege-set") => {
                        let privileges: Vec<&str> =
                            p.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
                        entry.can_write =
                            Some(privileges.iter().any(|n| matches!(*n, "write" | "write-content" | "all")));
                    }
                    (CALDAV, "calendar-data") => entry.calendar_data = p.text().map(str::to_owned),
                    (CALDAV, "calendar-description") => entry.description = text_of(p),
                    (CALDAV, "calendar-timezone") => entry.time_zone = text_of(p),
                    (CALDAV, "calendar-home-set") => entry.home = child_href(p),
                    (CALDAV, "supported-calendar-component-set") => {
                        entry.components = p
                            .children()
                            .filter(|c| c.has_tag_name((CALDAV, "comp")))
                            .filter_map(|c| c.attribute("name"))
                            .map(str::to_ascii_uppercase)
                            .collect();
                    }
                    (CALENDAR_SERVER, "getctag") => entry.ctag = text_of(p),
                    (APPLE, "calendar-color") => entry.color = text_of(p),
                    _ => {}
                }
            }
        }
        out.entries.push(entry);
    }
    Ok(out)
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
