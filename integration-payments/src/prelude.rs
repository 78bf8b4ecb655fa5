//! What a payments adapter uses, in one import: `use integration_payments::prelude::*;`.

pub use integration_core::domain::prelude::*;
pub use iso_currency::Currency;
pub use rust_decimal::Decimal;

pub use crate::adapter::{Adapter, descriptor};
pub use crate::model::{
    BalanceTransaction, Customer, Dispute, PaymentIntent, PaymentMethod, Payout, Refund, Subscription,
};
pub use crate::money::Money;
pub use crate::payments::{Payments, capability};
pub use crate::vocabulary::{
    CaptureMethod, DeclineReason, DisputeStatus, IntentStatus, PayoutStatus, RefundReason, RefundStatus,
    SubscriptionStatus,
};
pub use crate::write::{Confirmation, CustomerInput, IntentInput, OperationKey, RefundInput};
