//! An SNS event and the message of a plain metric alarm, each read in one pass straight into
//! the fields used, without a `Value` tree: every warm invocation of a typical deployment
//! reads both, and the trees (a `String` per key, a map per object, all dropped at once) were
//! the largest share of its instructions.
//!
//! `records` reads the event's records (subject, message, topic) when each has them as
//! strings; any other event is `None`, and `event::parse` reads it from a `Value`, with its
//! words for what is missing. Of the message, only the common shape is read here: the alarm's strings as strings, a `Trigger` object
//! without `Metrics`. Anything else (a composite alarm, metric math, a field of another JSON
//! type, an escaped key, another document) is `None`, and `from_json` reads it leniently
//! from a `Value`. Where this returns an alarm, it is the one `from_json` reads: the tests
//! below compare the two on every alarm sample, and the `message` fuzz target on any input.

use super::{number, whole, Alarm};
use crate::alarm::trigger::{Metric, Rule, Trigger};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// One record of an SNS event.
pub struct Record<'a> {
    pub subject: Text<'a>,
    pub message: Cow<'a, str>,
    pub topic_arn: Text<'a>,
}

/// The records of `event` when it is an SNS event whose every record has an `Sns` object
/// with a `Message` string (and `Subject`, `TopicArn` strings or none); `None` otherwise.
pub fn records(event: &[u8]) -> Option<Vec<Record<'_>>> {
    let envelope: Envelope<'_> = serde_json::from_slice(event).ok()?;
    envelope
        .records?
        .into_iter()
        .map(|r| {
            let sns = r.sns?;
            Some(Record {
                subject: sns.subject,
                message: sns.message?,
                topic_arn: sns.topic_arn,
            })
        })
        .collect()
}

/// The alarm in `message` when it has the common shape; `None` sends it to `from_json`.
pub fn read(message: &str, topic_arn: Option<&str>) -> Option<Alarm> {
    // From the bytes, as every other read: `from_str` would build serde_json anew for `StrRead`.
    let m: Message<'_> = serde_json::from_slice(message.as_bytes()).ok()?;
    let trigger = match m.trigger {
        None => Trigger::None,
        Some(t) => Trigger::Threshold(Rule {
            metrics: vec![Metric {
                namespace: text(t.namespace),
                name: text(t.metric_name),
                stat: text(t.extended_statistic).or_else(|| text(t.statistic)),
                dimensions: t
                    .dimensions
                    .into_iter()
                    .filter_map(|d| {
                        let name = text(d.name)?;
                        Some((name, text(d.value).unwrap_or_default()))
                    })
                    .collect(),
                returned: true,
                ..Metric::default()
            }],
            comparison: text(t.comparison),
            threshold: number(t.threshold.as_ref()),
            band: text(t.band),
            unit: text(t.unit),
            period: whole(t.period.as_ref()),
            evaluation_periods: whole(t.evaluation_periods.as_ref()),
            datapoints_to_alarm: whole(t.datapoints_to_alarm.as_ref()),
        }),
    };
    let alarm = Alarm {
        name: text(Some(m.name?)).unwrap_or_default(),
        new_state: text(m.new_state).unwrap_or_else(|| "UNKNOWN".to_string()),
        old_state: text(m.old_state),
        reason: text(m.reason).unwrap_or_default(),
        description: text(m.description),
        account: text(m.account),
        changed_at: text(m.changed_at),
        trigger,
        ..Alarm::default()
    };
    Some(super::with_sns_arns(alarm, m.arn.as_deref(), topic_arn))
}

/// A JSON string (`None` for `null`), borrowed from the message when it holds no escape;
/// another JSON type fails the read.
pub type Text<'a> = Option<Cow<'a, str>>;

/// As `super::text` has it: blank counts as absent.
fn text(t: Text<'_>) -> Option<String> {
    t.filter(|t| !t.trim().is_empty()).map(Cow::into_owned)
}

/// Each object below is read by hand, not derived: the derived readers (a copy of serde's
/// per field and per type) cost 24 KB of `bootstrap`. A key read again replaces what it
/// read before, as in a `Value`; a key that is not plain text fails the read.
#[derive(Default)]
struct Message<'a> {
    name: Text<'a>,
    new_state: Text<'a>,
    old_state: Text<'a>,
    reason: Text<'a>,
    description: Text<'a>,
    account: Text<'a>,
    changed_at: Text<'a>,
    arn: Text<'a>,
    trigger: Option<TriggerFields<'a>>,
}

#[derive(Default)]
struct TriggerFields<'a> {
    metric_name: Text<'a>,
    namespace: Text<'a>,
    statistic: Text<'a>,
    extended_statistic: Text<'a>,
    unit: Text<'a>,
    dimensions: Vec<Dimension<'a>>,
    comparison: Text<'a>,
    band: Text<'a>,
    // Numbers as `Value`s (no allocation for a number): `number` and `whole` read them as
    // `from_json` does, whichever JSON type a publisher chose.
    threshold: Option<Value>,
    period: Option<Value>,
    evaluation_periods: Option<Value>,
    datapoints_to_alarm: Option<Value>,
}

/// SNS spells these keys in lower case; `from_json` also reads them in PascalCase.
#[derive(Default)]
struct Dimension<'a> {
    name: Text<'a>,
    value: Text<'a>,
}

#[derive(Default)]
struct Envelope<'a> {
    records: Option<Vec<RecordFields<'a>>>,
}

#[derive(Default)]
struct RecordFields<'a> {
    sns: Option<SnsFields<'a>>,
}

#[derive(Default)]
struct SnsFields<'a> {
    subject: Text<'a>,
    message: Text<'a>,
    topic_arn: Text<'a>,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Envelope<'de>, D::Error> {
        d.deserialize_map(Read(Envelope::default()))
    }
}

impl<'de> Deserialize<'de> for RecordFields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecordFields<'de>, D::Error> {
        d.deserialize_map(Read(RecordFields::default()))
    }
}

impl<'de> Deserialize<'de> for SnsFields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SnsFields<'de>, D::Error> {
        d.deserialize_map(Read(SnsFields::default()))
    }
}

impl<'de> Keys<'de> for Envelope<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "Records" => self.records = Some(map.next_value()?),
            // An alarm action's or EventBridge's document: no need to read on.
            "alarmData" | "detail-type" => return other_shape(),
            _ => {
                map.next_value::<Skipped>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Keys<'de> for RecordFields<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "Sns" => self.sns = Some(map.next_value()?),
            _ => {
                map.next_value::<Skipped>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Keys<'de> for SnsFields<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let slot = match key {
            "Subject" => &mut self.subject,
            "Message" => &mut self.message,
            "TopicArn" => &mut self.topic_arn,
            _ => return map.next_value::<Skipped>().map(drop),
        };
        *slot = map.next_value::<Str<'de>>()?.0;
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Message<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Message<'de>, D::Error> {
        d.deserialize_map(Read(Message::default()))
    }
}

impl<'de> Deserialize<'de> for TriggerFields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TriggerFields<'de>, D::Error> {
        d.deserialize_map(Read(TriggerFields::default()))
    }
}

impl<'de> Deserialize<'de> for Dimension<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dimension<'de>, D::Error> {
        d.deserialize_map(Read(Dimension::default()))
    }
}

/// Reads an object's keys into `T`, which says what each key's value is.
struct Read<T>(T);

/// An object of ours: where each key's value goes.
trait Keys<'de>: Sized {
    /// Reads the value of `key` from `map`; an error sends the message to `from_json`.
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

impl<'de, T: Keys<'de>> Visitor<'de> for Read<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<T, A::Error> {
        while let Some(key) = map.next_key::<&'de str>()? {
            self.0.put(key, &mut map)?;
        }
        Ok(self.0)
    }
}

fn other_shape<E: serde::de::Error>() -> Result<(), E> {
    Err(E::custom("not the common shape"))
}

impl<'de> Keys<'de> for Message<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let slot = match key {
            "AlarmName" => &mut self.name,
            "NewStateValue" => &mut self.new_state,
            "OldStateValue" => &mut self.old_state,
            "NewStateReason" => &mut self.reason,
            "AlarmDescription" => &mut self.description,
            "AWSAccountId" => &mut self.account,
            "StateChangeTime" => &mut self.changed_at,
            "AlarmArn" => &mut self.arn,
            "Trigger" => {
                self.trigger = map.next_value()?;
                return Ok(());
            }
            // An alarm action's or EventBridge's document, a composite alarm.
            "alarmData" | "detail-type" | "AlarmRule" | "TriggeringChildren" => {
                return other_shape();
            }
            _ => return map.next_value::<Skipped>().map(drop),
        };
        *slot = map.next_value::<Str<'de>>()?.0;
        Ok(())
    }
}

impl<'de> Keys<'de> for TriggerFields<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let slot = match key {
            "MetricName" => &mut self.metric_name,
            "Namespace" => &mut self.namespace,
            "Statistic" => &mut self.statistic,
            "ExtendedStatistic" => &mut self.extended_statistic,
            "Unit" => &mut self.unit,
            "ComparisonOperator" => &mut self.comparison,
            "ThresholdMetricId" => &mut self.band,
            "Dimensions" => {
                self.dimensions = map.next_value::<Option<_>>()?.unwrap_or_default();
                return Ok(());
            }
            "Threshold" | "Period" | "EvaluationPeriods" | "DatapointsToAlarm" => {
                let number = match key {
                    "Threshold" => &mut self.threshold,
                    "Period" => &mut self.period,
                    "EvaluationPeriods" => &mut self.evaluation_periods,
                    _ => &mut self.datapoints_to_alarm,
                };
                *number = Some(map.next_value()?);
                return Ok(());
            }
            // Metric math or an anomaly band.
            "Metrics" => return other_shape(),
            _ => return map.next_value::<Skipped>().map(drop),
        };
        *slot = map.next_value::<Str<'de>>()?.0;
        Ok(())
    }
}

impl<'de> Keys<'de> for Dimension<'de> {
    fn put<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let slot = match key {
            "name" => &mut self.name,
            "value" => &mut self.value,
            "Name" | "Value" => return other_shape(),
            _ => return map.next_value::<Skipped>().map(drop),
        };
        *slot = map.next_value::<Str<'de>>()?.0;
        Ok(())
    }
}

/// A value passed over, read as strictly as a `Value` is (its strings checked as UTF-8,
/// each escape whole): serde's `IgnoredAny` skips a string without looking inside, and an
/// event the `Value` reading refuses would be read here (the `event` fuzz target found one).
struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skipped, D::Error> {
        d.deserialize_any(Skipped)
    }
}

impl<'de> Visitor<'de> for Skipped {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_entry::<Skipped, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

/// A string or `null`, read as [`Text`].
struct Str<'a>(Text<'a>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str<'de>, D::Error> {
        d.deserialize_any(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Str<'de>, E> {
        Ok(Str(Some(Cow::Borrowed(s))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Str<'de>, E> {
        Ok(Str(Some(Cow::Owned(s.to_string()))))
    }

    fn visit_unit<E>(self) -> Result<Str<'de>, E> {
        Ok(Str(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::from_json;

    fn slow(message: &str, topic_arn: Option<&str>) -> Option<Alarm> {
        let value: Value = serde_json::from_str(message).ok()?;
        from_json(&value, topic_arn)
    }

    /// Every SNS message of `events/`: read here, the alarm `from_json` reads.
    #[test]
    fn every_sample_reads_as_from_json_reads_it() {
        let mut read_here = 0;
        for entry in std::fs::read_dir("events").expect("events/") {
            let path = entry.expect("entry").path();
            let event: Value =
                serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
            let records = event.get("Records").and_then(Value::as_array);
            for record in records.into_iter().flatten() {
                let sns = &record["Sns"];
                let Some(message) = sns["Message"].as_str() else {
                    continue;
                };
                let topic = sns["TopicArn"].as_str();
                if let Some(alarm) = read(message, topic) {
                    assert_eq!(Some(alarm), slow(message, topic), "{}", path.display());
                    read_here += 1;
                }
            }
        }
        assert!(read_here >= 5, "only {read_here} samples took this path");
    }

    #[test]
    fn other_shapes_and_types_are_left_to_from_json() {
        let left = [
            r#"{"AlarmName":"a","AlarmRule":"ALARM(b)"}"#,
            r#"{"AlarmName":"a","TriggeringChildren":[]}"#,
            r#"{"AlarmName":"a","Trigger":{"Metrics":[]}}"#,
            r#"{"AlarmName":"a","Trigger":"cpu"}"#,
            r#"{"AlarmName":"a","Trigger":{"Dimensions":{"InstanceId":"i-1"}}}"#,
            r#"{"AlarmName":"a","Trigger":{"Dimensions":["InstanceId"]}}"#,
            r#"{"AlarmName":"a","Trigger":{"Dimensions":[{"Name":"InstanceId","Value":"i-1"}]}}"#,
            r#"{"AlarmName":"a","NewStateValue":1}"#,
            r#"{"AlarmName":"a","Trigger":{"Metrics":null}}"#,
            r#"{"Alarm\u004eame":"a"}"#,
            r#"{"AlarmName":7}"#,
            r#"{"NewStateValue":"ALARM"}"#,
            r#"{"alarmData":{},"AlarmName":"a"}"#,
            r#"{"detail-type":"x","AlarmName":"a"}"#,
            r#"["AlarmName"]"#,
            r#"["a","ALARM",null,null,null,null,null,null,null,null]"#,
            r#"{"AlarmName":"a","Trigger":[]}"#,
            r#"{"AlarmName":"a","Trigger":[null,"CPUUtilization"]}"#,
            r#"{"AlarmName":"a","Trigger":{"Dimensions":[["n","v"]]}}"#,
        ];
        for message in left {
            assert_eq!(read(message, None), None, "{message}");
        }
    }

    #[test]
    fn odd_but_readable_values_read_as_from_json_reads_them() {
        let read_alike = [
            r#"{"AlarmName":" ","NewStateValue":null,"NewStateReason":"r\n\"q\""}"#,
            r#"{"AlarmName":"a","Trigger":null,"AlarmArn":"not an arn"}"#,
            r#"{"AlarmName":"a","Trigger":{"Threshold":"80.0","Period":"300","EvaluationPeriods":2.0,"DatapointsToAlarm":-1}}"#,
            r#"{"AlarmName":"a","Trigger":{"Threshold":1e3,"Dimensions":[{"name":"","value":"v"},{"name":"M"},{"name":"N","value":null}]}}"#,
            r#"{"AlarmName":"a","Trigger":{"Statistic":"AVERAGE","ExtendedStatistic":" "}}"#,
            r#"{"AlarmName":"a","AlarmName":"b","Trigger":{"Unit":"x"},"Trigger":null}"#,
            r#"{"AlarmName":"a","Trigger":{"Dimensions":null,"Unit":"Percent","Unit":null}}"#,
            r#"{"AlarmName":"a","AWSAccountId":"1","StateChangeTime":"2026-11-28T11:38:08.123+0000"}"#,
        ];
        for message in read_alike {
            let topic = Some("arn:aws:sns:eu-west-1:111122223333:t");
            let here = read(message, topic);
            assert!(here.is_some(), "{message}");
            assert_eq!(here, slow(message, topic), "{message}");
        }
    }
}
