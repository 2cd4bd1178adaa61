//! End-to-end: the real `bootstrap` as a child process against the local
//! emulator (Runtime API + Secrets Manager + Slack webhook), asserting on what
//! crossed the wire.
//!
//! `make test` points BOOTSTRAP_BIN at the release build that `make zip` ships;
//! a plain `cargo test` falls back to cargo's own build of the binary.

use common::{
    alarm_event, alarm_message, assert_error_type, expect_error, expect_response, sns, Lambda,
};
use emulator::Options;
use serde_json::json;
use testkit::{common, emulator};

#[test]
fn alarm_is_posted_with_the_seed_line() {
    let lambda = Lambda::start(Options::default());
    let body = expect_response(lambda.invoke(alarm_event("cpu-high")));
    assert_eq!(body, r#"{"posted":1}"#);

    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert!(post.path.starts_with("/services/"), "{}", post.path);
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
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

    // The pipe is read by another thread: wait for the line rather than race it.
    let log = lambda.process.wait_output("outcome=ok");
    assert!(log.contains("alarm=\"cpu-high\""), "{log}");
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
    lambda.process.wait_output("secretCache=hit");
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

    let good = Lambda::start(Options::default());
    expect_response(good.invoke(alarm_event("cpu-high")));
    assert_eq!(good.emu.slack_posts().len(), 1);
}

#[test]
fn slack_error_fails_the_invocation_and_the_next_is_served() {
    let lambda = Lambda::start(Options::default());
    // 5xx is retried (three attempts in all), then reported.
    for _ in 0..3 {
        lambda.emu.slack_respond(500, "rollup_error");
    }
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "Slack.Rejected");
    let message = posted.json["errorMessage"].as_str().expect("message");
    assert!(
        message.contains("500") && message.contains("rollup_error"),
        "{message}"
    );

    lambda.emu.slack_respond(404, "no_service");
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "Slack.WebhookRevoked");
    assert!(posted.body.contains("no_service"), "{}", posted.body);

    expect_response(lambda.invoke(alarm_event("cpu-high")));
    assert_eq!(lambda.emu.slack_posts().len(), 5);
}

#[test]
fn console_test_message_is_posted_as_text() {
    let lambda = Lambda::start(Options::default());
    let event = common::sample("sns-console-test");
    expect_response(lambda.invoke(event));
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts[0].json["text"], "*TestInvoke*\nHello from SNS!");
}

#[test]
fn every_record_is_posted() {
    let lambda = Lambda::start(Options::default());
    let event = sns(&[
        (&alarm_message("first", "ALARM"), None),
        (&alarm_message("second", "OK"), None),
    ]);
    assert_eq!(expect_response(lambda.invoke(event)), r#"{"posted":2}"#);
    let texts = lambda.slack_texts();
    assert_eq!(texts.len(), 2);
    assert!(
        texts[0].starts_with("first state is now ALARM: "),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("second state is now OK: "),
        "{texts:?}"
    );
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
}

/// Issue 24: an EventBridge rule that targets the function with any other event used to be
/// refused (`Event.Invalid`), so Lambda retried and then dropped it. Now it is a card, the
/// same whether the rule targets the function or a topic the function is subscribed to.
#[test]
fn an_eventbridge_event_that_is_not_an_alarm_is_posted_not_refused() {
    let lambda = Lambda::start(Options::default());
    let event = common::sample("eventbridge-ec2-instance-state-change");
    assert_eq!(
        expect_response(lambda.invoke(&event[..])),
        r#"{"posted":1}"#
    );
    let message = String::from_utf8(event).expect("utf-8");
    let wrapped = sns(&[(&message, None)]);
    assert_eq!(expect_response(lambda.invoke(wrapped)), r#"{"posted":1}"#);
    // Missing and mistyped parts are named on the card, not a reason to refuse it.
    let odd = br#"{"detail-type":"Scheduled Event","source":"aws.events","detail":7}"#;
    assert_eq!(expect_response(lambda.invoke(&odd[..])), r#"{"posted":1}"#);

    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 3);
    let (direct, via_sns) = (&posts[0].json, &posts[1].json);
    assert_eq!(direct, via_sns);
    assert!(
        direct["text"].as_str().is_some_and(
            |t| t.starts_with("EC2 Instance State-change Notification from aws.ec2\n```\n{")
        ),
        "{direct}"
    );
    assert_eq!(direct["channel"], "#alerts");
    let card = &direct["attachments"][0];
    assert_eq!(card["title"], "EC2 Instance State-change Notification");
    assert_eq!(
        card["fields"][0],
        json!({"title": "instance-id", "value": "i-0abc123def4567890", "short": true})
    );
    let missing = posts[2].json["attachments"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["title"] == "Missing"))
        .map(|f| f["value"].clone());
    assert_eq!(missing, Some(json!("account, region, time, detail")));
    lambda.process.wait_output("outcome=ok");
}

/// An application that posts Amazon Q custom notifications can point at the function
/// unchanged: directly or through its topic, the notification is a card.
#[test]
fn an_amazon_q_custom_notification_is_a_card() {
    let lambda = Lambda::start(Options::default());
    let event = common::sample("amazon-q-custom-notification");
    assert_eq!(
        expect_response(lambda.invoke(&event[..])),
        r#"{"posted":1}"#
    );
    let message = String::from_utf8(event).expect("utf-8");
    let wrapped = sns(&[(&message, Some("a subject the summary wins over"))]);
    assert_eq!(expect_response(lambda.invoke(wrapped)), r#"{"posted":1}"#);
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].json, posts[1].json);
    let post = &posts[0].json;
    assert_eq!(
        post["text"],
        "Checkout error rate above 5 % after deploy v2026.11.28-2"
    );
    let card = &post["attachments"][0];
    assert_eq!(card["title"], ":warning: Checkout error rate above 5 %");
    let steps = card["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["title"] == "Next steps"))
        .map(|f| f["value"].clone());
    assert_eq!(
        steps,
        Some(json!(
            "• Compare the error rate before and after the deploy\n• Roll back with `deploy rollback checkout`"
        ))
    );
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
}

#[test]
fn unknown_secret_carries_the_aws_error_code() {
    let lambda = Lambda::start_with(Options::default(), &[("SecretId", "slack/missing")], &[]);
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "SecretsManager.ResourceNotFoundException");
}

#[test]
fn runtime_api_500_ends_the_process_with_a_reason() {
    let mut lambda = Lambda::start(Options::default());
    expect_response(lambda.invoke(alarm_event("cpu-high")));
    lambda.emu.fail_next_with(500);
    assert!(!lambda.process.wait_exit().success());
    let log = lambda.process.stdout() + &lambda.process.stderr();
    assert!(log.contains("HTTP 500"), "{log}");
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
