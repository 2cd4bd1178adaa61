//! End-to-end under cargo-lambda's Runtime API emulator (`make tools` installs the pinned
//! cargo-lambda): `cargo lambda watch --only-lambda-apis` serves the Runtime API, the release
//! `bootstrap` polls it, `cargo lambda invoke` sends the events. Secrets Manager and the Slack
//! webhook are our emulator's (its own Runtime API stays unused). The command lines are read from
//! docs/local-testing.md, so the page shows exactly what runs here.
//!
//! What cargo-lambda 1.9.2 does differently from Lambda, and the bootstrap must survive:
//! `Lambda-Runtime-Deadline-Ms` is the constant `600000` (not an epoch time), `next` blocks
//! while idle, a response is answered 200 (not 202), and `invoke` prints a function error as
//! `Error: <errorType>` plus the message on stderr and exits non-zero.

use common::Lambda;
use emulator::{default_secret_json, Bootstrap, Options};
use serde_json::Value;
use std::process::Command;
use testkit::{common, emulator, tools};
use tools::{cargo_lambda, doc_command, doc_commands, root, with_flag};

/// The port the documented commands use; each test replaces it with a free one.
const DOC_PORT: &str = "9000";

/// `cargo lambda watch --only-lambda-apis` on a free port, running in the repository (it reads
/// `cargo metadata --no-deps`; with --only-lambda-apis it builds and starts nothing).
struct Watch {
    port: u16,
    process: Bootstrap,
}

impl Watch {
    fn start() -> Watch {
        let documented = doc_command("cargo lambda watch", "--only-lambda-apis");
        // A free port can be taken between our probe and cargo-lambda's bind: try a few.
        for _ in 0..3 {
            let port = tools::free_port();
            let words = with_flag(&documented, "--invoke-port", &port.to_string());
            let mut process = Bootstrap::spawn_command(cargo_lambda_command(&words));
            if tools::wait_port(port, &mut process) {
                return Watch { port, process };
            }
        }
        panic!("cargo lambda watch did not start on any of three free ports");
    }

    /// `AWS_LAMBDA_RUNTIME_API` as the page tells the reader to set it (with scheme and `/.rt`).
    fn runtime_api(&self) -> String {
        let line = doc_command("AWS_LAMBDA_RUNTIME_API=", "./bootstrap");
        let value = line[0]
            .strip_prefix("AWS_LAMBDA_RUNTIME_API=")
            .expect("the line starts with the variable");
        let value = value.replace(&format!(":{DOC_PORT}/"), &format!(":{}/", self.port));
        assert!(value.contains(&self.port.to_string()), "{value}");
        value
    }

    /// Runs one documented `cargo lambda invoke` line against this watch; bounded by the safety
    /// timeout (the process is killed and the test fails if it hangs).
    fn invoke(&self, needle: &str) -> Invoked {
        let documented = doc_command("cargo lambda invoke", needle);
        let words = with_flag(&documented, "--invoke-port", &self.port.to_string());
        let mut process = Bootstrap::spawn_command(cargo_lambda_command(&words));
        let status = process.wait_exit();
        Invoked {
            success: status.success(),
            stdout: process.stdout(),
            stderr: process.stderr(),
        }
    }
}

struct Invoked {
    success: bool,
    stdout: String,
    stderr: String,
}

/// `cargo lambda …` as cargo-lambda's own binary: `cargo-lambda lambda …`, in the repository,
/// offline (cargo metadata must not fetch anything).
fn cargo_lambda_command(words: &[String]) -> Command {
    assert_eq!(&words[..2], ["cargo", "lambda"], "{words:?}");
    let mut command = Command::new(cargo_lambda());
    command
        .arg("lambda")
        .args(&words[2..])
        .current_dir(root())
        .env("CARGO_NET_OFFLINE", "true")
        .env("NO_COLOR", "1");
    command
}

/// Our emulator's Secrets Manager and Slack, with the bootstrap polling cargo-lambda. The secret
/// names no channel, like the golden renders, so that payloads compare with tests/golden/.
fn start(watch: &Watch) -> Lambda {
    let runtime_api = watch.runtime_api();
    let lambda = Lambda::start_with(
        Options::default(),
        &[("AWS_LAMBDA_RUNTIME_API", &runtime_api)],
        &[],
    );
    lambda
        .emu
        .set_secret_string(&default_secret_json(&lambda.emu.slack_url(), None));
    lambda
}

fn golden(name: &str) -> Value {
    let path = root().join(format!("tests/golden/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// `(AlarmName, NewStateValue)` of the SNS message in an events/ file.
fn alarm_of(event: &str) -> (String, String) {
    let path = root().join(event);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let event: Value = serde_json::from_str(&text).expect("event JSON");
    let message = event["Records"][0]["Sns"]["Message"]
        .as_str()
        .expect("an SNS message");
    let alarm: Value = serde_json::from_str(message).expect("alarm JSON");
    (
        alarm["AlarmName"].as_str().expect("AlarmName").to_string(),
        alarm["NewStateValue"]
            .as_str()
            .expect("NewStateValue")
            .to_string(),
    )
}

/// The invoke succeeded with the bootstrap's `{"posted":1}`.
fn assert_posted(invoked: &Invoked) {
    assert!(
        invoked.success,
        "invoke failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
        invoked.stdout, invoked.stderr
    );
    assert_eq!(
        invoked.stdout.trim(),
        r#"{"posted":1}"#,
        "{}",
        invoked.stderr
    );
}

/// Nothing secret in what the bootstrap (checked when `lambda` drops), cargo-lambda's watch or
/// the invokes printed.
fn assert_no_leaks(lambda: &Lambda, watch: &Watch, invoked: &[&Invoked]) {
    let mut texts = vec![watch.process.stdout(), watch.process.stderr()];
    for i in invoked {
        texts.push(i.stdout.clone());
        texts.push(i.stderr.clone());
    }
    lambda.assert_none_in(&texts);
}

#[test]
fn metric_alarm_is_posted_through_cargo_lambda() {
    let watch = Watch::start();
    let lambda = start(&watch);
    let invoked = watch.invoke("events/cloudwatch-alarm.json");
    assert_posted(&invoked);

    let posts = lambda.emu.wait_slack_posts(1);
    assert_eq!(posts.len(), 1);
    let (name, state) = alarm_of("events/cloudwatch-alarm.json");
    let text = posts[0].json["text"].as_str().expect("text");
    assert!(
        text.starts_with(&format!("{name} state is now {state}:")),
        "{text}"
    );
    assert_eq!(posts[0].json, golden("cloudwatch-alarm"));
    assert_eq!(lambda.emu.secret_calls(), 1);
    lambda.process.wait_output("outcome=ok");
    assert_no_leaks(&lambda, &watch, &[&invoked]);
}

#[test]
fn sns_console_test_event_is_posted_through_cargo_lambda() {
    let watch = Watch::start();
    let lambda = start(&watch);
    let invoked = watch.invoke("events/sns-console-test.json");
    assert_posted(&invoked);

    let posts = lambda.emu.wait_slack_posts(1);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].json, golden("sns-console-test"));
    assert_no_leaks(&lambda, &watch, &[&invoked]);
}

#[test]
fn bad_event_is_a_typed_error_and_the_next_one_is_served() {
    let watch = Watch::start();
    let lambda = start(&watch);
    let bad = watch.invoke("--data-ascii");
    // cargo-lambda turns the function error (HTTP 500 with the error JSON) into a failed
    // invoke that prints `Error: <errorType>` and the message.
    assert!(
        !bad.success,
        "a bad event must fail the invoke: {}",
        bad.stdout
    );
    assert!(
        bad.stderr.contains("Error: Event.Invalid"),
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        bad.stdout,
        bad.stderr
    );
    assert!(
        bad.stderr.contains("not one this function handles"),
        "{}",
        bad.stderr
    );
    lambda.process.wait_output("errorType=Event.Invalid");
    assert!(lambda.emu.slack_posts().is_empty());
    assert_eq!(lambda.emu.secret_calls(), 0, "a bad event needs no secret");

    let next = watch.invoke("events/cloudwatch-alarm.json");
    assert_posted(&next);
    assert_eq!(lambda.emu.wait_slack_posts(1).len(), 1);
    assert_no_leaks(&lambda, &watch, &[&bad, &next]);
}

/// Every `cargo lambda` line in a code block of the page is one the tests above run.
#[test]
fn every_documented_cargo_lambda_command_is_tested() {
    let tested = [
        doc_command("cargo lambda watch", "--only-lambda-apis"),
        doc_command("cargo lambda invoke", "events/cloudwatch-alarm.json"),
        doc_command("cargo lambda invoke", "events/sns-console-test.json"),
        doc_command("cargo lambda invoke", "--data-ascii"),
    ];
    for command in doc_commands("cargo lambda") {
        assert!(
            tested.contains(&command),
            "{}: `{}` is not run by tests/cargo_lambda.rs",
            tools::LOCAL_TESTING_DOC,
            command.join(" ")
        );
    }
    // The invokes name the address and port explicitly (cargo-lambda's default address is ::1).
    for command in &tested[1..] {
        let line = command.join(" ");
        assert!(
            line.contains("--invoke-address 127.0.0.1 --invoke-port 9000"),
            "{line}"
        );
    }
}
