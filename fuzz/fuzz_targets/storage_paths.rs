//! Arbitrary text as a provider's key, a written path and a path's own text: never a panic; a
//! kept key is safe under any folder and gives the key back.
#![no_main]

use integration_storage::StoragePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(path) = StoragePath::from_remote(&text) {
        for name in path.encoded_names() {
            assert!(!name.is_empty() && name != "." && name != "..");
            assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control));
        }
        assert_eq!(path.to_remote(), text.strip_prefix('/').unwrap_or(&text));
        assert_eq!(StoragePath::from_encoded(&path.to_string()).ok(), Some(path));
    }
    if let Ok(path) = StoragePath::parse(&text) {
        assert!(path.encoded_names().all(|n| n != ".." && !n.contains(['/', '\\'])));
    }
    let _ = StoragePath::from_encoded(&text).map(|p| p.to_remote());
});
