//! Fake providers: stateful HTTP servers on `127.0.0.1:0` with each provider's real paths,
//! authentication, paging, error answers and webhook signing, over a dataset a test changes
//! between syncs, with [`faults`] injected on demand.
//!
//! | fake | provider | dataset |
//! |---|---|---|
//! | [`bamboohr::FakeBambooHr`] | BambooHR API v1 | [`people::People`] |
//! | [`workday::FakeWorkday`] | Workday REST (Staffing v6) and its OAuth2 token endpoint | [`people::People`] |
//! | [`adp::FakeAdp`] | ADP Workforce Now (Workers v2, event notifications, validation tables) over mutual TLS, and its token endpoint | [`people::People`] |
//! | [`tinyhr::FakeTinyHr`] | TinyHR, the adapter guide's small example API | [`people::People`] |
//! | [`adyen::FakeAdyen`] | Adyen Checkout API v71 (payments with stored cards, modifications, idempotency keys) and its HMAC-signed notifications | its own payments and tokens |
//! | `google_calendar::FakeGoogleCalendar` (feature `calendar`) | Google Calendar API v3: calendars, events with client ids, `If-Match`, sync tokens and `410`, free/busy, ACL; OAuth2 token endpoint | its own calendars and events |
//! | `graph_calendar::FakeGraphCalendar` (feature `calendar`) | Microsoft Graph v1.0 calendars: events and series (`patternedRecurrence`, occurrences, exceptions), calendar view delta links and `410`, `transactionId`, `If-Match`, `getSchedule`, calendar permissions, subscriptions with the validation handshake; the identity platform's token endpoint | its own calendars and events |
//! | `google_drive::FakeGoogleDrive` (feature `storage`) | Google Drive API v3: files with `q` search, media downloads with ranges, resumable uploads, copies, moves, permissions, revisions, the changes feed with start page tokens; OAuth2 token endpoint | a [`file_tree::FileTree`] |
//! | `graph_drive::FakeGraphDrive` (feature `storage`) | OneDrive and SharePoint document libraries through Graph v1.0: driveItems by id and by path, children, simple uploads and upload sessions, copies with monitors, moves, versions, invitations and sharing links, search, `delta` with expiring links; the identity platform's token endpoint | a [`file_tree::FileTree`] |
//! | `dropbox::FakeDropbox` (feature `storage`) | Dropbox API v2: RPC and content endpoints, `list_folder` with cursors and `continue`, uploads with `content_hash` and upload sessions, downloads with ranges, copies, moves, revisions, search, shared links; the OAuth2 token endpoint | a [`file_tree::FileTree`] |
//! | [`notes::FakeNotes`] | Notes, the domain kit's and the REST connector's test API | a [`dataset::Dataset`] of texts |
//!
//! They are built from the fake-provider kit, which a new domain's fakes use too:
//!
//! | piece | what it gives |
//! |---|---|
//! | [`dataset::Dataset`] | records keyed by id: add, update, delete (tombstones), restore, corrupt; change times; webhook events |
//! | [`app::FakeApi`] | the auth check around every route and the [`faults`] middleware around that |
//! | [`auth`] | API key, Basic, Bearer and OAuth2 checks; [`auth::TokenIssuer`]: grants, expiring access tokens, rotating refresh tokens |
//! | [`tls`] | mutual TLS: a generated CA, client certificates, a server refusing others in the handshake |
//! | [`paging`], [`collection::Collection`] | cursor, offset/limit, page number, `Link` header, OData next link, delta tokens; a REST collection over a dataset in any of them |
//! | [`webhooks::Subscriptions`] | registered endpoints, deliveries signed with any core scheme |
//!
//! [`receiver::Receiver`] is the other direction: an endpoint the code under test calls out to.

pub mod adp;
pub mod adyen;
pub mod app;
pub mod auth;
pub mod bamboohr;
pub mod collection;
pub mod dataset;
#[cfg(feature = "storage")]
pub mod dropbox;
pub mod faults;
#[cfg(feature = "storage")]
pub mod file_tree;
#[cfg(feature = "calendar")]
pub mod google_calendar;
#[cfg(feature = "storage")]
pub mod google_drive;
#[cfg(feature = "calendar")]
pub mod graph_calendar;
#[cfg(feature = "storage")]
pub mod graph_drive;
pub mod notes;
pub mod paging;
pub mod people;
pub mod quickbooks;
pub mod receiver;
mod server;
pub mod tinyhr;
pub mod tls;
pub mod webhooks;
pub mod workday;
pub mod xero;

pub use server::FakeServer;
