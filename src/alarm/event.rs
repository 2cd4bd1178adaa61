//! What arrives: an SNS event whose records carry a CloudWatch alarm (JSON in
//! `Message`), an EventBridge event, or any other message; or an alarm or event itself,
//! when an alarm action invokes the function directly or an EventBridge rule targets it.
//! Parsing is lenient about everything we do not need, and strict only where nothing
//! sensible could be posted.

use super::Alarm;
use crate::error::Error;
use crate::source::{self, Notice};
use serde_json::Value;

/// One thing to tell Slack about.
#[derive(Debug, PartialEq)]
pub enum Notification {
    Alarm(Box<Alarm>),
    /// Any other source with a model of its own: an EventBridge event, an Amazon Q custom
    /// notification.
    Notice(Box<Notice>),
    /// Any other SNS message; `json` when it is a JSON object or array.
    Text {
        subject: Option<String>,
        message: String,
        json: bool,
    },
}

/// Every record of an SNS event, in order (`Records: []` is a valid, empty event), or
/// the one alarm or event of a direct or EventBridge invocation.
#[inline(never)] // Shared by the handler and `render`: one copy, not one per caller.
pub fn parse(body: &[u8]) -> Result<Vec<Notification>, Error> {
    if let Some(records) = super::sns_message::records(body) {
        let of_record = |r: super::sns_message::Record<'_>| {
            notification(r.subject.as_deref(), &r.message, r.topic_arn.as_deref())
        };
        return Ok(records.into_iter().map(of_record).collect());
    }
    parse_value(body)
}

/// `parse` for any event, through a `Value`: what the one-pass reading must agree with
/// (the `event` fuzz target compares them).
pub fn parse_value(body: &[u8]) -> Result<Vec<Notification>, Error> {
    let event: Value = serde_json::from_slice(body).map_err(|e| {
        Error::InvalidEvent(format!(
            "not a JSON object ({}); subscribe the function to an SNS topic",
            serde_error(&e)
        ))
    })?;
    let Some(records) = event.get("Records") else {
        if let Some(alarm) = super::from_json(&event, None) {
            return Ok(vec![Notification::Alarm(Box::new(alarm))]);
        }
        // serde_json read it, so it is UTF-8.
        let raw = std::str::from_utf8(body).unwrap_or_default();
        return match source::parse(&event, raw) {
            Some(notice) => Ok(vec![Notification::Notice(Box::new(notice))]),
            None => Err(Error::InvalidEvent(
                "no `Records`, and not a CloudWatch alarm action (`alarmData`) or an \
                 EventBridge event (`detail-type`, `source`) either; subscribe the function to \
                 an SNS topic that receives CloudWatch alarms"
                    .to_string(),
            )),
        };
    };
    let records = records
        .as_array()
        .ok_or_else(|| Error::InvalidEvent("`Records` is not a list".to_string()))?;
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let sns = record.get("Sns").filter(|s| s.is_object()).ok_or_else(|| {
                Error::InvalidEvent(format!("record {} has no `Sns` object", i + 1))
            })?;
            let message = sns.get("Message").and_then(Value::as_str).ok_or_else(|| {
                Error::InvalidEvent(format!("record {} has no `Sns.Message`", i + 1))
            })?;
            let subject = sns.get("Subject").and_then(Value::as_str);
            let topic_arn = sns.get("TopicArn").and_then(Value::as_str);
            Ok(notification(subject, message, topic_arn))
        })
        .collect()
}

/// An SNS message as a notification: an alarm when it is one, else its text.
pub fn of_message(subject: Option<&str>, message: &str, topic_arn: Option<&str>) -> Notification {
    notification(subject, message, topic_arn)
}

fn notification(subject: Option<&str>, message: &str, topic_arn: Option<&str>) -> Notification {
    // Only a JSON document that is an alarm or an event is one; anything else is delivered as
    // it came.
    let mut json = false;
    if message.trim_start().starts_with(['{', '[']) {
        if let Some(alarm) = super::sns_message::read(message, topic_arn) {
            return Notification::Alarm(Box::new(alarm));
        }
        if let Ok(value) = serde_json::from_slice::<Value>(message.as_bytes()) {
            if let Some(alarm) = super::from_json(&value, topic_arn) {
                return Notification::Alarm(Box::new(alarm));
            }
            if let Some(mut notice) = source::parse(&value, message) {
                // A publisher's subject says it in its own words, unless the source has a line
                // of its own; the card stays the event's.
                if notice.summary.is_none() {
                    notice.summary = subject
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                }
                return Notification::Notice(Box::new(notice));
            }
            json = value.is_object() || value.is_array();
        }
    }
    // Budgets publishes its alerts as text; the recogniser takes only that exact letter.
    if let Some(notice) = source::budgets::parse(subject, message) {
        return Notification::Notice(Box::new(notice));
    }
    Notification::Text {
        subject: subject.filter(|s| !s.trim().is_empty()).map(str::to_string),
        message: message.to_string(),
        json,
    }
}

/// serde_json's message without the input it quotes: an event may hold anything.
fn serde_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "could not be read",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected shape",
        Category::Eof => "truncated JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass reading of an SNS event gives what the `Value` reading gives: on every
    /// sample, and on envelopes of odd shapes (which it leaves to the `Value` reading).
    #[test]
    fn sns_events_read_in_one_pass_as_through_a_value() {
        let mut bodies: Vec<Vec<u8>> = std::fs::read_dir("events")
            .expect("events/")
            .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
            .collect();
        for odd in [
            r#"{"Records":[]}"#,
            r#"{"Records":null}"#,
            r#"{"Records":[{"Sns":null}]}"#,
            r#"{"Records":[{"Sns":{"Message":null}}]}"#,
            r#"{"Records":[{"Sns":{"Message":7}}]}"#,
            r#"{"Records":[{"Sns":{"Message":"m","Subject":7,"TopicArn":[]}}]}"#,
            r#"{"Records":[{"Sns":{"Message":"m","Subject":null}},"x"]}"#,
            r#"{"Records":[{"Sns":{"Message":"a"}}],"Records":[{"Sns":{"Message":"b"}}]}"#,
            r#"{"Records":[{"Sns":{"Message":"a","Message":"{\"AlarmName\":\"b\"}"}}]}"#,
            r#"{"Records":{"Sns":{"Message":"m"}}}"#,
            r#"[{"Records":[]}]"#,
            r#"{"Records":[{"Sns":{"Message":"m","Signature":"\ud800"}}]}"#,
            r#"{"Records":[{"Sns":{"Message":"m","MessageAttributes":{"a":["\udc00"]}}}]}"#,
            r#"{"Records":[{"Sns":{"Message":"{\"AlarmName\":\"a\",\"Region\":\"\\ud800\"}"}}]}"#,
        ] {
            bodies.push(odd.as_bytes().to_vec());
        }
        // Bytes that are not UTF-8 inside a string nobody reads.
        let mut invalid = br#"{"Records":[{"EventSubscriptionArn":"x"#.to_vec();
        invalid.extend_from_slice(b"\xff\xfe\"");
        invalid.extend_from_slice(br#","Sns":{"Message":"m"}}]}"#);
        bodies.push(invalid);
        for body in bodies {
            let text = String::from_utf8_lossy(&body);
            assert_eq!(
                format!("{:?}", parse(&body)),
                format!("{:?}", parse_value(&body)),
                "{text}"
            );
        }
    }
    use crate::alarm::trigger::Trigger;

    fn sns(message: &str, subject: Option<&str>) -> Vec<u8> {
        serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {
            "Type": "Notification", "Subject": subject, "Message": message, "Extra": [1, 2],
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms"
        }}]})
        .to_string()
        .into_bytes()
    }

    fn alarm_of(notifications: &[Notification]) -> &Alarm {
        match notifications.first() {
            Some(Notification::Alarm(alarm)) => alarm,
            other => panic!("not an alarm: {other:?}"),
        }
    }

    #[test]
    fn alarm_message_becomes_an_alarm() {
        let msg = r#"{"AlarmName":"cpu-high","AlarmDescription":null,"NewStateValue":"ALARM",
            "OldStateValue":"OK","NewStateReason":"Threshold Crossed","Unknown":{"x":1}}"#;
        let got = parse(&sns(msg, Some("ALARM: cpu-high"))).expect("parsed");
        assert_eq!(
            got,
            vec![Notification::Alarm(Box::new(Alarm {
                name: "cpu-high".into(),
                new_state: "ALARM".into(),
                old_state: Some("OK".into()),
                reason: "Threshold Crossed".into(),
                description: None,
                // No AlarmArn: the topic's ARN locates it.
                account: Some("123456789012".into()),
                region: Some("eu-west-1".into()),
                partition: Some("aws".into()),
                changed_at: None,
                arn: None,
                trigger: Trigger::None,
            }))]
        );
    }

    #[test]
    fn odd_state_types_do_not_fail_an_alarm() {
        let got = parse(&sns(r#"{"AlarmName":"a","NewStateValue":7}"#, None)).expect("parsed");
        let alarm = alarm_of(&got);
        assert_eq!((alarm.new_state.as_str(), alarm.reason.as_str()), ("7", ""));
    }

    #[test]
    fn other_messages_are_text_with_subject() {
        let got = parse(&sns("Hello from SNS!", Some("TestInvoke"))).expect("parsed");
        assert_eq!(
            got,
            vec![Notification::Text {
                subject: Some("TestInvoke".into()),
                message: "Hello from SNS!".into(),
                json: false,
            }]
        );
        let json = parse(&sns(r#" {"budget":"over"}"#, Some(" "))).expect("parsed");
        assert!(matches!(
            &json[0],
            Notification::Text {
                subject: None,
                json: true,
                ..
            }
        ));
        let broken = parse(&sns(r#"{"AlarmName":"#, None)).expect("parsed");
        assert!(matches!(&broken[0], Notification::Text { json: false, .. }));
    }

    #[test]
    fn alarms_arrive_without_sns_too() {
        let direct =
            br#"{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:d",
            "alarmData":{"alarmName":"d","state":{"value":"OK"}}}"#;
        assert_eq!(alarm_of(&parse(direct).expect("direct")).new_state, "OK");
        let bridge = br#"{"detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",
            "detail":{"alarmName":"e","state":{"value":"ALARM"}}}"#;
        assert_eq!(alarm_of(&parse(bridge).expect("eventbridge")).name, "e");
        // An EventBridge alarm event sent on through an SNS topic.
        let wrapped = sns(std::str::from_utf8(bridge).expect("utf-8"), None);
        assert_eq!(alarm_of(&parse(&wrapped).expect("wrapped")).name, "e");
    }

    fn notice_of(notifications: &[Notification]) -> &Notice {
        match notifications.first() {
            Some(Notification::Notice(notice)) => notice,
            other => panic!("not a notice: {other:?}"),
        }
    }

    #[test]
    fn other_eventbridge_events_are_notices_directly_and_through_sns() {
        let bridge = r#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
        let direct = parse(bridge.as_bytes()).expect("not refused");
        assert_eq!(notice_of(&direct).source, "aws.events");
        assert_eq!(notice_of(&direct).raw.as_deref(), Some(bridge));
        let wrapped = parse(&sns(bridge, None)).expect("wrapped");
        assert_eq!(notice_of(&wrapped), notice_of(&direct));
        // A publisher's subject is the line notifications show; the rest is the event's.
        let titled = parse(&sns(bridge, Some(" Nightly run "))).expect("titled");
        assert_eq!(notice_of(&titled).summary.as_deref(), Some("Nightly run"));
        assert_eq!(notice_of(&titled).fields, notice_of(&direct).fields);
    }

    #[test]
    fn events_of_no_known_shape_are_typed_errors() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"7",
            br#"{"Records": 5}"#,
            br#"{"Records": [{}]}"#,
            br#"{"Records": [{"Sns": 1}]}"#,
            br#"{"Records": [{"Sns": {"Message": 5}}]}"#,
            // No `source`: not an EventBridge event.
            br#"{"detail-type": "Scheduled Event", "detail": {}}"#,
            br#"{"source": "aws.cloudwatch", "alarmData": null}"#,
            b"\xff\xfe",
        ] {
            let err = parse(body).expect_err("must fail");
            assert_eq!(err.error_type(), "Event.Invalid", "{body:?}");
        }
        assert_eq!(parse(br#"{"Records": []}"#).expect("empty ok"), vec![]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let body = format!(r#"{{"Records": {deep}}}"#);
        assert!(parse(body.as_bytes()).is_err());
        let inner = format!(r#"{{"AlarmName": {deep}}}"#);
        assert!(matches!(
            parse(&sns(&inner, None)).expect("still text")[0],
            Notification::Text { json: false, .. }
        ));
    }
}
