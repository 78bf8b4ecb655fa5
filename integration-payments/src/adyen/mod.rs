//! Adyen, through its Checkout API v71
//! (<https://docs.adyen.com/api-explorer/Checkout/71/overview>) and its standard notifications:
//!
//! - the HTTP shape — the test endpoint `https://checkout-test.adyen.com/v71` (with
//!   `live_prefix`, the live one `https://{live_prefix}-checkout-live.adyenpayments.com/checkout/v71`),
//!   the API key in `X-API-Key`, the error message at `/message`, the webhook scheme — is the
//!   catalog's spec (`integration-core/catalog/adyen.toml`); requests are JSON;
//! - every `POST` carries an `Idempotency-Key` (at most 64 characters) derived from the
//!   caller's [`OperationKey`]: Adyen answers a repeated key with the first answer, so a payment
//!   retried after a timeout is one payment;
//! - a payment is made with a stored payment method (a token: `storedPaymentMethodId` of the
//!   `shopperReference` the host chose, the [`IntentInput::customer_id`]) as a merchant-initiated
//!   card-on-file payment (`ContAuth`, `UnscheduledCardOnFile`), authorised at once: `Authorised`
//!   is [`Confirmation::Succeeded`] (`requires_capture` with manual capture, sent as
//!   `additionalData.manualCapture`), `Refused` is [`Confirmation::Declined`] with the
//!   [`DeclineReason`] its `refusalReasonCode` means, a redirect or challenge is
//!   [`Confirmation::RequiresAction`]; the intent's id is Adyen's `pspReference`;
//! - captures, refunds and cancellations are modifications Adyen accepts (`201`, `received`) and
//!   settles later: the answer is `processing` (a refund `pending`), the notification says how it
//!   ended. Adyen has no lookup of a payment, so a capture or refund states its amount;
//! - amounts are Adyen's minor units, which differ from ISO 4217 for CLP, CVE, IDR and ISK
//!   (<https://docs.adyen.com/development-resources/currency-codes>);
//! - notifications (HMAC-signed items, verified by the router, which answers `[accepted]`):
//!   `AUTHORISATION`, `CAPTURE`, `CANCELLATION` become the payment's state in `payment_intents`,
//!   `REFUND` and its failures a refund in `refunds`, chargebacks a dispute in `disputes` —
//!   each with the notification's `eventDate`, so one arriving late never undoes a newer one —
//!   and typed automation events: `payment.succeeded`, `payment.failed`, `payment.captured`,
//!   `payment.canceled`, `payment.refunded`, `payment.refund_failed`, `payment.disputed`;
//!   the other event codes `adyen.<event code>` with the item as payload.
//!
//! Configuration: secret `api_key`; setting `merchant_account`; optional `live_prefix` and
//! `base_url`.
//!
//! Unsupported (Adyen's Checkout API has no such thing): listing customers, payments or refunds
//! and reading one payment (state comes from answers and notifications: the records cache holds
//! it), creating customers (a shopper is the host's own `shopperReference`), attaching a card
//! outside a payment (Adyen's Drop-in stores it with a first payment), confirming a payment
//! created without `confirm` (Adyen authorises when it is made), payouts, balance transactions
//! and subscriptions.

mod wire;

use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{IntegrationEvent, RecordChange, VerifiedWebhook, WebhookOutcome, WebhookScheme};

use crate::prelude::*;
use wire::Notification;

/// The provider id.
pub const PROVIDER: &str = "adyen";

/// Adyen's limit on an idempotency key.
const KEY_LEN: usize = 64;

/// Adyen's limit on a merchant reference.
const REFERENCE_LEN: usize = 80;

/// Where a shopper returns after a redirect: required by `/payments` even for a
/// merchant-initiated payment, which never redirects.
const RETURN_URL: &str = "https://merchant.invalid/adyen/return";

/// The live endpoint, by the account's prefix.
const LIVE_BASE: &str = "https://{live_prefix}-checkout-live.adyenpayments.com/checkout/v71";

/// The Adyen adapter for one connection (one merchant account).
#[derive(Debug)]
pub struct Adyen {
    descriptor: Descriptor,
    api: SpecClient,
    merchant: String,
}

impl Adapter for Adyen {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::MANUAL_CAPTURE, Capability::HEALTH_CHECK, Capability::WEBHOOKS];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Adyen spec in the catalog"))?;
        descriptor(PROVIDER, "Adyen", &spec.docs, capabilities)
            .http_policy(spec.http_policy())
            .webhook(WebhookScheme::Adyen)
            .secret("api_key", FieldFormat::Text, "an API key of a web service API credential")
            .setting("merchant_account", FieldFormat::Text, "the merchant account the credential works for")
            .optional_setting(
                "live_prefix",
                FieldFormat::Text,
                "the live endpoint's prefix (Customer Area → Developers → API URLs); the test endpoint without it",
            )
            .base_url(Some("https://checkout-test.adyen.com/v71"), "the Checkout API root")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let mut spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Adyen spec in the catalog"))?;
        if config.settings.get("live_prefix").and_then(Value::as_str).is_some_and(|p| !p.trim().is_empty()) {
            // Live connections get a copy with the live base; test ones share the catalog's.
            LIVE_BASE.clone_into(&mut std::sync::Arc::make_mut(&mut spec).base_url);
        }
        let merchant = config
            .settings
            .get("merchant_account")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| {
                Error::config("an Adyen connection names its merchant account")
                    .with_field("settings.merchant_account")
                    .with_provider(PROVIDER)
            })?
            .to_owned();
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, merchant })
    }
}

/// Adyen's error body (`ServiceError`) as the error a caller branches on: its `errorCode` as
/// the error's code.
fn classify(error: Error) -> Error {
    let Some(body) = error.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) else { return error };
    match Fields::new(&body).optional_id("errorCode").ok().flatten() {
        Some(code) => error.with_code(code),
        None => error,
    }
}

/// An operation Adyen's Checkout API does not have, and why.
fn unsupported(operation: &str, why: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("{operation} is not supported by Adyen: {why}"))
        .with_operation(operation)
        .with_provider(PROVIDER)
}

/// Adyen's `merchantRefundReason` for a [`RefundReason`].
fn refund_reason(reason: &RefundReason) -> &'static str {
    match reason {
        RefundReason::Duplicate => "DUPLICATE",
        RefundReason::Fraudulent => "FRAUD",
        RefundReason::RequestedByCustomer => "CUSTOMER REQUEST",
        RefundReason::Other(_) => "OTHER",
    }
}

impl Adyen {
    /// A JSON `POST` on `path` followed by `ids` (each escaped as one segment), with an
    /// idempotency key.
    async fn post(&self, at: (&str, &[&str]), template: &str, body: &Value, key: &str) -> Result<Value> {
        self.api
            .request_at(Method::POST, at.0, at.1)?
            .path_template(template.to_owned())
            .json(body)
            .idempotency_key(key)
            .send_json()
            .await
            .map_err(classify)
    }

    /// The amount a capture or refund states: Adyen has no lookup of what a payment holds.
    fn stated(amount: Option<Money>, what: &str) -> Result<Money> {
        let amount = amount.ok_or_else(|| {
            Error::validation(
                "amount",
                format!("Adyen {what} a stated amount (its API has no lookup of what a payment holds): give it"),
            )
            .with_provider(PROVIDER)
        })?;
        if !amount.is_positive() {
            return Err(Error::validation("amount", format!("{amount} is not an amount to {what}")));
        }
        Ok(amount)
    }

    /// A modification (`captures`, `refunds`, `cancels`) of payment `psp`.
    async fn modify(&self, psp: &str, kind: &str, body: Value, key: &str) -> Result<Value> {
        let template = format!("/payments/{{pspReference}}/{kind}");
        self.post(("/payments", &[psp, kind]), &template, &body, key).await
    }

    /// What a notification item changes, and the event it is.
    fn item_outcome(item: &Value, outcome: &mut WebhookOutcome) -> Result<()> {
        let r = Fields::new(item);
        let n = Notification::read(&r)?;
        let mut change = |stream: &str, record: Result<integration_core::Record>, kind: &str| -> Result<()> {
            let record = record?;
            let mut event = IntegrationEvent::new(kind, record.data.clone());
            event.occurred_at = n.at;
            outcome.events.push(event);
            outcome.changes.push(RecordChange::new(stream, record));
            Ok(())
        };
        match (n.event.as_str(), n.success) {
            ("AUTHORISATION", success) => {
                let kind = if success { "payment.succeeded" } else { "payment.failed" };
                change("payment_intents", n.authorisation(&r)?.into_record(), kind)
            }
            ("CAPTURE", true) => {
                change("payment_intents", n.modified(&r, IntentStatus::Succeeded)?.into_record(), "payment.captured")
            }
            ("CANCELLATION" | "TECHNICAL_CANCEL", true) => {
                change("payment_intents", n.modified(&r, IntentStatus::Canceled)?.into_record(), "payment.canceled")
            }
            ("REFUND", true) => change("refunds", n.refund(&r)?.into_record(), "payment.refunded"),
            ("REFUND" | "REFUND_FAILED" | "REFUNDED_REVERSED", _) => {
                change("refunds", n.refund(&r)?.into_record(), "payment.refund_failed")
            }
            (
                "NOTIFICATION_OF_CHARGEBACK"
                | "REQUEST_FOR_INFORMATION"
                | "CHARGEBACK"
                | "SECOND_CHARGEBACK"
                | "CHARGEBACK_REVERSED"
                | "PREARBITRATION_WON"
                | "PREARBITRATION_LOST",
                _,
            ) => change("disputes", n.dispute(&r)?.into_record(), "payment.disputed"),
            (other, _) => {
                let mut event = IntegrationEvent::new(format!("adyen.{}", other.to_ascii_lowercase()), item.clone());
                event.occurred_at = n.at;
                outcome.events.push(event);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl Integration for Adyen {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.api.check().await.map_err(classify)?;
        Ok(ConnectionInfo::with_account(self.merchant.clone(), None))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.api.check()).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    /// Each item of a verified delivery: its change to `payment_intents`, `refunds` or
    /// `disputes`, and its event. An item that cannot be read fails the delivery (kept by the
    /// router for a retry), rather than half of it being applied silently.
    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let body: Value = delivery.json()?;
        let items = body.get("notificationItems").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut outcome = WebhookOutcome::default();
        for entry in &items {
            let item = entry.get("NotificationRequestItem").unwrap_or(entry);
            Self::item_outcome(item, &mut outcome).map_err(|e| e.with_provider(PROVIDER))?;
        }
        Ok(outcome)
    }
}

#[async_trait]
impl Payments for Adyen {
    async fn customers(&self, request: ListRequest) -> Result<Listing<Customer>> {
        let _ = request;
        Err(self.unsupported("customers"))
    }

    async fn payment_intents(&self, request: ListRequest) -> Result<Listing<PaymentIntent>> {
        let _ = request;
        Err(self.unsupported("payment_intents"))
    }

    async fn refunds(&self, request: ListRequest) -> Result<Listing<Refund>> {
        let _ = request;
        Err(self.unsupported("refunds"))
    }

    async fn payment_intent(&self, remote_id: &str) -> Result<Remote<PaymentIntent>> {
        let _ = remote_id;
        Err(unsupported(
            "payment_intent",
            "Adyen's Checkout API cannot look a payment up: its state is in the records cache, from notifications",
        ))
    }

    async fn payment_methods(&self, customer_id: &str) -> Result<Vec<Remote<PaymentMethod>>> {
        let query = [("merchantAccount", self.merchant.as_str()), ("shopperReference", customer_id)];
        let answer: Value = self
            .api
            .request(Method::GET, "/storedPaymentMethods")?
            .query(&query)
            .read_only()
            .send_json()
            .await
            .map_err(classify)?;
        let records = answer.get("storedPaymentMethods").and_then(Value::as_array).cloned().unwrap_or_default();
        records.iter().map(|raw| map_one(raw, "id", |r| wire::stored_method(r, customer_id))).collect()
    }

    async fn create_customer(&self, operation: &OperationKey, customer: &CustomerInput) -> Result<Remote<Customer>> {
        let _ = (operation, customer);
        Err(unsupported(
            "create_customer",
            "Adyen has no customer objects: a shopper is the host's own shopperReference, given as customer_id",
        ))
    }

    async fn attach_payment_method(&self, customer_id: &str, payment_method_id: &str) -> Result<Remote<PaymentMethod>> {
        let _ = (customer_id, payment_method_id);
        Err(unsupported(
            "attach_payment_method",
            "Adyen stores a card with a first payment made through its Drop-in (storePaymentMethod); pay with its storedPaymentMethodId",
        ))
    }

    async fn create_intent(&self, operation: &OperationKey, intent: &IntentInput) -> Result<Confirmation> {
        intent.validate().map_err(|e| e.with_provider(PROVIDER))?;
        if !intent.confirm {
            return Err(Error::validation("confirm", "Adyen authorises a payment when it is made: set confirm")
                .with_provider(PROVIDER));
        }
        let shopper = intent.customer_id.as_deref().filter(|s| (3..=256).contains(&s.len())).ok_or_else(|| {
            Error::validation(
                "customer_id",
                "Adyen pays with a stored card of a shopperReference of 3 to 256 characters",
            )
            .with_provider(PROVIDER)
        })?;
        let method = intent.payment_method_id.as_deref().unwrap_or_default();
        let reference =
            intent.metadata.get("reference").cloned().unwrap_or_else(|| operation.for_provider(REFERENCE_LEN));
        let mut body = json!({
            "merchantAccount": self.merchant,
            "amount": wire::amount(intent.amount).map_err(|e| e.with_provider(PROVIDER))?,
            "reference": reference.chars().take(REFERENCE_LEN).collect::<String>(),
            "paymentMethod": { "type": "scheme", "storedPaymentMethodId": method },
            "shopperReference": shopper,
            "shopperInteraction": "ContAuth",
            "recurringProcessingModel": "UnscheduledCardOnFile",
            "returnUrl": RETURN_URL,
        });
        if let Some(description) = &intent.description {
            body["shopperStatement"] = json!(description.chars().take(135).collect::<String>());
        }
        if !intent.metadata.is_empty() {
            body["metadata"] = json!(intent.metadata);
        }
        if intent.capture_method == CaptureMethod::Manual {
            body["additionalData"] = json!({ "manualCapture": "true" });
        }
        let raw = self.post(("/payments", &[]), "/payments", &body, &operation.for_provider(KEY_LEN)).await?;
        let (intent_record, result) = map_one(&raw, "pspReference", |r| {
            wire::payment(r, intent.amount, Some(shopper), Some(method), &intent.capture_method)
        })?;
        Ok(match intent_record.fields.status {
            IntentStatus::Succeeded | IntentStatus::RequiresCapture => {
                Confirmation::Succeeded { intent: Box::new(intent_record) }
            }
            IntentStatus::RequiresAction => {
                let url = intent_record.fields.next_action_url.clone();
                Confirmation::RequiresAction { intent: Box::new(intent_record), url }
            }
            IntentStatus::RequiresPaymentMethod => {
                let message = Fields::new(&raw).text("refusalReason")?.unwrap_or(result);
                let reason = intent_record.fields.decline.clone().unwrap_or(DeclineReason::Declined);
                Confirmation::Declined { intent_id: intent_record.remote_id, reason, message }
            }
            _ => Confirmation::Processing { intent: Box::new(intent_record) },
        })
    }

    async fn confirm_intent(&self, operation: &OperationKey, intent_id: &str) -> Result<Confirmation> {
        let _ = (operation, intent_id);
        Err(unsupported("confirm_intent", "Adyen authorises a payment when it is made: create it with confirm"))
    }

    async fn capture_intent(
        &self,
        operation: &OperationKey,
        intent_id: &str,
        amount: Option<Money>,
    ) -> Result<Remote<PaymentIntent>> {
        let amount = Self::stated(amount, "captures")?;
        let body = json!({
            "merchantAccount": self.merchant,
            "amount": wire::amount(amount).map_err(|e| e.with_provider(PROVIDER))?,
            "reference": operation.for_provider(REFERENCE_LEN),
        });
        self.modify(intent_id, "captures", body, &operation.for_provider(KEY_LEN)).await?;
        let mut intent = PaymentIntent::accepted(amount, IntentStatus::Processing);
        intent.capture_method = CaptureMethod::Manual;
        Ok(Remote::new(intent_id, intent))
    }

    /// Cancels an authorised payment not captured yet: Adyen accepts the request (`processing`)
    /// and its `CANCELLATION` notification settles it. The answer carries no amount: the intent
    /// returned holds zero of no currency (`XXX`).
    async fn cancel_intent(&self, intent_id: &str) -> Result<Remote<PaymentIntent>> {
        let key = OperationKey::new(format!("cancel:{intent_id}"))?.for_provider(KEY_LEN);
        let body = json!({ "merchantAccount": self.merchant, "reference": format!("cancel:{intent_id}") });
        self.modify(intent_id, "cancels", body, &key).await?;
        Ok(Remote::new(intent_id, PaymentIntent::accepted(Money::nothing(), IntentStatus::Processing)))
    }

    async fn refund(&self, operation: &OperationKey, refund: &RefundInput) -> Result<Remote<Refund>> {
        refund.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let amount = Self::stated(refund.amount, "refunds")?;
        let mut body = json!({
            "merchantAccount": self.merchant,
            "amount": wire::amount(amount).map_err(|e| e.with_provider(PROVIDER))?,
            "reference": operation.for_provider(REFERENCE_LEN),
        });
        if let Some(reason) = &refund.reason {
            body["merchantRefundReason"] = json!(refund_reason(reason));
        }
        let raw = self.modify(&refund.payment_intent_id, "refunds", body, &operation.for_provider(KEY_LEN)).await?;
        let id = Fields::new(&raw).id("pspReference")?;
        let fields = Refund {
            amount,
            payment_intent_id: Some(refund.payment_intent_id.clone()),
            charge_id: None,
            status: RefundStatus::Pending,
            reason: refund.reason.clone(),
        };
        Ok(Remote::new(id, fields).with_remote_data(raw))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn item(event: &str, success: &str, value: &Value, currency: &str, date: &str, reason: &str) -> Value {
        json!({"notificationItems": [{"NotificationRequestItem": {
            "eventCode": event, "success": success, "pspReference": "8515131751004933", "originalReference": "8515131751004900",
            "amount": {"value": value, "currency": currency}, "eventDate": date, "reason": reason,
            "operations": ["CAPTURE"], "additionalData": {"shopperReference": "shopper-1"},
        }}]})
    }

    fn outcome(body: &Value) -> Result<WebhookOutcome> {
        let items = body["notificationItems"].as_array().cloned().unwrap_or_default();
        let mut outcome = WebhookOutcome::default();
        for entry in &items {
            Adyen::item_outcome(&entry["NotificationRequestItem"], &mut outcome)?;
        }
        Ok(outcome)
    }

    proptest! {
        /// Whatever a (verified) notification item holds: a change and an event, or an error
        /// naming the field — never a panic; amounts in any currency and of any size included.
        #[test]
        fn any_notification_item_is_mapped_or_refused(
            event in prop::sample::select(vec!["AUTHORISATION", "CAPTURE", "CANCELLATION", "REFUND", "REFUND_FAILED", "CHARGEBACK", "REPORT_AVAILABLE", ""]),
            success in prop::sample::select(vec!["true", "false", "TRUE", "", "yes"]),
            value in prop_oneof![any::<i64>().prop_map(|v| json!(v)), "\\PC{0,12}".prop_map(|v| json!(v)), Just(json!(null)), Just(json!(1.5))],
            currency in prop::sample::select(vec!["EUR", "JPY", "KWD", "ISK", "IDR", "CLP", "XAU", "eur", "", "ZZZ"]),
            date in prop::sample::select(vec!["2026-12-07T10:00:00+01:00", "2026-12-07", "yesterday", ""]),
            reason in "\\PC{0,40}",
        ) {
            let body = item(event, success, &value, currency, date, &reason);
            if let Ok(outcome) = outcome(&body) {
                prop_assert_eq!(outcome.events.len(), 1);
                prop_assert!(outcome.changes.len() <= 1);
            }
        }
    }

    #[test]
    fn refusals_are_read_from_their_codes_and_texts() {
        assert_eq!(wire::decline_for_code("12"), DeclineReason::InsufficientFunds);
        assert_eq!(wire::decline_for_code("6"), DeclineReason::ExpiredCard);
        assert_eq!(wire::decline_for_code("20"), DeclineReason::Fraudulent);
        assert_eq!(wire::decline_for_code("38"), DeclineReason::AuthenticationRequired);
        assert_eq!(wire::decline_for_code("2"), DeclineReason::Declined);
        assert_eq!(wire::decline_for_reason("Not enough balance"), DeclineReason::InsufficientFunds);
        assert_eq!(wire::decline_for_reason("CVC Declined"), DeclineReason::IncorrectCvc);
        assert_eq!(wire::decline_for_reason("Issuer Suspected Fraud"), DeclineReason::Fraudulent);
        let body = item("AUTHORISATION", "false", &json!(1_000), "EUR", "2026-12-07T10:00:00+01:00", "Expired Card");
        let failed = outcome(&body).expect("mapped");
        assert_eq!(failed.events[0].kind, "payment.failed");
        assert_eq!(failed.changes[0].record.data["decline"], "expired_card");
        // ISK at Adyen is in hundredths: 279000 is 2,790 krónur.
        let body = item("AUTHORISATION", "true", &json!(279_000), "ISK", "2026-12-07T10:00:00+01:00", "");
        let krona = outcome(&body).expect("mapped");
        assert_eq!(krona.changes[0].record.data["amount"]["minor"], 2_790);
        assert_eq!(krona.changes[0].record.data["status"], "requires_capture", "CAPTURE is still possible");
    }
}
