//! SQS batches end to end (issue 25): the release bootstrap takes an SQS event whose records
//! are SNS envelopes, raw alarms or text; in webhook mode a batch's alarms for one webhook
//! are one digest; only the records that failed are named in `batchItemFailures`; app mode
//! posts each record as it would alone.

use common::{alarm_message, expect_response, Lambda};
use emulator::slack_api::{ApiMessage, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::{Options, SlackPost};
use serde_json::{json, Value};
use testkit::{common, emulator};

/// An SQS record as Lambda's event source hands it over; `body` is what the queue got.
fn record(id: &str, body: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764330000000"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alarm-buffer",
        "awsRegion": "us-east-1"
    })
}

/// The SNS envelope an SQS subscription delivers (raw message delivery off).
fn envelope(message: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "5c2f1e3a-0000-4000-8000-000000000000",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
        "Subject": "ALARM: storm",
        "Message": message,
        "Timestamp": "2026-11-28T11:38:08.171Z",
        "SignatureVersion": "1"
    })
    .to_string()
}

fn batch(records: &[Value]) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

fn failures(answer: &str) -> Vec<String> {
    let answer: Value = serde_json::from_str(answer).expect("JSON answer");
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures, even when empty")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn texts(posts: &[SlackPost]) -> Vec<String> {
    posts
        .iter()
        .map(|p| p.json["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_webhook_batch_is_one_digest_and_text_stays_a_message_of_its_own() {
    let lambda = Lambda::start(Options::default());
    let event = batch(&[
        record("m1", &envelope(&alarm_message("api-5xx", "ALARM"))),
        record("m2", &alarm_message("db-cpu", "ALARM")),
        record("m3", "a plain note for the channel"),
        record("m4", &envelope(&alarm_message("queue-depth", "OK"))),
    ]);
    let answer = expect_response(lambda.invoke(event));
    assert_eq!(failures(&answer), Vec::<String>::new());
    let texts = texts(&lambda.emu.slack_posts());
    assert_eq!(texts.len(), 2, "{texts:#?}");
    let digest = texts
        .iter()
        .find(|t| t.starts_with("*3 alarms*"))
        .expect("one digest");
    let lines: Vec<&str> = digest.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{digest}");
    for (line, seed) in lines.iter().zip([
        "• api-5xx state is now *ALARM*: Threshold Crossed",
        "• db-cpu state is now *ALARM*: Threshold Crossed",
        "• queue-depth state is now *OK*: Threshold Crossed",
    ]) {
        assert!(line.starts_with(seed), "{line}");
        assert!(line.contains("|console>)"), "{line}");
    }
    assert!(texts.contains(&"a plain note for the channel".to_string()));
    lambda.assert_no_leaks();
}

#[test]
fn one_alarm_in_a_batch_keeps_its_card() {
    let lambda = Lambda::start(Options::default());
    let answer = expect_response(lambda.invoke(batch(&[record(
        "only",
        &envelope(&alarm_message("lonely", "ALARM")),
    )])));
    assert_eq!(failures(&answer), Vec::<String>::new());
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 1);
    assert!(texts(&posts)[0].starts_with("lonely state is now ALARM: "));
    assert_eq!(posts[0].json["attachments"][0]["title"], "lonely");
}

#[test]
fn only_the_record_that_failed_comes_back() {
    let lambda = Lambda::start(Options::default());
    let base = lambda.emu.slack_url();
    let base = base.split("/services/").next().unwrap_or(&base).to_string();
    // `bad-*` goes to a webhook nobody answers at; the rest to the emulator's.
    let secret = json!({
        "SLACK_HOOK_URL": format!("{base}/services/DEFAULTHOOKSECRET"),
        "ROUTES": [{"alarm": ["bad-*"], "webhook": "http://127.0.0.1:9/services/T/B/DEADHOOK"}],
    });
    lambda.emu.set_secret_string(&secret.to_string());
    let event = batch(&[
        record("ok-1", &envelope(&alarm_message("good-1", "ALARM"))),
        record("dead", &envelope(&alarm_message("bad-1", "ALARM"))),
        record("ok-2", &envelope(&alarm_message("good-2", "ALARM"))),
    ]);
    let answer = expect_response(lambda.invoke(event));
    assert_eq!(failures(&answer), ["dead"]);
    let texts = texts(&lambda.emu.slack_posts());
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].starts_with("*2 alarms*"), "{}", texts[0]);
    assert!(texts[0].contains("good-1") && texts[0].contains("good-2"));
    lambda.assert_no_leaks();
}

#[test]
fn app_mode_posts_each_record_and_names_the_one_whose_channel_refused_it() {
    let secret = json!({
        "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
        "SLACK_CHANNEL": DEFAULT_CHANNEL_ID,
        "ROUTES": [{"alarm": ["gone-*"], "channel": "C0ARCHIVED"}],
    });
    let lambda = Lambda::start(Options {
        secret_string: Some(secret.to_string()),
        ..Options::default()
    });
    lambda
        .emu
        .slack_api()
        .add_channel("C0ARCHIVED", "old", true);
    lambda.emu.slack_api().archive_channel("C0ARCHIVED");
    let event = batch(&[
        record("a", &envelope(&alarm_message("web-1", "ALARM"))),
        record("b", &envelope(&alarm_message("gone-1", "ALARM"))),
        record("c", &envelope(&alarm_message("web-2", "OK"))),
    ]);
    let answer = expect_response(lambda.invoke(event));
    assert_eq!(failures(&answer), ["b"]);
    let posted: Vec<String> = lambda
        .emu
        .slack_api()
        .messages(DEFAULT_CHANNEL_ID)
        .iter()
        .map(|m: &ApiMessage| m.text.clone().unwrap_or_default())
        .collect();
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert!(posted[0].starts_with("web-1 state is now ALARM: "));
    assert!(posted[1].starts_with("web-2 state is now OK: "));
    lambda.assert_no_leaks();
}

#[test]
fn a_record_without_a_message_id_returns_the_whole_batch() {
    let lambda = Lambda::start(Options::default());
    let mut unnamed = record("x", &alarm_message("a", "ALARM"));
    unnamed["messageId"] = Value::Null;
    let outcome = lambda.invoke(batch(&[unnamed]));
    let posted = common::expect_error(outcome);
    common::assert_error_type(&posted, "Event.Invalid");
    assert!(lambda.emu.slack_posts().is_empty());
}
