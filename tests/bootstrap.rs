//! End-to-end: the real `bootstrap` as a child process against the local
//! emulator (Runtime API + Secrets Manager + Slack webhook), asserting on what
//! crossed the wire.
//!
//! `make test` points BOOTSTRAP_BIN at the release build that `make zip` ships;
//! a plain `cargo test` falls back to cargo's own build of the binary.

mod emulator;

use emulator::{Bootstrap, Emulator, Options, Outcome, Posted};
use serde_json::json;
use std::path::PathBuf;

fn bootstrap_bin() -> PathBuf {
    std::env::var_os("BOOTSTRAP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")))
}

/// One emulator and one bootstrap serving it.
struct Lambda {
    emu: Emulator,
    process: Bootstrap,
}

impl Lambda {
    fn start(options: Options) -> Lambda {
        Lambda::start_with(options, &[], &[])
    }

    /// `set` adds or replaces variables of the emulator's environment, `unset` removes some.
    fn start_with(options: Options, set: &[(&str, &str)], unset: &[&str]) -> Lambda {
        let emu = Emulator::start(options);
        let mut env: Vec<(String, String)> = emu
            .env()
            .into_iter()
            .filter(|(k, _)| !unset.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k))
            .collect();
        env.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let process = Bootstrap::spawn(&bootstrap_bin(), &env);
        Lambda { emu, process }
    }

    fn invoke(&self, event: impl Into<Vec<u8>>) -> Outcome {
        let id = self.emu.push_event(event);
        self.emu.wait_outcome(&id)
    }

    /// Nothing secret in anything the process printed or told the Runtime API.
    fn assert_no_leaks(&self) {
        let opts = self.emu.options();
        let slack = self.emu.slack_url();
        let path = slack
            .splitn(4, '/')
            .nth(3)
            .expect("webhook url has a path")
            .to_string();
        let mut secrets = vec![slack.clone(), path.clone(), opts.secret_access_key.clone()];
        secrets.extend(path.split('/').filter(|s| s.len() > 8).map(str::to_string));
        secrets.extend(opts.session_token.clone());
        let mut seen = vec![self.process.stdout(), self.process.stderr()];
        seen.extend(self.emu.runtime_bodies());
        for text in &seen {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "secret {secret:?} leaked into {text:?}"
                );
            }
        }
    }
}

fn sns(records: &[(&str, Option<&str>)]) -> Vec<u8> {
    let records: Vec<_> = records
        .iter()
        .map(|(message, subject)| {
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
                "Subject": subject,
                "Message": message,
                "Timestamp": "2026-11-28T11:38:08.171Z"
            }})
        })
        .collect();
    json!({ "Records": records }).to_string().into_bytes()
}

fn alarm_message(name: &str, state: &str) -> String {
    json!({
        "AlarmName": name,
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [93.4] was greater than the threshold (80.0).",
        "StateChangeTime": "2026-11-28T11:38:08.123+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"),
        "OldStateValue": "OK",
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80.0}
    })
    .to_string()
}

fn alarm_event(name: &str) -> Vec<u8> {
    sns(&[(&alarm_message(name, "ALARM"), Some("ALARM: cpu"))])
}

fn expect_response(outcome: Outcome) -> String {
    match outcome {
        Outcome::Response(body) => body,
        Outcome::Error(e) => panic!("expected a response, got error {:?}", e.body),
    }
}

fn expect_error(outcome: Outcome) -> Posted {
    match outcome {
        Outcome::Error(e) => e,
        Outcome::Response(body) => panic!("expected an error, got response {body}"),
    }
}

/// The Runtime API error body and header agree and carry the expected type.
fn assert_error_type(posted: &Posted, error_type: &str) {
    assert_eq!(posted.error_type_header.as_deref(), Some(error_type));
    assert_eq!(posted.json["errorType"], error_type, "{}", posted.body);
    let message = posted.json["errorMessage"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "empty errorMessage: {}", posted.body);
}

#[test]
fn alarm_is_posted_with_the_seed_line() {
    let lambda = Lambda::start(Options::default());
    let body = expect_response(lambda.invoke(alarm_event("cpu-high")));
    assert_eq!(body, r#"{"posted":1}"#);

    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert!(post.path.starts_with("/services/"), "{}", post.path);
    assert!(
        post.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        post.content_type
    );
    let text = post.json["text"].as_str().expect("text");
    assert!(
        text.starts_with(
            "cpu-high state is now ALARM: Threshold Crossed: 1 datapoint [93.4] was greater than the threshold (80.0)."
        ),
        "{text}"
    );
    assert_eq!(post.json["channel"], "#alerts");

    // The one Secrets Manager call was signed, session token included, and verified.
    let requests = lambda.emu.secret_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(request.signature_ok, "{:?}", request.reason);
    assert!(request.token_signed);
    assert_eq!(
        request.target.as_deref(),
        Some("secretsmanager.GetSecretValue")
    );
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-amz-json-1.1")
    );
    let sent: serde_json::Value = serde_json::from_str(&request.body).expect("json body");
    assert_eq!(sent, json!({"SecretId": "slack/dev"}));

    let log = lambda.process.stdout();
    assert!(log.contains("alarm=\"cpu-high\""), "{log}");
    assert!(log.contains("outcome=ok"), "{log}");
    lambda.assert_no_leaks();
}

#[test]
fn warm_invocations_share_one_secret_fetch() {
    let lambda = Lambda::start(Options::default());
    for i in 0..20 {
        let body = expect_response(lambda.invoke(alarm_event(&format!("alarm-{i}"))));
        assert_eq!(body, r#"{"posted":1}"#);
    }
    assert_eq!(lambda.emu.secret_calls(), 1);
    assert_eq!(lambda.emu.slack_posts().len(), 20);
    assert!(lambda.process.stdout().contains("secretCache=hit"));
    lambda.assert_no_leaks();
}

#[test]
fn expired_secret_is_fetched_again() {
    // A TTL of 0 expires the cached secret at once; the clock-driven expiry
    // itself is unit-tested in src/secret_cache.rs.
    let lambda = Lambda::start_with(Options::default(), &[("SECRET_TTL_SECONDS", "0")], &[]);
    expect_response(lambda.invoke(alarm_event("first")));
    expect_response(lambda.invoke(alarm_event("second")));
    assert_eq!(lambda.emu.secret_calls(), 2);
    assert!(lambda.emu.secret_requests().iter().all(|r| r.signature_ok));
    lambda.assert_no_leaks();
}

#[test]
fn missing_secret_id_is_an_init_error_naming_it() {
    let mut lambda = Lambda::start_with(Options::default(), &[], &["SecretId"]);
    let posted = lambda.emu.wait_init_error();
    assert_error_type(&posted, "Config.InvalidEnvironment");
    let message = posted.json["errorMessage"].as_str().expect("message");
    assert!(message.contains("SecretId"), "{message}");
    assert!(!lambda.process.wait_exit().success());
    assert_eq!(lambda.emu.next_calls(), 0);
    lambda.assert_no_leaks();
}

#[test]
fn wrong_secret_key_is_rejected_then_good_config_works() {
    let bad = Lambda::start_with(
        Options::default(),
        &[("AWS_SECRET_ACCESS_KEY", "not-the-right-key")],
        &[],
    );
    let posted = expect_error(bad.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "SecretsManager.InvalidSignatureException");
    let requests = bad.emu.secret_requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].signature_ok);
    assert!(bad.emu.slack_posts().is_empty());
    // The same process keeps serving: the next invocation is answered too.
    expect_error(bad.invoke(alarm_event("cpu-high")));
    assert!(!bad.process.stdout().contains("not-the-right-key"));
    bad.assert_no_leaks();

    let good = Lambda::start(Options::default());
    expect_response(good.invoke(alarm_event("cpu-high")));
    assert_eq!(good.emu.slack_posts().len(), 1);
    good.assert_no_leaks();
}

#[test]
fn slack_error_fails_the_invocation_and_the_next_is_served() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.slack_respond(500, "rollup_error");
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "Slack.Rejected");
    let message = posted.json["errorMessage"].as_str().expect("message");
    assert!(
        message.contains("500") && message.contains("rollup_error"),
        "{message}"
    );

    lambda.emu.slack_respond(404, "no_service");
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert!(posted.body.contains("no_service"), "{}", posted.body);

    expect_response(lambda.invoke(alarm_event("cpu-high")));
    assert_eq!(lambda.emu.slack_posts().len(), 3);
    lambda.assert_no_leaks();
}

#[test]
fn console_test_message_is_posted_as_text() {
    let lambda = Lambda::start(Options::default());
    let event = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/sns-console-test.json"
    ))
    .expect("events/sns-console-test.json");
    expect_response(lambda.invoke(event));
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts[0].json["text"], "*TestInvoke*\nHello from SNS!");
    lambda.assert_no_leaks();
}

#[test]
fn every_record_is_posted() {
    let lambda = Lambda::start(Options::default());
    let event = sns(&[
        (&alarm_message("first", "ALARM"), None),
        (&alarm_message("second", "OK"), None),
    ]);
    assert_eq!(expect_response(lambda.invoke(event)), r#"{"posted":2}"#);
    let texts: Vec<String> = lambda
        .emu
        .slack_posts()
        .iter()
        .map(|p| p.json["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(
        texts[0].starts_with("first state is now ALARM: "),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("second state is now OK: "),
        "{texts:?}"
    );
    lambda.assert_no_leaks();
}

#[test]
fn events_that_are_not_sns_fail_typed_and_the_loop_goes_on() {
    let lambda = Lambda::start(Options::default());
    for event in [
        &b"{\"detail-type\":\"Scheduled Event\"}"[..],
        b"not json",
        b"[]",
    ] {
        let posted = expect_error(lambda.invoke(event));
        assert_error_type(&posted, "Event.Invalid");
    }
    // No records, nothing to post, and no secret needed for it.
    assert_eq!(
        expect_response(lambda.invoke(&b"{\"Records\":[]}"[..])),
        r#"{"posted":0}"#
    );
    assert_eq!(lambda.emu.secret_calls(), 0);
    expect_response(lambda.invoke(alarm_event("after")));
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    lambda.assert_no_leaks();
}

#[test]
fn runtime_api_under_a_path_prefix() {
    let options = Options {
        runtime_prefix: "/.rt".to_string(),
        ..Options::default()
    };
    let lambda = Lambda::start(options);
    assert!(lambda.emu.runtime_api().ends_with("/.rt"));
    expect_response(lambda.invoke(alarm_event("prefixed")));
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    lambda.assert_no_leaks();
}

#[test]
fn bad_secret_is_a_typed_error_without_its_value() {
    let options = Options {
        secret_string: Some(
            r#"{"SLACK_WEBHOOK":"https://hooks.slack.com/services/T1/B1/LEAKME"}"#.into(),
        ),
        ..Options::default()
    };
    let lambda = Lambda::start(options);
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "Secret.Invalid");
    assert!(posted.body.contains("SLACK_HOOK_URL"), "{}", posted.body);
    assert!(!posted.body.contains("LEAKME"));
    assert!(!lambda.process.stdout().contains("LEAKME"));

    // A fixed secret is picked up: failures are never cached.
    let slack = lambda.emu.slack_url();
    lambda
        .emu
        .set_secret_string(&emulator::default_secret_json(&slack, None));
    expect_response(lambda.invoke(alarm_event("cpu-high")));
    let posts = lambda.emu.slack_posts();
    assert!(posts[0].json.get("channel").is_none(), "{}", posts[0].body);
    lambda.assert_no_leaks();
}

#[test]
fn unknown_secret_carries_the_aws_error_code() {
    let lambda = Lambda::start_with(Options::default(), &[("SecretId", "slack/missing")], &[]);
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "SecretsManager.ResourceNotFoundException");
    lambda.assert_no_leaks();
}

#[test]
fn runtime_api_500_ends_the_process_with_a_reason() {
    let mut lambda = Lambda::start(Options::default());
    expect_response(lambda.invoke(alarm_event("cpu-high")));
    lambda.emu.fail_next_with(500);
    assert!(!lambda.process.wait_exit().success());
    let log = lambda.process.stdout() + &lambda.process.stderr();
    assert!(log.contains("HTTP 500"), "{log}");
    lambda.assert_no_leaks();
}

#[test]
fn unreachable_runtime_api_ends_the_process() {
    // A port nobody listens on: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let api = format!("127.0.0.1:{port}");
    let mut lambda = Lambda::start_with(
        Options::default(),
        &[("AWS_LAMBDA_RUNTIME_API", api.as_str())],
        &[],
    );
    assert!(!lambda.process.wait_exit().success());
    let log = lambda.process.stdout() + &lambda.process.stderr();
    assert!(log.contains("cannot reach the Runtime API"), "{log}");
}
