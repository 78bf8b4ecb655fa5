//! [`People`]: the HR dataset the HRIS fakes serve, each in its provider's format — a seedable
//! generator, and the changes an HR department makes between syncs (hire, update, terminate,
//! delete, leave), each stamped with the time it happened and queued as a webhook event.
//!
//! ```
//! use integration_testkit::fake::people::{People, Status};
//!
//! let people = People::generate(42, 10);
//! assert_eq!(people.people().len(), 10);
//! let ada = people.hire("Ada", "Lovelace");
//! people.terminate(101, chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
//! assert_eq!(people.person(101).unwrap().status, Status::Terminated);
//! people.delete(102);
//! assert_eq!(people.people().len(), 10); // 10 + Ada − the deleted one
//! let events = people.drain_events();
//! assert_eq!(events.len(), 3);
//! # let _ = ada;
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;

pub use super::dataset::Action;
use super::dataset::{Dataset, Event, Record, now};

/// Departments every dataset has: `(id, name)`.
pub const DEPARTMENTS: [(u64, &str); 5] =
    [(1, "Engineering"), (2, "Sales"), (3, "People"), (4, "Finance"), (5, "Support")];

/// Job titles every dataset has: `(id, title, department id)`.
pub const JOBS: [(u64, &str, u64); 6] = [
    (11, "Software Engineer", 1),
    (12, "Account Executive", 2),
    (13, "HR Partner", 3),
    (14, "Accountant", 4),
    (15, "Support Specialist", 5),
    (16, "Engineering Manager", 1),
];

const FIRST: [&str; 12] =
    ["Ava", "Noah", "Mia", "Liam", "Zoe", "Omar", "Ines", "Kenji", "Priya", "Lars", "Amara", "Diego"];
const LAST: [&str; 12] = [
    "Nguyen", "Okafor", "Schmidt", "Garcia", "Tanaka", "Haddad", "Kowalski", "Silva", "Patel", "Berg", "Mensah",
    "Rossi",
];

/// Where a person stands with the employer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Working.
    Active,
    /// On a leave of absence.
    OnLeave,
    /// Terminated.
    Terminated,
}

/// The kind of employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Full time.
    FullTime,
    /// Part time.
    PartTime,
    /// A contractor.
    Contractor,
}

/// What a pay rate is per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Per hour.
    Hour,
    /// Per year.
    Year,
}

/// One person, in provider-neutral terms; each fake renders it its own way. The dataset holds
/// them as [`Person`]s: with their id, change times, tombstone and overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFields {
    /// The employer's number.
    pub employee_number: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Work email.
    pub work_email: String,
    /// Personal email.
    pub personal_email: Option<String>,
    /// Department id (see [`DEPARTMENTS`]).
    pub department: u64,
    /// Job id (see [`JOBS`]).
    pub job: u64,
    /// Location name.
    pub location: String,
    /// The manager's id.
    pub manager: Option<u64>,
    /// Status.
    pub status: Status,
    /// Employment kind.
    pub kind: Kind,
    /// Hire date.
    pub hire_date: NaiveDate,
    /// Termination date.
    pub termination_date: Option<NaiveDate>,
    /// Pay rate as a decimal string (`"85000.00"`).
    pub pay_rate: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// What the rate is per.
    pub per: Per,
}

/// One person in the dataset: [`PersonFields`] with the id and bookkeeping of a [`Record`]
/// (`person.id`, `person.changed`, `person.overrides`; `person.first_name` through `Deref`).
pub type Person = Record<PersonFields>;

impl PersonFields {
    /// The department's name.
    pub fn department_name(&self) -> &'static str {
        DEPARTMENTS.iter().find(|(id, _)| *id == self.department).map_or("Unassigned", |(_, name)| name)
    }

    /// The job title.
    pub fn job_title(&self) -> &'static str {
        JOBS.iter().find(|(id, ..)| *id == self.job).map_or("Unassigned", |(_, title, _)| title)
    }

    /// `"First Last"`.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// Time off or a leave of absence.
#[derive(Debug, Clone, PartialEq)]
pub struct Leave {
    /// Its id.
    pub id: u64,
    /// The person's id.
    pub employee: u64,
    /// `"Vacation"`, `"Sick"`, `"Parental Leave"`...
    pub category: String,
    /// `"requested"`, `"approved"`, `"denied"`, `"canceled"`.
    pub status: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Days taken.
    pub days: u32,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub changed: DateTime<Utc>,
}

/// One change to a person, queued for the fake's webhooks.
pub type PersonEvent = Event;

#[derive(Debug, Default)]
struct LeaveBook {
    leaves: BTreeMap<u64, Leave>,
    next: u64,
}

/// The dataset; clones share it (the test changes it, the fake serves it).
#[derive(Debug, Clone)]
pub struct People {
    people: Dataset<PersonFields>,
    leaves: Arc<Mutex<LeaveBook>>,
}

impl Default for People {
    fn default() -> Self {
        Self::empty()
    }
}

impl People {
    /// An empty dataset.
    pub fn empty() -> Self {
        Self { people: Dataset::starting_at(100), leaves: Arc::default() }
    }

    /// `count` people generated from `seed` (the same seed gives the same people), with a
    /// manager chain, a few part-timers and contractors, one terminated person per ten, and
    /// one approved vacation per five. Their change times lie in early 2026, before any sync.
    pub fn generate(seed: u64, count: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let base = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().unwrap_or_default();
        let mut book = LeaveBook { next: 1000, ..LeaveBook::default() };
        let mut people = Vec::with_capacity(count);
        for i in 0..count {
            let id = 100 + i as u64;
            let first = FIRST[rng.usize(..FIRST.len())];
            let last = LAST[rng.usize(..LAST.len())];
            let (job, _, department) = JOBS[rng.usize(..JOBS.len())];
            let kind = match rng.u8(..10) {
                0 => Kind::Contractor,
                1 | 2 => Kind::PartTime,
                _ => Kind::FullTime,
            };
            let hire_date = NaiveDate::from_ymd_opt(2015 + rng.i32(0..10), rng.u32(1..=12), rng.u32(1..=28))
                .unwrap_or(NaiveDate::MIN);
            let terminated = i % 10 == 9;
            let (pay_rate, per) = match kind {
                Kind::Contractor => (format!("{}.50", rng.u32(40..120)), Per::Hour),
                _ => (format!("{}000.00", rng.u32(45..180)), Per::Year),
            };
            let changed = base + Duration::minutes(i as i64);
            let fields = PersonFields {
                employee_number: format!("E{:04}", i + 1),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                work_email: format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i),
                personal_email: (i % 3 == 0).then(|| format!("{}{}@mail.example.org", first.to_lowercase(), i)),
                department,
                job,
                location: ["Remote", "Berlin", "Toronto"][i % 3].to_owned(),
                manager: (i > 0).then(|| 100 + (i as u64 - 1) / 4),
                status: if terminated { Status::Terminated } else { Status::Active },
                kind,
                hire_date,
                termination_date: terminated.then(|| hire_date + Duration::days(400)),
                pay_rate,
                currency: "USD".to_owned(),
                per,
            };
            people.push(Record::new(id, fields, changed));
            if i % 5 == 4 {
                let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or(NaiveDate::MIN) + Duration::days(i as i64);
                let leave_id = book.next;
                book.next += 1;
                book.leaves.insert(
                    leave_id,
                    Leave {
                        id: leave_id,
                        employee: id,
                        category: "Vacation".to_owned(),
                        status: "approved".to_owned(),
                        start,
                        end: start + Duration::days(2),
                        days: 3,
                        created: changed,
                        changed,
                    },
                );
            }
        }
        Self { people: Dataset::with_records(100, people), leaves: Arc::new(Mutex::new(book)) }
    }

    fn book(&self) -> MutexGuard<'_, LeaveBook> {
        self.leaves.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The people as a generic [`Dataset`] (for the contract harness and kit helpers).
    pub fn dataset(&self) -> &Dataset<PersonFields> {
        &self.people
    }

    /// Hires a full-time engineer starting today; returns the new id.
    pub fn hire(&self, first_name: &str, last_name: &str) -> u64 {
        let manager = self.people.all().first().map(|p| p.id);
        self.people.add_with(|id| PersonFields {
            employee_number: format!("E{id:04}"),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            work_email: format!("{}.{}@example.com", first_name.to_lowercase(), last_name.to_lowercase()),
            personal_email: None,
            department: 1,
            job: 11,
            location: "Remote".to_owned(),
            manager,
            status: Status::Active,
            kind: Kind::FullTime,
            hire_date: now().date_naive(),
            termination_date: None,
            pay_rate: "98000.00".to_owned(),
            currency: "USD".to_owned(),
            per: Per::Year,
        })
    }

    /// Changes person `id` with `change`, naming the fields it changes; `false` if there is no
    /// such (live) person.
    pub fn update(&self, id: u64, fields: &[&'static str], change: impl FnOnce(&mut Person)) -> bool {
        self.people.update(id, fields, change)
    }

    /// Terminates person `id` on `date`.
    pub fn terminate(&self, id: u64, date: NaiveDate) -> bool {
        self.update(id, &["status", "termination_date"], |p| {
            p.status = Status::Terminated;
            p.termination_date = Some(date);
        })
    }

    /// Deletes person `id` (a tombstone stays for change listings).
    pub fn delete(&self, id: u64) -> bool {
        self.people.delete(id)
    }

    /// Brings deleted person `id` back.
    pub fn restore(&self, id: u64) -> bool {
        self.people.restore(id)
    }

    /// Records a leave of `category` for person `id` (approved) and puts them on leave;
    /// returns the leave's id.
    pub fn leave(&self, id: u64, category: &str, start: NaiveDate, end: NaiveDate) -> Option<u64> {
        if !self.update(id, &["status"], |p| p.status = Status::OnLeave) {
            return None;
        }
        let mut book = self.book();
        let at = now();
        let leave_id = book.next.max(1000);
        book.next = leave_id + 1;
        let days = u32::try_from((end - start).num_days() + 1).unwrap_or(1);
        book.leaves.insert(
            leave_id,
            Leave {
                id: leave_id,
                employee: id,
                category: category.to_owned(),
                status: "approved".to_owned(),
                start,
                end,
                days,
                created: at,
                changed: at,
            },
        );
        Some(leave_id)
    }

    /// Makes the fakes serve `value` for the provider-format field `field` of person `id`
    /// (`"hireDate"` for BambooHR), to test how adapters treat malformed data.
    pub fn corrupt(&self, id: u64, field: &str, value: Value) -> bool {
        self.people.corrupt(id, field, value)
    }

    /// Person `id`, deleted or not.
    pub fn person(&self, id: u64) -> Option<Person> {
        self.people.get(id)
    }

    /// Live people, by id.
    pub fn people(&self) -> Vec<Person> {
        self.people.live()
    }

    /// Everyone, tombstones included, by id.
    pub fn everyone(&self) -> Vec<Person> {
        self.people.all()
    }

    /// Leaves of live people, by id.
    pub fn leaves(&self) -> Vec<Leave> {
        let live: std::collections::BTreeSet<u64> = self.people.live().iter().map(|p| p.id).collect();
        self.book().leaves.values().filter(|l| live.contains(&l.employee)).cloned().collect()
    }

    /// Takes the events queued since the last call.
    pub fn drain_events(&self) -> Vec<PersonEvent> {
        self.people.drain_events()
    }
}
