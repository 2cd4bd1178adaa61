//! The parts of the `bootstrap` runtime, named for the data path: `runtime` (the
//! Runtime API), `alarm` (what arrives and what it means), `click` (a Slack button
//! clicked, as the function's URL passes it on), `aws` (signed calls),
//! `slack` (the message and its delivery) and `http` (agent, TLS, deadline, retry).
//! A library so that the fuzz targets under tests/fuzz reach the same event parsing
//! and message building; `main.rs` wires the parts together.

pub mod alarm;
pub mod aws;
pub mod base64;
pub mod beside;
pub mod buttons;
mod bytes;
pub mod click;
pub mod config;
pub mod delivery;
pub mod error;
pub mod graph;
pub mod handler;
pub mod heap;
pub mod help;
pub mod http;
pub mod incident;
mod json;
pub mod log;
pub mod preview;
pub mod region;
pub mod runtime;
mod secret_cache;
pub mod settings;
pub mod slack;
pub mod source;
pub mod text;
