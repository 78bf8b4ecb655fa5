//! SCIM filters (RFC 7644 §3.4.2.2): parsed into a [`Filter`] and evaluated against a resource's
//! JSON.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! compValue = false / null / true / number / string
//! compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ```
//!
//! `not` binds tighter than `and`, `and` tighter than `or`; operators and attribute names are
//! case-insensitive. Anything else is a `400` with `scimType` `invalidFilter` naming where the
//! filter stopped making sense. Input is bounded: at most [`MAX_LENGTH`] characters and
//! [`MAX_DEPTH`] levels of nesting, so no filter costs more than its length.
//!
//! ```
//! use integration_sso::scim::filter::Filter;
//! use serde_json::json;
//!
//! let filter = Filter::parse(r#"userName eq "bjensen" and (emails[type eq "work" and value co "@example.com"] or not (active pr))"#)?;
//! let user = json!({"userName": "BJensen", "active": true,
//!                   "emails": [{"type": "work", "value": "bjensen@example.com"}]});
//! assert!(filter.matches(&user)?);
//! assert_eq!(Filter::parse("userName eq").unwrap_err().scim_type(), Some("invalidFilter"));
//! # Ok::<(), integration_sso::scim::ScimError>(())
//! ```

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

use super::error::ScimError;

/// The longest filter accepted, in characters.
pub const MAX_LENGTH: usize = 4_096;
/// The deepest nesting of parentheses, brackets and `not`s accepted.
pub const MAX_DEPTH: usize = 32;

/// An attribute path: an optional schema URN, an attribute, an optional sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttrPath {
    /// The schema URN (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
    pub urn: Option<String>,
    /// The attribute (`emails`).
    pub name: String,
    /// The sub-attribute (`value` in `emails.value`).
    pub sub: Option<String>,
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `co`: contains
    Co,
    /// `sw`: starts with
    Sw,
    /// `ew`: ends with
    Ew,
    /// `gt`
    Gt,
    /// `lt`
    Lt,
    /// `ge`
    Ge,
    /// `le`
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "lt" => Self::Lt,
            "ge" => Self::Ge,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// A literal a comparison compares with.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CompValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A JSON string.
    String(String),
}

/// A parsed SCIM filter.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Filter {
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`
    Compare(AttrPath, CompareOp, CompValue),
    /// `a and b`
    And(Box<Filter>, Box<Filter>),
    /// `a or b`
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`
    Not(Box<Filter>),
    /// `attr[filter]`: an element of a multi-valued (or a complex) attribute matching `filter`.
    ValuePath(AttrPath, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(Number),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn invalid(at: usize, message: impl fmt::Display) -> ScimError {
    ScimError::invalid_filter(format!("{message} (at character {at})"))
}

/// Splits `text` into tokens with their character positions.
fn tokens(text: &str) -> Result<Vec<(usize, Token)>, ScimError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push((i, Token::Open));
                i += 1;
            }
            ')' => {
                out.push((i, Token::Close));
                i += 1;
            }
            '[' => {
                out.push((i, Token::OpenBracket));
                i += 1;
            }
            ']' => {
                out.push((i, Token::CloseBracket));
                i += 1;
            }
            '"' => {
                let start = i;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(invalid(start, "a string without its closing quote")),
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = match chars.get(i + 1) {
                                Some('"') => '"',
                                Some('\\') => '\\',
                                Some('/') => '/',
                                Some('b') => '\u{8}',
                                Some('f') => '\u{c}',
                                Some('n') => '\n',
                                Some('r') => '\r',
                                Some('t') => '\t',
                                Some('u') => {
                                    let hex: String = chars.iter().skip(i + 2).take(4).collect();
                                    let code = u32::from_str_radix(&hex, 16)
                                        .ok()
                                        .filter(|_| hex.len() == 4)
                                        .and_then(char::from_u32)
                                        .ok_or_else(|| invalid(i, "a \\u escape that is not a character"))?;
                                    i += 4;
                                    code
                                }
                                _ => return Err(invalid(i, "an unknown escape in a string")),
                            };
                            text.push(escaped);
                            i += 2;
                        }
                        Some(c) => {
                            text.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((start, Token::Str(text)));
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number = serde_json::from_str::<Number>(&text)
                    .map_err(|_| invalid(start, format!("{text:?} is not a number")))?;
                out.push((start, Token::Num(number)));
            }
            c if c.is_ascii_alphabetic() || c == '$' || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_' | '$'))
                {
                    i += 1;
                }
                out.push((start, Token::Word(chars[start..i].iter().collect())));
            }
            other => return Err(invalid(i, format!("{other:?} has no place in a filter"))),
        }
    }
    Ok(out)
}

/// An attribute path from a word: `[urn:]name[.sub]`.
fn attr_path(at: usize, word: &str) -> Result<AttrPath, ScimError> {
    let (urn, rest) = match word.rfind(':') {
        Some(colon) => (Some(word[..colon].to_owned()), &word[colon + 1..]),
        None => (None, word),
    };
    if urn.as_deref().is_some_and(|u| !u.to_ascii_lowercase().starts_with("urn:")) {
        return Err(invalid(at, format!("{word:?}: a schema prefix is a URN")));
    }
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let valid = |n: &str| {
        n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$'))
    };
    if !valid(name) || sub.is_some_and(|s| !valid(s)) {
        return Err(invalid(at, format!("{word:?} is not an attribute path")));
    }
    Ok(AttrPath { urn, name: name.to_owned(), sub: sub.map(str::to_owned) })
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(at, _)| *at)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), ScimError> {
        if self.peek() == Some(token) {
            self.next += 1;
            Ok(())
        } else {
            Err(invalid(self.at(), format!("expected {what}")))
        }
    }

    /// `or`-separated terms.
    fn filter(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if depth > MAX_DEPTH {
            return Err(invalid(self.at(), format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let mut left = self.term(depth)?;
        while self.keyword("or") {
            self.next += 1;
            let right = self.term(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `and`-separated factors.
    fn term(&mut self, depth: usize) -> Result<Filter, ScimError> {
        let mut left = self.factor(depth)?;
        while self.keyword("and") {
            self.next += 1;
            let right = self.factor(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `not (…)`, `(…)`, `attr[…]`, `attr pr`, `attr op value`.
    fn factor(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if depth > MAX_DEPTH {
            return Err(invalid(self.at(), format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let at = self.at();
        match self.peek().cloned() {
            Some(Token::Word(w))
                if w.eq_ignore_ascii_case("not")
                    && self.tokens.get(self.next + 1).map(|(_, t)| t) == Some(&Token::Open) =>
            {
                self.next += 2;
                let inner = self.filter(depth + 1)?;
                self.expect(&Token::Close, "')' closing 'not ('")?;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Token::Open) => {
                self.next += 1;
                let inner = self.filter(depth + 1)?;
                self.expect(&Token::Close, "')'")?;
                Ok(inner)
            }
            Some(Token::Word(word)) => {
                self.next += 1;
                let path = attr_path(at, &word)?;
                if self.peek() == Some(&Token::OpenBracket) {
                    if path.sub.is_some() {
                        return Err(invalid(at, "a value filter follows an attribute, not a sub-attribute"));
                    }
                    self.next += 1;
                    let inner = self.filter(depth + 1)?;
                    if contains_value_path(&inner) {
                        return Err(invalid(at, "value filters do not nest"));
                    }
                    self.expect(&Token::CloseBracket, "']'")?;
                    return Ok(Filter::ValuePath(path, Box::new(inner)));
                }
                let op_at = self.at();
                let Some(Token::Word(op)) = self.peek().cloned() else {
                    return Err(invalid(op_at, format!("expected an operator after {word}")));
                };
                self.next += 1;
                if op.eq_ignore_ascii_case("pr") {
                    return Ok(Filter::Present(path));
                }
                let op = CompareOp::parse(&op).ok_or_else(|| invalid(op_at, format!("{op:?} is not an operator")))?;
                let value_at = self.at();
                let value = match self.peek().cloned() {
                    Some(Token::Str(s)) => CompValue::String(s),
                    Some(Token::Num(n)) => CompValue::Number(n),
                    Some(Token::Word(w)) if w == "true" => CompValue::Bool(true),
                    Some(Token::Word(w)) if w == "false" => CompValue::Bool(false),
                    Some(Token::Word(w)) if w == "null" => CompValue::Null,
                    _ => return Err(invalid(value_at, "expected a value: a string, a number, true, false or null")),
                };
                self.next += 1;
                Ok(Filter::Compare(path, op, value))
            }
            _ => Err(invalid(at, "expected an attribute, 'not (' or '('")),
        }
    }
}

fn contains_value_path(filter: &Filter) -> bool {
    match filter {
        Filter::ValuePath(..) => true,
        Filter::And(a, b) | Filter::Or(a, b) => contains_value_path(a) || contains_value_path(b),
        Filter::Not(a) => contains_value_path(a),
        _ => false,
    }
}

/// Attributes compared case-sensitively (RFC 7643 `caseExact`); every other string is
/// compared without regard to case.
const CASE_EXACT: [&str; 4] = ["id", "externalId", "$ref", "password"];

impl Filter {
    /// Parses `text`.
    ///
    /// # Errors
    /// `400` `invalidFilter` naming the character where the filter stopped making sense.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        let length = text.chars().count();
        if length > MAX_LENGTH {
            return Err(ScimError::invalid_filter(format!("longer than {MAX_LENGTH} characters")));
        }
        let mut parser = Parser { tokens: tokens(text)?, next: 0, end: length };
        if parser.tokens.is_empty() {
            return Err(ScimError::invalid_filter("the filter is empty"));
        }
        let filter = parser.filter(0)?;
        if parser.next < parser.tokens.len() {
            return Err(invalid(parser.at(), "unexpected text after the filter"));
        }
        Ok(filter)
    }

    /// Whether `resource` matches. Attributes are found case-insensitively, at the root or
    /// under their schema URN; a multi-valued attribute matches when one of its values does
    /// (a complex one through its `value` sub-attribute).
    ///
    /// # Errors
    /// `400` `invalidFilter` for an ordering (`gt`, `ge`, `lt`, `le`) against a boolean or
    /// `null`, as RFC 7644 requires.
    pub fn matches(&self, resource: &Value) -> Result<bool, ScimError> {
        match self {
            Filter::And(a, b) => Ok(a.matches(resource)? && b.matches(resource)?),
            Filter::Or(a, b) => Ok(a.matches(resource)? || b.matches(resource)?),
            Filter::Not(a) => Ok(!a.matches(resource)?),
            Filter::Present(path) => Ok(any_value(resource, path, present)),
            Filter::Compare(path, op, value) => {
                if matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
                    && matches!(value, CompValue::Bool(_) | CompValue::Null)
                {
                    return Err(ScimError::invalid_filter(format!(
                        "{path} cannot be ordered against true, false or null"
                    )));
                }
                let exact =
                    CASE_EXACT.iter().any(|n| n.eq_ignore_ascii_case(path.sub.as_deref().unwrap_or(&path.name)));
                Ok(match op {
                    // `ne` holds when no value is equal (an absent attribute is not equal).
                    CompareOp::Ne => !any_value(resource, path, |v| compare(v, CompareOp::Eq, value, exact)),
                    CompareOp::Eq if *value == CompValue::Null => !any_value(resource, path, |v| !v.is_null()),
                    _ => any_value(resource, path, |v| compare(v, *op, value, exact)),
                })
            }
            Filter::ValuePath(path, inner) => {
                let Some(attribute) = attribute(resource, path) else { return Ok(false) };
                match attribute {
                    Value::Array(items) => {
                        for item in items {
                            if inner.matches(item)? {
                                return Ok(true);
                            }
                        }
                        Ok(false)
                    }
                    complex @ Value::Object(_) => inner.matches(complex),
                    _ => Ok(false),
                }
            }
        }
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// A key of `object` named `name`, case-insensitively (the exact spelling looked up first).
fn get<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let object = object.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The attribute `path` names (without its sub-attribute): at the root, or under its URN.
fn attribute<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    match &path.urn {
        Some(urn) => get(resource, urn).and_then(|ext| get(ext, &path.name)).or_else(|| {
            // The core schema's own attributes sit at the root.
            let core = resource
                .get("schemas")?
                .as_array()?
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
            if core { get(resource, &path.name) } else { None }
        }),
        None => get(resource, &path.name),
    }
}

/// Whether `test` holds for any value `path` reaches: the attribute (each value of a
/// multi-valued one), or each value's sub-attribute; a complex value compared without a
/// sub-attribute is its `value`.
fn any_value(resource: &Value, path: &AttrPath, mut test: impl FnMut(&Value) -> bool) -> bool {
    let Some(attribute) = attribute(resource, path) else { return false };
    let mut reached = |v: &Value| {
        let value = match (&path.sub, v) {
            (Some(sub), Value::Object(_)) => get(v, sub),
            (Some(_), _) => None,
            (None, Value::Object(_)) => get(v, "value"),
            (None, other) => Some(other),
        };
        value.is_some_and(&mut test)
    };
    match attribute {
        Value::Array(items) => items.iter().any(reached),
        other => reached(other),
    }
}

/// `text` folded for a case-insensitive comparison: borrowed when lower-casing leaves it as it is.
fn folded(text: &str, exact: bool) -> std::borrow::Cow<'_, str> {
    let unchanged = |c: char| {
        let mut lower = c.to_lowercase();
        lower.next() == Some(c) && lower.next().is_none()
    };
    let unchanged =
        if text.is_ascii() { !text.bytes().any(|b| b.is_ascii_uppercase()) } else { text.chars().all(unchanged) };
    if exact || unchanged { std::borrow::Cow::Borrowed(text) } else { std::borrow::Cow::Owned(text.to_lowercase()) }
}

/// `sw`, `ew`, `eq` and `ne` between ASCII texts without regard to case, in place (what lower-
/// casing both would answer); `None` for the other operators (`co` keeps `str::contains`'s
/// linear search; orderings may be date-times) and for what may be two date-times.
fn ascii_without_case(found: &[u8], op: CompareOp, wanted: &[u8]) -> Option<bool> {
    let (f, w) = (found.len(), wanted.len());
    match op {
        CompareOp::Sw => Some(f >= w && found[..w].eq_ignore_ascii_case(wanted)),
        CompareOp::Ew => Some(f >= w && found[f - w..].eq_ignore_ascii_case(wanted)),
        // Two date-times are equal as instants, whatever their offsets.
        CompareOp::Eq | CompareOp::Ne
            if found.first().is_some_and(u8::is_ascii_digit) && wanted.first().is_some_and(u8::is_ascii_digit) =>
        {
            None
        }
        CompareOp::Eq => Some(found.eq_ignore_ascii_case(wanted)),
        CompareOp::Ne => Some(!found.eq_ignore_ascii_case(wanted)),
        _ => None,
    }
}

/// Whether `text` could be an RFC 3339 date-time (a digit first), before trying to parse it.
fn may_be_instant(text: &str) -> bool {
    text.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

fn compare(found: &Value, op: CompareOp, wanted: &CompValue, exact: bool) -> bool {
    let ordering = match (found, wanted) {
        (Value::String(found_text), CompValue::String(wanted_text)) => {
            if !exact
                && found_text.is_ascii()
                && wanted_text.is_ascii()
                && let Some(answer) = ascii_without_case(found_text.as_bytes(), op, wanted_text.as_bytes())
            {
                return answer;
            }
            let (a, b) = (folded(found_text, exact), folded(wanted_text, exact));
            match op {
                CompareOp::Co => return a.contains(b.as_ref()),
                CompareOp::Sw => return a.starts_with(b.as_ref()),
                CompareOp::Ew => return a.ends_with(b.as_ref()),
                _ => {}
            }
            // Date-times compare as instants; other strings lexically.
            let instants = (may_be_instant(found_text) && may_be_instant(wanted_text))
                .then(|| {
                    chrono::DateTime::parse_from_rfc3339(found_text)
                        .ok()
                        .zip(chrono::DateTime::parse_from_rfc3339(wanted_text).ok())
                })
                .flatten();
            match instants {
                Some((x, y)) => x.cmp(&y),
                None => a.cmp(&b),
            }
        }
        (Value::Number(a), CompValue::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match x.partial_cmp(&y) {
                Some(ordering) => ordering,
                None => return false,
            },
            _ => return false,
        },
        (Value::Bool(a), CompValue::Bool(b)) => {
            return matches!(op, CompareOp::Eq) && a == b;
        }
        (Value::Null, CompValue::Null) => return matches!(op, CompareOp::Eq),
        _ => return false,
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Lt => "lt",
            Self::Ge => "ge",
            Self::Le => "le",
        })
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{}", Value::String(s.clone())),
        }
    }
}

/// The filter written back in SCIM's grammar, every compound parenthesized: parsing it gives
/// the same filter.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Present(path) => write!(f, "{path} pr"),
            Self::Compare(path, op, value) => write!(f, "{path} {op} {value}"),
            Self::And(a, b) => write!(f, "({a} and {b})"),
            Self::Or(a, b) => write!(f, "({a} or {b})"),
            Self::Not(a) => write!(f, "not ({a})"),
            Self::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath`, or `attrPath[valFilter]` with an
/// optional `.subAttr` after it (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when no filter follows).
    pub attribute: AttrPath,
    /// The value filter selecting elements of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter.
    pub sub: Option<String>,
}

impl PatchPath {
    /// Parses `text`.
    ///
    /// # Errors
    /// `400 invalidPath` naming what does not parse.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        let text = text.trim();
        let as_path = |e: ScimError| ScimError::invalid_path(format!("{text:?}: {}", e.detail()));
        if text.chars().count() > MAX_LENGTH {
            return Err(ScimError::invalid_path(format!("longer than {MAX_LENGTH} characters")));
        }
        let Some(open) = text.find('[') else {
            return Ok(Self { attribute: attr_path(0, text).map_err(as_path)?, filter: None, sub: None });
        };
        let close = text
            .rfind(']')
            .filter(|c| *c > open)
            .ok_or_else(|| ScimError::invalid_path(format!("{text:?}: '[' without ']'")))?;
        let attribute = attr_path(0, &text[..open]).map_err(as_path)?;
        if attribute.sub.is_some() {
            return Err(ScimError::invalid_path(format!(
                "{text:?}: a value filter follows an attribute, not a sub-attribute"
            )));
        }
        let filter = Filter::parse(&text[open + 1..close]).map_err(as_path)?;
        let rest = &text[close + 1..];
        let sub = match rest.strip_prefix('.') {
            None if rest.is_empty() => None,
            Some(sub)
                if !sub.is_empty()
                    && sub.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$')) =>
            {
                Some(sub.to_owned())
            }
            _ => {
                return Err(ScimError::invalid_path(format!(
                    "{text:?}: only a sub-attribute may follow a value filter"
                )));
            }
        };
        Ok(Self { attribute, filter: Some(filter), sub })
    }
}
