//! What a calendar adapter uses, in one import: `use integration_calendar::prelude::*;`.

pub use integration_core::domain::prelude::*;
pub use integration_core::domain::{OperationKey, gone_is_done};

pub use crate::adapter::{Adapter, descriptor};
pub use crate::calendar::{Calendar, capability};
pub use crate::model::{Attendee, CalendarInfo, Event, FreeBusy, Recurrence, Reminder};
pub use crate::time::{EventTime, Interval};
pub use crate::vocabulary::{AccessRole, EventStatus, ResponseStatus, Transparency};
