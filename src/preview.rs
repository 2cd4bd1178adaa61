//! `bootstrap render EVENT.json`: prints the Slack payload of each notification in an
//! event as it would be posted (laid out for reading; the wire form is the same JSON,
//! compact), without the Runtime API, AWS or any network. `MESSAGE_FORMAT` applies as
//! in Lambda.

use crate::alarm::event;
use crate::config;
use crate::json;
use crate::slack::message::{self, Options};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// `args` are those after `render`.
pub fn run(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let (Some(path), None) = (args.next(), args.next()) else {
        return fail("usage: bootstrap render EVENT.json", 2);
    };
    match payloads(&path) {
        Ok(payloads) => {
            // A closed pipe (`| head`) ends the output; it is not worth a panic.
            let mut out = std::io::stdout().lock();
            match payloads.iter().try_for_each(|p| writeln!(out, "{p}")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(why) => fail(&why, 1),
    }
}

/// One line on stderr. Not `eprintln!`: its formatting adapter for stderr costs more binary
/// than this whole command needs.
fn fail(why: &str, code: u8) -> ExitCode {
    let _ = std::io::stderr().write_all(format!("{why}\n").as_bytes());
    ExitCode::from(code)
}

fn payloads(path: &OsString) -> Result<Vec<String>, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?;
    let format = config::message_format(&|name: &str| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    let notifications = event::parse(&body).map_err(|e| format!("{}: {e}", e.error_type()))?;
    let options = Options {
        format,
        ..Options::default()
    };
    Ok(notifications
        .iter()
        .map(|n| json::indent(&message::render(n, &options), usize::MAX))
        .collect())
}
