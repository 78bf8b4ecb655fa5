//! Google's push notification channels
//! (<https://developers.google.com/workspace/calendar/api/guides/push>): a notification is not
//! signed; it carries the token the channel was made with (`X-Goog-Channel-Token`), which is
//! compared — in constant time — with the endpoint's secrets. Its body is empty: what changed is
//! read by the next incremental sync. A delivery is identified by its channel and message
//! number (`X-Goog-Channel-ID`, `X-Goog-Message-Number`); they are not signed, so a captured
//! notification sent again under another number is taken again — which asks for one more sync
//! and changes nothing else.
//!
//! ```
//! use integration_core::webhook::{VerifyOptions, WebhookSecret, google_channel};
//!
//! let token = WebhookSecret::new("a-channel-token-of-32-or-more-characters");
//! let headers = google_channel::headers(&token, "channel-1", 7, "exists", "https://www.googleapis.com/calendar/v3/calendars/primary/events");
//! assert!(integration_core::WebhookScheme::GoogleChannel.verify(&headers, b"", &[token], &VerifyOptions::now()).is_ok());
//! ```

use http::{HeaderMap, HeaderName, HeaderValue};
use subtle::ConstantTimeEq as _;

use super::scheme::{Verified, one_header};
use super::{Rejection, WebhookSecret};

/// The channel's token.
pub const TOKEN: &str = "x-goog-channel-token";
/// The channel's id.
pub const CHANNEL_ID: &str = "x-goog-channel-id";
/// The notification's number within its channel.
pub const MESSAGE_NUMBER: &str = "x-goog-message-number";
/// `sync` (the channel was made), `exists` or `not_exists` (the resource changed).
pub const RESOURCE_STATE: &str = "x-goog-resource-state";
/// The watched resource's URI.
pub const RESOURCE_URI: &str = "x-goog-resource-uri";

/// Checks the channel token against any of `secrets`.
pub(crate) fn verify(headers: &HeaderMap, secrets: &[WebhookSecret]) -> Result<Verified, Rejection> {
    let token = one_header(headers, TOKEN)?;
    one_header(headers, CHANNEL_ID)?;
    let matched = secrets.iter().any(|secret| bool::from(secret.expose_text().as_bytes().ct_eq(token.as_bytes())));
    if matched { Ok(Verified { timestamp: None }) } else { Err(Rejection::SignatureMismatch) }
}

/// The delivery's id: `google:<channel id>:<message number>`, when both are there.
pub(crate) fn event_id(headers: &HeaderMap) -> Option<String> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    Some(format!("google:{}:{}", value(CHANNEL_ID)?, value(MESSAGE_NUMBER)?))
}

/// The headers Google sends with notification `number` of `channel` (what a test's fake sends).
pub fn headers(token: &WebhookSecret, channel: &str, number: u64, state: &str, resource_uri: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (TOKEN, token.expose_text()),
        (CHANNEL_ID, channel),
        (MESSAGE_NUMBER, &number.to_string()),
        (RESOURCE_STATE, state),
        (RESOURCE_URI, resource_uri),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::WebhookScheme;
    use crate::webhook::VerifyOptions;

    #[test]
    fn the_token_decides_and_the_channel_and_number_identify() {
        let token = WebhookSecret::new("channel-token-0123456789abcdef0123456789");
        let headers =
            headers(&token, "chan-1", 3, "exists", "https://www.googleapis.com/calendar/v3/calendars/a%40b.c/events");
        let verify = |h: &HeaderMap, secrets: &[WebhookSecret]| {
            WebhookScheme::GoogleChannel.verify(h, b"", secrets, &VerifyOptions::now())
        };
        assert!(verify(&headers, &[WebhookSecret::new("old-token"), token.clone()]).is_ok(), "any of the secrets");
        assert_eq!(verify(&headers, &[WebhookSecret::new("another")]).unwrap_err(), Rejection::SignatureMismatch);
        let mut missing = headers.clone();
        missing.remove(TOKEN);
        assert!(matches!(verify(&missing, std::slice::from_ref(&token)), Err(Rejection::MissingHeader(_))));
        let mut doubled = headers.clone();
        doubled.append(TOKEN, HeaderValue::from_static("x"));
        assert!(matches!(verify(&doubled, &[token]), Err(Rejection::DuplicateHeader(_))));
        assert_eq!(WebhookScheme::GoogleChannel.event_id(&headers, b""), "google:chan-1:3");
        let mut unnumbered = headers;
        unnumbered.remove(MESSAGE_NUMBER);
        assert!(WebhookScheme::GoogleChannel.event_id(&unnumbered, b"").starts_with("sha256:"));
    }
}
