//! Verification and signing for every [`WebhookScheme`], and the checks they share: one header
//! value, a timestamp within tolerance.

use std::borrow::Cow;
use std::time::Duration;

use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use super::hmac_layout::{self, GITHUB, HmacLayout, INTUIT, SLACK, XERO};
use super::{Rejection, WebhookSecret, standard, stripe};
use crate::descriptor::WebhookScheme;

/// The default timestamp tolerance: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The most signatures of one header that are considered: a provider sends one per active
/// secret (two during a rotation, four with both an HMAC and an Ed25519 key each). Entries past
/// these are ignored, so a header stuffed with hundreds of signatures costs no more than one
/// with eight.
pub const MAX_SIGNATURES: usize = 8;

/// The secrets of an endpoint that can verify anything under `scheme`: a malformed one (a typo
/// in an old `whsec_` during a rotation) is skipped with a logged error, so the others still
/// verify; none usable is a misconfiguration.
fn usable(scheme: &WebhookScheme, secrets: &[WebhookSecret]) -> Result<Vec<WebhookSecret>, Rejection> {
    let mut first_error = None;
    let mut sound = Vec::with_capacity(secrets.len());
    for (i, secret) in secrets.iter().enumerate() {
        match scheme.check_secret(secret) {
            Ok(()) => sound.push(secret.clone()),
            Err(why) => {
                tracing::error!(secret = i, %why, "a webhook secret of this endpoint is unusable and is skipped; fix the endpoint's secrets");
                first_error.get_or_insert(why);
            }
        }
    }
    if sound.is_empty() {
        return Err(Rejection::Misconfigured(first_error.unwrap_or_else(|| "no secret is configured".to_owned())));
    }
    Ok(sound)
}

/// What verification is checked against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// How far a signed timestamp may be from `now`, either way.
    pub tolerance: Duration,
    /// Now, in Unix seconds.
    pub now: i64,
}

impl VerifyOptions {
    /// The default tolerance at the current time.
    pub fn now() -> Self {
        Self { tolerance: DEFAULT_TOLERANCE, now: chrono::Utc::now().timestamp() }
    }

    /// The default tolerance at `now` (Unix seconds).
    pub fn at(now: i64) -> Self {
        Self { tolerance: DEFAULT_TOLERANCE, now }
    }
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The signed timestamp, when the scheme has one.
    pub timestamp: Option<i64>,
}

/// The single value of `name` (a `&str`, or a `&HeaderName` to skip parsing the name):
/// missing, repeated or non-ASCII values are refused.
pub(crate) fn one_header<N>(headers: &HeaderMap, name: N) -> Result<&str, Rejection>
where
    N: AsHeaderName + AsRef<str> + Copy,
{
    let mut values = headers.get_all(name).iter();
    let named = || name.as_ref().to_owned();
    let value = values.next().ok_or_else(|| Rejection::MissingHeader(named()))?;
    if values.next().is_some() {
        return Err(Rejection::DuplicateHeader(named()));
    }
    value.to_str().map_err(|_| Rejection::MalformedHeader { header: named(), why: "not visible ASCII" })
}

pub(crate) fn parse_timestamp(header: &str, text: &str) -> Result<i64, Rejection> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Rejection::MalformedHeader { header: header.to_owned(), why: "not a Unix timestamp in seconds" })
}

pub(crate) fn check_timestamp(ts: i64, options: &VerifyOptions) -> Result<(), Rejection> {
    let tolerance = i64::try_from(options.tolerance.as_secs()).unwrap_or(i64::MAX);
    let age = options.now.saturating_sub(ts);
    if age > tolerance {
        Err(Rejection::Stale { age_secs: age })
    } else if age < -tolerance {
        Err(Rejection::Future { ahead_secs: age.saturating_neg() })
    } else {
        Ok(())
    }
}

impl WebhookScheme {
    fn layout(&self) -> Option<HmacLayout<'_>> {
        match self {
            Self::GitHub => Some(GITHUB),
            Self::Slack => Some(SLACK),
            Self::Xero => Some(XERO),
            Self::Intuit => Some(INTUIT),
            Self::GenericHmac(g) => Some(g.into()),
            Self::StandardWebhooks | Self::Stripe | Self::Adyen | Self::GoogleChannel | Self::GraphClientState => None,
        }
    }

    /// Checks that the scheme can verify anything (a generic layout that names valid headers
    /// and signs the body).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::GenericHmac(g) => hmac_layout::check_layout(g),
            _ => Ok(()),
        }
    }

    /// Whether `secret` can verify deliveries under this scheme: not blank and, for Standard
    /// Webhooks, a well-formed `whsec_` / `whsk_` / `whpk_` key. Checked when an endpoint is
    /// added ([`Endpoint::validate`](super::Endpoint::validate)); at verification a bad one is
    /// skipped.
    pub fn check_secret(&self, secret: &WebhookSecret) -> Result<(), String> {
        if secret.is_blank() {
            return Err("the secret is empty".to_owned());
        }
        match self {
            Self::StandardWebhooks => secret.standard().map(drop).map_err(|e| match e {
                Rejection::Misconfigured(why) => why,
                other => other.to_string(),
            }),
            Self::Adyen => super::adyen::mac(secret).map(drop).map_err(|e| e.to_string()),
            _ => Ok(()),
        }
    }

    /// Verifies a delivery's signature against any of `secrets` (several during a rotation),
    /// and its timestamp against the tolerance. Comparisons are constant-time. A malformed
    /// secret among them is skipped (and logged); only when none is usable is the endpoint
    /// [`Misconfigured`](Rejection::Misconfigured). At most [`MAX_SIGNATURES`] signatures of
    /// the header are considered.
    ///
    /// ```
    /// use integration_core::WebhookScheme;
    /// use integration_core::webhook::{VerifyOptions, WebhookSecret};
    ///
    /// // GitHub's documented example.
    /// let secret = WebhookSecret::new("It's a Secret to Everybody");
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(
    ///     "x-hub-signature-256",
    ///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".parse().unwrap(),
    /// );
    /// let ok = WebhookScheme::GitHub.verify(&headers, b"Hello, World!", &[secret], &VerifyOptions::now());
    /// assert!(ok.is_ok());
    /// ```
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        secrets: &[WebhookSecret],
        options: &VerifyOptions,
    ) -> Result<Verified, Rejection> {
        if secrets.is_empty() {
            return Err(Rejection::Misconfigured("no secret is configured".into()));
        }
        // The common case — every secret sound — costs one check per secret and no allocation.
        let owned: Vec<WebhookSecret>;
        let secrets = if secrets.iter().all(|s| self.check_secret(s).is_ok()) {
            secrets
        } else {
            owned = usable(self, secrets)?;
            &owned
        };
        match self {
            Self::StandardWebhooks => standard::verify(headers, body, secrets, options),
            Self::Stripe => stripe::verify(headers, body, secrets, options),
            Self::Adyen => super::adyen::verify(body, secrets),
            Self::GoogleChannel => super::google_channel::verify(headers, secrets),
            Self::GraphClientState => super::graph::verify(body, secrets),
            other => match other.layout() {
                Some(layout) => layout.verify(headers, body, secrets, options),
                None => Err(Rejection::Misconfigured("this scheme cannot be verified".into())),
            },
        }
    }

    /// The headers a provider would send with `body`, signed with `secret` at `timestamp` (Unix
    /// seconds); `id` is the event id where the scheme carries one in a header (Standard
    /// Webhooks' `webhook-id`, GitHub's `X-GitHub-Delivery`). The testkit's fakes sign with this.
    pub fn sign(&self, secret: &WebhookSecret, body: &[u8], timestamp: i64, id: &str) -> Result<HeaderMap, Rejection> {
        match self {
            Self::StandardWebhooks => standard::sign(secret, body, timestamp, id),
            Self::Stripe => Ok(stripe::sign(secret, body, timestamp)),
            Self::Adyen => Err(Rejection::Misconfigured(
                "Adyen signs each notification item in the body: sign items with webhook::adyen::item_signature".into(),
            )),
            Self::GoogleChannel => Err(Rejection::Misconfigured(
                "Google channels are not signed: send webhook::google_channel::headers".into(),
            )),
            Self::GraphClientState => Err(Rejection::Misconfigured(
                "Graph notifications are not signed: each carries its subscription's clientState".into(),
            )),
            other => {
                let layout =
                    other.layout().ok_or_else(|| Rejection::Misconfigured("this scheme cannot sign".into()))?;
                let mut headers = layout.sign(secret, body, timestamp);
                if matches!(other, Self::GitHub) {
                    hmac_layout::insert(&mut headers, "x-github-delivery", id);
                }
                Ok(headers)
            }
        }
    }

    /// The provider's id for the event, used to deduplicate deliveries — always one the
    /// signature covers, or a replay could pass as new: `webhook-id` (Standard Webhooks, signed
    /// with the body), the body's `id` (Stripe), the body's `event_id` (Slack Events API).
    /// Otherwise `sha256:<hex>` of the signed body: a provider's retry of the same body is the
    /// same delivery. GitHub's `X-GitHub-Delivery` is not signed — a captured delivery sent
    /// again under a fresh one would be accepted a second time — so GitHub deliveries are
    /// identified by their body's digest too (the header stays in the delivery's headers).
    pub fn event_id(&self, headers: &HeaderMap, body: &[u8]) -> String {
        self.event_id_in(headers, body).into_owned()
    }

    /// [`event_id`](Self::event_id), borrowed from the headers where it is one of them.
    pub(crate) fn event_id_in<'h>(&self, headers: &'h HeaderMap, body: &[u8]) -> Cow<'h, str> {
        static STANDARD_ID: HeaderName = HeaderName::from_static(standard::ID);
        let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
        let field = |name: &str| -> Option<String> {
            let value: serde_json::Value = serde_json::from_slice(body).ok()?;
            value.get(name)?.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
        };
        let id = match self {
            Self::StandardWebhooks => header(&STANDARD_ID).map(Cow::Borrowed),
            Self::Stripe => field("id").map(Cow::Owned),
            Self::Slack => field("event_id").map(Cow::Owned),
            Self::Adyen => super::adyen::event_id(body).map(Cow::Owned),
            Self::GoogleChannel => super::google_channel::event_id(headers).map(Cow::Owned),
            _ => None,
        };
        id.unwrap_or_else(|| Cow::Owned(format!("sha256:{}", crate::hex::encode(&Sha256::digest(body)))))
    }
}
