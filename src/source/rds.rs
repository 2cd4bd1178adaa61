//! Amazon RDS events (`RDS DB Instance Event`, `RDS DB Cluster Event`, `RDS DB Snapshot
//! Event`, `RDS DB Cluster Snapshot Event` from `aws.rds`): which database, what kind of event
//! by RDS's categories, its RDS-EVENT id and RDS's own message. The source's ARN is the key;
//! a failover that started opens and the one that completed resolves. Events RDS files
//! under no graded category (backups, configuration changes, notifications) are routine.

use super::{
    console_page, fields, last_part, line, require, text, texts, Notice, Severity, Status,
};
use serde_json::Value;

/// RDS grades nothing; how bad each of its categories is, worst first (an event in several
/// takes the worst). Categories not listed (backup, configuration change, creation,
/// deletion, notification, restoration, …) are news, not trouble.
const GRADES: [(&str, Severity); 8] = [
    ("failure", Severity::High),
    ("failover", Severity::High),
    ("low storage", Severity::High),
    ("availability", Severity::Medium),
    ("recovery", Severity::Medium),
    ("read replica", Severity::Medium),
    ("maintenance", Severity::Low),
    ("security patching", Severity::Low),
];

/// The failover events that begin one (started, or failed and still to be dealt with) and
/// those that end it, for instances (Multi-AZ) and clusters alike.
const OPENS: [&str; 4] = [
    "RDS-EVENT-0013",
    "RDS-EVENT-0069",
    "RDS-EVENT-0072",
    "RDS-EVENT-0073",
];
const RESOLVES: [&str; 3] = ["RDS-EVENT-0015", "RDS-EVENT-0049", "RDS-EVENT-0071"];

/// Fills in `notice`, whose envelope is read already, from the event in `detail`.
#[inline(never)] // One copy beside the dispatch, not inlined into it: a smaller binary.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "RDS event".to_string();
        notice.missing.push("detail");
        return;
    };
    let categories = texts(d.get("EventCategories"));
    let event_id = text(d.get("EventID"));
    let arn = text(d.get("SourceArn"));
    let identifier = text(d.get("SourceIdentifier"));
    notice.severity = GRADES
        .iter()
        .find(|(c, _)| categories.iter().any(|x| x == c))
        .map_or(Severity::Info, |(_, s)| *s);
    notice.status = match event_id.as_deref() {
        Some(id) if OPENS.contains(&id) => Status::Open,
        Some(id) if RESOLVES.contains(&id) => Status::Resolved,
        _ => Status::Info,
    };
    notice.routine = notice.severity == Severity::Info && notice.status == Status::Info;
    // The ARN's last part is the bare identifier; `SourceIdentifier` has been seen prefixed.
    let name = arn
        .as_deref()
        .map(last_part)
        .map(str::to_string)
        .or_else(|| identifier.clone());
    let what = if categories.is_empty() {
        "event".to_string()
    } else {
        categories.join(", ")
    };
    notice.title = match &name {
        Some(name) => format!("RDS {what} on {name}"),
        None => format!("RDS {what}"),
    };
    notice.summary = Some(line(notice, event_id.as_deref()));
    notice.description = text(d.get("Message"));
    notice.fields = fields(
        d,
        &[
            ("Event ID", "/EventID"),
            ("Source type", "/SourceType"),
            ("Identifier", "/SourceIdentifier"),
        ],
    );
    if let Some(arn) = &arn {
        if !notice.resources.contains(arn) {
            notice.resources.insert(0, arn.clone());
        }
    }
    let cluster = match notice.kind.as_deref() {
        Some("RDS DB Instance Event") => Some("false"),
        Some("RDS DB Cluster Event") => Some("true"),
        _ => None,
    };
    if let (Some(cluster), Some(name)) = (cluster, &name) {
        notice.link = console_page(notice, "rds", "database:id=", name)
            .map(|l| format!("{l};is-cluster={cluster}"));
    }
    notice.key = arn.or(identifier);
    require(
        notice,
        [
            ("detail.EventID", event_id.is_some()),
            (
                "detail.EventCategories",
                d.get("EventCategories").is_some_and(Value::is_array),
            ),
            ("detail.SourceIdentifier", notice.key.is_some()),
            ("detail.Message", notice.description.is_some()),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_event(kind: &str, detail: Value) -> Notice {
        let time = "2026-11-28T03:12:40Z";
        let resources = json!(["arn:aws:rds:eu-west-1:123456789012:db:orders-db"]);
        crate::source::read_test_event("aws.rds", kind, time, resources, detail)
    }

    fn event(categories: Value, id: &str) -> Value {
        json!({"EventCategories": categories, "SourceType": "DB_INSTANCE",
            "SourceArn": "arn:aws:rds:eu-west-1:123456789012:db:orders-db",
            "Date": "2026-11-28T03:12:38.000Z",
            "Message": "Multi-AZ instance failover started.",
            "SourceIdentifier": "orders-db", "EventID": id})
    }

    #[test]
    fn a_failover_says_where_what_and_opens() {
        let n = read_event(
            "RDS DB Instance Event",
            event(json!(["failover"]), "RDS-EVENT-0013"),
        );
        assert_eq!(n.title, "RDS failover on orders-db");
        assert_eq!(
            n.summary.as_deref(),
            Some("RDS failover on orders-db in eu-west-1 (RDS-EVENT-0013)")
        );
        assert_eq!(
            n.description.as_deref(),
            Some("Multi-AZ instance failover started.")
        );
        assert_eq!(
            (n.severity, n.status, n.routine),
            (Severity::High, Status::Open, false)
        );
        assert_eq!(
            n.key.as_deref(),
            Some("arn:aws:rds:eu-west-1:123456789012:db:orders-db")
        );
        assert_eq!(n.resources.len(), 1, "the envelope's ARN is not repeated");
        assert_eq!(n.fields.len(), 3);
        assert_eq!(
            n.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/rds/home?region=eu-west-1#database:id=orders-db;is-cluster=false")
        );
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn categories_grade_and_event_ids_set_the_lifecycle() {
        for (categories, id, expected) in [
            (
                json!(["failover"]),
                "RDS-EVENT-0049",
                (Severity::High, Status::Resolved, false),
            ),
            (
                json!(["low storage"]),
                "RDS-EVENT-0007",
                (Severity::High, Status::Info, false),
            ),
            (
                json!(["notification", "availability"]),
                "RDS-EVENT-0006",
                (Severity::Medium, Status::Info, false),
            ),
            (
                json!(["maintenance"]),
                "RDS-EVENT-0026",
                (Severity::Low, Status::Info, false),
            ),
            (
                json!(["backup"]),
                "RDS-EVENT-0001",
                (Severity::Info, Status::Info, true),
            ),
            (
                json!(["notification"]),
                "RDS-EVENT-0088",
                (Severity::Info, Status::Info, true),
            ),
        ] {
            let n = read_event("RDS DB Instance Event", event(categories.clone(), id));
            assert_eq!(
                (n.severity, n.status, n.routine),
                expected,
                "{categories} {id}"
            );
        }
    }

    #[test]
    fn clusters_link_as_clusters_and_snapshots_not_at_all() {
        let mut e = event(json!(["failover"]), "RDS-EVENT-0071");
        e["SourceArn"] = json!("arn:aws:rds:eu-west-1:123456789012:cluster:orders");
        let n = read_event("RDS DB Cluster Event", e.clone());
        assert_eq!(n.status, Status::Resolved);
        assert!(n
            .link
            .is_some_and(|l| l.ends_with("#database:id=orders;is-cluster=true")));
        assert_eq!(read_event("RDS DB Snapshot Event", e).link, None);
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let n = read_event(
            "RDS DB Instance Event",
            json!({"EventCategories": "failover", "SourceIdentifier": "rds:orders-db"}),
        );
        assert_eq!(n.title, "RDS event on rds:orders-db");
        assert_eq!(n.key.as_deref(), Some("rds:orders-db"));
        assert_eq!(n.link, None);
        assert!(n.routine);
        assert_eq!(
            n.missing,
            ["detail.EventID", "detail.EventCategories", "detail.Message"]
        );
        let none = read_event("RDS DB Cluster Event", json!(null));
        assert_eq!(
            (none.title.as_str(), none.missing.as_slice()),
            ("RDS event", &["detail"][..])
        );
    }
}
