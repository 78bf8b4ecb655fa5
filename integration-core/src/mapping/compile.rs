//! [`Mapper`]: [`Mappings`] checked and compiled, applied to records.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};
use regex::{Regex, RegexBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Check, MAX_ENTRIES, Mappings, Transform, transform};
use crate::descriptor::Descriptor;
use crate::domain::{Listing, Remote};
use crate::error::{Error, Result};
use crate::integration::{Page, Record, RejectedRecord, WebhookOutcome};

/// The longest regular expression, JSON pointer and dotted path accepted.
const MAX_PATTERN: usize = 1024;
const MAX_POINTER: usize = 512;
const MAX_PATH: usize = 256;
/// The most transforms on one mapping, entries in one lookup table, values in one `one_of`.
const MAX_TRANSFORMS: usize = 16;
const MAX_TABLE: usize = 10_000;
const MAX_VALUES: usize = 1_000;
/// What a compiled regular expression may take.
const REGEX_SIZE: usize = 1 << 20;

#[derive(Debug, Clone)]
struct Field {
    source: String,
    /// The pointer's tokens, unescaped once (`~1` → `/`, `~0` → `~`).
    tokens: Vec<String>,
    target: String,
    /// `custom_fields.<target>`, as errors name it.
    path: String,
    transforms: Vec<Transform>,
}

/// The value `tokens` point at in `raw` (RFC 6901, array items by index).
fn at<'v>(raw: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(raw, |at, token| match at {
        Value::Object(map) => map.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Number(f64),
    Date(NaiveDate),
}

#[derive(Debug, Clone)]
enum Compiled {
    Required,
    Pattern(Regex),
    Range(Option<Bound>, Option<Bound>),
    OneOf(Vec<Value>),
}

#[derive(Debug, Clone)]
struct CompiledRule {
    field: String,
    path: Vec<String>,
    name: &'static str,
    check: Compiled,
}

#[derive(Debug, Clone, Default)]
struct Plan {
    fields: Vec<Field>,
    rules: Vec<CompiledRule>,
}

/// [`Mappings`] checked and ready to apply; cheap to share.
#[derive(Debug, Clone, Default)]
pub struct Mapper {
    plans: BTreeMap<String, Plan>,
}

fn refuse(field: String, message: impl Into<String>) -> Error {
    Error::config(message.into()).with_field(field)
}

fn check_stream(stream: &str, at: &str, descriptor: Option<&Descriptor>) -> Result<()> {
    if stream.is_empty() {
        return Err(refuse(format!("{at}.stream"), "name the stream the entry applies to"));
    }
    if let Some(descriptor) = descriptor
        && descriptor.stream(stream).is_none()
    {
        let known: Vec<&str> = descriptor.streams.iter().map(|s| s.name.as_str()).collect();
        let message = format!("{} has no stream {stream:?}; it has {}", descriptor.provider, known.join(", "));
        return Err(refuse(format!("{at}.stream"), message));
    }
    Ok(())
}

fn check_format(format: &str, field: String) -> Result<()> {
    if format.is_empty() || format.len() > 64 || StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(refuse(field, format!("{format:?} is not a chrono date format (like \"%d/%m/%Y\")")));
    }
    Ok(())
}

/// A format to write must write a date, or a date and time: not an offset or a zone, which the
/// values read never have.
fn check_output(format: &str, field: String) -> Result<()> {
    check_format(format, field.clone())?;
    let sample = NaiveDate::from_ymd_opt(2026, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 58));
    match sample.map(|at| transform::written(at.format(format), format)) {
        Some(Ok(_)) => Ok(()),
        _ => Err(refuse(field, format!("{format:?} asks for what a date and time do not have (an offset, a zone)"))),
    }
}

fn bound(value: &Value, field: String) -> Result<Bound> {
    let date = value.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    match (value.as_f64(), date) {
        (Some(n), _) if n.is_finite() => Ok(Bound::Number(n)),
        (_, Some(d)) => Ok(Bound::Date(d)),
        _ => Err(refuse(field, "a bound is a number or a date written YYYY-MM-DD")),
    }
}

fn compile_check(check: &Check, at: &str) -> Result<Compiled> {
    Ok(match check {
        Check::Required => Compiled::Required,
        Check::Pattern { regex } => {
            if regex.len() > MAX_PATTERN {
                return Err(refuse(format!("{at}.regex"), format!("at most {MAX_PATTERN} characters")));
            }
            let compiled = RegexBuilder::new(regex).size_limit(REGEX_SIZE).dfa_size_limit(REGEX_SIZE).build();
            Compiled::Pattern(
                compiled.map_err(|e| refuse(format!("{at}.regex"), format!("not a regular expression: {e}")))?,
            )
        }
        Check::Range { min, max } => {
            let min = min.as_ref().map(|v| bound(v, format!("{at}.min"))).transpose()?;
            let max = max.as_ref().map(|v| bound(v, format!("{at}.max"))).transpose()?;
            match (min, max) {
                (None, None) => return Err(refuse(format!("{at}.min"), "a range needs a min, a max or both")),
                (Some(Bound::Number(a)), Some(Bound::Number(b))) if a > b => {
                    return Err(refuse(format!("{at}.max"), "max is below min"));
                }
                (Some(Bound::Date(a)), Some(Bound::Date(b))) if a > b => {
                    return Err(refuse(format!("{at}.max"), "max is before min"));
                }
                (Some(Bound::Number(_)), Some(Bound::Date(_))) | (Some(Bound::Date(_)), Some(Bound::Number(_))) => {
                    return Err(refuse(format!("{at}.max"), "min and max are both numbers or both dates"));
                }
                _ => {}
            }
            Compiled::Range(min, max)
        }
        Check::OneOf { values } => {
            if values.is_empty() || values.len() > MAX_VALUES {
                return Err(refuse(format!("{at}.values"), format!("between 1 and {MAX_VALUES} values")));
            }
            Compiled::OneOf(values.clone())
        }
    })
}

fn is_name(target: &str) -> bool {
    let mut chars = target.chars();
    target.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Mapper {
    /// Checks `mappings` and compiles them. With the adapter's `descriptor`, every stream named
    /// must be one of its streams.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error naming the entry's field
    /// (`mappings.fields[2].source`, `mappings.rules[0].check.regex`) and what is wrong with it.
    pub fn compile(mappings: &Mappings, descriptor: Option<&Descriptor>) -> Result<Self> {
        if mappings.fields.len() > MAX_ENTRIES || mappings.rules.len() > MAX_ENTRIES {
            let field = if mappings.fields.len() > MAX_ENTRIES { "mappings.fields" } else { "mappings.rules" };
            return Err(refuse(field.to_owned(), format!("at most {MAX_ENTRIES} entries")));
        }
        let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
        let mut targets = BTreeSet::new();
        for (i, mapping) in mappings.fields.iter().enumerate() {
            let at = format!("mappings.fields[{i}]");
            check_stream(&mapping.stream, &at, descriptor)?;
            let pointer_ok = mapping.source.is_empty() || mapping.source.starts_with('/');
            if !pointer_ok || mapping.source.len() > MAX_POINTER {
                let message = "a JSON pointer into the provider's record, like \"/customFields/4021\"";
                return Err(refuse(format!("{at}.source"), message));
            }
            if !is_name(&mapping.target) {
                let message =
                    "a custom field's name: lowercase letters, digits and _, at most 64, not starting with a digit";
                return Err(refuse(format!("{at}.target"), message));
            }
            if !targets.insert((mapping.stream.as_str(), mapping.target.as_str())) {
                return Err(refuse(format!("{at}.target"), format!("{:?} is mapped twice", mapping.target)));
            }
            if mapping.transforms.len() > MAX_TRANSFORMS {
                return Err(refuse(format!("{at}.transforms"), format!("at most {MAX_TRANSFORMS} transforms")));
            }
            for (t, step) in mapping.transforms.iter().enumerate() {
                match step {
                    Transform::Date { from, to } => {
                        check_format(from, format!("{at}.transforms[{t}].from"))?;
                        check_output(to, format!("{at}.transforms[{t}].to"))?;
                    }
                    Transform::Lookup { table, .. } if table.len() > MAX_TABLE => {
                        return Err(refuse(
                            format!("{at}.transforms[{t}].table"),
                            format!("at most {MAX_TABLE} entries"),
                        ));
                    }
                    _ => {}
                }
            }
            let tokens = mapping.source.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
            let field = Field {
                source: mapping.source.clone(),
                tokens,
                target: mapping.target.clone(),
                path: format!("custom_fields.{}", mapping.target),
                transforms: mapping.transforms.clone(),
            };
            plans.entry(mapping.stream.clone()).or_default().fields.push(field);
        }
        for (j, rule) in mappings.rules.iter().enumerate() {
            let at = format!("mappings.rules[{j}]");
            check_stream(&rule.stream, &at, descriptor)?;
            let path: Vec<String> = rule.field.split('.').map(str::to_owned).collect();
            if rule.field.len() > MAX_PATH || path.iter().any(String::is_empty) {
                let message = "a dotted path into the record, like \"work_email\" or \"custom_fields.shirt_size\"";
                return Err(refuse(format!("{at}.field"), message));
            }
            let check = compile_check(&rule.check, &format!("{at}.check"))?;
            let compiled = CompiledRule { field: rule.field.clone(), path, name: rule.check.name(), check };
            plans.entry(rule.stream.clone()).or_default().rules.push(compiled);
        }
        Ok(Self { plans })
    }

    /// Whether nothing is mapped or checked.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// Applies the mappings and rules of `stream` to one record's common-model JSON (`data`),
    /// reading sources from the provider's `raw` record: mapped values land in
    /// `data.custom_fields`.
    ///
    /// # Errors
    /// A [`Validation`](crate::ErrorKind::Validation) error naming the field, and the rule it
    /// breaks or why its mapping failed.
    pub fn apply(&self, stream: &str, data: &mut Value, raw: Option<&Value>) -> Result<()> {
        let Some(plan) = self.plans.get(stream) else { return Ok(()) };
        for field in &plan.fields {
            let mut value = raw.and_then(|r| at(r, &field.tokens)).cloned().unwrap_or(Value::Null);
            for step in &field.transforms {
                value = transform::apply(step, value).map_err(|why| {
                    Error::validation(&field.path, format!("the mapping from {:?} failed: {why}", field.source))
                })?;
            }
            if value.is_null() {
                continue;
            }
            let Value::Object(record) = data else {
                return Err(Error::validation("record", "the record is not a JSON object"));
            };
            let custom = record.entry("custom_fields").or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(custom) = custom {
                custom.insert(field.target.clone(), value);
            }
        }
        for rule in &plan.rules {
            let value = at(data, &rule.path);
            if let Err(why) = keeps(&rule.check, value.unwrap_or(&Value::Null)) {
                return Err(Error::validation(&rule.field, format!("breaks the rule {}: {why}", rule.name)));
            }
        }
        Ok(())
    }

    /// One record of `stream`, mapped and checked; a record that fails is rejected with its raw
    /// data. Tombstones pass as they are.
    pub fn record(&self, stream: &str, mut record: Record) -> std::result::Result<Record, RejectedRecord> {
        if record.deleted {
            return Ok(record);
        }
        match self.apply(stream, &mut record.data, record.remote_data.as_ref()) {
            Ok(()) => Ok(record),
            Err(error) => {
                let raw = record.remote_data.unwrap_or(record.data);
                Err(RejectedRecord::new(Some(record.remote_id), raw, error))
            }
        }
    }

    /// A page of `stream`, every record mapped and checked; those that fail join its rejected.
    pub fn page(&self, stream: &str, mut page: Page) -> Page {
        if !self.plans.contains_key(stream) {
            return page;
        }
        let records = std::mem::take(&mut page.records);
        for record in records {
            match self.record(stream, record) {
                Ok(record) => page.records.push(record),
                Err(rejected) => page.rejected.push(rejected),
            }
        }
        page
    }

    /// A webhook's changes mapped and checked. A change that fails is left out (logged, with the
    /// rule and field): the cache keeps what it had, and the next sync rejects the record into
    /// its run log.
    pub fn webhook(&self, mut outcome: WebhookOutcome) -> WebhookOutcome {
        let changes = std::mem::take(&mut outcome.changes);
        for mut change in changes {
            match self.record(&change.stream, change.record) {
                Ok(record) => {
                    change.record = record;
                    outcome.changes.push(change);
                }
                Err(rejected) => tracing::warn!(
                    stream = %change.stream,
                    remote_id = rejected.remote_id.as_deref().unwrap_or_default(),
                    field = rejected.error.field().unwrap_or_default(),
                    error = %rejected.error,
                    "a webhook change breaks the connection's mappings; left for the next sync to report"
                ),
            }
        }
        outcome
    }

    fn typed<T: Serialize + DeserializeOwned>(&self, stream: &str, remote: &mut Remote<T>) -> Result<()> {
        if remote.remote_was_deleted || !self.plans.contains_key(stream) {
            return Ok(());
        }
        let mut data = serde_json::to_value(&*remote)
            .map_err(|e| Error::validation("record", format!("the record does not serialize to JSON: {e}")))?;
        self.apply(stream, &mut data, remote.remote_data.as_ref())?;
        if let Some(Value::Object(custom)) = data.get("custom_fields") {
            remote.custom_fields = custom.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
        Ok(())
    }

    /// A typed listing of `stream`, every item mapped and checked; those that fail join its
    /// rejected.
    pub fn listing<T: Serialize + DeserializeOwned>(&self, stream: &str, mut listing: Listing<T>) -> Listing<T> {
        if !self.plans.contains_key(stream) {
            return listing;
        }
        let items = std::mem::take(&mut listing.items);
        for mut item in items {
            match self.typed(stream, &mut item) {
                Ok(()) => listing.items.push(item),
                Err(error) => {
                    let raw =
                        item.remote_data.take().unwrap_or_else(|| serde_json::to_value(&item).unwrap_or_default());
                    listing.rejected.push(RejectedRecord::new(Some(item.remote_id), raw, error));
                }
            }
        }
        listing
    }

    /// One typed record of `stream`, mapped and checked.
    ///
    /// # Errors
    /// The [`Validation`](crate::ErrorKind::Validation) error of [`apply`](Self::apply).
    pub fn one<T: Serialize + DeserializeOwned>(&self, stream: &str, mut remote: Remote<T>) -> Result<Remote<T>> {
        self.typed(stream, &mut remote)?;
        Ok(remote)
    }
}

fn date_of(value: &Value) -> Option<NaiveDate> {
    let text = value.as_str()?;
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// Whether `value` keeps `check`; why not otherwise.
fn keeps(check: &Compiled, value: &Value) -> std::result::Result<(), String> {
    let missing = value.is_null() || value.as_str().is_some_and(str::is_empty);
    match check {
        Compiled::Required if missing => Err("the field is missing or empty".to_owned()),
        _ if value.is_null() => Ok(()),
        Compiled::Required => Ok(()),
        Compiled::Pattern(regex) => match value.as_str() {
            Some(text) if regex.is_match(text) => Ok(()),
            Some(_) => Err(format!("the text does not match {:?}", regex.as_str())),
            None => Err("the value is not text".to_owned()),
        },
        Compiled::Range(min, max) => {
            let inside = |v: Bound| {
                let above = min.is_none_or(|m| match (m, v) {
                    (Bound::Number(m), Bound::Number(v)) => v >= m,
                    (Bound::Date(m), Bound::Date(v)) => v >= m,
                    _ => false,
                });
                let below = max.is_none_or(|m| match (m, v) {
                    (Bound::Number(m), Bound::Number(v)) => v <= m,
                    (Bound::Date(m), Bound::Date(v)) => v <= m,
                    _ => false,
                });
                above && below
            };
            let dates = matches!(min.or(*max), Some(Bound::Date(_)));
            let number = value.as_f64().or_else(|| value.as_str().and_then(|s| s.trim().parse::<f64>().ok()));
            let read = if dates { date_of(value).map(Bound::Date) } else { number.map(Bound::Number) };
            match read {
                Some(v) if inside(v) => Ok(()),
                Some(_) => Err("the value is out of range".to_owned()),
                None if dates => Err("the value is not a date".to_owned()),
                None => Err("the value is not a number".to_owned()),
            }
        }
        Compiled::OneOf(values) => {
            if values.contains(value) {
                Ok(())
            } else {
                Err("the value is not one of those allowed".to_owned())
            }
        }
    }
}
