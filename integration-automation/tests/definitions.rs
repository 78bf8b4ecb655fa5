//! Definitions load from JSON and TOML, and bad ones are refused at load time with the line,
//! the column and the field.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use integration_automation::action::Actions;
use integration_automation::http_request::{HostPolicy, HttpRequest};
use integration_automation::{StepKind, Trigger, load};
use integration_core::ErrorKind;

fn actions() -> Actions {
    Actions::new().with(Arc::new(HttpRequest::new(HostPolicy::new().allow_host("hooks.example.com")))).unwrap()
}

const GOOD_JSON: &str = r#"{
  "id": "offboard",
  "trigger": { "record_change": { "stream": "employees", "changes": ["updated"] } },
  "when": "previous.employment.status == 'active' and record.employment.status == 'terminated'",
  "steps": [
    { "id": "notify", "action": "http.request",
      "input": { "url": "https://hooks.example.com/left", "body": { "id": "{{ remote_id }}" } },
      "retry": { "max_attempts": 5, "backoff": "2s", "max_backoff": "1m" }, "timeout": "10s" },
    { "delay": "1h" },
    { "branch": { "if": "steps.notify.status == 200",
                  "then": [ { "action": "http.request", "input": { "url": "https://hooks.example.com/done" } } ],
                  "else": [ { "delay": "5m" } ] } }
  ],
  "on_failure": [ { "action": "http.request", "input": { "url": "https://hooks.example.com/alert", "body": "{{ error }}" } } ],
  "concurrency": 4
}"#;

#[test]
fn a_json_definition_loads_and_round_trips_through_toml() {
    let automation = load::from_json(GOOD_JSON, &actions()).unwrap();
    assert_eq!(automation.id, "offboard");
    assert!(matches!(automation.trigger, Trigger::RecordChange { ref stream, .. } if stream == "employees"));
    assert_eq!(automation.when.len(), 1);
    assert_eq!(automation.steps.len(), 3);
    assert_eq!(automation.steps[0].retry.max_attempts, 5);
    assert_eq!(automation.steps[0].timeout, std::time::Duration::from_secs(10));
    assert!(matches!(automation.steps[1].kind, StepKind::Delay(d) if d.as_secs() == 3600));
    assert!(
        matches!(&automation.steps[2].kind, StepKind::Branch { then, otherwise, .. } if then.len() == 1 && otherwise.len() == 1)
    );
    assert_eq!(automation.concurrency, Some(4));

    let as_toml = toml::to_string(&automation).unwrap();
    let again = load::from_toml(&as_toml, &actions()).unwrap();
    assert_eq!(again, automation);
    let as_json = serde_json::to_string(&automation).unwrap();
    assert_eq!(load::from_json(&as_json, &actions()).unwrap(), automation);
}

#[test]
fn a_toml_schedule_with_a_time_zone_loads() {
    let text = r#"
id = "weekly-report"
trigger = { schedule = { cron = "0 9 * * MON", timezone = "America/New_York" } }
[[steps]]
action = "http.request"
input = { url = "https://hooks.example.com/report", body = { at = "{{ scheduled_at }}" } }
"#;
    let automation = load::from_toml(text, &actions()).unwrap();
    assert!(
        matches!(automation.trigger, Trigger::Schedule { timezone, .. } if timezone == chrono_tz::America::New_York)
    );
}

/// Loads `text` (JSON), expecting a refusal at `line` naming `field`, with `words` in the message.
fn refused_json(text: &str, line: usize, field: &str, words: &str) {
    let err = load::from_json(text, &actions()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(err.field(), Some(field), "{err}");
    assert!(err.message().starts_with(&format!("line {line},")), "{err}");
    assert!(err.message().contains(words), "{err}");
}

#[test]
fn an_unknown_action_is_refused_at_its_line() {
    let text = r#"{
  "id": "x",
  "trigger": "manual",
  "steps": [
    { "action": "hris.fire_everyone", "input": {} }
  ]
}"#;
    refused_json(text, 5, "steps[0].action", "no action named \"hris.fire_everyone\"");
}

#[test]
fn a_wrong_input_type_is_refused_naming_the_input_field() {
    let text = r#"{
  "id": "x",
  "trigger": "manual",
  "steps": [
    { "action": "http.request",
      "input": { "url": 42 } }
  ]
}"#;
    // Input problems are found once the whole step is read: the position is the step's end, and
    // the message names the input field.
    refused_json(text, 7, "steps[0]", "input.url: http.request takes a string for `url`, not an integer");
    let unknown_input = r#"{"id": "x", "trigger": "manual", "steps": [{"action": "http.request", "input": {"url": "https://hooks.example.com", "verb": "GET"}}]}"#;
    refused_json(unknown_input, 1, "steps[0]", "has no input `verb`");
    let missing = r#"{"id": "x", "trigger": "manual", "steps": [{"action": "http.request", "input": {}}]}"#;
    refused_json(missing, 1, "steps[0]", "needs `url`");
    let text_for_object = r#"{"id": "x", "trigger": "manual", "steps": [{"action": "http.request", "input": {"url": "https://hooks.example.com", "headers": "a {{ b }}"}}]}"#;
    refused_json(text_for_object, 1, "steps[0]", "always renders to a string");
}

#[test]
fn an_invalid_cron_or_time_zone_is_refused() {
    let text = r#"{
  "id": "x",
  "trigger": { "schedule": { "cron": "0 9 * * FUNDAY" } },
  "steps": [ { "delay": "1m" } ]
}"#;
    refused_json(text, 3, "trigger.schedule.cron", "is not a cron expression");
    let zone = r#"{"id": "x", "trigger": {"schedule": {"cron": "0 9 * * *", "timezone": "Mars/Olympus"}}, "steps": [{"delay": "1m"}]}"#;
    refused_json(zone, 1, "trigger.schedule.timezone", "unknown time zone");
    let toml = "id = \"x\"\nsteps = [{ delay = \"1m\" }]\n[trigger.schedule]\ncron = \"* * *\"\n";
    let err = load::from_toml(toml, &actions()).unwrap_err();
    assert_eq!(err.field(), Some("trigger.schedule.cron"), "{err}");
    assert!(err.message().starts_with("line 4,"), "{err}");
}

#[test]
fn an_expression_that_does_not_compile_is_refused() {
    let condition = r#"{
  "id": "x",
  "trigger": "manual",
  "when": ["record.a ==", "true"],
  "steps": [ { "delay": "1m" } ]
}"#;
    refused_json(condition, 4, "when[0]", "does not compile");
    let template = r#"{
  "id": "x",
  "trigger": "manual",
  "steps": [
    { "delay": "1m" },
    { "action": "http.request", "input": { "url": "https://hooks.example.com/{{ record.id | }}" } }
  ]
}"#;
    refused_json(template, 7, "steps[1]", "input.url");
    let branch = r#"{"id": "x", "trigger": "manual", "steps": [{"branch": {"if": "(", "then": [{"delay": "1s"}]}}]}"#;
    refused_json(branch, 1, "steps[0]", "branch.if");
}

#[test]
fn shape_errors_are_refused_too() {
    let unknown_field = r#"{"id": "x", "trigger": "manual", "steps": [{"delay": "1m"}], "retries": 3}"#;
    refused_json(unknown_field, 1, "retries", "unknown field `retries`");
    let two_kinds = r#"{"id": "x", "trigger": "manual", "steps": [{"delay": "1m", "action": "http.request"}]}"#;
    refused_json(two_kinds, 1, "steps[0]", "exactly one of");
    let bad_duration = r#"{"id": "x", "trigger": "manual", "steps": [{"delay": "soon"}]}"#;
    refused_json(bad_duration, 1, "steps[0]", "is not a duration");
    let attempts = r#"{"id": "x", "trigger": "manual", "steps": [{"action": "http.request", "input": {"url": "https://hooks.example.com"}, "retry": {"max_attempts": 0}}]}"#;
    refused_json(attempts, 1, "steps[0]", "retry.max_attempts");
    let broken = "{\"id\": \"x\",\n \"trigger\": ";
    let err = load::from_json(broken, &actions()).unwrap_err();
    assert!(err.message().starts_with("line 2,"), "{err}");
    let no_steps = r#"{"id": "x", "trigger": "manual", "steps": []}"#;
    assert_eq!(load::from_json(no_steps, &actions()).unwrap_err().field(), Some("steps"));
    let dup = r#"{"id": "x", "trigger": "manual", "steps": [{"id": "a", "delay": "1m"}, {"id": "a", "delay": "1m"}]}"#;
    assert_eq!(load::from_json(dup, &actions()).unwrap_err().field(), Some("steps[1].id"));
}

#[test]
fn the_builder_checks_exactly_what_loading_checks() {
    use integration_automation::{Automation, Step};
    let err = Automation::builder("x", Trigger::Manual)
        .step(Step::action("nope", serde_json::json!({})))
        .build(&actions())
        .unwrap_err();
    assert!(err.message().contains("no action named \"nope\""), "{err}");
    assert!(Trigger::schedule("every day", chrono_tz::UTC).is_err());
}
