//! alarm-to-slack: a Lambda custom runtime that posts CloudWatch alarms from SNS
//! to a Slack webhook kept in Secrets Manager. This file only wires the parts.

mod alarm;
mod config;
mod console;
mod error;
mod event;
mod handler;
mod http;
mod log;
mod message;
mod mrkdwn;
mod preview;
mod runtime;
mod secret_cache;
mod secrets_manager;
mod slack;
mod timestamp;
mod trigger;

use crate::log::{log, Level};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Lambda starts the runtime without arguments; `render` previews a message locally.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|command| command == "render") {
        return preview::run(args);
    }
    let env = |name: &str| std::env::var(name).ok();
    let base = match config::runtime_api(env) {
        Ok(base) => base,
        Err(err) => {
            log(Level::Error, None, format_args!("{err}"));
            return ExitCode::FAILURE;
        }
    };
    let agent = http::agent();
    let api = runtime::RuntimeApi::new(agent.clone(), base);

    let config = match config::Config::from_env(env) {
        Ok(config) => config,
        Err(err) => {
            log(Level::Error, None, format_args!("init failed: {err}"));
            if let Err(runtime::Fatal(why)) = api.init_error(&err) {
                log(Level::Error, None, format_args!("{why}"));
            }
            return ExitCode::FAILURE;
        }
    };
    let mut handler = handler::Handler::new(agent, &config);
    drop(config);

    let runtime::Fatal(why) = runtime::run(&api, |invocation| handler.handle(invocation));
    log(Level::Error, None, format_args!("exiting: {why}"));
    ExitCode::FAILURE
}
