//! The payments domain: the [`Payments`] trait, a common model ([`Customer`],
//! [`PaymentMethod`] — tokens only —, [`PaymentIntent`], [`Refund`], [`Dispute`], [`Payout`],
//! [`BalanceTransaction`], [`Subscription`]), [`Money`] in integer minor units, and creates made
//! idempotent by an [`OperationKey`].
//!
//! Money is counted as gateways count it — integer minor units of an ISO 4217 currency — and
//! converted to and from [`Decimal`] exactly or not at all:
//!
//! ```
//! use integration_payments::{Currency, Decimal, Money};
//!
//! let price = Money::from_decimal(Decimal::new(4_990, 2), Currency::EUR)?;   // 49.90 EUR
//! assert_eq!(price.minor(), 4_990);
//! let yen = Money::new(4_990, Currency::JPY)?;                                // ¥4,990: no decimals
//! assert_eq!(yen.to_decimal(), Decimal::new(4_990, 0));
//! assert!(Money::from_decimal(Decimal::new(49_905, 3), Currency::EUR).is_err()); // half a cent
//! # Ok::<(), integration_core::Error>(())
//! ```
//!
//! A confirmation is a typed [`Confirmation`]: paid, authentication required, declined (with a
//! [`DeclineReason`] a host branches on: insufficient funds, an expired card, fraud...), or
//! processing.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod mapped;
mod model;
pub mod money;
mod payments;
pub mod prelude;
pub mod report;
pub mod schedule;
pub mod streams;
mod vocabulary;
mod write;

#[cfg(feature = "adyen")]
#[cfg_attr(docsrs, doc(cfg(feature = "adyen")))]
pub mod adyen;
#[cfg(feature = "stripe")]
#[cfg_attr(docsrs, doc(cfg(feature = "stripe")))]
pub mod stripe;

pub use adapter::{Adapter, AdapterFactory, build, descriptor, register_all};
pub use integration_core::domain::{ListRequest, Listing, Remote};
pub use iso_currency::Currency;
pub use model::{BalanceTransaction, Customer, Dispute, PaymentIntent, PaymentMethod, Payout, Refund, Subscription};
pub use money::Money;
pub use payments::{Payments, capability};
pub use rust_decimal::Decimal;
pub use streams::{STREAMS, read};
pub use vocabulary::{
    CaptureMethod, DeclineReason, DisputeStatus, IntentStatus, PayoutStatus, RefundReason, RefundStatus,
    SubscriptionStatus,
};
pub use write::{Confirmation, CustomerInput, IntentInput, OperationKey, RefundInput};

/// Why a gateway declined, from an error it answered (a card refused on attach, a decline a
/// gateway reports as an error): its code read as a [`DeclineReason`]; `None` for an error that
/// is not a decline.
///
/// ```
/// use integration_core::{Error, ErrorKind};
/// use integration_payments::{DeclineReason, decline_reason};
///
/// let error = Error::new(ErrorKind::Provider, "Your card has insufficient funds.").with_code("insufficient_funds");
/// assert_eq!(decline_reason(&error), Some(DeclineReason::InsufficientFunds));
/// assert_eq!(decline_reason(&Error::new(ErrorKind::Transient, "timeout")), None);
/// ```
pub fn decline_reason(error: &integration_core::Error) -> Option<DeclineReason> {
    let code = error.code()?;
    match DeclineReason::parse(code) {
        DeclineReason::Other(other) => match other.as_str() {
            "do_not_honor" | "generic_decline" | "card_not_supported" | "lost_card" | "stolen_card" => {
                Some(DeclineReason::Declined)
            }
            "authentication_required" | "card_velocity_exceeded" => Some(DeclineReason::AuthenticationRequired),
            _ => None,
        },
        known => Some(known),
    }
}
