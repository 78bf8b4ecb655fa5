//! The WsgiDAV peer starts, serves its folder over WebDAV to its user, and refuses a wrong
//! password.

#![allow(clippy::unwrap_used)]

use integration_testkit::peers::WsgiDav;

async fn wsgidav_serves_its_folder_to_its_user_only() {
    let Some(dav) = WsgiDav::start() else { return };
    let http = reqwest::Client::new();
    let put = http
        .put(format!("{}/notes.txt", dav.url()))
        .basic_auth(WsgiDav::USER, Some(WsgiDav::PASSWORD))
        .body("hello")
        .send()
        .await
        .expect("answers");
    assert_eq!(put.status().as_u16(), 201);
    assert_eq!(std::fs::read_to_string(dav.root().join("notes.txt")).expect("written"), "hello");
    let listing = http
        .request(reqwest::Method::from_bytes(b"PROPFIND").expect("a method"), format!("{}/", dav.url()))
        .basic_auth(WsgiDav::USER, Some(WsgiDav::PASSWORD))
        .header("depth", "1")
        .send()
        .await
        .expect("answers");
    assert_eq!(listing.status().as_u16(), 207);
    let listing = listing.text().await.expect("XML");
    assert!(listing.contains("notes.txt") && listing.contains("getetag"), "{listing}");
    let refused = http
        .get(format!("{}/notes.txt", dav.url()))
        .basic_auth(WsgiDav::USER, Some("wrong"))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status().as_u16(), 401);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("wsgidav")],
        integration_testkit::trials![async wsgidav_serves_its_folder_to_its_user_only],
    )
}
