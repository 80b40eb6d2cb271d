//! What a function is: its name and its trigger, with the handler that trigger calls.
//!
//! The features crate lists every function of the project in one table of [`Function`]s, and each function's
//! `main` is one line, `FUNCTION.run()`. The name is the function's one name everywhere: its crate under
//! `functions/`, its binary, its folder of sample events, its log lines and (in PascalCase) its logical id in
//! `template.yaml`.

use crate::Platform;
use crate::http::ApiRequest;
use crate::jobs::JobEnvelope;
use crate::trigger::http::RouteFuture;
use crate::trigger::schedule::ScheduledRun;
use crate::trigger::{self, BoxError, JobFuture, ReportFuture};

/// One Lambda function of the project.
pub struct Function {
    pub name: &'static str,
    pub trigger: Trigger,
}

/// What starts a function, and the handler it hands the event to. Handlers are plain function pointers that box
/// their future, so each is compiled once, in the features crate, and a function binary only names its own.
pub enum Trigger {
    /// An API Gateway (HTTP API) route; `key` is the route key as in `template.yaml`: `METHOD /path/{param}`.
    Http { key: &'static str, handler: fn(&'static Platform, ApiRequest) -> RouteFuture },
    /// The SQS queue of a job: one call per message of a batch.
    Queue(fn(&'static Platform, JobEnvelope) -> JobFuture),
    /// An EventBridge schedule.
    Schedule(fn(&'static Platform, ScheduledRun) -> ReportFuture),
    /// A direct invocation (after a deploy, by an operator, by the local cloud).
    Invoke(fn(&'static Platform, serde_json::Value) -> ReportFuture),
}

impl Function {
    /// A function's whole `main`: starts the instance and serves its trigger until the runtime stops.
    pub fn run(&'static self) -> Result<(), BoxError> {
        match self.trigger {
            Trigger::Http { key, handler } => trigger::http::run(self.name, key, handler),
            Trigger::Queue(handler) => trigger::sqs::run(self.name, handler),
            Trigger::Schedule(handler) => trigger::schedule::run(self.name, handler),
            Trigger::Invoke(handler) => trigger::invoke::run(self.name, handler),
        }
    }

    /// The route key, for a route function.
    pub fn route_key(&self) -> Option<&'static str> {
        match self.trigger {
            Trigger::Http { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The trigger kind in one word, as tests and reports name it.
    pub fn trigger_kind(&self) -> &'static str {
        match self.trigger {
            Trigger::Http { .. } => "http",
            Trigger::Queue(_) => "queue",
            Trigger::Schedule(_) => "schedule",
            Trigger::Invoke(_) => "invoke",
        }
    }
}
