//! Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` (a space-separated
//! list of `v1,<base64 HMAC-SHA256>` and `v1a,<base64 Ed25519>`), over `"{id}.{timestamp}.{body}"`.
//! `whsec_` secrets are base64 key bytes; `whsk_` / `whpk_` are Ed25519 signing / public keys.
//! <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use hmac::{Hmac, Mac as _};
use http::HeaderMap;
use sha2::Sha256;

use super::hmac_layout::{dotted, insert};
use super::scheme::{Verified, VerifyOptions, check_timestamp, one_header, parse_timestamp};
use super::secret::{LENIENT_BASE64, StandardKey};
use super::{Rejection, WebhookSecret};

/// The `webhook-id` header.
pub const ID: &str = "webhook-id";
/// The `webhook-timestamp` header.
pub const TIMESTAMP: &str = "webhook-timestamp";
/// The `webhook-signature` header.
pub const SIGNATURE: &str = "webhook-signature";

/// One signature of a `webhook-signature` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandardSignature {
    /// `v1,`: HMAC-SHA256.
    V1(Vec<u8>),
    /// `v1a,`: Ed25519.
    V1a(Vec<u8>),
}

/// Parses a `webhook-signature` value: known versions with valid base64 are kept, others skipped.
pub fn parse_signatures(value: &str) -> Vec<StandardSignature> {
    value
        .split(' ')
        .filter_map(|part| {
            let (version, b64) = part.split_once(',')?;
            let bytes = LENIENT_BASE64.decode(b64).ok()?;
            match version {
                "v1" => Some(StandardSignature::V1(bytes)),
                "v1a" => Some(StandardSignature::V1a(bytes)),
                _ => None,
            }
        })
        .collect()
}

fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

fn hmac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    dotted(key, &[id.as_bytes(), timestamp.as_bytes(), body])
}

pub(crate) fn verify(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[WebhookSecret],
    options: &VerifyOptions,
) -> Result<Verified, Rejection> {
    let id = one_header(headers, ID)?;
    let ts_text = one_header(headers, TIMESTAMP)?;
    let ts = parse_timestamp(TIMESTAMP, ts_text)?;
    check_timestamp(ts, options)?;
    let signatures = parse_signatures(one_header(headers, SIGNATURE)?);
    if signatures.is_empty() {
        return Err(Rejection::MalformedHeader { header: SIGNATURE.into(), why: "no v1 or v1a signature" });
    }
    for secret in secrets {
        let matched = match secret.standard()? {
            StandardKey::Hmac(key) => {
                let mac = hmac(key, id, ts_text, body);
                signatures
                    .iter()
                    .any(|s| matches!(s, StandardSignature::V1(sig) if mac.clone().verify_slice(sig).is_ok()))
            }
            StandardKey::Public(public) => verify_ed25519(public, &signatures, id, ts_text, body),
            StandardKey::Signing(key) => {
                verify_ed25519(&key.verifying_key().to_bytes(), &signatures, id, ts_text, body)
            }
        };
        if matched {
            return Ok(Verified { timestamp: Some(ts) });
        }
    }
    Err(Rejection::SignatureMismatch)
}

fn verify_ed25519(public: &[u8; 32], signatures: &[StandardSignature], id: &str, ts: &str, body: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public) else { return false };
    let content = signed_content(id, ts, body);
    signatures.iter().any(|s| match s {
        StandardSignature::V1a(sig) => {
            Signature::from_slice(sig).is_ok_and(|sig| key.verify_strict(&content, &sig).is_ok())
        }
        StandardSignature::V1(_) => false,
    })
}

pub(crate) fn sign(secret: &WebhookSecret, body: &[u8], timestamp: i64, id: &str) -> Result<HeaderMap, Rejection> {
    let ts = timestamp.to_string();
    let signature = match secret.standard()? {
        StandardKey::Hmac(key) => format!("v1,{}", STANDARD.encode(hmac(key, id, &ts, body).finalize().into_bytes())),
        StandardKey::Signing(key) => {
            let sig = key.sign(&signed_content(id, &ts, body));
            format!("v1a,{}", STANDARD.encode(sig.to_bytes()))
        }
        StandardKey::Public(_) => {
            return Err(Rejection::Misconfigured("a whpk_ public key verifies but cannot sign".into()));
        }
    };
    let mut headers = HeaderMap::new();
    insert(&mut headers, ID, id);
    insert(&mut headers, TIMESTAMP, &ts);
    insert(&mut headers, SIGNATURE, &signature);
    Ok(headers)
}
