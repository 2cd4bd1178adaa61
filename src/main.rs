//! alarm-to-slack: a Lambda custom runtime that posts CloudWatch alarms to Slack,
//! with the Slack settings kept in Secrets Manager. This file only wires the parts.

use alarm_to_slack::{config, handler, help, http, log, preview, runtime};
use std::io::Write;
use std::process::ExitCode;

#[cfg(all(target_env = "musl", panic = "abort"))]
mod no_unwinder;

/// musl's allocator with small freed blocks kept for reuse (see `heap.rs`).
#[cfg(target_env = "musl")]
#[global_allocator]
static HEAP: alarm_to_slack::heap::Recycling = alarm_to_slack::heap::Recycling::new();

fn main() -> ExitCode {
    // Lambda starts the bootstrap without arguments; the RIE and images built on the
    // `provided` base image pass the handler name, which, like any other word, is not ours.
    let mut args = std::env::args_os().skip(1);
    match args.next().as_ref().and_then(|a| a.to_str()) {
        Some("--version" | "-V") => {
            return print(concat!("alarm-to-slack ", env!("CARGO_PKG_VERSION"), "\n"))
        }
        Some("--help" | "-h") => return print(&help::help()),
        // Previews a message locally: no Runtime API, no AWS, no network.
        Some("render") => return preview::run(args),
        _ => {}
    }

    let env = |name: &str| std::env::var(name).ok();
    log::init(config::logging(env));
    let base = match config::runtime_api(env) {
        Ok(base) => base,
        Err(err) => {
            log::fatal(&"cannot start").error(&err).emit();
            return ExitCode::FAILURE;
        }
    };
    let mut api = match runtime::RuntimeApi::new(&base) {
        Ok(api) => api,
        Err(runtime::Fatal(why)) => {
            log::fatal(&format_args!("cannot start: {why}")).emit();
            return ExitCode::FAILURE;
        }
    };

    let config = match config::Config::from_env(env) {
        Ok(config) => config,
        Err(err) => {
            log::fatal(&"init failed").error(&err).emit();
            if let Err(runtime::Fatal(why)) = api.init_error(&err) {
                log::fatal(&why).emit();
            }
            return ExitCode::FAILURE;
        }
    };
    let (agent, preconnect) = http::agent();
    let mut handler = handler::Handler::new(agent, preconnect, &config);
    drop(config);

    let runtime::Fatal(why) = runtime::run(&mut api, |invocation, answer| {
        handler.handle(invocation, answer)
    });
    log::fatal(&format_args!("exiting: {why}")).emit();
    ExitCode::FAILURE
}

/// For `--help` and `--version`, which run outside Lambda.
fn print(text: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
