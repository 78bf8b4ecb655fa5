//! The calendar model's enumerations, open to values a provider adds (`Other(String)`).

use integration_core::open_enum;

open_enum! {
    /// Where an event stands (`STATUS`).
    EventStatus {
        /// Confirmed.
        Confirmed => "confirmed",
        /// Tentative.
        Tentative => "tentative",
        /// Cancelled.
        Cancelled => "cancelled",
    }
}

open_enum! {
    /// An attendee's answer (`PARTSTAT`).
    ResponseStatus {
        /// Not answered yet.
        NeedsAction => "needs_action",
        /// Accepted.
        Accepted => "accepted",
        /// Declined.
        Declined => "declined",
        /// Tentatively accepted.
        Tentative => "tentative",
        /// Delegated to someone else.
        Delegated => "delegated",
    }
}

open_enum! {
    /// Whether an event blocks time (`TRANSP`).
    Transparency {
        /// Busy (`OPAQUE`): the time is taken.
        Busy => "busy",
        /// Free (`TRANSPARENT`): shown, the time stays free.
        Free => "free",
    }
}

open_enum! {
    /// What a person may do with a calendar.
    AccessRole {
        /// Sees only free and busy times.
        FreeBusyReader => "free_busy_reader",
        /// Reads events.
        Reader => "reader",
        /// Reads and writes events.
        Writer => "writer",
        /// Owns it: writes and shares it.
        Owner => "owner",
    }
}
