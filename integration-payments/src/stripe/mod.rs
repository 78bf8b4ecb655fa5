//! Stripe, through its API (<https://docs.stripe.com/api>), version `2024-06-20`:
//!
//! - the HTTP shape — `https://api.stripe.com`, the secret key as a bearer token,
//!   `Stripe-Version`, `starting_after` paging (`has_more`), 100 requests a second, the error
//!   message at `/error/message`, the webhook scheme (`Stripe-Signature`) — is the catalog's
//!   spec (`integration-core/catalog/stripe.toml`); requests are form-encoded
//!   (`metadata[key]=value`), and Connect's `Stripe-Account` header is sent when the connection
//!   names an `account`;
//! - creates (customers, payment intents, confirmations, captures, refunds) carry an
//!   `Idempotency-Key` derived from the caller's [`OperationKey`] (at most 255 characters):
//!   Stripe answers a repeated key with the first answer, so a charge retried after a timeout
//!   is one charge;
//! - a payment intent is created with its payment method and confirmed by
//!   `POST /v1/payment_intents/{id}/confirm`; a `402` card error there is
//!   [`Confirmation::Declined`] with its [`DeclineReason`] (`decline_code`, else `code`);
//!   `requires_action` carries the 3-D Secure redirect;
//! - amounts are Stripe's integers in the currency's smallest unit, the Icelandic króna as the
//!   two-decimal amount Stripe wants (<https://docs.stripe.com/currencies#special-cases>);
//! - listings: customers, payment intents, refunds, disputes, payouts, balance transactions,
//!   subscriptions (every status), 100 a page.
//!
//! Configuration: secret `api_key` (`sk_…` or a restricted `rk_…`); optional `account` (a
//! connected account, `acct_…`) and `base_url`.
//!
//! - webhooks (`Stripe-Signature`, verified by the router): each event's object read again (events
//!   may come late or out of order: the current state wins) and applied to its stream; the
//!   events a host acts on become typed automation events — `payment.succeeded`,
//!   `payment.failed`, `payment.requires_action`, `payment.canceled`, `payment.refunded`,
//!   `payment.disputed`, `payout.paid`, `payout.failed` —, the others `<stream>.updated` or
//!   `.deleted`.
//!
//! - changes: the Events API (`created[gte]`), each object an event names read again, deleted
//!   ones as tombstones, the newest event's time where the next listing starts; Stripe keeps
//!   events 30 days, so an older checkpoint is `ResyncRequired` and the engine reads in full.
//!   Balance transactions (immutable, without events) list the new ones by `created[gte]`.
//!
//! Not yet: subscriptions' writes.

mod wire;

use integration_core::decode::Fields;
use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{VerifiedWebhook, WebhookOutcome, WebhookScheme};
use serde_json::Value;

use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "stripe";

/// Stripe's limit on an idempotency key.
const KEY_LEN: usize = 255;

/// Records a page holds.
const PAGE: u32 = 100;

/// The Stripe adapter for one connection (one account).
#[derive(Debug)]
pub struct Stripe {
    descriptor: Descriptor,
    api: SpecClient,
    account: Option<String>,
}

impl Adapter for Stripe {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::LISTINGS,
            capability::CHANGES,
            capability::MANUAL_CAPTURE,
            capability::DISPUTES,
            capability::PAYOUTS,
            capability::BALANCE_TRANSACTIONS,
            capability::SUBSCRIPTIONS,
            Capability::HEALTH_CHECK,
            Capability::WEBHOOKS,
        ];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Stripe spec in the catalog"))?;
        descriptor(PROVIDER, "Stripe", &spec.docs, capabilities)
            .http_policy(spec.http_policy())
            .webhook(WebhookScheme::Stripe)
            .secret("api_key", FieldFormat::Text, "a secret (sk_…) or restricted (rk_…) key")
            .optional_setting("account", FieldFormat::Text, "a connected account (acct_…), for Connect")
            .base_url(Some("https://api.stripe.com"), "the API host")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let account = config.settings.get("account").and_then(Value::as_str).map(str::to_owned);
        if let Some(account) = &account
            && !account.starts_with("acct_")
        {
            return Err(Error::config(format!("{account:?} is not a connected account id (acct_…)"))
                .with_field("settings.account")
                .with_provider(PROVIDER));
        }
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Stripe spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, account })
    }
}

/// A listed resource: its path, the `object` its records and events carry, how a record maps,
/// and extra listing parameters.
struct Resource<T> {
    path: &'static str,
    object: &'static str,
    map: fn(&Fields) -> Result<Remote<T>>,
    extra: &'static [(&'static str, &'static str)],
}

const CUSTOMERS: Resource<Customer> =
    Resource { path: "/v1/customers", object: "customer", map: wire::customer, extra: &[] };
const INTENTS: Resource<PaymentIntent> =
    Resource { path: "/v1/payment_intents", object: "payment_intent", map: wire::payment_intent, extra: &[] };
const REFUNDS: Resource<Refund> = Resource { path: "/v1/refunds", object: "refund", map: wire::refund, extra: &[] };
const DISPUTES: Resource<Dispute> =
    Resource { path: "/v1/disputes", object: "dispute", map: wire::dispute, extra: &[] };
const PAYOUTS: Resource<Payout> = Resource { path: "/v1/payouts", object: "payout", map: wire::payout, extra: &[] };
const BALANCE: Resource<BalanceTransaction> = Resource {
    path: "/v1/balance_transactions",
    object: "balance_transaction",
    map: wire::balance_transaction,
    extra: &[],
};
const SUBSCRIPTIONS: Resource<Subscription> = Resource {
    path: "/v1/subscriptions",
    object: "subscription",
    map: wire::subscription,
    extra: &[("status", "all")],
};

/// How long Stripe keeps events, less an hour of margin: an older checkpoint reads in full.
const EVENT_WINDOW: chrono::Duration = chrono::Duration::hours(30 * 24 - 1);

/// Stripe's error body as the error a caller branches on: its `decline_code` (else `code`) as
/// the error's code, so [`decline_reason`](crate::decline_reason) reads it.
fn classify(error: Error) -> Error {
    let Some(body) = error.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) else { return error };
    let fault = Fields::new(&body).at("error");
    match fault.text("decline_code").ok().flatten().or_else(|| fault.text("code").ok().flatten()) {
        Some(code) => error.with_code(code),
        None => error,
    }
}

impl Stripe {
    /// A request on `path` followed by `ids` (each escaped as one segment), with the
    /// connected account's header.
    fn request(
        &self,
        method: Method,
        path: &str,
        ids: &[&str],
        template: &str,
    ) -> Result<integration_core::http::Request<'_>> {
        let mut request = self.api.request_at(method, path, ids)?.path_template(template.to_owned());
        if let Some(account) = &self.account {
            request = request.header("Stripe-Account", account);
        }
        Ok(request)
    }

    async fn get(&self, path: &str, ids: &[&str], template: &str) -> Result<Value> {
        self.request(Method::GET, path, ids, template)?.read_only().send_json().await.map_err(classify)
    }

    /// A form `POST`, with an idempotency key.
    async fn post(
        &self,
        at: (&str, &[&str]),
        template: &str,
        form: &[(String, String)],
        key: Option<String>,
    ) -> Result<Value> {
        let mut request = self.request(Method::POST, at.0, at.1, template)?.form(form);
        if let Some(key) = key {
            request = request.idempotency_key(&key);
        }
        request.send_json().await.map_err(classify)
    }

    /// A page of `path`, `starting_after` the cursor (the last record's id), 100 at most.
    async fn listing<T>(
        &self,
        path: &str,
        request: &ListRequest,
        extra: &[(String, String)],
        map: fn(&Fields) -> Result<Remote<T>>,
    ) -> Result<Listing<T>> {
        let mut query: Vec<(String, String)> = extra.to_vec();
        query.push(("limit".into(), request.limit(PAGE).to_string()));
        if let Some(cursor) = &request.cursor {
            query.push(("starting_after".into(), cursor.clone()));
        }
        let answer: Value = self
            .request(Method::GET, path, &[], path)?
            .query(&query)
            .read_only()
            .send_json()
            .await
            .map_err(classify)?;
        let records = answer.get("data").and_then(Value::as_array).cloned().ok_or_else(|| {
            Error::invalid_response("the answer has no list of records at \"/data\"").with_provider(PROVIDER)
        })?;
        let more = answer.get("has_more").and_then(Value::as_bool).unwrap_or(false);
        let next = if more {
            records.last().and_then(|r| r.get("id")).and_then(Value::as_str).map(str::to_owned)
        } else {
            None
        };
        Ok(Listing::decoded(map_each(records, "id", map), next))
    }

    /// A full listing page of `resource`, or (with `request.since`) what changed since.
    async fn read_resource<T: Default>(&self, resource: &Resource<T>, request: ListRequest) -> Result<Listing<T>> {
        let extra: Vec<(String, String)> =
            resource.extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let Some(since) = request.since else {
            return self.listing(resource.path, &request, &extra, resource.map).await;
        };
        if resource.object == "balance_transaction" {
            // Balance transactions never change and have no events: the new ones are listed.
            let mut query = extra;
            query.push(("created[gte]".into(), since.timestamp().to_string()));
            return self.listing(resource.path, &request, &query, resource.map).await;
        }
        self.changes(resource, since, &request).await
    }

    /// What changed since `since`, from the Events API: the events about `resource`'s objects
    /// at or after it (`created[gte]`), each object named read again — events come newest
    /// first at Stripe and may repeat an object, so only its current state is written — and a
    /// deleted one as a tombstone. Stripe keeps events 30 days: an older `since` is
    /// `ResyncRequired`, answered by the sync engine with a full read.
    async fn changes<T: Default>(
        &self,
        resource: &Resource<T>,
        since: DateTime<Utc>,
        request: &ListRequest,
    ) -> Result<Listing<T>> {
        if Utc::now() - since > EVENT_WINDOW {
            return Err(Error::resync_required(format!(
                "Stripe keeps events for 30 days, and this stream's changes were last read at {since}"
            ))
            .with_provider(PROVIDER));
        }
        let mut query =
            vec![("created[gte]".to_owned(), since.timestamp().to_string()), ("limit".to_owned(), PAGE.to_string())];
        if let Some(cursor) = &request.cursor {
            query.push(("starting_after".into(), cursor.clone()));
        }
        let answer: Value = self
            .request(Method::GET, "/v1/events", &[], "/v1/events")?
            .query(&query)
            .read_only()
            .send_json()
            .await
            .map_err(classify)?;
        let events = answer.get("data").and_then(Value::as_array).cloned().ok_or_else(|| {
            Error::invalid_response("the answer has no list of events at \"/data\"").with_provider(PROVIDER)
        })?;
        let mut ids: Vec<String> = Vec::new();
        let mut high: Option<DateTime<Utc>> = None;
        for event in &events {
            let fields = Fields::new(event);
            let created =
                fields.parse("created", |t| Ok(t.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0))))?;
            high = high.max(created);
            let object = fields.at("data.object");
            if object.text("object")?.as_deref() == Some(resource.object)
                && let Some(id) = object.optional_id("id")?
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        let mut decoded = Decoded::default();
        for id in ids {
            match self.get(resource.path, &[&id], resource.path).await {
                Ok(raw) => decoded.merge(map_each(vec![raw], "id", resource.map)),
                Err(e) if e.kind() == ErrorKind::NotFound => decoded.ok.push(Remote::deleted(id)),
                Err(e) => return Err(e),
            }
        }
        let more = answer.get("has_more").and_then(Value::as_bool).unwrap_or(false);
        let next = if more {
            events.last().and_then(|e| e.get("id")).and_then(Value::as_str).map(str::to_owned)
        } else {
            None
        };
        Ok(Listing::decoded(decoded, next).with_high_water(high))
    }

    /// What a payment intent's state amounts to for the caller.
    fn confirmation(raw: &Value) -> Result<Confirmation> {
        let intent = map_one(raw, "id", wire::payment_intent)?;
        Ok(match intent.fields.status {
            IntentStatus::Succeeded | IntentStatus::RequiresCapture => {
                Confirmation::Succeeded { intent: Box::new(intent) }
            }
            IntentStatus::RequiresAction => {
                let url = intent.fields.next_action_url.clone();
                Confirmation::RequiresAction { intent: Box::new(intent), url }
            }
            IntentStatus::RequiresPaymentMethod if intent.fields.decline.is_some() => {
                let message = Fields::new(raw).text("last_payment_error.message")?.unwrap_or_default();
                let reason = intent.fields.decline.clone().unwrap_or(DeclineReason::Declined);
                Confirmation::Declined { intent_id: intent.remote_id, reason, message }
            }
            _ => Confirmation::Processing { intent: Box::new(intent) },
        })
    }
}

#[async_trait]
impl Integration for Stripe {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.get("/v1/balance", &[], "/v1/balance").await?;
        Ok(ConnectionInfo::with_account(self.account.clone().unwrap_or_default(), None))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.get("/v1/balance", &[], "/v1/balance")).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let event = delivery.json()?;
        self.event_outcome(&event).await
    }
}

/// The automation event a Stripe event type is, when it is one a host acts on.
fn typed_event(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "payment_intent.succeeded" => "payment.succeeded",
        "payment_intent.payment_failed" => "payment.failed",
        "payment_intent.requires_action" => "payment.requires_action",
        "payment_intent.canceled" => "payment.canceled",
        "charge.refunded" | "refund.created" | "charge.refund.updated" => "payment.refunded",
        "charge.dispute.created" => "payment.disputed",
        "payout.paid" => "payout.paid",
        "payout.failed" => "payout.failed",
        _ => return None,
    })
}

impl Stripe {
    /// What a Stripe event changes: the object it carries, read again where it can be (events
    /// may arrive late or out of order: the current state wins), as a change of its stream, and
    /// a typed automation event (`payment.succeeded`, `payment.refunded`, `payout.paid`...).
    async fn event_outcome(&self, event: &Value) -> Result<WebhookOutcome> {
        let fields = Fields::new(event);
        let kind = fields.required_text("type")?;
        let object = event.pointer("/data/object").cloned().unwrap_or_default();
        let id = Fields::new(&object).id("id")?;
        let deleted = kind.ends_with(".deleted");
        let typed = typed_event(&kind);
        macro_rules! outcome {
            ($stream:literal, $map:expr, $current:expr) => {{
                let record = if deleted {
                    Remote::deleted(id.clone())
                } else {
                    match $current {
                        Ok(current) => current,
                        Err(e) if e.kind() == ErrorKind::NotFound => Remote::deleted(id.clone()),
                        Err(_) => map_one(&object, "id", $map)?,
                    }
                };
                let generic =
                    if record.remote_was_deleted { concat!($stream, ".deleted") } else { concat!($stream, ".updated") };
                integration_core::domain::webhook_outcome($stream, vec![record], |_| typed.unwrap_or(generic))
            }};
        }
        let object_kind = Fields::new(&object).text("object")?.unwrap_or_default();
        match object_kind.as_str() {
            "payment_intent" => outcome!("payment_intents", wire::payment_intent, self.payment_intent(&id).await),
            "customer" => outcome!(
                "customers",
                wire::customer,
                self.get("/v1/customers", &[&id], "/v1/customers/{id}").await.and_then(|raw| map_one(
                    &raw,
                    "id",
                    wire::customer
                ))
            ),
            "refund" => outcome!(
                "refunds",
                wire::refund,
                self.get("/v1/refunds", &[&id], "/v1/refunds/{id}").await.and_then(|raw| map_one(
                    &raw,
                    "id",
                    wire::refund
                ))
            ),
            "dispute" => outcome!(
                "disputes",
                wire::dispute,
                self.get("/v1/disputes", &[&id], "/v1/disputes/{id}").await.and_then(|raw| map_one(
                    &raw,
                    "id",
                    wire::dispute
                ))
            ),
            "payout" => outcome!(
                "payouts",
                wire::payout,
                self.get("/v1/payouts", &[&id], "/v1/payouts/{id}").await.and_then(|raw| map_one(
                    &raw,
                    "id",
                    wire::payout
                ))
            ),
            "subscription" => outcome!(
                "subscriptions",
                wire::subscription,
                self.get("/v1/subscriptions", &[&id], "/v1/subscriptions/{id}").await.and_then(|raw| map_one(
                    &raw,
                    "id",
                    wire::subscription
                ))
            ),
            // A charge event names its payment intent: that is what the cache holds.
            "charge" => match Fields::new(&object).optional_id("payment_intent")? {
                Some(intent) => {
                    let current = self.payment_intent(&intent).await?;
                    let generic = "payment_intents.updated";
                    integration_core::domain::webhook_outcome("payment_intents", vec![current], |_| {
                        typed.unwrap_or(generic)
                    })
                }
                None => Ok(WebhookOutcome::default()),
            },
            _ => Ok(WebhookOutcome::default()),
        }
    }
}

#[async_trait]
impl Payments for Stripe {
    async fn customers(&self, request: ListRequest) -> Result<Listing<Customer>> {
        self.read_resource(&CUSTOMERS, request).await
    }

    async fn payment_intents(&self, request: ListRequest) -> Result<Listing<PaymentIntent>> {
        self.read_resource(&INTENTS, request).await
    }

    async fn refunds(&self, request: ListRequest) -> Result<Listing<Refund>> {
        self.read_resource(&REFUNDS, request).await
    }

    async fn payment_intent(&self, remote_id: &str) -> Result<Remote<PaymentIntent>> {
        let raw = self.get("/v1/payment_intents", &[remote_id], "/v1/payment_intents/{id}").await?;
        map_one(&raw, "id", wire::payment_intent)
    }

    async fn payment_methods(&self, customer_id: &str) -> Result<Vec<Remote<PaymentMethod>>> {
        // `GET /v1/payment_methods?customer=` (what localstripe serves too), 100 cards at most.
        let request = self.request(Method::GET, "/v1/payment_methods", &[], "/v1/payment_methods")?;
        let query = [("customer", customer_id), ("type", "card"), ("limit", "100")];
        let answer: Value = request.query(&query).read_only().send_json().await.map_err(classify)?;
        let records = answer.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
        records.iter().map(|raw| map_one(raw, "id", wire::payment_method)).collect()
    }

    async fn create_customer(&self, operation: &OperationKey, customer: &CustomerInput) -> Result<Remote<Customer>> {
        customer.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let mut form = wire::metadata_form(&customer.metadata);
        form.extend(customer.email.iter().map(|e| ("email".to_owned(), e.clone())));
        form.extend(customer.name.iter().map(|n| ("name".to_owned(), n.clone())));
        let raw =
            self.post(("/v1/customers", &[]), "/v1/customers", &form, Some(operation.for_provider(KEY_LEN))).await?;
        map_one(&raw, "id", wire::customer)
    }

    async fn attach_payment_method(&self, customer_id: &str, payment_method_id: &str) -> Result<Remote<PaymentMethod>> {
        let form = [("customer".to_owned(), customer_id.to_owned())];
        let at = ("/v1/payment_methods", &[payment_method_id, "attach"][..]);
        // Attaching again is the same attachment: keyed by what it attaches.
        let key = OperationKey::new(format!("attach:{payment_method_id}:{customer_id}"))?.for_provider(KEY_LEN);
        let raw = self.post(at, "/v1/payment_methods/{id}/attach", &form, Some(key)).await?;
        map_one(&raw, "id", wire::payment_method)
    }

    async fn create_intent(&self, operation: &OperationKey, intent: &IntentInput) -> Result<Confirmation> {
        intent.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let mut form = vec![
            ("amount".to_owned(), wire::amount(intent.amount).map_err(|e| e.with_provider(PROVIDER))?.to_string()),
            ("currency".to_owned(), intent.amount.currency().code().to_ascii_lowercase()),
            ("capture_method".to_owned(), intent.capture_method.as_str().to_owned()),
        ];
        form.extend(intent.customer_id.iter().map(|c| ("customer".to_owned(), c.clone())));
        form.extend(intent.payment_method_id.iter().map(|p| ("payment_method".to_owned(), p.clone())));
        form.extend(intent.description.iter().map(|d| ("description".to_owned(), d.clone())));
        form.extend(wire::metadata_form(&intent.metadata));
        let key = operation.for_provider(KEY_LEN);
        let raw = self.post(("/v1/payment_intents", &[]), "/v1/payment_intents", &form, Some(key)).await?;
        if !intent.confirm {
            return Self::confirmation(&raw);
        }
        let id = Fields::new(&raw).id("id")?;
        let confirm = OperationKey::new(format!("{}:confirm", operation.as_str()))?;
        self.confirm_intent(&confirm, &id).await
    }

    async fn confirm_intent(&self, operation: &OperationKey, intent_id: &str) -> Result<Confirmation> {
        let at = ("/v1/payment_intents", &[intent_id, "confirm"][..]);
        let template = "/v1/payment_intents/{id}/confirm";
        match self.post(at, template, &[], Some(operation.for_provider(KEY_LEN))).await {
            Ok(raw) => Self::confirmation(&raw),
            // A card error (`402`) is the payment's outcome, not a failure of the call.
            Err(error) if error.status() == Some(402) => {
                let body = error.body().and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or_default();
                let fault = Fields::new(&body).at("error");
                let reason = wire::decline(&fault)?.unwrap_or(DeclineReason::Declined);
                let message = fault.text("message")?.unwrap_or_default();
                Ok(Confirmation::Declined { intent_id: intent_id.to_owned(), reason, message })
            }
            Err(error) => Err(error),
        }
    }

    async fn capture_intent(
        &self,
        operation: &OperationKey,
        intent_id: &str,
        amount: Option<Money>,
    ) -> Result<Remote<PaymentIntent>> {
        let at = ("/v1/payment_intents", &[intent_id, "capture"][..]);
        let mut form = Vec::new();
        if let Some(amount) = amount {
            form.push((
                "amount_to_capture".to_owned(),
                wire::amount(amount).map_err(|e| e.with_provider(PROVIDER))?.to_string(),
            ));
        }
        let raw =
            self.post(at, "/v1/payment_intents/{id}/capture", &form, Some(operation.for_provider(KEY_LEN))).await?;
        map_one(&raw, "id", wire::payment_intent)
    }

    async fn cancel_intent(&self, intent_id: &str) -> Result<Remote<PaymentIntent>> {
        let at = ("/v1/payment_intents", &[intent_id, "cancel"][..]);
        let key = OperationKey::new(format!("cancel:{intent_id}"))?.for_provider(KEY_LEN);
        let raw = self.post(at, "/v1/payment_intents/{id}/cancel", &[], Some(key)).await?;
        map_one(&raw, "id", wire::payment_intent)
    }

    async fn refund(&self, operation: &OperationKey, refund: &RefundInput) -> Result<Remote<Refund>> {
        refund.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let mut form = vec![("payment_intent".to_owned(), refund.payment_intent_id.clone())];
        if let Some(amount) = refund.amount {
            form.push(("amount".to_owned(), wire::amount(amount).map_err(|e| e.with_provider(PROVIDER))?.to_string()));
        }
        form.extend(refund.reason.iter().map(|r| ("reason".to_owned(), r.as_str().to_owned())));
        let raw = self.post(("/v1/refunds", &[]), "/v1/refunds", &form, Some(operation.for_provider(KEY_LEN))).await?;
        map_one(&raw, "id", wire::refund)
    }

    async fn disputes(&self, request: ListRequest) -> Result<Listing<Dispute>> {
        self.read_resource(&DISPUTES, request).await
    }

    async fn payouts(&self, request: ListRequest) -> Result<Listing<Payout>> {
        self.read_resource(&PAYOUTS, request).await
    }

    async fn balance_transactions(&self, request: ListRequest) -> Result<Listing<BalanceTransaction>> {
        self.read_resource(&BALANCE, request).await
    }

    async fn subscriptions(&self, request: ListRequest) -> Result<Listing<Subscription>> {
        self.read_resource(&SUBSCRIPTIONS, request).await
    }
}
