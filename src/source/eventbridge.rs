//! Any EventBridge event: the envelope every source shares (`detail-type`, `source`, account,
//! region, time, resources), then the source's own parser (GuardDuty, Health, Security Hub,
//! Inspector, CodePipeline, CodeBuild, ECS tasks, Backup, RDS, Auto Scaling) or, for a source
//! with none, the first scalar fields of `detail` with the whole event kept for the card's full
//! view. `detail-type` and `source` as strings are what make a document an event; everything
//! else may be missing.

use super::{
    autoscaling, backup, codebuild, codepipeline, ecs, guardduty, health, inspector, partition_of,
    rds, scalar, securityhub, text, texts, Field, Notice, MAX_FIELDS,
};
use crate::region;
use serde_json::Value;

/// The event in `v`, if it is one. `raw` is its text as it came.
pub fn parse(v: &Value, raw: &str) -> Option<Notice> {
    let kind = text(v.get("detail-type"))?;
    let source = text(v.get("source"))?;
    let mut notice = envelope(v, kind, source);
    // A source with a parser of its own; the pair is what AWS documents for it. The readers
    // are `#[inline(never)]`: inlined into this one caller, they made the x86_64 binary
    // larger (about 500 bytes, measured with four of them).
    match (notice.source.as_str(), notice.title.as_str()) {
        ("aws.guardduty", "GuardDuty Finding") => guardduty::read(v.get("detail"), &mut notice),
        ("aws.health", "AWS Health Event" | "AWS Health Abuse Event") => {
            health::read(v.get("detail"), &mut notice)
        }
        (
            "aws.securityhub",
            "Security Hub Findings - Imported" | "Security Hub Findings - Custom Action",
        ) => securityhub::read(v.get("detail"), &mut notice),
        ("aws.inspector2", "Inspector2 Finding") => inspector::read(v.get("detail"), &mut notice),
        (
            "aws.codepipeline",
            "CodePipeline Pipeline Execution State Change"
            | "CodePipeline Stage Execution State Change"
            | "CodePipeline Action Execution State Change",
        ) => codepipeline::read(v.get("detail"), &mut notice),
        ("aws.codebuild", "CodeBuild Build State Change") => {
            codebuild::read(v.get("detail"), &mut notice)
        }
        ("aws.ecs", "ECS Task State Change") => ecs::read(v.get("detail"), &mut notice),
        ("aws.backup", k) if backup::JOBS.iter().any(|j| j.0 == k) => {
            backup::read(v.get("detail"), &mut notice)
        }
        (
            "aws.rds",
            "RDS DB Instance Event"
            | "RDS DB Cluster Event"
            | "RDS DB Snapshot Event"
            | "RDS DB Cluster Snapshot Event",
        ) => rds::read(v.get("detail"), &mut notice),
        ("aws.autoscaling", k) if autoscaling::KINDS.iter().any(|x| x.0 == k) => {
            autoscaling::read(v.get("detail"), &mut notice)
        }
        _ => generic(v, &mut notice, raw),
    }
    Some(notice)
}

/// What every event carries, whatever its source.
fn envelope(v: &Value, kind: String, source: String) -> Notice {
    let resources = texts(v.get("resources"));
    let region = text(v.get("region"));
    // The resources' ARNs name the partition; a region code implies it.
    let partition = resources
        .iter()
        .find_map(|r| partition_of(r))
        .or_else(|| {
            region
                .as_deref()
                .filter(|r| region::is_code(r))
                .map(region::of_region)
        })
        .map(str::to_string);
    let mut notice = Notice {
        title: kind.clone(),
        kind: Some(kind),
        source,
        account: text(v.get("account")),
        region,
        partition,
        time: text(v.get("time")),
        id: text(v.get("id")),
        resources,
        ..Notice::default()
    };
    for (name, present) in [
        ("account", notice.account.is_some()),
        ("region", notice.region.is_some()),
        ("time", notice.time.is_some()),
    ] {
        if !present {
            notice.missing.push(name);
        }
    }
    notice
}

/// A source we know nothing more about: its own fields, and the event in full.
fn generic(v: &Value, notice: &mut Notice, raw: &str) {
    match v.get("detail") {
        // Keys in the order serde_json keeps them (sorted): the same event, the same card.
        Some(Value::Object(detail)) => {
            notice.fields = detail
                .iter()
                .filter_map(|(name, value)| {
                    Some(Field {
                        name: name.clone(),
                        value: scalar(value)?,
                    })
                })
                .take(MAX_FIELDS)
                .collect();
        }
        _ => notice.missing.push("detail"),
    }
    notice.raw = Some(raw.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Severity, Status};
    use serde_json::json;

    fn read(v: &Value) -> Option<Notice> {
        parse(v, &v.to_string())
    }

    #[test]
    fn an_event_of_any_source_is_a_notice() {
        let event = json!({
            "version": "0", "id": "e1", "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2", "account": "123456789012", "time": "2026-11-28T11:40:02Z",
            "region": "us-gov-west-1",
            "resources": ["arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-1", 7],
            "detail": {"state": "stopped", "instance-id": "i-1", "nested": {"a": 1},
                       "list": [1], "none": null, "count": 3, "spot": false}
        });
        let notice = read(&event).expect("an event");
        assert_eq!(notice.title, "EC2 Instance State-change Notification");
        assert_eq!(
            notice.kind.as_deref(),
            Some("EC2 Instance State-change Notification")
        );
        assert_eq!(notice.source, "aws.ec2");
        assert_eq!(notice.summary, None);
        assert_eq!(notice.account.as_deref(), Some("123456789012"));
        assert_eq!(notice.region.as_deref(), Some("us-gov-west-1"));
        assert_eq!(notice.partition.as_deref(), Some("aws-us-gov"));
        assert_eq!(notice.time.as_deref(), Some("2026-11-28T11:40:02Z"));
        assert_eq!(
            notice.resources,
            ["arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-1"]
        );
        let fields = notice.field_pairs();
        assert_eq!(
            fields,
            [
                ("count", "3"),
                ("instance-id", "i-1"),
                ("spot", "false"),
                ("state", "stopped")
            ]
        );
        assert_eq!(
            (notice.severity, notice.status),
            (Severity::Info, Status::Info)
        );
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
        assert_eq!(notice.raw, Some(event.to_string()));
    }

    #[test]
    fn at_most_six_fields() {
        let detail: serde_json::Map<String, Value> =
            (0..20).map(|i| (format!("k{i:02}"), json!(i))).collect();
        let event = json!({"detail-type": "t", "source": "s", "detail": detail});
        let notice = read(&event).expect("an event");
        assert_eq!(notice.fields.len(), MAX_FIELDS);
        assert_eq!(notice.fields[5].name, "k05");
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let event = json!({"detail-type": "Scheduled Event", "source": "aws.events",
            "account": 12, "region": ["x"], "resources": "arn:aws:x", "detail": "none"});
        let notice = read(&event).expect("still an event");
        assert_eq!(notice.missing, ["account", "region", "time", "detail"]);
        assert!(notice.resources.is_empty() && notice.fields.is_empty());
        assert_eq!(notice.partition, None);
        // A region that is not a code names no partition.
        let odd = json!({"detail-type": "t", "source": "s", "region": "US East", "detail": {}});
        assert_eq!(read(&odd).expect("an event").partition, None);
        let cn = json!({"detail-type": "t", "source": "s", "region": "cn-north-1", "detail": {}});
        assert_eq!(
            read(&cn).expect("an event").partition.as_deref(),
            Some("aws-cn")
        );
    }

    #[test]
    fn without_detail_type_and_source_as_strings_it_is_not_an_event() {
        for event in [
            json!({"detail-type": "t", "detail": {}}),
            json!({"source": "s", "detail": {}}),
            json!({"detail-type": 1, "source": "s"}),
            json!({"detail-type": "t", "source": " "}),
            json!([1]),
            json!("text"),
        ] {
            assert_eq!(read(&event), None, "{event}");
        }
    }
}
