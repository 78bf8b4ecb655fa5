//! Single sign-on end to end: `cargo run --example sso`. An axum app with OpenID Connect login,
//! TOTP as a second factor, role rules, sessions, and a SCIM endpoint its identity provider
//! provisions through — run against the real `oidc-provider` on 127.0.0.1 (installed on first
//! use, as the tests install it; without Node.js the example says so and stops).
//!
//! 1. The identity provider provisions Ada through SCIM (`POST /scim/v2/Users`);
//! 2. Ada signs in through OpenID Connect (PKCE, state, nonce, the ID token checked);
//! 3. her second factor: enrolled, then a TOTP code from her authenticator;
//! 4. `/me` shows who she is and the roles the tenant's rules give her;
//! 5. the identity provider deactivates her (`PATCH active false`): her session ends at once.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::http::{HttpClient, HttpPolicy};
use integration_core::{ProviderId, TenantId};
use integration_sso::mfa::store::MemoryMfaStore;
use integration_sso::mfa::{Mfa, Verification};
use integration_sso::oidc::{OidcConfig, OidcLogin, PendingLogin};
use integration_sso::roles::RoleRules;
use integration_sso::scim::resource::ResourceType;
use integration_sso::scim::server::{NoEvents, ScimServer, StaticScimTokens};
use integration_sso::scim::store::{MemoryScimStore, ScimStore};
use integration_sso::session::store::MemorySessionStore;
use integration_sso::session::{Check, RevokeOnDeprovisioning, SessionPolicy, Sessions};
use integration_testkit::fake::FakeServer;
use integration_testkit::peers::OidcProvider;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const SCIM_TOKEN: &str = "the-idp's-scim-token-for-acme";

/// The app: one tenant, its identity provider, its users (the SCIM store), MFA and sessions.
struct App {
    tenant: TenantId,
    login: OidcLogin,
    users: Arc<MemoryScimStore>,
    mfa: Mfa,
    sessions: Sessions,
    rules: RoleRules,
    /// Logins begun, by state; and sign-ins waiting for their second factor, by ticket.
    pending: Mutex<BTreeMap<String, PendingLogin>>,
    halfway: Mutex<BTreeMap<String, String>>,
}

type Shared = State<Arc<App>>;

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

async fn login(State(app): Shared) -> Response {
    match app.login.begin() {
        Ok((url, pending)) => {
            app.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(pending.state().to_owned(), pending);
            Redirect::to(&url).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn callback(State(app): Shared, Query(query): Query<BTreeMap<String, String>>) -> Response {
    // The pending login is taken: a callback replayed finds none.
    let pending = query.get("state").and_then(|s| app.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(s));
    let identity = match app.login.finish(pending, &query, Utc::now()).await {
        Ok(Ok(identity)) => identity,
        Ok(Err(refusal)) => return (StatusCode::UNAUTHORIZED, format!("sign-in refused: {refusal}")).into_response(),
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    // The app's user is the one the identity provider provisioned with this userName.
    let users = app.users.list(&app.tenant, ResourceType::User).await.unwrap_or_default();
    let Some(user) = users.into_iter().find(|u| u.attributes["userName"] == identity.subject.as_str()) else {
        return (StatusCode::FORBIDDEN, "not provisioned here").into_response();
    };
    let Ok(random) = integration_core::crypto::random_bytes(16) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness").into_response();
    };
    let ticket = integration_core::hex::encode(&random);
    app.halfway.lock().unwrap_or_else(|p| p.into_inner()).insert(ticket.clone(), user.id);
    (StatusCode::OK, [(header::SET_COOKIE, format!("halfway={ticket}; HttpOnly"))], "second factor, please")
        .into_response()
}

async fn second_factor(State(app): Shared, headers: HeaderMap, body: String) -> Response {
    let Some(user) =
        cookie(&headers, "halfway").and_then(|t| app.halfway.lock().unwrap_or_else(|p| p.into_inner()).remove(&t))
    else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    match app.mfa.verify(&app.tenant, &user, body.trim(), Utc::now()).await {
        Ok(Verification::Accepted) => {}
        Ok(Verification::Refused(reason)) => {
            return (StatusCode::UNAUTHORIZED, format!("code refused: {}", reason.as_str())).into_response();
        }
        Ok(_) => return (StatusCode::UNAUTHORIZED, "code refused").into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
    let stored = app.users.get(&app.tenant, ResourceType::User, &user).await.ok().flatten();
    let claims =
        stored.map(|u| json!({"groups": ["Engineering"], "department": u.attributes["title"]})).unwrap_or_default();
    match app.sessions.start(&app.tenant, &user, app.rules.roles(&claims), Utc::now()).await {
        Ok((token, _)) => {
            (StatusCode::OK, [(header::SET_COOKIE, format!("sid={}; HttpOnly", token.expose_secret()))], "signed in")
                .into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn me(State(app): Shared, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, "sid") else { return (StatusCode::UNAUTHORIZED, "no session").into_response() };
    match app.sessions.check(&SecretString::from(token), Utc::now()).await {
        Ok(Check::Valid(session)) => axum::Json(json!({"user": session.user, "roles": session.roles})).into_response(),
        Ok(Check::Ended(why)) => (StatusCode::UNAUTHORIZED, format!("session ended: {why:?}")).into_response(),
        Ok(_) | Err(_) => (StatusCode::UNAUTHORIZED, "no session").into_response(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn main() -> Result<(), Box<dyn Error>> {
    let Some(idp) = tokio::task::spawn_blocking(OidcProvider::start).await? else {
        println!("oidc-provider could not start here (Node.js and npm are needed): nothing to show");
        return Ok(());
    };
    let tenant = TenantId::new("acme")?;
    let http = HttpClient::new()?.provider_with(ProviderId::new("acme-idp")?, HttpPolicy::standard());
    let config = OidcConfig::new(idp.issuer(), OidcProvider::CONFIDENTIAL_CLIENT, OidcProvider::REDIRECT_URI)
        .with_client_secret(OidcProvider::CONFIDENTIAL_SECRET)
        .with_scopes(&[]);
    let users = Arc::new(MemoryScimStore::new());
    let sessions = Sessions::new(Arc::new(MemorySessionStore::new()), SessionPolicy::default());
    let mfa = Mfa::new(Arc::new(MemoryMfaStore::new()), Sealer::new(KeyRing::new("k1", SealingKey::generate())));
    let rules: RoleRules = serde_json::from_value(json!([
        {"group": "Engineering", "role": "developer"},
        {"claim": "department", "equals": "Countess", "role": "admin"},
    ]))?;
    rules.check()?;
    let app = Arc::new(App {
        tenant: tenant.clone(),
        login: OidcLogin::discover(http, config).await?,
        users: users.clone(),
        mfa: mfa.clone(),
        sessions: sessions.clone(),
        rules,
        pending: Mutex::default(),
        halfway: Mutex::default(),
    });
    let scim_tokens = Arc::new(StaticScimTokens::new().with(SCIM_TOKEN, tenant.clone()));
    let revoke = Arc::new(RevokeOnDeprovisioning::new(sessions, Arc::new(NoEvents)));
    let server = FakeServer::start_with(move |base| {
        let scim = ScimServer::new(users, scim_tokens, format!("{base}/scim/v2")).with_events(revoke);
        axum::Router::new()
            .route("/login", get(login))
            .route("/callback", get(callback))
            .route("/mfa", post(second_factor))
            .route("/me", get(me))
            .with_state(app)
            .nest("/scim/v2", scim.router())
    })
    .await;
    let base = server.base_url();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let scim = |method: reqwest::Method, path: String, body: serde_json::Value| {
        browser
            .request(method, format!("{base}/scim/v2{path}"))
            .bearer_auth(SCIM_TOKEN)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };

    // 1. Provisioned by the identity provider.
    let ada: serde_json::Value =
        scim(reqwest::Method::POST, "/Users".into(), json!({"userName": "ada", "title": "Countess", "active": true}))
            .await?
            .json()
            .await?;
    let ada_id = ada["id"].as_str().ok_or("an id")?.to_owned();
    println!("1. provisioned through SCIM: ada ({ada_id})");

    // 2. Signed in through OpenID Connect.
    let to_idp = browser.get(format!("{base}/login")).send().await?;
    let idp_url = to_idp.headers().get(header::LOCATION).and_then(|l| l.to_str().ok()).ok_or("a redirect")?.to_owned();
    let back = idp.authorize(&idp_url, "ada").await;
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&back).finish();
    let halfway = browser.get(format!("{base}/callback?{query}")).send().await?;
    let ticket = halfway
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .ok_or("a ticket")?
        .to_owned();
    println!("2. signed in through OpenID Connect as ada: {}", halfway.text().await?);

    // 3. Her second factor: enrolled once (a QR code in a real app), then the code her app shows.
    let enrolment = mfa.enroll(&tenant, &ada_id, "Acme", "ada").await?;
    let totp = integration_sso::mfa::totp::Totp::new(&enrolment.secret_bytes()?, Default::default())?;
    mfa.confirm(&tenant, &ada_id, &totp.code_at(Utc::now() - chrono::Duration::seconds(30)), Utc::now()).await?;
    let signed_in = browser
        .post(format!("{base}/mfa"))
        .header(header::COOKIE, &ticket)
        .body(totp.code_at(Utc::now()))
        .send()
        .await?;
    let sid = signed_in
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .ok_or("a session")?
        .to_owned();
    println!("3. second factor accepted: {}", signed_in.text().await?);

    // 4. Who she is.
    let me_now = browser.get(format!("{base}/me")).header(header::COOKIE, &sid).send().await?;
    println!("4. /me: {}", me_now.text().await?);

    // 5. Deactivated by the identity provider: her session ends.
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    scim(reqwest::Method::PATCH, format!("/Users/{ada_id}"), off).await?;
    let after = browser.get(format!("{base}/me")).header(header::COOKIE, &sid).send().await?;
    let status = after.status();
    println!("5. deactivated through SCIM; /me answers {status}: {}", after.text().await?);
    if status != StatusCode::UNAUTHORIZED {
        return Err("the session outlived the deactivation".into());
    }
    Ok(())
}
