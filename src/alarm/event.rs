//! What arrives: an SNS event whose records carry a CloudWatch alarm (JSON in
//! `Message`) or any other message; or an alarm itself, when an alarm action invokes
//! the function directly or an EventBridge rule sends its state change. Parsing is
//! lenient about everything we do not need, and strict only where nothing sensible
//! could be posted.

use super::Alarm;
use crate::error::Error;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// One thing to tell Slack about.
#[derive(Debug, PartialEq)]
pub enum Notification {
    Alarm(Box<Alarm>),
    /// Any other SNS message; `json` when it is a JSON object or array.
    Text {
        subject: Option<String>,
        message: String,
        json: bool,
    },
}

/// Every record of an SNS event, in order (`Records: []` is a valid, empty event), or
/// the one alarm of a direct or EventBridge invocation.
#[inline(never)] // Shared by the handler and `render`: one copy, not one per caller.
pub fn parse(body: &[u8]) -> Result<Vec<Notification>, Error> {
    if let Some(records) = sns_records(body) {
        return Ok(records
            .into_iter()
            .map(|sns| {
                notification(
                    sns.subject.as_deref(),
                    &sns.message,
                    sns.topic_arn.as_deref(),
                )
            })
            .collect());
    }
    parse_value(body)
}

/// Any event, read whole into a `Value`.
fn parse_value(body: &[u8]) -> Result<Vec<Notification>, Error> {
    let event: Value = serde_json::from_slice(body).map_err(|e| {
        Error::InvalidEvent(format!(
            "not a JSON object ({}); subscribe the function to an SNS topic",
            serde_error(&e)
        ))
    })?;
    let Some(records) = event.get("Records") else {
        return match super::from_json(&event, None) {
            Some(alarm) => Ok(vec![Notification::Alarm(Box::new(alarm))]),
            None => Err(Error::InvalidEvent(
                "no `Records`, and not a CloudWatch alarm action (`alarmData`) or an \
                 EventBridge `CloudWatch Alarm State Change` either; subscribe the function to \
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

/// The SNS event as it nearly always arrives, read straight into what `parse` takes from
/// it, every other field skipped unread: a `Value` of the whole event costs twice as
/// much. Anything else (another shape, a record without its `Sns.Message`, a `Subject` or
/// `TopicArn` neither a string nor null, invalid JSON or UTF-8) is `None`, and `parse`
/// reads it as before, to the same result. The one difference: a skipped field is not
/// checked as a `Value` checks it (a number beyond `f64`, nesting deeper than 128), as
/// nothing reads it.
fn sns_records(body: &[u8]) -> Option<Vec<Sns<'_>>> {
    // The text reader checks no string for UTF-8, skipped or not: the whole event is
    // checked here, once.
    let text = std::str::from_utf8(body).ok()?;
    let mut json = serde_json::Deserializer::from_str(text);
    let records = json.deserialize_map(Envelope).ok()?;
    json.end().ok()?;
    Some(records)
}

/// What `parse` reads of a record's `Sns` object.
struct Sns<'a> {
    message: Cow<'a, str>,
    subject: Option<Cow<'a, str>>,
    topic_arn: Option<Cow<'a, str>>,
}

/// Reads the fields `names` of a JSON object with `read`, skipping the others. Only an
/// object is read (serde's derived `Deserialize` would take an array too), and the last
/// of a repeated key wins, as in a `Value`.
fn fields<'de, A: MapAccess<'de>>(
    mut map: A,
    names: &'static [&'static str],
    mut read: impl FnMut(usize, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(Key(names))? {
        match key {
            Some(at) => read(at, &mut map)?,
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

fn missing<E: de::Error>(what: &str) -> E {
    E::custom(format_args!("no {what}"))
}

/// `{"Records": [record, …]}`.
struct Envelope;

impl<'de> Visitor<'de> for Envelope {
    type Value = Vec<Sns<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SNS event")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut records = None;
        fields(map, &["Records"], |_, map| {
            records = Some(map.next_value::<Vec<Record>>()?);
            Ok(())
        })?;
        let records = records.ok_or_else(|| missing("Records"))?;
        Ok(records.into_iter().map(|r| r.0).collect())
    }
}

/// `{"Sns": {…}}`.
struct Record<'a>(Sns<'a>);

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SNS record")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut sns = None;
        fields(map, &["Sns"], |_, map| {
            sns = Some(map.next_value_seed(SnsVisitor)?);
            Ok(())
        })?;
        sns.map(Record).ok_or_else(|| missing("Sns"))
    }
}

/// `{"Message": "…", "Subject": "…", "TopicArn": "…"}`.
struct SnsVisitor;

impl<'de> DeserializeSeed<'de> for SnsVisitor {
    type Value = Sns<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SnsVisitor {
    type Value = Sns<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Sns object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let [mut message, mut subject, mut topic_arn] = [None, None, None];
        fields(map, &["Message", "Subject", "TopicArn"], |at, map| {
            let text = map.next_value::<Loose>()?.0;
            *[&mut message, &mut subject, &mut topic_arn][at] = text;
            Ok(())
        })?;
        Ok(Sns {
            message: message.ok_or_else(|| missing("Sns.Message"))?,
            subject,
            topic_arn,
        })
    }
}

/// Which of the names a key is, if any.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|name| *name == key))
    }
}

/// A string, or nothing for `null`. Another JSON type fails the reading, and `parse`
/// reads the event again as a `Value`: rare, and fewer visitor methods here (size).
struct Loose<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose(None))
    }
}

fn notification(subject: Option<&str>, message: &str, topic_arn: Option<&str>) -> Notification {
    // Only a JSON document that is an alarm is an alarm; anything else is delivered as it came.
    let mut json = false;
    if message.trim_start().starts_with(['{', '[']) {
        if let Ok(value) = serde_json::from_slice::<Value>(message.as_bytes()) {
            if let Some(alarm) = super::from_json(&value, topic_arn) {
                return Notification::Alarm(Box::new(alarm));
            }
            json = value.is_object() || value.is_array();
        }
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
            br#"{"detail-type": "Scheduled Event", "detail": {}}"#,
            br#"{"source": "aws.cloudwatch", "alarmData": null}"#,
            b"\xff\xfe",
        ] {
            let err = parse(body).expect_err("must fail");
            assert_eq!(err.error_type(), "Event.Invalid", "{body:?}");
        }
        assert_eq!(parse(br#"{"Records": []}"#).expect("empty ok"), vec![]);
    }

    /// What `parse` makes of `body`, errors by their words.
    fn outcome(got: Result<Vec<Notification>, Error>) -> Result<Vec<Notification>, String> {
        got.map_err(|e| e.to_string())
    }

    #[test]
    fn sns_events_are_read_without_a_value_to_the_same_result() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let mut sns_events = 0;
        for entry in std::fs::read_dir(dir).expect("events/") {
            let body = std::fs::read(entry.expect("entry").path()).expect("event");
            if sns_records(&body).is_some() {
                sns_events += 1;
            }
            assert_eq!(outcome(parse(&body)), outcome(parse_value(&body)));
        }
        assert!(sns_events >= 5, "{sns_events} SNS events in events/");
        let odd = [
            // Repeated keys: the last wins, in both.
            &br#"{"Records":[{"Sns":{"Message":"a","Message":"b","Subject":1,"Subject":"s"}}]}"#[..],
            br#"{"Records":[{"Sns":{"Message":"a"}}],"Records":[{"Sns":{"Message":"c"}}]}"#,
            br#"{"Records":[{"Sns":{"Message":"a","Message":5}}]}"#,
            br#"{"Records":[{"Sns":{"Message":"a"},"Sns":{}}]}"#,
            // Arrays where objects belong, which serde's derive would take as structs.
            br#"{"Records":[{"Sns":["a"]}]}"#,
            br#"{"Records":[["a"]]}"#,
            br#"[[{"Sns":{"Message":"a"}}]]"#,
            // Types: every other one where a string or a list belongs.
            br#"{"Records":null}"#,
            br#"{"Records":[{"Sns":{"Message":"a","Subject":{"x":[1]},"TopicArn":[true,null]}}]}"#,
            br#"{"Records":[{"Sns":{"Message":"a","Subject":null,"TopicArn":2.5}}]}"#,
            br#"{"Records":[{"Sns":{"Message":"a"}},{"Sns":{"Message":null}}]}"#,
            br#"{"Records":[{"Sns":{"Message":"a"}},7]}"#,
            // Escapes in keys and values; text after the event; invalid UTF-8 anywhere.
            br#"{"Rec\u006frds":[{"Sns":{"Mess\u0061ge":"\"x\"\n","Subject":"\u00e9"}}]}"#,
            br#"{"Records":[]} x"#,
            b"{\"Records\":[],\"x\":\"\xff\"}",
        ];
        for body in odd {
            assert_eq!(
                outcome(parse(body)),
                outcome(parse_value(body)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // The one difference: a number beyond f64 in a field nobody reads.
        let far = br#"{"Records":[{"Sns":{"Message":"{\"AlarmName\":\"a\"}"}}],"x":1e400}"#;
        assert!(parse_value(far).is_err());
        assert!(parse(far).is_ok());
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
