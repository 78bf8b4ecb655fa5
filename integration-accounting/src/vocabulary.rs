//! The accounting model's enumerations. Each is *open*: a provider value we do not know lands in
//! `Other(String)` with the provider's spelling, never in an error.
//!
//! ```
//! use integration_accounting::{AccountClassification, InvoiceStatus};
//!
//! assert_eq!(AccountClassification::parse("Liability"), AccountClassification::Liability);
//! assert_eq!(InvoiceStatus::parse("partially paid"), InvoiceStatus::PartiallyPaid);
//! assert_eq!(serde_json::to_string(&InvoiceStatus::Void).unwrap(), r#""void""#);
//! ```

use integration_core::open_enum;

open_enum! {
    /// Where an account sits in the financial statements.
    AccountClassification {
        /// What the company owns (bank, receivables, fixed assets).
        Asset => "asset",
        /// What it owes (payables, loans, credit cards).
        Liability => "liability",
        /// The owners' stake.
        Equity => "equity",
        /// Income.
        Revenue => "revenue",
        /// Costs and expenses.
        Expense => "expense",
    }
}

open_enum! {
    /// Whether a record is in use.
    RecordStatus {
        /// In use.
        Active => "active",
        /// Archived or made inactive: kept for history, not offered for new transactions.
        Archived => "archived",
    }
}

open_enum! {
    /// Who owes whom on an invoice or credit note.
    InvoiceKind {
        /// A sales invoice: the contact owes the company (accounts receivable).
        Receivable => "receivable",
        /// A bill: the company owes the contact (accounts payable).
        Payable => "payable",
    }
}

open_enum! {
    /// Where an invoice stands.
    InvoiceStatus {
        /// Being written; not in the books.
        Draft => "draft",
        /// Waiting for approval.
        Submitted => "submitted",
        /// Approved and unpaid.
        Open => "open",
        /// Some of it paid.
        PartiallyPaid => "partially_paid",
        /// Fully paid.
        Paid => "paid",
        /// Voided: kept, worth nothing.
        Void => "void",
    }
}

open_enum! {
    /// Where a payment or journal entry stands.
    PostingStatus {
        /// In the books.
        Posted => "posted",
        /// Not yet in the books.
        Draft => "draft",
        /// Voided or deleted.
        Void => "void",
    }
}

open_enum! {
    /// Which way money moved on a bank line.
    BankDirection {
        /// Money in (a deposit, a receipt).
        Received => "received",
        /// Money out (a payment, a purchase).
        Spent => "spent",
    }
}
