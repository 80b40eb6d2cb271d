//! The platform every quiz function is built on.
//!
//! One module per concern, each the only way the project does that thing. A function's `main` calls
//! [`Platform::start`] and hands a handler to one of the [`trigger`] adapters; handlers are ordinary async
//! functions that do not know which trigger called them.

pub mod aws;
pub mod blog;
pub mod cache;
pub mod cache_monitor;
pub mod config;
pub mod contact;
pub mod db;
pub mod debug_job;
pub mod events;
pub mod feedback;
pub mod health;
pub mod http;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod outbound;
pub mod media_cleanup;
pub mod mini_app;
pub mod migrations;
pub mod platform;
pub mod queue_inspect;
pub mod quiz;
pub mod republish;
pub mod routes;
pub mod sessions;
pub mod storage;
pub mod telegram;
pub mod telemetry;
pub mod tls;
pub mod trigger;
pub mod uploads;
pub mod users;
pub mod webhooks;

pub use platform::Platform;
pub use trigger::{BoxError, JobError};
