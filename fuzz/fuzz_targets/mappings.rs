//! Arbitrary mapping definitions (the JSON a host stores with a connection) read, checked and
//! applied to a record: reading, checking and applying must never panic, and a definition that
//! is refused names the field that is wrong.
//!
//! `cargo fuzz run mappings` (from this folder).

#![no_main]

use integration_core::mapping::{Mapper, Mappings};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(mappings) = serde_json::from_slice::<Mappings>(data) else { return };
    match Mapper::compile(&mappings, None) {
        Ok(mapper) => {
            let raw = json!({"id": "1", "a": {"b": [" x ", 2, null]}, "when": "31/12/2026", "n": 7.5});
            for stream in ["employees", "notes", ""] {
                let mut record = json!({"remote_id": "1", "work_email": "a@example.com", "n": 3});
                let _ = mapper.apply(stream, &mut record, Some(&raw));
            }
        }
        Err(refused) => assert!(refused.field().is_some_and(|f| f.starts_with("mappings")), "{refused}"),
    }
});
