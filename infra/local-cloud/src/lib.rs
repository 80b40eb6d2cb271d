//! The local cloud's library: its reader of `template.yaml`, which the binary (`main.rs`) runs the template from
//! and the agreement tests (`tests/api_document.rs`) check the template with, so that both read it the same way.

pub mod template;
