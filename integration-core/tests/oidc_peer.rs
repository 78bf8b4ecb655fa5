//! Against a real OpenID provider (npm `oidc-provider`, started by the testkit): discovery,
//! client credentials, authorization code with PKCE through its login form, refresh with
//! rotation — and single-flight refresh surviving a provider that revokes the whole grant when a
//! rotated refresh token is reused.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use integration_core::auth::{
    AuthEvent, OAuth2Client, OAuth2Endpoints, OAuth2Source, ProviderMetadata, TokenManager, TokenSet,
};
use integration_core::clock::ManualClock;
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::http::{HttpClient, HttpPolicy, ProviderClient};
use integration_core::store::{MemoryStore, TokenStore};
use integration_core::*;
use integration_testkit::peers::OidcProvider;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

struct Peer {
    oidc: OidcProvider,
    http: ProviderClient,
    metadata: ProviderMetadata,
}

async fn peer() -> Option<Peer> {
    let oidc = tokio::task::spawn_blocking(OidcProvider::start).await.expect("start")?;
    let http =
        HttpClient::new().expect("client").provider_with(ProviderId::new("oidc").expect("id"), HttpPolicy::standard());
    let metadata = ProviderMetadata::discover(&http, &oidc.issuer().parse().expect("issuer")).await.expect("discovery");
    Some(Peer { oidc, http, metadata })
}

fn confidential(peer: &Peer) -> OAuth2Client {
    OAuth2Client::new(peer.http.clone(), OidcProvider::CONFIDENTIAL_CLIENT, peer.metadata.endpoints())
        .with_client_secret(OidcProvider::CONFIDENTIAL_SECRET)
        .with_redirect_uri(OidcProvider::REDIRECT_URI.parse().expect("uri"))
}

/// Runs the authorization-code flow with PKCE for `client`, logging in as `user`.
async fn authorize(peer: &Peer, client: &OAuth2Client, user: &str) -> TokenSet {
    let start = client.authorization_url(&["openid", "offline_access"], &[("prompt", "consent")]).expect("url");
    let query: Vec<(String, String)> = start.url.query_pairs().into_owned().collect();
    assert!(query.contains(&("code_challenge_method".into(), "S256".into())), "{query:?}");
    assert!(query.iter().any(|(k, _)| k == "code_challenge"));
    let callback = peer.oidc.authorize(start.url.as_str(), user).await;
    assert_eq!(callback.get("iss").map(String::as_str), Some(peer.oidc.issuer()));
    start.verify_state(&callback["state"]).expect("state round-trips");
    assert_eq!(start.verify_state("forged").expect_err("forged").field(), Some("state"));
    client.exchange_code(&callback["code"], &start.pkce_verifier).await.expect("code exchange")
}

async fn userinfo(peer: &Peer, token: &SecretString) -> Result<Value> {
    let url = peer.metadata.userinfo_endpoint.clone().expect("userinfo endpoint");
    peer.http.clone().with_auth(Arc::new(auth::Bearer::new(token.expose_secret()))).get(url.as_str()).send_json().await
}

async fn discovery_and_client_credentials() {
    let Some(peer) = peer().await else { return };
    assert_eq!(peer.metadata.issuer.as_str().trim_end_matches('/'), peer.oidc.issuer());
    assert!(peer.metadata.supports_pkce_s256());
    assert!(peer.metadata.grant_types_supported.iter().any(|g| g == "client_credentials"));

    let token = confidential(&peer).client_credentials(&["api:read"]).await.expect("client credentials");
    assert!(!token.access_token.expose_secret().is_empty());
    assert_eq!(token.scopes, ["api:read"]);
    assert!(token.expires_at.is_some_and(|at| at > chrono::Utc::now()));

    // With a resource indicator the provider issues a JWT access token.
    let jwt = confidential(&peer)
        .with_token_param("resource", "urn:api")
        .client_credentials(&["api:read"])
        .await
        .expect("jwt");
    assert_eq!(jwt.access_token.expose_secret().split('.').count(), 3, "a JWT");

    let wrong = OAuth2Client::new(peer.http.clone(), OidcProvider::CONFIDENTIAL_CLIENT, peer.metadata.endpoints())
        .with_client_secret("wrong");
    let err = wrong.client_credentials(&["api:read"]).await.expect_err("bad secret");
    assert_eq!(err.kind(), ErrorKind::AuthInvalid, "{err}");
    assert_eq!(err.code(), Some("invalid_client"));
    assert!(!format!("{err:?}").contains("wrong"), "{err:?}");
}

async fn authorization_code_with_pkce_for_confidential_and_public_clients() {
    let Some(peer) = peer().await else { return };
    let tokens = authorize(&peer, &confidential(&peer), "alice").await;
    assert!(tokens.refresh_token.is_some(), "offline_access with consent gives a refresh token");
    assert!(tokens.id_token.is_some(), "an OpenID provider returns an ID token");
    assert_eq!(userinfo(&peer, &tokens.access_token).await.expect("userinfo")["sub"], "alice");

    let public = OAuth2Client::new(peer.http.clone(), OidcProvider::PUBLIC_CLIENT, peer.metadata.endpoints())
        .with_redirect_uri(OidcProvider::REDIRECT_URI.parse().expect("uri"));
    let tokens = authorize(&peer, &public, "bob").await;
    assert_eq!(userinfo(&peer, &tokens.access_token).await.expect("userinfo")["sub"], "bob");
    let refreshed = public.refresh(tokens.refresh_token.as_ref().expect("refresh token")).await.expect("refresh");
    assert_ne!(refreshed.access_token.expose_secret(), tokens.access_token.expose_secret());
}

async fn refresh_rotates_and_reusing_a_rotated_token_revokes_the_grant() {
    let Some(peer) = peer().await else { return };
    let client = confidential(&peer);
    let first = authorize(&peer, &client, "carol").await;
    let old = first.refresh_token.clone().expect("refresh token");
    let second = client.refresh(&old).await.expect("refresh");
    let new = second.refresh_token.clone().expect("rotated refresh token");
    assert_ne!(new.expose_secret(), old.expose_secret(), "the provider rotates refresh tokens");

    let err = client.refresh(&old).await.expect_err("reuse of a rotated token");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked, "{err}");
    assert_eq!(err.code(), Some("invalid_grant"));
    let err = client.refresh(&new).await.expect_err("the whole grant is revoked");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked);
}

/// The race hosted platforms lose: many requests, two processes, one expired token. Were two
/// refreshes to reach this provider with the same refresh token, it would revoke the grant.
async fn concurrent_refreshes_from_two_processes_keep_the_grant_alive() {
    let Some(peer) = peer().await else { return };
    let client = confidential(&peer);
    let tokens = authorize(&peer, &client, "dave").await;

    let store = MemoryStore::new();
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    let clock = ManualClock::new();
    let connections = Connections::new(Arc::new(store.clone()), sealer.clone(), Arc::new(store.clone()));
    let (tenant, connection) = (TenantId::new("acme").expect("id"), ConnectionId::new("sso").expect("id"));
    let config =
        IntegrationConfig::new(tenant.clone(), connection.clone(), Domain::Sso, ProviderId::new("oidc").expect("id"));
    connections.save(&config).await.expect("save config");
    let manager = |store: &MemoryStore| {
        Arc::new(
            TokenManager::builder(
                Arc::new(store.clone()),
                sealer.clone(),
                Arc::new(OAuth2Source::refresh_token(client.clone())),
            )
            .clock(Arc::new(clock.clone()))
            .connections(connections.clone())
            .peer_wait(Duration::from_secs(30), Duration::from_millis(10))
            .build(),
        )
    };
    let (one, two) = (manager(&store), manager(&store));
    let mut events = one.subscribe();
    one.store(&tenant, &connection, tokens.clone()).await.expect("store");

    clock.advance(Duration::from_secs(2 * 3600)); // the access token has expired
    let mut tasks = Vec::new();
    for i in 0..40 {
        let manager = if i % 2 == 0 { Arc::clone(&one) } else { Arc::clone(&two) };
        let (tenant, connection) = (tenant.clone(), connection.clone());
        tasks.push(tokio::spawn(async move { manager.access_token(&tenant, &connection).await }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for task in tasks {
        let (token, version) = task.await.expect("task").expect("a fresh token");
        seen.insert((token.expose_secret().to_owned(), version));
    }
    assert_eq!(seen.len(), 1, "everyone got the one refreshed token");
    let (fresh, version) = seen.into_iter().next().expect("one");
    assert_eq!(version, 2, "exactly one refresh was stored");
    assert_ne!(fresh, tokens.access_token.expose_secret());
    assert_eq!(userinfo(&peer, &SecretString::from(fresh)).await.expect("the grant is alive")["sub"], "dave");

    let stored = TokenStore::token(&store, &tenant, &connection).await.expect("read").expect("stored");
    assert_eq!(stored.version, 2);

    // Reuse the original (rotated-away) refresh token: the provider revokes the grant, and the
    // next refresh finds out, marks the connection and says so.
    let err = client.refresh(tokens.refresh_token.as_ref().expect("rt")).await.expect_err("reuse");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked);
    clock.advance(Duration::from_secs(2 * 3600));
    let err = one.access_token(&tenant, &connection).await.expect_err("revoked");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked, "{err}");
    let status = connections.load(&tenant, &connection).await.expect("load").status;
    assert_eq!(status, ConnectionStatus::ReauthorizationRequired);
    let mut revoked = false;
    while let Ok(event) = events.try_recv() {
        revoked |= matches!(event, AuthEvent::ReauthorizationRequired { .. });
    }
    assert!(revoked, "a ReauthorizationRequired event was raised");
}

/// RFC 7662 and RFC 7009 against the real provider: a live token introspects active; the token
/// manager's `revoke` (what an adapter's `disconnect` calls) ends the grant at the provider.
async fn introspection_and_revocation_end_a_grant() {
    use integration_core::auth::TokenKind;
    let Some(peer) = peer().await else { return };
    let client = confidential(&peer);
    assert!(peer.metadata.endpoints().revocation.is_some(), "discovery gives the revocation endpoint");
    let tokens = authorize(&peer, &client, "erin").await;

    let info = client.introspect(&tokens.access_token, TokenKind::Access).await.expect("introspect");
    assert!(info.active);
    assert_eq!(info.client_id.as_deref(), Some(OidcProvider::CONFIDENTIAL_CLIENT));
    assert_eq!(info.subject.as_deref(), Some("erin"));
    assert!(info.expires_at.is_some_and(|at| at > chrono::Utc::now()));

    let store = MemoryStore::new();
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    let manager =
        TokenManager::builder(Arc::new(store.clone()), sealer, Arc::new(OAuth2Source::refresh_token(client.clone())))
            .build();
    let (tenant, connection) = (TenantId::new("acme").expect("id"), ConnectionId::new("sso").expect("id"));
    manager.store(&tenant, &connection, tokens.clone()).await.expect("store");
    assert!(manager.revoke(&tenant, &connection).await.expect("revoke"), "revoked at the provider");
    assert!(TokenStore::token(&store, &tenant, &connection).await.expect("read").is_none(), "and forgotten here");

    let refresh = tokens.refresh_token.as_ref().expect("refresh token");
    let info = client.introspect(refresh, TokenKind::Refresh).await.expect("introspect");
    assert!(!info.active, "the refresh token is revoked");
    let err = client.refresh(refresh).await.expect_err("a revoked grant cannot be refreshed");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked, "{err}");

    // Without a revocation endpoint there is nothing to call: Unsupported, not a silent success.
    let bare = OAuth2Client::new(
        peer.http.clone(),
        OidcProvider::CONFIDENTIAL_CLIENT,
        OAuth2Endpoints::new(None, peer.metadata.token_endpoint.clone()),
    );
    let err = bare.revoke(&tokens.access_token, TokenKind::Access).await.expect_err("no endpoint");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::npm("oidc-provider")],
        integration_testkit::trials![async discovery_and_client_credentials, async authorization_code_with_pkce_for_confidential_and_public_clients, async refresh_rotates_and_reusing_a_rotated_token_revokes_the_grant, async concurrent_refreshes_from_two_processes_keep_the_grant_alive, async introspection_and_revocation_end_a_grant],
    )
}
