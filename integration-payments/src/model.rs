//! The common payments model. Each record is a [`Remote<T>`](crate::Remote) (the domain kit's
//! envelope) around the fields here. Amounts are [`Money`]: integer minor units with their
//! currency. A payment method is a **token** and what is safe to show (brand, last four digits,
//! expiry): a card number or CVC never passes through the SDK.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::vocabulary::{
    CaptureMethod, DeclineReason, DisputeStatus, IntentStatus, PayoutStatus, RefundReason, RefundStatus,
    SubscriptionStatus,
};

/// A customer of the merchant at the gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// The default payment method's `remote_id`.
    pub default_payment_method_id: Option<String>,
    /// The host's own data, as the gateway keeps it.
    pub metadata: BTreeMap<String, String>,
}

/// A saved way to pay: a token, and what may be shown of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentMethod {
    /// `card`, `sepa_debit`, `us_bank_account`...
    pub kind: String,
    /// The customer it is attached to.
    pub customer_id: Option<String>,
    /// For a card: its brand (`visa`).
    pub brand: Option<String>,
    /// For a card or account: its last four digits.
    pub last4: Option<String>,
    /// For a card: its expiry month.
    pub exp_month: Option<u32>,
    /// For a card: its expiry year.
    pub exp_year: Option<i32>,
}

/// An intent to collect a payment, through its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentIntent {
    /// The amount to collect.
    pub amount: Money,
    /// What was received (for a manual capture, what was captured).
    pub amount_received: Option<Money>,
    /// Where it stands.
    pub status: IntentStatus,
    /// When the money is taken.
    pub capture_method: CaptureMethod,
    /// The customer.
    pub customer_id: Option<String>,
    /// The payment method used.
    pub payment_method_id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The last decline, when the latest attempt was declined.
    pub decline: Option<DeclineReason>,
    /// Where the customer authenticates, for `requires_action`.
    pub next_action_url: Option<String>,
    /// The charge that collected it, when there is one.
    pub latest_charge_id: Option<String>,
    /// The host's own data.
    pub metadata: BTreeMap<String, String>,
    /// When it was created at the gateway.
    pub created: Option<DateTime<Utc>>,
}

impl PaymentIntent {
    /// An intent a gateway accepted without saying more: `amount`, `status`, the rest unknown.
    #[cfg(feature = "adyen")]
    pub(crate) fn accepted(amount: Money, status: IntentStatus) -> Self {
        Self {
            amount,
            amount_received: None,
            status,
            capture_method: CaptureMethod::Automatic,
            customer_id: None,
            payment_method_id: None,
            description: None,
            decline: None,
            next_action_url: None,
            latest_charge_id: None,
            metadata: BTreeMap::new(),
            created: None,
        }
    }
}

/// A refund of (part of) a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The amount refunded.
    pub amount: Money,
    /// The payment intent it refunds.
    pub payment_intent_id: Option<String>,
    /// The charge it refunds.
    pub charge_id: Option<String>,
    /// Where it stands.
    pub status: RefundStatus,
    /// Why.
    pub reason: Option<RefundReason>,
}

/// A dispute (chargeback) a cardholder opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dispute {
    /// The amount disputed.
    pub amount: Money,
    /// The charge disputed.
    pub charge_id: Option<String>,
    /// The cardholder's reason (`fraudulent`, `product_not_received`...).
    pub reason: Option<String>,
    /// Where it stands.
    pub status: DisputeStatus,
    /// When evidence is due.
    pub evidence_due_by: Option<DateTime<Utc>>,
}

/// Money paid out to the merchant's bank account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payout {
    /// The amount.
    pub amount: Money,
    /// When it arrives (or arrived).
    pub arrival_date: Option<NaiveDate>,
    /// Where it stands.
    pub status: PayoutStatus,
}

/// A movement of the merchant's balance: a charge, a refund, a fee, a payout — with the fee and
/// what was left, for reporting and reconciliation with the accounting domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BalanceTransaction {
    /// `charge`, `refund`, `payout`, `adjustment`...
    pub kind: String,
    /// The gross amount.
    pub amount: Money,
    /// The gateway's fee.
    pub fee: Money,
    /// `amount - fee`.
    pub net: Money,
    /// The object it came from (a charge, a refund...).
    pub source_id: Option<String>,
    /// When the money is available.
    pub available_on: Option<DateTime<Utc>>,
}

/// A subscription to a recurring price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The customer.
    pub customer_id: Option<String>,
    /// Where it stands.
    pub status: Option<SubscriptionStatus>,
    /// The end of the period paid for.
    pub current_period_end: Option<DateTime<Utc>>,
    /// Whether it ends at the period's end.
    pub cancel_at_period_end: bool,
}

/// The amount of a deleted record (a tombstone carries no fields): zero, no currency.
fn xxx() -> Money {
    Money::nothing()
}

macro_rules! tombstone_default {
    ($($ty:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        $(impl Default for $ty {
            fn default() -> Self {
                Self { $($field: $value),* }
            }
        })*
    };
}

tombstone_default! {
    PaymentIntent {
        amount: xxx(), amount_received: None, status: IntentStatus::RequiresPaymentMethod,
        capture_method: CaptureMethod::Automatic, customer_id: None, payment_method_id: None,
        description: None, decline: None, next_action_url: None, latest_charge_id: None,
        metadata: BTreeMap::new(), created: None,
    }
    Refund { amount: xxx(), payment_intent_id: None, charge_id: None, status: RefundStatus::Pending, reason: None }
    Dispute { amount: xxx(), charge_id: None, reason: None, status: DisputeStatus::NeedsResponse, evidence_due_by: None }
    Payout { amount: xxx(), arrival_date: None, status: PayoutStatus::Pending }
    BalanceTransaction { kind: String::new(), amount: xxx(), fee: xxx(), net: xxx(), source_id: None, available_on: None }
}
