//! Any text as the `Message` of a well-formed SNS record, so that the fuzzer
//! spends its time inside alarm parsing and rendering rather than on the
//! event's outer JSON.
#![no_main]

use alarm_to_slack::alarm::{self, event};
use alarm_to_slack::slack::message::{self, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The one-pass reader of the common alarm message reads what the `Value` reader reads.
    if let Some(alarm) = alarm::sns_message::read(&text, Some("arn:aws:sns:eu-west-1:1:t")) {
        let value: serde_json::Value = serde_json::from_str(&text).expect("read, so JSON");
        assert_eq!(Some(alarm), alarm::from_json(&value, Some("arn:aws:sns:eu-west-1:1:t")));
    }
    let event = serde_json::json!({"Records": [{"Sns": {"Subject": "fuzz", "Message": text}}]});
    let notifications = event::parse(event.to_string().as_bytes()).expect("a valid SNS event");
    assert_eq!(notifications.len(), 1);
    let options = Options {
        channel: Some("#alerts"),
        ..Options::default()
    };
    let payload = message::render(&notifications[0], &options);
    let json: serde_json::Value = serde_json::from_str(&payload).expect("the payload is JSON");
    let text = json["text"].as_str().expect("the payload has text");
    assert!(text.chars().count() <= 40_000, "text over Slack's limit");
});
