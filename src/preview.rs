//! `bootstrap render [--app] EVENT.json`: prints the Slack payload of each notification in
//! an event as it would be posted (laid out for reading; the wire form is the same JSON,
//! compact), without the Runtime API, AWS or any network. `MESSAGE_FORMAT` applies as
//! in Lambda. `--app` shows app mode's Web API calls instead: the incident's parent, a
//! reply in its thread, and the parent's update. `--secret FILE` reads a SecretString from
//! FILE and shows where its routes send each notification, and the payload each target
//! gets (webhooks shown by their host only). `--graph` prints each alarm's CloudWatch
//! `MetricWidget` JSON instead (what `METRIC_GRAPH=image` draws; paste it into the console's
//! graph source), or a `#` line saying why it has none.

use crate::alarm::event;
use crate::alarm::event::Notification;
use crate::config;
use crate::json;
use crate::slack::app;
use crate::slack::message::{self, Options, WebApiFields};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// `args` are those after `render`.
pub fn run(args: impl Iterator<Item = OsString>) -> ExitCode {
    let mut app = false;
    let mut graph = false;
    let mut secret = None;
    let mut paths = Vec::new();
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--app") => app = true,
            Some("--graph") => graph = true,
            Some("--secret") => secret = args.next(),
            _ => paths.push(arg),
        }
    }
    let [path] = &paths[..] else {
        return fail(
            "usage: bootstrap render [--app | --graph] [--secret SECRET.json] EVENT.json",
            2,
        );
    };
    let result = match &secret {
        _ if graph => widgets(path),
        Some(secret) => routed(path, secret),
        None => payloads(path, app),
    };
    match result {
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

fn payloads(path: &OsString, app: bool) -> Result<Vec<String>, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?;
    let format = config::message_format(&|name: &str| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    let notifications = event::parse(&body).map_err(|e| format!("{}: {e}", e.error_type()))?;
    let options = Options {
        format,
        ..Options::default()
    };
    if app {
        return Ok(notifications
            .iter()
            .flat_map(|n| app_calls(n, format))
            .collect());
    }
    Ok(notifications
        .iter()
        .map(|n| json::indent(&message::render(n, &options), usize::MAX))
        .collect())
}

/// Each alarm's `MetricWidget` JSON, laid out for reading, or why it has none.
fn widgets(path: &OsString) -> Result<Vec<String>, String> {
    let body =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?;
    let notifications = event::parse(&body).map_err(|e| format!("{}: {e}", e.error_type()))?;
    Ok(notifications
        .iter()
        .map(|n| match n {
            Notification::Alarm(alarm) => match crate::graph::widget::widget(alarm) {
                Ok(widget) => json::indent(&widget, usize::MAX),
                Err(why) => format!("# no graph: {why}"),
            },
            Notification::Notice(_) | Notification::Text { .. } => {
                "# no graph: not an alarm".to_string()
            }
        })
        .collect())
}

/// Where the secret's routes send each notification, and what each target gets.
fn routed(path: &OsString, secret: &OsString) -> Result<Vec<String>, String> {
    use crate::slack::secret::{Settings, To};
    let text = std::fs::read_to_string(secret)
        .map_err(|e| format!("cannot read {}: {e}", secret.to_string_lossy()))?;
    let settings = Settings::from_secret(&text).map_err(|e| format!("{}: {e}", e.error_type()))?;
    let body =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?;
    let format = config::message_format(&|name: &str| std::env::var(name).ok())
        .map_err(|e| e.to_string())?;
    let notifications = event::parse(&body).map_err(|e| format!("{}: {e}", e.error_type()))?;
    let mut out = Vec::new();
    for notification in &notifications {
        let destinations = settings
            .destinations(notification)
            .map_err(|e| format!("{}: {e}", e.error_type()))?;
        if destinations.is_empty() {
            out.push(match notification {
                Notification::Notice(n) if n.routine => {
                    "# routine, and no route asks for it: nothing is posted".to_string()
                }
                _ => "# dropped by a route (\"drop\": true): nothing is posted".to_string(),
            });
        }
        for d in destinations {
            let (to, channel) = match &d.to {
                To::Webhook(hook, channel) => (format!("webhook {}", hook.redacted()), *channel),
                To::Channel(channel) => (format!("channel {channel}"), Some(*channel)),
            };
            let options = Options {
                format,
                channel,
                username: settings.username.as_deref(),
                icon_emoji: settings.icon_emoji.as_deref(),
                suffix: d.mention.as_deref(),
                sparkline: None,
                web_api: None,
            };
            let payload = json::indent(&message::render(notification, &options), usize::MAX);
            let only = match d.thread_only {
                true => {
                    ", only as a reply in its open incident thread (app mode with INCIDENT_TABLE)"
                }
                false => "",
            };
            out.push(format!("# to {to}{only}\n{payload}"));
        }
    }
    Ok(out)
}

/// App mode's calls for one notification, each under a `#` line that names it. The channel
/// and the parent's `ts` are placeholders: Slack assigns the `ts`.
fn app_calls(notification: &Notification, format: message::Format) -> Vec<String> {
    const CHANNEL: &str = "C0123ABCD";
    const PARENT_TS: &str = "1764470000.000100";
    let Notification::Alarm(alarm) = notification else {
        let options = Options {
            format,
            channel: Some(CHANNEL),
            web_api: Some(WebApiFields::default()),
            ..Options::default()
        };
        let payload = message::render(notification, &options);
        return vec![format!(
            "# chat.postMessage\n{}",
            json::indent(&payload, usize::MAX)
        )];
    };
    let key = alarm.key();
    let transition = crate::incident::transition_id(alarm);
    let metadata = app::metadata(&app::Tag {
        alarm: &key,
        transition: &transition,
    });
    let call = |title: &str, fields: WebApiFields| {
        let options = Options {
            format,
            channel: Some(CHANNEL),
            web_api: Some(fields),
            ..Options::default()
        };
        let payload = message::render(notification, &options);
        format!("# {title}\n{}", json::indent(&payload, usize::MAX))
    };
    vec![
        call(
            "chat.postMessage: the parent, when this state opens an incident",
            WebApiFields {
                metadata: Some(&metadata),
                ..WebApiFields::default()
            },
        ),
        call(
            "chat.postMessage: a reply in the open incident's thread",
            WebApiFields {
                thread_ts: Some(PARENT_TS),
                metadata: Some(&metadata),
                ..WebApiFields::default()
            },
        ),
        call(
            "chat.update: the parent, brought up to this state",
            WebApiFields {
                ts: Some(PARENT_TS),
                incident: Some("Firing for 14 min"),
                ..WebApiFields::default()
            },
        ),
    ]
}
