//! The service provider's checks on a signed assertion, each on its own: what `SamlLogin` does
//! after the XML side has verified the signatures (here a protocol that hands back a given
//! assertion, as if it were signed). The XML side itself is tested against the real saml-idp
//! in `integration-saml`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use integration_core::TenantId;
use integration_sso::saml::{
    Certificate, Confirmation, IdentityProvider, PendingSaml, SamlConfig, SamlLogin, SamlProtocol, SamlRefusal,
    SignedAssertion,
};
use proptest::prelude::*;

const SP: &str = "https://app.example/saml";
const ACS: &str = "https://app.example/saml/acs";
const IDP: &str = "https://idp.example";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Hands back the assertion it holds for any response, as if its signature verified.
#[derive(Debug)]
struct Verified(Mutex<SignedAssertion>);

impl SamlProtocol for Verified {
    fn metadata(&self, config: &SamlConfig) -> integration_core::Result<String> {
        Ok(format!("<EntityDescriptor entityID=\"{}\"/>", config.entity_id))
    }

    fn authn_request_url(
        &self,
        config: &SamlConfig,
        request_id: &str,
        _relay_state: Option<&str>,
    ) -> integration_core::Result<String> {
        Ok(format!("{}?id={request_id}", config.idp.sso_url))
    }

    fn verify(&self, _config: &SamlConfig, _response: &str) -> Result<SignedAssertion, SamlRefusal> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a time")
}

fn config() -> SamlConfig {
    let certificate = Certificate::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x01]).expect("DER");
    SamlConfig::new(SP, ACS, IdentityProvider::new(IDP, format!("{IDP}/sso")).with_certificate(certificate))
}

fn pending() -> PendingSaml {
    PendingSaml { request_id: "_request".into(), relay_state: None, started_at: now() }
}

/// A good assertion issued at `now()` for the pending request.
fn assertion() -> SignedAssertion {
    SignedAssertion {
        id: "_assertion".into(),
        issuer: IDP.into(),
        issue_instant: now(),
        name_id: "ada@acme.example".into(),
        name_id_format: None,
        confirmations: vec![Confirmation {
            method: BEARER.into(),
            recipient: Some(ACS.into()),
            in_response_to: Some("_request".into()),
            not_before: None,
            not_on_or_after: Some(now() + Duration::minutes(5)),
        }],
        not_before: Some(now()),
        not_on_or_after: Some(now() + Duration::minutes(5)),
        audience_restrictions: vec![vec![SP.into()]],
        session_index: Some("s1".into()),
        attributes: BTreeMap::from([("memberOf".to_owned(), vec!["Engineering".to_owned()])]),
    }
}

fn login(config: SamlConfig, assertion: SignedAssertion) -> SamlLogin {
    let protocol = Arc::new(Verified(Mutex::new(assertion)));
    SamlLogin::new(TenantId::new("acme").expect("tenant"), config, protocol).expect("a login")
}

fn response() -> String {
    base64::engine::general_purpose::STANDARD.encode("<samlp:Response/>")
}

async fn outcome(
    assertion: SignedAssertion,
    at: DateTime<Utc>,
) -> Result<integration_sso::saml::SamlIdentity, SamlRefusal> {
    login(config(), assertion).finish_at(Some(&pending()), &response(), at).await.expect("no error")
}

#[tokio::test]
async fn a_good_assertion_signs_in_with_its_attributes_mapped() {
    let config = config().map_attribute("memberOf", "groups");
    let identity = login(config, assertion())
        .finish_at(Some(&pending()), &response(), now() + Duration::seconds(2))
        .await
        .expect("no error")
        .expect("signed in");
    assert_eq!(identity.name_id, "ada@acme.example");
    assert_eq!(identity.attributes["groups"], ["Engineering"]);
    assert_eq!(identity.claims()["groups"][0], "Engineering");
    assert_eq!(identity.session_index.as_deref(), Some("s1"));
}

#[tokio::test]
async fn each_failed_check_is_refused_for_its_own_reason() {
    let at = now() + Duration::seconds(2);
    let cases: Vec<(&str, SignedAssertion, DateTime<Utc>, &str)> = vec![
        ("another issuer", SignedAssertion { issuer: "https://evil.example".into(), ..assertion() }, at, "issuer"),
        ("past NotOnOrAfter", assertion(), now() + Duration::minutes(6) + Duration::seconds(1), "expired"),
        (
            "issued too long ago",
            SignedAssertion { not_on_or_after: None, ..assertion() },
            now() + Duration::minutes(7),
            "expired",
        ),
        ("issued in the future", assertion(), now() - Duration::minutes(2), "not_yet_valid"),
        ("no audience", SignedAssertion { audience_restrictions: vec![], ..assertion() }, at, "audience"),
        (
            "another audience",
            SignedAssertion { audience_restrictions: vec![vec!["https://other.example".into()]], ..assertion() },
            at,
            "audience",
        ),
        (
            "one restriction of two without us",
            SignedAssertion {
                audience_restrictions: vec![vec![SP.into()], vec!["https://other.example".into()]],
                ..assertion()
            },
            at,
            "audience",
        ),
        ("no bearer", SignedAssertion { confirmations: vec![], ..assertion() }, at, "malformed"),
    ];
    for (what, assertion, at, reason) in cases {
        let refusal = outcome(assertion, at).await.expect_err(what);
        assert_eq!(refusal.as_str(), reason, "{what}: {refusal}");
    }
    let confirmation = |change: fn(&mut Confirmation)| {
        let mut assertion = assertion();
        change(&mut assertion.confirmations[0]);
        assertion
    };
    let cases: Vec<(&str, SignedAssertion, &str)> = vec![
        ("another recipient", confirmation(|c| c.recipient = Some("https://evil.example/acs".into())), "recipient"),
        ("no recipient", confirmation(|c| c.recipient = None), "recipient"),
        ("another request", confirmation(|c| c.in_response_to = Some("_other".into())), "in_response_to"),
        ("no request answered", confirmation(|c| c.in_response_to = None), "in_response_to"),
        (
            "not a bearer",
            confirmation(|c| c.method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key".into()),
            "malformed",
        ),
        ("no NotOnOrAfter", confirmation(|c| c.not_on_or_after = None), "malformed"),
        ("confirmation expired", confirmation(|c| c.not_on_or_after = Some(now() - Duration::minutes(2))), "expired"),
        ("confirmation ahead", confirmation(|c| c.not_before = Some(now() + Duration::minutes(2))), "not_yet_valid"),
    ];
    for (what, assertion, reason) in cases {
        let refusal = outcome(assertion, now()).await.expect_err(what);
        assert_eq!(refusal.as_str(), reason, "{what}: {refusal}");
    }
}

#[tokio::test]
async fn the_clock_skew_is_allowed_either_way_and_no_more() {
    // NotOnOrAfter is now+5 min; the skew one minute.
    let last = now() + Duration::minutes(6) - Duration::milliseconds(1);
    assert!(outcome(assertion(), last).await.is_ok(), "within the skew");
    assert!(outcome(assertion(), now() + Duration::minutes(6)).await.is_err(), "at NotOnOrAfter + skew");
    assert!(outcome(assertion(), now() - Duration::seconds(59)).await.is_ok(), "a clock a little behind");
}

#[tokio::test]
async fn far_future_instants_from_a_signed_assertion_do_not_overflow() {
    let far = DateTime::<Utc>::MAX_UTC;
    let mut distant = assertion();
    distant.not_on_or_after = Some(far);
    distant.confirmations[0].not_on_or_after = Some(far);
    assert!(outcome(distant, now()).await.is_ok());
    let ahead = SignedAssertion { issue_instant: far, not_before: Some(far), ..assertion() };
    assert_eq!(outcome(ahead, now()).await.expect_err("ahead").as_str(), "not_yet_valid");
    let config = config().with_clock_skew(std::time::Duration::from_secs(u64::MAX));
    let refusal = login(config, SignedAssertion { issuer: "x".into(), ..assertion() })
        .finish_at(Some(&pending()), &response(), now())
        .await
        .expect("no error");
    assert_eq!(refusal.expect_err("issuer").as_str(), "issuer");
}

#[tokio::test]
async fn an_assertion_is_taken_once_and_unsolicited_ones_only_when_allowed() {
    let login_ = login(config(), assertion());
    assert!(login_.finish_at(Some(&pending()), &response(), now()).await.expect("no error").is_ok());
    let again = login_.finish_at(Some(&pending()), &response(), now()).await.expect("no error");
    assert_eq!(again, Err(SamlRefusal::Replayed));

    let mut unsolicited = assertion();
    unsolicited.confirmations[0].in_response_to = None;
    let strict = login(config(), unsolicited.clone());
    assert_eq!(strict.finish_at(None, &response(), now()).await.expect("no error"), Err(SamlRefusal::Unsolicited));
    let open = login(config().allow_unsolicited(), unsolicited);
    assert!(open.finish_at(None, &response(), now()).await.expect("no error").is_ok());
    assert_eq!(open.finish_at(None, &response(), now()).await.expect("no error"), Err(SamlRefusal::Replayed));
}

#[test]
fn a_configuration_without_a_certificate_or_with_bad_urls_is_refused() {
    let no_certificate = SamlConfig::new(SP, ACS, IdentityProvider::new(IDP, format!("{IDP}/sso")));
    let error = no_certificate.check().expect_err("no certificate");
    assert!(error.to_string().contains("no signing certificate"), "{error}");
    let mut bad_acs = config();
    bad_acs.acs_url = "not a url".into();
    assert!(bad_acs.check().expect_err("a bad ACS URL").to_string().contains("the ACS URL"));
    assert!(Certificate::from_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----").is_err());
    assert!(Certificate::from_der(b"not DER".to_vec()).is_err());
}

#[tokio::test]
async fn begin_asks_with_a_fresh_random_request_id_each_time() {
    let login = login(config(), assertion());
    let (url, first) = login.begin(Some("/next")).expect("begun");
    let (_, second) = login.begin(None).expect("begun");
    assert!(url.ends_with(&first.request_id));
    assert_ne!(first.request_id, second.request_id);
    assert!(first.request_id.starts_with('_') && first.request_id.len() == 33, "{}", first.request_id);
    assert_eq!(first.relay_state.as_deref(), Some("/next"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any posted value — base64 or not, any size up to the limit and past it — is an identity
    /// or a refusal, never a panic or an error.
    #[test]
    fn any_posted_value_is_an_answer(value in prop_oneof![
        ".{0,200}",
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        (0usize..3).prop_map(|n| "A".repeat(integration_sso::saml::MAX_RESPONSE_BYTES + n)),
    ]) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let answered = runtime.block_on(login(config(), assertion()).finish_at(Some(&pending()), &value, now()));
        prop_assert!(answered.is_ok());
    }
}

/// Counts what is counted, by metric name and labels.
#[derive(Debug, Default)]
struct Counts(Arc<Mutex<BTreeMap<String, u64>>>);

#[derive(Debug)]
struct Count(Arc<Mutex<BTreeMap<String, u64>>>, String);

impl metrics::CounterFn for Count {
    fn increment(&self, value: u64) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(self.1.clone()).or_default() += value;
    }

    fn absolute(&self, value: u64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(self.1.clone(), value);
    }
}

impl metrics::Recorder for Counts {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        metrics::Counter::from_arc(Arc::new(Count(self.0.clone(), name)))
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

#[test]
fn sign_ins_refusals_and_ended_sessions_are_counted_without_users_in_labels() {
    use integration_sso::session::store::MemorySessionStore;
    use integration_sso::session::{SessionPolicy, Sessions};

    let counts = Counts::default();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    metrics::with_local_recorder(&counts, || {
        runtime.block_on(async {
            let login = login(config(), assertion());
            assert!(login.finish_at(Some(&pending()), &response(), now()).await.expect("no error").is_ok());
            assert!(login.finish_at(Some(&pending()), &response(), now()).await.expect("no error").is_err());
            assert!(login.finish_at(Some(&pending()), "%%%", now()).await.expect("no error").is_err());

            let sessions = Sessions::new(Arc::new(MemorySessionStore::new()), SessionPolicy::default());
            let tenant = TenantId::new("acme").expect("tenant");
            let (token, _) = sessions.start(&tenant, "u1", Default::default(), Utc::now()).await.expect("started");
            sessions.start(&tenant, "u1", Default::default(), Utc::now()).await.expect("started");
            sessions.logout(&token).await.expect("logged out");
            sessions.logout(&token).await.expect("a second logout ends nothing");
            assert_eq!(sessions.revoke_user(&tenant, "u1", "offboarded by Ada").await.expect("revoked"), 1);
        });
    });
    let counts = counts.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("integrations_sso_sessions_ended_total{reason=logout}".to_owned(), 1),
            ("integrations_sso_sessions_ended_total{reason=revoked}".to_owned(), 1),
            ("integrations_sso_sign_ins_total{protocol=saml,outcome=malformed}".to_owned(), 1),
            ("integrations_sso_sign_ins_total{protocol=saml,outcome=replayed}".to_owned(), 1),
            ("integrations_sso_sign_ins_total{protocol=saml,outcome=success}".to_owned(), 1),
        ])
    );
}
