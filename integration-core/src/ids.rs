//! Identifiers: who a thing belongs to ([`TenantId`]), which connection ([`ConnectionId`]), which
//! provider ([`ProviderId`]) and which sync run ([`RunId`]).
//!
//! Ids are validated when built, so a store never sees an empty tenant or one with control
//! characters in it.
//!
//! ```
//! use integration_core::{ProviderId, TenantId};
//!
//! let tenant = TenantId::new("acme-corp").unwrap();
//! assert_eq!(tenant.as_str(), "acme-corp");
//! assert!(TenantId::new("").is_err());
//! assert!(ProviderId::new("BambooHR").is_err()); // provider ids are lowercase
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The longest tenant or connection id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 255;

fn check_free_form(kind: &str, value: &str) -> Result<(), Error> {
    let field = kind.replace(' ', "_");
    if value.is_empty() {
        return Err(Error::validation(field, format!("a {kind} id must not be empty")));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(Error::validation(
            field,
            format!("a {kind} id must be at most {MAX_ID_BYTES} bytes, got {}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) || value.trim() != value {
        return Err(Error::validation(
            field,
            format!("a {kind} id must not contain control characters or surrounding spaces: {value:?}"),
        ));
    }
    Ok(())
}

fn check_slug(kind: &str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            kind.replace(' ', "_"),
            format!("a {kind} id is 1 to 64 characters of a-z, 0-9, '_' or '-', starting with a letter: got {value:?}"),
        ))
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:ident) => {
        $(#[$doc])*
        ///
        /// Cheap to clone: the text is shared, not copied.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            #[doc = concat!("A ", $kind, " id, validated.")]
            pub fn new(value: impl Into<String>) -> Result<Self, Error> {
                let value = value.into();
                $check($kind, &value)?;
                Ok(Self(value.into()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A tenant of the host application: every stored thing belongs to exactly one.
    TenantId,
    "tenant",
    check_free_form
);
string_id!(
    /// One connection of a tenant to a provider (a tenant may connect the same provider twice).
    ConnectionId,
    "connection",
    check_free_form
);
string_id!(
    /// A provider's stable id, such as `bamboohr` or `quickbooks`.
    ProviderId,
    "provider",
    check_slug
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// The id as a UUID.
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                uuid::Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| Error::validation($field, format!("not a UUID: {s:?}")).with_source(e))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

uuid_id!(
    /// The id of one sync run: a UUIDv7, so ids sort by start time.
    RunId,
    "run_id"
);
uuid_id!(
    /// The id of one automation run: a UUIDv7, so ids sort by creation.
    AutomationRunId,
    "automation_run_id"
);
uuid_id!(
    /// The id of one received webhook delivery: a UUIDv7, so ids sort by arrival.
    DeliveryId,
    "delivery_id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn tenant_ids_reject_empty_long_and_control() {
        assert!(TenantId::new("t-1").is_ok());
        assert!(TenantId::new("user@example.com").is_ok());
        for bad in ["", " padded", "tab\there", &"x".repeat(256)] {
            let err = TenantId::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation);
            assert_eq!(err.field(), Some("tenant"));
        }
    }

    #[test]
    fn provider_ids_are_slugs() {
        assert!(ProviderId::new("bamboohr").is_ok());
        assert!(ProviderId::new("google_calendar").is_ok());
        for bad in ["", "BambooHR", "1password", "a b", "a/b"] {
            assert!(ProviderId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_deserialize_with_validation() {
        let ok: TenantId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(ok.as_str(), "acme");
        assert!(serde_json::from_str::<TenantId>("\"\"").is_err());
    }

    #[test]
    fn run_ids_sort_by_creation() {
        let a = RunId::new();
        let b = RunId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<RunId>().unwrap(), a);
    }
}
