//! `localstripe` (PyPI, pinned by `peers/localstripe/requirements.txt`), a Stripe-compatible
//! server written by others, run by `peers/localstripe/server.py`: bound to 127.0.0.1 on a free
//! port, its state in memory (localstripe's own entry point listens on every interface and
//! keeps its state in one shared `/tmp` file).
//!
//! Any key starting `sk_` is accepted. What it does not do (see `PEERS.md`): honour
//! `Idempotency-Key` (our client sends it all the same), confirm with a `payment_method`
//! parameter (give it when creating the intent). Card `4000000000000341` declines on confirm
//! (`402 card_declined`); `4000000000000002` declines on attach.

use super::PythonPeer;

/// A running localstripe; stopped when dropped.
#[derive(Debug)]
pub struct LocalStripe {
    peer: PythonPeer,
}

impl LocalStripe {
    /// A secret key it accepts.
    pub const API_KEY: &'static str = "sk_test_integrations_localstripe";

    /// Starts localstripe on a free port, installing its pinned virtualenv first if needed;
    /// `None` (with the reason printed) when Python cannot install or run it on a developer's
    /// machine — under `CI=true` that fails the test instead. Blocks until it listens.
    pub fn start() -> Option<Self> {
        PythonPeer::start("localstripe", "localstripe", "server.py", &[]).map(|peer| Self { peer })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.peer.url
    }

    /// Creates a card payment method at localstripe, as Stripe.js would in a customer's
    /// browser: the card number goes to the gateway, never through the SDK. Its id.
    pub async fn card(&self, number: &str) -> String {
        let form = [
            ("type", "card"),
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ];
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/payment_methods", self.peer.url))
            .bearer_auth(Self::API_KEY)
            .form(&form)
            .send()
            .await
            .expect("localstripe answers")
            .json()
            .await
            .expect("a payment method");
        answer["id"].as_str().expect("an id").to_owned()
    }

    /// Acts at localstripe as the merchant's dashboard would, not through the SDK: a form `POST`
    /// to `path` (`/v1/customers/cus_…`). Its answer.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let request =
            reqwest::Client::new().post(format!("{}{path}", self.peer.url)).bearer_auth(Self::API_KEY).form(form);
        request.send().await.expect("localstripe answers").json().await.expect("JSON")
    }

    /// Deletes `path` at localstripe, as the dashboard would. Its answer.
    pub async fn delete(&self, path: &str) -> serde_json::Value {
        let request = reqwest::Client::new().delete(format!("{}{path}", self.peer.url)).bearer_auth(Self::API_KEY);
        request.send().await.expect("localstripe answers").json().await.expect("JSON")
    }

    /// Registers a webhook endpoint at localstripe (`POST /_config/webhooks/{id}`): deliveries
    /// signed with `secret`, about a second after each event, sent once.
    pub async fn register_webhook(&self, id: &str, url: &str, secret: &str) {
        let status = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/{id}", self.peer.url))
            .form(&[("url", url), ("secret", secret)])
            .send()
            .await
            .expect("localstripe answers")
            .status();
        assert!(status.is_success(), "localstripe refused the webhook: {status}");
    }
}
