//! The paging styles providers use, for the fakes: which slice of a listing a request gets, and
//! how the answer says where the next page is.
//!
//! | style | request | next page |
//! |---|---|---|
//! | [`Paging::Cursor`] | `cursor`, `limit` | `next_cursor` in the body (opaque, after the last id) |
//! | [`Paging::OffsetLimit`] | `offset`, `limit` | `total` in the body |
//! | [`Paging::PageNumber`] | `page` (1-based), `per_page` | `next_page` in the body |
//! | [`Paging::LinkHeader`] | `page`, `per_page` | `Link: <…>; rel="next"` (RFC 8288) |
//! | [`Paging::ODataNextLink`] | `$top`, `$skip` | `@odata.nextLink` in the body |
//!
//! Change listings by token ([`DeltaToken`]: the last page of a listing carries a token; a later
//! request with it lists what changed since, tombstones included) work with any style.
//! [`Shifts`] makes offset paging behave as it does when records are inserted while a client
//! pages ([`Fault::DuplicateAcrossPages`](super::faults::Fault::DuplicateAcrossPages)).
//!
//! ```
//! use integration_testkit::fake::paging::{Cursor, DeltaToken};
//!
//! let cursor = Cursor::after(41, DeltaToken::now());
//! assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
//! assert_eq!(Cursor::parse("not a cursor"), None);
//! let token = DeltaToken::now();
//! assert_eq!(DeltaToken::parse(&token.encode()), Some(token));
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::dataset::now;
use super::faults::Faults;

/// A paging style (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Paging {
    /// An opaque cursor naming the last record served.
    Cursor,
    /// An offset and a limit, with the total in the answer.
    OffsetLimit,
    /// A 1-based page number and a page size.
    PageNumber,
    /// Page numbers, the next page's URL in a `Link` header.
    LinkHeader,
    /// OData's `$top` / `$skip`, the next page's URL in `@odata.nextLink`.
    ODataNextLink,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// An opaque cursor: "after record `id`, in the pass that began at this moment" (a pass's
/// delta token is taken when it begins, so nothing changed during it is missed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    last: u64,
    pass: DeltaToken,
}

impl Cursor {
    /// The cursor after record `id` in the pass that began with `pass`.
    pub fn after(id: u64, pass: DeltaToken) -> Self {
        Self { last: id, pass }
    }

    /// The id the next page starts after.
    pub fn last(self) -> u64 {
        self.last
    }

    /// When the pass began.
    pub fn pass(self) -> DeltaToken {
        self.pass
    }

    /// Its opaque text.
    pub fn encode(self) -> String {
        B64.encode(format!("after:{}:{}", self.last, self.pass.0.timestamp()))
    }

    /// Reads a cursor this fake issued; `None` for anything else (the fake answers `400`).
    pub fn parse(text: &str) -> Option<Self> {
        let decoded = String::from_utf8(B64.decode(text).ok()?).ok()?;
        let (last, pass) = decoded.strip_prefix("after:")?.split_once(':')?;
        let pass = DateTime::from_timestamp(pass.parse().ok()?, 0)?;
        Some(Self { last: last.parse().ok()?, pass: DeltaToken(pass) })
    }
}

/// A delta (sync) token: "what changed since this moment".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaToken(DateTime<Utc>);

impl DeltaToken {
    /// A token for changes from now on.
    pub fn now() -> Self {
        Self(now())
    }

    /// The moment changes are listed from (inclusive: a change in the same second comes again
    /// rather than never).
    pub fn since(self) -> DateTime<Utc> {
        self.0
    }

    /// Its opaque text.
    pub fn encode(self) -> String {
        B64.encode(format!("delta:{}", self.0.timestamp()))
    }

    /// Reads a token this fake issued; `None` for anything else (the fake answers `410 Gone`,
    /// as providers do for a token they no longer honour).
    pub fn parse(text: &str) -> Option<Self> {
        let decoded = String::from_utf8(B64.decode(text).ok()?).ok()?;
        let seconds: i64 = decoded.strip_prefix("delta:")?.parse().ok()?;
        DateTime::from_timestamp(seconds, 0).map(Self)
    }
}

/// The slice of `len` items a page-numbered request gets (`page` 1-based), and the next page's
/// number when there is one; `None` for page 0.
pub fn page_number(len: usize, page: usize, per_page: usize) -> Option<(std::ops::Range<usize>, Option<usize>)> {
    let start = page.checked_sub(1)?.saturating_mul(per_page).min(len);
    let end = start.saturating_add(per_page).min(len);
    Some((start..end, (end < len).then(|| page + 1)))
}

/// An RFC 8288 `Link` header value pointing at `url` as the next page.
pub fn link_next(url: &str) -> String {
    format!("<{url}>; rel=\"next\"")
}

/// Offset paging while records move: per listing (path and filters), how many records were
/// "inserted ahead" of the client during its pass. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct Shifts {
    shifts: Arc<Mutex<HashMap<String, usize>>>,
}

impl Shifts {
    /// Where the page at `offset` of listing `key` starts, and how far the listing shifted: a
    /// first page (`offset` 0) starts a new pass; a later one takes a pending
    /// [`DuplicateAcrossPages`](super::faults::Fault::DuplicateAcrossPages) for `path`, after
    /// which every page of the pass starts one record earlier (and the total grows by one).
    pub fn start(&self, faults: &Faults, path: &str, key: &str, offset: usize) -> (usize, usize) {
        let mut shifts = self.shifts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if offset == 0 {
            shifts.remove(key);
        } else if faults.take_duplicate(path) {
            *shifts.entry(key.to_owned()).or_default() += 1;
        }
        let shift = shifts.get(key).copied().unwrap_or(0);
        (offset.saturating_sub(shift), shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_cover_the_listing_once() {
        assert_eq!(page_number(5, 1, 2), Some((0..2, Some(2))));
        assert_eq!(page_number(5, 3, 2), Some((4..5, None)));
        assert_eq!(page_number(5, 9, 2), Some((5..5, None)));
        assert_eq!(page_number(5, 0, 2), None);
        assert_eq!(page_number(5, usize::MAX, usize::MAX), Some((5..5, None)));
    }

    #[test]
    fn a_duplicate_shifts_the_rest_of_the_pass_only() {
        let (faults, shifts) = (Faults::new(), Shifts::default());
        faults.inject(super::super::faults::Fault::DuplicateAcrossPages, 1);
        assert_eq!(shifts.start(&faults, "/x", "k", 0), (0, 0));
        assert_eq!(shifts.start(&faults, "/x", "k", 5), (4, 1));
        assert_eq!(shifts.start(&faults, "/x", "k", 10), (9, 1));
        assert_eq!(shifts.start(&faults, "/x", "k", 0), (0, 0), "a new pass starts clean");
    }
}
