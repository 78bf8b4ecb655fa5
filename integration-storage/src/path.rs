//! Paths inside a connection's storage, safe by construction: a [`StoragePath`] is a list of
//! names kept *encoded* — `%` and two hex digits for `%` itself, `\`, control characters, the
//! dots of a name `.` or `..`, and an empty name — so that no name is empty, `.` or `..`, or
//! holds a `/`, a `\` or a control character, and none is longer than [`MAX_NAME_BYTES`]. Its
//! text (`Display`) can be joined under any root and never leaves it; [`StoragePath::to_remote`]
//! gives the provider's name back exactly.
//!
//! Two ways in:
//! - [`StoragePath::parse`] for paths a caller writes: an unsafe name is refused with a
//!   `Validation` error naming it and why; names are put in Unicode NFC.
//! - [`StoragePath::from_remote`] for names a provider returns (an S3 key `a/../../etc/passwd`,
//!   a Dropbox name with a control character): unsafe names are encoded, so the file is still
//!   copied, under a name that cannot escape. Names are kept as the provider spells them (NFC or
//!   not: normalising would name another object); [`StoragePath::nfc_key`] tells apart what a
//!   normalising target would merge. Only what cannot be made safe (a name or path too long) is
//!   refused.
//!
//! ```
//! use integration_storage::StoragePath;
//!
//! let path = StoragePath::parse("/Reports/2026/Q4.pdf")?;
//! assert_eq!(path.to_string(), "Reports/2026/Q4.pdf");
//! assert_eq!(path.name().as_deref(), Some("Q4.pdf"));
//! assert!(StoragePath::parse("Reports/../../etc/passwd").is_err());
//!
//! // A provider's key with a traversal in it stays inside, and round-trips.
//! let remote = StoragePath::from_remote("a/../../etc/passwd")?;
//! assert_eq!(remote.to_string(), "a/%2E%2E/%2E%2E/etc/passwd");
//! assert_eq!(remote.to_remote(), "a/../../etc/passwd");
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::fmt;

use integration_core::{Error, Result};
use unicode_normalization::UnicodeNormalization;

/// The longest name, in UTF-8 bytes (most file systems' limit).
pub const MAX_NAME_BYTES: usize = 255;
/// The longest path, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 4096;
/// The most names in a path.
pub const MAX_DEPTH: usize = 256;

/// A path inside a connection's storage (see the [module](self) docs). The root is the empty
/// path.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoragePath {
    names: Vec<String>,
}

fn refused(path: &str, why: impl fmt::Display) -> Error {
    let shown: String = path.chars().take(120).flat_map(char::escape_debug).collect();
    Error::validation("path", format!("{why} (in \"{shown}\")"))
}

/// Why `name` cannot be a name as written, if it cannot.
fn unsafe_because(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("an empty name (two slashes in a row)")
    } else if name == "." || name == ".." {
        Some("a name of `.` or `..` (a path must not leave its folder)")
    } else if name.contains('\\') {
        Some("a backslash in a name (a separator on Windows)")
    } else if name.chars().any(char::is_control) {
        Some("a control character in a name")
    } else {
        None
    }
}

fn check_length(path: &str, names: &[String]) -> Result<()> {
    if let Some(long) = names.iter().find(|n| n.len() > MAX_NAME_BYTES) {
        return Err(refused(path, format!("a name of {} bytes, more than {MAX_NAME_BYTES}", long.len())));
    }
    if names.len() > MAX_DEPTH {
        return Err(refused(path, format!("{} names deep, more than {MAX_DEPTH}", names.len())));
    }
    let bytes = names.iter().map(|n| n.len() + 1).sum::<usize>();
    if bytes > MAX_PATH_BYTES {
        return Err(refused(path, format!("{bytes} bytes long, more than {MAX_PATH_BYTES}")));
    }
    Ok(())
}

/// A provider's key split into names: one leading `/` dropped (S3 keys and Dropbox paths alike),
/// every other slash a separator — empty names included, to be encoded.
fn split_remote(key: &str) -> impl Iterator<Item = &str> {
    let trimmed = key.strip_prefix('/').unwrap_or(key);
    trimmed.split('/').filter(move |_| !trimmed.is_empty())
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    trimmed.split('/').filter(move |_| !trimmed.is_empty())
}

/// An empty name, encoded.
const EMPTY: &str = "%FF";

/// `name` with every character that could make it unsafe, `%` and `/`, written as `%XX` (UTF-8
/// bytes); an empty name as `%FF`.
fn encode(name: &str) -> String {
    let whole_dots = name == "." || name == "..";
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '%' || c == '\\' || c == '/' || c.is_control() || (whole_dots && c == '.') {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    // 0xFF is never a byte of UTF-8, so `%FF` stands for nothing else.
    if out.is_empty() { EMPTY.to_owned() } else { out }
}

/// Undoes [`encode`].
fn decode(name: &str) -> String {
    if name == EMPTY {
        return String::new();
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl StoragePath {
    /// The root (no names).
    pub fn root() -> Self {
        Self::default()
    }

    /// A path as a caller writes it: names separated by `/` (a leading and a trailing `/`
    /// ignored), each in NFC.
    ///
    /// # Errors
    /// A `Validation` error (field `path`) for an empty name (`a//b`), `.` or `..`, a `\` or a
    /// control character, or a name, depth or length past the limits.
    pub fn parse(path: &str) -> Result<Self> {
        let mut names = Vec::new();
        for name in split(path) {
            if let Some(why) = unsafe_because(name) {
                return Err(refused(path, why));
            }
            names.push(encode(&name.nfc().collect::<String>()));
        }
        check_length(path, &names)?;
        Ok(Self { names })
    }

    /// A path from a name a provider returned: each name that would be unsafe is encoded
    /// (`%2E%2E` for `..`, `%5C` for `\`, `%0A` for a line feed, `%25` for `%` itself, `%FF` for
    /// an empty name), others kept as they are.
    ///
    /// # Errors
    /// A `Validation` error only for a name, depth or length past the limits (once encoded).
    pub fn from_remote(key: &str) -> Result<Self> {
        let names: Vec<String> = split_remote(key).map(encode).collect();
        check_length(key, &names)?;
        Ok(Self { names })
    }

    /// A path from names a provider returned one by one (a WebDAV href's segments, decoded):
    /// each is encoded as by [`from_remote`](Self::from_remote), a `/` inside a name too
    /// (`%2F`), so a name never becomes two.
    ///
    /// # Errors
    /// A `Validation` error only for a name, depth or length past the limits (once encoded).
    pub fn from_remote_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let names: Vec<String> = names.into_iter().map(encode).collect();
        check_length(&names.join("/"), &names)?;
        Ok(Self { names })
    }

    /// A path from its text ([`Display`](fmt::Display)): every name must be encoded already.
    ///
    /// # Errors
    /// A `Validation` error for a name that is unsafe or not encoded (`%` without two hex digits
    /// after it), or past the limits.
    pub fn from_encoded(text: &str) -> Result<Self> {
        let mut names = Vec::new();
        for name in split(text) {
            if let Some(why) = unsafe_because(name) {
                return Err(refused(text, why));
            }
            let bytes = name.as_bytes();
            let stray = bytes.iter().enumerate().any(|(i, b)| {
                *b == b'%'
                    && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            });
            if stray {
                return Err(refused(text, "a `%` not followed by two hex digits in an encoded name"));
            }
            names.push(name.to_owned());
        }
        check_length(text, &names)?;
        Ok(Self { names })
    }

    /// The provider's name for this path: the encoding undone.
    pub fn to_remote(&self) -> String {
        self.names.iter().map(|n| decode(n)).collect::<Vec<_>>().join("/")
    }

    /// The provider's names, one by one (for protocols that encode each, like WebDAV's URLs).
    pub fn remote_names(&self) -> impl Iterator<Item = String> + '_ {
        self.names.iter().map(|n| decode(n))
    }

    /// The path one name further down.
    ///
    /// # Errors
    /// As [`parse`](Self::parse), for `name` (which must be one name: no `/`).
    pub fn join(&self, name: &str) -> Result<Self> {
        if name.contains('/') {
            return Err(refused(name, "a `/` in a name"));
        }
        if let Some(why) = unsafe_because(name) {
            return Err(refused(name, why));
        }
        let mut names = self.names.clone();
        names.push(encode(&name.nfc().collect::<String>()));
        check_length(name, &names)?;
        Ok(Self { names })
    }

    /// `other` under this path (both already safe).
    ///
    /// # Errors
    /// A `Validation` error when the result is too long or too deep.
    pub fn join_path(&self, other: &StoragePath) -> Result<Self> {
        let names: Vec<String> = self.names.iter().chain(&other.names).cloned().collect();
        check_length(&format!("{self}/{other}"), &names)?;
        Ok(Self { names })
    }

    /// This path relative to `base`, if it is inside it.
    pub fn strip_prefix(&self, base: &StoragePath) -> Option<StoragePath> {
        self.names.starts_with(&base.names).then(|| Self { names: self.names[base.names.len()..].to_vec() })
    }

    /// The folder it is in (`None` for the root).
    pub fn parent(&self) -> Option<StoragePath> {
        let (_, parent) = self.names.split_last()?;
        Some(Self { names: parent.to_vec() })
    }

    /// Its last name as the provider spells it (`None` for the root).
    pub fn name(&self) -> Option<String> {
        self.names.last().map(|n| decode(n))
    }

    /// Its names, encoded (safe as file or object names anywhere), root first.
    pub fn encoded_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// A key under which names a Unicode-normalising target would take as one are equal (NFC,
    /// compared without regard to case is left to the caller).
    pub fn nfc_key(&self) -> String {
        self.to_remote().nfc().collect()
    }

    /// Whether it is the root.
    pub fn is_root(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `other` is this path or inside it.
    pub fn contains(&self, other: &StoragePath) -> bool {
        other.names.starts_with(&self.names)
    }
}

impl fmt::Display for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names.join("/"))
    }
}

impl serde::Serialize for StoragePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for StoragePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        StoragePath::from_encoded(&text).map_err(serde::de::Error::custom)
    }
}
