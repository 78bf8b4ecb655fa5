//! Building request URLs from a configured base without string surgery: ids a caller passes
//! are escaped as one path segment each, so an id can never reach another endpoint.

use url::Url;

/// `base` with the segments of `path` appended (empty ones dropped), then each of `ids` as one
/// escaped segment. A base that cannot have a path (`mailto:`) is returned unchanged.
///
/// ```
/// use integration_core::http::join_path;
/// let base = url::Url::parse("https://api.example.com/v2/").unwrap();
/// let url = join_path(&base, "/hr/workers", &["a/b c"]);
/// assert_eq!(url.as_str(), "https://api.example.com/v2/hr/workers/a%2Fb%20c");
/// ```
pub fn join_path(base: &Url, path: &str, ids: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path.split('/').filter(|s| !s.is_empty())).extend(ids);
    }
    url
}
