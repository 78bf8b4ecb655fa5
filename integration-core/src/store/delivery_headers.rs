//! [`DeliveryHeaders`]: a webhook delivery's request headers, as the delivery log keeps them.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Separates names and values in the buffer: HTTP header names and values cannot contain it.
const SEPARATOR: char = '\0';

/// A delivery's request headers as text, in the order received, less the credentials the
/// router drops (`authorization`, `cookie`, `proxy-authorization`).
///
/// Kept in one buffer (one allocation however many headers, where a list of string pairs takes
/// two a header); serialized as a list of `[name, value]` pairs. Values that are not UTF-8 are
/// kept lossily (U+FFFD).
///
/// ```
/// use integration_core::store::DeliveryHeaders;
///
/// let headers: DeliveryHeaders = [("webhook-id", "msg_1"), ("content-type", "application/json")].into_iter().collect();
/// assert_eq!(headers.get("Webhook-Id"), Some("msg_1"));
/// assert_eq!(headers.iter().count(), 2);
/// assert_eq!(serde_json::to_string(&headers).unwrap(), r#"[["webhook-id","msg_1"],["content-type","application/json"]]"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct DeliveryHeaders {
    /// `name \0 value \0` for each header.
    text: String,
}

impl DeliveryHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The headers of a request, less those named in `drop`.
    pub fn from_request(headers: &HeaderMap, drop: &[HeaderName]) -> Self {
        let kept = || headers.iter().filter(|(name, _)| !drop.contains(name));
        let mut headers =
            Self { text: String::with_capacity(kept().map(|(n, v)| n.as_str().len() + v.len() + 2).sum()) };
        for (name, value) in kept() {
            match value.to_str() {
                Ok(value) => headers.push(name.as_str(), value),
                Err(_) => headers.push(name.as_str(), &String::from_utf8_lossy(value.as_bytes())),
            }
        }
        headers
    }

    /// Adds a header (a NUL in the name or value, which HTTP cannot carry, becomes U+FFFD).
    pub fn push(&mut self, name: &str, value: &str) {
        for part in [name, value] {
            if part.contains(SEPARATOR) {
                self.text.push_str(&part.replace(SEPARATOR, "\u{FFFD}"));
            } else {
                self.text.push_str(part);
            }
            self.text.push(SEPARATOR);
        }
    }

    /// The headers, in order, as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut parts = self.text.split_terminator(SEPARATOR);
        std::iter::from_fn(move || Some((parts.next()?, parts.next().unwrap_or_default())))
    }

    /// The first value of `name` (compared without regard to case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.text.matches(SEPARATOR).count() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The headers as an `http` map; a name or value that is not valid HTTP is left out.
    pub fn to_header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in self.iter() {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                map.append(name, value);
            }
        }
        map
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for DeliveryHeaders {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in pairs {
            headers.push(name.as_ref(), value.as_ref());
        }
        headers
    }
}

impl fmt::Debug for DeliveryHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for DeliveryHeaders {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for DeliveryHeaders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = DeliveryHeaders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of [name, value] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DeliveryHeaders, A::Error> {
                let mut headers = DeliveryHeaders::new();
                while let Some((name, value)) = seq.next_element::<(String, String)>()? {
                    headers.push(&name, &value);
                }
                Ok(headers)
            }
        }
        d.deserialize_seq(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keeps_a_request_less_credentials_in_order() {
        let mut request = HeaderMap::new();
        request.append("webhook-id", HeaderValue::from_static("msg_1"));
        request.append("authorization", HeaderValue::from_static("Bearer secret"));
        request.append("x-tag", HeaderValue::from_static("a"));
        request.append("x-tag", HeaderValue::from_static("b"));
        request.append("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let kept = DeliveryHeaders::from_request(&request, &[http::header::AUTHORIZATION]);
        let pairs: Vec<_> = kept.iter().collect();
        assert_eq!(pairs, [("webhook-id", "msg_1"), ("x-tag", "a"), ("x-tag", "b"), ("x-raw", "caf\u{FFFD}")]);
        assert_eq!((kept.len(), kept.get("X-TAG"), kept.get("authorization")), (4, Some("a"), None));
        assert_eq!(kept.to_header_map().get_all("x-tag").iter().count(), 2);
    }

    #[test]
    fn empty_values_and_nul_survive() {
        let headers: DeliveryHeaders = [("a", ""), ("b\0", "x\0y"), ("c", "")].into_iter().collect();
        assert_eq!(headers.iter().collect::<Vec<_>>(), [("a", ""), ("b\u{FFFD}", "x\u{FFFD}y"), ("c", "")]);
        assert_eq!(headers.len(), 3);
        assert!(DeliveryHeaders::new().is_empty() && DeliveryHeaders::new().iter().next().is_none());
    }

    proptest! {
        #[test]
        fn any_pairs_round_trip_through_json(pairs in proptest::collection::vec(("[^\0]{0,12}", "[^\0]{0,24}"), 0..8)) {
            let headers: DeliveryHeaders = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let back: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
            prop_assert_eq!(&back, &pairs);
            let json = serde_json::to_string(&headers).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&pairs).unwrap());
            prop_assert_eq!(serde_json::from_str::<DeliveryHeaders>(&json).unwrap(), headers);
        }
    }
}
