//! Field mappings are host input: any definition is read, checked and applied without a panic,
//! a refusal always names the field that is wrong, and a mapped record is still an object with
//! its other fields untouched.

use integration_core::ErrorKind;
use integration_core::mapping::{Check, FieldMapping, Mapper, Mappings, Rule, Transform};
use proptest::prelude::*;
use serde_json::{Value, json};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn transform() -> impl Strategy<Value = Transform> {
    prop_oneof![
        Just(Transform::Trim),
        Just(Transform::Lowercase),
        Just(Transform::Uppercase),
        (".{0,10}", ".{0,10}").prop_map(|(from, to)| Transform::Date { from, to }),
        (prop::collection::btree_map(".{0,3}", value(), 0..3), prop::option::of(value()))
            .prop_map(|(table, otherwise)| Transform::Lookup { table, otherwise }),
        value().prop_map(|value| Transform::Default { value }),
    ]
}

fn check() -> impl Strategy<Value = Check> {
    prop_oneof![
        Just(Check::Required),
        ".{0,16}".prop_map(|regex| Check::Pattern { regex }),
        (prop::option::of(value()), prop::option::of(value())).prop_map(|(min, max)| Check::Range { min, max }),
        prop::collection::vec(value(), 0..3).prop_map(|values| Check::OneOf { values }),
    ]
}

fn mappings() -> impl Strategy<Value = Mappings> {
    let field = ("[a-z]{0,3}", "/?[a-z/]{0,8}", "[a-zA-Z_ 0-9]{0,6}", prop::collection::vec(transform(), 0..3))
        .prop_map(|(stream, source, target, transforms)| FieldMapping {
            transforms,
            ..FieldMapping::new(&stream, &source, &target)
        });
    let rule =
        ("[a-z]{0,3}", "[a-z_.]{0,12}", check()).prop_map(|(stream, field, check)| Rule::new(&stream, &field, check));
    (prop::collection::vec(field, 0..4), prop::collection::vec(rule, 0..4))
        .prop_map(|(fields, rules)| Mappings { fields, rules })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_definition_is_checked_and_applied_without_a_panic(mappings in mappings(), raw in value(), record in value()) {
        match Mapper::compile(&mappings, None) {
            Ok(mapper) => {
                for stream in mappings.fields.iter().map(|f| f.stream.clone()).chain(["other".to_owned()]) {
                    let mut data = json!({"remote_id": "1", "given": record.clone()});
                    match mapper.apply(&stream, &mut data, Some(&raw)) {
                        Ok(()) => {
                            prop_assert_eq!(&data["given"], &record, "other fields are untouched");
                            prop_assert!(data.get("custom_fields").is_none_or(Value::is_object));
                        }
                        Err(broken) => {
                            prop_assert_eq!(broken.kind(), ErrorKind::Validation);
                            prop_assert!(broken.field().is_some(), "{}", broken);
                        }
                    }
                }
            }
            Err(refused) => {
                prop_assert_eq!(refused.kind(), ErrorKind::Config);
                prop_assert!(refused.field().is_some_and(|f| f.starts_with("mappings")), "{}", refused);
            }
        }
    }

    #[test]
    fn any_json_is_read_as_mappings_or_refused(text in ".{0,200}", json in value()) {
        let _ = serde_json::from_str::<Mappings>(&text);
        if let Ok(mappings) = serde_json::from_value::<Mappings>(json) {
            let _ = Mapper::compile(&mappings, None);
        }
    }
}

fn format() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "%Y", "%m", "%d", "%H", "%M", "%S", "%z", "%:z", "%Z", "%s", "%j", "%a", "%b", "%p", "%.f", "%F", "%T", "%e",
        "%%", "-", "/", " ", "T", ":",
    ]);
    prop::collection::vec(token, 1..6).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Real format specifiers, not just noise: whatever formats pass the check, applying them
    /// to any text is a value or an error naming the field, never a panic.
    #[test]
    fn date_formats_never_panic(from in format(), to in format(), text in prop_oneof![
        Just("2026-12-31".to_owned()), Just("31/12/2026 23:59:58".to_owned()), Just("1767225600".to_owned()), ".{0,20}"
    ]) {
        let mapping = FieldMapping::new("s", "/d", "d").then(Transform::Date { from, to });
        if let Ok(mapper) = Mapper::compile(&Mappings::default().map(mapping), None) {
            let mut data = json!({});
            if let Err(broken) = mapper.apply("s", &mut data, Some(&json!({"d": text}))) {
                prop_assert_eq!(broken.field(), Some("custom_fields.d"));
            }
        }
    }
}

#[test]
fn a_format_asking_for_a_zone_is_refused_when_saved() {
    let zone = Mappings::default().map(
        FieldMapping::new("s", "/d", "d").then(Transform::Date { from: "%Y-%m-%d".into(), to: "%Y-%m-%d %z".into() }),
    );
    let refused = Mapper::compile(&zone, None).expect_err("no offset to write");
    assert_eq!(refused.field(), Some("mappings.fields[0].transforms[0].to"), "{refused}");
}

#[test]
fn a_costly_pattern_is_refused_not_compiled_forever() {
    let huge = Mappings::default().rule(Rule::new("s", "f", Check::Pattern { regex: "(a{999}){999}".into() }));
    let refused = Mapper::compile(&huge, None).expect_err("too big a program");
    assert_eq!(refused.field(), Some("mappings.rules[0].check.regex"), "{refused}");
    let many = (0..300).fold(Mappings::default(), |m, i| m.map(FieldMapping::new("s", "/x", &format!("f{i}"))));
    assert_eq!(Mapper::compile(&many, None).expect_err("too many").field(), Some("mappings.fields"));
}
