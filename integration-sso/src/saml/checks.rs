//! The checks a service provider makes on a signed assertion (SAML 2.0 profiles §4.1.4.3 and
//! core §2.5): issuer, age, conditions, audience, and a bearer confirmation for our ACS URL
//! answering our request — all at a given instant, with the configured clock skew.

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{SamlRefusal, SignedAssertion};
use super::{PendingSaml, SamlConfig};

/// The bearer confirmation method.
pub(crate) const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

// Additions saturate: a far-future instant from a signed assertion must not overflow.
fn plus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn minus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Checks `assertion` for `config` at `now`, for the `pending` login if one was kept.
pub(crate) fn check(
    config: &SamlConfig,
    pending: Option<&PendingSaml>,
    assertion: &SignedAssertion,
    now: DateTime<Utc>,
) -> Result<(), SamlRefusal> {
    let skew = skew_of(config);
    if assertion.issuer != config.idp.entity_id {
        return Err(SamlRefusal::Issuer(format!("{} is not {}", assertion.issuer, config.idp.entity_id)));
    }
    if assertion.issue_instant > plus(now, skew) {
        return Err(SamlRefusal::NotYetValid(format!("issued at {}", stamp(assertion.issue_instant))));
    }
    if last_by_age(config, assertion) <= now {
        return Err(SamlRefusal::Expired(format!(
            "issued at {}, more than {} s ago",
            stamp(assertion.issue_instant),
            config.max_assertion_age.as_secs()
        )));
    }
    if let Some(not_before) = assertion.not_before
        && minus(not_before, skew) > now
    {
        return Err(SamlRefusal::NotYetValid(format!("not before {}", stamp(not_before))));
    }
    if let Some(not_on_or_after) = assertion.not_on_or_after
        && plus(not_on_or_after, skew) <= now
    {
        return Err(SamlRefusal::Expired(format!("not on or after {}", stamp(not_on_or_after))));
    }
    if assertion.audience_restrictions.is_empty() {
        return Err(SamlRefusal::Audience("the assertion has no audience restriction".into()));
    }
    if let Some(others) = assertion.audience_restrictions.iter().find(|r| !r.iter().any(|a| a == &config.entity_id)) {
        return Err(SamlRefusal::Audience(format!("{others:?} does not name {}", config.entity_id)));
    }
    confirmed(config, pending, assertion, now, skew)
}

/// Whether a bearer confirmation holds: for our ACS URL, in its time window, answering the
/// pending request (or none, when unsolicited logins are allowed). The first confirmation's
/// failure otherwise.
fn confirmed(
    config: &SamlConfig,
    pending: Option<&PendingSaml>,
    assertion: &SignedAssertion,
    now: DateTime<Utc>,
    skew: TimeDelta,
) -> Result<(), SamlRefusal> {
    let mut first = None;
    let bearers = assertion.confirmations.iter().filter(|c| c.method == BEARER);
    for confirmation in bearers {
        let refusal = if confirmation.recipient.as_deref() != Some(config.acs_url.as_str()) {
            SamlRefusal::Recipient(format!("{:?} is not {}", confirmation.recipient, config.acs_url))
        } else if let Some(not_before) = confirmation.not_before.filter(|t| minus(*t, skew) > now) {
            SamlRefusal::NotYetValid(format!("the confirmation is not valid before {}", stamp(not_before)))
        } else if let Some(until) = confirmation.not_on_or_after.filter(|t| plus(*t, skew) <= now) {
            SamlRefusal::Expired(format!("the confirmation is not valid on or after {}", stamp(until)))
        } else if confirmation.not_on_or_after.is_none() {
            SamlRefusal::Malformed("the bearer confirmation has no NotOnOrAfter".into())
        } else {
            match (pending, confirmation.in_response_to.as_deref()) {
                (Some(pending), Some(id)) if id == pending.request_id => return Ok(()),
                (Some(pending), answered) => SamlRefusal::InResponseTo(format!(
                    "{} is not the pending request {}",
                    answered.unwrap_or("nothing"),
                    pending.request_id
                )),
                (None, None) if config.allow_unsolicited => return Ok(()),
                // An answer to a request no longer pending: that login was finished (a replay).
                (None, Some(_)) => SamlRefusal::Replayed,
                (None, None) => SamlRefusal::Unsolicited,
            }
        };
        first.get_or_insert(refusal);
    }
    Err(first.unwrap_or_else(|| SamlRefusal::Malformed("the assertion has no bearer confirmation".into())))
}

/// Until when the assertion's ID must be remembered to refuse a replay: the latest instant at
/// which it could still be accepted.
pub(crate) fn remember_until(config: &SamlConfig, assertion: &SignedAssertion) -> DateTime<Utc> {
    let by_age = last_by_age(config, assertion);
    let by_conditions = assertion.not_on_or_after.map_or(by_age, |t| plus(t, skew_of(config)));
    by_age.min(by_conditions)
}

/// The configured clock skew (saturating: a huge one is as good as forever).
fn skew_of(config: &SamlConfig) -> TimeDelta {
    TimeDelta::from_std(config.clock_skew).unwrap_or(TimeDelta::MAX)
}

/// The last instant before which the assertion is young enough: issued plus the allowed age
/// plus the skew (saturating).
fn last_by_age(config: &SamlConfig, assertion: &SignedAssertion) -> DateTime<Utc> {
    let max_age = TimeDelta::from_std(config.max_assertion_age).unwrap_or(TimeDelta::MAX);
    plus(plus(assertion.issue_instant, max_age), skew_of(config))
}
