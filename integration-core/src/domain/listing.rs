//! [`ListRequest`] and [`Listing`]: one page of a domain's collection, asked for and answered.

use std::num::NonZeroU32;

use chrono::{DateTime, Utc};

use super::Remote;
use crate::decode::Decoded;
use crate::error::{Error, Result};
use crate::integration::RejectedRecord;

/// Which slice of a collection to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListRequest {
    /// Where to continue: the [`Listing::next`] of the previous page; `None` for the first.
    pub cursor: Option<String>,
    /// For change listings: the inclusive lower bound of the change time.
    pub since: Option<DateTime<Utc>>,
    /// For change listings by token: the provider's token from the end of the previous pass
    /// ([`Listing::sync_token`]: a CalDAV sync-token, Google's `nextSyncToken`, a Graph delta
    /// link). `None` on a stream's first pass.
    pub sync_token: Option<String>,
    /// A page size hint; the adapter may use the provider's maximum instead.
    pub page_size: Option<NonZeroU32>,
    /// Part of a dry run: change nothing at the provider, not even by reading (see
    /// [`ReadRequest::dry_run`](crate::ReadRequest::dry_run)).
    pub dry_run: bool,
}

impl ListRequest {
    /// The first page.
    pub fn first() -> Self {
        Self::default()
    }

    /// The page at `cursor`.
    #[must_use]
    pub fn at(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Changes at or after `since`.
    #[must_use]
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Changes since the provider's `token`.
    #[must_use]
    pub fn sync_token(mut self, token: Option<String>) -> Self {
        self.sync_token = token;
        self
    }

    /// Sets the page size hint.
    #[must_use]
    pub fn page_size(mut self, size: Option<NonZeroU32>) -> Self {
        self.page_size = size;
        self
    }

    /// Marks the listing as part of a dry run.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// For offset paging: the cursor read as an offset (`0` for the first page). A cursor that
    /// is not a number is a [`Validation`](crate::ErrorKind::Validation) error naming
    /// `cursor`.
    pub fn offset(&self) -> Result<u64> {
        match self.cursor.as_deref() {
            None => Ok(0),
            Some(cursor) => {
                cursor.parse().map_err(|_| Error::validation("cursor", format!("{cursor:?} is not an offset")))
            }
        }
    }

    /// The page size to ask for: the hint, at most `max` (the provider's largest page), or `max`.
    pub fn limit(&self, max: u32) -> u32 {
        self.page_size.map_or(max, |n| n.get().min(max))
    }
}

/// One page of records.
#[derive(Debug)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The records that mapped onto the common model.
    pub items: Vec<Remote<T>>,
    /// Records that did not, each with its raw data and an error naming the record and field.
    pub rejected: Vec<RejectedRecord>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<String>,
    /// For change listings: the provider's own mark of how far its changes go, to start the next
    /// listing from. Without it the next listing starts a margin before this pass began.
    pub high_water: Option<DateTime<Utc>>,
    /// The provider's token for the next change listing, given with a pass's last page (or any
    /// page: the latest given wins); it comes back as [`ListRequest::sync_token`] on the next
    /// pass.
    pub sync_token: Option<String>,
    /// Prefixes of remote ids deleted with everything they name: what a folder's tombstone
    /// takes with it, for a provider that reports a deleted folder alone and keys its records
    /// by path (Dropbox). The sync engine deletes the cached records whose ids start with one.
    pub deleted_under: Vec<String>,
}

impl<T> Listing<T> {
    /// A page of `items` followed by the page at `next`.
    pub fn new(items: Vec<Remote<T>>, next: Option<String>) -> Self {
        Self { items, rejected: Vec::new(), next, high_water: None, sync_token: None, deleted_under: Vec::new() }
    }

    /// A page from decoded records.
    pub fn decoded(decoded: Decoded<Remote<T>>, next: Option<String>) -> Self {
        Self {
            items: decoded.ok,
            rejected: decoded.rejected,
            next,
            high_water: None,
            sync_token: None,
            deleted_under: Vec::new(),
        }
    }

    /// Sets the provider's change mark.
    #[must_use]
    pub fn with_high_water(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.high_water = at;
        self
    }

    /// Sets the provider's token for the next change listing.
    #[must_use]
    pub fn with_sync_token(mut self, token: Option<String>) -> Self {
        self.sync_token = token;
        self
    }

    /// Adds a prefix of remote ids deleted with everything under it (see
    /// [`deleted_under`](Self::deleted_under)).
    #[must_use]
    pub fn with_deleted_under(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        if !prefix.is_empty() {
            self.deleted_under.push(prefix);
        }
        self
    }
}
