//! SCIM filters: RFC 7644 §3.4.2.2's own examples parse and select what they say; malformed
//! filters are `invalidFilter` naming where; any text is a filter or `invalidFilter`, never a
//! panic; any filter written back parses to itself.

use integration_sso::scim::filter::{AttrPath, CompValue, CompareOp, Filter, MAX_DEPTH};
use proptest::prelude::*;
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn users() -> Vec<Value> {
    vec![
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], "id": "1", "userName": "bjensen",
               "name": {"familyName": "Jensen"}, "title": "Tour Guide", "userType": "Employee",
               "meta": {"lastModified": "2011-05-13T04:42:34Z"},
               "emails": [{"type": "work", "value": "bjensen@example.com"}, {"type": "home", "value": "babs@jensen.org"}],
               ENTERPRISE: {"employeeNumber": "701984"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2", "userName": "jsmith",
               "name": {"familyName": "O'Malley"}, "userType": "Intern", "active": false,
               "meta": {"lastModified": "2011-05-13T04:42:35Z"},
               "emails": [{"type": "home", "value": "js@example.org"}],
               "ims": [{"type": "xmpp", "value": "js@foo.com"}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "3", "userName": "Jane",
               "meta": {"lastModified": "2011-05-13T04:42:33+00:00"}, "emails": []}),
    ]
}

fn selected(filter: &str) -> Vec<String> {
    let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    users()
        .iter()
        .filter(|u| filter.matches(u).expect("evaluated"))
        .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_rfc_examples_select_what_they_say() {
    for (filter, ids) in [
        (r#"userName eq "bjensen""#, vec!["1"]),
        (r#"USERNAME EQ "BJENSEN""#, vec!["1"]),
        (r#"name.familyName co "O'Malley""#, vec!["2"]),
        (r#"userName sw "J""#, vec!["2", "3"]),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, vec!["2", "3"]),
        ("title pr", vec!["1"]),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, vec!["2"]),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, vec!["1", "2"]),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, vec!["3"]),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, vec!["1", "3"]),
        (r#"title pr and userType eq "Employee""#, vec!["1"]),
        (r#"title pr or userType eq "Intern""#, vec!["1", "2"]),
        (&format!(r#"schemas eq "{ENTERPRISE}""#), vec!["1"]),
        (r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, vec!["1"]),
        (r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, vec!["3"]),
        (r#"userType eq "Employee" and (emails.type eq "work")"#, vec!["1"]),
        (r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, vec!["1"]),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            vec!["1", "2"],
        ),
        (&format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#), vec!["1"]),
        ("active eq false", vec!["2"]),
        (r#"id eq "1" or id eq "3""#, vec!["1", "3"]),
    ] {
        assert_eq!(selected(filter), ids, "{filter}");
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    // a or b and c  ==  a or (b and c)
    let parsed = Filter::parse(r#"id eq "1" or id eq "2" and active eq true"#).expect("parsed");
    assert!(matches!(parsed, Filter::Or(_, _)), "{parsed}");
    assert_eq!(selected(r#"id eq "1" or id eq "2" and active eq true"#), ["1"]);
    assert_eq!(selected(r#"(id eq "1" or id eq "2") and active eq false"#), ["2"]);
}

#[test]
fn malformed_filters_are_invalid_filter_naming_where() {
    for (filter, says) in [
        ("", "empty"),
        ("userName eq", "expected a value"),
        (r#"userName eq "open"#, "closing quote"),
        (r#"userName like "x""#, "not an operator"),
        (r#"(userName eq "x""#, "')'"),
        (r#"userName eq "x")"#, "unexpected text"),
        (r#"emails[type eq "work""#, "']'"),
        (r#"emails[type[value eq "x"] eq "y"]"#, "do not nest"),
        (r#"userName eq "x" and"#, "expected an attribute"),
        (r#"1abc eq "x""#, "expected an attribute"),
        (r#"userName eq 'single'"#, "has no place"),
        ("userName eq 1.2.3", "not a number"),
        ("userName eq 12abc", "unexpected text"),
        (r#"foo:bar eq "x""#, "URN"),
    ] {
        let error = Filter::parse(filter).expect_err(filter);
        assert_eq!((error.status(), error.scim_type()), (400, Some("invalidFilter")), "{filter}");
        assert!(error.detail().contains(says), "{filter}: {error}");
    }
    let deep = format!("{}userName pr{}", "(".repeat(MAX_DEPTH + 2), ")".repeat(MAX_DEPTH + 2));
    assert!(Filter::parse(&deep).expect_err("too deep").detail().contains("nested"));
    let long = format!(r#"userName eq "{}""#, "x".repeat(5_000));
    assert!(Filter::parse(&long).expect_err("too long").detail().contains("longer"));
    // Ordering a boolean is refused when evaluated.
    let ordered = Filter::parse("active gt true").expect("parses");
    assert_eq!(ordered.matches(&users()[0]).expect_err("refused").scim_type(), Some("invalidFilter"));
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let name = prop::sample::select(vec!["userName", "emails", "name", "active", "meta", "x-y_z", "$ref"]);
    let sub = prop::option::of(prop::sample::select(vec!["value", "type", "familyName", "lastModified"]));
    let urn = prop::option::of(Just(ENTERPRISE.to_owned()));
    (urn, name, sub).prop_map(|(urn, name, sub)| {
        let mut path = Filter::parse(&format!("{name} pr")).ok().and_then(|f| match f {
            Filter::Present(p) => Some(p),
            _ => None,
        });
        let mut path = path.take().expect("a path");
        (path.urn, path.sub) = (urn, sub.map(str::to_owned));
        path
    })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i32>().prop_map(|n| CompValue::Number(n.into())),
        "\\PC{0,12}".prop_map(CompValue::String),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    let op = prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Lt,
        CompareOp::Ge,
        CompareOp::Le,
    ]);
    let leaf = prop_oneof![
        attr_path().prop_map(Filter::Present),
        (attr_path(), op, comp_value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
    ];
    let flat = leaf.clone().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    });
    prop_oneof![
        flat.clone(),
        (attr_path(), flat.clone()).prop_map(|(mut p, f)| {
            p.sub = None;
            Filter::ValuePath(p, Box::new(f))
        }),
        (flat.clone(), flat).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
    ]
}

proptest! {
    /// Any text: a filter or `invalidFilter`, never a panic; and what parses evaluates without
    /// a panic.
    #[test]
    fn any_text_is_a_filter_or_invalid_filter(text in "\\PC{0,80}") {
        match Filter::parse(&text) {
            Ok(filter) => {
                for user in users() {
                    if let Err(e) = filter.matches(&user) {
                        prop_assert_eq!(e.scim_type(), Some("invalidFilter"));
                    }
                }
            }
            Err(e) => prop_assert_eq!((e.status(), e.scim_type()), (400, Some("invalidFilter"))),
        }
    }

    /// Text made of the grammar's own words in any order: the same.
    #[test]
    fn any_sequence_of_filter_words_is_a_filter_or_invalid_filter(
        words in prop::collection::vec(prop::sample::select(vec![
            "userName", "emails", "[", "]", "(", ")", "not", "and", "or", "eq", "pr", "gt", "\"x\"", "1", "true",
            "null", "emails.value", "urn:x:y:z", "-", "\"", "\\",
        ]), 0..24)
    ) {
        if let Err(e) = Filter::parse(&words.join(" ")) {
            prop_assert_eq!(e.scim_type(), Some("invalidFilter"));
        }
    }

    /// Any filter written back parses to itself.
    #[test]
    fn a_filter_written_back_parses_to_itself(filter in filter()) {
        let text = filter.to_string();
        let parsed = Filter::parse(&text);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&filter), "{} → {:?}", text, parsed);
    }

    /// String comparisons are RFC 7644's, without regard to case (Unicode lower case), for any
    /// text: `co`, `sw`, `ew`, `eq` and the orderings agree with lower-casing both sides; `id`
    /// compares exactly.
    #[test]
    fn string_comparisons_fold_case_like_lower_casing_both_sides(
        found in "[aAbΣσςÄäǅǆİi ]{0,8}",
        wanted in "[aAbΣσςÄäǅǆİi ]{0,3}",
    ) {
        let (a, b) = (found.to_lowercase(), wanted.to_lowercase());
        let user = json!({"displayName": found, "id": found});
        let quoted = serde_json::to_string(&wanted).expect("JSON");
        for (op, expected) in [
            ("co", a.contains(&b)),
            ("sw", a.starts_with(&b)),
            ("ew", a.ends_with(&b)),
            ("eq", a == b),
            ("gt", a > b),
            ("le", a <= b),
        ] {
            let filter = Filter::parse(&format!("displayName {op} {quoted}")).expect("parses");
            prop_assert_eq!(filter.matches(&user).expect("evaluates"), expected, "{} {} {}", found, op, wanted);
        }
        let exact = Filter::parse(&format!("id eq {quoted}")).expect("parses");
        prop_assert_eq!(exact.matches(&user).expect("evaluates"), found == wanted);
    }
}

#[test]
fn date_times_compare_as_instants_whatever_their_offsets() {
    let user = json!({"meta": {"lastModified": "2026-12-07T12:00:00+01:00"}});
    for (query, expected) in [
        (r#"meta.lastModified eq "2026-12-07T11:00:00Z""#, true),
        (r#"meta.lastModified ne "2026-12-07T11:00:00Z""#, false),
        (r#"meta.lastModified eq "2026-12-07T12:00:00Z""#, false),
        (r#"meta.lastModified gt "2026-12-07T10:59:59Z""#, true),
        (r#"meta.lastModified lt "2026-12-07T11:00:00.5Z""#, true),
        (r#"meta.lastModified sw "2026-12-07T12""#, true),
    ] {
        let filter = Filter::parse(query).expect("parses");
        assert_eq!(filter.matches(&user).expect("evaluates"), expected, "{query}");
    }
}
