//! Golden messages: every event in `events/` is rendered by the real binary
//! (`bootstrap render events/X.json`, no AWS settings, no network) and compared byte for byte
//! with `tests/golden/X.json`. The same events then go through the Lambda loop against the
//! local emulator, and what reaches the Slack webhook must be those same payloads.
//!
//! An intended change to the messages: `UPDATE_GOLDEN=1 cargo test --test golden` (or
//! `make golden`) rewrites the expectations; review the diff before committing it.

use common::bootstrap_bin;
use emulator::{default_secret_json, Bootstrap, Emulator, Options, Outcome};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use testkit::{common, emulator};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The names (without `.json`) of the files in a directory of the repository, sorted.
fn json_names(dir: &str) -> Vec<String> {
    file_names(dir, "json")
}

/// The names (without `.{ext}`) of the files in a directory of the repository, sorted.
fn file_names(dir: &str, ext: &str) -> Vec<String> {
    let entries = std::fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    let suffix = format!(".{ext}");
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.to_str()?.strip_suffix(&suffix).map(str::to_string))
        .collect();
    names.sort();
    names
}

/// `bootstrap render events/{name}.json` with nothing in the environment but `env`.
fn render(name: &str, env: &[(&str, &str)]) -> Output {
    Command::new(bootstrap_bin())
        .arg("render")
        .arg(format!("events/{name}.json"))
        .current_dir(root())
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("bootstrap runs")
}

/// `bootstrap render {args} events/{name}.json`, which must succeed.
fn rendered_with(name: &str, args: &[&str]) -> String {
    let out = Command::new(bootstrap_bin())
        .arg("render")
        .args(args)
        .arg(format!("events/{name}.json"))
        .current_dir(root())
        .env_clear()
        .output()
        .expect("bootstrap runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "bootstrap render {args:?} events/{name}.json: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Where two texts first differ, line by line.
fn first_difference(expected: &str, got: &str) -> String {
    let (mut e, mut g) = (expected.lines(), got.lines());
    for line in 1.. {
        match (e.next(), g.next()) {
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return "only line endings differ".to_string(),
            (a, b) => return format!("line {line}:\n  expected: {a:?}\n  rendered: {b:?}"),
        }
    }
    unreachable!()
}

#[test]
fn every_event_renders_as_its_golden_file() {
    compare_goldens("tests/golden", "json", &[]);
}

/// App mode's calls (`render --app`): an alarm's parent, reply and update; anything else's
/// one post.
#[test]
fn every_event_renders_in_app_mode_as_its_golden_file() {
    compare_goldens("tests/golden/app", "txt", &["--app"]);
}

/// Each event of `events/` rendered with `args` against `{dir}/{name}.{ext}`, byte for byte;
/// `UPDATE_GOLDEN=1` rewrites them instead.
fn compare_goldens(dir: &str, ext: &str, args: &[&str]) {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| !v.is_empty() && v != "0");
    let events = json_names("events");
    assert!(
        events.len() >= 12,
        "events/ should hold every shape: {events:?}"
    );
    if update {
        std::fs::create_dir_all(root().join(dir)).expect("golden directory");
    }
    let mut problems = Vec::new();
    for name in &events {
        let got = rendered_with(name, args);
        let path = root().join(dir).join(format!("{name}.{ext}"));
        if update {
            std::fs::write(&path, &got).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == got => {}
            Ok(expected) => problems.push(format!(
                "events/{name}.json renders differently from {dir}/{name}.{ext}, {}",
                first_difference(&expected, &got)
            )),
            Err(_) => problems.push(format!(
                "events/{name}.json has no expectation: {dir}/{name}.{ext} is missing"
            )),
        }
    }
    for name in file_names(dir, ext) {
        if !events.contains(&name) {
            let path = format!("{dir}/{name}.{ext}");
            if update {
                std::fs::remove_file(root().join(&path)).expect("remove stale golden file");
            } else {
                problems.push(format!("{path} belongs to no event in events/"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended: UPDATE_GOLDEN=1 cargo test --test golden \
         (or make golden), then review the diff.",
        problems.join("\n\n")
    );
}

/// Routine notices (a pipeline run that succeeded, a task a deployment replaced): `render`
/// shows their card, but the default target never gets them, so without a route that asks
/// for them the loop posts nothing.
const ROUTINE: [&str; 2] = [
    "eventbridge-ecs-task-stopped-scale-in",
    "sns-eventbridge-codepipeline-succeeded",
];

#[test]
fn what_reaches_slack_is_the_golden_payload() {
    let emu = Emulator::start(Options::default());
    // Renders carry no channel; neither does this secret.
    emu.set_secret_string(&default_secret_json(&emu.slack_url(), None));
    let lambda = Bootstrap::spawn(&bootstrap_bin(), &emu.env());
    let mut posted = 0;
    for name in json_names("events") {
        let event = std::fs::read(root().join(format!("events/{name}.json"))).expect("event");
        let id = emu.push_event(event);
        match emu.wait_outcome(&id) {
            Outcome::Response(_) => {}
            Outcome::Error(e) => panic!("events/{name}.json failed in the loop: {}", e.body),
        }
        let golden = std::fs::read_to_string(root().join(format!("tests/golden/{name}.json")))
            .unwrap_or_else(|_| panic!("tests/golden/{name}.json is missing"));
        let mut expected: Vec<Value> = serde_json::Deserializer::from_str(&golden)
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("golden files hold JSON");
        if ROUTINE.contains(&name.as_str()) {
            expected.clear();
        }
        let posts = emu.slack_posts();
        let got: Vec<&Value> = posts.iter().skip(posted).map(|p| &p.json).collect();
        assert_eq!(
            got,
            expected.iter().collect::<Vec<_>>(),
            "events/{name}.json"
        );
        posted = posts.len();
    }
    drop(lambda);
}

#[test]
fn text_format_posts_exactly_the_seed_line_with_the_sender() {
    let emu = Emulator::start(Options::default());
    let secret = json!({
        "SLACK_HOOK_URL": emu.slack_url(), "SLACK_CHANNEL": "#alerts",
        "SLACK_USERNAME": "CloudWatch", "SLACK_ICON_EMOJI": ":rotating_light:"
    });
    emu.set_secret_string(&secret.to_string());
    let mut env = emu.env();
    env.push(("MESSAGE_FORMAT".to_string(), "text".to_string()));
    let _lambda = Bootstrap::spawn(&bootstrap_bin(), &env);
    let event = std::fs::read(root().join("events/cloudwatch-alarm.json")).expect("event");
    let id = emu.push_event(event);
    assert!(matches!(emu.wait_outcome(&id), Outcome::Response(_)));
    let posts = emu.slack_posts();
    assert_eq!(
        posts[0].json,
        json!({
            "text": "api-cpu-high state is now ALARM: Threshold Crossed: 2 out of the last 2 \
                datapoints [93.4 (28/11/26 11:33:00), 91.2 (28/11/26 11:28:00)] were greater than \
                the threshold (80.0) (minimum 2 datapoints for OK -&gt; ALARM transition).",
            "channel": "#alerts",
            "username": "CloudWatch",
            "icon_emoji": ":rotating_light:"
        })
    );
    // Compact on the wire, the seed line first.
    assert!(posts[0]
        .body
        .starts_with(r#"{"text":"api-cpu-high state is now ALARM: "#));
}

#[test]
fn render_uses_message_format_too() {
    let out = render("cloudwatch-alarm-ok", &[("MESSAGE_FORMAT", "TEXT")]);
    assert!(out.status.success());
    let payload: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        payload,
        json!({"text": "api-cpu-high state is now OK: Threshold Crossed: 2 out of the last 2 \
            datapoints [41.7 (28/11/26 12:03:00), 44.0 (28/11/26 11:58:00)] were not greater than \
            the threshold (80.0) (minimum 1 datapoint for ALARM -&gt; OK transition)."})
    );
}

#[test]
fn a_bad_message_format_is_refused_naming_the_variable() {
    let out = render("cloudwatch-alarm", &[("MESSAGE_FORMAT", "blocks")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MESSAGE_FORMAT"), "{stderr}");
    assert!(out.stdout.is_empty());

    // In Lambda it is an init error.
    let emu = Emulator::start(Options::default());
    let mut env = emu.env();
    env.push(("MESSAGE_FORMAT".to_string(), "blocks".to_string()));
    let mut lambda = Bootstrap::spawn(&bootstrap_bin(), &env);
    let posted = emu.wait_init_error();
    assert_eq!(posted.json["errorType"], "Config.InvalidEnvironment");
    let message = posted.json["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("MESSAGE_FORMAT"), "{message}");
    assert!(!lambda.wait_exit().success());
}

#[test]
fn render_reports_what_it_cannot_use() {
    let bin = bootstrap_bin();
    let usage = Command::new(&bin)
        .arg("render")
        .env_clear()
        .output()
        .expect("runs");
    assert_eq!(usage.status.code(), Some(2));
    let missing = Command::new(&bin)
        .args(["render", "no/such/event.json"])
        .env_clear()
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/event.json"));
    // Cargo.toml is not an event: a typed error, no payload.
    let not_event = Command::new(&bin)
        .args(["render", "Cargo.toml"])
        .current_dir(root())
        .env_clear()
        .output()
        .expect("runs");
    assert_eq!(not_event.status.code(), Some(1));
    assert!(not_event.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&not_event.stderr);
    assert!(stderr.starts_with("Event.Invalid: "), "{stderr}");
}
