//! Turns a notification into the JSON payload for a Slack incoming webhook.

use crate::event::{Alarm, Notification};
use serde::Serialize;

/// Slack cuts `text` at 40,000 characters; stay below it and show the cut.
const MAX_TEXT_CHARS: usize = 39_000;

#[derive(Serialize)]
struct Payload<'a> {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
}

pub fn render(notification: &Notification, channel: Option<&str>) -> String {
    let text = match notification {
        Notification::Alarm(alarm) => seed_line(alarm),
        Notification::Text { subject, message } => match subject {
            Some(subject) => format!("*{}*\n{}", escape(subject), escape(message)),
            None => escape(message),
        },
    };
    let payload = Payload {
        text: truncate(text, MAX_TEXT_CHARS),
        channel,
    };
    // A struct of strings always serialises; the fallback only keeps the types honest.
    serde_json::to_string(&payload).unwrap_or_else(|_| String::from(r#"{"text":""}"#))
}

/// `<AlarmName> state is now <NewStateValue>: <NewStateReason>`: the line users search for.
pub fn seed_line(alarm: &Alarm) -> String {
    format!(
        "{} state is now {}: {}",
        escape(&alarm.name),
        escape(&alarm.new_state),
        escape(&alarm.reason)
    )
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters in text we did not write.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str) -> Notification {
        Notification::Alarm(Alarm {
            name: name.into(),
            new_state: "ALARM".into(),
            old_state: Some("OK".into()),
            reason: "Threshold Crossed: 1 datapoint [95.0] > 80".into(),
            description: None,
        })
    }

    #[test]
    fn alarm_payload_is_the_seed_line() {
        assert_eq!(
            render(&alarm("cpu-high"), Some("#alerts")),
            r##"{"text":"cpu-high state is now ALARM: Threshold Crossed: 1 datapoint [95.0] &gt; 80","channel":"#alerts"}"##
        );
    }

    #[test]
    fn text_payload_has_subject_and_no_channel_when_unset() {
        let n = Notification::Text {
            subject: Some("TestInvoke".into()),
            message: "Hello from SNS!".into(),
        };
        assert_eq!(
            render(&n, None),
            r#"{"text":"*TestInvoke*\nHello from SNS!"}"#
        );
    }

    #[test]
    fn escapes_and_truncates() {
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
        let long = Notification::Text {
            subject: None,
            message: "é".repeat(50_000),
        };
        let json: serde_json::Value =
            serde_json::from_str(&render(&long, None)).expect("valid json");
        let text = json["text"].as_str().expect("text");
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(text.ends_with('…'));
    }
}
