//! WebDAV's XML (RFC 4918), shared by every adapter that speaks it — CalDAV calendars, WebDAV
//! storage: `PROPFIND` bodies and the `207 Multi-Status` answers, read with `roxmltree` (no
//! DTDs, a bounded number of nodes) into plain data the adapter then picks from.
//!
//! ```
//! use integration_core::dav::{self, DAV};
//!
//! let body = dav::propfind(&[(DAV, "getetag"), (DAV, "resourcetype")]);
//! assert!(body.contains("<d:getetag/>"));
//! let answer = dav::parse(r#"<?xml version="1.0"?>
//!   <d:multistatus xmlns:d="DAV:"><d:response><d:href>/files/a%20b.txt</d:href>
//!   <d:propstat><d:prop><d:getetag>"1"</d:getetag><d:resourcetype/></d:prop>
//!   <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#)?;
//! let response = &answer.responses[0];
//! assert_eq!(response.href, "/files/a%20b.txt");
//! assert_eq!(response.text(DAV, "getetag"), Some("\"1\""));
//! assert!(!response.prop(DAV, "resourcetype").is_some_and(|p| p.has_element(DAV, "collection")));
//! # Ok::<(), integration_core::Error>(())
//! ```

use crate::{Error, Result};

/// The `DAV:` namespace.
pub const DAV: &str = "DAV:";

/// The most XML nodes one answer may hold.
const MAX_NODES: u32 = 2_000_000;

/// The XML declaration every body starts with.
pub const XML_HEADER: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

/// `text` escaped for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A `PROPFIND` body asking for `props` (namespace, name). Namespaces other than `DAV:` are
/// declared as `n0`, `n1`…
pub fn propfind(props: &[(&str, &str)]) -> String {
    let mut namespaces: Vec<&str> = Vec::new();
    let mut wanted = String::new();
    for (namespace, name) in props {
        if *namespace == DAV {
            wanted.push_str(&format!("<d:{name}/>"));
            continue;
        }
        let index = namespaces.iter().position(|n| n == namespace).unwrap_or_else(|| {
            namespaces.push(namespace);
            namespaces.len() - 1
        });
        wanted.push_str(&format!("<n{index}:{name}/>"));
    }
    let declarations: String =
        namespaces.iter().enumerate().map(|(i, n)| format!(r#" xmlns:n{i}="{}""#, escape(n))).collect();
    format!(r#"{XML_HEADER}<d:propfind xmlns:d="DAV:"{declarations}><d:prop>{wanted}</d:prop></d:propfind>"#)
}

/// An element inside a property, with its attributes (`<d:collection/>` in a `resourcetype`,
/// `<c:comp name="VEVENT"/>`, `<d:write/>` in a privilege set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Its namespace.
    pub namespace: String,
    /// Its local name.
    pub name: String,
    /// Its attributes, by local name.
    pub attributes: Vec<(String, String)>,
}

/// One property of a response, as found (only those of `2xx` propstats are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Property {
    /// Its namespace.
    pub namespace: String,
    /// Its local name.
    pub name: String,
    /// All the text inside it, trimmed; `None` when there is none.
    pub text: Option<String>,
    /// Its own text exactly as sent (calendar data, whose line ends matter).
    pub raw_text: Option<String>,
    /// The `DAV:href` directly inside it (`owner`, `current-user-principal`), trimmed.
    pub href: Option<String>,
    /// Every element inside it, at any depth, in document order.
    pub elements: Vec<Element>,
}

impl Property {
    /// Whether an element `namespace:name` is inside it.
    pub fn has_element(&self, namespace: &str, name: &str) -> bool {
        self.elements.iter().any(|e| e.namespace == namespace && e.name == name)
    }
}

/// One `response` of a multistatus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Its `href`, as sent (percent-encoded), trimmed.
    pub href: String,
    /// Its own status, when it has one (a removed member in a sync-collection answer: `404`).
    pub status: Option<u16>,
    /// The properties found.
    pub props: Vec<Property>,
}

impl Response {
    /// The property `namespace:name`, if found.
    pub fn prop(&self, namespace: &str, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    /// The text of property `namespace:name`, if found and not empty.
    pub fn text(&self, namespace: &str, name: &str) -> Option<&str> {
        self.prop(namespace, name).and_then(|p| p.text.as_deref())
    }

    /// Whether it is a collection (`resourcetype` holds `DAV:collection`).
    pub fn is_collection(&self) -> bool {
        self.prop(DAV, "resourcetype").is_some_and(|p| p.has_element(DAV, "collection"))
    }
}

/// A multistatus answer: its responses, and (sync-collection) its new token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multistatus {
    /// The responses, in order.
    pub responses: Vec<Response>,
    /// The `sync-token` of a sync-collection answer.
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

fn property(node: roxmltree::Node<'_, '_>) -> Property {
    Property {
        namespace: node.tag_name().namespace().unwrap_or_default().to_owned(),
        name: node.tag_name().name().to_owned(),
        text: text_of(node),
        raw_text: node.text().map(str::to_owned),
        href: child_href(node),
        elements: node
            .descendants()
            .skip(1)
            .filter(roxmltree::Node::is_element)
            .map(|e| Element {
                namespace: e.tag_name().namespace().unwrap_or_default().to_owned(),
                name: e.tag_name().name().to_owned(),
                attributes: e.attributes().map(|a| (a.name().to_owned(), a.value().to_owned())).collect(),
            })
            .collect(),
    }
}

/// Reads a multistatus body.
///
/// # Errors
/// An `InvalidResponse` error for a body that is not XML (or declares a DTD, or holds more than
/// two million nodes) or not a DAV multistatus.
pub fn parse(body: &str) -> Result<Multistatus> {
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
        let status =
            node.children().find(|c| c.has_tag_name((DAV, "status"))).and_then(|s| s.text()).and_then(status_code);
        let mut response = Response { href, status, props: Vec::new() };
        for propstat in node.children().filter(|c| c.has_tag_name((DAV, "propstat"))) {
            let ok = propstat
                .children()
                .find(|c| c.has_tag_name((DAV, "status")))
                .and_then(|s| s.text())
                .and_then(status_code)
                .is_none_or(|code| (200..300).contains(&code));
            let Some(prop) = propstat.children().find(|c| c.has_tag_name((DAV, "prop"))) else { continue };
            if ok {
                response.props.extend(prop.children().filter(roxmltree::Node::is_element).map(property));
            }
        }
        out.responses.push(response);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_sync_collection_answer_gives_changes_removals_and_the_new_token() {
        let body = r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:displayname/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>/cal/b.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:sync-token>http://example.com/sync/2</d:sync-token></d:multistatus>"#;
        let answer = parse(body).expect("read");
        assert_eq!(answer.sync_token.as_deref(), Some("http://example.com/sync/2"));
        assert_eq!(answer.responses[0].href, "/cal/a.ics");
        assert_eq!(answer.responses[0].text(DAV, "getetag"), Some("\"1\""));
        assert!(answer.responses[0].prop(DAV, "displayname").is_none(), "a 404 propstat is not kept");
        assert_eq!(answer.responses[1].status, Some(404));
        assert!(parse("<html/>").is_err());
        assert!(parse(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><d:multistatus xmlns:d="DAV:"/>"#).is_err(), "no DTDs");
    }

    #[test]
    fn propfind_declares_each_namespace_once() {
        let body = propfind(&[(DAV, "getetag"), ("urn:x", "a"), ("urn:y", "b"), ("urn:x", "c")]);
        assert!(body.contains(r#"xmlns:n0="urn:x" xmlns:n1="urn:y""#), "{body}");
        assert!(body.contains("<d:getetag/><n0:a/><n1:b/><n0:c/>"), "{body}");
        assert!(roxmltree::Document::parse(&body).is_ok(), "well-formed");
        assert_eq!(escape(r#"a&b<c>"d"#), "a&amp;b&lt;c&gt;&quot;d");
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
