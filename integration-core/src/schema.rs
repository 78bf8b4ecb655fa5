//! The configuration an adapter needs: which keys, which are secret, and their formats.
//!
//! A [`ConfigSchema`] is part of every [`Descriptor`](crate::Descriptor). The registry validates
//! a tenant's [`IntegrationConfig`](crate::IntegrationConfig) against it before building an
//! adapter, so an adapter never starts with a missing or malformed setting, and the error names
//! the field and the provider.
//!
//! ```
//! use integration_core::schema::{ConfigField, ConfigSchema, FieldFormat};
//! use integration_core::{ErrorKind, ProviderId, Secrets};
//! use serde_json::json;
//!
//! let schema = ConfigSchema::new([
//!     ConfigField::required("subdomain", FieldFormat::HostLabel),
//!     ConfigField::secret("api_key"),
//! ])
//! .unwrap();
//! let provider = ProviderId::new("bamboohr").unwrap();
//! let settings = json!({ "subdomain": "Not A Label!" });
//! let secrets = Secrets::new().with("api_key", "k-123");
//!
//! let err = schema.validate(&provider, settings.as_object().unwrap(), &secrets).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Config);
//! assert_eq!(err.field(), Some("settings.subdomain"));
//! assert_eq!(err.provider(), Some("bamboohr"));
//! ```

/// The setting every adapter reads its provider's API root from (`https://api.example.com`):
/// declared with [`DescriptorBuilder::base_url`](crate::descriptor::DescriptorBuilder::base_url),
/// read with [`IntegrationConfig::base_url`](crate::IntegrationConfig::base_url). Point an
/// adapter at a sandbox, a regional host or a fake with it.
pub const BASE_URL: &str = "base_url";

/// The setting an adapter whose provider authenticates on a separate host reads that host
/// from (ADP's `accounts.adp.com`).
pub const AUTH_BASE_URL: &str = "auth_base_url";

use std::collections::BTreeSet;
use std::fmt::Write as _;

use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use crate::config::{Secrets, Settings};
use crate::error::{Error, Result};
use crate::ids::ProviderId;

/// Settings any connection may have whatever its provider, read by the SDK rather than the
/// adapter: its data's [`region`](crate::residency::REGION_SETTING), its paused streams
/// ([`PAUSED_STREAMS`](crate::schedule::PAUSED_STREAMS)) and when its credentials expire
/// ([`CREDENTIALS_EXPIRE_AT`](crate::notify::CREDENTIALS_EXPIRE_AT)).
pub const COMMON_SETTINGS: &[&str] = &["region", "paused_streams", "credentials_expire_at"];

/// Checks a common setting's shape.
fn check_common(key: &str, value: &Value) -> std::result::Result<(), String> {
    match key {
        "paused_streams" => match value.as_array() {
            Some(names) if names.iter().all(Value::is_string) => Ok(()),
            _ => Err("paused_streams must be an array of stream names".into()),
        },
        "credentials_expire_at" => match value.as_str().map(chrono::DateTime::parse_from_rfc3339) {
            Some(Ok(_)) => Ok(()),
            _ => Err("credentials_expire_at must be an RFC 3339 time (2027-01-31T00:00:00Z)".into()),
        },
        _ => match value.as_str() {
            Some(text) if !text.trim().is_empty() => Ok(()),
            _ => Err(format!("{key} must be a non-empty string")),
        },
    }
}

/// The format a configuration value must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum FieldFormat {
    /// Any non-empty text.
    Text,
    /// A DNS label: 1 to 63 of `a-z`, `0-9` and `-`, not starting or ending with `-` (a company
    /// subdomain such as BambooHR's).
    HostLabel,
    /// An absolute `http` or `https` URL.
    Url,
    /// An absolute `https` URL; plain `http` is accepted only for loopback hosts (test fakes).
    HttpsUrl,
    /// An integer within bounds.
    Integer {
        /// The smallest accepted value.
        min: i64,
        /// The largest accepted value.
        max: i64,
    },
    /// `true` or `false`.
    Boolean,
    /// One of a fixed list of strings.
    OneOf {
        /// The accepted values.
        values: Vec<String>,
    },
    /// An email address (`local@domain`).
    Email,
    /// A PEM block (`-----BEGIN ...`), such as a client certificate for mutual TLS.
    Pem,
}

/// One configuration key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConfigField {
    /// The key (`"subdomain"`).
    pub key: String,
    /// Whether the key must be present.
    pub required: bool,
    /// Whether the value is a secret: it then lives in `secrets`, sealed at rest, never in
    /// `settings`.
    pub secret: bool,
    /// The value's format.
    pub format: FieldFormat,
    /// What the value is and where to find it.
    pub description: String,
}

impl ConfigField {
    /// A required, non-secret setting.
    pub fn required(key: impl Into<String>, format: FieldFormat) -> Self {
        Self { key: key.into(), required: true, secret: false, format, description: String::new() }
    }

    /// An optional, non-secret setting.
    pub fn optional(key: impl Into<String>, format: FieldFormat) -> Self {
        Self { required: false, ..Self::required(key, format) }
    }

    /// A required secret of any text.
    pub fn secret(key: impl Into<String>) -> Self {
        Self { secret: true, ..Self::required(key, FieldFormat::Text) }
    }

    /// Sets the format.
    #[must_use]
    pub fn with_format(mut self, format: FieldFormat) -> Self {
        self.format = format;
        self
    }

    /// Makes the field optional.
    #[must_use]
    pub fn not_required(mut self) -> Self {
        self.required = false;
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    fn path(&self) -> String {
        let section = if self.secret { "secrets" } else { "settings" };
        format!("{section}.{}", self.key)
    }
}

/// The set of configuration keys an adapter accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct ConfigSchema {
    fields: Vec<ConfigField>,
}

impl ConfigSchema {
    /// A schema of `fields`; keys must be unique and non-empty.
    pub fn new(fields: impl IntoIterator<Item = ConfigField>) -> Result<Self> {
        let fields: Vec<ConfigField> = fields.into_iter().collect();
        let mut seen = BTreeSet::new();
        for (i, f) in fields.iter().enumerate() {
            if f.key.is_empty() || !seen.insert(f.key.as_str()) {
                return Err(Error::validation(
                    format!("config[{i}].key"),
                    format!("configuration keys must be unique and non-empty: {:?}", f.key),
                ));
            }
        }
        Ok(Self { fields })
    }

    /// The fields.
    pub fn fields(&self) -> &[ConfigField] {
        &self.fields
    }

    /// The field for `key`.
    pub fn field(&self, key: &str) -> Option<&ConfigField> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Checks `settings` and `secrets` against the schema.
    ///
    /// Fails with a [`Config`](crate::ErrorKind::Config) error naming the provider and the field
    /// (`settings.subdomain`, `secrets.api_key`) when a required key is missing, a value is
    /// malformed, a secret was put in `settings` (where it would be stored in plain text), or a
    /// key is unknown. Secret values never appear in the message.
    pub fn validate(&self, provider: &ProviderId, settings: &Settings, secrets: &Secrets) -> Result<()> {
        let fail =
            |field: String, message: String| Error::config(message).with_field(field).with_provider(provider.as_str());
        for key in settings.keys() {
            match self.field(key) {
                Some(f) if f.secret => {
                    return Err(fail(
                        format!("settings.{key}"),
                        format!("{key:?} is a secret: pass it in `secrets`, where it is sealed, not in `settings`"),
                    ));
                }
                Some(_) => {}
                None if COMMON_SETTINGS.contains(&key.as_str()) => {
                    check_common(key, &settings[key]).map_err(|why| fail(format!("settings.{key}"), why))?;
                }
                None => return Err(fail(format!("settings.{key}"), self.unknown_key(provider, key))),
            }
        }
        for key in secrets.keys() {
            match self.field(key) {
                Some(f) if !f.secret => {
                    return Err(fail(
                        format!("secrets.{key}"),
                        format!("{key:?} is not a secret: pass it in `settings`"),
                    ));
                }
                Some(_) => {}
                None => return Err(fail(format!("secrets.{key}"), self.unknown_key(provider, key))),
            }
        }
        for f in &self.fields {
            let present = if f.secret {
                match secrets.get(f.key.as_str()) {
                    Some(secret) => {
                        let text = Value::String(secret.expose_secret().to_owned());
                        check_format(&f.format, &text)
                            .map_err(|why| fail(f.path(), format!("the secret {:?} {why}", f.key)))?;
                        true
                    }
                    None => false,
                }
            } else {
                match settings.get(&f.key) {
                    Some(Value::Null) | None => false,
                    Some(value) => {
                        check_format(&f.format, value)
                            .map_err(|why| fail(f.path(), format!("{:?} {why}, got {value}", f.key)))?;
                        true
                    }
                }
            };
            if f.required && !present {
                let mut message =
                    format!("{provider} needs {:?} in `{}`", f.key, if f.secret { "secrets" } else { "settings" });
                if !f.description.is_empty() {
                    let _ = write!(message, ": {}", f.description);
                }
                return Err(fail(f.path(), message));
            }
        }
        Ok(())
    }

    fn unknown_key(&self, provider: &ProviderId, key: &str) -> String {
        let known: Vec<&str> = self.fields.iter().map(|f| f.key.as_str()).collect();
        format!("{provider} has no configuration key {key:?}; it accepts: {}", known.join(", "))
    }
}

/// Checks one value; the error completes the sentence "the field ...".
fn check_format(format: &FieldFormat, value: &Value) -> std::result::Result<(), String> {
    let text = || value.as_str().ok_or_else(|| "must be a string".to_owned());
    match format {
        FieldFormat::Text => {
            if text()?.trim().is_empty() {
                return Err("must not be empty".into());
            }
        }
        FieldFormat::HostLabel => {
            let s = text()?;
            let ok = (1..=63).contains(&s.len())
                && !s.starts_with('-')
                && !s.ends_with('-')
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err("must be a DNS label (1-63 of a-z, 0-9, '-')".into());
            }
        }
        FieldFormat::Url | FieldFormat::HttpsUrl => {
            let url = url::Url::parse(text()?).map_err(|e| format!("must be an absolute URL ({e})"))?;
            let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
                || match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    _ => false,
                };
            match (format, url.scheme()) {
                (_, "https") => {}
                (FieldFormat::Url, "http") => {}
                (FieldFormat::HttpsUrl, "http") if loopback => {}
                (FieldFormat::HttpsUrl, _) => return Err("must be an https URL".into()),
                _ => return Err("must be an http or https URL".into()),
            }
            if !url.has_host() {
                return Err("must name a host".into());
            }
        }
        FieldFormat::Integer { min, max } => {
            let n = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| "must be an integer".to_owned())?;
            if n < *min || n > *max {
                return Err(format!("must be between {min} and {max}"));
            }
        }
        FieldFormat::Boolean => {
            if !value.is_boolean() {
                return Err("must be true or false".into());
            }
        }
        FieldFormat::OneOf { values } => {
            let s = text()?;
            if !values.iter().any(|v| v == s) {
                return Err(format!("must be one of {}", values.join(", ")));
            }
        }
        FieldFormat::Email => {
            let s = text()?;
            let ok = s
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
            if !ok {
                return Err("must be an email address".into());
            }
        }
        FieldFormat::Pem => {
            let s = text()?;
            if !(s.trim_start().starts_with("-----BEGIN ") && s.contains("-----END ")) {
                return Err("must be a PEM block (-----BEGIN ... -----END ...)".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    fn schema() -> ConfigSchema {
        ConfigSchema::new([
            ConfigField::required("subdomain", FieldFormat::HostLabel),
            ConfigField::optional("base_url", FieldFormat::HttpsUrl),
            ConfigField::optional("page_size", FieldFormat::Integer { min: 1, max: 1000 }),
            ConfigField::secret("api_key").with_description("Settings > API keys in BambooHR"),
            ConfigField::secret("client_cert").with_format(FieldFormat::Pem).not_required(),
        ])
        .unwrap()
    }

    fn check(settings: Value, secrets: Secrets) -> Result<()> {
        let provider = ProviderId::new("bamboohr").unwrap();
        schema().validate(&provider, settings.as_object().unwrap(), &secrets)
    }

    #[test]
    fn a_valid_config_passes() {
        check(json!({"subdomain": "acme", "page_size": 100}), Secrets::new().with("api_key", "k")).unwrap();
        check(json!({"subdomain": "acme", "base_url": "http://127.0.0.1:8080"}), Secrets::new().with("api_key", "k"))
            .unwrap();
    }

    #[test]
    fn missing_fields_name_the_field_the_provider_and_where_to_find_it() {
        let err = check(json!({"subdomain": "acme"}), Secrets::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("secrets.api_key"));
        assert_eq!(err.provider(), Some("bamboohr"));
        assert!(err.message().contains("Settings > API keys"), "{err}");
    }

    #[test]
    fn malformed_fields_are_named() {
        let cases = [
            (json!({"subdomain": "-acme"}), "settings.subdomain"),
            (json!({"subdomain": 7}), "settings.subdomain"),
            (json!({"subdomain": "acme", "base_url": "http://example.com"}), "settings.base_url"),
            (json!({"subdomain": "acme", "base_url": "not a url"}), "settings.base_url"),
            (json!({"subdomain": "acme", "page_size": 0}), "settings.page_size"),
            (json!({"subdomain": "acme", "pagesize": 10}), "settings.pagesize"),
            (json!({"subdomain": "acme", "api_key": "plain"}), "settings.api_key"),
        ];
        for (settings, field) in cases {
            let err = check(settings.clone(), Secrets::new().with("api_key", "k")).unwrap_err();
            assert_eq!(err.field(), Some(field), "{settings}: {err}");
            assert_eq!(err.provider(), Some("bamboohr"));
        }
    }

    #[test]
    fn malformed_secrets_never_echo_the_value() {
        let err = check(
            json!({"subdomain": "acme"}),
            Secrets::new().with("api_key", "k").with("client_cert", "hunter2-not-a-pem"),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("secrets.client_cert"));
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_keys_list_the_known_ones() {
        let err =
            check(json!({"subdomain": "acme", "sub_domain": "x"}), Secrets::new().with("api_key", "k")).unwrap_err();
        assert!(err.message().contains("subdomain, base_url, page_size, api_key, client_cert"), "{err}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(ConfigSchema::new([ConfigField::secret("a"), ConfigField::secret("a")]).is_err());
    }
}
