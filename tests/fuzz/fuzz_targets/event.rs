//! Any bytes as a Lambda event: parsing never panics, and every notification
//! renders to a Slack payload that is valid JSON within Slack's limits.
#![no_main]

use alarm_to_slack::alarm::event;
use alarm_to_slack::slack::message::{self, Format, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = event::parse(data);
    // The one-pass reading of an SNS event agrees with the reading through a `Value`.
    assert_eq!(
        format!("{parsed:?}"),
        format!("{:?}", event::parse_value(data))
    );
    let Ok(notifications) = parsed else {
        return;
    };
    for notification in &notifications {
        for format in [Format::Card, Format::Text] {
            let options = Options {
                format,
                channel: Some("#alerts"),
                ..Options::default()
            };
            let payload = message::render(notification, &options);
            let json: serde_json::Value =
                serde_json::from_str(&payload).expect("the payload is JSON");
            let text = json["text"].as_str().expect("the payload has text");
            assert!(text.chars().count() <= 40_000, "text over Slack's limit");
        }
    }
});
