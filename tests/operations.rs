//! End-to-end, for operators: the real `bootstrap` against the local emulator, checking
//! what it logs (text and JSON, level filtering, DEBUG payloads without the webhook URL),
//! its start-up checks of the logging variables, `--version`/`--help`, and the Runtime API
//! address forms of cargo-lambda.

use common::{alarm_event, bootstrap_bin, env_with};
use emulator::{Bootstrap, Emulator, Options, Outcome};
use serde_json::Value;
use std::process::Command;
use testkit::{common, emulator};

/// An emulator and a bootstrap serving it with the emulator's environment plus `set`.
fn start(options: Options, set: &[(&str, &str)]) -> (Emulator, Bootstrap) {
    let emu = Emulator::start(options);
    let process = spawn(&emu, set);
    (emu, process)
}

fn spawn(emu: &Emulator, set: &[(&str, &str)]) -> Bootstrap {
    Bootstrap::spawn(&bootstrap_bin(), &env_with(emu, set, &[]))
}

fn invoke(emu: &Emulator, event: impl Into<Vec<u8>>) -> (String, Outcome) {
    let id = emu.push_event(event);
    let outcome = emu.wait_outcome(&id);
    (id, outcome)
}

/// Everything the process wrote: it is killed first, so nothing is still in the pipe.
fn all_stdout(process: &mut Bootstrap) -> String {
    process.kill();
    process.stdout()
}

/// Every stdout line as a JSON object; panics on any line that is not one.
fn json_lines(stdout: &str) -> Vec<Value> {
    assert!(!stdout.is_empty(), "no output");
    stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
            assert!(value.is_object(), "not an object: {line}");
            value
        })
        .collect()
}

/// `2026-11-28T11:38:08.171Z`: RFC 3339, UTC, with milliseconds.
fn assert_rfc3339(ts: &str) {
    let b = ts.as_bytes();
    let digits = |r: std::ops::Range<usize>| ts[r].bytes().all(|c| c.is_ascii_digit());
    let number = |r: std::ops::Range<usize>| ts[r].parse::<u32>().unwrap_or(99);
    let shape = b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z';
    assert!(shape, "not RFC 3339 UTC with milliseconds: {ts:?}");
    assert!((1..=12).contains(&number(5..7)), "{ts}");
    assert!((1..=31).contains(&number(8..10)), "{ts}");
    assert!(
        number(11..13) < 24 && number(14..16) < 60 && number(17..19) < 60,
        "{ts}"
    );
}

fn line_for<'a>(lines: &'a [Value], request_id: &str, message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["requestId"] == request_id && l["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} line for {request_id} in {lines:#?}"))
}

#[test]
fn json_format_writes_one_object_per_line_with_the_fields() {
    let (emu, mut process) = start(Options::default(), &[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
    let (ok_id, ok) = invoke(&emu, alarm_event("cpu-high"));
    assert!(matches!(ok, Outcome::Response(_)), "{ok:?}");
    let (warm_id, _) = invoke(&emu, alarm_event("cpu-high"));
    emu.slack_respond(404, "no_service");
    // Another event: the same one again would be skipped as delivered already.
    let (rejected_id, rejected) = invoke(&emu, alarm_event("cpu-high-again"));
    assert!(matches!(rejected, Outcome::Error(_)), "{rejected:?}");
    let (invalid_id, _) = invoke(&emu, &b"{\"detail-type\":\"Scheduled Event\"}"[..]);

    let lines = json_lines(&all_stdout(&mut process));
    for line in &lines {
        assert_rfc3339(line["timestamp"].as_str().expect("timestamp"));
        let level = line["level"].as_str().expect("level");
        assert!(
            ["INFO", "WARN", "ERROR", "FATAL"].contains(&level),
            "{line}"
        );
        assert!(!line["message"].as_str().expect("message").is_empty());
        assert!(line["requestId"].is_string(), "{line}");
    }

    let first = line_for(&lines, &ok_id, "invocation done");
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["alarm"], "cpu-high");
    assert_eq!(first["state"], "ALARM");
    assert_eq!(first["outcome"], "ok");
    assert_eq!(first["posted"], 1);
    assert_eq!(first["secretCache"], "miss");
    assert_eq!(first["slackStatus"], 200);
    assert!(first["durationMs"].is_u64(), "{first}");
    assert_eq!(
        line_for(&lines, &warm_id, "invocation done")["secretCache"],
        "hit"
    );

    let failed = line_for(&lines, &rejected_id, "invocation failed");
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["outcome"], "error");
    // A 404 no_service makes the runtime fetch the secret again; the URL is unchanged.
    assert_eq!(failed["errorType"], "Slack.WebhookRevoked");
    assert_eq!(failed["slackStatus"], 404);
    let message = failed["errorMessage"].as_str().expect("errorMessage");
    assert!(message.contains("no_service"), "{message}");

    let invalid = line_for(&lines, &invalid_id, "invocation failed");
    assert_eq!(invalid["errorType"], "Event.Invalid");
    assert!(invalid.get("alarm").is_none(), "{invalid}");
    assert_eq!(
        lines.len(),
        4,
        "one line per invocation at INFO: {lines:#?}"
    );
}

#[test]
fn text_format_is_the_default_one_line_per_invocation() {
    let (emu, mut process) = start(Options::default(), &[]);
    let (id, _) = invoke(&emu, alarm_event("disk-full"));
    let stdout = all_stdout(&mut process);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("INFO {id} invocation done ")),
        "{stdout}"
    );
    assert!(lines[0].contains(" alarm=\"disk-full\" "), "{stdout}");
    assert!(lines[0].contains(" outcome=ok "), "{stdout}");
}

#[test]
fn log_level_error_drops_info_lines_at_the_source() {
    let (emu, mut process) = start(
        Options::default(),
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    let (_, ok) = invoke(&emu, alarm_event("quiet"));
    assert!(matches!(ok, Outcome::Response(_)), "{ok:?}");
    emu.slack_respond(400, "invalid_payload");
    let (failed_id, _) = invoke(&emu, alarm_event("loud"));

    let lines = json_lines(&all_stdout(&mut process));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["requestId"], failed_id.as_str());
    assert_eq!(
        emu.slack_posts().len(),
        2,
        "both alarms were still sent to Slack"
    );
}

#[test]
fn debug_shows_the_slack_payload_but_never_the_webhook_url() {
    let (emu, mut process) = start(
        Options::default(),
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "debug"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    let (id, _) = invoke(&emu, alarm_event("cpu-high"));
    let stdout = all_stdout(&mut process);
    let lines = json_lines(&stdout);

    // What the Runtime API said about the invocation is read and shown at DEBUG.
    let received = line_for(&lines, &id, "invocation received");
    assert_eq!(received["functionArn"], emulator::DEFAULT_FUNCTION_ARN);
    assert_eq!(received["traceId"], emulator::DEFAULT_TRACE_ID);
    assert!(received["deadlineMs"].is_u64(), "{received}");

    let debug = line_for(&lines, &id, "Slack payload");
    assert_eq!(debug["level"], "DEBUG");
    let logged: Value =
        serde_json::from_str(debug["payload"].as_str().expect("payload")).expect("payload JSON");
    let posts = emu.slack_posts();
    assert_eq!(
        logged, posts[0].json,
        "the logged payload is what Slack received"
    );

    // The webhook's host may show; its path is the credential.
    let url = emu.slack_url();
    let path = &url[url.find("/services/").expect("webhook path")..];
    assert!(!stdout.contains(path), "webhook path leaked: {stdout}");
    for part in path.split('/').filter(|p| p.len() > 8) {
        assert!(
            !stdout.contains(part),
            "webhook part {part} leaked: {stdout}"
        );
    }
    let options = emu.options();
    assert!(!stdout.contains(&options.secret_access_key));
    assert!(!stdout.contains(options.session_token.as_deref().unwrap_or("-")));
}

#[test]
fn invalid_log_settings_are_init_errors_naming_the_variable() {
    for (name, value) in [
        ("AWS_LAMBDA_LOG_LEVEL", "VERBOSE"),
        ("AWS_LAMBDA_LOG_FORMAT", "yaml"),
    ] {
        let (emu, mut process) = start(Options::default(), &[(name, value)]);
        let posted = emu.wait_init_error();
        assert_eq!(
            posted.error_type_header.as_deref(),
            Some("Config.InvalidEnvironment")
        );
        let message = posted.json["errorMessage"].as_str().expect("errorMessage");
        assert!(message.contains(name), "{message}");
        assert!(!process.wait_exit().success());
        assert_eq!(
            emu.next_calls(),
            0,
            "no invocation is taken after an init error"
        );
        let log = process.stdout();
        assert!(log.starts_with("FATAL init failed"), "{log}");
        assert!(log.contains(name), "{log}");
    }
}

/// Runs the binary with `args` and an empty environment: outside Lambda.
fn run_outside_lambda(args: &[&str]) -> std::process::Output {
    Command::new(bootstrap_bin())
        .args(args)
        .env_clear()
        .output()
        .expect("run bootstrap")
}

#[test]
fn version_and_help_work_outside_lambda() {
    let version = run_outside_lambda(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("alarm-to-slack {}\n", env!("CARGO_PKG_VERSION"))
    );

    let help = run_outside_lambda(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for name in [
        "SecretId",
        "SECRET_TTL_SECONDS",
        "AWS_LAMBDA_LOG_FORMAT",
        "AWS_LAMBDA_LOG_LEVEL",
        "AWS_REGION",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        assert!(
            text.contains(name),
            "--help does not mention {name}:\n{text}"
        );
    }
    assert!(text.contains("When wrong:"), "{text}");

    // Any other argument (the RIE passes the handler name) is not ours: it runs as a runtime,
    // which here fails for want of a Runtime API, and says how to get help.
    let handler = run_outside_lambda(&["function.handler"]);
    assert!(!handler.status.success());
    let said = String::from_utf8_lossy(&handler.stdout);
    assert!(said.contains("AWS_LAMBDA_RUNTIME_API"), "{said}");
    assert!(said.contains("--help"), "{said}");
}

#[test]
fn runtime_api_given_as_cargo_lambda_does() {
    // cargo lambda watch sets AWS_LAMBDA_RUNTIME_API=http://[::]:9000/.rt/<binary name>.
    let options = Options {
        runtime_prefix: "/.rt/bootstrap".to_string(),
        ..Options::default()
    };
    let emu = Emulator::start(options);
    let url = format!("http://{}", emu.runtime_api());
    let _process = spawn(&emu, &[("AWS_LAMBDA_RUNTIME_API", &url)]);
    let (_, outcome) = invoke(&emu, alarm_event("watched"));
    assert_eq!(outcome, Outcome::Response(r#"{"posted":1}"#.to_string()));
    assert_eq!(emu.slack_posts().len(), 1);
}
