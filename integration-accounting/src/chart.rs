//! Chart-of-accounts mapping: the host's own account codes (`sales`, `4000`) mapped, per
//! connection, onto the provider's accounts — by `remote_id` or account number — and checked
//! against the chart the provider has: an unknown account is an error naming it.
//!
//! The mapping lives in the connection's configuration, setting `account_map` (an object of
//! host code → the provider's account id or number), so it is sealed, audited and versioned
//! with the rest of the connection.
//!
//! ```
//! use integration_accounting::chart::ChartMapping;
//! use integration_accounting::{Account, Currency, Decimal, JournalEntryInput, JournalLine, Remote};
//!
//! let account = |name: &str, number: &str| {
//!     let mut account = Account::default();
//!     (account.name, account.number) = (name.to_owned(), Some(number.to_owned()));
//!     account
//! };
//! let chart = vec![Remote::new("81", account("Sales", "4000")), Remote::new("35", account("Checking", "1000"))];
//! let mapping = ChartMapping::new([("sales", "4000"), ("bank", "35")]).checked(&chart)?;
//! assert_eq!(mapping.account_for("sales")?, "81");
//! assert_eq!(mapping.account_for("payroll").unwrap_err().field(), Some("account_map.payroll"));
//!
//! // A journal entry in the host's codes, in the provider's accounts.
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
//! let entry = JournalEntryInput::new(date, Currency::USD, vec![
//!     JournalLine::debit("bank", Decimal::new(500, 0)),
//!     JournalLine::credit("sales", Decimal::new(500, 0)),
//! ]);
//! let mapped = mapping.journal_entry(&entry)?;
//! assert_eq!([mapped.lines[0].account_id.as_str(), mapped.lines[1].account_id.as_str()], ["35", "81"]);
//!
//! // A mapping onto an account the provider does not have is refused, naming it.
//! let stale = ChartMapping::new([("fees", "6999")]).checked(&chart).unwrap_err();
//! assert!(stale.to_string().contains("6999"), "{stale}");
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::collections::BTreeMap;

use integration_core::domain::Remote;
use integration_core::{Error, IntegrationConfig, Result};
use serde::{Deserialize, Serialize};

use crate::model::Account;
use crate::write::JournalEntryInput;

/// The configuration setting holding a connection's mapping.
pub const ACCOUNT_MAP: &str = "account_map";

/// Host account codes → the provider's accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartMapping {
    codes: BTreeMap<String, String>,
    #[serde(skip)]
    resolved: BTreeMap<String, String>,
}

impl ChartMapping {
    /// A mapping of host codes onto provider account ids or numbers.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let codes = pairs.into_iter().map(|(h, p)| (h.to_owned(), p.to_owned())).collect();
        Self { codes, resolved: BTreeMap::new() }
    }

    /// The mapping in `config`'s [`ACCOUNT_MAP`] setting (none: an empty mapping).
    ///
    /// # Errors
    /// A [`Config`](integration_core::ErrorKind::Config) error naming `settings.account_map`
    /// when it is not an object of strings.
    pub fn from_config(config: &IntegrationConfig) -> Result<Self> {
        let Some(value) = config.settings.get(ACCOUNT_MAP) else { return Ok(Self::default()) };
        let codes: BTreeMap<String, String> = serde_json::from_value(value.clone()).map_err(|e| {
            Error::config(format!("account_map is an object of host code → account id or number: {e}"))
                .with_field(format!("settings.{ACCOUNT_MAP}"))
        })?;
        Ok(Self { codes, resolved: BTreeMap::new() })
    }

    /// The mapping checked against the provider's `chart`: each target is an account's
    /// `remote_id` or number (a `remote_id` first), and not a deleted account.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the host code
    /// (`account_map.fees`) and the account the provider does not have.
    pub fn checked(mut self, chart: &[Remote<Account>]) -> Result<Self> {
        let live: Vec<&Remote<Account>> = chart.iter().filter(|a| !a.remote_was_deleted).collect();
        self.resolved.clear();
        for (code, target) in &self.codes {
            let by_id = live.iter().find(|a| a.remote_id == *target);
            let by_number = || live.iter().find(|a| a.fields.number.as_deref() == Some(target.as_str()));
            let Some(account) = by_id.or_else(by_number) else {
                return Err(Error::validation(
                    format!("{ACCOUNT_MAP}.{code}"),
                    format!(
                        "{code:?} maps to account {target:?}, which the provider's chart of accounts does not have"
                    ),
                ));
            };
            self.resolved.insert(code.clone(), account.remote_id.clone());
        }
        Ok(self)
    }

    /// The provider's account id for host code `code`.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the code
    /// (`account_map.payroll`) when it is not mapped, or the mapping was not
    /// [`checked`](Self::checked).
    pub fn account_for(&self, code: &str) -> Result<&str> {
        self.resolved.get(code).map(String::as_str).ok_or_else(|| {
            let why = if self.codes.contains_key(code) {
                format!("{code:?} is mapped but not checked against the chart of accounts")
            } else {
                format!("no account is mapped for {code:?}")
            };
            Error::validation(format!("{ACCOUNT_MAP}.{code}"), why)
        })
    }

    /// `entry` with each line's host code replaced by the provider's account.
    ///
    /// # Errors
    /// As [`account_for`](Self::account_for), for the first line whose code is not mapped.
    pub fn journal_entry(&self, entry: &JournalEntryInput) -> Result<JournalEntryInput> {
        let mut mapped = entry.clone();
        for line in &mut mapped.lines {
            line.account_id = self.account_for(&line.account_id)?.to_owned();
        }
        Ok(mapped)
    }
}
