//! An SQS batch (topic → queue → function, issue 25): records each answered on its own, so
//! that only the ones that failed come back (`batchItemFailures`). A record's body is what
//! the queue was sent: an SNS envelope (the default subscription), or with raw message
//! delivery the message itself (an alarm, an EventBridge event, any text).

use super::event::{self, Notification};
use crate::error::Error;
use serde_json::Value;

/// One message of the batch.
pub struct Record {
    /// `messageId`: how the answer names a record that failed.
    pub id: String,
    pub body: String,
}

/// The records of an SQS event, or `None` for any other event. A cheap look at the bytes
/// first: `"eventSource":"aws:sqs"` cannot appear unescaped inside a string of another
/// event, so SNS events and alarms pay nothing.
pub fn batch(event: &[u8]) -> Option<Result<Vec<Record>, Error>> {
    // A window compared at every byte cost every warm invocation ~50,000 instructions
    // (callgrind) on a 3 KB alarm, and std's substring search (which needs the bytes checked
    // as UTF-8 first) ~8,000. A `q` is rare in what else arrives.
    const NEEDLE: &[u8] = br#""eventSource":"aws:sqs""#;
    crate::bytes::find(event, NEEDLE, NEEDLE.len() - 3)?;
    let value: Value = serde_json::from_slice(event).ok()?;
    let records = value.get("Records")?.as_array()?;
    Some(
        records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let text = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
                match (text("messageId"), text("body")) {
                    (Some(id), Some(body)) => Ok(Record { id, body }),
                    // A record that cannot be named cannot be answered on its own: the whole
                    // batch comes back.
                    _ => Err(Error::InvalidEvent(format!(
                        "SQS record {} has no messageId or body",
                        i + 1
                    ))),
                }
            })
            .collect(),
    )
}

/// What one record holds: an SNS envelope's message, an event the function also takes
/// directly (an alarm action, EventBridge), else the body as text.
pub fn notifications(body: &str) -> Vec<Notification> {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let text = |k: &str| value.get(k).and_then(Value::as_str);
        if let (Some("Notification"), Some(message)) = (text("Type"), text("Message")) {
            return vec![event::of_message(
                text("Subject"),
                message,
                text("TopicArn"),
            )];
        }
        if let Ok(direct) = event::parse(body.as_bytes()) {
            return direct;
        }
    }
    vec![event::of_message(None, body, None)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALARM: &str = r#"{"AlarmName":"cpu","NewStateValue":"ALARM","NewStateReason":"r"}"#;

    fn event(records: Value) -> Vec<u8> {
        json!({ "Records": records }).to_string().into_bytes()
    }

    fn sqs(id: &str, body: &str) -> Value {
        json!({"messageId": id, "receiptHandle": "h", "body": body, "attributes": {},
               "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:1:buffer"})
    }

    fn names(body: &str) -> Vec<String> {
        notifications(body)
            .iter()
            .map(|n| match n {
                Notification::Alarm(a) => format!("alarm {}", a.name),
                Notification::Notice(notice) => format!("notice {}", notice.title),
                Notification::Text { message, .. } => format!("text {message}"),
            })
            .collect()
    }

    #[test]
    fn only_sqs_events_are_batches() {
        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "x"}}]});
        assert!(batch(sns.to_string().as_bytes()).is_none());
        // An SNS message that mentions an SQS event is still an SNS event.
        let quoted = json!({"Records": [{"EventSource": "aws:sns",
            "Sns": {"Message": r#"{"eventSource":"aws:sqs"}"#}}]});
        assert!(batch(quoted.to_string().as_bytes()).is_none());
        let records = batch(&event(json!([sqs("m1", ALARM), sqs("m2", "hello")])))
            .expect("a batch")
            .expect("readable");
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"]);
    }

    #[test]
    fn a_record_without_an_id_returns_the_whole_batch() {
        let mut unnamed = sqs("m1", ALARM);
        unnamed["messageId"] = Value::Null;
        let err = batch(&event(json!([unnamed]))).expect("a batch").err();
        assert!(err.is_some_and(|e| e.error_type() == "Event.Invalid"));
    }

    #[test]
    fn bodies_are_envelopes_events_or_text() {
        let envelope = json!({"Type": "Notification", "MessageId": "x", "Subject": "s",
            "TopicArn": "arn:aws:sns:eu-west-1:1:alarms", "Message": ALARM});
        assert_eq!(names(&envelope.to_string()), ["alarm cpu"]);
        assert_eq!(names(ALARM), ["alarm cpu"]);
        assert_eq!(names("disk full on db-1"), ["text disk full on db-1"]);
        assert_eq!(names(r#"{"unknown": 1}"#), [r#"text {"unknown": 1}"#]);
    }
}
