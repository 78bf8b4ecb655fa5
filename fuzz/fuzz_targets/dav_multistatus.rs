//! Arbitrary bytes as a WebDAV server's multistatus answer (the CalDAV and WebDAV adapters read
//! every answer through it): a parse or an error, never a panic; and each response's href
//! segments, decoded, as storage names: one name each, safe under any folder.
#![no_main]

use integration_core::dav;
use integration_storage::StoragePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let wrapped = format!(r#"<d:multistatus xmlns:d="DAV:"><d:response>{text}</d:response></d:multistatus>"#);
    for body in [text.as_ref(), wrapped.as_str()] {
        let Ok(answer) = dav::parse(body) else { continue };
        for response in &answer.responses {
            let names: Vec<String> = response
                .href
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
                .collect();
            if let Ok(path) = StoragePath::from_remote_names(names.iter().map(String::as_str)) {
                assert_eq!(path.encoded_names().count(), names.len(), "a name stays one name");
                assert!(path.encoded_names().all(|n| n != ".." && n != "." && !n.contains(['/', '\\'])));
                assert_eq!(path.remote_names().collect::<Vec<_>>(), names);
            }
        }
    }
});
