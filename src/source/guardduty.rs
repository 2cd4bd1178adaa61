//! A GuardDuty finding (`detail-type` `GuardDuty Finding` from `aws.guardduty`): how bad by
//! AWS's severity bands, what kind, which resource, how often seen. The finding's id is the
//! key (a later event of the same finding carries a higher count), its page in the GuardDuty
//! console the link.

use super::{fields, finding_line, push_times, require, text, Notice, Severity, Status};
use crate::region;
use serde_json::Value;

/// Where each resource type's details keep the resource's name or id.
const RESOURCE_IDS: [(&str, &str); 6] = [
    ("instanceDetails", "instanceId"),
    ("accessKeyDetails", "accessKeyId"),
    ("eksClusterDetails", "name"),
    ("ecsClusterDetails", "name"),
    ("lambdaDetails", "functionName"),
    ("rdsDbInstanceDetails", "dbInstanceIdentifier"),
];

/// The card's fields, where the finding keeps them.
const FIELDS: [(&str, &str); 6] = [
    ("Finding type", "/type"),
    ("Score", "/severity"),
    ("Resource type", "/resource/resourceType"),
    ("Count", "/service/count"),
    ("User", "/resource/accessKeyDetails/userName"),
    ("Action", "/service/action/actionType"),
];

/// Fills in `notice`, whose envelope is read already, from the finding in `detail`.
#[inline(never)] // See `eventbridge::parse`: smaller out of line.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "GuardDuty finding".to_string();
        notice.missing.push("detail");
        return;
    };
    // The finding's own account and region: an administrator account receives its members'
    // findings, and the envelope names the administrator's.
    if let Some(account) = text(d.get("accountId")) {
        notice.account = Some(account);
    }
    if let Some(r) = text(d.get("region")) {
        notice.region = Some(r);
    }
    if let Some(p) = text(d.get("partition")).filter(|p| region::is_code(p)) {
        notice.partition = Some(p);
    }
    let kind = text(d.get("type"));
    let title = text(d.get("title")).or_else(|| kind.clone());
    notice.description = text(d.get("description"));
    notice.key = text(d.get("id"));
    match number(d.get("severity")) {
        Some(score) => notice.severity = band(score),
        None => notice.missing.push("detail.severity"),
    }
    let service = d.get("service");
    let count = service.and_then(|s| s.get("count")).and_then(Value::as_u64);
    let archived = service.and_then(|s| s.get("archived")) == Some(&Value::Bool(true));
    notice.status = match (archived, count) {
        (true, _) => Status::Resolved,
        (false, Some(n)) if n > 1 => Status::Updated,
        _ => Status::Open,
    };
    let mut summary = finding_line(notice.severity, "GuardDuty", title.as_deref());
    // A later event of the finding: its reply in the thread says what changed.
    if let Some(n) = count.filter(|n| *n > 1) {
        summary.push_str(&format!(" (seen {n} times)"));
    }
    notice.summary = Some(summary);
    notice.title = title.unwrap_or_else(|| "GuardDuty finding".to_string());

    let resource = d.get("resource");
    let mut ids = resource_ids(resource);
    ids.append(&mut notice.resources);
    notice.resources = ids;
    notice.fields = fields(d, &FIELDS);
    push_times(
        notice,
        d,
        &[
            ("First seen", "/service/eventFirstSeen"),
            ("Last seen", "/service/eventLastSeen"),
        ],
    );
    notice.link = link(notice);
    let parts = [
        ("detail.id", notice.key.is_some()),
        ("detail.type", kind.is_some()),
        ("detail.resource", resource.is_some_and(Value::is_object)),
    ];
    require(notice, parts);
}

/// AWS's bands for the 1.0 to 10.0 score: Critical from 9.0, High from 7.0, Medium from 4.0,
/// Low below (0 and what is below 1.0 are reserved; they read as Low, never as nothing).
fn band(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// A JSON number; a string that holds one is not read (core's float parser would cost more
/// binary than the odd hand-written event is worth).
fn number(v: Option<&Value>) -> Option<f64> {
    v?.as_f64()
}

/// The resource's id or name (an instance, an access key, a cluster, a function, a database)
/// and every S3 bucket's name.
fn resource_ids(resource: Option<&Value>) -> Vec<String> {
    let Some(r) = resource else {
        return Vec::new();
    };
    let mut ids: Vec<String> = RESOURCE_IDS
        .iter()
        .filter_map(|(details, id)| text(r.get(details)?.get(id)))
        .collect();
    if let Some(Value::Array(buckets)) = r.get("s3BucketDetails") {
        ids.extend(buckets.iter().filter_map(|b| text(b.get("name"))));
    }
    ids
}

/// The finding's page in the GuardDuty console of its partition and region. Finding ids are
/// letters and digits; anything else gets no link rather than one that needs escaping.
fn link(notice: &Notice) -> Option<String> {
    let host = region::console_host(notice.partition.as_deref()?)?;
    let r = notice.region.as_deref().filter(|r| region::is_code(r))?;
    let id = notice
        .key
        .as_deref()
        .filter(|id| id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric()))?;
    Some(format!(
        "https://{r}.{host}/guardduty/home?region={r}#/findings?macros=current&fId={id}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_detail(detail: Value) -> Notice {
        let event = json!({"detail-type": "GuardDuty Finding", "source": "aws.guardduty",
            "account": "999999999999", "region": "us-east-1", "time": "2026-11-28T09:15:00Z",
            "resources": [], "detail": detail});
        crate::source::parse(&event, &event.to_string()).expect("a notice")
    }

    fn finding() -> Value {
        json!({
            "schemaVersion": "2.0", "accountId": "123456789012", "region": "eu-west-1",
            "partition": "aws", "id": "4ec6b1a0f8d7e2c3b5a49d8e7f6a5b4c", "type": "Backdoor:EC2/C&CActivity.B!DNS",
            "severity": 8, "title": "C&C domain queried by i-1", "description": "i-1 queried a C&C domain.",
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-1"}},
            "service": {"count": 3, "archived": false, "action": {"actionType": "DNS_REQUEST"},
                        "eventFirstSeen": "2026-11-28T08:00:00.000Z", "eventLastSeen": "2026-11-28T09:14:00.000Z"}
        })
    }

    #[test]
    fn a_finding_says_what_how_bad_where_and_how_often() {
        let notice = read_detail(finding());
        assert_eq!(notice.title, "C&C domain queried by i-1");
        assert_eq!(
            notice.summary.as_deref(),
            Some("High GuardDuty finding: C&C domain queried by i-1 (seen 3 times)")
        );
        assert_eq!(
            notice.description.as_deref(),
            Some("i-1 queried a C&C domain.")
        );
        assert_eq!(notice.severity, Severity::High);
        assert_eq!(notice.status, Status::Updated);
        assert_eq!(
            notice.key.as_deref(),
            Some("4ec6b1a0f8d7e2c3b5a49d8e7f6a5b4c")
        );
        // The member account and region of the finding, not the administrator's envelope.
        assert_eq!(notice.account.as_deref(), Some("123456789012"));
        assert_eq!(notice.region.as_deref(), Some("eu-west-1"));
        assert_eq!(notice.resources, ["i-1"]);
        let fields = notice.field_pairs();
        assert_eq!(
            fields,
            [
                ("Finding type", "Backdoor:EC2/C&CActivity.B!DNS"),
                ("Score", "8"),
                ("Resource type", "Instance"),
                ("Count", "3"),
                ("Action", "DNS_REQUEST"),
            ]
        );
        assert_eq!(notice.times.len(), 2);
        assert_eq!(notice.times[0].name, "First seen");
        assert_eq!(
            notice.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?macros=current&fId=4ec6b1a0f8d7e2c3b5a49d8e7f6a5b4c")
        );
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
        assert!(notice.raw.is_none());
    }

    #[test]
    fn severity_follows_aws_bands() {
        for (score, expected) in [
            (json!(10.0), Severity::Critical),
            (json!(9), Severity::Critical),
            (json!(8.9), Severity::High),
            (json!(7.0), Severity::High),
            (json!(6.9), Severity::Medium),
            (json!(4), Severity::Medium),
            (json!(3.9), Severity::Low),
            (json!(1.0), Severity::Low),
            (json!(0), Severity::Low),
        ] {
            let mut f = finding();
            f["severity"] = score.clone();
            assert_eq!(read_detail(f).severity, expected, "{score}");
        }
    }

    #[test]
    fn other_resources_and_an_archived_finding() {
        let mut f = finding();
        f["resource"] = json!({"resourceType": "AccessKey",
            "accessKeyDetails": {"accessKeyId": "ASIAEXAMPLE", "userName": "deploy"}});
        f["service"] = json!({"count": 1, "archived": true});
        f["partition"] = json!("aws-us-gov");
        f["region"] = json!("us-gov-west-1");
        let notice = read_detail(f);
        assert_eq!(notice.resources, ["ASIAEXAMPLE"]);
        assert!(notice
            .fields
            .iter()
            .any(|x| x.name == "User" && x.value == "deploy"));
        assert_eq!(notice.status, Status::Resolved);
        assert!(notice
            .link
            .as_deref()
            .is_some_and(|l| l.starts_with("https://us-gov-west-1.console.amazonaws-us-gov.com/")));
        let mut s3 = finding();
        s3["resource"] = json!({"resourceType": "S3Bucket",
            "s3BucketDetails": [{"name": "logs"}, {"name": 7}, {"name": "data"}]});
        assert_eq!(read_detail(s3).resources, ["logs", "data"]);
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let notice = read_detail(json!({"severity": "8", "id": "a/b", "count": "x",
            "resource": [], "service": 7, "title": null}));
        assert_eq!(notice.title, "GuardDuty finding");
        assert_eq!(notice.severity, Severity::Info);
        assert_eq!(notice.status, Status::Open);
        assert_eq!(notice.link, None, "an id that is not letters and digits");
        assert_eq!(
            notice.missing,
            ["detail.severity", "detail.type", "detail.resource"]
        );
        assert_eq!(notice.summary.as_deref(), Some("GuardDuty finding"));
        let none = read_detail(json!("x"));
        assert_eq!(none.missing, ["detail"]);
        assert_eq!(none.title, "GuardDuty finding");
    }
}
