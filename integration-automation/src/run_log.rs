//! What the run log keeps of a step's input and output: secrets redacted, size bounded.
//!
//! A value is redacted when its key looks secret (`password`, `secret`, `token`,
//! `authorization`, `api_key`, `cookie`, `private_key`, `signature`, in any case and as part of a
//! longer name) or when the action's schema marks the field secret. A value whose JSON is longer
//! than [`MAX_LOGGED`] bytes is replaced by a preview and its size.
//!
//! Later steps read earlier steps' outputs as logged, so a run reads the same values whether or
//! not it was resumed after a crash.
//!
//! ```
//! use integration_automation::run_log::for_log;
//! use serde_json::json;
//!
//! let logged = for_log(&json!({"url": "https://x", "headers": {"Authorization": "Bearer abc"}}), &[]);
//! assert_eq!(logged["headers"]["Authorization"], "[redacted]");
//! assert_eq!(logged["url"], "https://x");
//! ```

use serde_json::{Map, Value, json};

/// The longest logged value, in bytes of JSON.
pub const MAX_LOGGED: usize = 16 * 1024;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

const SECRET_WORDS: [&str; 9] =
    ["password", "secret", "token", "authorization", "api_key", "apikey", "cookie", "private_key", "signature"];

/// `value` as the run log keeps it; `secret_fields` are top-level keys to redact as well.
pub fn for_log(value: &Value, secret_fields: &[&str]) -> Value {
    let redacted = match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret_fields.contains(&k.as_str()) {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact(k, v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => redact("", other),
    };
    bounded(redacted)
}

fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

fn redact(key: &str, value: &Value) -> Value {
    if !key.is_empty() && looks_secret(key) && !value.is_null() {
        return Value::String(REDACTED.to_owned());
    }
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), redact(k, v))).collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| redact("", v)).collect()),
        other => other.clone(),
    }
}

fn bounded(value: Value) -> Value {
    let text = value.to_string();
    if text.len() <= MAX_LOGGED {
        return value;
    }
    let mut end = 1024;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({ "truncated": true, "bytes": text.len(), "preview": &text[..end] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_secrets_schema_secrets_and_size_are_handled() {
        let v = json!({"a": [{"client_secret": "s"}], "X-Api-Key": "k", "plain": "p", "custom": "c", "token": null});
        let logged = for_log(&v, &["custom"]);
        assert_eq!(
            logged,
            json!({"a": [{"client_secret": REDACTED}], "X-Api-Key": REDACTED, "plain": "p", "custom": REDACTED, "token": null})
        );
        let big = json!({"body": "x".repeat(MAX_LOGGED * 2)});
        let logged = for_log(&big, &[]);
        assert_eq!(logged["truncated"], true);
        assert!(logged.to_string().len() < 2 * 1024);
    }
}
