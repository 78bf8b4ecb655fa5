//! Resources as the SCIM server keeps them — JSON objects checked against their schemas — and
//! as it answers them: projected by `attributes` / `excludedAttributes` and each attribute's
//! `returned`, with `id`, `schemas` and `meta`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::schema::{self, Attribute, Kind, Mutability, Returned};

/// A kind of resource the server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResourceType {
    /// `/Users`
    User,
    /// `/Groups`
    Group,
}

impl ResourceType {
    /// Both, in the order `/ResourceTypes` lists them.
    pub const ALL: [ResourceType; 2] = [ResourceType::User, ResourceType::Group];

    /// Its name (`User`).
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// Its endpoint (`/Users`).
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "/Users",
            Self::Group => "/Groups",
        }
    }

    /// Its core schema's URN.
    pub fn schema(self) -> &'static str {
        match self {
            Self::User => schema::USER,
            Self::Group => schema::GROUP,
        }
    }

    /// Its extensions' URNs.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::User => &[schema::ENTERPRISE_USER],
            Self::Group => &[],
        }
    }

    /// The core schema's attributes.
    pub fn attributes(self) -> &'static [Attribute] {
        match self {
            Self::User => schema::USER_ATTRIBUTES,
            Self::Group => schema::GROUP_ATTRIBUTES,
        }
    }

    /// The extension `urn`'s attributes, if this type has it.
    pub fn extension(self, urn: &str) -> Option<&'static [Attribute]> {
        self.extensions()
            .iter()
            .find(|e| e.eq_ignore_ascii_case(urn))
            .and_then(|e| schema::schema(e))
            .map(|s| s.attributes)
    }

    /// The type named `name` (case-insensitively).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The type as a `/ResourceTypes` resource.
    pub fn to_json(self, base: &str) -> Value {
        let extensions: Vec<Value> =
            self.extensions().iter().map(|urn| json!({"schema": urn, "required": false})).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name(), "name": self.name(), "endpoint": self.endpoint(),
            "description": format!("{} resources", self.name()), "schema": self.schema(),
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", self.name())},
        })
    }
}

/// A resource as stored: its attributes (`schemas`, `externalId`, the schema's, extensions under
/// their URN; `password` included), and what the server keeps about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Stored {
    /// Its type.
    pub kind: StoredKind,
    /// Its id (the server's).
    pub id: String,
    /// Its attributes.
    pub attributes: Value,
    /// Its version: bumped on every change.
    pub version: u64,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub modified: DateTime<Utc>,
}

/// [`ResourceType`] as stored (serializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum StoredKind {
    /// A user.
    User,
    /// A group.
    Group,
}

impl From<ResourceType> for StoredKind {
    fn from(t: ResourceType) -> Self {
        match t {
            ResourceType::User => Self::User,
            ResourceType::Group => Self::Group,
        }
    }
}

impl From<StoredKind> for ResourceType {
    fn from(k: StoredKind) -> Self {
        match k {
            StoredKind::User => Self::User,
            StoredKind::Group => Self::Group,
        }
    }
}

impl Stored {
    /// A new resource of `kind` at version 1.
    pub fn new(kind: ResourceType, id: String, attributes: Value, now: DateTime<Utc>) -> Self {
        Self { kind: kind.into(), id, attributes, version: 1, created: now, modified: now }
    }

    /// The weak ETag of its version.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// The resource as answered (before projection): attributes, `id`, `meta`.
    pub fn to_json(&self, base: &str) -> Value {
        let kind = ResourceType::from(self.kind);
        let mut out = self.attributes.clone();
        out["id"] = json!(self.id);
        out["meta"] = json!({
            "resourceType": kind.name(),
            "created": self.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": self.modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": format!("{base}{}/{}", kind.endpoint(), self.id),
            "version": self.etag(),
        });
        out
    }
}

fn type_error(path: &str, attribute: &Attribute) -> ScimError {
    let (one, many) = match attribute.kind {
        Kind::String | Kind::Reference(_) | Kind::Binary => ("a string", "strings"),
        Kind::Boolean => ("a boolean", "booleans"),
        Kind::Decimal | Kind::Integer => ("a number", "numbers"),
        Kind::DateTime => ("a date-time", "date-times"),
        Kind::Complex => ("an object", "objects"),
    };
    let expected = if attribute.multi { format!("a list of {many}") } else { one.to_owned() };
    ScimError::invalid_value(format!("{path} must be {expected}"))
}

/// `value` checked against `attribute` (one value of a multi-valued one when `single`): its
/// type, complex values' sub-attributes (names in the schema's case; unknown ones dropped;
/// read-only ones dropped when `client` writes).
fn check_value(
    path: &str,
    attribute: &Attribute,
    value: &Value,
    single: bool,
    client: bool,
) -> Result<Value, ScimError> {
    if attribute.multi && !single {
        let Value::Array(items) = value else { return Err(type_error(path, attribute)) };
        return items
            .iter()
            .map(|item| check_value(path, attribute, item, true, client))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    let fits = match attribute.kind {
        Kind::String | Kind::Reference(_) => value.is_string(),
        Kind::Binary => {
            value.as_str().is_some_and(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=-_\r\n".contains(&b)))
        }
        Kind::Boolean => value.is_boolean(),
        Kind::Integer => value.is_i64() || value.is_u64(),
        Kind::Decimal => value.is_number(),
        Kind::DateTime => value.as_str().is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()),
        Kind::Complex => {
            let Value::Object(object) = value else { return Err(type_error(path, attribute)) };
            let mut out = Map::new();
            for (key, sub_value) in object {
                let Some(sub) = schema::find(attribute.sub, key) else { continue };
                if (client && sub.mutability == Mutability::ReadOnly) || sub_value.is_null() {
                    continue;
                }
                out.insert(
                    sub.name.to_owned(),
                    check_value(&format!("{path}.{}", sub.name), sub, sub_value, false, client)?,
                );
            }
            return Ok(Value::Object(out));
        }
    };
    if fits || value.is_null() { Ok(value.clone()) } else { Err(type_error(path, attribute)) }
}

/// The attributes of `attributes` found in `input`, checked, in the schema's case.
fn check_object(
    path: Option<&str>,
    attributes: &[Attribute],
    input: &Map<String, Value>,
    client: bool,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in input {
        let Some(attribute) = schema::find(attributes, key) else { continue };
        if (client && attribute.mutability == Mutability::ReadOnly) || value.is_null() {
            continue;
        }
        if attribute.multi && value.as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        let name = path.map_or_else(|| attribute.name.to_owned(), |p| format!("{p}:{}", attribute.name));
        out.insert(attribute.name.to_owned(), check_value(&name, attribute, value, false, client)?);
    }
    Ok(out)
}

/// What a client sent as a resource of `kind`, checked: `schemas` must name the core schema
/// (added when missing); each known attribute must have its type; read-only ones (`id`, `meta`,
/// a user's `groups`) and unknown ones are dropped; required ones must be there.
///
/// # Errors
/// `400 invalidSyntax` for a body that is not an object or `schemas` naming another type;
/// `400 invalidValue` naming the attribute for a wrong type or a missing required one.
pub fn check(kind: ResourceType, input: &Value) -> Result<Value, ScimError> {
    let Value::Object(object) = input else {
        return Err(ScimError::invalid_syntax(format!("a {} is a JSON object", kind.name())));
    };
    let mut out = check_object(None, kind.attributes(), object, true)?;
    let mut schemas = vec![json!(kind.schema())];
    if let Some(listed) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v) {
        let Some(listed) = listed.as_array().filter(|l| l.iter().all(Value::is_string)) else {
            return Err(ScimError::invalid_syntax("schemas is a list of schema URNs"));
        };
        if !listed.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(kind.schema()))) {
            return Err(ScimError::invalid_syntax(format!("schemas must include {}", kind.schema())));
        }
    }
    for urn in kind.extensions() {
        let Some((_, value)) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(urn)) else { continue };
        let Value::Object(extension) = value else {
            return Err(ScimError::invalid_value(format!("{urn} is an object of the extension's attributes")));
        };
        let attributes = kind.extension(urn).unwrap_or(&[]);
        let checked = check_object(Some(urn), attributes, extension, true)?;
        if !checked.is_empty() {
            out.insert((*urn).to_owned(), Value::Object(checked));
            schemas.push(json!(urn));
        }
    }
    if let Some((_, external)) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("externalId")) {
        match external {
            Value::String(_) => {
                out.insert("externalId".into(), external.clone());
            }
            Value::Null => {}
            _ => return Err(ScimError::invalid_value("externalId must be a string")),
        }
    }
    for attribute in kind.attributes().iter().filter(|a| a.required) {
        if out.get(attribute.name).is_none_or(|v| v.as_str().is_some_and(str::is_empty)) {
            return Err(ScimError::invalid_value(format!("{} is required", attribute.name)));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    Ok(Value::Object(out))
}

/// The attribute definition a dotted path (`name.givenName`, `urn:…:User:manager.value`)
/// names, for `kind`; `None` for `id`, `externalId`, `meta` and `schemas` (common attributes).
pub(crate) fn definition(kind: ResourceType, urn: Option<&str>, name: &str) -> Option<&'static Attribute> {
    let attributes = match urn {
        Some(urn) if urn.eq_ignore_ascii_case(kind.schema()) => kind.attributes(),
        Some(urn) => kind.extension(urn)?,
        None => kind.attributes(),
    };
    schema::find(attributes, name)
}

/// An attribute named in `attributes` or `excludedAttributes`: `[urn:]name[.sub]` (lowercased),
/// or a whole extension.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    Attribute { urn: Option<String>, name: String, sub: Option<String> },
    Extension(String),
}

fn named(kind: ResourceType, list: &str) -> Vec<Named> {
    list.split(',')
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if kind.extensions().iter().any(|e| e.eq_ignore_ascii_case(&w)) {
                return Named::Extension(w);
            }
            let (urn, rest) = match w.rfind(':') {
                Some(i) => (Some(w[..i].to_owned()), w[i + 1..].to_owned()),
                None => (None, w),
            };
            let (name, sub) = match rest.split_once('.') {
                Some((n, s)) => (n.to_owned(), Some(s.to_owned())),
                None => (rest, None),
            };
            Named::Attribute { urn, name, sub }
        })
        .collect()
}

/// Whether `entry` names the attribute `name` of the schema `urn` (the core one: `None`).
fn names(kind: ResourceType, entry: &Named, urn: Option<&str>, name: &str) -> Option<Option<String>> {
    match entry {
        Named::Extension(e) => (urn.is_some_and(|u| u.eq_ignore_ascii_case(e))).then_some(None),
        Named::Attribute { urn: wanted_urn, name: wanted, sub } => {
            let same_schema = match (wanted_urn, urn) {
                (None, None) => true,
                (Some(w), None) => w.eq_ignore_ascii_case(kind.schema()),
                (Some(w), Some(u)) => w.eq_ignore_ascii_case(u),
                (None, Some(_)) => false,
            };
            (same_schema && wanted.eq_ignore_ascii_case(name)).then(|| sub.clone())
        }
    }
}

/// One attribute's value as answered: `None` to leave it out.
fn answer(
    kind: ResourceType,
    (urn, name, returned): (Option<&str>, &str, Returned),
    value: &Value,
    asked: Option<&[Named]>,
    excluded: &[Named],
) -> Option<Value> {
    let only_subs = |subs: Vec<String>, value: &Value| -> Value {
        let pick = |v: &Value| match v {
            Value::Object(o) => Value::Object(
                o.iter()
                    .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        };
        match value {
            Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
            other => pick(other),
        }
    };
    match returned {
        Returned::Never => None,
        Returned::Always => Some(value.clone()),
        Returned::Default | Returned::Request => match asked {
            Some(asked) => {
                let hits: Vec<Option<String>> = asked.iter().filter_map(|e| names(kind, e, urn, name)).collect();
                if hits.is_empty() {
                    None
                } else if hits.iter().any(Option::is_none) {
                    Some(value.clone())
                } else {
                    Some(only_subs(hits.into_iter().flatten().collect(), value))
                }
            }
            None if returned == Returned::Request => None,
            None => {
                let hits: Vec<Option<String>> = excluded.iter().filter_map(|e| names(kind, e, urn, name)).collect();
                if hits.iter().any(Option::is_none) {
                    return None;
                }
                let dropped: Vec<String> = hits.into_iter().flatten().collect();
                if dropped.is_empty() {
                    return Some(value.clone());
                }
                let drop = |v: &Value| match v {
                    Value::Object(o) => Value::Object(
                        o.iter()
                            .filter(|(k, _)| !dropped.iter().any(|d| d.eq_ignore_ascii_case(k)))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                Some(match value {
                    Value::Array(items) => Value::Array(items.iter().map(drop).collect()),
                    other => drop(other),
                })
            }
        },
    }
}

/// `resource` (as [`Stored::to_json`] gives it) as answered: attributes `returned: never`
/// dropped; with `attributes`, only those asked for (sub-attributes too: `name.givenName`) and
/// the ones always returned (`id`, `schemas`); with `excluded`, all but those.
pub fn project(kind: ResourceType, resource: &Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let Value::Object(object) = resource else { return resource.clone() };
    let asked = attributes.map(|a| named(kind, a)).filter(|a| !a.is_empty());
    let excluded = excluded.map(|e| named(kind, e)).unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in object {
        if let Some(extension) = kind.extension(key) {
            let Value::Object(inner) = value else { continue };
            let kept: Map<String, Value> = inner
                .iter()
                .filter_map(|(k, v)| {
                    let returned = schema::find(extension, k).map_or(Returned::Default, |a| a.returned);
                    answer(kind, (Some(key), k, returned), v, asked.as_deref(), &excluded).map(|v| (k.clone(), v))
                })
                .collect();
            if !kept.is_empty() {
                out.insert(key.clone(), Value::Object(kept));
            }
            continue;
        }
        let returned = match key.as_str() {
            "id" | "schemas" => Returned::Always,
            _ => schema::find(kind.attributes(), key).map_or(Returned::Default, |a| a.returned),
        };
        if let Some(v) = answer(kind, (None, key, returned), value, asked.as_deref(), &excluded) {
            out.insert(key.clone(), v);
        }
    }
    Value::Object(out)
}
