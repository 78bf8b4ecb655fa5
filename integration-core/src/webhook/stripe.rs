//! Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 keyed with
//! the endpoint secret's bytes (`whsec_...` as written) over `"{t}.{body}"`.
//! <https://docs.stripe.com/webhooks#verify-manually>

use hmac::{Hmac, Mac as _};
use http::HeaderMap;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::hmac_layout::{dotted, insert};
use super::scheme::{MAX_SIGNATURES, Verified, VerifyOptions, check_timestamp, one_header};
use super::{Rejection, WebhookSecret};
use crate::hex;

const HEADER: &str = "stripe-signature";

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeHeader<'a> {
    /// The `t=` value, as sent (it is signed as text).
    pub timestamp: &'a str,
    /// The `v1=` signatures; values that are not hex are left out.
    pub v1: Vec<Vec<u8>>,
}

/// Parses a `Stripe-Signature` value. Unknown keys (`v0=`) are ignored, as Stripe asks.
pub fn parse_header(value: &str) -> Result<StripeHeader<'_>, Rejection> {
    let malformed = |why| Rejection::MalformedHeader { header: HEADER.into(), why };
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in value.split(',') {
        let Some((key, val)) = part.trim().split_once('=') else { continue };
        match key {
            "t" if timestamp.is_some() => return Err(malformed("more than one t=")),
            "t" => timestamp = Some(val),
            "v1" => v1.extend(hex::decode_lowercase(val)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(malformed("no t= timestamp"))?;
    if v1.is_empty() {
        return Err(malformed("no v1= signature"));
    }
    Ok(StripeHeader { timestamp, v1 })
}

fn mac(secret: &WebhookSecret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    dotted(secret.raw_hmac(), &[timestamp.as_bytes(), body])
}

pub(crate) fn verify(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[WebhookSecret],
    options: &VerifyOptions,
) -> Result<Verified, Rejection> {
    let parsed = parse_header(one_header(headers, HEADER)?)?;
    let ts = super::scheme::parse_timestamp(HEADER, parsed.timestamp)?;
    check_timestamp(ts, options)?;
    for secret in secrets {
        let tag = mac(secret, parsed.timestamp, body).finalize().into_bytes();
        if parsed.v1.iter().take(MAX_SIGNATURES).any(|sig| bool::from(tag.as_slice().ct_eq(sig))) {
            return Ok(Verified { timestamp: Some(ts) });
        }
    }
    Err(Rejection::SignatureMismatch)
}

pub(crate) fn sign(secret: &WebhookSecret, body: &[u8], timestamp: i64) -> HeaderMap {
    let ts = timestamp.to_string();
    let sig = hex::encode(&mac(secret, &ts, body).finalize().into_bytes());
    let mut headers = HeaderMap::new();
    insert(&mut headers, HEADER, &format!("t={ts},v1={sig}"));
    headers
}
