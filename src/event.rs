//! What arrives: an SNS event whose records carry either a CloudWatch alarm
//! (JSON in `Message`) or any other text. Parsing is lenient about everything
//! we do not need, and strict only where nothing sensible could be posted.

use crate::error::Error;
use serde::Deserialize;
use serde_json::{Map, Value};

/// One thing to tell Slack about.
#[derive(Debug, PartialEq)]
pub enum Notification {
    Alarm(Alarm),
    Text {
        subject: Option<String>,
        message: String,
    },
}

#[derive(Debug, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub new_state: String,
    pub old_state: Option<String>,
    pub reason: String,
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "Sns")]
    sns: Option<Sns>,
}

#[derive(Deserialize)]
struct Sns {
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "Subject")]
    subject: Option<String>,
}

/// Every record of an SNS event, in order. `Records: []` is a valid, empty event.
pub fn parse(body: &[u8]) -> Result<Vec<Notification>, Error> {
    let event: Event = serde_json::from_slice(body).map_err(|e| {
        Error::InvalidEvent(format!(
            "not a JSON object with `Records` ({}); subscribe the function to an SNS topic",
            serde_error(&e)
        ))
    })?;
    let records = event.records.ok_or_else(|| {
        Error::InvalidEvent(
            "no `Records` list; subscribe the function to an SNS topic that receives CloudWatch alarms"
                .to_string(),
        )
    })?;
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let sns = record.sns.ok_or_else(|| {
                Error::InvalidEvent(format!("record {} has no `Sns` object", i + 1))
            })?;
            let message = sns.message.ok_or_else(|| {
                Error::InvalidEvent(format!("record {} has no `Sns.Message`", i + 1))
            })?;
            Ok(notification(sns.subject, message))
        })
        .collect()
}

fn notification(subject: Option<String>, message: String) -> Notification {
    // Only a JSON object naming an alarm is an alarm; anything else is delivered as it came.
    if message.trim_start().starts_with('{') {
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&message) {
            if let Some(alarm) = alarm(&fields) {
                return Notification::Alarm(alarm);
            }
        }
    }
    Notification::Text {
        subject: subject.filter(|s| !s.trim().is_empty()),
        message,
    }
}

fn alarm(fields: &Map<String, Value>) -> Option<Alarm> {
    let name = match fields.get("AlarmName")? {
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Some(Alarm {
        name,
        new_state: text(fields.get("NewStateValue")).unwrap_or_else(|| "UNKNOWN".to_string()),
        old_state: text(fields.get("OldStateValue")),
        reason: text(fields.get("NewStateReason")).unwrap_or_default(),
        description: text(fields.get("AlarmDescription")),
    })
}

/// A field as text, whatever JSON type a publisher chose; `null` counts as absent.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
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

    fn sns(message: &str, subject: Option<&str>) -> Vec<u8> {
        serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {
            "Type": "Notification", "Subject": subject, "Message": message, "Extra": [1, 2]
        }}]})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn alarm_message_becomes_an_alarm() {
        let msg = r#"{"AlarmName":"cpu-high","AlarmDescription":null,"NewStateValue":"ALARM",
            "OldStateValue":"OK","NewStateReason":"Threshold Crossed","Unknown":{"x":1}}"#;
        let got = parse(&sns(msg, Some("ALARM: cpu-high"))).expect("parsed");
        assert_eq!(
            got,
            vec![Notification::Alarm(Alarm {
                name: "cpu-high".into(),
                new_state: "ALARM".into(),
                old_state: Some("OK".into()),
                reason: "Threshold Crossed".into(),
                description: None,
            })]
        );
    }

    #[test]
    fn odd_state_types_do_not_fail_an_alarm() {
        let got = parse(&sns(r#"{"AlarmName":"a","NewStateValue":7}"#, None)).expect("parsed");
        let Notification::Alarm(alarm) = &got[0] else {
            panic!("not an alarm: {got:?}")
        };
        assert_eq!((alarm.new_state.as_str(), alarm.reason.as_str()), ("7", ""));
    }

    #[test]
    fn other_messages_are_text_with_subject() {
        let got = parse(&sns("Hello from SNS!", Some("TestInvoke"))).expect("parsed");
        assert_eq!(
            got,
            vec![Notification::Text {
                subject: Some("TestInvoke".into()),
                message: "Hello from SNS!".into()
            }]
        );
        let json = parse(&sns(r#"{"budget":"over"}"#, None)).expect("parsed");
        assert!(matches!(&json[0], Notification::Text { subject: None, .. }));
    }

    #[test]
    fn events_that_are_not_sns_are_typed_errors() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            br#"{"Records": 5}"#,
            br#"{"Records": [{}]}"#,
            br#"{"Records": [{"Sns": {"Message": 5}}]}"#,
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
            Notification::Text { .. }
        ));
    }
}
