//! QuickBooks Online's JSON (API v3, minor version 75) and how it maps onto the common model,
//! both ways: entities read into [`Remote`] records, inputs written as request bodies.

use integration_core::decode::Fields;
use integration_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value, json};

use crate::prelude::*;
use crate::write::json_number as number;

/// A QuickBooks entity one stream reads: its name in queries, its resource in URLs, the
/// prefix its ids carry in our `remote_id`s (entities of one stream share no id space), and
/// whether it is a name list (queried active only unless asked).
#[derive(Debug)]
pub(super) struct Kind<T> {
    pub(super) entity: &'static str,
    pub(super) resource: &'static str,
    pub(super) prefix: &'static str,
    pub(super) name_list: bool,
    pub(super) map: fn(&Fields, &Ctx) -> Result<T>,
}

/// What mapping needs beyond the record: the company's home currency, for a record that
/// names none.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ctx {
    pub(super) home: Currency,
}

macro_rules! kind {
    ($entity:literal, $resource:literal, $prefix:literal, $list:literal, $map:path) => {
        Kind { entity: $entity, resource: $resource, prefix: $prefix, name_list: $list, map: $map }
    };
}

pub(super) const ACCOUNTS: &[Kind<Account>] = &[kind!("Account", "account", "", true, account)];
pub(super) const CONTACTS: &[Kind<Contact>] =
    &[kind!("Customer", "customer", "", true, customer), kind!("Vendor", "vendor", "vendor:", true, vendor)];
pub(super) const INVOICES: &[Kind<Invoice>] =
    &[kind!("Invoice", "invoice", "", false, invoice), kind!("Bill", "bill", "bill:", false, bill)];
pub(super) const ITEMS: &[Kind<Item>] = &[kind!("Item", "item", "", true, item)];
pub(super) const TAX_RATES: &[Kind<TaxRate>] = &[kind!("TaxRate", "taxrate", "", false, tax_rate)];
pub(super) const TRACKING: &[Kind<TrackingCategory>] =
    &[kind!("Class", "class", "", true, tracking), kind!("Department", "department", "department:", true, tracking)];
pub(super) const CREDIT_NOTES: &[Kind<CreditNote>] = &[kind!("CreditMemo", "creditmemo", "", false, credit_memo)];
pub(super) const PAYMENTS: &[Kind<Payment>] = &[kind!("Payment", "payment", "", false, payment)];
pub(super) const JOURNAL_ENTRIES: &[Kind<JournalEntry>] =
    &[kind!("JournalEntry", "journalentry", "", false, journal_entry)];
pub(super) const BANK_TRANSACTIONS: &[Kind<BankTransaction>] = &[
    kind!("Deposit", "deposit", "deposit:", false, deposit),
    kind!("Purchase", "purchase", "purchase:", false, purchase),
];

/// The id of a `{"value": "<Id>"}` reference at `path`, with `prefix`.
fn reference(r: &Fields, path: &str, prefix: &str) -> Result<Option<String>> {
    Ok(r.optional_id(&format!("{path}.value"))?.map(|id| format!("{prefix}{id}")))
}

fn status(r: &Fields) -> Result<Option<RecordStatus>> {
    Ok(r.flag("Active")?.map(|active| if active { RecordStatus::Active } else { RecordStatus::Archived }))
}

fn currency(r: &Fields, ctx: &Ctx) -> Result<Currency> {
    Ok(r.currency("CurrencyRef.value")?.unwrap_or(ctx.home))
}

/// The envelope: `prefix` + `Id`, `MetaData`'s times, the raw JSON kept by the caller.
pub(super) fn remote<T>(r: &Fields, prefix: &str, fields: T) -> Result<Remote<T>> {
    let id = format!("{prefix}{}", r.id("Id")?);
    let remote = Remote::new(id, fields).with_remote_data(r.raw().clone());
    Ok(remote.created(r.time("MetaData.CreateTime")?).modified(r.time("MetaData.LastUpdatedTime")?))
}

fn account(r: &Fields, _: &Ctx) -> Result<Account> {
    Ok(Account {
        name: r.required_text("Name")?,
        number: r.text("AcctNum")?,
        description: r.text("Description")?,
        classification: r.text("Classification")?.map(|c| AccountClassification::parse(&c)),
        account_type: r.text("AccountType")?,
        parent_id: reference(r, "ParentRef", "")?,
        status: status(r)?,
        current_balance: r.decimal("CurrentBalance")?,
        currency: r.currency("CurrencyRef.value")?,
    })
}

fn party(r: &Fields, customer: bool) -> Result<Contact> {
    Ok(Contact {
        name: r.required_text("DisplayName")?,
        company_name: r.text("CompanyName")?,
        email: r.text("PrimaryEmailAddr.Address")?,
        phone: r.text("PrimaryPhone.FreeFormNumber")?,
        is_customer: customer,
        is_supplier: !customer,
        status: status(r)?,
        currency: r.currency("CurrencyRef.value")?,
        balance: r.decimal("Balance")?,
        version: r.optional_id("SyncToken")?,
    })
}

fn customer(r: &Fields, _: &Ctx) -> Result<Contact> {
    party(r, true)
}

fn vendor(r: &Fields, _: &Ctx) -> Result<Contact> {
    party(r, false)
}

fn item(r: &Fields, _: &Ctx) -> Result<Item> {
    Ok(Item {
        name: r.required_text("Name")?,
        code: r.text("Sku")?,
        description: r.text("Description")?,
        unit_price: r.decimal("UnitPrice")?,
        purchase_cost: r.decimal("PurchaseCost")?,
        income_account_id: reference(r, "IncomeAccountRef", "")?,
        expense_account_id: reference(r, "ExpenseAccountRef", "")?,
        status: status(r)?,
    })
}

fn tax_rate(r: &Fields, _: &Ctx) -> Result<TaxRate> {
    Ok(TaxRate { name: r.required_text("Name")?, rate: r.decimal("RateValue")?, status: status(r)? })
}

fn tracking(r: &Fields, _: &Ctx) -> Result<TrackingCategory> {
    Ok(TrackingCategory {
        name: r.required_text("Name")?,
        parent_id: reference(r, "ParentRef", "")?,
        status: status(r)?,
    })
}

/// The lines of a sales or purchase document: item and account lines, and discounts (as a
/// negative line); the subtotal line QuickBooks appends is the document's subtotal instead.
fn lines(r: &Fields, currency: Currency) -> Result<(Vec<LineItem>, Option<Decimal>)> {
    let (mut lines, mut subtotal) = (Vec::new(), None);
    for line in r.items("Line")? {
        let detail_type = line.text("DetailType")?.unwrap_or_default();
        if detail_type == "SubTotalLineDetail" {
            subtotal = line.decimal("Amount")?;
            continue;
        }
        let detail = line.at(&detail_type);
        let amount = in_currency(line.required_decimal("Amount")?, currency);
        let discount = detail_type == "DiscountLineDetail";
        let account = if discount { "DiscountAccountRef" } else { "AccountRef" };
        lines.push(LineItem {
            line_id: line.optional_id("Id")?,
            description: line.text("Description")?,
            account_id: reference(&detail, account, "")?.or(reference(&detail, "ItemAccountRef", "")?),
            item_id: reference(&detail, "ItemRef", "")?,
            tax_rate_id: reference(&detail, "TaxCodeRef", "")?,
            tracking_ids: reference(&detail, "ClassRef", "")?.into_iter().collect(),
            quantity: detail.decimal("Qty")?,
            unit_price: detail.decimal("UnitPrice")?,
            discount_percent: if discount { detail.decimal("DiscountPercent")? } else { None },
            amount: if discount { -amount } else { amount },
            tax_amount: None,
        });
    }
    Ok((lines, subtotal))
}

/// Whether a document was voided: QuickBooks keeps it with every amount zero and "Voided" at
/// the start of its private note.
fn voided(r: &Fields, total: Decimal) -> Result<bool> {
    Ok(total.is_zero() && r.text("PrivateNote")?.is_some_and(|n| n.starts_with("Voided")))
}

/// QuickBooks has no invoice status: it follows from the balance, the total and a void.
fn document_status(r: &Fields, total: Decimal, balance: Decimal) -> Result<InvoiceStatus> {
    Ok(if voided(r, total)? {
        InvoiceStatus::Void
    } else if balance.is_zero() && !total.is_zero() {
        InvoiceStatus::Paid
    } else if balance < total && !balance.is_zero() {
        InvoiceStatus::PartiallyPaid
    } else {
        InvoiceStatus::Open
    })
}

fn document(r: &Fields, ctx: &Ctx, kind: InvoiceKind, party: (&str, &str)) -> Result<Invoice> {
    let currency = currency(r, ctx)?;
    let money = |amount: Decimal| in_currency(amount, currency);
    let (lines, subtotal) = lines(r, currency)?;
    let total = money(r.required_decimal("TotalAmt")?);
    let balance = r.decimal("Balance")?.map_or(total, money);
    let mut payments = Vec::new();
    for linked in r.items("LinkedTxn")? {
        let kind = linked.text("TxnType")?.unwrap_or_default();
        if matches!(kind.as_str(), "Payment" | "BillPaymentCheck" | "BillPaymentCreditCard") {
            payments.push(AppliedPayment { payment_id: linked.id("TxnId")?, amount: None, date: None });
        }
    }
    Ok(Invoice {
        kind,
        number: r.text("DocNumber")?,
        contact_id: reference(r, party.0, party.1)?,
        issue_date: r.date("TxnDate")?,
        due_date: r.date("DueDate")?,
        paid_date: None,
        status: document_status(r, total, balance)?,
        currency,
        exchange_rate: r.decimal("ExchangeRate")?,
        lines,
        subtotal: subtotal.map(money),
        tax_total: r.decimal("TxnTaxDetail.TotalTax")?.map(money),
        total,
        balance,
        payments,
        reference: None,
        memo: r.text("PrivateNote")?,
        version: r.optional_id("SyncToken")?,
    })
}

fn invoice(r: &Fields, ctx: &Ctx) -> Result<Invoice> {
    document(r, ctx, InvoiceKind::Receivable, ("CustomerRef", ""))
}

fn bill(r: &Fields, ctx: &Ctx) -> Result<Invoice> {
    document(r, ctx, InvoiceKind::Payable, ("VendorRef", "vendor:"))
}

fn credit_memo(r: &Fields, ctx: &Ctx) -> Result<CreditNote> {
    let currency = currency(r, ctx)?;
    let total = in_currency(r.required_decimal("TotalAmt")?, currency);
    let remaining_credit = r.decimal("RemainingCredit")?.map(|a| in_currency(a, currency));
    let status = if voided(r, total)? {
        InvoiceStatus::Void
    } else if remaining_credit.is_some_and(|left| left.is_zero()) {
        InvoiceStatus::Paid
    } else {
        InvoiceStatus::Open
    };
    Ok(CreditNote {
        kind: InvoiceKind::Receivable,
        number: r.text("DocNumber")?,
        contact_id: reference(r, "CustomerRef", "")?,
        issue_date: r.date("TxnDate")?,
        status,
        currency,
        lines: lines(r, currency)?.0,
        total,
        remaining_credit,
        version: r.optional_id("SyncToken")?,
    })
}

fn payment(r: &Fields, ctx: &Ctx) -> Result<Payment> {
    let currency = currency(r, ctx)?;
    let amount = in_currency(r.required_decimal("TotalAmt")?, currency);
    let mut applied_to = Vec::new();
    for line in r.items("Line")? {
        let applied = in_currency(line.required_decimal("Amount")?, currency);
        for linked in line.items("LinkedTxn")? {
            if linked.text("TxnType")?.as_deref() == Some("Invoice") {
                applied_to.push(PaymentApplication::new(linked.id("TxnId")?, applied));
            }
        }
    }
    Ok(Payment {
        kind: InvoiceKind::Receivable,
        contact_id: reference(r, "CustomerRef", "")?,
        date: r.date("TxnDate")?,
        amount,
        currency,
        exchange_rate: r.decimal("ExchangeRate")?,
        reference: r.text("PaymentRefNum")?,
        account_id: reference(r, "DepositToAccountRef", "")?,
        applied_to,
        unapplied_amount: r.decimal("UnappliedAmt")?.map(|a| in_currency(a, currency)),
        status: if voided(r, amount)? { PostingStatus::Void } else { PostingStatus::Posted },
        version: r.optional_id("SyncToken")?,
    })
}

fn journal_entry(r: &Fields, ctx: &Ctx) -> Result<JournalEntry> {
    let currency = currency(r, ctx)?;
    let mut lines = Vec::new();
    for line in r.items("Line")? {
        let detail = line.at("JournalEntryLineDetail");
        let amount = in_currency(line.required_decimal("Amount")?, currency);
        let amount = match detail.required_text("PostingType")?.as_str() {
            "Debit" => amount,
            "Credit" => -amount,
            other => {
                return Err(Error::validation(
                    format!("{}.PostingType", detail.path()),
                    format!("expected Debit or Credit, found {other:?}"),
                ));
            }
        };
        lines.push(JournalLine {
            account_id: detail.id("AccountRef.value")?,
            description: line.text("Description")?,
            amount,
            currency: None,
            tracking_ids: reference(&detail, "ClassRef", "")?.into_iter().collect(),
        });
    }
    Ok(JournalEntry {
        number: r.text("DocNumber")?,
        date: r.date("TxnDate")?,
        memo: r.text("PrivateNote")?,
        currency,
        lines,
        status: PostingStatus::Posted,
        version: r.optional_id("SyncToken")?,
    })
}

fn deposit(r: &Fields, ctx: &Ctx) -> Result<BankTransaction> {
    let currency = currency(r, ctx)?;
    Ok(BankTransaction {
        account_id: reference(r, "DepositToAccountRef", "")?,
        direction: BankDirection::Received,
        date: r.date("TxnDate")?,
        amount: in_currency(r.required_decimal("TotalAmt")?, currency),
        currency,
        description: r.text("PrivateNote")?,
        reference: r.text("DocNumber")?,
        contact_id: None,
        reconciled: false,
        status: PostingStatus::Posted,
    })
}

fn purchase(r: &Fields, ctx: &Ctx) -> Result<BankTransaction> {
    let currency = currency(r, ctx)?;
    let prefix = if r.text("EntityRef.type")?.as_deref() == Some("Vendor") { "vendor:" } else { "" };
    Ok(BankTransaction {
        account_id: reference(r, "AccountRef", "")?,
        // `Credit: true` is a credit card refund: money back in.
        direction: if r.flag("Credit")?.unwrap_or(false) { BankDirection::Received } else { BankDirection::Spent },
        date: r.date("TxnDate")?,
        amount: in_currency(r.required_decimal("TotalAmt")?, currency),
        currency,
        description: r.text("PrivateNote")?,
        reference: r.text("DocNumber")?,
        contact_id: reference(r, "EntityRef", prefix)?,
        reconciled: false,
        status: PostingStatus::Posted,
    })
}

/// A `{"value": id}` reference to entity `id` (a prefix of ours removed).
fn to_ref(id: &str, prefix: &str) -> Value {
    json!({ "value": id.strip_prefix(prefix).unwrap_or(id) })
}

/// The body creating `input`: an `Invoice` (receivable) or a `Bill` (payable).
pub(super) fn invoice_body(input: &InvoiceInput) -> Result<(&'static str, Value)> {
    let payable = input.kind == InvoiceKind::Payable;
    let mut lines = Vec::new();
    for (n, line) in input.lines.iter().enumerate() {
        let at = format!("lines[{n}]");
        let amount = number(&format!("{at}.amount"), line.amount(input.currency))?;
        let mut detail = Map::new();
        if let Some(quantity) = line.quantity {
            detail.insert("Qty".into(), number(&format!("{at}.quantity"), quantity)?);
        }
        detail.insert("UnitPrice".into(), number(&format!("{at}.unit_price"), line.unit_price)?);
        if let Some(tax) = &line.tax_rate_id {
            detail.insert("TaxCodeRef".into(), to_ref(tax, ""));
        }
        let detail_type = match (&line.item_id, &line.account_id, payable) {
            (Some(item), _, _) => {
                detail.insert("ItemRef".into(), to_ref(item, ""));
                if payable { "ItemBasedExpenseLineDetail" } else { "SalesItemLineDetail" }
            }
            (None, Some(account), true) => {
                detail.insert("AccountRef".into(), to_ref(account, ""));
                detail.remove("Qty");
                detail.remove("UnitPrice");
                "AccountBasedExpenseLineDetail"
            }
            _ => {
                return Err(Error::validation(
                    format!("{at}.item_id"),
                    "a QuickBooks sales line names an item (an account alone is for bills)",
                ));
            }
        };
        let mut rendered = json!({"DetailType": detail_type, "Amount": amount, detail_type: Value::Object(detail)});
        if let Some(description) = &line.description {
            rendered["Description"] = Value::from(description.clone());
        }
        lines.push(rendered);
    }
    let mut body = json!({ "Line": lines, "CurrencyRef": { "value": input.currency.code() } });
    if payable {
        body["VendorRef"] = to_ref(&input.contact_id, "vendor:");
    } else {
        body["CustomerRef"] = to_ref(&input.contact_id, "");
    }
    set_text(&mut body, "DocNumber", input.number.as_deref());
    set_text(&mut body, "TxnDate", input.issue_date.map(|d| d.to_string()).as_deref());
    set_text(&mut body, "DueDate", input.due_date.map(|d| d.to_string()).as_deref());
    set_text(&mut body, "PrivateNote", input.memo.as_deref());
    Ok((if payable { "Bill" } else { "Invoice" }, body))
}

fn set_text(body: &mut Value, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body[key] = Value::from(value);
    }
}

/// The sparse update body of `update` on entity `id`.
pub(super) fn invoice_update(id: &str, update: &InvoiceUpdate, kind: InvoiceKind, currency: Currency) -> Result<Value> {
    let mut body = json!({ "Id": id, "SyncToken": update.version, "sparse": true });
    set_text(&mut body, "DueDate", update.due_date.map(|d| d.to_string()).as_deref());
    set_text(&mut body, "PrivateNote", update.memo.as_deref());
    if let Some(lines) = &update.lines {
        let mut input = InvoiceInput::new("-", currency, lines.clone());
        input.kind = kind;
        body["Line"] = invoice_body(&input)?.1["Line"].clone();
    }
    Ok(body)
}

/// The body creating a customer (or a vendor).
pub(super) fn contact_body(input: &ContactInput) -> Value {
    let mut body = json!({ "DisplayName": input.name });
    set_text(&mut body, "CompanyName", input.company_name.as_deref());
    if let Some(email) = &input.email {
        body["PrimaryEmailAddr"] = json!({ "Address": email });
    }
    if let Some(phone) = &input.phone {
        body["PrimaryPhone"] = json!({ "FreeFormNumber": phone });
    }
    if let Some(currency) = input.currency {
        body["CurrencyRef"] = json!({ "value": currency.code() });
    }
    body
}

/// The sparse update body of a contact.
pub(super) fn contact_update(id: &str, update: &ContactUpdate) -> Value {
    let mut body = json!({ "Id": id, "SyncToken": update.version, "sparse": true });
    set_text(&mut body, "DisplayName", update.name.as_deref());
    set_text(&mut body, "CompanyName", update.company_name.as_deref());
    if let Some(email) = &update.email {
        body["PrimaryEmailAddr"] = json!({ "Address": email });
    }
    if let Some(phone) = &update.phone {
        body["PrimaryPhone"] = json!({ "FreeFormNumber": phone });
    }
    body
}

/// The body of a payment received against invoices.
pub(super) fn payment_body(input: &PaymentInput) -> Result<Value> {
    let mut lines = Vec::new();
    for (n, application) in input.applications.iter().enumerate() {
        let amount = number(&format!("applications[{n}].amount"), application.amount)?;
        lines.push(json!({"Amount": amount, "LinkedTxn": [{"TxnId": application.invoice_id, "TxnType": "Invoice"}]}));
    }
    let mut body = json!({
        "CustomerRef": to_ref(&input.contact_id, ""),
        "TotalAmt": number("amount", input.amount)?,
        "TxnDate": input.date.to_string(),
        "CurrencyRef": { "value": input.currency.code() },
        "Line": lines,
    });
    set_text(&mut body, "PaymentRefNum", input.reference.as_deref());
    if let Some(account) = &input.account_id {
        body["DepositToAccountRef"] = to_ref(account, "");
    }
    Ok(body)
}

/// The body of a journal entry (one currency: QuickBooks keeps one per entry).
pub(super) fn journal_body(entry: &JournalEntryInput) -> Result<Value> {
    if entry.sums().len() > 1 {
        return Err(Error::validation("lines", "a QuickBooks journal entry is in one currency"));
    }
    let mut lines = Vec::new();
    for (n, line) in entry.lines.iter().enumerate() {
        let posting = if line.amount.is_sign_negative() { "Credit" } else { "Debit" };
        let mut rendered = json!({
            "Amount": number(&format!("lines[{n}].amount"), line.amount.abs())?,
            "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": { "PostingType": posting, "AccountRef": to_ref(&line.account_id, "") },
        });
        set_text(&mut rendered, "Description", line.description.as_deref());
        lines.push(rendered);
    }
    let mut body = json!({
        "TxnDate": entry.date.to_string(),
        "CurrencyRef": { "value": entry.currency.code() },
        "Line": lines,
    });
    set_text(&mut body, "DocNumber", entry.number.as_deref());
    set_text(&mut body, "PrivateNote", entry.memo.as_deref());
    Ok(body)
}

/// QuickBooks' answer to a refused write or read as the error a caller branches on: its fault
/// code decides the kind (`5010` stale `SyncToken` → `Conflict`, `610` → `NotFound`, `6240`
/// duplicate name → `Conflict`, validation codes → `Validation`), its `Detail` the message.
pub(super) fn classify(error: Error) -> Error {
    if error.status() != Some(400) {
        return error;
    }
    let Some(fault) = error.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) else { return error };
    let first = fault.pointer("/Fault/Error/0").cloned().unwrap_or_default();
    let text = |key: &str| first.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (code, detail) = (text("code"), text("Detail"));
    let message = if detail.is_empty() { text("Message") } else { detail };
    let kind = match code.as_str() {
        "5010" | "6240" | "6140" => ErrorKind::Conflict,
        "610" => ErrorKind::NotFound,
        "2010" | "2020" | "2050" | "2170" | "2500" | "6000" | "4000" | "4001" => ErrorKind::Validation,
        _ => return error,
    };
    let mut classified = Error::new(kind, message).with_status(400).with_code(code).with_provider(super::PROVIDER);
    if let Some(operation) = error.operation() {
        classified = classified.with_operation(operation.to_owned());
    }
    classified
}
