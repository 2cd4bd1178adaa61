//! A CloudWatch alarm's state change, read from each shape it arrives in: the SNS
//! notification, the alarm action's direct invocation and the EventBridge event.
//! Every field is optional and any JSON type is accepted: a field we cannot use is
//! left out of the message, it never fails the event.

pub mod arn;
pub mod event;
pub mod sns_message;
pub mod sqs;
pub mod timestamp;
pub mod trigger;

use crate::region as partition;
use arn::Arn;
use serde_json::Value;
use trigger::{Child, Metric, Rule, Trigger};

#[derive(Debug, PartialEq, Default)]
pub struct Alarm {
    pub name: String,
    pub new_state: String,
    pub old_state: Option<String>,
    pub reason: String,
    pub description: Option<String>,
    pub account: Option<String>,
    /// Region code and partition from the alarm's ARN (else the SNS topic's): the
    /// message's own `Region` is a display name such as `US East (N. Virginia)`.
    pub region: Option<String>,
    pub partition: Option<String>,
    /// As sent, e.g. `2026-11-28T11:38:08.123+0000`.
    pub changed_at: Option<String>,
    /// The alarm's ARN, when the event names it.
    pub arn: Option<String>,
    pub trigger: Trigger,
}

/// The alarm in a JSON document, if it holds one. `topic_arn` locates an SNS alarm
/// message that lacks `AlarmArn`.
pub fn from_json(v: &Value, topic_arn: Option<&str>) -> Option<Alarm> {
    if let Some(data) = v.get("alarmData").filter(|d| d.is_object()) {
        return Some(from_state_change(v, data, v.get("alarmArn")));
    }
    if v.get("detail-type").and_then(Value::as_str) == Some("CloudWatch Alarm State Change") {
        let detail = v.get("detail").filter(|d| d.is_object())?;
        let arn = v.get("resources").and_then(|r| r.get(0));
        return Some(from_state_change(v, detail, arn));
    }
    match v.get("AlarmName")? {
        Value::String(_) => Some(from_sns(v, topic_arn)),
        _ => None,
    }
}

/// The `Message` of an SNS notification from CloudWatch.
fn from_sns(m: &Value, topic_arn: Option<&str>) -> Alarm {
    let trigger = if has(m, "AlarmRule") || has(m, "TriggeringChildren") {
        Trigger::Composite {
            rule: text(m.get("AlarmRule")),
            children: children(m.get("TriggeringChildren")),
        }
    } else if let Some(t) = m.get("Trigger").filter(|t| t.is_object()) {
        Trigger::Threshold(sns_rule(t))
    } else {
        Trigger::None
    };
    let alarm = Alarm {
        name: text(m.get("AlarmName")).unwrap_or_default(),
        new_state: state(m.get("NewStateValue")),
        old_state: text(m.get("OldStateValue")),
        reason: text(m.get("NewStateReason")).unwrap_or_default(),
        description: text(m.get("AlarmDescription")),
        account: text(m.get("AWSAccountId")),
        changed_at: text(m.get("StateChangeTime")),
        trigger,
        ..Alarm::default()
    };
    with_sns_arns(alarm, m.get("AlarmArn").and_then(Value::as_str), topic_arn)
}

/// An SNS alarm's ARN, when it is one, and where the alarm (else its topic) is.
fn with_sns_arns(mut alarm: Alarm, alarm_arn: Option<&str>, topic_arn: Option<&str>) -> Alarm {
    alarm.arn = alarm_arn
        .filter(|a| Arn::parse(a).is_some())
        .map(str::to_string);
    alarm.locate([alarm_arn, topic_arn], None);
    alarm
}

fn sns_rule(t: &Value) -> Rule {
    let metrics = match t.get("Metrics") {
        Some(Value::Array(list)) => list.iter().map(metric).collect(),
        _ => vec![Metric {
            namespace: text(t.get("Namespace")),
            name: text(t.get("MetricName")),
            stat: text(t.get("ExtendedStatistic")).or_else(|| text(t.get("Statistic"))),
            dimensions: dimensions(t.get("Dimensions")),
            returned: true,
            ..Metric::default()
        }],
    };
    Rule {
        metrics,
        comparison: text(t.get("ComparisonOperator")),
        threshold: number(t.get("Threshold")),
        band: text(t.get("ThresholdMetricId")),
        unit: text(t.get("Unit")),
        period: whole(t.get("Period")),
        evaluation_periods: whole(t.get("EvaluationPeriods")),
        datapoints_to_alarm: whole(t.get("DatapointsToAlarm")),
    }
}

/// `alarmData` of a direct invocation, or `detail` of an EventBridge event: the same
/// document, with the ARN, account and region around it.
fn from_state_change(event: &Value, data: &Value, arn: Option<&Value>) -> Alarm {
    let state_of = data.get("state");
    let config = data.get("configuration");
    // `reasonData` is JSON in a string; composite alarms list their triggering children there.
    let raw_reason_data = field(state_of, &["reasonData"]);
    let parsed: Option<Value> = match raw_reason_data {
        Some(Value::String(s)) => serde_json::from_slice(s.as_bytes()).ok(),
        _ => None,
    };
    let reason_data = parsed.as_ref().or(raw_reason_data);
    let arn = arn.and_then(Value::as_str);

    let trigger = if let Some(rule) = text(field(config, &["alarmRule"])) {
        Trigger::Composite {
            rule: Some(rule),
            children: children(field(reason_data, &["triggeringAlarms"])),
        }
    } else if let Some(Value::Array(metrics)) = field(config, &["metrics"]) {
        Trigger::Threshold(Rule {
            metrics: metrics.iter().map(metric).collect(),
            comparison: text(field(config, &["comparisonOperator"])),
            threshold: number(field(config, &["threshold"]))
                .or_else(|| number(field(reason_data, &["threshold"]))),
            band: text(field(config, &["thresholdMetricId"])),
            evaluation_periods: whole(field(config, &["evaluationPeriods"])),
            datapoints_to_alarm: whole(field(config, &["datapointsToAlarm"])),
            ..Rule::default()
        })
    } else {
        Trigger::None
    };
    let name = text(data.get("alarmName"))
        .or_else(|| Some(Arn::parse(arn?)?.alarm_name()?.to_string()))
        .unwrap_or_else(|| "unnamed alarm".to_string());
    let mut alarm = Alarm {
        name,
        new_state: state(field(state_of, &["value"])),
        old_state: text(field(data.get("previousState"), &["value"])),
        reason: text(field(state_of, &["reason"])).unwrap_or_default(),
        description: text(field(config, &["description"])),
        account: text(field(Some(event), &["accountId", "account"])),
        changed_at: text(field(state_of, &["timestamp"])).or_else(|| text(event.get("time"))),
        trigger,
        ..Alarm::default()
    };
    alarm.arn = arn.filter(|a| Arn::parse(a).is_some()).map(str::to_string);
    alarm.locate([arn, None], text(event.get("region")));
    alarm
}

impl Alarm {
    /// The first `https://` link of the description: where teams put the alarm's runbook.
    /// It ends where a URL cannot go on, or at the `>` or `|` of a Slack-style link.
    pub fn runbook(&self) -> Option<&str> {
        let description = self.description.as_deref()?;
        let start = description.find("https://")?;
        let rest = &description[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c.is_control() || "<>|\"'`".contains(c))
            .unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', ']']);
        (url.len() > "https://".len()).then_some(url)
    }

    /// What names this alarm across its transitions: its ARN, else account, region and name.
    pub fn key(&self) -> String {
        match &self.arn {
            Some(arn) => arn.clone(),
            None => format!(
                "{}/{}/{}",
                self.account.as_deref().unwrap_or("-"),
                self.region.as_deref().unwrap_or("-"),
                self.name
            ),
        }
    }

    /// When the state changed, in seconds since the epoch, if the event says so readably.
    pub fn changed_epoch(&self) -> Option<i64> {
        timestamp::epoch_seconds(self.changed_at.as_deref()?)
    }

    /// The same in milliseconds: the order of two transitions within a second.
    pub fn changed_millis(&self) -> Option<i64> {
        timestamp::epoch_millis(self.changed_at.as_deref()?)
    }

    /// Region, partition (and the account when the message has none) from the first ARN
    /// that reads as one, else from a region code.
    fn locate(&mut self, arns: [Option<&str>; 2], region: Option<String>) {
        if let Some(arn) = arns.into_iter().flatten().find_map(Arn::parse) {
            self.region = Some(arn.region.to_string());
            self.partition = Some(arn.partition.to_string());
            if self.account.is_none() && !arn.account.is_empty() {
                self.account = Some(arn.account.to_string());
            }
        } else if let Some(region) = region {
            self.partition = Some(partition::of_region(&region).to_string());
            self.region = Some(region);
        }
    }
}

/// One entry of `Trigger.Metrics` (SNS, PascalCase) or `configuration.metrics` (camelCase).
fn metric(m: &Value) -> Metric {
    let m = Some(m);
    let stat = field(m, &["MetricStat", "metricStat"]);
    let inner = field(stat, &["Metric", "metric"]);
    Metric {
        id: text(field(m, &["Id", "id"])),
        label: text(field(m, &["Label", "label"])),
        expression: text(field(m, &["Expression", "expression"])),
        namespace: text(field(inner, &["Namespace", "namespace"])),
        name: text(field(inner, &["MetricName", "name"])),
        stat: text(field(stat, &["Stat", "stat"])),
        dimensions: dimensions(field(inner, &["Dimensions", "dimensions"])),
        period: whole(field(stat, &["Period", "period"]))
            .or_else(|| whole(field(m, &["Period", "period"]))),
        // The API's default is true; only an explicit false leaves a metric out of the result.
        returned: !matches!(
            field(m, &["ReturnData", "returnData"]),
            Some(Value::Bool(false))
        ),
    }
}

/// SNS sends `[{"value": …, "name": …}]`, the direct and EventBridge events `{"name": "value"}`.
fn dimensions(v: Option<&Value>) -> Vec<(String, String)> {
    match v {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|d| {
                let name = text(field(Some(d), &["name", "Name"]))?;
                Some((
                    name,
                    text(field(Some(d), &["value", "Value"])).unwrap_or_default(),
                ))
            })
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| (name.clone(), text(Some(value)).unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Triggering children as ARN strings (documented) or `{"Arn", "State": {"Value"}}` objects
/// (what CloudWatch sends; the direct invocation spells the keys in camelCase).
fn children(v: Option<&Value>) -> Vec<Child> {
    let Some(Value::Array(list)) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|child| match child {
            Value::String(arn) => Some(Child {
                arn: arn.clone(),
                state: None,
            }),
            _ => Some(Child {
                arn: text(field(Some(child), &["Arn", "arn"]))?,
                state: text(field(
                    field(Some(child), &["State", "state"]),
                    &["Value", "value"],
                )),
            }),
        })
        .collect()
}

/// The first of `keys` that `v` has with a value other than `null`.
fn field<'a>(v: Option<&'a Value>, keys: &[&str]) -> Option<&'a Value> {
    let v = v?;
    keys.iter()
        .find_map(|key| v.get(key).filter(|found| !found.is_null()))
}

fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|found| !found.is_null())
}

/// A field as text, whatever JSON type a publisher chose; `null` and blank count as absent.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn state(v: Option<&Value>) -> String {
    text(v).unwrap_or_else(|| "UNKNOWN".to_string())
}

/// A threshold as people write it: `80.0` becomes `80`; a string is taken as it is.
fn number(v: Option<&Value>) -> Option<String> {
    let text = text(v)?;
    match v {
        Some(Value::Number(_)) => Some(match text.strip_suffix(".0") {
            Some(whole) => whole.to_string(),
            None => text,
        }),
        _ => Some(text),
    }
}

/// A count of periods or seconds, also when sent as `300.0` or `"300"`.
fn whole(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (f >= 0.0 && f.fract() == 0.0 && f < 1e15).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runbook_is_the_first_https_link_of_the_description() {
        let with = |d: &str| Alarm {
            description: Some(d.into()),
            ..Alarm::default()
        };
        let cases = [
            (
                "Runbook: https://wiki.example/rb/cpu.",
                Some("https://wiki.example/rb/cpu"),
            ),
            (
                "see <https://a.example/x|runbook> or https://b",
                Some("https://a.example/x"),
            ),
            (
                "(https://a.example/x?y=1&z=2)",
                Some("https://a.example/x?y=1&z=2"),
            ),
            ("http://plain.example only", None),
            ("https:// nothing", None),
            ("", None),
        ];
        for (description, runbook) in cases {
            assert_eq!(with(description).runbook(), runbook, "{description}");
        }
        assert_eq!(Alarm::default().runbook(), None);
    }
    use serde_json::json;

    #[test]
    fn sns_metric_alarm() {
        let m = json!({
            "AlarmName": "cpu", "AlarmDescription": null, "AWSAccountId": "111122223333",
            "NewStateValue": "ALARM", "OldStateValue": "OK", "NewStateReason": "r",
            "StateChangeTime": "2026-11-28T11:38:08.123+0000", "Region": "US East (N. Virginia)",
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cpu",
            "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2",
                "StatisticType": "Statistic", "Statistic": "AVERAGE", "Unit": null,
                "Dimensions": [{"value": "i-1", "name": "InstanceId"}], "Period": 300,
                "EvaluationPeriods": 2, "DatapointsToAlarm": 2,
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0}
        });
        let alarm = from_json(&m, Some("arn:aws:sns:us-east-1:999:t")).expect("alarm");
        assert_eq!(alarm.region.as_deref(), Some("eu-west-1"));
        assert_eq!(alarm.partition.as_deref(), Some("aws"));
        assert_eq!(alarm.account.as_deref(), Some("111122223333"));
        assert_eq!(alarm.description, None);
        let Trigger::Threshold(rule) = &alarm.trigger else {
            panic!("{:?}", alarm.trigger)
        };
        assert_eq!(rule.threshold.as_deref(), Some("80"));
        assert_eq!(
            rule.metrics[0].dimensions,
            [("InstanceId".into(), "i-1".into())]
        );
        assert_eq!(rule.metrics[0].stat.as_deref(), Some("AVERAGE"));
    }

    #[test]
    fn wrong_types_are_tolerated() {
        let m = json!({
            "AlarmName": "odd", "NewStateValue": 7, "NewStateReason": null, "AlarmArn": 5,
            "AlarmDescription": "  ", "StateChangeTime": ["x"],
            "Trigger": {"Threshold": "80", "Period": "300", "EvaluationPeriods": 2.0,
                "DatapointsToAlarm": -1, "Dimensions": {"InstanceId": "i-1"}, "Metrics": "no"}
        });
        let alarm = from_json(&m, Some("arn:aws-cn:sns:cn-north-1:1:t")).expect("alarm");
        assert_eq!(alarm.new_state, "7");
        assert_eq!(alarm.reason, "");
        assert_eq!(alarm.description, None);
        assert_eq!(alarm.changed_at.as_deref(), Some(r#"["x"]"#));
        assert_eq!(
            (
                alarm.partition.as_deref(),
                alarm.region.as_deref(),
                alarm.account.as_deref()
            ),
            (Some("aws-cn"), Some("cn-north-1"), Some("1"))
        );
        let Trigger::Threshold(rule) = &alarm.trigger else {
            panic!("{:?}", alarm.trigger)
        };
        assert_eq!(rule.threshold.as_deref(), Some("80"));
        assert_eq!(
            (
                rule.period,
                rule.evaluation_periods,
                rule.datapoints_to_alarm
            ),
            (Some(300), Some(2), None)
        );
        assert_eq!(
            rule.metrics[0].dimensions,
            [("InstanceId".into(), "i-1".into())]
        );
    }

    #[test]
    fn composite_children_as_strings_or_objects() {
        let m = json!({"AlarmName": "c", "AlarmRule": "ALARM(a) OR ALARM(b)", "TriggeringChildren": [
            "arn:aws:cloudwatch:us-east-1:1:alarm:a",
            {"Arn": "arn:aws:cloudwatch:us-east-1:1:alarm:b", "State": {"Value": "ALARM"}},
            {"State": {}}, 7
        ]});
        let alarm = from_json(&m, None).expect("alarm");
        assert_eq!(alarm.region, None);
        assert_eq!(
            alarm.trigger,
            Trigger::Composite {
                rule: Some("ALARM(a) OR ALARM(b)".into()),
                children: vec![
                    Child {
                        arn: "arn:aws:cloudwatch:us-east-1:1:alarm:a".into(),
                        state: None
                    },
                    Child {
                        arn: "arn:aws:cloudwatch:us-east-1:1:alarm:b".into(),
                        state: Some("ALARM".into())
                    },
                ]
            }
        );
    }

    #[test]
    fn direct_invocation_and_eventbridge_share_a_reader() {
        let data = json!({"alarmName": "d", "state": {"value": "ALARM", "reason": "r",
            "reasonData": "{\"threshold\":50.0,\"period\":300}", "timestamp": "t1"},
            "previousState": {"value": "OK"}, "configuration": {"description": "desc",
            "metrics": [{"id": "x", "metricStat": {"metric": {"namespace": "AWS/EC2",
            "name": "CPUUtilization", "dimensions": {"InstanceId": "i-1"}}, "period": 300,
            "stat": "Average"}, "returnData": true}]}});
        let direct = json!({"source": "aws.cloudwatch", "accountId": "1", "region": "us-east-1",
            "alarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:d", "alarmData": data.clone()});
        let bridge = json!({"detail-type": "CloudWatch Alarm State Change", "account": "1",
            "region": "us-east-1", "resources": ["arn:aws:cloudwatch:us-east-1:1:alarm:d"],
            "detail": data});
        let a = from_json(&direct, None).expect("direct");
        let b = from_json(&bridge, None).expect("eventbridge");
        assert_eq!(a, b);
        assert_eq!(
            (
                a.name.as_str(),
                a.new_state.as_str(),
                a.old_state.as_deref()
            ),
            ("d", "ALARM", Some("OK"))
        );
        assert_eq!(a.changed_at.as_deref(), Some("t1"));
        let Trigger::Threshold(rule) = &a.trigger else {
            panic!("{:?}", a.trigger)
        };
        assert_eq!(rule.threshold.as_deref(), Some("50"));
        assert_eq!(rule.metrics[0].period, Some(300));
    }

    #[test]
    fn direct_composite_children_come_from_reason_data() {
        let v = json!({"source": "aws.cloudwatch", "region": "us-gov-west-1", "alarmData": {
            "state": {"value": "ALARM", "reasonData":
                "{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:us-east-1:1:alarm:a\",\"state\":{\"value\":\"ALARM\"}}]}"},
            "configuration": {"alarmRule": "ALARM(a)"}}});
        let alarm = from_json(&v, None).expect("alarm");
        assert_eq!(alarm.name, "unnamed alarm");
        assert_eq!(alarm.partition.as_deref(), Some("aws-us-gov"));
        let Trigger::Composite { children, .. } = &alarm.trigger else {
            panic!("{:?}", alarm.trigger)
        };
        assert_eq!(children[0].state.as_deref(), Some("ALARM"));
    }

    #[test]
    fn other_documents_are_not_alarms() {
        for v in [
            json!({"detail-type": "Scheduled Event", "detail": {}}),
            json!({"detail-type": "CloudWatch Alarm State Change", "detail": 5}),
            json!({"alarmData": "x"}),
            json!({"AlarmName": 5}),
            json!({"budget": "over"}),
            json!([1]),
            json!("AlarmName"),
        ] {
            assert_eq!(from_json(&v, None), None, "{v}");
        }
    }
}
