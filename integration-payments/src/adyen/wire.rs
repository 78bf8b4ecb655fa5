//! Adyen's JSON — amounts, payment answers, stored payment methods, notification items — and how
//! it maps onto the common model.

use integration_core::decode::Fields;
use integration_core::{Error, Result};
use serde_json::{Value, json};

use crate::prelude::*;

/// How many decimals Adyen counts `currency` in, where it departs from ISO 4217: the Chilean
/// peso and the Icelandic króna in hundredths, the Cape Verdean escudo and the Indonesian
/// rupiah in whole units. <https://docs.adyen.com/development-resources/currency-codes>
fn adyen_exponent(currency: Currency) -> Result<u32> {
    match currency {
        Currency::CLP | Currency::ISK => Ok(2),
        Currency::CVE | Currency::IDR => Ok(0),
        other => crate::money::exponent(other),
    }
}

/// `money` as Adyen's `{"currency", "value"}`.
///
/// # Errors
/// A `Validation` error for an amount Adyen cannot count (15.50 IDR) or a currency without a
/// minor unit.
pub(super) fn amount(money: Money) -> Result<Value> {
    let value = money.to_units(adyen_exponent(money.currency())?)?;
    Ok(json!({ "currency": money.currency().code(), "value": value }))
}

/// The amount object at `path` (`{"currency", "value"}`) as [`Money`].
pub(super) fn money_at(r: &Fields, path: &str) -> Result<Option<Money>> {
    let Some(currency) = r.currency(&format!("{path}.currency"))? else { return Ok(None) };
    let value = r.parse(&format!("{path}.value"), |text| {
        text.parse::<i64>().map(Some).map_err(|_| format!("{text:?} is not an integer amount"))
    })?;
    let Some(value) = value else { return Ok(None) };
    Money::from_units(value, currency, adyen_exponent(currency)?)
        .map(Some)
        .map_err(|e| Error::validation(format!("{path}.value"), e.message().to_owned()))
}

fn required_money(r: &Fields, path: &str) -> Result<Money> {
    money_at(r, path)?.ok_or_else(|| Error::validation(path.to_owned(), "required, but missing or empty"))
}

/// Why Adyen refused, from its `refusalReasonCode`
/// (<https://docs.adyen.com/development-resources/refusal-reasons>).
pub(super) fn decline_for_code(code: &str) -> DeclineReason {
    match code {
        "12" | "28" => DeclineReason::InsufficientFunds,
        "6" => DeclineReason::ExpiredCard,
        "24" => DeclineReason::IncorrectCvc,
        "11" | "38" | "42" => DeclineReason::AuthenticationRequired,
        "14" | "20" | "22" | "31" => DeclineReason::Fraudulent,
        "4" | "9" => DeclineReason::ProcessingError,
        _ => DeclineReason::Declined,
    }
}

/// Why Adyen refused, from its `refusalReason` text — what a notification's `reason` carries.
pub(super) fn decline_for_reason(reason: &str) -> DeclineReason {
    let reason = reason.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| reason.contains(w));
    if has(&["not enough balance", "withdrawal amount exceeded", "insufficient"]) {
        DeclineReason::InsufficientFunds
    } else if has(&["expired card"]) {
        DeclineReason::ExpiredCard
    } else if has(&["cvc declined"]) {
        DeclineReason::IncorrectCvc
    } else if has(&["3d not authenticated", "authentication required", "3ds authentication error"]) {
        DeclineReason::AuthenticationRequired
    } else if has(&["fraud"]) {
        DeclineReason::Fraudulent
    } else if has(&["acquirer error", "issuer unavailable"]) {
        DeclineReason::ProcessingError
    } else {
        DeclineReason::Declined
    }
}

/// What a `POST /payments` answer says about the payment: `(intent, resultCode)`. The intent's
/// id is its `pspReference`; `customer`, `method` and `capture` are what was asked.
pub(super) fn payment(
    r: &Fields,
    asked: Money,
    customer: Option<&str>,
    method: Option<&str>,
    capture: &CaptureMethod,
) -> Result<(Remote<PaymentIntent>, String)> {
    let result = r.required_text("resultCode")?;
    let amount = money_at(r, "amount")?.unwrap_or(asked);
    let manual = *capture == CaptureMethod::Manual;
    let (status, received, decline) = match result.as_str() {
        "Authorised" if manual => (IntentStatus::RequiresCapture, None, None),
        "Authorised" => (IntentStatus::Succeeded, Some(amount), None),
        "Refused" | "Error" | "Cancelled" => {
            let decline = match r.text("refusalReasonCode")? {
                Some(code) => decline_for_code(&code),
                None if result == "Error" => DeclineReason::ProcessingError,
                None => decline_for_reason(&r.text("refusalReason")?.unwrap_or_default()),
            };
            (IntentStatus::RequiresPaymentMethod, None, Some(decline))
        }
        "RedirectShopper" | "IdentifyShopper" | "ChallengeShopper" => (IntentStatus::RequiresAction, None, None),
        _ => (IntentStatus::Processing, None, None),
    };
    let intent = PaymentIntent {
        amount,
        amount_received: received,
        status,
        capture_method: capture.clone(),
        customer_id: customer.map(str::to_owned),
        payment_method_id: method.map(str::to_owned),
        description: None,
        decline,
        next_action_url: r.text("action.url")?,
        latest_charge_id: None,
        metadata: Default::default(),
        created: None,
    };
    let id = r.id("pspReference")?;
    Ok((Remote::new(id, intent).with_remote_data(r.raw().clone()), result))
}

/// A stored payment method (`StoredPaymentMethodResource`) of `shopper`: its id is the token
/// to pay with; the expiry year comes as two digits.
pub(super) fn stored_method(r: &Fields, shopper: &str) -> Result<Remote<PaymentMethod>> {
    let kind = r.text("type")?.unwrap_or_else(|| "scheme".into());
    let year = r.parse("expiryYear", |text| {
        let year: i32 = text.parse().map_err(|_| format!("{text:?} is not a year"))?;
        Ok(Some(if year < 100 { 2000 + year } else { year }))
    })?;
    let month = r.parse("expiryMonth", |text| {
        text.parse::<u32>()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .map(Some)
            .ok_or_else(|| format!("{text:?} is not a month"))
    })?;
    let method = PaymentMethod {
        kind: if kind == "scheme" { "card".to_owned() } else { kind },
        customer_id: Some(shopper.to_owned()),
        brand: r.text("brand")?,
        last4: r.text("lastFour")?,
        exp_month: month,
        exp_year: year,
    };
    Ok(Remote::new(r.id("id")?, method).with_remote_data(r.raw().clone()))
}

/// One notification item (`NotificationRequestItem`), read.
pub(super) struct Notification {
    pub event: String,
    pub success: bool,
    pub psp: String,
    pub original: Option<String>,
    pub reason: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub operations: Vec<String>,
    pub shopper: Option<String>,
}

impl Notification {
    pub(super) fn read(r: &Fields) -> Result<Self> {
        let operations = match r.get("operations")? {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let at = r.time("eventDate")?;
        Ok(Self {
            event: r.required_text("eventCode")?,
            success: r.text("success")?.is_some_and(|s| s.eq_ignore_ascii_case("true")),
            psp: r.id("pspReference")?,
            original: r.optional_id("originalReference")?.filter(|o| !o.is_empty()),
            reason: r.text("reason")?.filter(|reason| !reason.is_empty()),
            at,
            operations,
            shopper: r.text("additionalData.shopperReference")?,
        })
    }

    /// The payment an `AUTHORISATION` reports: authorised (waiting for a capture when the
    /// payment can still be captured) or refused, and why.
    pub(super) fn authorisation(&self, r: &Fields) -> Result<Remote<PaymentIntent>> {
        let amount = required_money(r, "amount")?;
        let capturable = self.operations.iter().any(|o| o == "CAPTURE");
        let (status, received, decline) = match (self.success, capturable) {
            (true, true) => (IntentStatus::RequiresCapture, None, None),
            (true, false) => (IntentStatus::Succeeded, Some(amount), None),
            (false, _) => (
                IntentStatus::RequiresPaymentMethod,
                None,
                Some(decline_for_reason(self.reason.as_deref().unwrap_or_default())),
            ),
        };
        let capture = if capturable { CaptureMethod::Manual } else { CaptureMethod::Automatic };
        Ok(self.intent(amount, received, status, capture, decline, r))
    }

    /// The payment a `CAPTURE` (what was captured) or `CANCELLATION` reports.
    pub(super) fn modified(&self, r: &Fields, status: IntentStatus) -> Result<Remote<PaymentIntent>> {
        let amount = required_money(r, "amount")?;
        let received = (status == IntentStatus::Succeeded).then_some(amount);
        let capture = if self.event == "CAPTURE" { CaptureMethod::Manual } else { CaptureMethod::Automatic };
        let mut intent = self.intent(amount, received, status, capture, None, r);
        intent.remote_id = self.original.clone().unwrap_or_else(|| self.psp.clone());
        Ok(intent)
    }

    fn intent(
        &self,
        amount: Money,
        received: Option<Money>,
        status: IntentStatus,
        capture: CaptureMethod,
        decline: Option<DeclineReason>,
        r: &Fields,
    ) -> Remote<PaymentIntent> {
        let intent = PaymentIntent {
            amount,
            amount_received: received,
            status,
            capture_method: capture,
            customer_id: self.shopper.clone(),
            payment_method_id: None,
            description: None,
            decline,
            next_action_url: None,
            latest_charge_id: None,
            metadata: Default::default(),
            created: None,
        };
        Remote::new(self.psp.clone(), intent).modified(self.at).with_remote_data(r.raw().clone())
    }

    /// The refund a `REFUND` (or `REFUND_FAILED`, `REFUNDED_REVERSED`) reports.
    pub(super) fn refund(&self, r: &Fields) -> Result<Remote<Refund>> {
        let status =
            if self.success && self.event == "REFUND" { RefundStatus::Succeeded } else { RefundStatus::Failed };
        let refund = Refund {
            amount: required_money(r, "amount")?,
            payment_intent_id: self.original.clone(),
            charge_id: None,
            status,
            reason: None,
        };
        Ok(Remote::new(self.psp.clone(), refund).modified(self.at).with_remote_data(r.raw().clone()))
    }

    /// The dispute a chargeback notification reports.
    pub(super) fn dispute(&self, r: &Fields) -> Result<Remote<Dispute>> {
        let status = match self.event.as_str() {
            "CHARGEBACK_REVERSED" | "SECOND_CHARGEBACK_REVERSED" | "PREARBITRATION_WON" => DisputeStatus::Won,
            "CHARGEBACK" | "SECOND_CHARGEBACK" | "PREARBITRATION_LOST" => DisputeStatus::Lost,
            _ => DisputeStatus::NeedsResponse,
        };
        let dispute = Dispute {
            amount: required_money(r, "amount")?,
            charge_id: Some(self.original.clone().unwrap_or_else(|| self.psp.clone())),
            reason: r.text("additionalData.chargebackReasonCode")?.or_else(|| self.reason.clone()),
            status,
            evidence_due_by: r.parse("additionalData.defensePeriodEndsAt", |text| {
                Ok(DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
            })?,
        };
        Ok(Remote::new(self.psp.clone(), dispute).modified(self.at).with_remote_data(r.raw().clone()))
    }
}
