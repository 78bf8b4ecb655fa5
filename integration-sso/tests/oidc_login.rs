//! OpenID Connect login against a real provider (npm `oidc-provider`, started by the testkit):
//! discovery, the code flow with PKCE through its login form, userinfo, the logout URL — and a
//! distinct refusal for a replayed callback, a state mismatch, a tampered token, a token for
//! another client, an expired token and a token replayed into another login (its nonce).

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use integration_core::ProviderId;
use integration_core::http::{HttpClient, HttpPolicy};
use integration_sso::oidc::{OidcConfig, OidcLogin, OidcRefusal};
use integration_testkit::peers::OidcProvider;
use secrecy::ExposeSecret;

async fn login_for(peer: &OidcProvider, client: &str, secret: Option<&str>) -> OidcLogin {
    let http = HttpClient::new()
        .expect("a client")
        .provider_with(ProviderId::new("oidc").expect("id"), HttpPolicy::standard());
    let mut config = OidcConfig::new(peer.issuer(), client, OidcProvider::REDIRECT_URI).with_scopes(&[]);
    if let Some(secret) = secret {
        config = config.with_client_secret(secret);
    }
    OidcLogin::discover(http, config).await.expect("discovered")
}

async fn a_login_succeeds_and_each_forgery_is_refused_with_its_reason() {
    let Some(peer) = tokio::task::spawn_blocking(OidcProvider::start).await.expect("started") else { return };
    let audit = std::sync::Arc::new(integration_core::store::MemoryStore::new());
    let tenant = integration_core::TenantId::new("acme").expect("tenant");
    let login = login_for(&peer, OidcProvider::CONFIDENTIAL_CLIENT, Some(OidcProvider::CONFIDENTIAL_SECRET))
        .await
        .with_audit(audit.clone(), tenant.clone());

    let (url, pending) = login.begin().expect("begun");
    assert!(url.contains("code_challenge=") && url.contains("nonce=") && url.contains(pending.state()), "{url}");
    let callback = peer.authorize(&url, "ada").await;
    let now = Utc::now();
    let identity = login.finish(Some(pending.clone()), &callback, now).await.expect("finished").expect("signed in");
    assert_eq!(identity.subject, "ada");
    assert_eq!(identity.claims["sub"], "ada");
    assert!(!format!("{identity:?}").contains(identity.id_token.expose_secret()), "no token in Debug");
    let info = login.userinfo(&identity).await.expect("userinfo");
    assert_eq!(info["sub"], "ada");
    let logout = login.logout_url(&identity, None).expect("an end-session endpoint");
    assert!(logout.contains("id_token_hint="), "{logout}");

    // The same callback again: its pending login is gone (the host forgot it).
    assert_eq!(
        login.finish(None, &callback, now).await.expect("answered").expect_err("refused"),
        OidcRefusal::Replayed
    );
    // A callback for another login.
    let (url, pending) = login.begin().expect("begun");
    let mut crossed = peer.authorize(&url, "ada").await;
    crossed.insert("state".into(), "not-the-state".into());
    assert_eq!(
        login.finish(Some(pending), &crossed, now).await.expect("answered").expect_err("refused"),
        OidcRefusal::StateMismatch
    );

    let token = identity.id_token.expose_secret().to_owned();
    let nonce = identity.claims["nonce"].as_str().expect("a nonce").to_owned();
    // Tampered: a character in the middle of the signature changed (the last one may carry only
    // padding bits).
    let signature_at = token.rfind('.').expect("three parts") + 20;
    let mut tampered = token.clone();
    let was = tampered.remove(signature_at);
    tampered.insert(signature_at, if was == 'A' { 'B' } else { 'A' });
    assert!(matches!(login.verify(&tampered, &nonce, now).await.expect("answered"), Err(OidcRefusal::Signature(_))));
    // A payload swapped for another: the signature no longer covers it.
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], "eyJzdWIiOiJtYWxsb3J5In0", parts[2]);
    assert!(matches!(
        login.verify(&forged, &nonce, now).await.expect("answered"),
        Err(OidcRefusal::Signature(_) | OidcRefusal::Malformed(_))
    ));
    // For another client.
    let public = login_for(&peer, OidcProvider::PUBLIC_CLIENT, None).await;
    assert!(matches!(public.verify(&token, &nonce, now).await.expect("answered"), Err(OidcRefusal::Audience(_))));
    // Expired.
    assert!(matches!(
        login.verify(&token, &nonce, now + Duration::days(2)).await.expect("answered"),
        Err(OidcRefusal::Expired(_))
    ));
    // Replayed into another login: not its nonce.
    assert!(matches!(
        login.verify(&token, "another-login's-nonce", now).await.expect("answered"),
        Err(OidcRefusal::Nonce(_))
    ));
    // Not a token at all.
    assert!(matches!(login.verify("garbage", &nonce, now).await.expect("answered"), Err(OidcRefusal::Malformed(_))));
    // And the genuine one still passes.
    assert!(login.verify(&token, &nonce, now).await.expect("answered").is_ok());
    // Each finished login is in the audit trail, refusals with their reason.
    let outcomes: Vec<(integration_core::store::AuditOutcome, String)> = audit
        .audit_events(&tenant)
        .into_iter()
        .filter(|e| e.action == integration_core::store::AuditAction::SignIn)
        .map(|e| (e.outcome, e.detail.split(&[';', ' '][..]).next().unwrap_or_default().to_owned()))
        .collect();
    use integration_core::store::AuditOutcome::{Failure, Success};
    assert_eq!(
        outcomes,
        [(Success, "subject=ada".to_owned()), (Failure, "replayed".to_owned()), (Failure, "state_mismatch".to_owned())]
    );
}

/// The provider rotates its signing key (started again on its port with a new key first): the
/// first token signed with the new key names a key the relying party does not hold, so it reads
/// the keys again — once — and the login succeeds; tokens signed before still verify.
async fn a_signing_key_rotation_is_followed() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration-sso");
    std::fs::create_dir_all(&dir).expect("a folder");
    let keys = dir.join(format!("oidc-keys-{}.json", uuid::Uuid::now_v7()));
    let start = |port: Option<u16>, rotate: bool| {
        let keys = keys.clone();
        tokio::task::spawn_blocking(move || OidcProvider::start_with_keys(&keys, port, rotate))
    };
    let Some(peer) = start(None, false).await.expect("started") else { return };
    let port = peer.port().expect("a port");
    let login = login_for(&peer, OidcProvider::CONFIDENTIAL_CLIENT, Some(OidcProvider::CONFIDENTIAL_SECRET)).await;
    let before = sign_in(&login, &peer).await.expect("signed in with the first key");
    let kid = |identity: &integration_sso::oidc::Identity| {
        let header = identity.id_token.expose_secret().split('.').next().unwrap_or_default().to_owned();
        let bytes = base64_url(&header);
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|h| h["kid"].as_str().map(str::to_owned))
    };
    drop(peer);
    let Some(rotated) = start(Some(port), true).await.expect("started again") else { return };
    let after = sign_in(&login, &rotated).await.expect("signed in with the new key, after reading the keys again");
    assert_ne!(kid(&before), kid(&after), "another key signed");
    let nonce = before.claims["nonce"].as_str().expect("a nonce").to_owned();
    assert!(
        login.verify(before.id_token.expose_secret(), &nonce, Utc::now()).await.expect("answered").is_ok(),
        "the old key is still published"
    );
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap_or_default()
}

async fn sign_in(login: &OidcLogin, peer: &OidcProvider) -> Result<integration_sso::oidc::Identity, OidcRefusal> {
    let (url, pending) = login.begin().expect("begun");
    let callback = peer.authorize(&url, "ada").await;
    login.finish(Some(pending), &callback, Utc::now()).await.expect("finished")
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::npm("oidc-provider")],
        integration_testkit::trials![async a_login_succeeds_and_each_forgery_is_refused_with_its_reason, async a_signing_key_rotation_is_followed],
    )
}
