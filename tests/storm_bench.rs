//! `make bench-storm` (part of `make bench`): issue 25's alarm storm. 200 alarms across 20
//! namespaces reach 4 release bootstraps on one Runtime API queue, in app mode (incident store
//! in moto_server's DynamoDB, Slack's Web API from the emulator's stand-in, which hides every
//! post to a channel above one a second past a burst of 10: Slack's "no guarantee"), and, apart,
//! in SQS batches of 10 in webhook mode (the webhook stand-in answers 429 with `Retry-After`
//! above one a second past a burst of 10). An invocation that fails is run again, twice at most,
//! as Lambda retries an asynchronous event (SQS: the failed records come back in a batch).
//! Prints a table; no thresholds. `BENCH_BASELINE=<bootstrap>` adds the per-alarm path of
//! another build (today's, before the storm work) in the same run.

use common::alarm_message;
use emulator::slack_api::{ChannelLimit, Over, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::{Bootstrap, Emulator, Options, Outcome};
use moto_server::Moto;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use testkit::{common, emulator, moto_server};

const PROCESSES: usize = 4;

/// 200, or `STORM_ALARMS`.
fn alarms() -> usize {
    std::env::var("STORM_ALARMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}
const NAMESPACES: usize = 20;
const TABLE: &str = "alarm-incidents";
/// Lambda runs a failed asynchronous event twice more.
const RETRIES: usize = 2;
const BURST: u32 = 10;

fn name(i: usize) -> String {
    format!("storm-{i:03}")
}

fn alarm(i: usize) -> String {
    let mut message: Value =
        serde_json::from_str(&alarm_message(&name(i), "ALARM")).unwrap_or_default();
    message["Trigger"]["Namespace"] = format!("Storm/Service{:02}", i % NAMESPACES).into();
    message.to_string()
}

/// What one scenario left behind.
struct Row {
    label: String,
    visible: usize,
    top_level: usize,
    hidden: usize,
    refused_429: usize,
    failed: usize,
    retried: usize,
    last_visible: Duration,
    billed: Duration,
    dynamodb_per_alarm: f64,
}

impl Row {
    fn print(&self) {
        let lost = alarms().saturating_sub(self.visible + self.failed);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} s | {:.1} s | {:.2} |",
            self.label,
            self.visible,
            self.top_level,
            lost,
            self.hidden,
            self.refused_429,
            format_args!("{} ({} retried)", self.failed, self.retried),
            self.last_visible.as_secs_f64(),
            self.billed.as_secs_f64(),
            self.dynamodb_per_alarm,
        );
    }
}

/// What of a failed event runs again: the event, or the part of it that failed.
type Again = dyn Fn(&Vec<u8>, &Outcome) -> Option<Vec<u8>>;

/// Runs `events` on `PROCESSES` bootstraps until each is answered, running again (up to
/// [`RETRIES`] times) those `again` says failed. Returns the events that still failed, the
/// number of runs again, and the billed time (each invocation from its hand-out to its answer).
fn run_all(emu: &Emulator, events: Vec<Vec<u8>>, again: &Again) -> (usize, usize, Duration) {
    let (mut billed, mut retried) = (Duration::ZERO, 0);
    let mut pending = events;
    for round in 0..=RETRIES {
        let ids: Vec<(String, Vec<u8>)> = pending
            .into_iter()
            .map(|e| (emu.push_event(e.clone()), e))
            .collect();
        pending = Vec::new();
        for (id, event) in &ids {
            let outcome = emu.wait_outcome(id);
            if let (Some((out, _)), Some(answered)) = (emu.handed_out(id), emu.outcome_time(id)) {
                billed += answered.saturating_duration_since(out);
            }
            if let Some(next) = again(event, &outcome) {
                pending.push(next);
            }
        }
        if pending.is_empty() || round == RETRIES {
            break;
        }
        retried += pending.len();
    }
    (pending.len(), retried, billed)
}

fn app_mode(binary: &Path, label: &str, extra: &[(&str, &str)]) -> Row {
    let moto = Moto::start_serial();
    moto.reset_auth("inf");
    moto.reset();
    moto.create_incident_table(TABLE);
    let secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID});
    let emu = Emulator::start(Options {
        secret_string: Some(secret.to_string()),
        deadline_ms: 30_000,
        ..Options::default()
    });
    emu.slack_api().limit_channels(ChannelLimit {
        every: Duration::from_secs(1),
        burst: BURST,
        over: Over::Hide,
    });
    let url = moto.url();
    let mut set = vec![
        ("INCIDENT_TABLE", TABLE),
        ("AWS_ENDPOINT_URL_DYNAMODB", url.as_str()),
    ];
    set.extend_from_slice(extra);
    let env = common::env_with(&emu, &set, &[]);
    let mut processes: Vec<Bootstrap> = (0..PROCESSES)
        .map(|_| Bootstrap::spawn(binary, &env))
        .collect();
    emu.wait_next_calls(PROCESSES);
    moto.start_recording();
    let start = Instant::now();
    let events = (0..alarms())
        .map(|i| common::sns(&[(&alarm(i), Some("ALARM"))]))
        .collect();
    let posted = |event: &Vec<u8>, outcome: &Outcome| match outcome {
        Outcome::Response(_) => None,
        _ => Some(event.clone()),
    };
    let (failed, retried, billed) = run_all(&emu, events, &posted);
    let api = emu.slack_api();
    let tops = api.messages(DEFAULT_CHANNEL_ID);
    let mut names = BTreeSet::new();
    for m in tops
        .iter()
        .chain(tops.iter().flat_map(|t| t.replies.iter()))
    {
        let text = m.text.as_deref().unwrap_or("");
        if let Some(n) = text.split(" state is now ").next() {
            names.insert(n.to_string());
        }
    }
    let shown: BTreeSet<String> = api.hidden().iter().map(|m| m.ts.clone()).collect();
    let last = api
        .calls()
        .iter()
        .filter(|c| c.method == "chat.postMessage" && c.status == 200)
        .filter(|c| {
            c.answer["ts"]
                .as_str()
                .is_some_and(|ts| !shown.contains(ts))
        })
        .map(|c| c.received.saturating_duration_since(start))
        .max()
        .unwrap_or_default();
    let dynamodb = moto
        .recorded()
        .iter()
        .filter(|r| {
            r.header("X-Amz-Target")
                .is_some_and(|t| t.starts_with("DynamoDB_"))
        })
        .count();
    for p in &mut processes {
        p.kill();
        // What went wrong, in the processes' own words: their WARN and ERROR lines.
        if std::env::var_os("STORM_LOGS").is_some() {
            for line in p
                .stdout()
                .lines()
                .filter(|l| !l.contains(r#""level":"INFO""#))
            {
                eprintln!("{line}");
            }
        }
    }
    Row {
        label: label.to_string(),
        visible: names.iter().filter(|n| n.starts_with("storm-")).count(),
        top_level: tops.len(),
        hidden: api.hidden().len(),
        refused_429: api.calls().iter().filter(|c| c.status == 429).count(),
        failed,
        retried,
        last_visible: last,
        billed,
        dynamodb_per_alarm: dynamodb as f64 / alarms() as f64,
    }
}

/// An SQS record whose body is the SNS envelope of `message`.
fn record(id: &str, message: &str) -> Value {
    let body = json!({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
        "Subject": "ALARM", "Message": message});
    json!({"messageId": id, "receiptHandle": id, "body": body.to_string(), "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alarm-buffer", "awsRegion": "us-east-1"})
}

fn sqs_webhook(binary: &Path, label: &str) -> Row {
    let emu = Emulator::start(Options {
        deadline_ms: 30_000,
        ..Options::default()
    });
    emu.slack_rate_limit(BURST, 1.0);
    let env = common::env_with(&emu, &[], &[]);
    let mut processes: Vec<Bootstrap> = (0..PROCESSES)
        .map(|_| Bootstrap::spawn(binary, &env))
        .collect();
    emu.wait_next_calls(PROCESSES);
    let start = Instant::now();
    let batches: Vec<Vec<u8>> = (0..alarms())
        .collect::<Vec<usize>>()
        .chunks(10)
        .map(|chunk| {
            let records: Vec<Value> = chunk.iter().map(|&i| record(&name(i), &alarm(i))).collect();
            json!({ "Records": records }).to_string().into_bytes()
        })
        .collect();
    // The records a batch's answer names come back in a batch of their own, as SQS does.
    let failed_records = |event: &Vec<u8>, outcome: &Outcome| -> Option<Vec<u8>> {
        let event: Value = serde_json::from_slice(event).ok()?;
        let failed: Vec<String> = match outcome {
            Outcome::Response(body) => serde_json::from_str::<Value>(body)
                .ok()?
                .get("batchItemFailures")?
                .as_array()?
                .iter()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                .collect(),
            _ => event["Records"]
                .as_array()?
                .iter()
                .filter_map(|r| r["messageId"].as_str().map(str::to_string))
                .collect(),
        };
        let records: Vec<&Value> = event["Records"]
            .as_array()?
            .iter()
            .filter(|r| failed.iter().any(|f| r["messageId"] == f.as_str()))
            .collect();
        (!records.is_empty()).then(|| json!({ "Records": records }).to_string().into_bytes())
    };
    let (failed, retried, billed) = run_all(&emu, batches, &failed_records);
    let posts = emu.slack_posts();
    let accepted: Vec<_> = posts.iter().filter(|p| p.status == 200).collect();
    let mut names = BTreeSet::new();
    for p in &accepted {
        for word in p
            .body
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        {
            if word.starts_with("storm-") && word.len() == "storm-000".len() {
                names.insert(word.to_string());
            }
        }
    }
    let last = start.elapsed();
    for p in &mut processes {
        p.kill();
    }
    Row {
        label: label.to_string(),
        visible: names.len(),
        top_level: accepted.len(),
        hidden: 0,
        refused_429: posts.iter().filter(|p| p.status == 429).count(),
        // Records, not batches.
        failed: failed * 10,
        retried,
        last_visible: last,
        billed,
        dynamodb_per_alarm: 0.0,
    }
}

fn main() -> ExitCode {
    let Some(binary) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: storm <bootstrap> (BENCH_BASELINE=<bootstrap> for a baseline row)");
        return ExitCode::FAILURE;
    };
    println!(
        "Storm: {} alarms in one channel, {NAMESPACES} namespaces, {PROCESSES} processes; Slack shows 1/s per channel past a burst of {BURST}",
        alarms()
    );
    println!("| scenario | alarms visible | top-level messages | lost | hidden by Slack | 429s | reported failed | last alarm visible | billed in total | DynamoDB calls per alarm |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    if let Some(baseline) = std::env::var_os("BENCH_BASELINE") {
        let name = std::env::var("BENCH_BASELINE_NAME").unwrap_or_else(|_| "baseline".into());
        app_mode(
            Path::new(&baseline),
            &format!("app mode, {name}: the per-alarm path"),
            &[],
        )
        .print();
    }
    app_mode(
        &binary,
        "app mode, storm grouping and pace off: the per-alarm path",
        &[("STORM_THRESHOLD", "0"), ("SLACK_PACE_MILLISECONDS", "0")],
    )
    .print();
    app_mode(
        &binary,
        "app mode, defaults (storm grouping, shared pace)",
        &[],
    )
    .print();
    sqs_webhook(&binary, "webhook, SQS batches of 10 (digests)").print();
    ExitCode::SUCCESS
}
