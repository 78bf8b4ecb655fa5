//! The HRIS contract, run by the BambooHR adapter against the BambooHR fake.
#![cfg(feature = "bamboohr")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::webhook::WebhookSecret;
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_hris::Hris;
use integration_testkit::contract::hris::{HrisFixture, Malformed, SignedDelivery};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::faults::Faults;
use integration_testkit::fake::people::People;
use serde_json::json;

struct BambooHrFixture {
    fake: FakeBambooHr,
    hris: Arc<dyn Hris>,
    private_key: String,
}

#[async_trait]
impl HrisFixture for BambooHrFixture {
    async fn start(people: People) -> Self {
        let fake = FakeBambooHr::start(people).await;
        let config = fake.config(TenantId::new("contract").unwrap(), ConnectionId::new("bamboohr").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let private_key = fake.add_webhook("https://hooks.example.com/bamboohr");
        Self { fake, hris, private_key }
    }

    fn hris(&self) -> Arc<dyn Hris> {
        self.hris.clone()
    }

    fn people(&self) -> &People {
        self.fake.people()
    }

    fn faults(&self) -> &Faults {
        self.fake.faults()
    }

    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed { provider_field: "hireDate", value: json!("31/02/2020"), expected_field: "hireDate" },
            Malformed { provider_field: "firstName", value: json!(42), expected_field: "firstName" },
            Malformed { provider_field: "payRate", value: json!("lots XYZ"), expected_field: "payRate" },
            Malformed { provider_field: "lastChanged", value: json!("yesterday"), expected_field: "lastChanged" },
        ]
    }

    fn recovers_expired_credentials(&self) -> bool {
        false
    }

    async fn take_webhook(&self) -> Option<SignedDelivery> {
        let (headers, body) = self.fake.take_delivery(&self.private_key)?;
        Some(SignedDelivery {
            scheme: integration_hris::bamboohr::webhook_scheme(),
            secret: WebhookSecret::new(&self.private_key),
            headers,
            body,
        })
    }
}

integration_testkit::hris_contract_suite!(BambooHrFixture);

mod bamboohr_specifics {
    use integration_core::webhook::{VerifyOptions, WebhookSecret};
    use integration_core::{BuildContext, ConnectionId, ErrorKind, TenantId};
    use integration_hris::{ListRequest, bamboohr};
    use integration_testkit::capture::capture_tracing;
    use integration_testkit::fake::bamboohr::{API_KEY, FakeBambooHr};
    use integration_testkit::fake::people::People;

    /// The signature computed independently, with Python's `hmac` over body ‖ timestamp, as
    /// BambooHR's documentation describes it.
    #[test]
    fn the_webhook_scheme_matches_an_independent_vector() {
        let body = br#"{"employees":[{"id":"123","action":"Updated","changedFields":["First Name"],"fields":{"First Name":"Bryony"},"timestamp":"2026-01-31T18:42:00+0000"}]}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert("x-bamboohr-timestamp", "1769884920".parse().unwrap());
        headers.insert(
            "x-bamboohr-signature",
            "2d7c092bca3632fb095d75f1fe90929f54acc4af28cea702f6dce51eac46a003".parse().unwrap(),
        );
        let secret = WebhookSecret::new("bhr-private-key-4f1c");
        let scheme = bamboohr::webhook_scheme();
        assert!(
            scheme.verify(&headers, body, std::slice::from_ref(&secret), &VerifyOptions::at(1_769_884_950)).is_ok()
        );
        let tampered = scheme.verify(&headers, b"{}", &[secret], &VerifyOptions::at(1_769_884_950));
        assert_eq!(tampered.unwrap_err().reason(), "signature_mismatch");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_api_key_never_shows_in_debug_errors_or_logs() {
        let fake = FakeBambooHr::start(People::generate(3, 3)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        assert!(!format!("{hris:?} {config:?}").contains(API_KEY));
        let wrong = config.clone().with_secret("api_key", "a-wrong-key-0000");
        let refused = integration_hris::build(&wrong, &BuildContext::default()).unwrap();
        let (result, logs) = capture_tracing(async { refused.employees(ListRequest::first()).await }).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AuthInvalid);
        assert!(error.to_string().contains("Invalid API key"), "the provider's explanation is kept: {error}");
        let text = format!("{error} {error:?} {logs}");
        assert!(!text.contains(API_KEY) && !text.contains("a-wrong-key-0000"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_single_employee_and_a_missing_one() {
        let fake = FakeBambooHr::start(People::generate(4, 3)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let one = hris.employee("101").await.unwrap();
        let person = fake.people().person(101).unwrap();
        assert_eq!(one.fields.last_name.as_deref(), Some(person.last_name.as_str()));
        assert_eq!(one.fields.employment.pay.as_ref().map(|p| p.currency.code()), Some("USD"));
        assert!(one.remote_data.is_some(), "the raw record is kept");
        let missing = hris.employee("999").await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sandbox_rules_pass_against_the_fake() {
        let fake = FakeBambooHr::start(People::generate(5, 6)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let run = integration_testkit::contract::hris::sandbox(hris, true).await;
        assert_eq!(run.counts.added, 6);
    }
}
