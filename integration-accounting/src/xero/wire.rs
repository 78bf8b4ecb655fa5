//! Xero's JSON (Accounting API 2.0) and how it maps onto the common model, both ways.

use integration_core::decode::Fields;
use integration_core::{Error, ErrorKind, Result};
use serde_json::{Value, json};

use crate::prelude::*;
use crate::write::json_number as number;

/// A Xero collection one stream reads: its name (also the key records sit under), its id
/// field, whether it pages (and takes `If-Modified-Since`), and how a record maps.
#[derive(Debug)]
pub(super) struct Kind<T> {
    pub(super) collection: &'static str,
    pub(super) id: &'static str,
    pub(super) paged: bool,
    pub(super) modified_since: bool,
    pub(super) map: fn(&Fields, Currency) -> Result<Option<T>>,
}

pub(super) const ACCOUNTS: Kind<Account> =
    Kind { collection: "Accounts", id: "AccountID", paged: false, modified_since: true, map: account };
pub(super) const CONTACTS: Kind<Contact> =
    Kind { collection: "Contacts", id: "ContactID", paged: true, modified_since: true, map: contact };
pub(super) const ITEMS: Kind<Item> =
    Kind { collection: "Items", id: "ItemID", paged: false, modified_since: true, map: item };
pub(super) const TAX_RATES: Kind<TaxRate> =
    Kind { collection: "TaxRates", id: "TaxType", paged: false, modified_since: false, map: tax_rate };
pub(super) const INVOICES: Kind<Invoice> =
    Kind { collection: "Invoices", id: "InvoiceID", paged: true, modified_since: true, map: invoice };
pub(super) const CREDIT_NOTES: Kind<CreditNote> =
    Kind { collection: "CreditNotes", id: "CreditNoteID", paged: true, modified_since: true, map: credit_note };
pub(super) const PAYMENTS: Kind<Payment> =
    Kind { collection: "Payments", id: "PaymentID", paged: true, modified_since: true, map: payment };
pub(super) const JOURNALS: Kind<JournalEntry> =
    Kind { collection: "ManualJournals", id: "ManualJournalID", paged: true, modified_since: true, map: journal };
pub(super) const BANK_TRANSACTIONS: Kind<BankTransaction> = Kind {
    collection: "BankTransactions",
    id: "BankTransactionID",
    paged: true,
    modified_since: true,
    map: bank_transaction,
};

/// A Microsoft JSON date, `/Date(1539993600000+0000)/` (milliseconds since the epoch, UTC).
fn ms_date(text: &str) -> std::result::Result<Option<DateTime<Utc>>, String> {
    let inner = text.trim().strip_prefix("/Date(").and_then(|t| t.strip_suffix(")/"));
    let Some(inner) = inner else {
        // Some fields come as ISO strings instead.
        return integration_core::decode::parse_time(text);
    };
    let digits = inner.find(['+', '-']).filter(|&i| i > 0).map_or(inner, |i| &inner[..i]);
    let ms: i64 = digits.parse().map_err(|_| format!("{text:?} is not a /Date(ms)/ date"))?;
    DateTime::from_timestamp_millis(ms).map(Some).ok_or_else(|| format!("{text:?} is out of range"))
}

/// The time at `path`, a Microsoft JSON date.
pub(super) fn time(r: &Fields, path: &str) -> Result<Option<DateTime<Utc>>> {
    r.parse(path, ms_date)
}

fn day(r: &Fields, path: &str) -> Result<Option<NaiveDate>> {
    Ok(time(r, path)?.map(|t| t.date_naive()))
}

fn status_of(text: Option<String>) -> Option<RecordStatus> {
    text.map(|s| if s == "DELETED" { RecordStatus::Archived } else { RecordStatus::parse(&s) })
}

/// The envelope of a Xero record: its id, `UpdatedDateUTC` as the change time, the raw JSON.
pub(super) fn remote<T>(r: &Fields, id_field: &str, fields: T) -> Result<Remote<T>> {
    Ok(Remote::new(r.id(id_field)?, fields).with_remote_data(r.raw().clone()).modified(time(r, "UpdatedDateUTC")?))
}

/// A record Xero marks `DELETED`: a tombstone.
pub(super) fn deleted(r: &Fields) -> Result<bool> {
    Ok(r.text("Status")?.as_deref() == Some("DELETED"))
}

fn account(r: &Fields, _: Currency) -> Result<Option<Account>> {
    Ok(Some(Account {
        name: r.required_text("Name")?,
        number: r.text("Code")?,
        description: r.text("Description")?,
        classification: r.text("Class")?.map(|c| AccountClassification::parse(&c)),
        account_type: r.text("Type")?,
        parent_id: None,
        status: status_of(r.text("Status")?),
        current_balance: None,
        currency: r.currency("CurrencyCode")?,
    }))
}

fn contact(r: &Fields, _: Currency) -> Result<Option<Contact>> {
    let phone = r.first_of("Phones", |p| {
        if p.text("PhoneType")?.as_deref() == Some("DEFAULT") { p.text("PhoneNumber") } else { Ok(None) }
    })?;
    Ok(Some(Contact {
        name: r.required_text("Name")?,
        company_name: None,
        email: r.text("EmailAddress")?,
        phone,
        is_customer: r.flag("IsCustomer")?.unwrap_or(false),
        is_supplier: r.flag("IsSupplier")?.unwrap_or(false),
        status: status_of(r.text("ContactStatus")?),
        currency: r.currency("DefaultCurrency")?,
        balance: r.decimal("Balances.AccountsReceivable.Outstanding")?,
        version: r.text("UpdatedDateUTC")?,
    }))
}

fn item(r: &Fields, _: Currency) -> Result<Option<Item>> {
    Ok(Some(Item {
        name: r.text("Name")?.unwrap_or(r.required_text("Code")?),
        code: r.text("Code")?,
        description: r.text("Description")?,
        unit_price: r.decimal("SalesDetails.UnitPrice")?,
        purchase_cost: r.decimal("PurchaseDetails.UnitPrice")?,
        income_account_id: r.text("SalesDetails.AccountCode")?,
        expense_account_id: r.text("PurchaseDetails.AccountCode")?,
        status: None,
    }))
}

fn tax_rate(r: &Fields, _: Currency) -> Result<Option<TaxRate>> {
    Ok(Some(TaxRate {
        name: r.required_text("Name")?,
        rate: r.decimal("EffectiveRate")?.or(r.decimal("DisplayTaxRate")?),
        status: status_of(r.text("Status")?),
    }))
}

fn lines(r: &Fields, currency: Currency) -> Result<Vec<LineItem>> {
    let mut lines = Vec::new();
    for line in r.items("LineItems")? {
        let mut tracking = Vec::new();
        for option in line.items("Tracking")? {
            tracking.extend(option.optional_id("TrackingOptionID")?);
        }
        lines.push(LineItem {
            line_id: line.optional_id("LineItemID")?,
            description: line.text("Description")?,
            account_id: line.text("AccountCode")?.or(line.optional_id("AccountID")?),
            item_id: line.optional_id("Item.ItemID")?.or(line.text("ItemCode")?),
            tax_rate_id: line.text("TaxType")?,
            tracking_ids: tracking,
            quantity: line.decimal("Quantity")?,
            unit_price: line.decimal("UnitAmount")?,
            discount_percent: line.decimal("DiscountRate")?,
            amount: in_currency(line.decimal("LineAmount")?.unwrap_or_default(), currency),
            tax_amount: line.decimal("TaxAmount")?.map(|t| in_currency(t, currency)),
        });
    }
    Ok(lines)
}

fn document_status(status: &str, paid: Decimal) -> InvoiceStatus {
    match status {
        "DRAFT" => InvoiceStatus::Draft,
        "SUBMITTED" => InvoiceStatus::Submitted,
        "AUTHORISED" if paid > Decimal::ZERO => InvoiceStatus::PartiallyPaid,
        "AUTHORISED" => InvoiceStatus::Open,
        "PAID" => InvoiceStatus::Paid,
        "VOIDED" => InvoiceStatus::Void,
        other => InvoiceStatus::Other(other.to_owned()),
    }
}

fn invoice(r: &Fields, home: Currency) -> Result<Option<Invoice>> {
    if deleted(r)? {
        return Ok(None);
    }
    let currency = r.currency("CurrencyCode")?.unwrap_or(home);
    let money = |amount: Decimal| in_currency(amount, currency);
    let total = money(r.required_decimal("Total")?);
    let paid = r.decimal("AmountPaid")?.unwrap_or_default();
    let mut payments = Vec::new();
    for payment in r.items("Payments")? {
        payments.push(AppliedPayment {
            payment_id: payment.id("PaymentID")?,
            amount: payment.decimal("Amount")?.map(money),
            date: day(&payment, "Date")?,
        });
    }
    Ok(Some(Invoice {
        kind: if r.text("Type")?.as_deref() == Some("ACCPAY") { InvoiceKind::Payable } else { InvoiceKind::Receivable },
        number: r.text("InvoiceNumber")?,
        contact_id: r.optional_id("Contact.ContactID")?,
        issue_date: day(r, "Date")?,
        due_date: day(r, "DueDate")?,
        paid_date: day(r, "FullyPaidOnDate")?,
        status: document_status(&r.required_text("Status")?, paid),
        currency,
        exchange_rate: r.decimal("CurrencyRate")?,
        lines: lines(r, currency)?,
        subtotal: r.decimal("SubTotal")?.map(money),
        tax_total: r.decimal("TotalTax")?.map(money),
        total,
        balance: r.decimal("AmountDue")?.map_or(total, money),
        payments,
        reference: r.text("Reference")?,
        memo: None,
        version: r.text("UpdatedDateUTC")?,
    }))
}

fn credit_note(r: &Fields, home: Currency) -> Result<Option<CreditNote>> {
    if deleted(r)? {
        return Ok(None);
    }
    let currency = r.currency("CurrencyCode")?.unwrap_or(home);
    let payable = r.text("Type")?.as_deref() == Some("ACCPAYCREDIT");
    Ok(Some(CreditNote {
        kind: if payable { InvoiceKind::Payable } else { InvoiceKind::Receivable },
        number: r.text("CreditNoteNumber")?,
        contact_id: r.optional_id("Contact.ContactID")?,
        issue_date: day(r, "Date")?,
        status: document_status(&r.required_text("Status")?, Decimal::ZERO),
        currency,
        lines: lines(r, currency)?,
        total: in_currency(r.required_decimal("Total")?, currency),
        remaining_credit: r.decimal("RemainingCredit")?.map(|a| in_currency(a, currency)),
        version: r.text("UpdatedDateUTC")?,
    }))
}

fn payment(r: &Fields, home: Currency) -> Result<Option<Payment>> {
    if deleted(r)? {
        return Ok(None);
    }
    let currency = r.currency("Invoice.CurrencyCode")?.unwrap_or(home);
    let amount = in_currency(r.required_decimal("Amount")?, currency);
    let payable = r.text("PaymentType")?.is_some_and(|t| t.starts_with("ACCPAY") || t.starts_with("AP"));
    let applied_to =
        r.optional_id("Invoice.InvoiceID")?.map(|id| PaymentApplication::new(id, amount)).into_iter().collect();
    Ok(Some(Payment {
        kind: if payable { InvoiceKind::Payable } else { InvoiceKind::Receivable },
        contact_id: r.optional_id("Invoice.Contact.ContactID")?,
        date: day(r, "Date")?,
        amount,
        currency,
        exchange_rate: r.decimal("CurrencyRate")?,
        reference: r.text("Reference")?,
        account_id: r.optional_id("Account.AccountID")?,
        applied_to,
        unapplied_amount: None,
        status: PostingStatus::Posted,
        version: r.text("UpdatedDateUTC")?,
    }))
}

fn journal(r: &Fields, home: Currency) -> Result<Option<JournalEntry>> {
    if deleted(r)? {
        return Ok(None);
    }
    let mut lines = Vec::new();
    for line in r.items("JournalLines")? {
        let mut tracking = Vec::new();
        for option in line.items("Tracking")? {
            tracking.extend(option.optional_id("TrackingOptionID")?);
        }
        lines.push(JournalLine {
            account_id: line.text("AccountCode")?.map_or_else(|| line.id("AccountID"), Ok)?,
            description: line.text("Description")?,
            amount: in_currency(line.required_decimal("LineAmount")?, home),
            currency: None,
            tracking_ids: tracking,
        });
    }
    let status = match r.text("Status")?.as_deref() {
        Some("DRAFT") => PostingStatus::Draft,
        Some("VOIDED" | "ARCHIVED") => PostingStatus::Void,
        _ => PostingStatus::Posted,
    };
    Ok(Some(JournalEntry {
        number: None,
        date: day(r, "Date")?,
        memo: r.text("Narration")?,
        currency: home,
        lines,
        status,
        version: r.text("UpdatedDateUTC")?,
    }))
}

fn bank_transaction(r: &Fields, home: Currency) -> Result<Option<BankTransaction>> {
    if deleted(r)? {
        return Ok(None);
    }
    let currency = r.currency("CurrencyCode")?.unwrap_or(home);
    let spent = r.required_text("Type")?.starts_with("SPEND");
    Ok(Some(BankTransaction {
        account_id: r.optional_id("BankAccount.AccountID")?,
        direction: if spent { BankDirection::Spent } else { BankDirection::Received },
        date: day(r, "Date")?,
        amount: in_currency(r.required_decimal("Total")?, currency),
        currency,
        description: r.first_of("LineItems", |line| line.text("Description"))?,
        reference: r.text("Reference")?,
        contact_id: r.optional_id("Contact.ContactID")?,
        reconciled: r.flag("IsReconciled")?.unwrap_or(false),
        status: if r.text("Status")?.as_deref() == Some("VOIDED") {
            PostingStatus::Void
        } else {
            PostingStatus::Posted
        },
    }))
}

/// Whether `id` has a UUID's shape (an `AccountID`), rather than an account's code.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id
            .bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() })
}

/// An account reference: `AccountID` for a UUID, `Code` (or `AccountCode` on lines) otherwise.
fn account_ref(id: &str, code_key: &str) -> (String, Value) {
    if is_uuid(id) { ("AccountID".into(), Value::from(id)) } else { (code_key.into(), Value::from(id)) }
}

fn line_items(lines: &[LineInput], currency: Currency) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let at = format!("lines[{n}]");
        let mut item = json!({
            "Quantity": number(&format!("{at}.quantity"), line.quantity.unwrap_or(Decimal::ONE))?,
            "UnitAmount": number(&format!("{at}.unit_price"), line.unit_price)?,
            "LineAmount": number(&format!("{at}.amount"), line.amount(currency))?,
        });
        if let Some(description) = &line.description {
            item["Description"] = Value::from(description.clone());
        }
        if let Some(item_code) = &line.item_id {
            item["ItemCode"] = Value::from(item_code.clone());
        }
        if let Some(account) = &line.account_id {
            let (key, value) = account_ref(account, "AccountCode");
            item[key] = value;
        }
        if let Some(tax) = &line.tax_rate_id {
            item["TaxType"] = Value::from(tax.clone());
        }
        if let Some(discount) = line.discount_percent {
            item["DiscountRate"] = number(&format!("{at}.discount_percent"), discount)?;
        }
        out.push(item);
    }
    Ok(out)
}

/// The body creating `input` (authorised: it is in the books).
pub(super) fn invoice_body(input: &InvoiceInput) -> Result<Value> {
    let kind = if input.kind == InvoiceKind::Payable { "ACCPAY" } else { "ACCREC" };
    let mut invoice = json!({
        "Type": kind,
        "Contact": { "ContactID": input.contact_id },
        "LineItems": line_items(&input.lines, input.currency)?,
        "CurrencyCode": input.currency.code(),
        "Status": "AUTHORISED",
    });
    set(&mut invoice, "InvoiceNumber", input.number.clone());
    set(&mut invoice, "Reference", input.reference.clone());
    set(&mut invoice, "Date", input.issue_date.map(|d| d.to_string()));
    set(&mut invoice, "DueDate", input.due_date.map(|d| d.to_string()));
    Ok(json!({ "Invoices": [invoice] }))
}

fn set(body: &mut Value, key: &str, value: Option<String>) {
    if let Some(value) = value {
        body[key] = Value::from(value);
    }
}

/// The body updating invoice `id`.
pub(super) fn invoice_update(id: &str, update: &InvoiceUpdate, currency: Currency) -> Result<Value> {
    if update.memo.is_some() {
        return Err(Error::validation("memo", "a Xero invoice has no internal note (its reference is `reference`)"));
    }
    let mut invoice = json!({ "InvoiceID": id });
    set(&mut invoice, "DueDate", update.due_date.map(|d| d.to_string()));
    set(&mut invoice, "Reference", update.reference.clone());
    if let Some(lines) = &update.lines {
        invoice["LineItems"] = Value::Array(line_items(lines, currency)?);
    }
    Ok(json!({ "Invoices": [invoice] }))
}

/// The body creating a contact (Xero decides customer and supplier from the invoices).
pub(super) fn contact_body(input: &ContactInput) -> Value {
    let mut contact = json!({ "Name": input.name });
    set(&mut contact, "EmailAddress", input.email.clone());
    if let Some(phone) = &input.phone {
        contact["Phones"] = json!([{ "PhoneType": "DEFAULT", "PhoneNumber": phone }]);
    }
    if let Some(currency) = input.currency {
        contact["DefaultCurrency"] = Value::from(currency.code());
    }
    json!({ "Contacts": [contact] })
}

/// The body updating contact `id`.
pub(super) fn contact_update(id: &str, update: &ContactUpdate) -> Value {
    let mut contact = json!({ "ContactID": id });
    set(&mut contact, "Name", update.name.clone());
    set(&mut contact, "EmailAddress", update.email.clone());
    if let Some(phone) = &update.phone {
        contact["Phones"] = json!([{ "PhoneType": "DEFAULT", "PhoneNumber": phone }]);
    }
    json!({ "Contacts": [contact] })
}

/// The body of a payment: Xero applies one payment to one invoice, from a bank account.
pub(super) fn payment_body(input: &PaymentInput) -> Result<Value> {
    let [application] = input.applications.as_slice() else {
        return Err(Error::validation(
            "applications",
            "a Xero payment pays one invoice: record one payment per invoice",
        ));
    };
    let account = input.account_id.as_deref().ok_or_else(|| {
        Error::validation("account_id", "a Xero payment names the bank account it was paid into (an id or a code)")
    })?;
    let (key, value) = account_ref(account, "Code");
    let mut payment = json!({
        "Invoice": { "InvoiceID": application.invoice_id },
        "Account": { key: value },
        "Date": input.date.to_string(),
        "Amount": number("applications[0].amount", application.amount)?,
    });
    set(&mut payment, "Reference", input.reference.clone());
    Ok(json!({ "Payments": [payment] }))
}

/// The body of a manual journal, posted, in the organisation's base currency `home`.
pub(super) fn journal_body(entry: &JournalEntryInput, home: Currency) -> Result<Value> {
    if entry.sums().keys().any(|c| *c != home) {
        return Err(Error::validation(
            "currency",
            format!("Xero journals are in the organisation's base currency, {}", home.code()),
        ));
    }
    let mut lines = Vec::new();
    for (n, line) in entry.lines.iter().enumerate() {
        let (key, value) = account_ref(&line.account_id, "AccountCode");
        let mut rendered = json!({ "LineAmount": number(&format!("lines[{n}].amount"), line.amount)?, key: value });
        set(&mut rendered, "Description", line.description.clone());
        lines.push(rendered);
    }
    let narration = entry.memo.clone().or_else(|| entry.number.clone()).unwrap_or_else(|| "Journal entry".to_owned());
    Ok(json!({ "ManualJournals": [{
        "Narration": narration,
        "Date": entry.date.to_string(),
        "Status": "POSTED",
        "LineAmountTypes": "NoTax",
        "JournalLines": lines,
    }] }))
}

/// Xero's `400` as the error a caller branches on: a validation exception's first message;
/// a name already taken is a `Conflict`.
pub(super) fn classify(error: Error) -> Error {
    if error.status() != Some(400) {
        return error;
    }
    let Some(body) = error.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) else { return error };
    let detail = body
        .pointer("/Elements/0/ValidationErrors/0/Message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let kind = if detail.contains("already assigned") || detail.contains("must be unique") {
        ErrorKind::Conflict
    } else {
        ErrorKind::Validation
    };
    let code = body.get("Type").and_then(Value::as_str).unwrap_or("ValidationException").to_owned();
    let mut classified = Error::new(kind, detail).with_status(400).with_code(code).with_provider(super::PROVIDER);
    if let Some(operation) = error.operation() {
        classified = classified.with_operation(operation.to_owned());
    }
    classified
}
