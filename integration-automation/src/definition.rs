//! What an automation is: a trigger, conditions, and steps — built in Rust or loaded from JSON or
//! TOML (see [`load`](crate::load)).
//!
//! ```
//! use integration_automation::{Automation, Step, Trigger};
//! use integration_automation::action::Actions;
//! use integration_automation::http_request::{HostPolicy, HttpRequest};
//! use serde_json::json;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let actions = Actions::new().with(Arc::new(HttpRequest::new(HostPolicy::new().allow_host("hooks.example.com")))).unwrap();
//! let offboard = Automation::builder("offboard", Trigger::record_change("employees"))
//!     .when(r#"previous.employment.status == "active" and record.employment.status == "terminated""#)
//!     .step(Step::action("http.request", json!({
//!         "method": "POST",
//!         "url": "https://hooks.example.com/offboard",
//!         "body": { "employee": "{{ remote_id }}" },
//!     })))
//!     .step(Step::delay(Duration::from_secs(3600)))
//!     .build(&actions)
//!     .unwrap();
//! assert_eq!(offboard.steps.len(), 2);
//! ```

use std::time::Duration;

use chrono_tz::Tz;
use integration_core::store::ChangeKind;
use integration_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::action::Actions;
use crate::expression::Expression;
use crate::load::current_actions;
use crate::schedule::Cron;
use crate::template::Template;

/// The most attempts a step may be given.
pub const MAX_ATTEMPTS: u32 = 20;
/// The longest a step may run.
pub const MAX_STEP_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How deep branches may nest.
pub const MAX_DEPTH: usize = 8;

/// An automation: when its trigger fires and every condition holds, its steps run in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Automation {
    /// A stable id: runs are deduplicated and limited per automation id.
    pub id: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What starts it.
    pub trigger: Trigger,
    /// Conditions on the trigger's data, all of which must hold; evaluated when the trigger
    /// fires, so a run is created only for matching events.
    #[serde(default, deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Expression>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Steps run when a step fails for good (the failure is in `error`); the run then ends failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_failure: Vec<Step>,
    /// At most this many runs of this automation at once, across tenants and workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Expression>, D::Error> {
    struct Conditions;
    impl<'de> serde::de::Visitor<'de> for Conditions {
        type Value = Vec<Expression>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a condition or a list of conditions")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Expression::compile(v).map(|e| vec![e]).map_err(|e| E::custom(e.message()))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = seq.next_element::<Expression>()? {
                out.push(e);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Conditions)
}

impl Automation {
    /// Starts building an automation in Rust.
    pub fn builder(id: impl Into<String>, trigger: Trigger) -> AutomationBuilder {
        AutomationBuilder {
            spec: Value::Object(serde_json::Map::from_iter([
                ("id".to_owned(), Value::String(id.into())),
                ("trigger".to_owned(), serde_json::to_value(&trigger).unwrap_or(Value::Null)),
                ("steps".to_owned(), Value::Array(Vec::new())),
            ])),
        }
    }

    /// Checks the automation against `actions`: every action exists and every step's input fits
    /// its schema; ids are unique. The error names the field (`steps[1].input.url`).
    pub fn validate(&self, actions: &Actions) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::validation("id", "an automation needs a non-empty id"));
        }
        if self.steps.is_empty() {
            return Err(Error::validation("steps", "an automation needs at least one step"));
        }
        if self.concurrency == Some(0) {
            return Err(Error::validation(
                "concurrency",
                "a concurrency of 0 would never run; leave it out for no limit",
            ));
        }
        let mut ids = Vec::new();
        for (list, name) in [(&self.steps, "steps"), (&self.on_failure, "on_failure")] {
            for (i, step) in list.iter().enumerate() {
                step.validate(actions, &format!("{name}[{i}]"), 1, &mut ids)?;
            }
        }
        Ok(())
    }
}

/// Builds an [`Automation`] in Rust; [`build`](Self::build) checks it exactly as loading from
/// JSON would.
#[derive(Debug, Clone)]
pub struct AutomationBuilder {
    spec: Value,
}

impl AutomationBuilder {
    fn push(mut self, key: &str, value: Value) -> Self {
        if let Some(map) = self.spec.as_object_mut() {
            match map.get_mut(key) {
                Some(Value::Array(items)) => items.push(value),
                _ => {
                    map.insert(key.to_owned(), Value::Array(vec![value]));
                }
            }
        }
        self
    }

    /// Describes the automation.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        if let Some(map) = self.spec.as_object_mut() {
            map.insert("description".to_owned(), Value::String(text.into()));
        }
        self
    }

    /// Adds a condition.
    pub fn when(self, expression: impl Into<String>) -> Self {
        self.push("when", Value::String(expression.into()))
    }

    /// Adds a step.
    pub fn step(self, step: StepSpec) -> Self {
        self.push("steps", serde_json::to_value(step).unwrap_or(Value::Null))
    }

    /// Adds an on-failure step.
    pub fn on_failure(self, step: StepSpec) -> Self {
        self.push("on_failure", serde_json::to_value(step).unwrap_or(Value::Null))
    }

    /// At most `limit` runs at once.
    pub fn concurrency(mut self, limit: u32) -> Self {
        if let Some(map) = self.spec.as_object_mut() {
            map.insert("concurrency".to_owned(), Value::from(limit));
        }
        self
    }

    /// Compiles and checks the automation against `actions`.
    pub fn build(self, actions: &Actions) -> Result<Automation> {
        crate::load::from_value(self.spec, actions)
    }
}

/// What starts an automation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Trigger {
    /// A record added, updated or deleted in a synced stream (from the records cache's change
    /// stream). The data holds `record`, `previous` (the version before; absent for an addition),
    /// `change`, `stream`, `connection`, `remote_id` and `at`.
    RecordChange {
        /// The stream (`"employees"`).
        stream: String,
        /// Which kinds of change; all when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changes: Vec<ChangeKind>,
        /// Only this connection's changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection: Option<String>,
    },
    /// An event a webhook delivery produced (`"employee.terminated"`). The data holds `event`,
    /// `payload`, `connection` and `occurred_at`.
    Event {
        /// The event type.
        #[serde(rename = "type")]
        kind: String,
        /// Only this connection's events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection: Option<String>,
    },
    /// A schedule. The data holds `scheduled_at` (RFC 3339, UTC).
    Schedule {
        /// A cron expression: minute, hour, day of month, month, day of week.
        cron: Box<Cron>,
        /// The IANA time zone the expression is read in (default UTC).
        #[serde(default = "utc", with = "time_zone")]
        timezone: Tz,
    },
    /// Only an explicit call from the host. The data is what the host passes.
    Manual,
}

fn utc() -> Tz {
    Tz::UTC
}

mod time_zone {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(|_| {
            serde::de::Error::custom(format!("unknown time zone {name:?}: use an IANA name such as \"Europe/Berlin\""))
        })
    }
}

impl Trigger {
    /// Any change to records of `stream`.
    pub fn record_change(stream: impl Into<String>) -> Self {
        Self::RecordChange { stream: stream.into(), changes: Vec::new(), connection: None }
    }

    /// Events of type `kind`.
    pub fn event(kind: impl Into<String>) -> Self {
        Self::Event { kind: kind.into(), connection: None }
    }

    /// A cron schedule read in `timezone`.
    pub fn schedule(cron: &str, timezone: Tz) -> Result<Self> {
        Ok(Self::Schedule { cron: Box::new(Cron::parse(cron)?), timezone })
    }
}

/// How a step is retried after a retryable error (a timeout, a 5xx, a 429).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 to 20; default 3). A crash during an attempt
    /// counts as an attempt, so a step that kills its worker cannot loop forever.
    pub max_attempts: u32,
    /// The first backoff; it doubles, with jitter (default 1 s). A provider's `Retry-After`
    /// wins.
    #[serde(with = "duration_text")]
    pub backoff: Duration,
    /// The longest backoff (default 5 min).
    #[serde(with = "duration_text")]
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// `attempts` in all.
    pub fn attempts(attempts: u32) -> Self {
        Self { max_attempts: attempts, ..Self::default() }
    }
}

/// Durations as text: `"30s"`, `"15m"`, `"1h 30m"`.
pub(crate) mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub(crate) fn parse(text: &str) -> Result<Duration, String> {
        humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration ({e}); write it like \"30s\", \"15m\" or \"2h\""))
    }
}

/// One step: an action call, a delay, or a branch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Step {
    /// A name for the step; later steps read its output as `steps.<id>`.
    pub id: Option<String>,
    /// What it does.
    pub kind: StepKind,
    /// Retries after retryable errors (action steps).
    pub retry: RetryPolicy,
    /// The longest one attempt may take (action steps; default 30 s).
    pub timeout: Duration,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StepKind {
    /// Calls a registered action.
    Action {
        /// The action's name.
        action: String,
        /// Its input.
        input: Template,
        /// The input as written.
        source: Value,
    },
    /// Waits, without holding a worker.
    Delay(Duration),
    /// Runs `then` when the condition holds, else `otherwise`.
    Branch {
        /// The condition.
        condition: Expression,
        /// The steps when it holds.
        then: Vec<Step>,
        /// The steps when it does not.
        otherwise: Vec<Step>,
    },
}

/// The authoring form of a step, as written in JSON or TOML: exactly one of `action` (with
/// `input`), `delay` or `branch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StepSpec {
    /// The step's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The action to call.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "registered_action")]
    pub action: Option<String>,
    /// The action's input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// How long to wait (`"15m"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// A branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<BranchSpec>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// The longest one attempt may take (`"30s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A branch as written: `if`, `then`, and optionally `else`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BranchSpec {
    /// The condition.
    #[serde(rename = "if")]
    pub condition: String,
    /// The steps when it holds.
    pub then: Vec<Step>,
    /// The steps when it does not.
    #[serde(rename = "else", default, skip_serializing_if = "Vec::is_empty")]
    pub otherwise: Vec<Step>,
}

/// An action name, checked against the actions a definition is being loaded with (so the error
/// points at the name).
fn registered_action<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    if let Some(actions) = current_actions()
        && actions.schema_of(&name).is_none()
    {
        return Err(serde::de::Error::custom(actions.unknown(&name, "action").message()));
    }
    Ok(Some(name))
}

impl Step {
    /// A call of `action` with `input` (a template).
    pub fn action(action: impl Into<String>, input: Value) -> StepSpec {
        StepSpec { action: Some(action.into()), input: Some(input), ..StepSpec::empty() }
    }

    /// A wait of `duration`.
    pub fn delay(duration: Duration) -> StepSpec {
        StepSpec { delay: Some(humantime::format_duration(duration).to_string()), ..StepSpec::empty() }
    }

    /// A branch on `condition`. Its steps are built with [`StepSpec::build`] or loaded.
    pub fn branch(condition: impl Into<String>, then: Vec<StepSpec>, otherwise: Vec<StepSpec>) -> Result<StepSpec> {
        let build = |specs: Vec<StepSpec>| specs.into_iter().map(Step::try_from).collect::<Result<Vec<_>>>();
        Ok(StepSpec {
            branch: Some(BranchSpec { condition: condition.into(), then: build(then)?, otherwise: build(otherwise)? }),
            ..StepSpec::empty()
        })
    }

    /// The action's name, `"delay"` or `"branch"`.
    pub fn name(&self) -> &str {
        match &self.kind {
            StepKind::Action { action, .. } => action,
            StepKind::Delay(_) => "delay",
            StepKind::Branch { .. } => "branch",
        }
    }

    fn validate(&self, actions: &Actions, path: &str, depth: usize, ids: &mut Vec<String>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::validation(path, format!("branches nest deeper than {MAX_DEPTH} levels")));
        }
        if let Some(id) = &self.id {
            if ids.contains(id) {
                return Err(Error::validation(format!("{path}.id"), format!("the step id {id:?} is used twice")));
            }
            ids.push(id.clone());
        }
        match &self.kind {
            StepKind::Action { action, input, .. } => {
                let schema =
                    actions.schema_of(action).ok_or_else(|| actions.unknown(action, &format!("{path}.action")))?;
                schema.check_template(input, &format!("{path}.input"))
            }
            StepKind::Delay(_) => Ok(()),
            StepKind::Branch { then, otherwise, .. } => {
                for (list, name) in [(then, "then"), (otherwise, "else")] {
                    for (i, step) in list.iter().enumerate() {
                        step.validate(actions, &format!("{path}.branch.{name}[{i}]"), depth + 1, ids)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl StepSpec {
    fn empty() -> Self {
        Self { id: None, action: None, input: None, delay: None, branch: None, retry: None, timeout: None }
    }

    /// Names the step.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(humantime::format_duration(timeout).to_string());
        self
    }

    /// Compiles the step.
    pub fn build(self) -> Result<Step> {
        Step::try_from(self)
    }
}

impl TryFrom<StepSpec> for Step {
    type Error = Error;

    fn try_from(spec: StepSpec) -> Result<Self> {
        let invalid = |field: &str, message: String| Error::validation(field, message);
        let kind = match (spec.action, spec.delay, spec.branch) {
            (Some(action), None, None) => {
                let source = spec.input.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                let input = Template::compile(&source)?;
                if let Some(actions) = current_actions() {
                    let schema = actions.schema_of(&action).ok_or_else(|| actions.unknown(&action, "action"))?;
                    schema.check_template(&input, "input")?;
                }
                StepKind::Action { action, input, source }
            }
            (None, Some(delay), None) if spec.input.is_none() => {
                StepKind::Delay(duration_text::parse(&delay).map_err(|m| invalid("delay", m))?)
            }
            (None, None, Some(branch)) if spec.input.is_none() => StepKind::Branch {
                condition: Expression::compile(&branch.condition)
                    .map_err(|e| invalid("branch.if", e.message().to_owned()))?,
                then: branch.then,
                otherwise: branch.otherwise,
            },
            (None, _, _) if spec.input.is_some() => {
                return Err(invalid("input", "`input` belongs to an `action` step".to_owned()));
            }
            _ => {
                return Err(invalid(
                    "step",
                    "a step needs exactly one of `action` (with `input`), `delay` or `branch`".to_owned(),
                ));
            }
        };
        let retry = spec.retry.unwrap_or_default();
        if retry.max_attempts == 0 || retry.max_attempts > MAX_ATTEMPTS {
            return Err(invalid(
                "retry.max_attempts",
                format!("must be 1 to {MAX_ATTEMPTS}, not {}", retry.max_attempts),
            ));
        }
        let timeout = match spec.timeout {
            Some(text) => duration_text::parse(&text).map_err(|m| invalid("timeout", m))?,
            None => Duration::from_secs(30),
        };
        if timeout.is_zero() || timeout > MAX_STEP_TIMEOUT {
            return Err(invalid("timeout", format!("must be more than 0 and at most {MAX_STEP_TIMEOUT:?}")));
        }
        Ok(Self { id: spec.id, kind, retry, timeout })
    }
}

impl From<&Step> for StepSpec {
    fn from(step: &Step) -> Self {
        let mut spec = StepSpec { id: step.id.clone(), ..StepSpec::empty() };
        match &step.kind {
            StepKind::Action { action, source, .. } => {
                spec.action = Some(action.clone());
                spec.input = Some(source.clone());
                spec.retry = (step.retry != RetryPolicy::default()).then_some(step.retry);
                spec.timeout = (step.timeout != Duration::from_secs(30))
                    .then(|| humantime::format_duration(step.timeout).to_string());
            }
            StepKind::Delay(d) => spec.delay = Some(humantime::format_duration(*d).to_string()),
            StepKind::Branch { condition, then, otherwise } => {
                spec.branch = Some(BranchSpec {
                    condition: condition.source().to_owned(),
                    then: then.clone(),
                    otherwise: otherwise.clone(),
                });
            }
        }
        spec
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        StepSpec::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let spec = StepSpec::deserialize(d)?;
        Step::try_from(spec).map_err(|e| match e.field() {
            Some(field) => serde::de::Error::custom(format!("{field}: {}", e.message())),
            None => serde::de::Error::custom(e.message()),
        })
    }
}
