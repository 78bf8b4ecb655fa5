//! Open enumerations: known values with their canonical names, and `Other(String)` for a value
//! a provider added yesterday — never an error. Every domain's vocabulary is declared with
//! [`open_enum!`](crate::open_enum).
//!
//! ```
//! integration_core::open_enum! {
//!     /// A card's brand.
//!     Brand {
//!         /// Visa.
//!         Visa => "visa",
//!         /// American Express.
//!         Amex => "american_express",
//!     }
//! }
//!
//! assert_eq!(Brand::parse("American-Express"), Brand::Amex);
//! assert_eq!(Brand::parse("Diners"), Brand::Other("Diners".into()));
//! assert_eq!(serde_json::to_string(&Brand::Visa).unwrap(), r#""visa""#);
//! assert_eq!(Brand::Amex.to_string(), "american_express");
//! ```

/// `text` lowercased with everything but letters and digits dropped: how [`open_enum!`](crate::open_enum)
/// compares a provider's spelling with a canonical name.
#[doc(hidden)]
pub fn normalize(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Declares an open enumeration: known variants with their canonical (`snake_case`) names, plus
/// `Other(String)` holding a provider's value as written. `parse` matches ignoring case, spaces,
/// hyphens and underscores; `as_str`, `Display` and serde use the canonical name.
#[macro_export]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this SDK does not know, as the provider wrote it.
            Other(String),
        }

        impl $name {
            /// The canonical name (`snake_case`), or the provider's text for `Other`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(text) => text,
                }
            }

            /// The variant whose canonical name matches `text` ignoring case, spaces, hyphens
            /// and underscores; otherwise `Other(text)`.
            pub fn parse(text: &str) -> Self {
                let wanted = $crate::domain::vocabulary::normalize(text);
                $(if wanted == $crate::domain::vocabulary::normalize($wire) { return Self::$variant; })+
                Self::Other(text.to_owned())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::parse(&text))
            }
        }
    };
}
