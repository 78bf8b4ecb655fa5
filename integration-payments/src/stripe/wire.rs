//! Stripe's JSON and form encoding, and how they map onto the common model.

use std::collections::BTreeMap;

use integration_core::decode::Fields;
use integration_core::{Error, Result};
use serde_json::Value;

use crate::prelude::*;

/// How many decimals Stripe's integer amounts have for `currency`, where it departs from ISO
/// 4217: the Icelandic króna is zero-decimal in ISO but a two-decimal amount at Stripe (in
/// whole krónur: a multiple of 100). <https://docs.stripe.com/currencies#special-cases>
fn stripe_exponent(currency: Currency) -> Result<u32> {
    match currency {
        Currency::ISK => Ok(2),
        other => crate::money::exponent(other),
    }
}

/// `money` as Stripe's integer amount.
///
/// # Errors
/// A `Validation` error for a currency without a minor unit, or an amount out of range.
pub(super) fn amount(money: Money) -> Result<i64> {
    money.to_units(stripe_exponent(money.currency())?)
}

/// Stripe's integer `amount` of `currency` as [`Money`].
fn money(amount: i64, currency: Currency) -> Result<Money> {
    Money::from_units(amount, currency, stripe_exponent(currency)?)
}

/// The amount at `path` in the record's `currency`.
fn money_at(r: &Fields, path: &str, currency: Currency) -> Result<Option<Money>> {
    let Some(amount) =
        r.parse(path, |text| text.parse::<i64>().map(Some).map_err(|_| format!("{text:?} is not an integer amount")))?
    else {
        return Ok(None);
    };
    money(amount, currency).map(Some).map_err(|e| Error::validation(path.to_owned(), e.message().to_owned()))
}

/// The amount at `path`, which must be there.
fn required(r: &Fields, path: &str, currency: Currency) -> Result<Money> {
    money_at(r, path, currency)?.ok_or_else(|| Error::validation(path.to_owned(), "required, but missing or empty"))
}

fn currency(r: &Fields) -> Result<Currency> {
    r.currency("currency")?.ok_or_else(|| Error::validation("currency", "required, but missing or empty"))
}

/// A Unix time at `path`.
fn unix(r: &Fields, path: &str) -> Result<Option<DateTime<Utc>>> {
    r.parse(path, |text| {
        let seconds: i64 = text.parse().map_err(|_| format!("{text:?} is not a Unix time"))?;
        Ok(DateTime::from_timestamp(seconds, 0))
    })
}

/// An id that may come expanded (`{"id": ...}`) or not.
fn id_at(r: &Fields, path: &str) -> Result<Option<String>> {
    match r.get(path)? {
        Some(Value::Object(_)) => r.optional_id(&format!("{path}.id")),
        _ => r.optional_id(path),
    }
}

fn metadata(r: &Fields) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(entries)) = r.get("metadata")? {
        for (key, value) in entries {
            out.insert(key.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_owned));
        }
    }
    Ok(out)
}

/// The envelope: `id`, `created`, the raw JSON.
pub(super) fn remote<T>(r: &Fields, fields: T) -> Result<Remote<T>> {
    Ok(Remote::new(r.id("id")?, fields).with_remote_data(r.raw().clone()).created(unix(r, "created")?))
}

pub(super) fn customer(r: &Fields) -> Result<Remote<Customer>> {
    if r.flag("deleted")? == Some(true) {
        return Ok(Remote::deleted(r.id("id")?));
    }
    let customer = Customer {
        name: r.text("name")?,
        email: r.text("email")?,
        default_payment_method_id: id_at(r, "invoice_settings.default_payment_method")?,
        metadata: metadata(r)?,
    };
    remote(r, customer)
}

pub(super) fn payment_method(r: &Fields) -> Result<Remote<PaymentMethod>> {
    let method = PaymentMethod {
        kind: r.required_text("type")?,
        customer_id: id_at(r, "customer")?,
        brand: r.text("card.brand")?,
        last4: r.text("card.last4")?,
        exp_month: r.parse("card.exp_month", |t| t.parse().map(Some).map_err(|_| format!("{t:?} is not a month")))?,
        exp_year: r.parse("card.exp_year", |t| t.parse().map(Some).map_err(|_| format!("{t:?} is not a year")))?,
    };
    remote(r, method)
}

/// The reason of a decline in `error` (`last_payment_error`, or an error body's `error`).
pub(super) fn decline(error: &Fields) -> Result<Option<DeclineReason>> {
    let code = error.text("decline_code")?.or(error.text("code")?);
    Ok(code.map(|c| {
        let reason = DeclineReason::parse(&c);
        match reason {
            DeclineReason::Other(ref other) if matches!(other.as_str(), "generic_decline" | "do_not_honor") => {
                DeclineReason::Declined
            }
            _ => reason,
        }
    }))
}

pub(super) fn payment_intent(r: &Fields) -> Result<Remote<PaymentIntent>> {
    let currency = currency(r)?;
    let capture = r.text("capture_method")?.unwrap_or_default();
    let intent = PaymentIntent {
        amount: required(r, "amount", currency)?,
        amount_received: money_at(r, "amount_received", currency)?,
        status: IntentStatus::parse(&r.required_text("status")?),
        // `automatic_async` (Stripe's default since 2024) captures at once too.
        capture_method: if capture == "manual" { CaptureMethod::Manual } else { CaptureMethod::Automatic },
        customer_id: id_at(r, "customer")?,
        payment_method_id: id_at(r, "payment_method")?,
        description: r.text("description")?,
        decline: decline(&r.at("last_payment_error"))?,
        next_action_url: r.text("next_action.redirect_to_url.url")?,
        latest_charge_id: id_at(r, "latest_charge")?,
        metadata: metadata(r)?,
        created: unix(r, "created")?,
    };
    remote(r, intent)
}

pub(super) fn refund(r: &Fields) -> Result<Remote<Refund>> {
    let currency = currency(r)?;
    let refund = Refund {
        amount: required(r, "amount", currency)?,
        payment_intent_id: id_at(r, "payment_intent")?,
        charge_id: id_at(r, "charge")?,
        status: RefundStatus::parse(&r.text("status")?.unwrap_or_else(|| "pending".into())),
        reason: r.text("reason")?.map(|reason| RefundReason::parse(&reason)),
    };
    remote(r, refund)
}

pub(super) fn dispute(r: &Fields) -> Result<Remote<Dispute>> {
    let currency = currency(r)?;
    let dispute = Dispute {
        amount: required(r, "amount", currency)?,
        charge_id: id_at(r, "charge")?,
        reason: r.text("reason")?,
        status: DisputeStatus::parse(&r.required_text("status")?),
        evidence_due_by: unix(r, "evidence_details.due_by")?,
    };
    remote(r, dispute)
}

pub(super) fn payout(r: &Fields) -> Result<Remote<Payout>> {
    let currency = currency(r)?;
    let payout = Payout {
        amount: required(r, "amount", currency)?,
        arrival_date: unix(r, "arrival_date")?.map(|t| t.date_naive()),
        status: PayoutStatus::parse(&r.required_text("status")?),
    };
    remote(r, payout)
}

pub(super) fn balance_transaction(r: &Fields) -> Result<Remote<BalanceTransaction>> {
    let currency = currency(r)?;
    let amount = required(r, "amount", currency)?;
    let fee = money_at(r, "fee", currency)?.map_or_else(|| Money::new(0, currency), Ok)?;
    let net = money_at(r, "net", currency)?.map_or_else(|| amount.checked_sub(fee), Ok)?;
    let transaction = BalanceTransaction {
        kind: r.text("type")?.unwrap_or_default(),
        amount,
        fee,
        net,
        source_id: id_at(r, "source")?,
        available_on: unix(r, "available_on")?,
    };
    remote(r, transaction)
}

pub(super) fn subscription(r: &Fields) -> Result<Remote<Subscription>> {
    let subscription = Subscription {
        customer_id: id_at(r, "customer")?,
        status: r.text("status")?.map(|status| SubscriptionStatus::parse(&status)),
        current_period_end: unix(r, "current_period_end")?,
        cancel_at_period_end: r.flag("cancel_at_period_end")?.unwrap_or(false),
    };
    remote(r, subscription)
}

/// `metadata[key]=value` form pairs.
pub(super) fn metadata_form(metadata: &BTreeMap<String, String>) -> Vec<(String, String)> {
    metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.clone())).collect()
}
