//! [`FakeNotes`]: "Notes", the smallest API there is — the domain kit's and the generic REST
//! connector's test provider, built from the fake kit alone:
//!
//! - `Authorization: Bearer <`[`TOKEN`]`>`, `401 {"error": "unauthorized"}` otherwise;
//! - `GET /v1/notes?limit=&cursor=` (cursor paging, at most 100, `{"data", "next_cursor",
//!   "delta_token"}`), `updated_since=<RFC 3339>` for the notes changed since, deletions as
//!   `{"id", "deleted": true, "updated_at"}`; `GET /v1/notes/{id}`;
//! - a note: `{"id": "7", "text": "…", "updated_at": RFC 3339}`.

use serde_json::{Value, json};

use super::FakeServer;
use super::app::FakeApi;
use super::auth::Auth;
use super::collection::Collection;
use super::dataset::{Dataset, Record};
use super::faults::Faults;
use super::paging::Paging;
use crate::contract::harness::{Fake, Records};

/// The token the fake accepts.
pub const TOKEN: &str = "notes-test-token";

/// A running Notes fake; the [`Fake`] of the generic contract (its faults, changes and checks
/// through that trait).
#[derive(Debug)]
pub struct FakeNotes {
    server: FakeServer,
    notes: Dataset<String>,
    api: FakeApi,
}

fn render(note: &Record<String>) -> Value {
    json!({"id": note.id.to_string(), "text": *note.value, "updated_at": note.changed.to_rfc3339()})
}

impl FakeNotes {
    /// Starts the fake over `size` notes generated from `seed`.
    pub async fn start(seed: u64, size: usize) -> Self {
        let (notes, mut rng) = (Dataset::starting_at(1), fastrand::Rng::with_seed(seed));
        for _ in 0..size {
            notes.add(format!("note {}", rng.u32(..)));
        }
        let api = FakeApi::new(Auth::Bearer(TOKEN.to_owned()));
        let server = api.serve(Collection::new(notes.clone(), Paging::Cursor, render).router("/v1/notes")).await;
        Self { server, notes, api }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The notes (change them between syncs).
    pub fn notes(&self) -> &Dataset<String> {
        &self.notes
    }
}

impl Fake for FakeNotes {
    fn records(&self) -> &dyn Records {
        &self.notes
    }

    fn faults(&self) -> &Faults {
        self.api.faults()
    }

    fn add(&self) -> u64 {
        self.notes.add("a new note".into())
    }

    fn edit(&self, id: u64) -> bool {
        self.notes.update(id, &["text"], |n| n.value.push_str(", edited"))
    }

    /// Checks a cached note's `text` against note `id`; panics when they differ.
    fn check(&self, id: u64, cached: &Value) {
        let note = self.notes.get(id);
        assert_eq!(cached["text"].as_str(), note.as_ref().map(|n| n.value.as_str()), "note {id}");
    }
}
