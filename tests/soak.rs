//! `make soak`: how much of the safety margin is left when a peer accepts the connection
//! and never answers. For each deadline, runs that many bootstraps side by side, each
//! against its own emulator whose Secrets Manager (then Slack) hangs, and prints how long
//! before the deadline the typed error reached the Runtime API. Prints only; asserts
//! nothing about time.
//!
//!     cargo run --profile bench --example soak -- <path-to-bootstrap> <event.json> [RUNS]
//!
//! The goal (issue 11): every error at least 100 ms before the deadline.

use emulator::fault::{Action, FaultServer};
use emulator::{default_secret_json, Bootstrap, Emulator, Invocation, Options, Settled};
use std::process::ExitCode;
use std::time::Duration;
use testkit::emulator;

const DEADLINES_MS: [u64; 4] = [2_000, 5_000, 10_000, 30_000];
const DEFAULT_RUNS: usize = 50;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    let runs = match args.get(3).map(|n| n.parse::<usize>()) {
        None => DEFAULT_RUNS,
        Some(Ok(n)) if n > 0 => {
            args.truncate(3);
            n
        }
        Some(_) => {
            eprintln!("soak: RUNS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let (binary, _, event) = match emulator::process::program_args_from("soak", &args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    println!(
        "{:<16} {:>8} {:>6} {:>12} {:>12} {:>8}",
        "peer that hangs", "deadline", "runs", "min margin", "median", "< 100 ms"
    );
    let mut missed = 0;
    for peer in [Peer::SecretsManager, Peer::Slack] {
        for deadline_ms in DEADLINES_MS {
            let mut margins: Vec<i64> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..runs)
                    .map(|_| scope.spawn(|| margin(&binary, &event, peer, deadline_ms)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(i64::MIN))
                    .collect()
            });
            margins.sort_unstable();
            let short = margins.iter().filter(|m| **m < 100).count();
            missed += short;
            println!(
                "{:<16} {:>6} s {:>6} {:>9} ms {:>9} ms {:>8}",
                peer.name(),
                deadline_ms / 1000,
                runs,
                margins[0],
                margins[margins.len() / 2],
                short
            );
        }
    }
    println!("errors reported less than 100 ms before the deadline: {missed}");
    ExitCode::SUCCESS
}

#[derive(Clone, Copy)]
enum Peer {
    SecretsManager,
    Slack,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::SecretsManager => "Secrets Manager",
            Peer::Slack => "Slack",
        }
    }
}

/// Milliseconds between the error reaching the Runtime API and the deadline (negative:
/// after it). `i64::MIN` when no error came at all.
fn margin(binary: &std::path::Path, event: &[u8], peer: Peer, deadline_ms: u64) -> i64 {
    let hang = FaultServer::start(Action::Hang);
    let mut options = Options::default();
    if let Peer::Slack = peer {
        let hook = format!("{}/services/T0/B0/SOAK", hang.url());
        options.secret_string = Some(default_secret_json(&hook, None));
    }
    let emu = Emulator::start(options);
    let mut env = emu.env();
    if let Peer::SecretsManager = peer {
        env.retain(|(k, _)| k != "AWS_ENDPOINT_URL_SECRETS_MANAGER");
        env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), hang.url()));
    }
    let mut process = Bootstrap::spawn(binary, &env);
    emu.wait_next_calls(1);
    let mut invocation = Invocation::new(event.to_vec());
    let deadline = emulator::now_ms() + deadline_ms;
    invocation.deadline_ms = Some(deadline.to_string());
    let id = emu.push_event_with(invocation);
    let settled = emu.wait_settled(&id, Duration::from_millis(deadline_ms + 5_000));
    let at = emulator::now_ms();
    process.kill();
    match settled {
        Settled::Outcome(_) => deadline as i64 - at as i64,
        _ => i64::MIN,
    }
}
