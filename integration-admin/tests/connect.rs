//! The connect flow: OAuth 2.0 with PKCE against the Google Drive fake (state, session and
//! tenant bound; the code exchanged once), and the form generated from BambooHR's configuration
//! schema (errors next to their fields, secrets never sent back).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::{World, acme};
use integration_core::store::{ConfigStore, TokenStore};
use integration_core::{ConnectionId, ConnectionStatus};
use reqwest::StatusCode;

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// Starts the OAuth flow as alice; the provider's URL and the cookie.
async fn start(world: &World) -> (String, String) {
    let token = world.csrf("session-alice");
    let answer = world.get("alice", &format!("connect/google_drive?tenant=acme&connection=drive&csrf={token}")).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let cookie = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/admin/"),
        "{cookie}"
    );
    let value = cookie.split(';').next().unwrap().to_owned();
    (answer.headers()["location"].to_str().unwrap().to_owned(), value)
}

/// Consents at the fake: where it sends the browser back.
async fn consent(authorize: &str) -> String {
    let client = World::client();
    let page = client.get(authorize).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Allow access"));
    let (action, params) = authorize.split_once('?').unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(params.as_bytes()).into_owned().collect();
    let answer = client.post(action).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    answer.headers()["location"].to_str().unwrap().to_owned()
}

async fn callback(user: &str, back: &str, cookie: &str) -> reqwest::Response {
    World::client().get(back).header("x-test-user", user).header("cookie", cookie).send().await.unwrap()
}

#[tokio::test]
async fn oauth_with_pkce_connects_and_stores_the_tokens_sealed() {
    let world = World::start().await;
    let (authorize, cookie) = start(&world).await;
    let asked = query(&authorize);
    assert!(authorize.starts_with(&world.drive.authorization_url()), "{authorize}");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["redirect_uri"], world.url("connect/google_drive/callback"));
    assert_eq!(asked["access_type"], "offline", "the spec's authorization parameters");
    assert!(!cookie.contains(&asked["state"]), "the state travels sealed");

    let back = consent(&authorize).await;
    let done = callback("alice", &back, &cookie).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", done.text().await.unwrap());
    assert!(done.headers()["location"].to_str().unwrap().ends_with("?tenant=acme&connected=drive"));
    assert!(
        done.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"),
        "the pending authorization is cleared"
    );

    let drive = ConnectionId::new("drive").unwrap();
    let stored = world.store.get(&acme(), &drive).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert!(world.store.token(&acme(), &drive).await.unwrap().is_some(), "the tokens are in the vault");
    let loaded = world.connections.load(&acme(), &drive).await.unwrap();
    assert!(loaded.secrets.get("refresh_token").is_none(), "the refresh token lives in the vault only");

    // The connection works: its adapter reads the drive with the stored token.
    let adapter = world.registry.build(loaded).unwrap();
    adapter.connect().await.unwrap();
    let view: serde_json::Value = world.get("alice", "api/tenants/acme/connections").await.json().await.unwrap();
    assert_eq!(view["connections"][0]["standing"], "healthy");

    // The code was used: the same callback again is refused (no pending authorization either).
    assert_eq!(callback("alice", &back, &cookie).await.status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_callback_in_another_session_or_with_another_state_connects_nothing() {
    let world = World::start().await;
    let (authorize, cookie) = start(&world).await;
    let back = consent(&authorize).await;
    let other = callback("alice-other-session", &back, &cookie).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(other.text().await.unwrap().contains("another session"));
    let forged = back.replace("state=", "state=x");
    assert_eq!(callback("alice", &forged, &cookie).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        callback("alice", &back, "integrations_connect=tampered.k1:AAAA").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(callback("alice", &back, "").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(callback("bob", &back, &cookie).await.status(), StatusCode::FORBIDDEN, "bob cannot see acme");
    let denied = world.url("connect/google_drive/callback?error=access_denied&state=x");
    let answer = callback("alice", &denied, &cookie).await;
    assert!(answer.text().await.unwrap().contains("did not authorize"));
    assert!(world.store.get(&acme(), &ConnectionId::new("drive").unwrap()).await.unwrap().is_none(), "nothing saved");
    // Starting needs the session's CSRF token too.
    let unsigned = world.get("alice", "connect/google_drive?tenant=acme").await;
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
}

async fn submit(world: &World, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = world.csrf("session-alice");
    let mut form = vec![("csrf", token.as_str()), ("tenant", "acme")];
    form.extend_from_slice(fields);
    World::client().post(world.url("connect/bamboohr")).header("x-test-user", "alice").form(&form).send().await.unwrap()
}

#[tokio::test]
async fn the_form_checks_each_field_and_never_sends_a_secret_back() {
    let world = World::start().await;
    let bad = submit(
        &world,
        &[
            ("connection", "hr"),
            ("field.company_domain", "Not A Label!"),
            ("field.api_key", ""),
            ("field.base_url", "ftp://x"),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.unwrap();
    for field in ["company_domain", "api_key", "base_url"] {
        assert!(page.contains(&format!(r#"id="error.{field}""#)), "an error next to {field}: {page}");
    }
    assert!(page.contains(r#"value="Not A Label!""#), "what was typed is shown again");
    assert!(world.store.get(&acme(), &ConnectionId::new("hr").unwrap()).await.unwrap().is_none());

    let base = world.bamboohr.base_url();
    let wrong_key = submit(
        &world,
        &[
            ("connection", "hr"),
            ("field.company_domain", "acme"),
            ("field.api_key", "wrong-key-SECRET"),
            ("field.base_url", &base),
        ],
    )
    .await;
    assert_eq!(wrong_key.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = wrong_key.text().await.unwrap();
    assert!(!page.contains("wrong-key-SECRET"), "a secret is never sent back");
    assert!(page.contains(r#"id="problem""#), "the provider's refusal is shown: {page}");

    let config = world.bamboohr.config(acme(), ConnectionId::new("x").unwrap());
    let key = secrecy::ExposeSecret::expose_secret(config.secret("api_key").unwrap()).to_owned();
    let company = config.settings["company_domain"].as_str().unwrap().to_owned();
    let good = submit(
        &world,
        &[("connection", "hr"), ("field.company_domain", &company), ("field.api_key", &key), ("field.base_url", &base)],
    )
    .await;
    assert_eq!(good.status(), StatusCode::SEE_OTHER, "{}", good.text().await.unwrap());
    let hr = ConnectionId::new("hr").unwrap();
    assert_eq!(world.connections.status(&acme(), &hr).await.unwrap(), Some(ConnectionStatus::Active));
    let audited = world.store.audit_events(&acme());
    assert!(audited.iter().any(|e| e.detail == "alice: connected bamboohr"), "{audited:?}");
}
