//! Arbitrary provider bodies through the lenient JSON path: marking numbers no float holds must
//! never panic, and must leave a body that already parses alone (it holds no such number).
//!
//! `cargo fuzz run provider_json` (from this folder).

#![no_main]

use integration_core::decode::mark_unrepresentable_numbers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let marked = mark_unrepresentable_numbers(data);
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        assert!(marked.is_none(), "a body that parses has no number out of range");
    }
});
