#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "accounting")]
pub mod accounting;
pub mod action;
#[cfg(feature = "benefits")]
pub mod benefits;
pub mod connections;
pub mod definition;
pub mod engine;
pub mod expression;
#[cfg(feature = "hris")]
pub mod hris;
pub mod http_request;
pub mod load;
pub mod notifications;
#[cfg(feature = "sso")]
pub mod provisioning;
pub mod run_log;
pub mod schedule;
pub mod template;
pub mod webhook_events;

pub use action::{Action, ActionCall, ActionSchema, Actions, InputField, InputKind};
pub use connections::StaticConnections;
pub use definition::{Automation, AutomationBuilder, RetryPolicy, Step, StepKind, StepSpec, Trigger};
pub use engine::{DryRun, Engine, Limits, PlannedStep, Triggered, Worker, WorkerReport};
pub use expression::{Expression, Scope};
pub use http_request::{HostPolicy, HttpRequest};
pub use notifications::NotifyAutomations;
pub use webhook_events::TriggerOnEvents;
