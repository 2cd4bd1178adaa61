//! App mode end to end against the emulator's Slack Web API stand-in: posts with a bot
//! token, its errors typed, a rotated token picked up, a lost answer not posted twice.
//! Incident threads against moto's DynamoDB are in tests/threads.rs.

use common::{alarm_event, assert_error_type, expect_error, expect_response, Lambda};
use emulator::slack_api::{DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::Options;
use serde_json::json;
use testkit::{common, emulator};

fn app_secret(token: &str, channel: &str) -> String {
    json!({"SLACK_BOT_TOKEN": token, "SLACK_CHANNEL": channel}).to_string()
}

fn app() -> Lambda {
    Lambda::start(Options {
        secret_string: Some(app_secret(DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID)),
        ..Options::default()
    })
}

#[test]
fn an_alarm_is_posted_through_the_web_api_with_the_same_card() {
    let lambda = app();
    let body = expect_response(lambda.invoke(alarm_event("cpu-high")));
    assert_eq!(body, r#"{"posted":1}"#);
    let calls = lambda.emu.slack_api().calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.method, "chat.postMessage");
    assert!(call.auth_header);
    assert_eq!(
        call.content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(call.params["channel"], DEFAULT_CHANNEL_ID);
    let text = call.params["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with("cpu-high state is now ALARM: Threshold Crossed"),
        "{text}"
    );
    assert_eq!(call.params["attachments"][0]["color"], "danger");
    assert_eq!(call.params["unfurl_links"], false);
    assert_eq!(
        call.params["metadata"]["event_payload"]["transition"],
        "ALARM@2026-11-28T11:38:08.123+0000"
    );
    assert!(
        lambda.emu.slack_posts().is_empty(),
        "nothing went to the webhook"
    );
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
}

/// Not an alarm: one post with the card, no incident, no metadata to find it by.
#[test]
fn an_eventbridge_event_is_posted_through_the_web_api_as_a_card() {
    let lambda = app();
    let event = common::sample("eventbridge-ec2-instance-state-change");
    assert_eq!(
        expect_response(lambda.invoke(&event[..])),
        r#"{"posted":1}"#
    );
    let calls = lambda.emu.slack_api().calls();
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, ["chat.postMessage"]);
    let params = &calls[0].params;
    assert_eq!(params["channel"], DEFAULT_CHANNEL_ID);
    assert_eq!(
        params["attachments"][0]["title"],
        "EC2 Instance State-change Notification"
    );
    assert_eq!(params["unfurl_links"], false);
    assert!(params.get("metadata").is_none(), "{params}");
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
}

#[test]
fn a_channel_the_app_is_not_in_says_to_invite_it() {
    let lambda = Lambda::start(Options {
        secret_string: Some(app_secret(DEFAULT_BOT_TOKEN, "C0PRIVATE")),
        ..Options::default()
    });
    lambda
        .emu
        .slack_api()
        .add_channel("C0PRIVATE", "private", false);
    let posted = expect_error(lambda.invoke(alarm_event("cpu-high")));
    assert_error_type(&posted, "Slack.ChannelUnavailable");
    let message = posted.json["errorMessage"].as_str().unwrap_or("");
    assert!(
        message.contains("not_in_channel") && message.contains("invite the app"),
        "{message}"
    );
}

#[test]
fn a_revoked_token_is_read_again_from_the_secret_once() {
    let lambda = app();
    expect_response(lambda.invoke(alarm_event("before")));
    // Rotated: the old token is revoked and the secret holds a new one.
    let api = lambda.emu.slack_api();
    api.revoke_token(DEFAULT_BOT_TOKEN);
    api.add_token("xoxb-rotated-token");
    lambda
        .emu
        .set_secret_string(&app_secret("xoxb-rotated-token", DEFAULT_CHANNEL_ID));
    expect_response(lambda.invoke(alarm_event("after-rotation")));
    let calls = api.calls();
    let last = calls.last().expect("a call");
    assert_eq!(last.token.as_deref(), Some("xoxb-rotated-token"));
    assert_eq!(lambda.emu.secret_calls(), 2);
    assert!(lambda
        .process
        .stdout()
        .contains("the secret holds a new one"));
    // Revoked with no new token in the secret: a typed error, and no loop.
    api.revoke_token("xoxb-rotated-token");
    let posted = expect_error(lambda.invoke(alarm_event("revoked")));
    assert_error_type(&posted, "Slack.TokenRevoked");
    assert_eq!(lambda.emu.secret_calls(), 3);
}

#[test]
fn a_rate_limit_is_waited_out_within_the_deadline() {
    let lambda = app();
    lambda
        .emu
        .slack_api()
        .rate_limit_next("chat.postMessage", 1);
    expect_response(lambda.invoke(alarm_event("throttled")));
    let calls = lambda.emu.slack_api().calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].status, 429);
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
}

#[test]
fn a_post_whose_answer_is_lost_is_found_in_the_history_not_posted_twice() {
    let lambda = app();
    lambda.emu.slack_api().lose_answer_next("chat.postMessage");
    let body = expect_response(lambda.invoke(alarm_event("lost-answer")));
    assert_eq!(body, r#"{"posted":1}"#);
    let methods: Vec<String> = lambda
        .emu
        .slack_api()
        .calls()
        .into_iter()
        .map(|c| c.method)
        .collect();
    assert_eq!(methods, ["chat.postMessage", "conversations.history"]);
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
    assert!(lambda
        .process
        .stdout()
        .contains("found the post in the channel's history"));
}

#[test]
fn a_lost_answer_to_a_post_that_never_arrived_is_posted_once_more() {
    let lambda = app();
    // Processed nothing: the stand-in answers 200 with an empty body, as a broken proxy.
    lambda
        .emu
        .slack_api()
        .status_next("chat.postMessage", 502, "<html>bad gateway</html>");
    expect_response(lambda.invoke(alarm_event("gateway")));
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
}

#[test]
fn other_method_errors_are_rejected_with_slacks_code() {
    let lambda = app();
    lambda
        .emu
        .slack_api()
        .fail_next("chat.postMessage", "invalid_attachments");
    let posted = expect_error(lambda.invoke(alarm_event("bad")));
    assert_error_type(&posted, "Slack.Rejected");
    assert!(
        posted.body.contains("invalid_attachments"),
        "{}",
        posted.body
    );
    expect_response(lambda.invoke(alarm_event("good")));
}

#[test]
fn render_app_shows_the_parent_a_reply_and_the_update() {
    let out = std::process::Command::new(common::bootstrap_bin())
        .args(["render", "--app", "events/cloudwatch-alarm.json"])
        .output()
        .expect("run render");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let titles: Vec<&str> = stdout.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(
        titles,
        [
            "# chat.postMessage: the parent, when this state opens an incident",
            "# chat.postMessage: a reply in the open incident's thread",
            "# chat.update: the parent, brought up to this state"
        ]
    );
    assert!(
        stdout.contains("\"thread_ts\": \"1764470000.000100\""),
        "{stdout}"
    );
    assert!(stdout.contains("Firing for 14 min"), "{stdout}");
}
