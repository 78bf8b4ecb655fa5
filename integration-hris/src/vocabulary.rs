//! The HRIS model's enumerations. Each is *open*: a provider value we do not know lands in
//! `Other(String)` with the provider's spelling, never in an error.
//!
//! Each serializes as a `snake_case` string (`"full_time"`), `Other` as the provider's text.
//!
//! ```
//! use integration_hris::EmploymentStatus;
//!
//! assert_eq!(EmploymentStatus::parse("active"), EmploymentStatus::Active);
//! assert_eq!(EmploymentStatus::parse("Garden Leave"), EmploymentStatus::Other("Garden Leave".into()));
//! assert_eq!(serde_json::to_string(&EmploymentStatus::OnLeave).unwrap(), r#""on_leave""#);
//! ```

use integration_core::open_enum;

open_enum! {
    /// Where an employee stands with the employer.
    EmploymentStatus {
        /// Working.
        Active => "active",
        /// Hired, not started yet.
        Pending => "pending",
        /// On a leave of absence.
        OnLeave => "on_leave",
        /// No longer employed.
        Terminated => "terminated",
        /// Inactive for another reason the provider does not say.
        Inactive => "inactive",
    }
}

open_enum! {
    /// The kind of employment.
    EmploymentType {
        /// Full time.
        FullTime => "full_time",
        /// Part time.
        PartTime => "part_time",
        /// A contractor or contingent worker.
        Contractor => "contractor",
        /// An intern.
        Intern => "intern",
        /// A temporary or seasonal employee.
        Temporary => "temporary",
    }
}

open_enum! {
    /// The period a pay rate is for.
    PayPeriod {
        /// Per hour.
        Hour => "hour",
        /// Per day.
        Day => "day",
        /// Per week.
        Week => "week",
        /// Per month.
        Month => "month",
        /// Per year.
        Year => "year",
    }
}

open_enum! {
    /// Where a time-off request is in its approval.
    TimeOffStatus {
        /// Asked for, not decided.
        Requested => "requested",
        /// Approved.
        Approved => "approved",
        /// Denied.
        Denied => "denied",
        /// Withdrawn or cancelled.
        Cancelled => "cancelled",
    }
}

open_enum! {
    /// What a time off is for.
    TimeOffCategory {
        /// Vacation or paid time off.
        Vacation => "vacation",
        /// Sick leave.
        Sick => "sick",
        /// Personal days.
        Personal => "personal",
        /// Parental leave.
        Parental => "parental",
        /// A leave of absence (unpaid, medical, sabbatical...).
        LeaveOfAbsence => "leave_of_absence",
    }
}

open_enum! {
    /// The unit of a time-off amount.
    TimeUnit {
        /// Days.
        Days => "days",
        /// Hours.
        Hours => "hours",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_lenient_about_spelling() {
        assert_eq!(EmploymentType::parse("Full-Time"), EmploymentType::FullTime);
        assert_eq!(EmploymentType::parse("PART_TIME"), EmploymentType::PartTime);
        assert_eq!(TimeOffCategory::parse("Leave of absence"), TimeOffCategory::LeaveOfAbsence);
    }

    #[test]
    fn unknown_values_round_trip_as_other() {
        let value: PayPeriod = serde_json::from_str(r#""Fortnight""#).unwrap();
        assert_eq!(value, PayPeriod::Other("Fortnight".into()));
        assert_eq!(serde_json::to_string(&value).unwrap(), r#""Fortnight""#);
        let known: PayPeriod = serde_json::from_str(r#""year""#).unwrap();
        assert_eq!(known, PayPeriod::Year);
    }
}
