//! Numbers no float can hold. `serde_json` refuses a whole document for one number out of
//! range (`1e400`), so one bad field of one record would fail a provider's whole page. Such a
//! number is rewritten into an object that keeps it as written, `{"$unrepresentable_number":
//! "1e400"}`: the document parses, a field read as a number or an id is refused with its path
//! (so only its record is rejected, raw data kept), and a field nobody reads stays as it was.

/// The key of the object an out-of-range number becomes.
pub const UNREPRESENTABLE_NUMBER: &str = "$unrepresentable_number";

/// `json` with every number too large for an `f64` rewritten as
/// `{"$unrepresentable_number": "<as written>"}`; `None` when there is none. Linear in the
/// input; strings are skipped, escapes included; never panics on any input.
///
/// ```
/// use integration_core::decode::mark_unrepresentable_numbers;
///
/// let marked = mark_unrepresentable_numbers(br#"{"id": 1e400, "note": "1e400", "n": 2}"#).unwrap();
/// assert_eq!(marked, br#"{"id": {"$unrepresentable_number":"1e400"}, "note": "1e400", "n": 2}"#);
/// assert_eq!(mark_unrepresentable_numbers(br#"{"n": 1.5e300}"#), None);
/// ```
pub fn mark_unrepresentable_numbers(json: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied) = (0, 0);
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = json.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while json.get(i).is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
                    i += 1;
                }
                let token = &json[start..i];
                let out_of_range = std::str::from_utf8(token)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|n| n.is_infinite());
                if out_of_range {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(json.len() + 64));
                    buf.extend_from_slice(&json[copied..start]);
                    buf.extend_from_slice(b"{\"");
                    buf.extend_from_slice(UNREPRESENTABLE_NUMBER.as_bytes());
                    buf.extend_from_slice(b"\":\"");
                    buf.extend_from_slice(token);
                    buf.extend_from_slice(b"\"}");
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    let mut out = out?;
    out.extend_from_slice(json.get(copied..).unwrap_or_default());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn out_of_range_numbers_become_objects_and_the_rest_is_untouched() {
        let input = br#"[1e400, -2E+999, "x\"1e400", 12345678901234567890123, 1e-400, {"a": [1e309]}]"#;
        let marked = mark_unrepresentable_numbers(input).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_slice(&marked).unwrap_or_default();
        assert_eq!(value[0][UNREPRESENTABLE_NUMBER], "1e400");
        assert_eq!(value[1][UNREPRESENTABLE_NUMBER], "-2E+999");
        assert_eq!(value[2], "x\"1e400");
        assert!(value[3].is_number() && value[4].is_number());
        assert_eq!(value[5]["a"][0][UNREPRESENTABLE_NUMBER], "1e309");
    }

    proptest! {
        #[test]
        fn any_input_is_handled_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = mark_unrepresentable_numbers(&bytes);
        }

        #[test]
        fn documents_with_huge_numbers_parse_once_marked(
            doc in proptest::collection::vec((any::<bool>(), 309u32..5000, "[a-z]{0,6}"), 1..20)
        ) {
            let items: Vec<String> = doc.iter().map(|(neg, exp, s)| format!("{{\"n\": {}1e{exp}, \"s\": \"{s}\"}}", if *neg { "-" } else { "" })).collect();
            let text = format!("[{}]", items.join(","));
            prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
            let marked = mark_unrepresentable_numbers(text.as_bytes()).unwrap_or_default();
            let value: serde_json::Value = serde_json::from_slice(&marked).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(value.as_array().map(Vec::len), Some(doc.len()));
        }
    }
}
