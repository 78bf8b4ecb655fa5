//! Radicale (PyPI, pinned by `peers/radicale/requirements.txt`), a CalDAV and CardDAV server
//! written by others, run by `peers/radicale/server.py`: its WSGI application served on
//! 127.0.0.1 on a port bound by the script (no race for it), its collections in a fresh
//! temporary folder, plain-text htpasswd users, owner-only rights, no delay after a failed
//! login (see `PEERS.md`).
//!
//! Radicale expands recurrences in `calendar-query` time ranges; `If-None-Match: *` on an
//! existing resource and a stale `If-Match` give `412`; `DELETE` answers `200`. Its expansion
//! (`<C:expand>`) steps in UTC: an occurrence after a daylight-saving change comes out an hour
//! off, so comparisons with it stay within one UTC offset.

use super::PythonPeer;

/// A running Radicale; stopped when dropped.
#[derive(Debug)]
pub struct Radicale {
    peer: PythonPeer,
}

impl Radicale {
    /// A user and its password.
    pub const USER: (&'static str, &'static str) = ("ada", "lovelace");
    /// Another user (whose calendars `USER` may not read).
    pub const OTHER_USER: (&'static str, &'static str) = ("kai", "secret");

    /// Starts Radicale on a free port, installing its pinned virtualenv first if needed;
    /// `None` (with the reason printed) when Python cannot install or run it on a developer's
    /// machine — under `CI=true` that fails the test instead. Blocks until it listens.
    pub fn start() -> Option<Self> {
        PythonPeer::start("radicale", "radicale", "server.py", &[]).map(|peer| Self { peer })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.peer.url
    }

    /// Sends `method` to `path` as `user`, as another CalDAV client would (not through the
    /// SDK): its status, `ETag` and body.
    pub async fn send(
        &self,
        user: (&str, &str),
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Option<String>, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request =
            reqwest::Client::new().request(method, format!("{}{path}", self.peer.url)).basic_auth(user.0, Some(user.1));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.body(body.to_owned()).send().await.expect("radicale answers");
        let status = answer.status().as_u16();
        let etag = answer.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, etag, answer.text().await.unwrap_or_default())
    }

    /// Makes calendar `name` of `user` (`/<user>/<name>/`), as a calendar app would. Its path.
    pub async fn make_calendar(&self, user: (&str, &str), name: &str, display_name: &str) -> String {
        let path = format!("/{}/{name}/", user.0);
        let body = format!(
            r#"<?xml version="1.0"?><d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>{display_name}</d:displayname><c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop></d:set></d:mkcol>"#
        );
        let (status, _, answer) = self.send(user, "MKCOL", &path, &[("Content-Type", "application/xml")], &body).await;
        assert_eq!(status, 201, "radicale made no calendar: {answer}");
        path
    }
}
