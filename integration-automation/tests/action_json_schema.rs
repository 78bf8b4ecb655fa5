//! An action's input as a JSON Schema: every kind, required and optional, secret and described.

use integration_automation::{ActionSchema, InputField, InputKind};
use serde_json::json;

#[test]
fn every_field_kind_is_described_as_json_schema() {
    let schema = ActionSchema::new("demo.act", "Does a thing")
        .field(InputField::required("name", InputKind::String).describe("Who"))
        .field(InputField::required("count", InputKind::Integer))
        .field(InputField::optional("ratio", InputKind::Number))
        .field(InputField::optional("on", InputKind::Boolean))
        .field(InputField::optional("extra", InputKind::Object))
        .field(InputField::optional("items", InputKind::Array))
        .field(InputField::optional("anything", InputKind::Any))
        .field(InputField::required("token", InputKind::String).secret());
    assert_eq!(
        schema.input_json_schema(),
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "demo.act",
            "description": "Does a thing",
            "type": "object",
            "properties": {
                "name": { "type": "string", "description": "Who" },
                "count": { "type": "integer" },
                "ratio": { "type": ["number", "null"] },
                "on": { "type": ["boolean", "null"] },
                "extra": { "type": ["object", "null"] },
                "items": { "type": ["array", "null"] },
                "anything": {},
                "token": { "type": "string", "writeOnly": true },
            },
            "required": ["name", "count", "token"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn what_the_schema_says_is_what_check_accepts() {
    let schema = ActionSchema::new("demo.act", "Does a thing")
        .field(InputField::required("name", InputKind::String))
        .field(InputField::optional("count", InputKind::Integer));
    let json = schema.input_json_schema();
    // Required and absent, or null: refused by both.
    assert_eq!(json["required"], json!(["name"]));
    assert!(schema.check(&json!({}), "input").is_err());
    assert!(schema.check(&json!({ "name": null }), "input").is_err());
    // Optional and null: accepted by both.
    assert_eq!(json["properties"]["count"]["type"], json!(["integer", "null"]));
    assert!(schema.check(&json!({ "name": "a", "count": null }), "input").is_ok());
    // No other fields: refused by both.
    assert_eq!(json["additionalProperties"], false);
    assert!(schema.check(&json!({ "name": "a", "other": 1 }), "input").is_err());
}
