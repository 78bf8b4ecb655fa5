//! Arbitrary signature headers and bodies through every scheme's parser and verifier: they must
//! reject (never panic, never accept without the secret).
//!
//! `cargo fuzz run signature_headers` (from this folder).

#![no_main]

use http::{HeaderMap, HeaderValue};
use integration_core::WebhookScheme;
use integration_core::descriptor::{GenericHmac, SignatureEncoding};
use integration_core::webhook::{VerifyOptions, WebhookSecret, standard, stripe};
use libfuzzer_sys::fuzz_target;

const HEADERS: [&str; 9] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "stripe-signature",
    "x-hub-signature-256",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-xero-signature",
    "intuit-signature",
];

fuzz_target!(|data: &[u8]| {
    // Split the input: one value per header, then the body.
    let mut parts = data.split(|b| *b == b'\n');
    let mut headers = HeaderMap::new();
    for name in HEADERS {
        if let Some(value) = parts.next().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, value);
        }
    }
    let body: Vec<u8> = parts.flatten().copied().collect();
    if let Some(v) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) {
        let _ = stripe::parse_header(v);
    }
    if let Some(v) = headers.get("webhook-signature").and_then(|v| v.to_str().ok()) {
        let _ = standard::parse_signatures(v);
    }
    let secret = [WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
    let options = VerifyOptions::at(1_700_000_000);
    let schemes = [
        WebhookScheme::StandardWebhooks,
        WebhookScheme::Stripe,
        WebhookScheme::GitHub,
        WebhookScheme::Slack,
        WebhookScheme::Xero,
        WebhookScheme::Intuit,
        WebhookScheme::Adyen,
        WebhookScheme::GoogleChannel,
        WebhookScheme::GenericHmac(
            GenericHmac::new("x-hub-signature-256", SignatureEncoding::Base64)
                .with_timestamp("webhook-timestamp", "{timestamp}.{body}"),
        ),
    ];
    for scheme in &schemes {
        assert!(scheme.verify(&headers, &body, &secret, &options).is_err(), "forged for {scheme:?}");
        let _ = scheme.event_id(&headers, &body);
    }
});
