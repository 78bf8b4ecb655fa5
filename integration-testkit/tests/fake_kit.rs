//! The fake-provider kit behaves like the APIs it stands for: every paging style serves a
//! listing exactly once, change listings and delta tokens carry exactly the changes (tombstones
//! included), the auth checks refuse what they should, OAuth2 tokens expire and refresh tokens
//! rotate, and webhook deliveries verify.

use std::collections::{BTreeMap, BTreeSet};

use integration_core::WebhookScheme;
use integration_core::webhook::{VerifyOptions, WebhookSecret};
use integration_testkit::fake::FakeServer;
use integration_testkit::fake::app::FakeApi;
use integration_testkit::fake::auth::{Auth, TokenIssuer};
use integration_testkit::fake::collection::Collection;
use integration_testkit::fake::dataset::Dataset;
use integration_testkit::fake::faults::Fault;
use integration_testkit::fake::paging::Paging;
use integration_testkit::fake::receiver::Receiver;
use integration_testkit::fake::webhooks::Subscriptions;
use reqwest::header::LINK;
use serde_json::{Value, json};

const STYLES: [Paging; 5] =
    [Paging::Cursor, Paging::OffsetLimit, Paging::PageNumber, Paging::LinkHeader, Paging::ODataNextLink];

fn notes(count: usize) -> Dataset<String> {
    let notes = Dataset::starting_at(1);
    for n in 0..count {
        notes.add(format!("note {n}"));
    }
    notes
}

async fn serve(notes: &Dataset<String>, paging: Paging) -> FakeServer {
    let collection = Collection::new(notes.clone(), paging, |n| json!({"id": n.id.to_string(), "text": *n.value}));
    FakeServer::start(collection.router("/notes")).await
}

/// Walks a listing as a client of `style` does; returns the records in order and the delta
/// token of the last page, if any.
async fn walk(base: &str, style: Paging, size: usize, extra: &str) -> (Vec<Value>, Option<String>) {
    let client = reqwest::Client::new();
    let mut url = match style {
        Paging::Cursor | Paging::OffsetLimit => format!("{base}/notes?limit={size}{extra}"),
        Paging::PageNumber | Paging::LinkHeader => format!("{base}/notes?per_page={size}{extra}"),
        _ => format!("{base}/notes?$top={size}{extra}"),
    };
    let (mut records, mut offset) = (Vec::new(), 0);
    for _ in 0..100 {
        let answer = client.get(&url).send().await.expect("an answer");
        assert_eq!(answer.status(), 200, "{url}");
        let link = answer.headers().get(LINK).map(|v| v.to_str().expect("text").to_owned());
        let body: Value = answer.json().await.expect("JSON");
        let page = body.get("data").or(body.get("value")).unwrap_or(&body).as_array().expect("a list").clone();
        offset += page.len();
        records.extend(page);
        let next = match style {
            Paging::Cursor => {
                body["next_cursor"].as_str().map(|c| format!("{base}/notes?limit={size}&cursor={c}{extra}"))
            }
            Paging::OffsetLimit => (offset < body["total"].as_u64().expect("total") as usize)
                .then(|| format!("{base}/notes?limit={size}&offset={offset}{extra}")),
            Paging::PageNumber => {
                body["next_page"].as_u64().map(|p| format!("{base}/notes?per_page={size}&page={p}{extra}"))
            }
            Paging::LinkHeader => link.map(|l| l.trim_start_matches('<').split('>').next().expect("url").to_owned()),
            _ => body["@odata.nextLink"].as_str().map(str::to_owned),
        };
        match next {
            Some(next) => url = next,
            None => return (records, body["delta_token"].as_str().map(str::to_owned)),
        }
    }
    panic!("the listing never ended: {url}");
}

fn ids(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["id"].as_str().expect("an id").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paging_style_serves_every_record_exactly_once() {
    for count in [0, 1, 5, 7] {
        let notes = notes(count);
        let expected: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
        for style in STYLES {
            let server = serve(&notes, style).await;
            for size in [1, 2, 3, 100] {
                let (records, _) = walk(&server.base_url(), style, size, "").await;
                assert_eq!(ids(&records), expected, "{style:?}, {count} records, pages of {size}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_listings_carry_exactly_the_changes_with_tombstones() {
    let notes = notes(6);
    let since = integration_testkit::fake::dataset::now().to_rfc3339();
    let server = serve(&notes, Paging::Cursor).await;
    let (all, token) = walk(&server.base_url(), Paging::Cursor, 4, "").await;
    assert_eq!(all.len(), 6);
    let token = token.expect("the last page carries a delta token");

    let added = notes.add("new".to_owned());
    assert!(notes.update(2, &["text"], |n| n.value = "edited".to_owned()));
    assert!(notes.delete(3));
    assert!(notes.delete(4) && notes.restore(4));

    let expected: BTreeMap<String, bool> =
        [(added.to_string(), false), ("2".into(), false), ("3".into(), true), ("4".into(), false)].into();
    let seen = |records: &[Value]| -> BTreeMap<String, bool> {
        let changed = records.iter().filter(|r| r["id"] != "1" && r["id"] != "5" && r["id"] != "6");
        changed.map(|r| (r["id"].as_str().expect("id").to_owned(), r["deleted"] == true)).collect()
    };
    let (delta, next) = walk(&server.base_url(), Paging::Cursor, 2, &format!("&delta_token={token}")).await;
    assert_eq!(seen(&delta), expected, "the delta holds the changes (and at most records of the same second)");
    assert!(next.is_some(), "a delta listing ends with a fresh token");
    for style in STYLES {
        let server = serve(&notes, style).await;
        let query =
            format!("&updated_since={}", url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>());
        let (changed, _) = walk(&server.base_url(), style, 2, &query).await;
        let tombstones: BTreeSet<String> =
            changed.iter().filter(|r| r["deleted"] == true).map(|r| r["id"].to_string()).collect();
        assert_eq!(tombstones, BTreeSet::from(["\"3\"".to_owned()]), "{style:?}");
    }
    let gone = reqwest::get(format!("{}/notes?delta_token=forged", server.base_url())).await.expect("answer");
    assert!(gone.status() == 400 || gone.status() == 410, "a forged token is refused: {}", gone.status());
    let one = reqwest::get(format!("{}/notes/3", server.base_url())).await.expect("answer");
    assert_eq!(one.status(), 404, "a deleted record is not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paging_parameters_are_refused_not_guessed() {
    let server = serve(&notes(3), Paging::OffsetLimit).await;
    for query in ["limit=0", "limit=101", "offset=-1", "limit=x", "updated_since=yesterday"] {
        let answer = reqwest::get(format!("{}/notes?{query}", server.base_url())).await.expect("answer");
        assert_eq!(answer.status(), 400, "{query}");
        let body: Value = answer.json().await.expect("JSON");
        assert!(body["error"].is_string(), "{query}: {body}");
    }
    let cursor = serve(&notes(3), Paging::Cursor).await;
    let answer = reqwest::get(format!("{}/notes?cursor=bm9wZQ", cursor.base_url())).await.expect("answer");
    assert_eq!(answer.status(), 400, "a cursor the API did not issue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_paging_repeats_a_record_when_one_is_inserted_ahead() {
    let notes = notes(6);
    let collection = Collection::new(notes, Paging::OffsetLimit, |n| json!({"id": n.id.to_string()}));
    let api = FakeApi::new(Auth::None);
    let server = FakeServer::start(api.guard(collection.faults(api.faults()).router("/notes"))).await;
    api.faults().inject(Fault::DuplicateAcrossPages, 1);
    let (records, _) = walk(&server.base_url(), Paging::OffsetLimit, 4, "").await;
    assert_eq!(ids(&records), ["1", "2", "3", "4", "4", "5", "6"], "the last record of page one comes again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_checks_refuse_what_the_provider_refuses() {
    let client = reqwest::Client::new();
    type Sign = Box<dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder>;
    let cases: Vec<(Auth, Sign)> = vec![
        (Auth::ApiKey { header: "x-api-key", key: "k1".into() }, Box::new(|r| r.header("x-api-key", "k1"))),
        (Auth::Basic { user: "key".into(), password: None }, Box::new(|r| r.basic_auth("key", Some("anything")))),
        (Auth::Basic { user: "u".into(), password: Some("p".into()) }, Box::new(|r| r.basic_auth("u", Some("p")))),
        (Auth::Bearer("b1".into()), Box::new(|r| r.bearer_auth("b1"))),
    ];
    for (auth, sign) in cases {
        let api = FakeApi::new(auth.clone());
        let server =
            FakeServer::start(api.guard(Collection::new(notes(1), Paging::Cursor, |_| json!({})).router("/n"))).await;
        let url = format!("{}/n", server.base_url());
        assert_eq!(sign(client.get(&url)).send().await.expect("answer").status(), 200, "{auth:?}");
        assert_eq!(client.get(&url).send().await.expect("answer").status(), 401, "{auth:?} without credentials");
        let wrong = client.get(&url).header("x-api-key", "k2").basic_auth("u", Some("wrong")).bearer_auth("b2");
        assert_eq!(wrong.send().await.expect("answer").status(), 401, "{auth:?} with wrong ones");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tokens_expire_and_refresh_tokens_rotate() {
    let issuer = TokenIssuer::new("client", "secret").with_refresh_token("rt-0").rotating();
    let api = FakeApi::new(Auth::OAuth2(issuer.clone()));
    let server =
        FakeServer::start(api.guard(Collection::new(notes(1), Paging::Cursor, |_| json!({})).router("/n"))).await;
    let headers = reqwest::header::HeaderMap::new();
    let form = |refresh: &str| {
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "client"),
            ("client_secret", "secret"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into()
    };
    let first = issuer.grant(&headers, &form("rt-0")).expect("a grant");
    let rotated = first["refresh_token"].as_str().expect("a new refresh token").to_owned();
    assert_eq!(issuer.grant(&headers, &form("rt-0")).expect_err("the old one").error, "invalid_grant");
    let access = first["access_token"].as_str().expect("token").to_owned();
    let url = format!("{}/n", server.base_url());
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).bearer_auth(&access).send().await.expect("answer").status(), 200);
    api.faults().inject(Fault::ExpiredToken, 1);
    assert_eq!(client.get(&url).bearer_auth(&access).send().await.expect("answer").status(), 401);
    assert_eq!(client.get(&url).bearer_auth(&access).send().await.expect("answer").status(), 401, "it stays expired");
    let second = issuer.grant(&headers, &form(&rotated)).expect("the rotated one works");
    let fresh = second["access_token"].as_str().expect("token");
    assert_eq!(client.get(&url).bearer_auth(fresh).send().await.expect("answer").status(), 200);
    let mut wrong = form(&rotated);
    wrong.insert("client_secret".into(), "nope".into());
    assert_eq!(issuer.grant(&headers, &wrong).expect_err("another client").error, "invalid_client");
    let short = TokenIssuer::new("c", "s").client_credentials().lifetime(std::time::Duration::ZERO);
    let cc = [("grant_type", "client_credentials"), ("client_id", "c"), ("client_secret", "s")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let token = short.grant(&headers, &cc.into()).expect("client credentials");
    assert!(!short.is_live(token["access_token"].as_str().expect("token")), "a token past its lifetime is dead");
    assert_eq!(issuer.requests(), 4, "every request to the token endpoint is counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_are_signed_for_each_subscription() {
    let receiver = Receiver::start("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
    let schemes = [
        (WebhookScheme::Stripe, "whsec_stripe-like-secret"),
        (WebhookScheme::StandardWebhooks, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        (WebhookScheme::GitHub, "a-github-secret"),
    ];
    for (scheme, secret) in schemes {
        let hooks = Subscriptions::new(scheme.clone());
        hooks.subscribe(&format!("{}/hooks", receiver.base_url()), secret);
        let body = br#"{"event":"note.created"}"#;
        let headers = hooks.sign(secret, body, chrono::Utc::now().timestamp(), "msg_1").expect("signed");
        let secrets = [WebhookSecret::new(secret)];
        scheme.verify(&headers, body, &secrets, &VerifyOptions::now()).expect("it verifies");
        assert!(scheme.verify(&headers, b"{}", &secrets, &VerifyOptions::now()).is_err(), "{scheme:?}: tampered");
        assert_eq!(hooks.deliver(body, "msg_1", &Default::default()).await, [204], "{scheme:?}");
    }
    assert_eq!(receiver.requests().len(), 3);
}
