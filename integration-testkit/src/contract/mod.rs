//! Contract suites: what every adapter of a domain must do, checked against its fake.

pub mod hris;
