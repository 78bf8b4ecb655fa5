//! The payments model's enumerations, open to values a gateway adds (`Other(String)`).

use integration_core::open_enum;

open_enum! {
    /// Where a payment intent stands.
    IntentStatus {
        /// Waiting for a payment method.
        RequiresPaymentMethod => "requires_payment_method",
        /// Waiting for confirmation.
        RequiresConfirmation => "requires_confirmation",
        /// The customer must act (3-D Secure): see the intent's `next_action_url`.
        RequiresAction => "requires_action",
        /// Being processed.
        Processing => "processing",
        /// Authorized, waiting for a manual capture.
        RequiresCapture => "requires_capture",
        /// Canceled.
        Canceled => "canceled",
        /// Paid.
        Succeeded => "succeeded",
    }
}

open_enum! {
    /// When an authorized payment is captured.
    CaptureMethod {
        /// At once.
        Automatic => "automatic",
        /// When the host captures it (within the gateway's window).
        Manual => "manual",
    }
}

open_enum! {
    /// Why a payment was declined: the distinct outcomes a host branches on.
    DeclineReason {
        /// The issuer declined, for no reason it gives.
        Declined => "card_declined",
        /// Not enough money.
        InsufficientFunds => "insufficient_funds",
        /// The card has expired.
        ExpiredCard => "expired_card",
        /// A wrong CVC.
        IncorrectCvc => "incorrect_cvc",
        /// The customer must authenticate (3-D Secure) and could not here.
        AuthenticationRequired => "authentication_required",
        /// Blocked as probable fraud (the gateway's or the issuer's).
        Fraudulent => "fraudulent",
        /// A processing error: retrying later may succeed.
        ProcessingError => "processing_error",
    }
}

open_enum! {
    /// Where a refund stands.
    RefundStatus {
        /// Sent to the issuer.
        Pending => "pending",
        /// Done.
        Succeeded => "succeeded",
        /// Failed (the money stays with the merchant).
        Failed => "failed",
        /// Canceled before it was sent.
        Canceled => "canceled",
    }
}

open_enum! {
    /// Why a refund is made.
    RefundReason {
        /// Charged twice.
        Duplicate => "duplicate",
        /// Fraud.
        Fraudulent => "fraudulent",
        /// The customer asked.
        RequestedByCustomer => "requested_by_customer",
    }
}

open_enum! {
    /// Where a dispute stands.
    DisputeStatus {
        /// Evidence is due.
        NeedsResponse => "needs_response",
        /// Evidence sent, under review.
        UnderReview => "under_review",
        /// Won: the money returns.
        Won => "won",
        /// Lost.
        Lost => "lost",
        /// A warning (an inquiry) closed.
        WarningClosed => "warning_closed",
    }
}

open_enum! {
    /// Where a payout to the merchant's bank stands.
    PayoutStatus {
        /// Being prepared.
        Pending => "pending",
        /// On its way.
        InTransit => "in_transit",
        /// Arrived.
        Paid => "paid",
        /// Failed.
        Failed => "failed",
        /// Canceled.
        Canceled => "canceled",
    }
}

open_enum! {
    /// Where a subscription stands.
    SubscriptionStatus {
        /// In a trial.
        Trialing => "trialing",
        /// Paid up.
        Active => "active",
        /// A payment failed; retrying.
        PastDue => "past_due",
        /// Canceled.
        Canceled => "canceled",
        /// Unpaid after the retries.
        Unpaid => "unpaid",
        /// The first payment is not made yet.
        Incomplete => "incomplete",
    }
}
