//! Microsoft Graph change notifications
//! (<https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks>): not
//! signed; every notification in a delivery (`value[]`) carries the `clientState` its
//! subscription was made with, which is compared — in constant time — with the endpoint's
//! secrets. A delivery is identified by its body's digest (Graph retries the same body).
//!
//! Before a subscription is made, Graph checks the endpoint: a `POST` with
//! `?validationToken=…` (and no body) whose token must come back as `text/plain` within ten
//! seconds; the router answers it for an endpoint of this scheme ([`validation_token`]).
//!
//! ```
//! use integration_core::WebhookScheme;
//! use integration_core::webhook::{VerifyOptions, WebhookSecret, graph};
//!
//! let secret = WebhookSecret::new("client-state-of-this-subscription");
//! let body = br#"{"value":[{"subscriptionId":"s1","clientState":"client-state-of-this-subscription","changeType":"updated","resource":"Users/u1/Events/e1"}]}"#;
//! let headers = http::HeaderMap::new();
//! assert!(WebhookScheme::GraphClientState.verify(&headers, body, &[secret], &VerifyOptions::now()).is_ok());
//! assert_eq!(graph::validation_token(Some("validationToken=Validation%3A%20Testing")).as_deref(), Some("Validation: Testing"));
//! ```

use serde_json::Value;
use subtle::ConstantTimeEq as _;

use super::scheme::Verified;
use super::{Rejection, WebhookSecret};

/// The most notifications one delivery is read for.
const MAX_ITEMS: usize = 1_000;

/// The longest validation token echoed.
const MAX_TOKEN: usize = 4_096;

/// Checks every notification's `clientState` against any of `secrets`.
pub(crate) fn verify(body: &[u8], secrets: &[WebhookSecret]) -> Result<Verified, Rejection> {
    let payload: Value = serde_json::from_slice(body).map_err(|_| Rejection::UnroutablePayload)?;
    let items = payload
        .get("value")
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or(Rejection::MissingHeader("value".into()))?;
    if items.len() > MAX_ITEMS {
        return Err(Rejection::MalformedHeader {
            header: "value".into(),
            why: "more notifications than a delivery holds",
        });
    }
    for item in items {
        let state = item
            .get("clientState")
            .and_then(Value::as_str)
            .ok_or(Rejection::MissingHeader("value[].clientState".into()))?;
        let matched = secrets.iter().any(|s| bool::from(s.expose_text().as_bytes().ct_eq(state.as_bytes())));
        if !matched {
            return Err(Rejection::SignatureMismatch);
        }
    }
    Ok(Verified { timestamp: None })
}

/// The `validationToken` of a request's query (percent-decoded), when it is Graph's check of
/// the endpoint; `None` otherwise, or for a token too long or not text to echo.
pub fn validation_token(query: Option<&str>) -> Option<String> {
    let query = query?;
    let token = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "validationToken")
        .map(|(_, v)| v.into_owned())?;
    (token.len() <= MAX_TOKEN && !token.chars().any(char::is_control)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::WebhookScheme;
    use crate::webhook::VerifyOptions;

    fn verify_with(body: &str, secret: &str) -> Result<Verified, Rejection> {
        WebhookScheme::GraphClientState.verify(
            &http::HeaderMap::new(),
            body.as_bytes(),
            &[WebhookSecret::new(secret)],
            &VerifyOptions::now(),
        )
    }

    #[test]
    fn every_notification_carries_the_client_state() {
        let one = |state: &str| format!(r#"{{"subscriptionId":"s","clientState":"{state}","changeType":"created"}}"#);
        let body = format!(r#"{{"value":[{},{}]}}"#, one("secret-state"), one("secret-state"));
        assert!(verify_with(&body, "secret-state").is_ok());
        let mixed = format!(r#"{{"value":[{},{}]}}"#, one("secret-state"), one("forged"));
        assert_eq!(verify_with(&mixed, "secret-state").unwrap_err(), Rejection::SignatureMismatch);
        assert!(verify_with(r#"{"value":[{"subscriptionId":"s"}]}"#, "secret-state").is_err(), "no clientState");
        assert!(verify_with(r#"{"value":[]}"#, "secret-state").is_err());
        assert!(verify_with("not json", "secret-state").is_err());
        assert_eq!(validation_token(Some("a=1&validationToken=abc%20def")).as_deref(), Some("abc def"));
        assert_eq!(validation_token(Some("a=1")), None);
        assert_eq!(validation_token(None), None);
        assert_eq!(validation_token(Some(&format!("validationToken={}", "x".repeat(MAX_TOKEN + 1)))), None);
        assert_eq!(validation_token(Some("validationToken=a%0Ab")), None, "no control characters echoed");
    }
}
