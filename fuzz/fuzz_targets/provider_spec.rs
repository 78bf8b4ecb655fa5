//! Arbitrary provider specs (TOML a host writes): reading and checking must never panic, and a
//! refusal is a configuration error.
//!
//! `cargo fuzz run provider_spec` (from this folder).

#![no_main]

use integration_core::ErrorKind;
use integration_core::spec::ProviderSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ProviderSpec::parse(text) {
        Ok(spec) => assert!(spec.base_url.starts_with("https://")),
        Err(refused) => assert_eq!(refused.kind(), ErrorKind::Config, "{refused}"),
    }
});
