//! What the writes take, and what a confirmation answers. Every create carries an
//! [`OperationKey`]: the same key again — a retry after a timeout, a rerun automation step, a
//! second worker — is the same customer, charge or refund, never a second one.

use std::collections::BTreeMap;

use integration_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::model::PaymentIntent;
use crate::money::Money;
use crate::vocabulary::{CaptureMethod, DeclineReason, RefundReason};

pub use integration_core::domain::OperationKey;

/// A new customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CustomerInput {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// The host's own data (at most 50 keys at most gateways).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl CustomerInput {
    /// A customer with `email`.
    pub fn with_email(email: impl Into<String>) -> Self {
        Self { email: Some(email.into()), ..Self::default() }
    }

    /// Checks the customer.
    ///
    /// # Errors
    /// A `Validation` error for an email without `@`.
    pub fn validate(&self) -> Result<()> {
        if self.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(Error::validation("email", "not an email address"));
        }
        Ok(())
    }
}

/// A new payment intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IntentInput {
    /// The amount (positive).
    pub amount: Money,
    /// The customer.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The payment method (a token; attached to the customer).
    #[serde(default)]
    pub payment_method_id: Option<String>,
    /// Automatic (default) or manual capture.
    #[serde(default = "automatic")]
    pub capture_method: CaptureMethod,
    /// Confirm at once (with the payment method).
    #[serde(default)]
    pub confirm: bool,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The host's own data.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

fn automatic() -> CaptureMethod {
    CaptureMethod::Automatic
}

impl IntentInput {
    /// An intent to collect `amount`.
    pub fn new(amount: Money) -> Self {
        Self {
            amount,
            customer_id: None,
            payment_method_id: None,
            capture_method: CaptureMethod::Automatic,
            confirm: false,
            description: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Checks the intent.
    ///
    /// # Errors
    /// A `Validation` error for an amount that is not positive, or confirming without a
    /// payment method.
    pub fn validate(&self) -> Result<()> {
        if !self.amount.is_positive() {
            return Err(Error::validation("amount", format!("{} is not an amount to collect", self.amount)));
        }
        if self.confirm && self.payment_method_id.is_none() {
            return Err(Error::validation("payment_method_id", "confirming needs a payment method"));
        }
        Ok(())
    }
}

/// A refund of (part of) a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RefundInput {
    /// The payment intent to refund.
    pub payment_intent_id: String,
    /// How much; all of what is left when `None`.
    #[serde(default)]
    pub amount: Option<Money>,
    /// Why.
    #[serde(default)]
    pub reason: Option<RefundReason>,
}

impl RefundInput {
    /// A full refund of `payment_intent_id`.
    pub fn full(payment_intent_id: impl Into<String>) -> Self {
        Self { payment_intent_id: payment_intent_id.into(), amount: None, reason: None }
    }

    /// A refund of `amount` of `payment_intent_id`.
    pub fn partial(payment_intent_id: impl Into<String>, amount: Money) -> Self {
        Self { payment_intent_id: payment_intent_id.into(), amount: Some(amount), reason: None }
    }

    /// Checks the refund.
    ///
    /// # Errors
    /// A `Validation` error for an amount that is not positive.
    pub fn validate(&self) -> Result<()> {
        if self.amount.is_some_and(|a| !a.is_positive()) {
            return Err(Error::validation("amount", "a refund is positive"));
        }
        Ok(())
    }
}

/// What confirming (or creating with `confirm`) a payment intent came to: a typed outcome, not
/// an error, for every answer a gateway gives about the payment itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Confirmation {
    /// Paid (or authorized, for a manual capture): the intent as it is now.
    Succeeded {
        /// The intent.
        intent: Box<crate::Remote<PaymentIntent>>,
    },
    /// The customer must authenticate (3-D Secure) at `url`.
    RequiresAction {
        /// The intent.
        intent: Box<crate::Remote<PaymentIntent>>,
        /// Where.
        url: Option<String>,
    },
    /// Declined, and why.
    Declined {
        /// The intent's id.
        intent_id: String,
        /// Why.
        reason: DeclineReason,
        /// The gateway's message.
        message: String,
    },
    /// Accepted, not final yet (bank debits): a notification will say.
    Processing {
        /// The intent.
        intent: Box<crate::Remote<PaymentIntent>>,
    },
}
