//! [`Gathered`]: a body read chunk by chunk up to a limit, the common single chunk kept as it
//! came (no copy).

use bytes::{Bytes, BytesMut};

/// The chunks of a body read so far.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    first: Option<Bytes>,
    joined: BytesMut,
    len: usize,
}

impl Gathered {
    /// Adds `chunk`; `false` (and nothing kept) when the body would pass `limit` bytes.
    pub(crate) fn push(&mut self, chunk: Bytes, limit: usize) -> bool {
        if self.len + chunk.len() > limit {
            return false;
        }
        self.len += chunk.len();
        match self.first.take() {
            None if self.joined.is_empty() => self.first = Some(chunk),
            Some(head) => {
                self.joined.extend_from_slice(&head);
                self.joined.extend_from_slice(&chunk);
            }
            None => self.joined.extend_from_slice(&chunk),
        }
        true
    }

    /// The whole body.
    pub(crate) fn finish(self) -> Bytes {
        self.first.unwrap_or_else(|| self.joined.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_is_kept_and_several_are_joined_within_the_limit() {
        let chunk = Bytes::from_static(b"hello");
        let mut one = Gathered::default();
        assert!(one.push(chunk.clone(), 5));
        assert_eq!(one.finish().as_ptr(), chunk.as_ptr(), "not copied");
        let mut many = Gathered::default();
        assert!(many.push(Bytes::from_static(b"ab"), 5) && many.push(Bytes::from_static(b"cd"), 5));
        assert!(!many.push(Bytes::from_static(b"ef"), 5), "past the limit");
        assert_eq!(&many.finish()[..], b"abcd");
    }
}
