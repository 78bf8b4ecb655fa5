//! Test support: any JSON value a provider might put in a field — null, a boolean, a number,
//! any text, or one of the values that matter to the mapping under test.

use proptest::prelude::*;
use serde_json::Value;

/// A strategy for a field's value: the usual suspects and `samples`.
pub(crate) fn field_value(samples: Vec<&'static str>) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
        prop::sample::select(samples).prop_map(Value::from),
    ]
}
