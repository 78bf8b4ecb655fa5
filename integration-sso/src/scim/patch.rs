//! PATCH (RFC 7644 §3.5.2): `add`, `remove` and `replace` operations applied to a resource's
//! JSON in order, all or nothing, each attribute's mutability respected; the result is checked
//! against the schema as a whole resource is.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::filter::PatchPath;
use super::resource::{self, ResourceType};
use super::schema::{Attribute, Mutability};

/// The schema of a PATCH request body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
}

fn no_target(detail: impl Into<String>) -> ScimError {
    ScimError::new(400, Some("noTarget"), detail)
}

fn mutability(detail: impl Into<String>) -> ScimError {
    ScimError::new(400, Some("mutability"), detail)
}

/// The key of `object` matching `name` case-insensitively, or `name` as the schema spells it.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_owned())
}

/// Applies the operations of `body` to `current` (a stored resource's attributes) and returns
/// the resource they make, checked.
///
/// # Errors
/// `400 invalidSyntax` for a body that is not a PatchOp; `invalidPath`, `noTarget`,
/// `mutability` or `invalidValue` naming the operation that failed (nothing is applied).
pub fn apply(kind: ResourceType, current: &Value, body: &Value) -> Result<Value, ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP))));
    let operations = body
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("Operations")))
        .and_then(|(_, v)| v.as_array())
        .filter(|ops| schemas_ok && !ops.is_empty())
        .ok_or_else(|| ScimError::invalid_syntax(format!("a PATCH body is a {PATCH_OP} with its Operations")))?;
    let mut resource = current.clone();
    for (index, operation) in operations.iter().enumerate() {
        let field = |name: &str| {
            operation.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))).map(|(_, v)| v)
        };
        let op = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => Op::Add,
            Some("remove") => Op::Remove,
            Some("replace") => Op::Replace,
            _ => return Err(ScimError::invalid_syntax(format!("operation {index}: op is add, remove or replace"))),
        };
        let path = field("path").and_then(Value::as_str).filter(|p| !p.trim().is_empty());
        let value = field("value").cloned();
        step(kind, &mut resource, op, path, value).map_err(|e| {
            ScimError::new(
                e.status(),
                e.scim_type(),
                format!("operation {index} ({op:?} {}): {}", path.unwrap_or("-"), e.detail()),
            )
        })?;
    }
    resource::check(kind, &resource)
}

/// Where an operation acts: the object holding the attribute (the resource, or an extension's
/// object) and the attribute.
fn target<'a>(
    kind: ResourceType,
    resource: &'a mut Value,
    path: &PatchPath,
    create: bool,
) -> Result<(&'a mut Map<String, Value>, &'static Attribute), ScimError> {
    let attribute_path = &path.attribute;
    let attribute =
        resource::definition(kind, attribute_path.urn.as_deref(), &attribute_path.name).ok_or_else(|| {
            ScimError::invalid_path(format!("{} is not an attribute of a {}", attribute_path, kind.name()))
        })?;
    let Value::Object(root) = resource else { return Err(ScimError::invalid_syntax("the resource is not an object")) };
    let holder = match attribute_path.urn.as_deref() {
        Some(urn) if !urn.eq_ignore_ascii_case(kind.schema()) => {
            let canonical = kind.extensions().iter().find(|e| e.eq_ignore_ascii_case(urn)).copied().unwrap_or_default();
            let key = key_of(root, canonical);
            if !root.contains_key(&key) {
                if !create {
                    return Err(no_target(format!("the resource has no {canonical} attributes")));
                }
                root.insert(key.clone(), Value::Object(Map::new()));
            }
            match root.get_mut(&key) {
                Some(Value::Object(ext)) => ext,
                _ => return Err(ScimError::invalid_value(format!("{canonical} is not an object"))),
            }
        }
        _ => root,
    };
    Ok((holder, attribute))
}

/// Whether the extension `path` is in (if any) is present on `resource` (the core schema always is).
fn has_extension(kind: ResourceType, resource: &Value, path: &PatchPath) -> bool {
    match path.attribute.urn.as_deref() {
        Some(urn) if !urn.eq_ignore_ascii_case(kind.schema()) => {
            resource.as_object().is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case(urn)))
        }
        _ => true,
    }
}

fn check_mutable(attribute: &Attribute, current: Option<&Value>, name: &str) -> Result<(), ScimError> {
    match attribute.mutability {
        Mutability::ReadOnly => Err(mutability(format!("{name} is read-only"))),
        Mutability::Immutable if current.is_some_and(|v| !v.is_null()) => {
            Err(mutability(format!("{name} is immutable once set")))
        }
        _ => Ok(()),
    }
}

/// Merges `value`'s sub-attributes into the object at `slot` (made if missing).
fn merge(slot: &mut Value, value: &Map<String, Value>) {
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(object) = slot {
        for (k, v) in value {
            let key = key_of(object, k);
            object.insert(key, v.clone());
        }
    }
}

fn step(
    kind: ResourceType,
    resource: &mut Value,
    op: Op,
    path: Option<&str>,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let Some(path) = path else {
        // No path: the value is an object of attributes (extensions under their URN).
        if op == Op::Remove {
            return Err(no_target("remove needs a path"));
        }
        let Some(Value::Object(values)) = value else {
            return Err(ScimError::invalid_value("without a path, the value is an object of attributes"));
        };
        for (key, v) in values {
            if let Some(extension) = kind.extensions().iter().find(|e| e.eq_ignore_ascii_case(&key)) {
                let Value::Object(inner) = v else {
                    return Err(ScimError::invalid_value(format!("{extension} is an object")));
                };
                for (k, v) in inner {
                    step(kind, resource, op, Some(&format!("{extension}:{k}")), Some(v))?;
                }
                continue;
            }
            if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(&key)) {
                continue;
            }
            if key.eq_ignore_ascii_case("externalId") {
                if let Value::Object(root) = resource {
                    root.insert("externalId".into(), v);
                }
                continue;
            }
            step(kind, resource, op, Some(&key), Some(v))?;
        }
        return Ok(());
    };
    // A whole extension as the path.
    if let Some(extension) = kind.extensions().iter().find(|e| e.eq_ignore_ascii_case(path.trim())) {
        let root = resource.as_object_mut().ok_or_else(|| ScimError::invalid_syntax("not an object"))?;
        let key = key_of(root, extension);
        match (op, value) {
            (Op::Remove, _) => {
                root.remove(&key);
            }
            (_, Some(Value::Object(values))) => {
                for (k, v) in values {
                    // The extension object's own envelope, if a client sends one.
                    if ["schemas", "id", "meta"].iter().any(|e| e.eq_ignore_ascii_case(&k)) {
                        continue;
                    }
                    step(kind, resource, op, Some(&format!("{extension}:{k}")), Some(v))?;
                }
            }
            _ => return Err(ScimError::invalid_value(format!("{extension} takes an object of its attributes"))),
        }
        return Ok(());
    }
    if path.trim().eq_ignore_ascii_case("externalId") {
        let root = resource.as_object_mut().ok_or_else(|| ScimError::invalid_syntax("not an object"))?;
        match (op, value) {
            (Op::Remove, _) => {
                root.remove("externalId");
            }
            (_, Some(v @ Value::String(_))) => {
                root.insert("externalId".into(), v);
            }
            _ => return Err(ScimError::invalid_value("externalId is a string")),
        }
        return Ok(());
    }
    let parsed = PatchPath::parse(path)?;
    if op == Op::Remove && !has_extension(kind, resource, &parsed) {
        // Removing from an extension the resource does not have: nothing to remove.
        return resource::definition(kind, parsed.attribute.urn.as_deref(), &parsed.attribute.name)
            .map(drop)
            .ok_or_else(|| {
                ScimError::invalid_path(format!("{} is not an attribute of a {}", parsed.attribute, kind.name()))
            });
    }
    let (holder, attribute) = target(kind, resource, &parsed, op != Op::Remove)?;
    let key = key_of(holder, attribute.name);
    let name = parsed.attribute.to_string();
    if op != Op::Remove && value.as_ref().is_none_or(Value::is_null) && parsed.filter.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{} needs a value",
            if op == Op::Add { "add" } else { "replace" }
        )));
    }
    // A sub-attribute of a single complex attribute: `name.givenName`.
    if let (Some(sub), None) = (&parsed.attribute.sub, &parsed.filter) {
        let sub_attribute = attribute
            .sub
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(sub))
            .ok_or_else(|| ScimError::invalid_path(format!("{name} is not an attribute")))?;
        check_mutable(sub_attribute, holder.get(&key).and_then(|v| v.get(sub_attribute.name)), &name)?;
        if attribute.multi {
            // `emails.value`: every element's sub-attribute.
            let Some(Value::Array(items)) = holder.get_mut(&key) else {
                return if op == Op::Remove {
                    Ok(())
                } else {
                    Err(no_target(format!("{} has no values", attribute.name)))
                };
            };
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                match op {
                    Op::Remove => {
                        item.remove(sub_attribute.name);
                    }
                    _ => {
                        item.insert(sub_attribute.name.to_owned(), value.clone().unwrap_or(Value::Null));
                    }
                }
            }
            return Ok(());
        }
        match op {
            Op::Remove => {
                if let Some(Value::Object(object)) = holder.get_mut(&key) {
                    object.remove(sub_attribute.name);
                    if object.is_empty() {
                        holder.remove(&key);
                    }
                }
            }
            _ => {
                let slot = holder.entry(key).or_insert_with(|| Value::Object(Map::new()));
                let mut one = Map::new();
                one.insert(sub_attribute.name.to_owned(), value.unwrap_or(Value::Null));
                merge(slot, &one);
            }
        }
        return Ok(());
    }
    // A value filter: `emails[type eq "work"]`, maybe `.value` after it.
    if let Some(filter) = &parsed.filter {
        if !attribute.multi {
            return Err(ScimError::invalid_path(format!("{name} holds one value: no filter selects among it")));
        }
        let sub_attribute = match &parsed.sub {
            Some(sub) => Some(
                attribute
                    .sub
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(sub))
                    .ok_or_else(|| ScimError::invalid_path(format!("{name}.{sub} is not an attribute")))?,
            ),
            None => None,
        };
        check_mutable(sub_attribute.unwrap_or(attribute), None, &name)?;
        let Some(Value::Array(items)) = holder.get_mut(&key) else {
            return Err(no_target(format!("{name} has no values for the filter to select")));
        };
        let mut matched = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if filter.matches(item)? {
                matched.push(i);
            }
        }
        if matched.is_empty() {
            return if op == Op::Remove {
                Ok(())
            } else {
                Err(no_target(format!("no value of {name} matches the filter")))
            };
        }
        match (op, sub_attribute) {
            (Op::Remove, None) => {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !matched.contains(&i);
                    i += 1;
                    keep
                });
                if items.is_empty() {
                    holder.remove(&key);
                }
            }
            (Op::Remove, Some(sub)) => {
                for i in matched {
                    if let Some(Value::Object(item)) = items.get_mut(i) {
                        item.remove(sub.name);
                    }
                }
            }
            (_, Some(sub)) => {
                for i in matched {
                    if let Some(Value::Object(item)) = items.get_mut(i) {
                        item.insert(sub.name.to_owned(), value.clone().unwrap_or(Value::Null));
                    }
                }
            }
            (Op::Replace, None) => {
                let Some(Value::Object(replacement)) = &value else {
                    return Err(ScimError::invalid_value(format!("a value of {name} is an object")));
                };
                for i in matched {
                    if let Some(item) = items.get_mut(i) {
                        *item = Value::Object(replacement.clone());
                    }
                }
            }
            (Op::Add, None) => {
                let Some(Value::Object(addition)) = &value else {
                    return Err(ScimError::invalid_value(format!("a value of {name} is an object")));
                };
                for i in matched {
                    if let Some(item) = items.get_mut(i) {
                        merge(item, addition);
                    }
                }
            }
        }
        return Ok(());
    }
    // The attribute itself.
    check_mutable(attribute, if op == Op::Add && attribute.multi { None } else { holder.get(&key) }, &name)?;
    match op {
        Op::Remove => {
            if attribute.required {
                return Err(mutability(format!("{name} is required: it cannot be removed")));
            }
            holder.remove(&key);
        }
        Op::Add if attribute.multi => {
            let additions = match value {
                Some(Value::Array(items)) => items,
                Some(one) => vec![one],
                None => Vec::new(),
            };
            let slot = holder.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                for addition in additions {
                    if !items.contains(&addition) {
                        items.push(addition);
                    }
                }
            }
        }
        Op::Add | Op::Replace if attribute.sub.is_empty() || attribute.multi => {
            let value = value.unwrap_or(Value::Null);
            let value = if attribute.multi && !value.is_array() { Value::Array(vec![value]) } else { value };
            holder.insert(key, value);
        }
        Op::Add | Op::Replace => match value {
            Some(Value::Object(sub_values)) => {
                let slot = holder.entry(key).or_insert_with(|| Value::Object(Map::new()));
                merge(slot, &sub_values);
            }
            _ => return Err(ScimError::invalid_value(format!("{name} takes an object of its sub-attributes"))),
        },
    }
    Ok(())
}
