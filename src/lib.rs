//! The parts of the `bootstrap` runtime. A library so that the fuzz targets
//! under tests/fuzz reach the same event parsing and message building;
//! `main.rs` wires the parts together.

pub mod alarm;
pub mod config;
pub mod console;
pub mod error;
pub mod event;
pub mod handler;
pub mod http;
pub mod log;
pub mod message;
pub mod mrkdwn;
pub mod preview;
pub mod runtime;
pub mod secret_cache;
pub mod secrets_manager;
pub mod slack;
pub mod timestamp;
pub mod trigger;
