//! Webhook signature schemes: published vectors, vectors computed from each provider's
//! documentation (with Python's `hmac`, independently of this code), the Standard Webhooks
//! reference crate, every rejection, rotation, and the property that any single-byte change to a
//! signed request fails.

use ::http::{HeaderMap, HeaderValue};
use integration_core::WebhookScheme;
use integration_core::descriptor::{GenericHmac, SignatureEncoding};
use integration_core::webhook::{Rejection, VerifyOptions, WebhookSecret};
use proptest::prelude::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).expect("header value"));
    }
    map
}

fn secret(text: &str) -> WebhookSecret {
    WebhookSecret::new(text)
}

// --- Vectors ---------------------------------------------------------------------------------

#[test]
fn standard_webhooks_reference_vector() {
    // The test vector of the Standard Webhooks / Svix libraries.
    let h = headers(&[
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    ]);
    let body = br#"{"test": 2432232314}"#;
    let s = [secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
    WebhookScheme::StandardWebhooks.verify(&h, body, &s, &VerifyOptions::at(1_614_265_330)).expect("verifies");
    // Our signature for the same input is the published one.
    let signed =
        WebhookScheme::StandardWebhooks.sign(&s[0], body, 1_614_265_330, "msg_p5jXN8AQM9LWM0D4loKWxJek").expect("sign");
    assert_eq!(signed["webhook-signature"], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[test]
fn standard_webhooks_v1a_ed25519() {
    // RFC 8032 test key 1; the signature was computed with Python's `cryptography`.
    let signing = secret("whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
    let public = secret("whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    let body = br#"{"type":"ping"}"#;
    let expected = "v1a,1GNdJcWUEGllEd+a7S511JXZWlM0KOTBcbCzL3ZWYMeCewH5qjB+nltM3drtr2WWkrJtJi0CKMR5SuUBNrxzDg==";
    let signed = WebhookScheme::StandardWebhooks.sign(&signing, body, 1_700_000_000, "msg_ed").expect("sign");
    assert_eq!(signed["webhook-signature"], expected);
    let opts = VerifyOptions::at(1_700_000_000);
    WebhookScheme::StandardWebhooks
        .verify(&signed, body, std::slice::from_ref(&public), &opts)
        .expect("public key verifies");
    let err = WebhookScheme::StandardWebhooks
        .verify(&signed, b"{}", std::slice::from_ref(&public), &opts)
        .expect_err("tampered");
    assert_eq!(err, Rejection::SignatureMismatch);
    // A v1 HMAC secret does not accept a v1a signature, nor the reverse.
    let hmac = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(WebhookScheme::StandardWebhooks.verify(&signed, body, std::slice::from_ref(&hmac), &opts).is_err());
    let v1 = WebhookScheme::StandardWebhooks.sign(&hmac, body, 1_700_000_000, "msg_ed").expect("sign");
    assert!(WebhookScheme::StandardWebhooks.verify(&v1, body, &[public], &opts).is_err());
}

#[test]
fn github_documented_vector() {
    let h =
        headers(&[("x-hub-signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]);
    let s = [secret("It's a Secret to Everybody")];
    WebhookScheme::GitHub.verify(&h, b"Hello, World!", &s, &VerifyOptions::now()).expect("verifies");
}

#[test]
fn slack_documented_vector() {
    let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let h = headers(&[
        ("x-slack-request-timestamp", "1531420618"),
        ("x-slack-signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
    ]);
    let s = [secret("8f742231b10e8888abcd99yyyzzz85a5")];
    WebhookScheme::Slack.verify(&h, body, &s, &VerifyOptions::at(1_531_420_618)).expect("verifies");
    let stale = WebhookScheme::Slack.verify(&h, body, &s, &VerifyOptions::at(1_531_420_618 + 301));
    assert_eq!(stale.expect_err("stale").reason(), "stale_timestamp");
}

#[test]
fn stripe_vector_from_documentation() {
    let body = br#"{"id":"evt_1","type":"customer.created"}"#;
    let h = headers(&[(
        "stripe-signature",
        "t=1700000000,v1=48ab7439cbf232102c021413a764ea927e24c0f0abf3766d21b27a54561fcca0,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
    )]);
    let s = [secret("whsec_test_secret_for_vectors")];
    WebhookScheme::Stripe.verify(&h, body, &s, &VerifyOptions::at(1_700_000_100)).expect("verifies");
    assert_eq!(WebhookScheme::Stripe.event_id(&h, body), "evt_1");
    let signed = WebhookScheme::Stripe.sign(&s[0], body, 1_700_000_000, "").expect("sign");
    assert_eq!(
        signed["stripe-signature"],
        "t=1700000000,v1=48ab7439cbf232102c021413a764ea927e24c0f0abf3766d21b27a54561fcca0"
    );
}

#[test]
fn xero_vector_and_intent_to_receive() {
    let body = br#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0MEENTROPY"}"#;
    let s = [secret("xero-webhook-key-abc123==")];
    let good = headers(&[("x-xero-signature", "AlXnvWngAWv+StdT3ADbyKXPYeiF0nujPpnaf5RDef0=")]);
    WebhookScheme::Xero.verify(&good, body, &s, &VerifyOptions::now()).expect("verifies");
    let bad = headers(&[("x-xero-signature", "BlXnvWngAWv+StdT3ADbyKXPYeiF0nujPpnaf5RDef0=")]);
    assert_eq!(WebhookScheme::Xero.verify(&bad, body, &s, &VerifyOptions::now()), Err(Rejection::SignatureMismatch));
}

#[test]
fn intuit_vector_from_documentation() {
    let body = br#"{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[]}}]}"#;
    let h = headers(&[("intuit-signature", "AYYdEmlQgETBwFq44d4VF/j6t6MiefCluy5b5tXprFQ=")]);
    WebhookScheme::Intuit.verify(&h, body, &[secret("intuit-verifier-token-xyz")], &VerifyOptions::now()).expect("ok");
}

#[test]
fn generic_hmac_with_a_timestamp_template() {
    let scheme = WebhookScheme::GenericHmac(
        GenericHmac::new("x-acme-signature", SignatureEncoding::Hex)
            .with_prefix("sha256=")
            .with_timestamp("x-acme-timestamp", "{timestamp}.{body}"),
    );
    // The Slack vector, expressed as a generic layout, must agree with the Slack preset.
    let slack = WebhookScheme::GenericHmac(
        GenericHmac::new("x-slack-signature", SignatureEncoding::Hex)
            .with_prefix("v0=")
            .with_timestamp("x-slack-request-timestamp", "v0:{timestamp}:{body}"),
    );
    let s = secret("8f742231b10e8888abcd99yyyzzz85a5");
    let a = slack.sign(&s, b"payload", 1_531_420_618, "").expect("sign");
    let b = WebhookScheme::Slack.sign(&s, b"payload", 1_531_420_618, "").expect("sign");
    assert_eq!(a, b);
    let signed = scheme.sign(&s, b"{}", 1_700_000_000, "").expect("sign");
    scheme.verify(&signed, b"{}", &[s], &VerifyOptions::at(1_700_000_000)).expect("verifies");
}

// --- The reference implementation ------------------------------------------------------------

#[test]
fn agrees_with_the_standardwebhooks_crate_both_ways() {
    let text = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let theirs = standardwebhooks::Webhook::new(text).expect("their secret");
    let now = chrono::Utc::now().timestamp();
    let body = br#"{"type":"employee.terminated","data":{"id":"42"}}"#;

    let their_sig = theirs.sign("msg_cross", now, body).expect("they sign");
    let h = headers(&[
        ("webhook-id", "msg_cross"),
        ("webhook-timestamp", &now.to_string()),
        ("webhook-signature", &their_sig),
    ]);
    WebhookScheme::StandardWebhooks.verify(&h, body, &[secret(text)], &VerifyOptions::now()).expect("we verify theirs");

    let ours = WebhookScheme::StandardWebhooks.sign(&secret(text), body, now, "msg_cross").expect("we sign");
    theirs.verify(body, &ours).expect("they verify ours");
}

// --- Rejections ------------------------------------------------------------------------------

/// Every scheme with a secret, signed at `ts`.
fn all_schemes() -> Vec<(WebhookScheme, WebhookSecret)> {
    vec![
        (WebhookScheme::StandardWebhooks, secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
        (WebhookScheme::StandardWebhooks, secret("whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")),
        (WebhookScheme::Stripe, secret("whsec_stripe")),
        (WebhookScheme::GitHub, secret("gh-secret")),
        (WebhookScheme::Slack, secret("slack-signing-secret")),
        (WebhookScheme::Xero, secret("xero-key")),
        (WebhookScheme::Intuit, secret("intuit-token")),
        (
            WebhookScheme::GenericHmac(
                GenericHmac::new("x-sig", SignatureEncoding::Base64).with_timestamp("x-ts", "{timestamp}:{body}"),
            ),
            secret("generic"),
        ),
    ]
}

const TS: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"id":"evt_42","event_id":"Ev42","type":"x"}"#;

fn has_timestamp(scheme: &WebhookScheme) -> bool {
    !matches!(scheme, WebhookScheme::GitHub | WebhookScheme::Xero | WebhookScheme::Intuit)
}

#[test]
fn wrong_secret_tampered_body_and_missing_headers_are_rejected() {
    let opts = VerifyOptions::at(TS);
    for (scheme, s) in all_schemes() {
        let signed = scheme.sign(&s, BODY, TS, "msg_1").expect("sign");
        scheme.verify(&signed, BODY, std::slice::from_ref(&s), &opts).expect("genuine verifies");
        let wrong = match &scheme {
            WebhookScheme::StandardWebhooks => secret("whsec_QUJDREVGR0hJSktMTU5PUA=="),
            _ => secret("not-the-secret"),
        };
        assert_eq!(scheme.verify(&signed, BODY, &[wrong], &opts), Err(Rejection::SignatureMismatch), "{scheme:?}");
        let mut tampered = BODY.to_vec();
        tampered[3] ^= 0x01;
        assert_eq!(
            scheme.verify(&signed, &tampered, std::slice::from_ref(&s), &opts),
            Err(Rejection::SignatureMismatch),
            "{scheme:?}"
        );
        for name in signed.keys() {
            if name == "x-github-delivery" {
                continue;
            }
            let mut missing = signed.clone();
            missing.remove(name);
            let err = scheme.verify(&missing, BODY, std::slice::from_ref(&s), &opts).expect_err("missing header");
            assert_eq!(err, Rejection::MissingHeader(name.as_str().to_owned()), "{scheme:?}");
            assert_eq!(err.status(), 401);
            let mut doubled = signed.clone();
            let value = signed[name].clone();
            doubled.append(name.clone(), value);
            let err = scheme.verify(&doubled, BODY, std::slice::from_ref(&s), &opts).expect_err("duplicate header");
            assert_eq!(err, Rejection::DuplicateHeader(name.as_str().to_owned()), "{scheme:?}");
            let mut binary = signed.clone();
            binary.insert(name.clone(), HeaderValue::from_bytes(b"\xff\xfe").expect("opaque bytes"));
            let err = scheme.verify(&binary, BODY, std::slice::from_ref(&s), &opts).expect_err("non-UTF-8 header");
            assert_eq!(err.status(), 401, "{scheme:?}: {err}");
        }
        assert!(scheme.verify(&signed, BODY, &[], &opts).expect_err("no secret").status().is_server_error());
    }
}

#[test]
fn stale_and_future_timestamps_are_rejected() {
    for (scheme, s) in all_schemes().into_iter().filter(|(sc, _)| has_timestamp(sc)) {
        let signed = scheme.sign(&s, BODY, TS, "msg_1").expect("sign");
        let at = |now| scheme.verify(&signed, BODY, std::slice::from_ref(&s), &VerifyOptions::at(now));
        at(TS + 300).expect("at the edge");
        at(TS - 300).expect("at the other edge");
        assert_eq!(at(TS + 301), Err(Rejection::Stale { age_secs: 301 }), "{scheme:?}");
        assert_eq!(at(TS - 301), Err(Rejection::Future { ahead_secs: 301 }), "{scheme:?}");
        let wide = VerifyOptions { tolerance: std::time::Duration::from_secs(3600), now: TS + 3000 };
        scheme.verify(&signed, BODY, std::slice::from_ref(&s), &wide).expect("a configured tolerance");
    }
}

#[test]
fn rotation_several_secrets_and_several_signatures() {
    let opts = VerifyOptions::at(TS);
    for (scheme, new) in all_schemes() {
        let old = match &scheme {
            WebhookScheme::StandardWebhooks => secret("whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0"),
            _ => secret("old-secret"),
        };
        // The provider still signs with the old secret; the endpoint already knows both.
        let signed = scheme.sign(&old, BODY, TS, "msg_1").expect("sign");
        scheme.verify(&signed, BODY, &[new.clone(), old.clone()], &opts).expect("any secret may match");
    }
    // One header carrying the old and the new signature (Standard Webhooks and Stripe rotate so).
    let old = secret("whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0");
    let new = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let a = WebhookScheme::StandardWebhooks.sign(&old, BODY, TS, "m").expect("sign");
    let b = WebhookScheme::StandardWebhooks.sign(&new, BODY, TS, "m").expect("sign");
    let mut both = a.clone();
    let joined = format!(
        "{} {}",
        a["webhook-signature"].to_str().expect("ascii"),
        b["webhook-signature"].to_str().expect("ascii")
    );
    both.insert("webhook-signature", HeaderValue::from_str(&joined).expect("value"));
    WebhookScheme::StandardWebhooks.verify(&both, BODY, &[new], &opts).expect("the second signature matches");

    let s1 = WebhookScheme::Stripe.sign(&secret("whsec_one"), BODY, TS, "").expect("sign");
    let s2 = WebhookScheme::Stripe.sign(&secret("whsec_two"), BODY, TS, "").expect("sign");
    let v1_two = s2["stripe-signature"].to_str().expect("ascii").split(',').nth(1).expect("v1").to_owned();
    let combined = format!("{},{v1_two}", s1["stripe-signature"].to_str().expect("ascii"));
    let h = headers(&[("stripe-signature", &combined)]);
    WebhookScheme::Stripe.verify(&h, BODY, &[secret("whsec_two")], &opts).expect("any v1 may match");
}

#[test]
fn event_ids_come_from_the_provider_or_the_body_hash() {
    let s = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let h = WebhookScheme::StandardWebhooks.sign(&s, BODY, TS, "msg_77").expect("sign");
    assert_eq!(WebhookScheme::StandardWebhooks.event_id(&h, BODY), "msg_77");
    assert_eq!(WebhookScheme::Slack.event_id(&HeaderMap::new(), BODY), "Ev42");
    // X-GitHub-Delivery is not signed: the id is the body's digest, so a captured delivery sent
    // again under a fresh X-GitHub-Delivery is the same delivery.
    let gh = WebhookScheme::GitHub.sign(&secret("g"), BODY, TS, "delivery-9").expect("sign");
    let replayed = WebhookScheme::GitHub.sign(&secret("g"), BODY, TS, "delivery-10").expect("sign");
    let id = WebhookScheme::GitHub.event_id(&gh, BODY);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(WebhookScheme::GitHub.event_id(&replayed, BODY), id);
    let xero = WebhookScheme::Xero.event_id(&HeaderMap::new(), BODY);
    assert!(xero.starts_with("sha256:") && xero.len() == 7 + 64, "{xero}");
    assert_ne!(xero, WebhookScheme::Xero.event_id(&HeaderMap::new(), b"other"));
}

#[test]
fn malformed_signature_headers_never_panic_and_are_rejected() {
    let opts = VerifyOptions::at(TS);
    for value in ["", "t=", "t=1700000000", "v1=zz", "t=abc,v1=00", ",,,", "t=1,t=2,v1=00", "v1,", "v1,!!!", "sha256="]
    {
        for scheme in [WebhookScheme::Stripe, WebhookScheme::GitHub, WebhookScheme::Xero] {
            let name = match scheme {
                WebhookScheme::Stripe => "stripe-signature",
                WebhookScheme::GitHub => "x-hub-signature-256",
                _ => "x-xero-signature",
            };
            let err = scheme.verify(&headers(&[(name, value)]), BODY, &[secret("s")], &opts).expect_err(value);
            assert_eq!(err.status(), 401, "{scheme:?} {value:?}: {err}");
        }
    }
}

// --- Property: any single-byte change fails --------------------------------------------------

fn mutate(bytes: &mut [u8], index: usize, value: u8) -> bool {
    let i = index % bytes.len();
    if bytes[i] == value {
        return false;
    }
    bytes[i] = value;
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_single_byte_change_to_a_signed_request_fails(
        which in 0usize..8,
        target in 0usize..4,
        index in any::<usize>(),
        value in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        let (scheme, s) = all_schemes().swap_remove(which);
        let signed = scheme.sign(&s, &body, TS, "msg_prop").expect("sign");
        let opts = VerifyOptions::at(TS);
        let names: Vec<_> = signed.keys().filter(|n| n.as_str() != "x-github-delivery").cloned().collect();
        if target == 0 || target > names.len() {
            let mut changed = body.clone();
            prop_assume!(mutate(&mut changed, index, value));
            prop_assert!(scheme.verify(&signed, &changed, std::slice::from_ref(&s), &opts).is_err());
        } else {
            let name = &names[target - 1];
            let mut bytes = signed[name].as_bytes().to_vec();
            prop_assume!(mutate(&mut bytes, index, value));
            let mut changed = signed.clone();
            match HeaderValue::from_bytes(&bytes) {
                Ok(v) => { changed.insert(name.clone(), v); }
                Err(_) => return Ok(()), // not sendable as a header value at all
            }
            prop_assert!(
                scheme.verify(&changed, &body, std::slice::from_ref(&s), &opts).is_err(),
                "{:?}: {} changed to {:?} still verifies", scheme, name, String::from_utf8_lossy(&bytes)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What the fuzz target checks, in CI: arbitrary header values never panic and never verify.
    #[test]
    fn arbitrary_signature_headers_are_rejected(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 9),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let names = [
            "webhook-id", "webhook-timestamp", "webhook-signature", "stripe-signature", "x-hub-signature-256",
            "x-slack-signature", "x-slack-request-timestamp", "x-xero-signature", "intuit-signature",
        ];
        let mut map = HeaderMap::new();
        for (name, value) in names.iter().zip(&values) {
            if let Ok(v) = HeaderValue::from_bytes(value) {
                map.insert(*name, v);
            }
        }
        if let Some(v) = map.get("stripe-signature").and_then(|v| v.to_str().ok()) {
            let _ = integration_core::webhook::stripe::parse_header(v);
        }
        for (scheme, s) in all_schemes() {
            prop_assert!(scheme.verify(&map, &body, &[s], &VerifyOptions::at(TS)).is_err());
        }
    }
}

#[test]
fn a_standard_signature_list_is_read_entry_by_entry() {
    let opts = VerifyOptions::at(TS);
    let key = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let signed = WebhookScheme::StandardWebhooks.sign(&key, BODY, TS, "msg_1").expect("sign");
    let good = signed["webhook-signature"].to_str().expect("ascii").to_owned();
    let with_list = |list: &str| {
        let mut h = signed.clone();
        h.insert("webhook-signature", HeaderValue::from_str(list).expect("value"));
        h
    };
    let verify =
        |list: &str| WebhookScheme::StandardWebhooks.verify(&with_list(list), BODY, std::slice::from_ref(&key), &opts);
    // Unknown versions, a signature too long to be one, an Ed25519 entry for an HMAC secret and
    // a wrong HMAC come before the right one: each is passed over.
    let too_long = format!("v1,{}", "A".repeat(120));
    let wrong = format!("v1,{}", "B".repeat(44));
    let ed25519 = format!("v1a,{}", "C".repeat(88));
    verify(&format!("v2,abc {too_long} {ed25519} {wrong} {good}")).expect("the last entry matches");
    // Readable signatures that do not match: a mismatch.
    let err = verify(&format!("{wrong} {ed25519}")).expect_err("none matches");
    assert_eq!(err.reason(), "signature_mismatch", "{err}");
    // Nothing readable: a malformed header, not a mismatch.
    for list in ["", "v2,abc", &too_long, "v1,!!!", "v1"] {
        let err = verify(list).expect_err(list);
        assert_eq!(err.reason(), "malformed_header", "{list:?}: {err}");
    }
}
