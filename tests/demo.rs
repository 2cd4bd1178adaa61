//! `make demo`: runs the real `bootstrap` against the local emulator with one event.
//!
//!     cargo run --example demo -- <path-to-bootstrap> <event.json>
//!
//! With `SLACK_HOOK_URL` set to a real webhook, the secret served points there instead of the
//! local Slack recorder (and `SLACK_CHANNEL`, if set, goes into the secret too). Only the host
//! of such a URL is ever printed: the path is the webhook's secret.
//!
//! Exit code: 0 when the invocation succeeded, 1 when it failed, 2 on usage errors.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitCode;
use std::time::Duration;
use testkit::emulator;

use emulator::process::Stopped;
use emulator::{
    default_secret_json, Bootstrap, Emulator, Options, Outcome, Settled, SAFETY_TIMEOUT,
};

/// How long the bootstrap may take to exit after SIGTERM before it is killed. It installs no
/// handler, so it ends at once; Lambda gives a runtime at most 500 ms.
const STOP_GRACE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let (binary, event_path, event) = match emulator::process::program_args("demo") {
        Ok(args) => args,
        Err(code) => return code,
    };

    let user_hook = std::env::var("SLACK_HOOK_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let mut options = Options::default();
    if let Some(url) = &user_hook {
        let channel = std::env::var("SLACK_CHANNEL")
            .ok()
            .filter(|c| !c.is_empty());
        options.secret_string = Some(default_secret_json(url.trim(), channel.as_deref()));
    }
    let emulator = Emulator::start(options);
    let mut bootstrap =
        Bootstrap::spawn_with_exit_hook(&binary, &emulator.env(), emulator.exit_notifier());
    let request_id = emulator.push_event(event.clone());

    section(&format!(
        "Event: {} ({} bytes, request id {request_id})",
        event_path,
        event.len()
    ));
    let settled = emulator.wait_settled(&request_id, SAFETY_TIMEOUT);
    // The bootstrap would wait for the next event forever: stop it, then show what it wrote.
    let stopped = bootstrap.terminate(STOP_GRACE);

    // Whatever the bootstrap wrote or posted is shown through this, so the secret path of a
    // user-provided webhook can never reach the terminal.
    let redact = |text: &str| match &user_hook {
        Some(url) => redact_webhook(text, url.trim()),
        None => text.to_string(),
    };
    let succeeded = matches!(settled, Settled::Outcome(Outcome::Response(_)));

    match &user_hook {
        Some(url) => {
            section("Slack");
            let host = host_of(url.trim());
            if succeeded {
                println!("The message went to your Slack webhook at host {host} (path not shown).");
            } else {
                println!(
                    "The secret pointed at your Slack webhook at host {host} (path not shown); \
                     the invocation failed, see below."
                );
            }
        }
        None => print_local_slack(&emulator),
    }

    section("Runtime API outcome");
    match &settled {
        Settled::Outcome(Outcome::Response(body)) => {
            println!("success: POST /runtime/invocation/{request_id}/response");
            println!("{}", redact(&pretty(body)));
        }
        Settled::Outcome(Outcome::Error(posted)) => {
            println!("error: POST /runtime/invocation/{request_id}/error");
            print_error(posted, &redact);
        }
        Settled::InitError(posted) => {
            println!("init error: POST /runtime/init/error");
            print_error(posted, &redact);
        }
        Settled::RuntimeExited => {
            println!("the bootstrap exited without answering the invocation");
        }
        Settled::TimedOut => {
            println!(
                "no answer within {} s; the bootstrap was killed",
                SAFETY_TIMEOUT.as_secs()
            );
        }
    }
    println!(
        "Secrets Manager GetSecretValue calls: {}",
        emulator.secret_calls()
    );

    section("Bootstrap log");
    print_log("stdout", &redact(&bootstrap.stdout()));
    print_log("stderr", &redact(&bootstrap.stderr()));
    println!("{}", stopped_line(&stopped));

    drop(bootstrap);
    drop(emulator);
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// How the bootstrap ended, in words that do not make a normal stop read like a crash.
fn stopped_line(stopped: &Stopped) -> String {
    match stopped {
        Stopped::Terminated(status) if status.signal() == Some(libc::SIGTERM) => {
            "bootstrap stopped by the demo (SIGTERM) while it waited for the next event: nothing was in flight".to_string()
        }
        Stopped::Terminated(status) | Stopped::Exited(status) => {
            format!("bootstrap exited by itself ({status})")
        }
        Stopped::Killed(_) => format!(
            "bootstrap did not exit within {} s of SIGTERM; the demo killed it (SIGKILL)",
            STOP_GRACE.as_secs()
        ),
    }
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn print_local_slack(emulator: &Emulator) {
    let posts = emulator.slack_posts();
    if posts.is_empty() {
        section("Slack received nothing");
        return;
    }
    for (i, post) in posts.iter().enumerate() {
        let n = if posts.len() > 1 {
            format!(" #{}", i + 1)
        } else {
            String::new()
        };
        section(&format!(
            "Slack received{n} (POST /services/…, Content-Type: {})",
            post.content_type.as_deref().unwrap_or("none")
        ));
        println!("{}", pretty(&post.body));
    }
}

fn print_error(posted: &emulator::Posted, redact: &dyn Fn(&str) -> String) {
    println!(
        "Lambda-Runtime-Function-Error-Type: {}",
        redact(posted.error_type_header.as_deref().unwrap_or("(missing)"))
    );
    let field = |name: &str| posted.json.get(name).and_then(|v| v.as_str());
    match (field("errorType"), field("errorMessage")) {
        (Some(kind), Some(message)) => {
            println!("errorType: {}", redact(kind));
            println!("errorMessage: {}", redact(message));
        }
        _ => println!("{}", redact(&pretty(&posted.body))),
    }
}

fn print_log(name: &str, text: &str) {
    if text.trim().is_empty() {
        println!("-- {name}: (empty)");
    } else {
        println!("-- {name}:");
        for line in text.lines() {
            println!("  {line}");
        }
    }
}

/// Pretty JSON when the text is JSON, else the text as is.
fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// `https://user@hooks.slack.com:443/services/…` -> `hooks.slack.com:443`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit('@').next().unwrap_or(authority)
}

/// Replaces the path (and query) of the user's webhook URL wherever it appears, raw or
/// JSON-escaped (`\/`), with `/…`.
fn redact_webhook(text: &str, url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let Some(slash) = rest.find('/') else {
        return text.to_string();
    };
    let path = &rest[slash..];
    if path.len() <= 1 {
        return text.to_string();
    }
    let mut out = text.replace(path, "/…");
    let escaped = path.replace('/', "\\/");
    out = out.replace(&escaped, "/…");
    // A path cut short in a log line still must not show its secret segments.
    for segment in path
        .split(['/', '?', '&', '='])
        .filter(|s| s.len() >= 8 && *s != "services")
    {
        out = out.replace(segment, "…");
    }
    out
}
