//! Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` (a space-separated
//! list of `v1,<base64 HMAC-SHA256>` and `v1a,<base64 Ed25519>`), over `"{id}.{timestamp}.{body}"`.
//! `whsec_` secrets are base64 key bytes; `whsk_` / `whpk_` are Ed25519 signing / public keys.
//! <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use hmac::Mac as _;
use http::{HeaderMap, HeaderName};
use subtle::ConstantTimeEq as _;

use super::hmac_layout::{HmacSha256, dotted, insert};
use super::scheme::{MAX_SIGNATURES, Verified, VerifyOptions, check_timestamp, one_header, parse_timestamp};
use super::secret::StandardKey;
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
        .filter_map(|entry| {
            let (version, b64) = split_entry(entry)?;
            let bytes = STANDARD.decode(b64).ok()?;
            Some(match version {
                Version::V1 => StandardSignature::V1(bytes),
                Version::V1a => StandardSignature::V1a(bytes),
            })
        })
        .collect()
}

/// One `version,base64` entry of the list: a known version and its base64 text.
fn split_entry(entry: &str) -> Option<(Version, &str)> {
    let (version, b64) = entry.split_once(',')?;
    match version {
        "v1" => Some((Version::V1, b64)),
        "v1a" => Some((Version::V1a, b64)),
        _ => None,
    }
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

fn hmac(keyed: &HmacSha256, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    dotted(keyed.clone(), &[id.as_bytes(), timestamp.as_bytes(), body])
}

/// The longest signature decoded (an Ed25519 signature is 64 bytes; anything longer cannot
/// match and is skipped like a signature that is not base64).
const MAX_SIGNATURE: usize = 64;

/// One entry of the list decoded into `buf`, without allocating: a known version and its bytes.
fn decode_entry<'b>(entry: &str, buf: &'b mut [u8; MAX_SIGNATURE + 3]) -> Option<(Version, &'b [u8])> {
    let (version, b64) = split_entry(entry)?;
    let len = STANDARD.decode_slice(b64, buf).ok()?;
    buf.get(..len).filter(|b| b.len() <= MAX_SIGNATURE).map(|bytes| (version, bytes))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V1a,
}

pub(crate) fn verify(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[WebhookSecret],
    options: &VerifyOptions,
) -> Result<Verified, Rejection> {
    static ID_NAME: HeaderName = HeaderName::from_static(ID);
    static TIMESTAMP_NAME: HeaderName = HeaderName::from_static(TIMESTAMP);
    static SIGNATURE_NAME: HeaderName = HeaderName::from_static(SIGNATURE);
    let id = one_header(headers, &ID_NAME)?;
    let ts_text = one_header(headers, &TIMESTAMP_NAME)?;
    let ts = parse_timestamp(TIMESTAMP, ts_text)?;
    check_timestamp(ts, options)?;
    let list = one_header(headers, &SIGNATURE_NAME)?;
    // The list is decoded entry by entry into a buffer on the stack, once per secret (usually
    // one), and only its first MAX_SIGNATURES entries. Each secret's HMAC tag is computed at
    // most once; the signed content an Ed25519 signature covers is put together at most once.
    let mut buf = [0u8; MAX_SIGNATURE + 3];
    let mut any_signature = false;
    let mut content = None;
    let entries = || list.split(' ').filter(|e| !e.is_empty()).take(MAX_SIGNATURES);
    for secret in secrets {
        let key = secret.standard()?;
        let mut tag = None;
        for entry in entries() {
            let Some((version, signature)) = decode_entry(entry, &mut buf) else { continue };
            any_signature = true;
            let matched = match (version, key) {
                (Version::V1, StandardKey::Hmac(keyed)) => {
                    let tag = tag.get_or_insert_with(|| hmac(keyed, id, ts_text, body).finalize().into_bytes());
                    bool::from(tag.as_slice().ct_eq(signature))
                }
                (Version::V1a, StandardKey::Public(public)) => {
                    verify_ed25519(public, signature, content.get_or_insert_with(|| signed_content(id, ts_text, body)))
                }
                (Version::V1a, StandardKey::Signing(key)) => verify_ed25519(
                    &key.verifying_key(),
                    signature,
                    content.get_or_insert_with(|| signed_content(id, ts_text, body)),
                ),
                _ => false,
            };
            if matched {
                return Ok(Verified { timestamp: Some(ts) });
            }
        }
        if !any_signature {
            return Err(Rejection::MalformedHeader { header: SIGNATURE.into(), why: "no v1 or v1a signature" });
        }
    }
    Err(Rejection::SignatureMismatch)
}

fn verify_ed25519(key: &VerifyingKey, signature: &[u8], content: &[u8]) -> bool {
    let Ok(signature) = Signature::from_slice(signature) else { return false };
    key.verify_strict(content, &signature).is_ok()
}

pub(crate) fn sign(secret: &WebhookSecret, body: &[u8], timestamp: i64, id: &str) -> Result<HeaderMap, Rejection> {
    let ts = timestamp.to_string();
    let signature = match secret.standard()? {
        StandardKey::Hmac(keyed) => {
            format!("v1,{}", STANDARD.encode(hmac(keyed, id, &ts, body).finalize().into_bytes()))
        }
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
