//! Paths never leave their folder: any key a provider returns is kept (encoded where it must be)
//! and round-trips; what a caller writes is refused when unsafe; files written under a folder
//! from hostile keys land inside it.

use integration_storage::StoragePath;
use integration_storage::path::{MAX_DEPTH, MAX_NAME_BYTES, MAX_PATH_BYTES};
use proptest::prelude::*;

/// Whether `path`, as a relative file-system path, stays under whatever it is joined to.
fn stays_inside(path: &StoragePath) -> bool {
    use std::path::Component;
    let relative = std::path::PathBuf::from(path.to_string());
    relative.components().all(|c| matches!(c, Component::Normal(_)))
        && relative.components().count() == path.encoded_names().count()
}

fn hostile_key() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("%".to_owned()),
        Just("%2E".to_owned()),
        Just("%FF".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\n".to_owned()),
        Just("\u{7f}".to_owned()),
        Just("\u{85}".to_owned()),
        Just("e\u{301}".to_owned()),
        Just("\u{e9}".to_owned()),
        Just("C:".to_owned()),
        "[a-z]{1,3}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any key: a path whose every name is safe, which gives the key back (without one leading
    /// `/`), and whose text reads back as the same path.
    #[test]
    fn any_remote_key_is_kept_safe_and_round_trips(key in hostile_key()) {
        let path = StoragePath::from_remote(&key).expect("short keys are kept");
        prop_assert!(stays_inside(&path), "{:?} → {}", key, path);
        for name in path.encoded_names() {
            prop_assert!(!name.is_empty() && name != "." && name != "..", "{:?}", name);
            prop_assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control), "{:?}", name);
        }
        prop_assert_eq!(path.to_remote(), key.strip_prefix('/').unwrap_or(&key));
        prop_assert_eq!(StoragePath::from_encoded(&path.to_string()).expect("its own text"), path.clone());
        let json = serde_json::to_string(&path).expect("JSON");
        prop_assert_eq!(serde_json::from_str::<StoragePath>(&json).expect("read back"), path);
    }

    /// Two different keys are two different paths.
    #[test]
    fn different_keys_are_different_paths(a in hostile_key(), b in hostile_key()) {
        let (a, b) = (a.trim_start_matches('/').to_owned(), b.trim_start_matches('/').to_owned());
        prop_assume!(a != b && !a.is_empty() && !b.is_empty());
        let (x, y) = (StoragePath::from_remote(&a).expect("a"), StoragePath::from_remote(&b).expect("b"));
        prop_assert_ne!(x.to_string(), y.to_string());
    }

    /// What a caller writes: a safe path, or a `Validation` error on `path` — never a path with
    /// an unsafe name.
    #[test]
    fn a_written_path_is_safe_or_refused(text in hostile_key()) {
        match StoragePath::parse(&text) {
            Ok(path) => prop_assert!(stays_inside(&path), "{:?} → {}", text, path),
            Err(e) => {
                prop_assert_eq!(e.kind(), integration_core::ErrorKind::Validation);
                prop_assert_eq!(e.field(), Some("path"));
            }
        }
    }
}

#[test]
fn traversal_and_odd_names_are_refused_when_written() {
    for bad in ["..", "a/../b", "./a", "a//b", "a\\b", "a/\u{0}", "new\nline", "tab\there", "\u{7f}"] {
        let error = StoragePath::parse(bad).expect_err(bad);
        assert_eq!(error.field(), Some("path"), "{bad}");
    }
    let long = "x".repeat(MAX_NAME_BYTES + 1);
    assert!(StoragePath::parse(&long).expect_err("long").to_string().contains("more than 255"));
    assert!(StoragePath::from_remote(&long).is_err(), "too long to keep");
    let deep = vec!["a"; MAX_DEPTH + 1].join("/");
    assert!(StoragePath::parse(&deep).is_err());
    let wide = vec!["y".repeat(200); MAX_PATH_BYTES / 200 + 1].join("/");
    assert!(StoragePath::parse(&wide).is_err());
    let error = StoragePath::parse("reports/../secrets").expect_err("traversal");
    assert!(error.to_string().contains("`..`") && error.to_string().contains("reports/../secrets"), "{error}");
}

#[test]
fn written_names_are_put_in_nfc_and_remote_ones_kept_as_spelled() {
    let decomposed = "Cafe\u{301}.txt";
    let written = StoragePath::parse(decomposed).expect("parsed");
    assert_eq!(written.name().as_deref(), Some("Caf\u{e9}.txt"));
    let remote = StoragePath::from_remote(decomposed).expect("kept");
    assert_eq!(remote.to_remote(), decomposed, "the provider's own spelling");
    assert_eq!(remote.nfc_key(), StoragePath::from_remote("Caf\u{e9}.txt").expect("kept").nfc_key());
    assert_ne!(remote, StoragePath::from_remote("Caf\u{e9}.txt").expect("kept"), "two objects");
}

#[test]
fn files_written_under_a_folder_from_hostile_keys_land_inside_it() {
    let root = std::env::temp_dir().join(format!("storage-paths-{}", std::process::id()));
    let inside = root.join("inside");
    std::fs::create_dir_all(&inside).expect("a folder");
    for key in [
        "../escaped",
        "a/../../escaped",
        "/etc/../../escaped",
        "..\\escaped",
        "a/./b",
        "%2E%2E/escaped",
        "a//b",
        "\n/x",
    ] {
        let path = StoragePath::from_remote(key).expect("kept");
        let target = inside.join(path.to_string());
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("folders");
        std::fs::write(&target, key).expect("written");
        let written = target.canonicalize().expect("exists");
        assert!(written.starts_with(inside.canonicalize().expect("exists")), "{key} → {}", written.display());
    }
    assert!(!root.join("escaped").exists() && !std::path::Path::new("/escaped").exists());
    std::fs::remove_dir_all(&root).expect("cleaned");
}

#[test]
fn paths_relate_to_each_other() {
    let folder = StoragePath::parse("Reports/2026").expect("parsed");
    let file = folder.join("Q4 100%.pdf").expect("joined");
    assert_eq!(file.to_string(), "Reports/2026/Q4 100%25.pdf");
    assert_eq!(file.to_remote(), "Reports/2026/Q4 100%.pdf");
    assert_eq!(file.name().as_deref(), Some("Q4 100%.pdf"));
    assert_eq!(file.parent(), Some(folder.clone()));
    assert!(folder.contains(&file) && !file.contains(&folder));
    assert_eq!(file.strip_prefix(&folder).expect("inside").to_remote(), "Q4 100%.pdf");
    assert!(folder.join("a/b").is_err() && folder.join("..").is_err());
    assert!(StoragePath::parse("/").expect("the root").is_root());
    assert!(StoragePath::from_encoded("a/%zz").is_err() && StoragePath::from_encoded("a/../b").is_err());
}
