//! Faults, bad input and alarm storms, end to end: every case asserts what the
//! Runtime API was told and that the same process then serves a normal alarm.

use common::{
    alarm_event, alarm_message, assert_error_type, expect_error, expect_response, sns, Lambda,
};
use emulator::fault::{Action, FaultServer};
use emulator::{default_secret_json, Bootstrap, Emulator, Invocation, Options, Outcome};
use serde_json::json;
use testkit::{common, emulator};

const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// What these tests ask of a running bootstrap beyond the test kit's.
trait Serving {
    fn assert_serves_an_alarm(&self);
    fn log(&self) -> String;
}

impl Serving for Lambda {
    /// The process is still serving: a normal alarm goes through.
    fn assert_serves_an_alarm(&self) {
        let before = self.emu.slack_posts().len();
        let body = expect_response(self.invoke(alarm_event("after-the-fault")));
        assert_eq!(body, r#"{"posted":1}"#);
        let posts = self.emu.slack_posts();
        assert_eq!(posts.len(), before + 1);
        let text = posts[before].json["text"].as_str().unwrap_or("");
        assert!(
            text.starts_with("after-the-fault state is now ALARM"),
            "{text}"
        );
    }

    fn log(&self) -> String {
        self.process.stdout() + &self.process.stderr()
    }
}

fn short_deadline(ms: u64) -> Options {
    Options {
        deadline_ms: ms,
        ..Options::default()
    }
}

// ---- Slack: retries, rate limits, deadlines ------------------------------------------------

#[test]
fn slack_429_waits_for_retry_after_then_posts() {
    let lambda = Lambda::start(Options::default());
    lambda
        .emu
        .slack_respond_with(429, "rate_limited", &[("Retry-After", "1")]);
    expect_response(lambda.invoke(alarm_event("limited")));
    let statuses: Vec<u16> = lambda.emu.slack_posts().iter().map(|p| p.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[test]
fn slack_429_beyond_the_deadline_fails_typed_without_waiting() {
    let lambda = Lambda::start(short_deadline(3_000));
    lambda
        .emu
        .slack_respond_with(429, "rate_limited", &[("Retry-After", "120")]);
    let posted = expect_error(lambda.invoke(alarm_event("limited")));
    assert_error_type(&posted, "Slack.RateLimited");
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    // The channel's Retry-After holds every later message, not only the retried one: the
    // next alarm goes back to Lambda without a request Slack would refuse (or drop).
    let held = expect_error(lambda.invoke(alarm_event("next")));
    assert_error_type(&held, "Invocation.Timeout");
    assert!(held.body.contains("channel's turn"), "{}", held.body);
    assert_eq!(lambda.emu.slack_posts().len(), 1);
}

#[test]
fn a_burst_of_alarms_to_one_channel_keeps_slacks_pace() {
    let lambda = Lambda::start(Options::default());
    // Slack's documented pace, strictly: one message per second, no burst beyond one. A post
    // sooner than that would be answered 429 (and, on Slack, may be accepted and not shown).
    lambda.emu.slack_rate_limit(1, 1.0);
    for i in 0..4 {
        expect_response(lambda.invoke(alarm_event(&format!("burst-{i}"))));
    }
    let posts = lambda.emu.slack_posts();
    let statuses: Vec<u16> = posts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200], "every post within the pace");
}

#[test]
fn slack_5xx_is_retried_three_times_at_most() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.slack_respond(503, "service_unavailable");
    lambda.emu.slack_respond(502, "");
    expect_response(lambda.invoke(alarm_event("flaky")));
    assert_eq!(lambda.emu.slack_posts().len(), 3);

    for _ in 0..3 {
        lambda.emu.slack_respond(500, "rollup_error");
    }
    let posted = expect_error(lambda.invoke(alarm_event("down")));
    assert_error_type(&posted, "Slack.Rejected");
    assert_eq!(lambda.emu.slack_posts().len(), 6);
    lambda.assert_serves_an_alarm();
}

#[test]
fn slack_4xx_is_not_retried() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.slack_respond(400, "invalid_payload");
    let posted = expect_error(lambda.invoke(alarm_event("bad")));
    assert_error_type(&posted, "Slack.Rejected");
    assert!(posted.body.contains("invalid_payload"), "{}", posted.body);
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    lambda.assert_serves_an_alarm();
}

/// A Slack webhook on the fault server, with the emulator's Secrets Manager pointing at it.
fn lambda_with_fault_slack(fault: &FaultServer, options: Options) -> Lambda {
    let url = format!("{}/services/T0/B0/FAULTSECRETPATH", fault.url());
    Lambda::start(Options {
        secret_string: Some(default_secret_json(&url, None)),
        ..options
    })
}

#[test]
fn slack_connection_errors_are_retried_three_times_at_most() {
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    for _ in 0..3 {
        fault.push(Action::Close);
    }
    let lambda = lambda_with_fault_slack(&fault, Options::default());
    let posted = expect_error(lambda.invoke(alarm_event("unreachable")));
    assert_error_type(&posted, "Slack.Unreachable");
    assert_eq!(fault.received().len(), 3);

    expect_response(lambda.invoke(alarm_event("reachable")));
    assert_eq!(fault.received().len(), 4);
    assert!(!lambda.log().contains("FAULTSECRETPATH"));
}

#[test]
fn a_pooled_connection_closed_by_slack_does_not_fail_the_alarm() {
    // The server keeps the connection alive after answering, then drops it
    // when it is reused, as a peer that timed it out during a freeze would.
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    fault.drop_reused_connections(true);
    let lambda = lambda_with_fault_slack(&fault, Options::default());
    for i in 0..3 {
        expect_response(lambda.invoke(alarm_event(&format!("keepalive-{i}"))));
    }
    let received = fault.received();
    let answered = received.iter().filter(|r| r.answered).count();
    assert_eq!(answered, 3, "{received:?}");
    assert!(
        received
            .iter()
            .any(|r| !r.answered && r.nth_on_connection == 2),
        "the test did not exercise a reused connection: {received:?}"
    );
}

#[test]
fn slack_closing_idle_connections_is_harmless() {
    let fault = FaultServer::start(Action::Respond {
        status: 200,
        content_type: "text/plain".into(),
        body: "ok".into(),
        close: true,
    });
    let lambda = lambda_with_fault_slack(&fault, Options::default());
    for i in 0..3 {
        expect_response(lambda.invoke(alarm_event(&format!("idle-{i}"))));
    }
    assert!(fault.received().iter().all(|r| r.answered));
    assert_eq!(fault.connections(), 3);
}

#[test]
fn the_connection_opened_while_the_secret_is_fetched_carries_the_post() {
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    let url = format!("{}/services/T0/B0/FAULTSECRETPATH", fault.url());
    let options = Options {
        secret_string: Some(default_secret_json(&url, None)),
        ..Options::default()
    };
    let lambda = Lambda::start_with(options, &[("SLACK_PRECONNECT", &fault.url())], &[]);
    for i in 0..2 {
        expect_response(lambda.invoke(alarm_event(&format!("preconnected-{i}"))));
    }
    let received = fault.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(
        fault.connections(),
        1,
        "one connection, opened ahead and reused"
    );
}

#[test]
fn a_connection_opened_for_another_host_is_left_unused_and_unlogged() {
    // The webhook is on the emulator's Slack; the guess names the fault server.
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    let lambda = Lambda::start_with(
        Options::default(),
        &[("SLACK_PRECONNECT", &fault.url())],
        &[],
    );
    expect_response(lambda.invoke(alarm_event("elsewhere")));
    fault.wait_connections(1);
    assert!(fault.received().is_empty(), "nothing is sent on the spare");
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    // Nowhere to connect at all: still only the invocation's own line, at INFO.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nowhere = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let refused = Lambda::start_with(Options::default(), &[("SLACK_PRECONNECT", &nowhere)], &[]);
    expect_response(refused.invoke(alarm_event("nowhere")));
    refused.assert_serves_an_alarm();
    for log in [lambda.log(), refused.log()] {
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.iter().all(|l| l.starts_with("INFO ")), "{log}");
    }
}

#[test]
fn slack_that_never_answers_gets_the_post_once_and_a_typed_error() {
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    fault.push(Action::Hang);
    let lambda = lambda_with_fault_slack(&fault, short_deadline(1_500));
    let posted = expect_error(lambda.invoke(alarm_event("hanging")));
    assert_error_type(&posted, "Slack.NoAnswer");
    let message = posted.json["errorMessage"].as_str().unwrap_or("");
    assert!(message.contains("not sent again"), "{message}");
    // The post may have arrived: it is not sent a second time within the invocation.
    assert_eq!(fault.received().len(), 1);
    expect_response(lambda.invoke(alarm_event("answered")));
}

#[test]
fn slack_dribbling_its_answer_gets_the_post_once() {
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    fault.push(Action::Dribble {
        every: std::time::Duration::from_millis(100),
    });
    let lambda = lambda_with_fault_slack(&fault, short_deadline(2_000));
    let posted = expect_error(lambda.invoke(alarm_event("slow")));
    assert_error_type(&posted, "Slack.NoAnswer");
    assert_eq!(fault.received().len(), 1);
    expect_response(lambda.invoke(alarm_event("answered")));
    assert_eq!(fault.received().len(), 2);
}

#[test]
fn secrets_manager_that_never_answers_is_a_typed_error_in_time() {
    let fault = FaultServer::start(Action::Hang);
    let lambda = Lambda::start_with(
        short_deadline(1_500),
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &fault.url())],
        &[],
    );
    let posted = expect_error(lambda.invoke(alarm_event("no-secret")));
    let error_type = posted.json["errorType"].as_str().unwrap_or("");
    // A read is retried while time is left; which of the two ends it depends on the clock.
    assert!(
        ["Invocation.Timeout", "SecretsManager.Unreachable"].contains(&error_type),
        "{}",
        posted.body
    );
    assert!(!fault.received().is_empty());
}

#[test]
fn an_untrusted_certificate_is_named_and_not_retried() {
    let tls = emulator::tls::UntrustedTls::start();
    let url = format!("{}/services/T0/B0/TLSSECRETPATH", tls.url());
    let lambda = Lambda::start(Options {
        secret_string: Some(default_secret_json(&url, None)),
        ..Options::default()
    });
    let posted = expect_error(lambda.invoke(alarm_event("tls")));
    assert_error_type(&posted, "Slack.Unreachable");
    let message = posted.json["errorMessage"].as_str().unwrap_or("");
    let host = tls.url().replace("https://", "");
    assert!(
        message.contains(&format!("certificate not trusted for {host}")),
        "{message}"
    );
    assert!(!message.contains("TLSSECRETPATH"), "{message}");
    assert_eq!((tls.connections(), tls.requests()), (1, 0));
    lambda
        .emu
        .set_secret_string(&default_secret_json(&lambda.emu.slack_url(), None));
}

#[test]
fn too_little_time_left_fails_before_any_call() {
    let lambda = Lambda::start(Options::default());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64;
    let id = lambda.emu.push_event_with(Invocation {
        deadline_ms: Some((now_ms + 100).to_string()),
        ..Invocation::new(alarm_event("late"))
    });
    let posted = expect_error(lambda.emu.wait_outcome(&id));
    assert_error_type(&posted, "Invocation.Timeout");
    assert_eq!(lambda.emu.secret_calls(), 0);
    assert!(lambda.emu.slack_posts().is_empty());
    lambda.assert_serves_an_alarm();
}

// ---- the secret's life ---------------------------------------------------------------------

#[test]
fn a_rotated_webhook_is_picked_up_when_slack_revokes_the_old_one() {
    let lambda = Lambda::start(Options::default());
    expect_response(lambda.invoke(alarm_event("before-rotation")));
    let rotated = format!("{}/rotated", lambda.emu.slack_url());
    lambda
        .emu
        .set_secret_string(&default_secret_json(&rotated, Some("#alerts")));
    lambda.emu.slack_respond(404, "no_service");
    expect_response(lambda.invoke(alarm_event("after-rotation")));

    let posts = lambda.emu.slack_posts();
    let statuses: Vec<u16> = posts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [200, 404, 200]);
    assert!(posts[2].path.ends_with("/rotated"), "{}", posts[2].path);
    assert_eq!(lambda.emu.secret_calls(), 2);
}

#[test]
fn a_revoked_webhook_without_a_new_one_is_a_typed_error() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.slack_respond(403, "invalid_token");
    let posted = expect_error(lambda.invoke(alarm_event("revoked")));
    assert_error_type(&posted, "Slack.WebhookRevoked");
    assert!(posted.body.contains("invalid_token"), "{}", posted.body);
    assert_eq!(lambda.emu.secret_calls(), 2);
    assert_eq!(lambda.emu.slack_posts().len(), 1);
    lambda.assert_serves_an_alarm();
}

#[test]
fn an_expired_secret_is_served_stale_while_refresh_fails_transiently() {
    let lambda = Lambda::start_with(
        Options::default(),
        &[
            ("SECRET_TTL_SECONDS", "0"),
            ("SECRET_MAX_STALE_SECONDS", "3600"),
        ],
        &[],
    );
    expect_response(lambda.invoke(alarm_event("fresh")));
    let throttled = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    for _ in 0..3 {
        lambda.emu.secrets_respond(400, AMZ_JSON, throttled);
    }
    expect_response(lambda.invoke(alarm_event("stale")));
    assert_eq!(lambda.emu.secret_calls(), 4);
    // The pipe is read by another thread: wait for the line rather than race it.
    let log = lambda.process.wait_output("secretCache=stale");
    assert!(
        log.contains("WARN") && log.contains("ThrottlingException"),
        "{log}"
    );
}

#[test]
fn no_stale_secret_beyond_max_stale() {
    let lambda = Lambda::start_with(
        Options::default(),
        &[
            ("SECRET_TTL_SECONDS", "0"),
            ("SECRET_MAX_STALE_SECONDS", "0"),
        ],
        &[],
    );
    expect_response(lambda.invoke(alarm_event("fresh")));
    for _ in 0..3 {
        lambda
            .emu
            .secrets_respond(503, AMZ_JSON, r#"{"__type":"InternalServiceError"}"#);
    }
    let posted = expect_error(lambda.invoke(alarm_event("stale")));
    assert_error_type(&posted, "SecretsManager.InternalServiceError");
    lambda.assert_serves_an_alarm();
}

#[test]
fn permanent_secrets_manager_errors_are_not_retried() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.secrets_respond(
        400,
        AMZ_JSON,
        r#"{"__type":"AccessDeniedException","Message":"not authorized to perform: secretsmanager:GetSecretValue"}"#,
    );
    let posted = expect_error(lambda.invoke(alarm_event("denied")));
    assert_error_type(&posted, "SecretsManager.AccessDeniedException");
    assert_eq!(lambda.emu.secret_calls(), 1);
    lambda.assert_serves_an_alarm();
}

#[test]
fn malformed_secrets_say_which_rule_without_the_value() {
    let lambda = Lambda::start(Options::default());
    let good = lambda.emu.slack_url();
    let cases = [
        ("not json {LEAKVALUE".to_string(), "SLACK_HOOK_URL"),
        (
            r##"{"SLACK_CHANNEL":"#LEAKVALUE"}"##.to_string(),
            "SLACK_HOOK_URL",
        ),
        (
            r#"{"SLACK_HOOK_URL":"http://hooks.slack.com/services/LEAKVALUE"}"#.to_string(),
            "https://",
        ),
        (
            r#"{"SLACK_HOOK_URL":"ftp://example.com/LEAKVALUE"}"#.to_string(),
            "https://",
        ),
    ];
    for (secret, rule) in cases {
        lambda.emu.set_secret_string(&secret);
        let posted = expect_error(lambda.invoke(alarm_event("misconfigured")));
        assert_error_type(&posted, "Secret.Invalid");
        assert!(posted.body.contains(rule), "{secret}: {}", posted.body);
        assert!(!posted.body.contains("LEAKVALUE"), "{}", posted.body);
    }
    lambda.emu.secrets_respond(
        200,
        AMZ_JSON,
        r#"{"Name":"slack/dev","SecretBinary":"TEVBS1ZBTFVF"}"#,
    );
    let posted = expect_error(lambda.invoke(alarm_event("binary")));
    assert_error_type(&posted, "Secret.Invalid");
    assert!(posted.body.contains("SecretBinary"), "{}", posted.body);

    // A bare webhook URL is a valid secret too.
    lambda.emu.set_secret_string(&good);
    lambda.assert_serves_an_alarm();
    assert!(!lambda.log().contains("LEAKVALUE"));
}

#[test]
fn secrets_manager_answering_garbage_is_a_typed_error() {
    let lambda = Lambda::start(Options::default());
    let cases: [(u16, &str, &str, &str); 4] = [
        (
            502,
            "text/html",
            "<html><body>Bad Gateway</body></html>",
            "SecretsManager.Unreachable",
        ),
        (
            403,
            "text/xml",
            "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
            "SecretsManager.InvalidClientTokenId",
        ),
        (200, AMZ_JSON, "{not json", "SecretsManager.Unreachable"),
        (200, AMZ_JSON, "", "SecretsManager.Unreachable"),
    ];
    for (status, content_type, body, error_type) in cases {
        // 5xx is retried: answer every attempt the same way.
        let attempts = if status >= 500 { 3 } else { 1 };
        for _ in 0..attempts {
            lambda.emu.secrets_respond(status, content_type, body);
        }
        let posted = expect_error(lambda.invoke(alarm_event("garbage")));
        assert_error_type(&posted, error_type);
    }
    lambda.assert_serves_an_alarm();
}

#[test]
fn secrets_manager_answering_nothing_is_a_typed_error() {
    let emu = Emulator::start(Options::default());
    let answer = json!({
        "Name": "slack/dev",
        "SecretString": default_secret_json(&emu.slack_url(), None),
    })
    .to_string();
    let fault = FaultServer::start(Action::ok(AMZ_JSON, &answer));
    for _ in 0..3 {
        fault.push(Action::Close);
    }
    let mut env = emu.env();
    for (name, value) in env.iter_mut() {
        if name == "AWS_ENDPOINT_URL_SECRETS_MANAGER" {
            *value = fault.url();
        }
    }
    let process = Bootstrap::spawn(&common::bootstrap_bin(), &env);
    let lambda = Lambda { emu, process };
    let posted = expect_error(lambda.invoke(alarm_event("silent")));
    assert_error_type(&posted, "SecretsManager.Unreachable");
    assert_eq!(fault.received().len(), 3);
    lambda.assert_serves_an_alarm();
}

// ---- bad events ------------------------------------------------------------------------------

#[test]
fn malformed_events_are_typed_errors_and_the_loop_goes_on() {
    let lambda = Lambda::start(Options::default());
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", Vec::new()),
        ("null", b"null".to_vec()),
        ("array", b"[]".to_vec()),
        ("empty object", b"{}".to_vec()),
        ("Records is a number", br#"{"Records": 5}"#.to_vec()),
        (
            "record without Sns",
            br#"{"Records": [{"EventSource": "aws:sns"}]}"#.to_vec(),
        ),
        (
            "Message is a number",
            br#"{"Records": [{"Sns": {"Message": 5}}]}"#.to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"Records\": [{\"Sns\": {\"Message\": \"\xff\xfe\"}}]}".to_vec(),
        ),
        (
            "nested 10,000 deep",
            format!(r#"{{"Records": {deep}}}"#).into_bytes(),
        ),
    ];
    for (what, event) in cases {
        let posted = expect_error(lambda.invoke(event));
        assert_eq!(
            posted.json["errorType"], "Event.Invalid",
            "{what}: {}",
            posted.body
        );
    }
    assert!(lambda.emu.slack_posts().is_empty());
    assert_eq!(lambda.emu.secret_calls(), 0);
    lambda.assert_serves_an_alarm();
}

#[test]
fn empty_records_succeed_with_nothing_posted() {
    let lambda = Lambda::start(Options::default());
    assert_eq!(
        expect_response(lambda.invoke(&br#"{"Records": []}"#[..])),
        r#"{"posted":0}"#
    );
    assert!(lambda.emu.slack_posts().is_empty());
    lambda.assert_serves_an_alarm();
}

#[test]
fn odd_alarms_are_still_posted() {
    let lambda = Lambda::start(Options::default());
    let seven =
        json!({"AlarmName": "seven", "NewStateValue": 7, "NewStateReason": "odd"}).to_string();
    expect_response(lambda.invoke(sns(&[(&seven, None)])));
    let unknown = alarm_message("unknown-state", "PENDING_REVIEW");
    expect_response(lambda.invoke(sns(&[(&unknown, None)])));
    let deep_message = format!(
        r#"{{"AlarmName": {}}}"#,
        "[".repeat(10_000) + &"]".repeat(10_000)
    );
    expect_response(lambda.invoke(sns(&[(&deep_message, None)])));

    let texts = lambda.slack_texts();
    assert!(
        texts[0].starts_with("seven state is now 7: odd"),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("unknown-state state is now PENDING_REVIEW"),
        "{texts:?}"
    );
    assert!(
        texts[2].contains("AlarmName"),
        "posted as text: {:?}",
        &texts[2][..80]
    );
    lambda.assert_serves_an_alarm();
}

#[test]
fn huge_messages_are_posted_truncated_to_slack_limits() {
    let lambda = Lambda::start(Options::default());
    let big = "x".repeat(256 * 1024);
    expect_response(lambda.invoke(sns(&[(&big, Some("big"))])));
    let huge = "é".repeat(1024 * 1024); // a 2 MB event
    expect_response(lambda.invoke(sns(&[(&huge, None)])));
    for post in lambda.emu.slack_posts() {
        let text = post.json["text"].as_str().expect("text");
        assert!(
            text.chars().count() <= 40_000,
            "{} chars",
            text.chars().count()
        );
        assert!(text.ends_with('…'));
    }
    lambda.assert_serves_an_alarm();
}

// ---- Runtime API misbehaviour -----------------------------------------------------------------

#[test]
fn an_event_without_request_id_is_skipped_and_logged() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.push_event_with(Invocation {
        request_id: None,
        ..Invocation::new(alarm_event("anonymous"))
    });
    lambda.assert_serves_an_alarm();
    lambda.process.wait_output("Lambda-Runtime-Aws-Request-Id");
    assert_eq!(lambda.emu.slack_posts().len(), 1);
}

#[test]
fn an_event_without_deadline_is_a_typed_error() {
    let lambda = Lambda::start(Options::default());
    for deadline in [None, Some("soon".to_string())] {
        let id = lambda.emu.push_event_with(Invocation {
            deadline_ms: deadline,
            ..Invocation::new(alarm_event("no-deadline"))
        });
        let posted = expect_error(lambda.emu.wait_outcome(&id));
        assert_error_type(&posted, "Runtime.InvalidInvocation");
    }
    lambda.assert_serves_an_alarm();
}

#[test]
fn response_refused_with_413_is_logged_and_the_loop_goes_on() {
    let lambda = Lambda::start(Options::default());
    lambda.emu.fail_response_with(413);
    expect_response(lambda.invoke(alarm_event("too-large")));
    lambda.assert_serves_an_alarm();
    lambda.process.wait_output("HTTP 413");
}

#[test]
fn response_answered_500_ends_the_process() {
    let mut lambda = Lambda::start(Options::default());
    lambda.emu.fail_response_with(500);
    expect_response(lambda.invoke(alarm_event("fatal")));
    assert!(!lambda.process.wait_exit().success());
    assert!(lambda.log().contains("HTTP 500"), "{}", lambda.log());
}

#[test]
fn a_vanishing_runtime_api_ends_the_process_with_a_reason() {
    let emu = Emulator::start(Options::default());
    let mut process = Bootstrap::spawn(&common::bootstrap_bin(), &emu.env());
    let id = emu.push_event(alarm_event("last"));
    expect_response(emu.wait_outcome(&id));
    emu.wait_next_calls(2);
    drop(emu);
    // Exits (no busy loop polling a dead API) with a line saying why.
    assert!(!process.wait_exit().success());
    let log = process.stdout() + &process.stderr();
    assert!(
        log.contains("exiting:") && log.contains("Runtime API"),
        "{log}"
    );
}

#[test]
fn runtime_apis_framed_as_go_and_hyper_frame_them_are_served() {
    // The RIE (Go's net/http) chunks a body beyond its buffer; servers may send interim
    // answers, lower-case names, header values in other encodings, and `Connection: close`.
    let runtime = FaultServer::start(Action::Raw {
        bytes: b"HTTP/1.1 202 Accepted\r\ncontent-length: 15\r\n\r\n{\"status\":\"OK\"}".to_vec(),
        close: false,
    });
    let deadline = emulator::now_ms() + 30_000;
    let chunked = alarm_event("chunked");
    let (first, rest) = chunked.split_at(chunked.len() / 3);
    let mut event = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
         lambda-runtime-aws-request-id: first\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
         Lambda-Runtime-Trace-Id: Root=1-\u{e9}\r\ntransfer-encoding: chunked\r\n\r\n\
         {:x};name=\"a;b\"\r\n",
        first.len()
    )
    .into_bytes();
    event.extend_from_slice(first);
    event.extend_from_slice(format!("\r\n{:X}\r\n", rest.len()).as_bytes());
    event.extend_from_slice(rest);
    event.extend_from_slice(b"\r\n0\r\nX-Trailer: done\r\n\r\n");
    runtime.push_event(Action::Raw {
        bytes: event,
        close: false,
    });
    // Its answer closes the connection, and says so.
    runtime.push(Action::Raw {
        bytes: b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_vec(),
        close: true,
    });
    let plain = alarm_event("interim");
    let mut event = format!(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: second\r\n\
         Lambda-Runtime-Deadline-Ms: {deadline}\r\nContent-Length: {}\r\n\r\n",
        plain.len()
    )
    .into_bytes();
    event.extend_from_slice(&plain);
    runtime.push_event(Action::Raw {
        bytes: event,
        close: false,
    });
    let emu = Emulator::start(Options::default());
    let api = runtime.url().replace("http://", "");
    let env = common::env_with(&emu, &[("AWS_LAMBDA_RUNTIME_API", &api)], &[]);
    let mut process = Bootstrap::spawn(&common::bootstrap_bin(), &env);
    // The fifth request is the GET /next that waits for a third event.
    let received = runtime.wait_received(5);
    let seen: Vec<(usize, &str, &str)> = received
        .iter()
        .map(|r| {
            (
                r.connection,
                r.line.split(' ').nth(1).unwrap_or(""),
                r.body.as_str(),
            )
        })
        .collect();
    let next = "/2018-06-01/runtime/invocation/next";
    let posted = r#"{"posted":1}"#;
    assert_eq!(
        seen,
        [
            (1, next, ""),
            (1, "/2018-06-01/runtime/invocation/first/response", posted),
            (2, next, ""),
            (2, "/2018-06-01/runtime/invocation/second/response", posted),
            (2, next, ""),
        ]
    );
    let texts: Vec<String> = emu
        .slack_posts()
        .iter()
        .map(|p| p.json["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("chunked state is now ALARM"),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("interim state is now ALARM"),
        "{texts:?}"
    );
    assert_eq!(process.try_status(), None, "{}", process.stdout());
    process.kill();
    assert!(!process.stdout().contains("FATAL"), "{}", process.stdout());
}

// ---- alarm storm ------------------------------------------------------------------------------

#[test]
fn alarm_storm_loses_and_duplicates_nothing() {
    const PROCESSES: usize = 4;
    const ALARMS: usize = 40;
    let emu = Emulator::start(Options::default());
    emu.slack_rate_limit(5, 10.0);
    let mut processes: Vec<Bootstrap> = (0..PROCESSES)
        .map(|_| Bootstrap::spawn(&common::bootstrap_bin(), &emu.env()))
        .collect();
    let ids: Vec<(String, String)> = (0..ALARMS)
        .map(|i| {
            let name = format!("storm-{i:02}");
            (emu.push_event(alarm_event(&name)), name)
        })
        .collect();

    let mut posted = 0;
    let mut failed = 0;
    for (id, _) in &ids {
        match emu.wait_outcome(id) {
            Outcome::Response(body) => {
                assert_eq!(body, r#"{"posted":1}"#);
                posted += 1;
            }
            Outcome::Error(e) => {
                assert_eq!(e.json["errorType"], "Slack.RateLimited", "{}", e.body);
                failed += 1;
            }
        }
    }
    let posts = emu.slack_posts();
    let accepted: Vec<&str> = posts
        .iter()
        .filter(|p| p.status == 200)
        .map(|p| p.json["text"].as_str().unwrap_or(""))
        .collect();
    let limited = posts.iter().filter(|p| p.status == 429).count();
    // Every alarm reported posted reached Slack exactly once; none reported failed did.
    for (id, name) in &ids {
        let copies = accepted
            .iter()
            .filter(|t| t.starts_with(&format!("{name} state is now")))
            .count();
        let expected = match emu.wait_outcome(id) {
            Outcome::Response(_) => 1,
            Outcome::Error(_) => 0,
        };
        assert_eq!(copies, expected, "{name}");
    }
    assert_eq!(posted + failed, ALARMS);
    for process in &mut processes {
        assert!(
            process.try_status().is_none(),
            "a bootstrap exited during the storm"
        );
    }
    eprintln!(
        "storm: {ALARMS} alarms, {PROCESSES} processes: {posted} posted, {failed} reported failed, \
         0 lost, 0 duplicated; Slack answered 429 {limited} times"
    );
}

#[test]
fn a_runtime_api_that_closes_kept_alive_connections_silently_loses_nothing() {
    // Every request after the first on a connection is read and then dropped without a
    // byte of answer, as by a Runtime API that closed the connection after its answer.
    let runtime = FaultServer::start(Action::Respond {
        status: 202,
        content_type: "application/json".into(),
        body: r#"{"status":"OK"}"#.into(),
        close: false,
    });
    runtime.drop_reused_connections(true);
    for id in ["first", "second"] {
        runtime.push_event(Action::Invoke {
            request_id: id.into(),
            deadline_ms: 30_000,
            body: String::from_utf8(alarm_event(id)).expect("utf-8"),
        });
    }
    let emu = Emulator::start(Options::default());
    let api = runtime.url().replace("http://", "");
    let env = common::env_with(&emu, &[("AWS_LAMBDA_RUNTIME_API", &api)], &[]);
    let mut process = Bootstrap::spawn(&common::bootstrap_bin(), &env);
    // The ninth request is the GET /next that waits for a third event.
    let received = runtime.wait_received(9);
    let seen: Vec<(bool, &str)> = received
        .iter()
        .map(|r| (r.answered, r.line.split(' ').nth(1).unwrap_or("")))
        .collect();
    let next = "/2018-06-01/runtime/invocation/next";
    assert_eq!(
        seen,
        [
            (true, next),
            (false, "/2018-06-01/runtime/invocation/first/response"),
            (true, "/2018-06-01/runtime/invocation/first/response"),
            (false, next),
            (true, next),
            (false, "/2018-06-01/runtime/invocation/second/response"),
            (true, "/2018-06-01/runtime/invocation/second/response"),
            (false, next),
            (false, next),
        ]
    );
    assert_eq!(emu.slack_posts().len(), 2);
    assert_eq!(process.try_status(), None, "{}", process.stdout());
    process.kill();
    assert!(!process.stdout().contains("FATAL"), "{}", process.stdout());
}
