//! [`Money`]: an amount in a currency's minor units (cents, yen, fils), as payment gateways
//! count it — an integer, never a float — with checked conversions to and from [`Decimal`].
//!
//! The minor unit is the currency's ISO 4217 exponent: JPY 0 (¥500 is 500), EUR 2 (€5.00 is
//! 500), KWD 3 (5.000 KWD is 5000). A currency ISO 4217 gives no exponent (gold, SDRs, test
//! codes) has no minor unit: refused.
//!
//! ```
//! use integration_payments::{Currency, Decimal, Money};
//!
//! let euros = Money::from_decimal(Decimal::new(1999, 2), Currency::EUR)?;    // 19.99 EUR
//! assert_eq!(euros.minor(), 1999);
//! let yen = Money::from_decimal(Decimal::new(500, 0), Currency::JPY)?;       // ¥500
//! assert_eq!(yen.minor(), 500);
//! let dinars = Money::new(5000, Currency::KWD)?;                              // 5.000 KWD
//! assert_eq!(dinars.to_decimal(), Decimal::new(5000, 3));
//! assert_eq!(dinars.to_string(), "5.000 KWD");
//!
//! // Fractions of a minor unit do not exist: refused, never rounded silently.
//! let error = Money::from_decimal(Decimal::new(1999, 3), Currency::EUR).unwrap_err();
//! assert_eq!(error.field(), Some("amount"));
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::fmt;

use integration_core::{Error, Result};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount in a currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount in minor units.
    minor: i64,
    /// The currency.
    currency: Currency,
}

/// The number of decimals of `currency`'s minor unit; an error for a currency without one.
///
/// # Errors
/// A [`Validation`](integration_core::ErrorKind::Validation) error naming `currency`.
pub fn exponent(currency: Currency) -> Result<u32> {
    currency.exponent().map(u32::from).ok_or_else(|| {
        Error::validation(
            "currency",
            format!(
                "{} ({}) has no minor unit: it is not a currency payments are made in",
                currency.code(),
                currency.name()
            ),
        )
    })
}

impl Money {
    /// `minor` units of `currency`.
    ///
    /// # Errors
    /// A `Validation` error for a currency without a minor unit.
    pub fn new(minor: i64, currency: Currency) -> Result<Self> {
        exponent(currency)?;
        Ok(Self { minor, currency })
    }

    /// Zero in `currency`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn zero(currency: Currency) -> Result<Self> {
        Self::new(0, currency)
    }

    /// `amount` of `currency` (`19.99` EUR → 1999).
    ///
    /// # Errors
    /// A `Validation` error naming `amount` when it has more decimals than the currency (a
    /// fraction of a cent) or does not fit in 64 bits of minor units; one naming `currency` for
    /// a currency without a minor unit.
    pub fn from_decimal(amount: Decimal, currency: Currency) -> Result<Self> {
        let places = exponent(currency)?;
        let normalized = amount.normalize();
        if normalized.scale() > places {
            return Err(Error::validation(
                "amount",
                format!("{amount} {} has more decimals than the currency's {places}", currency.code()),
            ));
        }
        let scaled =
            normalized.checked_mul(Decimal::from(10_i64.pow(places))).ok_or_else(|| too_large(amount, currency))?;
        let minor = i64::try_from(scaled.trunc().mantissa() / 10_i128.pow(scaled.trunc().scale()))
            .map_err(|_| too_large(amount, currency))?;
        Ok(Self { minor, currency })
    }

    /// The amount in a gateway's units for the currency when the gateway counts it with
    /// `decimals` decimals instead of ISO 4217's (Stripe and Adyen count the Icelandic króna in
    /// hundredths; Adyen counts the Indonesian rupiah in whole rupiah).
    ///
    /// ```
    /// use integration_payments::{Currency, Money};
    ///
    /// let kronur = Money::new(2_790, Currency::ISK)?;            // 2,790 ISK (ISO: no decimals)
    /// assert_eq!(kronur.to_units(2)?, 279_000);
    /// let rupiah = Money::new(1_500_000, Currency::IDR)?;        // 15,000.00 IDR (ISO: two)
    /// assert_eq!(rupiah.to_units(0)?, 15_000);
    /// assert!(Money::new(1_550, Currency::IDR)?.to_units(0).is_err(), "15.50 IDR has no whole count");
    /// # Ok::<(), integration_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// A `Validation` error naming `amount` for an amount that is not a whole number of the
    /// gateway's units, or too large for them.
    pub fn to_units(&self, decimals: u32) -> Result<i64> {
        let iso = exponent(self.currency)?;
        let (code, amount) = (self.currency.code(), self.to_decimal());
        if decimals >= iso {
            let factor = 10_i64.checked_pow(decimals - iso).ok_or_else(|| too_large(amount, self.currency))?;
            self.minor.checked_mul(factor).ok_or_else(|| too_large(amount, self.currency))
        } else {
            let factor = 10_i64.pow(iso - decimals);
            if self.minor % factor != 0 {
                return Err(Error::validation(
                    "amount",
                    format!("{amount} {code} is not a whole amount with the gateway's {decimals} decimals"),
                ));
            }
            Ok(self.minor / factor)
        }
    }

    /// `units` of `currency` counted with `decimals` decimals (a gateway's count): the inverse
    /// of [`to_units`](Self::to_units).
    ///
    /// # Errors
    /// A `Validation` error naming `amount` for a count with a fraction of the ISO minor unit,
    /// or too large; one naming `currency` for a currency without a minor unit.
    pub fn from_units(units: i64, currency: Currency, decimals: u32) -> Result<Self> {
        let iso = exponent(currency)?;
        let amount = || Decimal::new(units, decimals.min(28));
        if decimals > iso {
            let factor = 10_i64.checked_pow(decimals - iso).ok_or_else(|| too_large(amount(), currency))?;
            if units % factor != 0 {
                return Err(Error::validation(
                    "amount",
                    format!("{} {} has more decimals than the currency's {iso}", amount(), currency.code()),
                ));
            }
            Self::new(units / factor, currency)
        } else {
            let factor = 10_i64.pow(iso - decimals);
            Self::new(units.checked_mul(factor).ok_or_else(|| too_large(amount(), currency))?, currency)
        }
    }

    /// Zero of no currency (`XXX`): what a deleted record's amounts hold.
    pub(crate) const fn nothing() -> Self {
        Self { minor: 0, currency: Currency::XXX }
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a decimal with the currency's decimals (1999 EUR cents → `19.99`).
    pub fn to_decimal(&self) -> Decimal {
        let places = self.currency.exponent().map_or(0, u32::from);
        Decimal::new(self.minor, places)
    }

    /// `self + other`, in the same currency.
    ///
    /// # Errors
    /// A `Validation` error for another currency or an overflow.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or_else(|| too_large(self.to_decimal(), self.currency))?;
        Ok(Self { minor, ..self })
    }

    /// `self - other`, in the same currency.
    ///
    /// # Errors
    /// A `Validation` error for another currency or an overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or_else(|| too_large(self.to_decimal(), self.currency))?;
        Ok(Self { minor, ..self })
    }

    /// Whether it is more than zero.
    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    fn same_currency(self, other: Money) -> Result<()> {
        if self.currency == other.currency {
            return Ok(());
        }
        Err(Error::validation(
            "currency",
            format!("{} and {} are different currencies", self.currency.code(), other.currency.code()),
        ))
    }
}

fn too_large(amount: Decimal, currency: Currency) -> Error {
    Error::validation("amount", format!("{amount} {} is too large an amount", currency.code()))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency.code())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every ISO 4217 currency (by numeric code).
    fn currencies() -> impl Strategy<Value = Currency> {
        let all: Vec<Currency> = (0..1000).filter_map(Currency::from_numeric).collect();
        prop::sample::select(all)
    }

    proptest! {
        /// Over every ISO 4217 currency: minor units → decimal → minor units is exact, the
        /// decimal carries exactly the currency's decimals, and a currency without a minor unit
        /// is refused naming it.
        #[test]
        fn minor_units_round_trip_in_every_currency(minor in any::<i64>(), currency in currencies()) {
            match currency.exponent() {
                Some(places) => {
                    let money = Money::new(minor, currency).expect("a currency with a minor unit");
                    let decimal = money.to_decimal();
                    prop_assert_eq!(decimal.scale(), u32::from(places));
                    prop_assert_eq!(Money::from_decimal(decimal, currency).expect("round trip"), money);
                }
                None => {
                    let error = Money::new(minor, currency).expect_err("no minor unit");
                    prop_assert_eq!(error.field(), Some("currency"));
                }
            }
        }

        /// A gateway's count with other decimals than ISO's round trips exactly when it is
        /// whole, and is refused — never rounded — when it is not.
        #[test]
        fn gateway_units_round_trip_or_are_refused(minor in -1_000_000_000_000_i64..1_000_000_000_000, decimals in 0_u32..=4, currency in currencies()) {
            if let Ok(money) = Money::new(minor, currency) {
                let iso = exponent(currency).expect("an exponent");
                match money.to_units(decimals) {
                    Ok(units) => {
                        prop_assert_eq!(Money::from_units(units, currency, decimals).expect("back"), money);
                        prop_assert_eq!(Decimal::new(units, decimals), money.to_decimal());
                    }
                    Err(error) => {
                        prop_assert!(decimals < iso, "only fewer decimals can refuse");
                        prop_assert_eq!(error.field(), Some("amount"));
                    }
                }
            }
        }

        /// A decimal with one decimal more than the currency's is refused, never rounded.
        #[test]
        fn a_fraction_of_a_minor_unit_is_refused(units in -1_000_000_000_i64..1_000_000_000, currency in currencies()) {
            if let Some(places) = currency.exponent() {
                let amount = Decimal::new(units * 10 + 1, u32::from(places) + 1);
                let error = Money::from_decimal(amount, currency).expect_err("too precise");
                prop_assert_eq!(error.field(), Some("amount"));
            }
        }
    }

    #[test]
    fn zero_two_and_three_decimal_currencies_convert_exactly() {
        for (currency, decimal, minor) in [
            (Currency::JPY, Decimal::new(500, 0), 500),
            (Currency::EUR, Decimal::new(500, 2), 500),
            (Currency::EUR, Decimal::new(5, 0), 500),
            (Currency::KWD, Decimal::new(5, 0), 5000),
            (Currency::KWD, Decimal::new(1234, 3), 1234),
            (Currency::USD, Decimal::new(-1050, 2), -1050),
        ] {
            assert_eq!(Money::from_decimal(decimal, currency).expect("exact").minor(), minor, "{decimal} {currency:?}");
        }
        assert!(Money::from_decimal(Decimal::new(5, 1), Currency::JPY).is_err(), "half a yen");
        assert!(Money::from_decimal(Decimal::MAX, Currency::USD).is_err(), "too large");
        let sum = Money::new(150, Currency::USD).and_then(|a| a.checked_add(Money::new(250, Currency::USD)?));
        assert_eq!(sum.expect("a sum").minor(), 400);
        assert!(Money::new(1, Currency::USD).and_then(|a| a.checked_add(Money::new(1, Currency::EUR)?)).is_err());
    }
}
