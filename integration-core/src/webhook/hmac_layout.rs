//! The HMAC-SHA256 schemes that differ only in layout: which header, hex or base64, a prefix, an
//! optional timestamp header, and what is signed. GitHub, Slack, Xero and Intuit are presets;
//! [`GenericHmac`] describes any other.
//!
//! | scheme | header | encoding | prefix | signed content |
//! |---|---|---|---|---|
//! | GitHub | `X-Hub-Signature-256` | hex | `sha256=` | body |
//! | Slack | `X-Slack-Signature` (+ `X-Slack-Request-Timestamp`) | hex | `v0=` | `v0:{timestamp}:{body}` |
//! | Xero | `x-xero-signature` | base64 | — | body |
//! | Intuit | `intuit-signature` | base64 | — | body |

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::scheme::{MAX_SIGNATURES, Verified, VerifyOptions, check_timestamp, one_header, parse_timestamp};
use super::{Rejection, WebhookSecret};
use crate::descriptor::{GenericHmac, SignatureEncoding};
use crate::hex;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A borrowed view of an HMAC layout, so presets need no allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HmacLayout<'a> {
    pub(crate) signature_header: &'a str,
    pub(crate) encoding: SignatureEncoding,
    pub(crate) prefix: Option<&'a str>,
    pub(crate) timestamp_header: Option<&'a str>,
    pub(crate) signed_content: &'a str,
}

pub(crate) const GITHUB: HmacLayout<'static> = HmacLayout {
    signature_header: "x-hub-signature-256",
    encoding: SignatureEncoding::Hex,
    prefix: Some("sha256="),
    timestamp_header: None,
    signed_content: "{body}",
};

pub(crate) const SLACK: HmacLayout<'static> = HmacLayout {
    signature_header: "x-slack-signature",
    encoding: SignatureEncoding::Hex,
    prefix: Some("v0="),
    timestamp_header: Some("x-slack-request-timestamp"),
    signed_content: "v0:{timestamp}:{body}",
};

pub(crate) const XERO: HmacLayout<'static> = HmacLayout {
    signature_header: "x-xero-signature",
    encoding: SignatureEncoding::Base64,
    prefix: None,
    timestamp_header: None,
    signed_content: "{body}",
};

pub(crate) const INTUIT: HmacLayout<'static> = HmacLayout {
    signature_header: "intuit-signature",
    encoding: SignatureEncoding::Base64,
    prefix: None,
    timestamp_header: None,
    signed_content: "{body}",
};

impl<'a> From<&'a GenericHmac> for HmacLayout<'a> {
    fn from(g: &'a GenericHmac) -> Self {
        Self {
            signature_header: &g.signature_header,
            encoding: g.encoding,
            prefix: g.prefix.as_deref(),
            timestamp_header: g.timestamp_header.as_deref(),
            signed_content: &g.signed_content,
        }
    }
}

/// Checks that a generic layout can work: a valid header name, `{body}` signed, and
/// `{timestamp}` signed exactly when a timestamp header is named.
pub(crate) fn check_layout(g: &GenericHmac) -> Result<(), String> {
    for name in std::iter::once(&g.signature_header).chain(&g.timestamp_header) {
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a valid header name"))?;
    }
    if !g.signed_content.contains("{body}") {
        return Err("the signed content must include {body}".into());
    }
    if g.signed_content.contains("{timestamp}") != g.timestamp_header.is_some() {
        return Err("{timestamp} must be signed exactly when a timestamp header is named".into());
    }
    Ok(())
}

/// An HMAC-SHA256 keyed with `key` (HMAC takes keys of any length).
pub(crate) fn keyed(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// `mac` updated with `parts` joined by `.` (Stripe's `t.body`, Standard Webhooks' `id.t.body`).
pub(crate) fn dotted(mut mac: HmacSha256, parts: &[&[u8]]) -> HmacSha256 {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(b".");
        }
        mac.update(part);
    }
    mac
}

impl HmacLayout<'_> {
    fn mac(&self, secret: &WebhookSecret, body: &[u8], timestamp: Option<&str>) -> HmacSha256 {
        let mut mac = secret.raw_hmac();
        let mut rest = self.signed_content;
        while let Some(at) = rest.find('{') {
            mac.update(&rest.as_bytes()[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("{body}") {
                mac.update(body);
                rest = after;
            } else if let (Some(after), Some(ts)) = (tail.strip_prefix("{timestamp}"), timestamp) {
                mac.update(ts.as_bytes());
                rest = after;
            } else {
                mac.update(b"{");
                rest = &tail[1..];
            }
        }
        mac.update(rest.as_bytes());
        mac
    }

    fn decode(&self, text: &str) -> Option<Vec<u8>> {
        let text = match self.prefix {
            Some(prefix) => text.strip_prefix(prefix)?,
            None => text,
        };
        match self.encoding {
            // Lowercase only: providers send lowercase, and accepting both would let a changed
            // byte (a digit's case) still verify.
            SignatureEncoding::Hex => hex::decode_lowercase(text),
            SignatureEncoding::Base64 => STANDARD.decode(text).ok(),
        }
    }

    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secrets: &[WebhookSecret],
        options: &VerifyOptions,
    ) -> Result<Verified, Rejection> {
        let header = one_header(headers, self.signature_header)?;
        let timestamp = match self.timestamp_header {
            Some(name) => {
                let text = one_header(headers, name)?;
                let ts = parse_timestamp(name, text)?;
                check_timestamp(ts, options)?;
                Some((text, ts))
            }
            None => None,
        };
        // Several signatures may be sent during a secret rotation: comma or space separated;
        // the first MAX_SIGNATURES are considered.
        let candidates: Vec<Vec<u8>> = header
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .take(MAX_SIGNATURES)
            .filter_map(|s| self.decode(s))
            .collect();
        if candidates.is_empty() {
            return Err(Rejection::MalformedHeader {
                header: self.signature_header.to_owned(),
                why: "no signature in the expected encoding",
            });
        }
        for secret in secrets {
            let tag = self.mac(secret, body, timestamp.map(|t| t.0)).finalize().into_bytes();
            if candidates.iter().any(|c| bool::from(tag.as_slice().ct_eq(c))) {
                return Ok(Verified { timestamp: timestamp.map(|t| t.1) });
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    pub(crate) fn sign(&self, secret: &WebhookSecret, body: &[u8], timestamp: i64) -> HeaderMap {
        let ts = timestamp.to_string();
        let tag = self.mac(secret, body, Some(&ts)).finalize().into_bytes();
        let encoded = match self.encoding {
            SignatureEncoding::Hex => hex::encode(&tag),
            SignatureEncoding::Base64 => STANDARD.encode(tag),
        };
        let mut headers = HeaderMap::new();
        insert(&mut headers, self.signature_header, &format!("{}{encoded}", self.prefix.unwrap_or("")));
        if let Some(name) = self.timestamp_header {
            insert(&mut headers, name, &ts);
        }
        headers
    }
}

/// Inserts a header whose name and value were produced by us (validated layouts, encoded bytes).
pub(crate) fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        headers.append(name, value);
    }
}
