//! The payments operations through a connection's field mappings: what `build` returns when
//! the connection has some. Listings and single reads are mapped and checked; writes are passed
//! through, their answers mapped like reads.

use async_trait::async_trait;
use integration_core::Result;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::mapping::Mapped;

use crate::model::{BalanceTransaction, Customer, Dispute, PaymentIntent, PaymentMethod, Payout, Refund, Subscription};
use crate::money::Money;
use crate::payments::Payments;
use crate::write::{Confirmation, CustomerInput, IntentInput, OperationKey, RefundInput};

/// A confirmation's intent through the mappings.
fn mapped(this: &Mapped<dyn Payments>, confirmation: Result<Confirmation>) -> Result<Confirmation> {
    Ok(match confirmation? {
        Confirmation::Succeeded { intent } => {
            Confirmation::Succeeded { intent: Box::new(this.one("payment_intents", Ok(*intent))?) }
        }
        Confirmation::RequiresAction { intent, url } => {
            Confirmation::RequiresAction { intent: Box::new(this.one("payment_intents", Ok(*intent))?), url }
        }
        Confirmation::Processing { intent } => {
            Confirmation::Processing { intent: Box::new(this.one("payment_intents", Ok(*intent))?) }
        }
        declined => declined,
    })
}

#[async_trait]
impl Payments for Mapped<dyn Payments> {
    async fn customers(&self, request: ListRequest) -> Result<Listing<Customer>> {
        self.listing("customers", self.inner().customers(request).await)
    }

    async fn payment_intents(&self, request: ListRequest) -> Result<Listing<PaymentIntent>> {
        self.listing("payment_intents", self.inner().payment_intents(request).await)
    }

    async fn refunds(&self, request: ListRequest) -> Result<Listing<Refund>> {
        self.listing("refunds", self.inner().refunds(request).await)
    }

    async fn disputes(&self, request: ListRequest) -> Result<Listing<Dispute>> {
        self.listing("disputes", self.inner().disputes(request).await)
    }

    async fn payouts(&self, request: ListRequest) -> Result<Listing<Payout>> {
        self.listing("payouts", self.inner().payouts(request).await)
    }

    async fn balance_transactions(&self, request: ListRequest) -> Result<Listing<BalanceTransaction>> {
        self.listing("balance_transactions", self.inner().balance_transactions(request).await)
    }

    async fn subscriptions(&self, request: ListRequest) -> Result<Listing<Subscription>> {
        self.listing("subscriptions", self.inner().subscriptions(request).await)
    }

    async fn payment_intent(&self, remote_id: &str) -> Result<Remote<PaymentIntent>> {
        self.one("payment_intents", self.inner().payment_intent(remote_id).await)
    }

    async fn payment_methods(&self, customer_id: &str) -> Result<Vec<Remote<PaymentMethod>>> {
        self.inner().payment_methods(customer_id).await
    }

    async fn create_customer(&self, operation: &OperationKey, customer: &CustomerInput) -> Result<Remote<Customer>> {
        self.one("customers", self.inner().create_customer(operation, customer).await)
    }

    async fn attach_payment_method(&self, customer_id: &str, payment_method_id: &str) -> Result<Remote<PaymentMethod>> {
        self.inner().attach_payment_method(customer_id, payment_method_id).await
    }

    async fn create_intent(&self, operation: &OperationKey, intent: &IntentInput) -> Result<Confirmation> {
        mapped(self, self.inner().create_intent(operation, intent).await)
    }

    async fn confirm_intent(&self, operation: &OperationKey, intent_id: &str) -> Result<Confirmation> {
        mapped(self, self.inner().confirm_intent(operation, intent_id).await)
    }

    async fn capture_intent(
        &self,
        operation: &OperationKey,
        intent_id: &str,
        amount: Option<Money>,
    ) -> Result<Remote<PaymentIntent>> {
        self.one("payment_intents", self.inner().capture_intent(operation, intent_id, amount).await)
    }

    async fn cancel_intent(&self, intent_id: &str) -> Result<Remote<PaymentIntent>> {
        self.one("payment_intents", self.inner().cancel_intent(intent_id).await)
    }

    async fn refund(&self, operation: &OperationKey, refund: &RefundInput) -> Result<Remote<Refund>> {
        self.one("refunds", self.inner().refund(operation, refund).await)
    }
}
