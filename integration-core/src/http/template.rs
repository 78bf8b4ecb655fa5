//! Path templates: the path with its variable parts named, so traces group by endpoint and never
//! carry identifiers.

/// Guesses a template for `path`: every segment that holds a digit, or is longer than 24
/// characters (an opaque id), becomes `{id}`. `/v1/employees/123/jobs` → `/v1/employees/{id}/jobs`.
pub(crate) fn path_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let versionish = segment.len() <= 3 && segment.starts_with('v');
        if !versionish && (segment.len() > 24 || segment.bytes().any(|b| b.is_ascii_digit())) {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_become_placeholders_and_names_stay() {
        assert_eq!(path_template("/v1/employees/123/jobs"), "/v1/employees/{id}/jobs");
        assert_eq!(path_template("/api/v2/users/0f8fad5b-d9cb-469f-a165-70867728950e"), "/api/v2/users/{id}");
        assert_eq!(path_template("/companies/acme/directory"), "/companies/acme/directory");
        assert_eq!(path_template("/x/abcdefghijklmnopqrstuvwxyz"), "/x/{id}");
        assert_eq!(path_template("/"), "/");
    }

    proptest! {
        #[test]
        fn a_template_keeps_the_segment_count_and_no_digits_but_versions(path in "(/[a-z0-9%._-]{0,30}){0,6}") {
            let template = path_template(&path);
            prop_assert_eq!(template.split('/').count(), path.split('/').count());
            for segment in template.split('/') {
                let versionish = segment.len() <= 3 && segment.starts_with('v');
                prop_assert!(versionish || !segment.bytes().any(|b| b.is_ascii_digit()), "{}", segment);
            }
        }
    }
}
