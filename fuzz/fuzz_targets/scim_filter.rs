//! Arbitrary text as a SCIM filter from an identity provider: parsed into a filter or refused
//! with `invalidFilter` — never a panic —, and every filter parsed evaluated against a user
//! without a panic (an ordering against a boolean is `invalidFilter` too).
//!
//! `cargo fuzz run scim_filter` (from this folder).

#![no_main]

use integration_sso::scim::filter::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let filter = match Filter::parse(text) {
        Ok(filter) => filter,
        Err(error) => {
            assert_eq!((error.status(), error.scim_type()), (400, Some("invalidFilter")));
            return;
        }
    };
    let user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2819c223", "userName": "bjensen",
        "active": true, "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        "emails": [{"type": "work", "value": "bjensen@example.com", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"},
    });
    if let Err(error) = filter.matches(&user) {
        assert_eq!(error.scim_type(), Some("invalidFilter"));
    }
});
