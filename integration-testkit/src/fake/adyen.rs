//! [`FakeAdyen`]: Adyen's Checkout API (v71) for card-on-file payments, on loopback, with the
//! standard notifications it sends — following Adyen's OpenAPI description
//! (`Adyen/adyen-openapi`, `CheckoutService-v71.yaml`) and its docs on idempotency, refusal
//! reasons and webhook HMAC signatures.
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `POST /v71/payments` | a payment with a stored payment method (`paymentMethod.storedPaymentMethodId` of the `shopperReference`): `200` with `resultCode` `Authorised` or `Refused` (a refused payment is still `200`, with `refusalReason` and `refusalReasonCode`); `returnUrl` and `amount` are required (`422` `14_030`, `100`); an unknown token is `422` `800` |
//! | `POST /v71/payments/{pspReference}/captures`, `/refunds`, `/cancels` | `201 {status: "received"}`, settled by a notification: a refund of more than is left is accepted and fails in its `REFUND` notification (`success: "false"`), as Adyen's do; a capture of more than was authorised is `422` `137` |
//! | `GET /v71/storedPaymentMethods?shopperReference=&merchantAccount=` | the shopper's tokens |
//!
//! Every call needs `X-API-Key` (`401` `ServiceError` `000` otherwise) and the fake's merchant
//! account (`403` `901`). **`Idempotency-Key`** (at most 64 characters) is honoured as Adyen
//! documents: a repeated key gets the first answer back and nothing happens again — what
//! localstripe does not do —; a request arriving while its key's first one runs waits for that
//! answer (Adyen answers `422` `704` then; the fake serializes instead). Every payment and modification queues a
//! notification item (`AUTHORISATION` with the `operations` still possible, `CAPTURE`, `REFUND`,
//! `CANCELLATION`), which [`FakeAdyen::take_webhook`] delivers as Adyen does: each item signed in
//! `additionalData.hmacSignature` with [`HMAC_KEY`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use integration_core::webhook::{WebhookSecret, adyen};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::Auth;
use super::faults::Faults;
use super::server::FakeServer;

/// The API key the fake accepts.
pub const API_KEY: &str = "AQEyhmfxfake-adyen-api-key-0123456789";
/// The merchant account.
pub const MERCHANT_ACCOUNT: &str = "AcmeECOM";
/// The webhook HMAC key (hex).
pub const HMAC_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

/// A stored payment method and, when its issuer refuses, the refusal (code, reason).
#[derive(Debug, Clone)]
struct Token {
    shopper: String,
    brand: &'static str,
    last_four: &'static str,
    refusal: Option<(&'static str, &'static str)>,
}

/// One payment as the fake keeps it.
#[derive(Debug, Clone)]
struct Payment {
    currency: String,
    authorised: i64,
    captured: i64,
    refunded: i64,
    reference: String,
    shopper: String,
    canceled: bool,
}

#[derive(Debug, Default)]
struct Books {
    tokens: BTreeMap<String, Token>,
    payments: BTreeMap<String, Payment>,
    /// Idempotency key → its first answer.
    keys: HashMap<String, (StatusCode, Value)>,
    notifications: Vec<Value>,
    sequence: u64,
}

#[derive(Debug, Clone)]
struct Shared {
    state: Arc<Mutex<Books>>,
    api: FakeApi,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Books> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running Adyen fake.
#[derive(Debug)]
pub struct FakeAdyen {
    server: FakeServer,
    shared: Shared,
}

impl FakeAdyen {
    /// Starts the fake with two shoppers' cards: `shopper-1`'s `TOKEN_VISA` pays,
    /// `shopper-1`'s `TOKEN_NO_FUNDS` is refused (`12`, Not enough balance) and `shopper-2`'s
    /// `TOKEN_EXPIRED` is refused (`6`, Expired Card).
    pub async fn start() -> Self {
        let mut state = Books::default();
        for (id, shopper, brand, last_four, refusal) in [
            ("TOKEN_VISA", "shopper-1", "visa", "1111", None),
            ("TOKEN_NO_FUNDS", "shopper-1", "mc", "4444", Some(("12", "Not enough balance"))),
            ("TOKEN_EXPIRED", "shopper-2", "visa", "0002", Some(("6", "Expired Card"))),
        ] {
            state.tokens.insert(id.to_owned(), Token { shopper: shopper.to_owned(), brand, last_four, refusal });
        }
        let api = FakeApi::new(Auth::ApiKey { header: "X-API-Key", key: API_KEY.to_owned() }).unauthorized(|_| {
            reply(error(StatusCode::UNAUTHORIZED, "000", "HTTP Status Response - Unauthorized", "security"))
        });
        let shared = Shared { state: Arc::new(Mutex::new(state)), api: api.clone() };
        let routes = axum::Router::new()
            .route("/payments", post(payment))
            .route("/payments/{psp}/{modification}", post(modification))
            .route("/storedPaymentMethods", get(stored));
        let app = axum::Router::new().nest("/v71", api.guard(routes)).with_state(shared.clone());
        Self { server: FakeServer::start(app).await, shared }
    }

    /// `http://127.0.0.1:<port>`: the adapter's `base_url`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// How many payments were made (a replayed idempotency key makes none).
    pub fn payments(&self) -> usize {
        self.shared.lock().payments.len()
    }

    /// A connection's configuration pointing at this fake.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("adyen").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Payments, provider)
            .with_setting("base_url", self.base_url())
            .with_setting("merchant_account", MERCHANT_ACCOUNT)
            .with_secret("api_key", API_KEY)
    }

    /// The queued notification items as one delivery, each signed with [`HMAC_KEY`];
    /// `None` when none is queued.
    pub fn take_webhook(&self) -> Option<Vec<u8>> {
        let items: Vec<Value> = std::mem::take(&mut self.shared.lock().notifications);
        if items.is_empty() {
            return None;
        }
        let key = WebhookSecret::new(HMAC_KEY);
        let signed: Vec<Value> = items
            .into_iter()
            .map(|mut item| {
                let signature = adyen::item_signature(&key, &item).unwrap_or_default();
                match item.get_mut("additionalData").and_then(Value::as_object_mut) {
                    Some(data) => {
                        data.insert("hmacSignature".into(), json!(signature));
                    }
                    None => item["additionalData"] = json!({ "hmacSignature": signature }),
                }
                json!({ "NotificationRequestItem": item })
            })
            .collect();
        serde_json::to_vec(&json!({ "live": "false", "notificationItems": signed })).ok()
    }
}

fn psp(state: &mut Books) -> String {
    state.sequence += 1;
    format!("99{:014}", state.sequence)
}

/// A notification item as Adyen sends it (unsigned).
struct Item<'a> {
    psp: &'a str,
    original: &'a str,
    reference: &'a str,
    amount: (i64, &'a str),
    event: &'a str,
    success: bool,
    reason: &'a str,
    operations: &'a [&'a str],
    shopper: &'a str,
}

fn notify(state: &mut Books, item: &Item<'_>) {
    let mut value = json!({
        "pspReference": item.psp, "originalReference": item.original, "merchantAccountCode": MERCHANT_ACCOUNT,
        "merchantReference": item.reference, "amount": {"value": item.amount.0, "currency": item.amount.1},
        "eventCode": item.event, "eventDate": chrono::Utc::now().to_rfc3339(), "success": item.success.to_string(),
        "paymentMethod": "visa", "reason": item.reason, "operations": item.operations,
    });
    if !item.shopper.is_empty() {
        value["additionalData"] = json!({ "shopperReference": item.shopper });
    }
    state.notifications.push(value);
}

/// An answer: status and `ServiceError` or resource body.
type Answer = (StatusCode, Value);

fn error(status: StatusCode, code: &str, message: &str, kind: &str) -> Answer {
    (status, json!({"status": status.as_u16(), "errorCode": code, "message": message, "errorType": kind}))
}

/// Runs `handle` once per `Idempotency-Key`: a key seen before gets its first answer back (a
/// request arriving while the key's first one runs waits for it), a key over 64 characters is
/// refused.
fn idempotent(shared: &Shared, headers: &HeaderMap, handle: impl FnOnce(&mut Books) -> Answer) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut state = shared.lock();
    if let Some(key) = &key {
        if key.len() > 64 {
            return reply(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "702",
                "Idempotency-Key is at most 64 characters",
                "validation",
            ));
        }
        if let Some(first) = state.keys.get(key) {
            return reply(first.clone());
        }
    }
    // The state lock is held while the request is handled: a second request with the key
    // waits, then finds the answer.
    let answer = handle(&mut state);
    if let Some(key) = key {
        state.keys.insert(key, answer.clone());
    }
    reply(answer)
}

fn reply((status, body): Answer) -> Response {
    (status, Json(body)).into_response()
}

fn payment_answer(state: &mut Books, request: &Value) -> Answer {
    if request["merchantAccount"] != MERCHANT_ACCOUNT {
        return error(StatusCode::FORBIDDEN, "901", "Invalid Merchant Account", "security");
    }
    let (Some(value), Some(currency)) = (
        request.pointer("/amount/value").and_then(Value::as_i64),
        request.pointer("/amount/currency").and_then(Value::as_str),
    ) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "100",
            "Required object 'amount' is not provided.",
            "validation",
        );
    };
    if request.get("returnUrl").and_then(Value::as_str).is_none_or(str::is_empty) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "14_030", "Return URL is missing.", "validation");
    }
    if value < 0 {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "137", "Invalid amount specified", "validation");
    }
    let reference = request.get("reference").and_then(Value::as_str).unwrap_or_default().to_owned();
    let shopper = request.get("shopperReference").and_then(Value::as_str).unwrap_or_default().to_owned();
    let token_id = request.pointer("/paymentMethod/storedPaymentMethodId").and_then(Value::as_str).unwrap_or_default();
    let Some(token) = state.tokens.get(token_id).filter(|t| t.shopper == shopper).cloned() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "800", "Contract not found", "validation");
    };
    let psp = psp(state);
    let manual = request.pointer("/additionalData/manualCapture").and_then(Value::as_str) == Some("true");
    let operations: &[&str] = if manual { &["CANCEL", "CAPTURE", "REFUND"] } else { &["REFUND"] };
    let mut item = Item {
        psp: &psp,
        original: "",
        reference: &reference,
        amount: (value, currency),
        event: "AUTHORISATION",
        success: true,
        reason: "044925:1111:03/2030",
        operations,
        shopper: &shopper,
    };
    match token.refusal {
        Some((code, reason)) => {
            (item.success, item.reason, item.operations) = (false, reason, &[]);
            notify(state, &item);
            (
                StatusCode::OK,
                json!({"pspReference": psp, "resultCode": "Refused", "refusalReason": reason,
                   "refusalReasonCode": code, "merchantReference": reference,
                   "additionalData": {"refusalReasonRaw": reason}}),
            )
        }
        None => {
            notify(state, &item);
            let captured = if manual { 0 } else { value };
            let payment = Payment {
                currency: currency.to_owned(),
                authorised: value,
                captured,
                refunded: 0,
                reference: reference.clone(),
                shopper: shopper.clone(),
                canceled: false,
            };
            state.payments.insert(psp.clone(), payment);
            (
                StatusCode::OK,
                json!({"pspReference": psp, "resultCode": "Authorised", "merchantReference": reference,
                   "amount": {"value": value, "currency": currency},
                   "paymentMethod": {"brand": token.brand, "type": "scheme"},
                   "additionalData": {"authCode": "044925", "cardSummary": token.last_four}}),
            )
        }
    }
}

async fn payment(State(shared): State<Shared>, headers: HeaderMap, Json(request): Json<Value>) -> Response {
    idempotent(&shared, &headers, |state| payment_answer(state, &request))
}

fn modification_answer(state: &mut Books, original: &str, kind: &str, request: &Value) -> Answer {
    if request["merchantAccount"] != MERCHANT_ACCOUNT {
        return error(StatusCode::FORBIDDEN, "901", "Invalid Merchant Account", "security");
    }
    let Some(mut payment) = state.payments.get(original).cloned() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "167",
            "Original pspReference required for this operation",
            "validation",
        );
    };
    let value = request.pointer("/amount/value").and_then(Value::as_i64);
    if matches!(kind, "captures" | "refunds") {
        let Some(v) = value else {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "100",
                "Required object 'amount' is not provided.",
                "validation",
            );
        };
        if v <= 0 || request.pointer("/amount/currency").and_then(Value::as_str) != Some(payment.currency.as_str()) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "137", "Invalid amount specified", "validation");
        }
    }
    let (event, success, reason) = match (kind, value) {
        ("captures", Some(v)) if !payment.canceled && v <= payment.authorised - payment.captured => {
            payment.captured += v;
            ("CAPTURE", true, "")
        }
        ("captures", _) => {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "137", "Invalid amount specified", "validation");
        }
        ("refunds", Some(v)) if v <= payment.captured - payment.refunded => {
            payment.refunded += v;
            ("REFUND", true, "")
        }
        // Adyen accepts a refund it cannot make, and says so in the notification.
        ("refunds", _) => ("REFUND", false, "Insufficient balance on payment"),
        ("cancels", _) if payment.captured == 0 && !payment.canceled => {
            payment.canceled = true;
            ("CANCELLATION", true, "")
        }
        ("cancels", _) => ("CANCELLATION", false, "Transaction cannot be cancelled: it was captured"),
        _ => return error(StatusCode::NOT_FOUND, "000", "Not found", "validation"),
    };
    let psp = psp(state);
    let amount = value.unwrap_or(payment.authorised);
    let (reference, currency, shopper) = (payment.reference.clone(), payment.currency.clone(), payment.shopper.clone());
    let item = Item {
        psp: &psp,
        original,
        reference: &reference,
        amount: (amount, &currency),
        event,
        success,
        reason,
        operations: &[],
        shopper: &shopper,
    };
    notify(state, &item);
    state.payments.insert(original.to_owned(), payment);
    let mut body = json!({"merchantAccount": MERCHANT_ACCOUNT, "paymentPspReference": original, "pspReference": psp,
                          "reference": request.get("reference").cloned().unwrap_or(Value::Null), "status": "received"});
    if let Some(value) = value {
        body["amount"] = json!({"value": value, "currency": currency});
    }
    (StatusCode::CREATED, body)
}

async fn modification(
    State(shared): State<Shared>,
    Path((original, kind)): Path<(String, String)>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Response {
    idempotent(&shared, &headers, |state| modification_answer(state, &original, &kind, &request))
}

async fn stored(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    if query.get("merchantAccount").map(String::as_str) != Some(MERCHANT_ACCOUNT) {
        return reply(error(StatusCode::FORBIDDEN, "901", "Invalid Merchant Account", "security"));
    }
    let shopper = query.get("shopperReference").cloned().unwrap_or_default();
    let methods: Vec<Value> = shared
        .lock()
        .tokens
        .iter()
        .filter(|(_, t)| t.shopper == shopper)
        .map(|(id, t)| {
            json!({"id": id, "brand": t.brand, "lastFour": t.last_four, "expiryMonth": "03", "expiryYear": "30",
                   "type": "scheme", "shopperReference": t.shopper,
                   "supportedRecurringProcessingModels": ["CardOnFile", "Subscription", "UnscheduledCardOnFile"]})
        })
        .collect();
    Json(json!({"merchantAccount": MERCHANT_ACCOUNT, "shopperReference": shopper, "storedPaymentMethods": methods}))
        .into_response()
}
