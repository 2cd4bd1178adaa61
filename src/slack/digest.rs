//! Several alarms for one webhook as one message (an SQS batch in webhook mode, issue 25):
//! a channel in a storm gets a few digests instead of a wall of cards, and every alarm is
//! still there, one line each that starts as its own message would (the seed line), with
//! its console link. Split into as many messages as Slack's text limit needs.

use super::message::{seed_line, MAX_TEXT_CHARS};
use super::mrkdwn::escape;
use crate::alarm::arn;
use crate::alarm::Alarm;
use crate::json::Object;

/// Each payload of the digest of `alarms`, in order; `channel`, `username`, `icon_emoji`
/// as the webhook's other posts send them.
pub fn render(alarms: &[&Alarm], sender: [(&str, Option<&str>); 3]) -> Vec<String> {
    let lines: Vec<String> = alarms.iter().map(|a| line(a)).collect();
    let mut payloads = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        // As many lines as fit under the limit, at least one (a line is cut to fit already).
        let mut end = start + 1;
        let mut size = lines[start].len();
        while end < lines.len() && size + 1 + lines[end].len() <= MAX_TEXT_CHARS - 200 {
            size += 1 + lines[end].len();
            end += 1;
        }
        let mut text = format!("*{} alarms", lines.len());
        if start > 0 || end < lines.len() {
            text.push_str(&format!(" ({}–{end})", start + 1));
        }
        text.push('*');
        for line in &lines[start..end] {
            text.push('\n');
            text.push_str(line);
        }
        let mut payload = Object::new();
        payload.string("text", &text);
        for (key, value) in sender {
            if let Some(value) = value {
                payload.string(key, value);
            }
        }
        payloads.push(payload.finish());
        start = end;
    }
    payloads
}

/// `• <seed line> (<console|link>)`, the state in bold.
fn line(alarm: &Alarm) -> String {
    let link = match (&alarm.partition, &alarm.region) {
        (Some(partition), Some(region)) => arn::console_url(partition, region, &alarm.name),
        _ => None,
    };
    let mut line = String::from("• ");
    line.push_str(&seed_line(alarm));
    // The state in bold where it first reads `state is now <state>`: two stars put in place
    // instead of the text written again with them.
    let state = format!("state is now {}", escape(&alarm.new_state));
    if let Some(at) = line.find(&state) {
        line.insert(at + state.len(), '*');
        line.insert(at + "state is now ".len(), '*');
    }
    if let Some(url) = link {
        line.push_str(" (<");
        line.push_str(&url);
        line.push_str("|console>)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn alarm(name: &str, state: &str) -> Alarm {
        Alarm {
            name: name.into(),
            new_state: state.into(),
            reason: "Threshold Crossed: 1 datapoint [9.0] > 5.0".into(),
            partition: Some("aws".into()),
            region: Some("eu-west-1".into()),
            ..Alarm::default()
        }
    }

    fn text(payload: &str) -> String {
        let v: Value = serde_json::from_str(payload).expect("JSON");
        v["text"].as_str().unwrap_or_default().to_string()
    }

    #[test]
    fn every_alarm_is_a_line_that_starts_as_its_own_message_would() {
        let (a, b) = (alarm("api-5xx", "ALARM"), alarm("db <cpu>", "OK"));
        let payloads = render(
            &[&a, &b],
            [
                ("channel", Some("#ops")),
                ("username", None),
                ("icon_emoji", None),
            ],
        );
        assert_eq!(payloads.len(), 1);
        let text = text(&payloads[0]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "*2 alarms*");
        assert!(
            lines[1].starts_with("• api-5xx state is now *ALARM*: Threshold Crossed"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with("#alarmsV2:alarm/api-5xx|console>)"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("• db &lt;cpu&gt; state is now *OK*: "),
            "{}",
            lines[2]
        );
        let v: Value = serde_json::from_str(&payloads[0]).expect("JSON");
        assert_eq!(v["channel"], "#ops");
    }

    #[test]
    fn a_long_digest_is_split_and_loses_no_alarm() {
        let long = "x".repeat(2_000);
        let alarms: Vec<Alarm> = (0..60)
            .map(|i| Alarm {
                reason: long.clone(),
                ..alarm(&format!("a{i}"), "ALARM")
            })
            .collect();
        let refs: Vec<&Alarm> = alarms.iter().collect();
        let payloads = render(
            &refs,
            [("channel", None), ("username", None), ("icon_emoji", None)],
        );
        assert!(payloads.len() > 1);
        let mut seen = 0;
        for p in &payloads {
            let text = text(p);
            assert!(text.chars().count() <= MAX_TEXT_CHARS, "{}", text.len());
            seen += text.lines().filter(|l| l.starts_with("• a")).count();
        }
        assert_eq!(seen, 60);
        assert!(text(&payloads[0]).starts_with("*60 alarms (1–"));
    }
}
