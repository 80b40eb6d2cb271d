//! The features every quiz function is made of, above the [`platform`] crate: the quiz, identity and sessions,
//! users, the blog, uploads, the contact form, feedback, the Telegram bot, outbound webhooks, mail delivery, and
//! the operations functions. [`functions`] lists every function with its trigger and handler.
//!
//! Handlers are ordinary async functions that do not know which trigger called them; the platform's adapters
//! translate each trigger's envelope at the edge.

pub mod blog;
pub mod cache_monitor;
pub mod contact;
pub mod debug_job;
pub mod feedback;
pub mod functions;
pub mod health;
pub mod identity;
pub mod mail;
pub mod media_cleanup;
pub mod migrations;
pub mod mini_app;
pub mod queue_inspect;
pub mod quiz;
pub mod republish;
pub mod sessions;
pub mod telegram;
pub mod uploads;
pub mod users;
pub mod webhooks;

pub use platform::BoxError;
