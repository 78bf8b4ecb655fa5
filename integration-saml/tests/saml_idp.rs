//! SAML login against the real `saml-idp` (npm, pinned; started on 127.0.0.1 by each test): the
//! metadata read, an AuthnRequest followed through the IdP's login page, the signed response
//! verified by xmlsec and checked — and each way a response must be refused, refused for its own
//! reason: unsigned, tampered, signed by another key, expired, for another audience, replayed,
//! answering another request, unsolicited, wrapped, hostile.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;
use integration_core::TenantId;
use integration_core::store::{AuditAction, AuditOutcome, AuditSink, MemoryStore};
use integration_saml::{XmlSecProtocol, identity_provider_from_metadata};
use integration_sso::roles::RoleRules;
use integration_sso::saml::{Certificate, SamlConfig, SamlLogin, SamlRefusal};
use integration_testkit::peers::{PostedResponse, SamlIdp};

const SP: &str = "https://app.example/saml";
const ACS: &str = "https://app.example/saml/acs";

fn ada() -> Vec<(&'static str, &'static str)> {
    vec![
        ("userName", "ada@acme.example"),
        ("email", "ada@acme.example"),
        ("firstName", "Ada"),
        ("lastName", "Lovelace"),
        ("groups", "Engineering,Everyone"),
    ]
}

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

async fn config(idp: &SamlIdp) -> SamlConfig {
    let provider = identity_provider_from_metadata(&idp.metadata().await).expect("the IdP's metadata");
    SamlConfig::new(SP, ACS, provider).map_attribute("firstName", "given_name")
}

async fn login(idp: &SamlIdp) -> SamlLogin {
    integration_saml::login(tenant(), config(idp).await).expect("a login")
}

/// A login begun and signed in at the IdP: the login, what was kept, and what was posted.
async fn signed_in(idp: &SamlIdp) -> (SamlLogin, integration_sso::saml::PendingSaml, PostedResponse) {
    let login = login(idp).await;
    let (url, pending) = login.begin(Some("/dashboard")).expect("an AuthnRequest");
    let posted = idp.sign_in(&url, &ada()).await;
    (login, pending, posted)
}

fn refused(outcome: Result<integration_sso::saml::SamlIdentity, SamlRefusal>) -> SamlRefusal {
    match outcome {
        Ok(identity) => panic!("accepted: {identity:?}"),
        Err(refusal) => refusal,
    }
}

async fn a_login_through_the_real_idp_gives_the_signed_identity_and_its_roles() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let provider = identity_provider_from_metadata(&idp.metadata().await).expect("the IdP's metadata");
    assert_eq!(provider.entity_id, idp.issuer());
    assert_eq!(provider.sso_url, idp.sso_url());
    assert_eq!(provider.certificates, [Certificate::from_pem(idp.certificate_pem()).expect("the peer's certificate")]);

    let audit = Arc::new(MemoryStore::new());
    let login = login(&idp).await.with_audit(audit.clone() as Arc<dyn AuditSink>);
    let metadata = login.metadata().expect("SP metadata");
    for part in [SP, ACS, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "WantAssertionsSigned=\"true\""] {
        assert!(metadata.contains(part), "{part} not in {metadata}");
    }

    let (url, pending) = login.begin(Some("/dashboard")).expect("an AuthnRequest");
    assert!(url.starts_with(&idp.sso_url()) && url.contains("SAMLRequest="), "{url}");
    let posted = idp.sign_in(&url, &ada()).await;
    assert_eq!((posted.acs_url.as_str(), posted.relay_state.as_str()), (ACS, "/dashboard"));
    assert!(posted.xml().contains(&format!("InResponseTo=\"{}\"", pending.request_id)));

    let identity = login.finish(Some(&pending), &posted.saml_response).await.expect("no error").expect("signed in");
    assert_eq!(identity.name_id, "ada@acme.example");
    assert_eq!(identity.name_id_format.as_deref(), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
    assert_eq!(identity.issuer, idp.issuer());
    assert!(identity.session_index.is_some());
    assert_eq!(identity.attributes["given_name"], ["Ada"], "mapped from firstName");
    assert_eq!(identity.attributes["groups"], ["Engineering", "Everyone"]);

    let rules: RoleRules = serde_json::from_value(serde_json::json!([
        {"group": "engineering", "role": "developer"},
        {"claim": "email", "equals": "ada@acme.example", "role": "owner"},
        {"group": "Finance", "role": "approver"},
    ]))
    .expect("rules");
    assert_eq!(rules.roles(&identity.claims()).into_iter().collect::<Vec<_>>(), ["developer", "owner"]);

    let refused_again = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert_eq!(refused_again, Err(SamlRefusal::Replayed));
    let seen: Vec<_> = audit.audit_events(&tenant()).into_iter().map(|e| (e.action, e.outcome, e.detail)).collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].0, seen[0].1), (AuditAction::SignIn, AuditOutcome::Success));
    assert!(seen[0].2.contains("name_id=ada@acme.example"), "{seen:?}");
    assert_eq!((seen[1].0, seen[1].1), (AuditAction::SignIn, AuditOutcome::Failure));
    assert!(seen[1].2.starts_with("replayed;"), "{seen:?}");
}

async fn a_response_signed_only_on_its_assertion_or_only_as_a_whole_is_taken() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    for settings in
        [[("signResponse", "false"), ("signAssertion", "true")], [("signResponse", "true"), ("signAssertion", "false")]]
    {
        idp.settings(&settings).await;
        let (login, pending, posted) = signed_in(&idp).await;
        let identity = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
        assert_eq!(identity.expect("signed in").name_id, "ada@acme.example", "{settings:?}");
    }
}

async fn an_unsigned_response_is_refused_as_unsigned() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    idp.settings(&[("signResponse", "false"), ("signAssertion", "false")]).await;
    let (login, pending, posted) = signed_in(&idp).await;
    assert!(!posted.xml().contains("SignatureValue"), "the IdP signed nothing");
    let outcome = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert_eq!(refused(outcome), SamlRefusal::Unsigned);
}

async fn a_tampered_response_is_refused_as_a_bad_signature() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    for settings in
        [[("signResponse", "true"), ("signAssertion", "true")], [("signResponse", "false"), ("signAssertion", "true")]]
    {
        idp.settings(&settings).await;
        let (login, pending, posted) = signed_in(&idp).await;
        let xml = posted.xml();
        for tampered in [
            xml.replace(">ada@acme.example</saml:NameID>", ">eve@acme.example</saml:NameID>"),
            xml.replace(">Engineering<", ">Administrators<"),
        ] {
            assert_ne!(tampered, xml);
            let outcome =
                login.finish(Some(&pending), &posted.with_xml(&tampered).saml_response).await.expect("no error");
            assert_eq!(refused(outcome), SamlRefusal::Signature, "{settings:?}");
        }
        // The untouched response is still good: only the change was refused.
        let outcome = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
        assert!(outcome.is_ok(), "{outcome:?}");
    }
}

async fn a_response_signed_by_another_key_is_refused() {
    let (Some(idp), Some(impostor)) = (SamlIdp::start(SP, ACS), SamlIdp::start(SP, ACS)) else { return };
    // Trust `idp`'s certificate; the response comes from `impostor` (same entity ID, its own key).
    let trusted = config(&idp).await;
    let login = SamlLogin::new(tenant(), trusted, Arc::new(XmlSecProtocol)).expect("a login");
    let (url, pending) = login.begin(None).expect("an AuthnRequest");
    let url = url.replace(idp.url(), impostor.url());
    let posted = impostor.sign_in(&url, &ada()).await;
    let outcome = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert_eq!(refused(outcome), SamlRefusal::Signature);
}

async fn an_expired_response_is_refused_as_expired() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let (login, pending, posted) = signed_in(&idp).await;
    // The assertion is good for five minutes after it was issued (plus a minute's skew).
    let later = Utc::now() + chrono::TimeDelta::minutes(7);
    let outcome = login.finish_at(Some(&pending), &posted.saml_response, later).await.expect("no error");
    assert!(matches!(refused(outcome), SamlRefusal::Expired(_)));
    // And one issued in the future is not valid yet.
    let earlier = Utc::now() - chrono::TimeDelta::minutes(5);
    let outcome = login.finish_at(Some(&pending), &posted.saml_response, earlier).await.expect("no error");
    assert!(matches!(refused(outcome), SamlRefusal::NotYetValid(_)));
}

async fn a_response_for_another_audience_is_refused_as_audience() {
    let Some(idp) = SamlIdp::start("https://other.example/saml", ACS) else { return };
    let (login, pending, posted) = signed_in(&idp).await;
    assert!(posted.xml().contains("<saml:Audience>https://other.example/saml</saml:Audience>"));
    let outcome = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert!(matches!(refused(outcome), SamlRefusal::Audience(_)));
}

async fn a_response_for_another_acs_url_is_refused() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let (_, pending, posted) = signed_in(&idp).await;
    let elsewhere = SamlConfig::new(SP, "https://app.example/other/acs", config(&idp).await.idp);
    let login = integration_saml::login(tenant(), elsewhere).expect("a login");
    let outcome = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert!(matches!(refused(outcome), SamlRefusal::Destination(_) | SamlRefusal::Recipient(_)));
}

async fn a_replayed_response_is_refused_as_replayed_even_in_a_new_login() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let (login, pending, posted) = signed_in(&idp).await;
    assert!(login.finish(Some(&pending), &posted.saml_response).await.expect("no error").is_ok());
    let again = login.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert_eq!(refused(again), SamlRefusal::Replayed);
    // Without the pending login (the host dropped it when the first finished).
    let again = login.finish(None, &posted.saml_response).await.expect("no error");
    assert_eq!(refused(again), SamlRefusal::Replayed);
    // Into another login begun since: it answers the old request.
    let (_, newer) = login.begin(None).expect("an AuthnRequest");
    let again = login.finish(Some(&newer), &posted.saml_response).await.expect("no error");
    assert!(matches!(refused(again), SamlRefusal::InResponseTo(_)));
}

async fn a_replay_is_refused_by_every_worker_sharing_a_sqlite_ledger() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("saml-ledger-{}.db", std::process::id()));
    let store = Arc::new(integration_store::SqlStore::sqlite(&path).await.expect("a store"));
    let (first, pending, posted) = signed_in(&idp).await;
    let first = first.with_ledger(store.clone());
    let second = login(&idp).await.with_ledger(store);
    assert!(first.finish(Some(&pending), &posted.saml_response).await.expect("no error").is_ok());
    let again = second.finish(Some(&pending), &posted.saml_response).await.expect("no error");
    assert_eq!(refused(again), SamlRefusal::Replayed);
}

async fn an_unsolicited_response_is_refused_unless_allowed_and_then_taken_once() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let posted = idp.sign_in_unsolicited(&ada()).await;
    assert!(!posted.xml().contains("InResponseTo"), "IdP-initiated");
    let strict = login(&idp).await;
    assert_eq!(refused(strict.finish(None, &posted.saml_response).await.expect("no error")), SamlRefusal::Unsolicited);

    let open = integration_saml::login(tenant(), config(&idp).await.allow_unsolicited()).expect("a login");
    assert!(open.finish(None, &posted.saml_response).await.expect("no error").is_ok());
    assert_eq!(refused(open.finish(None, &posted.saml_response).await.expect("no error")), SamlRefusal::Replayed);
}

async fn a_wrapped_assertion_never_signs_anyone_in_but_the_signed_subject() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    idp.settings(&[("signResponse", "false"), ("signAssertion", "true")]).await;
    let (login, pending, posted) = signed_in(&idp).await;
    let xml = posted.xml();
    let start = xml.find("<saml:Assertion").expect("an assertion");
    let end = xml.find("</saml:Assertion>").expect("its end") + "</saml:Assertion>".len();
    let signed = &xml[start..end];
    // An unsigned copy naming someone else, with a fresh ID, beside (and around) the signed one.
    let id = &signed[signed.find("ID=\"").expect("an ID") + 4..];
    let id = &id[..id.find('"').expect("its end")];
    let evil =
        signed.replace(id, "_evil").replace(">ada@acme.example</saml:NameID>", ">eve@acme.example</saml:NameID>");
    let evil = evil[..evil.find("<Signature").expect("signed")].to_owned()
        + &evil[evil.find("</Signature>").expect("signed") + "</Signature>".len()..];
    for wrapped in [
        format!("{}{evil}{}", &xml[..start], &xml[start..]),
        format!("{}{signed}{evil}{}", &xml[..start], &xml[end..]),
        format!(
            "{}{}{}",
            &xml[..start],
            evil.replace("</saml:Assertion>", &format!("{signed}</saml:Assertion>")),
            &xml[end..]
        ),
    ] {
        let outcome = login.finish(Some(&pending), &posted.with_xml(&wrapped).saml_response).await.expect("no error");
        if let Ok(identity) = outcome {
            assert_eq!(identity.name_id, "ada@acme.example", "the unsigned assertion was read");
        }
    }
}

async fn hostile_responses_are_refused_as_malformed_quickly() {
    let Some(idp) = SamlIdp::start(SP, ACS) else { return };
    let (login, pending, posted) = signed_in(&idp).await;
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol3;</samlp:Response>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>"#;
    let deep = format!("{}{}", "<a>".repeat(30_000), "</a>".repeat(30_000));
    for hostile in [
        "not base64 at all!".to_owned(),
        posted.with_xml("<html>not SAML</html>").saml_response,
        posted.with_xml(laughs).saml_response,
        posted.with_xml(external).saml_response,
        posted.with_xml(&deep).saml_response,
        posted.with_xml("<samlp:Response").saml_response,
        "A".repeat(integration_sso::saml::MAX_RESPONSE_BYTES + 4),
        posted.with_xml(&posted.xml().replacen("<samlp:Response", "<samlp:LogoutResponse", 1)).saml_response,
    ] {
        let outcome = login.finish(Some(&pending), &hostile).await.expect("no error");
        assert!(matches!(refused(outcome), SamlRefusal::Malformed(_)), "{:.80}", hostile);
    }
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::npm("saml-idp")],
        integration_testkit::trials![async a_login_through_the_real_idp_gives_the_signed_identity_and_its_roles, async a_response_signed_only_on_its_assertion_or_only_as_a_whole_is_taken, async an_unsigned_response_is_refused_as_unsigned, async a_tampered_response_is_refused_as_a_bad_signature, async a_response_signed_by_another_key_is_refused, async an_expired_response_is_refused_as_expired, async a_response_for_another_audience_is_refused_as_audience, async a_response_for_another_acs_url_is_refused, async a_replayed_response_is_refused_as_replayed_even_in_a_new_login, async a_replay_is_refused_by_every_worker_sharing_a_sqlite_ledger, async an_unsolicited_response_is_refused_unless_allowed_and_then_taken_once, async a_wrapped_assertion_never_signs_anyone_in_but_the_signed_subject, async hostile_responses_are_refused_as_malformed_quickly],
    )
}
