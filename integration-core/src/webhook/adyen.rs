//! Adyen's notification signatures: each item of a delivery (`notificationItems[].
//! NotificationRequestItem`) carries `additionalData.hmacSignature`, the base64 HMAC-SHA256 —
//! keyed with the hex-decoded HMAC key of the webhook — of its fields joined by `:`:
//! `pspReference`, `originalReference`, `merchantAccountCode`, `merchantReference`,
//! `amount.value`, `amount.currency`, `eventCode`, `success` (a missing one is empty).
//! <https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures>
//!
//! A delivery verifies when every item does, under one of the endpoint's keys. The provider
//! wants `[accepted]` back: the router answers so for this scheme.
//!
//! ```
//! use integration_core::webhook::{WebhookSecret, adyen};
//! use serde_json::json;
//!
//! // Adyen's published example.
//! let key = WebhookSecret::new("44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056");
//! let item = json!({
//!     "pspReference": "7914073381342284", "originalReference": "", "merchantAccountCode": "TestMerchant",
//!     "merchantReference": "TestPayment-1407325143704", "amount": {"value": 1130, "currency": "EUR"},
//!     "eventCode": "AUTHORISATION", "success": "true",
//! });
//! assert_eq!(adyen::item_signature(&key, &item)?, "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=");
//! # Ok::<(), integration_core::webhook::Rejection>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::Mac as _;
use serde_json::Value;
use subtle::ConstantTimeEq as _;

use super::hmac_layout::{HmacSha256, keyed};
use super::scheme::Verified;
use super::{Rejection, WebhookSecret};

/// The most items one delivery is read for (Adyen sends one; legacy batches a few).
const MAX_ITEMS: usize = 100;

/// What an item's signature covers, in order.
const SIGNED: [&str; 8] = [
    "/pspReference",
    "/originalReference",
    "/merchantAccountCode",
    "/merchantReference",
    "/amount/value",
    "/amount/currency",
    "/eventCode",
    "/success",
];

/// The text an item's signature is computed over.
pub fn signed_content(item: &Value) -> String {
    let field = |pointer: &str| match item.pointer(pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        _ => String::new(),
    };
    SIGNED.map(field).join(":")
}

/// The HMAC of `key` (hex): refused when it is not hex.
pub(crate) fn mac(key: &WebhookSecret) -> Result<HmacSha256, Rejection> {
    let text = key.expose_text().trim().to_ascii_lowercase();
    match crate::hex::decode_lowercase(&text) {
        Some(bytes) if !bytes.is_empty() => Ok(keyed(&bytes)),
        _ => Err(Rejection::Misconfigured("an Adyen HMAC key is hexadecimal".into())),
    }
}

/// The signature of `item` (a `NotificationRequestItem`) under `key`, base64.
///
/// # Errors
/// [`Misconfigured`](Rejection::Misconfigured) when `key` is not hexadecimal.
pub fn item_signature(key: &WebhookSecret, item: &Value) -> Result<String, Rejection> {
    let mut mac = mac(key)?;
    mac.update(signed_content(item).as_bytes());
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

/// A delivery's id for deduplication: Adyen's items carry no event id, and Adyen's guide
/// identifies a notification by its event code, `pspReference` and `success` (a payment refused,
/// then authorised, is two notifications); a retried delivery repeats them. `None` for a body
/// that is not a notification.
pub(crate) fn event_id(body: &[u8]) -> Option<String> {
    let payload: Value = serde_json::from_slice(body).ok()?;
    let items = payload.get("notificationItems")?.as_array()?;
    let text = |item: &Value, name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let ids: Vec<String> = items
        .iter()
        .take(MAX_ITEMS)
        .map(|entry| entry.get("NotificationRequestItem").unwrap_or(entry))
        .map(|item| format!("{}:{}:{}", text(item, "eventCode"), text(item, "pspReference"), text(item, "success")))
        .collect();
    if ids.is_empty() {
        return None;
    }
    let joined = ids.join(",");
    Some(if joined.len() <= 200 {
        format!("adyen:{joined}")
    } else {
        use sha2::Digest as _;
        format!("adyen:sha256:{}", crate::hex::encode(&sha2::Sha256::digest(joined.as_bytes())))
    })
}

/// Verifies every item of `body` under one of `keys`.
pub(crate) fn verify(body: &[u8], keys: &[WebhookSecret]) -> Result<Verified, Rejection> {
    let payload: Value = serde_json::from_slice(body).map_err(|_| Rejection::UnroutablePayload)?;
    let items = payload
        .get("notificationItems")
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or(Rejection::MissingHeader("notificationItems".into()))?;
    let macs: Vec<HmacSha256> = keys.iter().filter_map(|k| mac(k).ok()).collect();
    if macs.is_empty() {
        return Err(Rejection::Misconfigured("no Adyen HMAC key is hexadecimal".into()));
    }
    if items.len() > MAX_ITEMS {
        return Err(Rejection::MalformedHeader {
            header: "notificationItems".into(),
            why: "more items than a delivery holds",
        });
    }
    for entry in items {
        let item = entry.get("NotificationRequestItem").unwrap_or(entry);
        let given = item
            .pointer("/additionalData/hmacSignature")
            .and_then(Value::as_str)
            .ok_or(Rejection::MissingHeader("additionalData.hmacSignature".into()))?;
        let given = BASE64.decode(given.trim()).map_err(|_| Rejection::MalformedHeader {
            header: "additionalData.hmacSignature".into(),
            why: "not base64",
        })?;
        let content = signed_content(item);
        let matched = macs.iter().any(|mac| {
            let mut mac = mac.clone();
            mac.update(content.as_bytes());
            bool::from(mac.finalize().into_bytes().as_slice().ct_eq(&given))
        });
        if !matched {
            return Err(Rejection::SignatureMismatch);
        }
    }
    Ok(Verified { timestamp: None })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn key() -> WebhookSecret {
        WebhookSecret::new("44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056")
    }

    fn signed(fields: &[(&str, Value)]) -> Value {
        let mut item = serde_json::Map::new();
        for (name, value) in fields {
            item.insert((*name).to_owned(), value.clone());
        }
        let mut item = Value::Object(item);
        let signature = item_signature(&key(), &item).expect("a hex key");
        item["additionalData"] = json!({ "hmacSignature": signature });
        json!({ "live": "false", "notificationItems": [{ "NotificationRequestItem": item }] })
    }

    proptest! {
        /// Any bytes: an answer, never a panic; and whatever an item holds, signed it verifies
        /// and any signed field changed after signing does not.
        #[test]
        fn any_body_is_answered_and_any_change_to_a_signed_field_is_caught(
            body in prop::collection::vec(any::<u8>(), 0..512),
            psp in "[A-Za-z0-9:\\\\]{0,20}",
            reference in "\\PC{0,20}",
            value in any::<i64>(),
        ) {
            let _ = verify(&body, &[key()]);
            let delivery = signed(&[
                ("pspReference", json!(psp)), ("merchantReference", json!(reference)),
                ("amount", json!({"value": value, "currency": "EUR"})), ("eventCode", json!("REFUND")), ("success", json!("true")),
            ]);
            let bytes = serde_json::to_vec(&delivery).expect("JSON");
            prop_assert!(verify(&bytes, &[key()]).is_ok());
            let mut changed = delivery.clone();
            changed["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] = json!(value.wrapping_add(1));
            prop_assert_eq!(verify(&serde_json::to_vec(&changed).expect("JSON"), &[key()]).unwrap_err(), Rejection::SignatureMismatch);
        }
    }

    #[test]
    fn a_notification_is_identified_by_event_code_psp_reference_and_success() {
        let item = |success: &str, date: &str| {
            let body = json!({"notificationItems": [{"NotificationRequestItem": {
                "eventCode": "AUTHORISATION", "pspReference": "7914073381342284", "success": success, "eventDate": date,
            }}]});
            event_id(&serde_json::to_vec(&body).expect("JSON"))
        };
        let first = item("true", "2026-12-07T10:00:00+01:00");
        assert_eq!(first.as_deref(), Some("adyen:AUTHORISATION:7914073381342284:true"));
        assert_eq!(first, item("true", "2026-12-07T10:05:00+01:00"), "a retry is the same notification");
        assert_ne!(first, item("false", "2026-12-07T10:00:00+01:00"), "refused, then authorised: two");
        assert_eq!(event_id(b"[]"), None);
        let many =
            json!({"notificationItems": vec![json!({"eventCode": "REFUND", "pspReference": "x".repeat(64)}); 10]});
        let long = event_id(&serde_json::to_vec(&many).expect("JSON")).expect("an id");
        assert!(long.starts_with("adyen:sha256:") && long.len() < 100, "{long}");
    }

    #[test]
    fn keys_are_hex_and_a_delivery_needs_items_with_signatures() {
        assert!(mac(&WebhookSecret::new("zz")).is_err());
        assert!(mac(&WebhookSecret::new("")).is_err());
        assert!(verify(br#"{"notificationItems":[]}"#, &[key()]).is_err());
        assert!(verify(b"not json", &[key()]).is_err());
        let one =
            signed(&[("pspReference", json!("1")), ("eventCode", json!("AUTHORISATION")), ("success", json!("true"))]);
        let bytes = serde_json::to_vec(&one).expect("JSON");
        let rotated = [WebhookSecret::new("00"), key()];
        assert!(verify(&bytes, &rotated).is_ok(), "any of the keys");
        let many = json!({ "notificationItems": vec![one["notificationItems"][0].clone(); MAX_ITEMS + 1] });
        assert!(verify(&serde_json::to_vec(&many).expect("JSON"), &[key()]).is_err(), "bounded");
    }
}
