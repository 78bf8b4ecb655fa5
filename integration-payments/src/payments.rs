//! The [`Payments`] trait: what a payment gateway adapter can do, each operation behind a
//! [`capability`] its descriptor declares.

use async_trait::async_trait;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::{Integration, Result};

use crate::model::{BalanceTransaction, Customer, Dispute, PaymentIntent, PaymentMethod, Payout, Refund, Subscription};
use crate::money::Money;
use crate::write::{Confirmation, CustomerInput, IntentInput, OperationKey, RefundInput};

/// The capabilities a payments adapter may declare.
pub mod capability {
    use integration_core::Capability;

    /// Customers, payment intents and refunds can be listed (Stripe can; Adyen's Checkout API
    /// cannot: its state arrives in answers and notifications).
    pub const LISTINGS: Capability = Capability::from_static("payments.listings");
    /// Listings take `since`: incremental sync (Stripe: the Events API).
    pub const CHANGES: Capability = Capability::from_static("payments.changes");
    /// Manual capture of an authorized intent.
    pub const MANUAL_CAPTURE: Capability = Capability::from_static("payments.manual_capture");
    /// Disputes.
    pub const DISPUTES: Capability = Capability::from_static("payments.disputes");
    /// Payouts.
    pub const PAYOUTS: Capability = Capability::from_static("payments.payouts");
    /// Balance transactions (fees and net).
    pub const BALANCE_TRANSACTIONS: Capability = Capability::from_static("payments.balance_transactions");
    /// Subscriptions.
    pub const SUBSCRIPTIONS: Capability = Capability::from_static("payments.subscriptions");
}

/// A payment gateway. Creates take an [`OperationKey`] (the gateway's idempotency key is
/// derived from it); a confirmation answers a typed [`Confirmation`] — a decline is an outcome,
/// not an error.
#[async_trait]
pub trait Payments: Integration {
    /// Customers ([`capability::LISTINGS`]).
    async fn customers(&self, request: ListRequest) -> Result<Listing<Customer>>;

    /// Payment intents ([`capability::LISTINGS`]).
    async fn payment_intents(&self, request: ListRequest) -> Result<Listing<PaymentIntent>>;

    /// Refunds ([`capability::LISTINGS`]).
    async fn refunds(&self, request: ListRequest) -> Result<Listing<Refund>>;

    /// One payment intent.
    async fn payment_intent(&self, remote_id: &str) -> Result<Remote<PaymentIntent>>;

    /// A customer's payment methods.
    async fn payment_methods(&self, customer_id: &str) -> Result<Vec<Remote<PaymentMethod>>>;

    /// Creates a customer.
    async fn create_customer(&self, operation: &OperationKey, customer: &CustomerInput) -> Result<Remote<Customer>>;

    /// Attaches payment method `payment_method_id` (a token from the gateway's client-side
    /// library) to `customer_id`. A card the issuer refuses is a `Provider` error whose
    /// [`decline_reason`](crate::decline_reason) says why.
    async fn attach_payment_method(&self, customer_id: &str, payment_method_id: &str) -> Result<Remote<PaymentMethod>>;

    /// Creates a payment intent (confirmed at once with `intent.confirm`).
    async fn create_intent(&self, operation: &OperationKey, intent: &IntentInput) -> Result<Confirmation>;

    /// Confirms a payment intent.
    async fn confirm_intent(&self, operation: &OperationKey, intent_id: &str) -> Result<Confirmation>;

    /// Captures an authorized intent ([`capability::MANUAL_CAPTURE`]), all of it or `amount`.
    async fn capture_intent(
        &self,
        operation: &OperationKey,
        intent_id: &str,
        amount: Option<Money>,
    ) -> Result<Remote<PaymentIntent>> {
        let _ = (operation, intent_id, amount);
        Err(self.unsupported("capture_intent"))
    }

    /// Cancels an intent not yet paid.
    async fn cancel_intent(&self, intent_id: &str) -> Result<Remote<PaymentIntent>>;

    /// Refunds (part of) a payment.
    async fn refund(&self, operation: &OperationKey, refund: &RefundInput) -> Result<Remote<Refund>>;

    /// Disputes ([`capability::DISPUTES`]).
    async fn disputes(&self, request: ListRequest) -> Result<Listing<Dispute>> {
        let _ = request;
        Err(self.unsupported("disputes"))
    }

    /// Payouts ([`capability::PAYOUTS`]).
    async fn payouts(&self, request: ListRequest) -> Result<Listing<Payout>> {
        let _ = request;
        Err(self.unsupported("payouts"))
    }

    /// Balance transactions ([`capability::BALANCE_TRANSACTIONS`]).
    async fn balance_transactions(&self, request: ListRequest) -> Result<Listing<BalanceTransaction>> {
        let _ = request;
        Err(self.unsupported("balance_transactions"))
    }

    /// Subscriptions ([`capability::SUBSCRIPTIONS`]).
    async fn subscriptions(&self, request: ListRequest) -> Result<Listing<Subscription>> {
        let _ = request;
        Err(self.unsupported("subscriptions"))
    }
}
