//! Log lines on stdout, where Lambda collects them into CloudWatch Logs.
//! A failed write to stdout is ignored: logging must never stop an alarm.

use std::fmt;
use std::io::Write;

#[derive(Clone, Copy)]
pub enum Level {
    Info,
    Warn,
    Error,
}

pub fn log(level: Level, request_id: Option<&str>, message: fmt::Arguments<'_>) {
    let level = match level {
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
    };
    let mut out = std::io::stdout().lock();
    let _ = match request_id {
        Some(id) => writeln!(out, "{level} {id} {message}"),
        None => writeln!(out, "{level} {message}"),
    };
    let _ = out.flush();
}
