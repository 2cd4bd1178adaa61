//! Any bytes as a Lambda event: parsing never panics, and every notification
//! renders to a Slack payload that is valid JSON within Slack's limits.
#![no_main]

use alarm_to_slack::{event, message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(notifications) = event::parse(data) else {
        return;
    };
    for notification in &notifications {
        for channel in [None, Some("#alerts")] {
            let payload = message::render(notification, channel);
            let json: serde_json::Value =
                serde_json::from_str(&payload).expect("the payload is JSON");
            let text = json["text"].as_str().expect("the payload has text");
            assert!(text.chars().count() <= 40_000, "text over Slack's limit");
        }
    }
});
