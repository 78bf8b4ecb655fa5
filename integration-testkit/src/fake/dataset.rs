//! [`Dataset`]: the changing data behind a fake provider, for any domain — records keyed by id,
//! each stamped with when it was created and last changed, deleted as a tombstone (change
//! listings and delta tokens still see it) and restorable, with provider-format
//! [overrides](Record::overrides) to serve malformed values, and every change queued as an
//! [`Event`] for the fake's webhooks.
//!
//! ```
//! use integration_testkit::fake::dataset::{Action, Dataset};
//!
//! let notes = Dataset::starting_at(1);
//! let first = notes.add("buy milk");
//! let second = notes.add("call Ada");
//! assert!(notes.update(first, &["text"], |note| note.value = "buy oat milk"));
//! assert!(notes.delete(second));
//! assert_eq!(notes.live().len(), 1);
//! assert!(notes.restore(second));
//! let actions: Vec<Action> = notes.drain_events().iter().map(|e| e.action).collect();
//! assert_eq!(actions, [Action::Created, Action::Created, Action::Updated, Action::Deleted, Action::Restored]);
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;

/// One record of a [`Dataset`]: the domain's value and the bookkeeping every provider keeps.
/// Derefs to the value, so `record.title` reads the value's field.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    /// The provider's id (numeric; fakes with string ids derive theirs from it).
    pub id: u64,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed (deletions and restorations included).
    pub changed: DateTime<Utc>,
    /// Deleted: kept as a tombstone for change listings.
    pub deleted: bool,
    /// Provider-format fields to serve instead of the rendered ones (malformed-data tests).
    pub overrides: BTreeMap<String, Value>,
    /// The domain's value.
    pub value: T,
}

impl<T> Record<T> {
    /// A live record created and last changed `at`.
    pub fn new(id: u64, value: T, at: DateTime<Utc>) -> Self {
        Self { id, created: at, changed: at, deleted: false, overrides: BTreeMap::new(), value }
    }

    /// Writes the [overrides](Self::overrides) over the top-level fields of `rendered` (a JSON
    /// object; anything else is left alone).
    pub fn apply_overrides(&self, rendered: &mut Value) {
        if let Value::Object(object) = rendered {
            for (field, value) in &self.overrides {
                object.insert(field.clone(), value.clone());
            }
        }
    }
}

impl<T> Deref for Record<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Record<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Created.
    Created,
    /// Changed.
    Updated,
    /// Deleted (a tombstone stays).
    Deleted,
    /// Brought back after a deletion.
    Restored,
}

/// One change, queued for the fake's webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The record's id.
    pub id: u64,
    /// What happened.
    pub action: Action,
    /// Which neutral fields changed (`"status"`, `"last_name"`…), for updates.
    pub changed: Vec<&'static str>,
    /// When.
    pub at: DateTime<Utc>,
}

#[derive(Debug)]
struct State<T> {
    records: BTreeMap<u64, Record<T>>,
    events: Vec<Event>,
    first_id: u64,
}

/// The records; clones share them (the test changes them, the fake serves them).
#[derive(Debug)]
pub struct Dataset<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Self { state: self.state.clone() }
    }
}

impl<T: Clone> Default for Dataset<T> {
    fn default() -> Self {
        Self::starting_at(1)
    }
}

/// Now, to the second: providers stamp changes in whole seconds.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl<T: Clone> Dataset<T> {
    /// An empty dataset whose first added record gets id `first_id`.
    pub fn starting_at(first_id: u64) -> Self {
        Self { state: Arc::new(Mutex::new(State { records: BTreeMap::new(), events: Vec::new(), first_id })) }
    }

    /// A dataset holding `records` as they are (seeded data: no event is queued).
    pub fn with_records(first_id: u64, records: impl IntoIterator<Item = Record<T>>) -> Self {
        let records = records.into_iter().map(|r| (r.id, r)).collect();
        Self { state: Arc::new(Mutex::new(State { records, events: Vec::new(), first_id })) }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `value` under the next id (one past the highest, tombstones included); returns it.
    pub fn add(&self, value: T) -> u64 {
        self.add_with(|_| value)
    }

    /// Adds the value `make` builds from the next id; returns the id.
    pub fn add_with(&self, make: impl FnOnce(u64) -> T) -> u64 {
        let mut state = self.lock();
        let id = state.records.keys().next_back().map_or(state.first_id, |last| last + 1);
        let at = now();
        state.records.insert(id, Record::new(id, make(id), at));
        state.events.push(Event { id, action: Action::Created, changed: Vec::new(), at });
        id
    }

    /// Changes live record `id` with `change`, naming the fields it changes; `false` if there
    /// is no such live record.
    pub fn update(&self, id: u64, fields: &[&'static str], change: impl FnOnce(&mut Record<T>)) -> bool {
        self.touch(id, false, Action::Updated, fields, change)
    }

    /// Deletes live record `id`, leaving a tombstone.
    pub fn delete(&self, id: u64) -> bool {
        self.touch(id, false, Action::Deleted, &[], |r| r.deleted = true)
    }

    /// Brings deleted record `id` back, as it was.
    pub fn restore(&self, id: u64) -> bool {
        self.touch(id, true, Action::Restored, &[], |r| r.deleted = false)
    }

    fn touch(
        &self,
        id: u64,
        deleted: bool,
        action: Action,
        fields: &[&'static str],
        change: impl FnOnce(&mut Record<T>),
    ) -> bool {
        let mut state = self.lock();
        let at = now();
        let Some(record) = state.records.get_mut(&id).filter(|r| r.deleted == deleted) else {
            return false;
        };
        change(record);
        record.changed = at;
        state.events.push(Event { id, action, changed: fields.to_vec(), at });
        true
    }

    /// Makes the fake serve `value` for the provider-format field `field` of record `id`; no
    /// event, no change time — the provider's data was always like that.
    pub fn corrupt(&self, id: u64, field: &str, value: Value) -> bool {
        let mut state = self.lock();
        let Some(record) = state.records.get_mut(&id) else {
            return false;
        };
        record.overrides.insert(field.to_owned(), value);
        true
    }

    /// Record `id`, deleted or not.
    pub fn get(&self, id: u64) -> Option<Record<T>> {
        self.lock().records.get(&id).cloned()
    }

    /// Live records, by id.
    pub fn live(&self) -> Vec<Record<T>> {
        self.lock().records.values().filter(|r| !r.deleted).cloned().collect()
    }

    /// Every record, tombstones included, by id.
    pub fn all(&self) -> Vec<Record<T>> {
        self.lock().records.values().cloned().collect()
    }

    /// Records changed at or after `since` (`None`: every record), tombstones included, by id.
    pub fn changed_since(&self, since: Option<DateTime<Utc>>) -> Vec<Record<T>> {
        let state = self.lock();
        state.records.values().filter(|r| since.is_none_or(|s| r.changed >= s)).cloned().collect()
    }

    /// Takes the events queued since the last call.
    pub fn drain_events(&self) -> Vec<Event> {
        std::mem::take(&mut self.lock().events)
    }
}
