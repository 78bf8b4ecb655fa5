//! Lowercase hex: content hashes, digests kept instead of secrets, and the signatures of the
//! webhook schemes that send hex.

/// `bytes` as lowercase hex.
///
/// ```
/// assert_eq!(integration_core::hex::encode(&[0x00, 0x9f, 0xff]), "009fff");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Lowercase hex only, as the decoded bytes.
pub(crate) fn decode_lowercase(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_uppercase() {
        assert_eq!(encode(&[0x00, 0x9f, 0xff]), "009fff");
        assert_eq!(decode_lowercase("009fff"), Some(vec![0x00, 0x9f, 0xff]));
        assert_eq!(decode_lowercase("009FFF"), None);
        assert_eq!(decode_lowercase("abc"), None);
    }
}
