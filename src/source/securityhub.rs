//! A Security Hub finding (`Security Hub Findings - Imported` from `aws.securityhub`, or
//! `Security Hub Findings - Custom Action` when someone sends findings from the console): the
//! first finding of `detail.findings`, in the AWS Security Finding Format, and how many others
//! came with it. Its `Id` is the key; Security Hub documents no console address for one
//! finding, so there is no link.

use super::{
    fields, finding_line, graded, listed, partition_of, push_times, require, text, Field, Notice,
    Severity, Status, MAX_FIELDS,
};
use serde_json::Value;

/// The card's fields after the product, where the finding keeps them. The card takes six, so
/// the generator shows only where one of the others is absent.
const FIELDS: [(&str, &str); 6] = [
    ("Resource type", "/Resources/0/Type"),
    ("Compliance", "/Compliance/Status"),
    ("Workflow", "/Workflow/Status"),
    ("Record state", "/RecordState"),
    ("Finding type", "/Types/0"),
    ("Generator", "/GeneratorId"),
];

/// Fills in `notice`, whose envelope is read already, from the findings in `detail`.
#[inline(never)] // See `eventbridge::parse`: smaller out of line.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let findings = detail
        .and_then(|d| d.get("findings"))
        .and_then(Value::as_array);
    let Some(f) = findings
        .and_then(|list| list.first())
        .filter(|f| f.is_object())
    else {
        notice.title = "Security Hub finding".to_string();
        notice.missing.push("detail.findings");
        return;
    };
    let more = findings.map_or(0, |list| list.len() - 1);
    // The finding's own account and region: an administrator account, or the region that
    // aggregates the others, receives its members' findings under its own envelope.
    if let Some(account) = text(f.get("AwsAccountId")) {
        notice.account = Some(account);
    }
    if let Some(r) = text(f.get("Region")) {
        notice.region = Some(r);
    }
    let product_arn = text(f.get("ProductArn"));
    if let Some(p) = product_arn.as_deref().and_then(partition_of) {
        notice.partition = Some(p.to_string());
    }
    // `Label` is the one to read; `Normalized` is deprecated, but a finding may carry only it.
    let grade = graded(f.pointer("/Severity/Label")).or_else(|| {
        Some(match f.pointer("/Severity/Normalized")?.as_u64()? {
            0 => Severity::Info,
            1..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            70..=89 => Severity::High,
            _ => Severity::Critical,
        })
    });
    match grade {
        Some(grade) => {
            notice.severity = grade;
            // AWS's word for it: no issue was found (a control check that passed).
            notice.routine = grade == Severity::Info;
        }
        None => notice.missing.push("detail.findings[0].Severity"),
    }
    let word = |at| f.pointer(at).and_then(Value::as_str);
    notice.status = match (word("/Workflow/Status"), word("/RecordState")) {
        (Some("RESOLVED" | "SUPPRESSED"), _) | (_, Some("ARCHIVED")) => Status::Resolved,
        (Some("NOTIFIED"), _) => Status::Updated,
        // A new record has `UpdatedAt` equal to `CreatedAt`; a later one, a later time.
        _ => match (word("/CreatedAt"), word("/UpdatedAt")) {
            (Some(created), Some(updated)) if created != updated => Status::Updated,
            _ => Status::Open,
        },
    };
    let title = text(f.get("Title"));
    let titled = title.is_some();
    let title = title.or_else(|| text(f.pointer("/Types/0")));
    notice.description = text(f.get("Description"));
    notice.key = text(f.get("Id"));
    let mut line = finding_line(notice.severity, "Security Hub", title.as_deref());
    if more > 0 {
        line.push_str(&format!(" (and {more} more)"));
    }
    notice.summary = Some(line);
    notice.title = title.unwrap_or_else(|| "Security Hub finding".to_string());

    // The envelope's resources name the finding or the custom action, not what it is about.
    notice.resources = listed(f.get("Resources"), "Id");
    // `ProductName` is filled in by Security Hub; the ARN ends in the product's id.
    let product =
        text(f.get("ProductName")).or_else(|| Some(product_arn?.rsplit('/').next()?.to_string()));
    let product = product.map(|value| Field {
        name: "Product".to_string(),
        value,
    });
    notice.fields = product.into_iter().chain(fields(f, &FIELDS)).collect();
    notice.fields.truncate(MAX_FIELDS);
    push_times(
        notice,
        f,
        &[
            ("First seen", "/FirstObservedAt"),
            ("Last seen", "/LastObservedAt"),
        ],
    );
    notice.next_steps = [
        "/Remediation/Recommendation/Text",
        "/Remediation/Recommendation/Url",
    ]
    .iter()
    .filter_map(|at| text(f.pointer(at)))
    .collect();
    let parts = [
        ("detail.findings[0].Id", notice.key.is_some()),
        ("detail.findings[0].Title", titled),
        (
            "detail.findings[0].Resources",
            f.pointer("/Resources/0").is_some_and(Value::is_object),
        ),
    ];
    require(notice, parts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_findings(kind: &str, findings: Value) -> Notice {
        let event = json!({"detail-type": kind, "source": "aws.securityhub",
            "account": "999999999999", "region": "us-east-1", "time": "2026-11-28T09:15:00Z",
            "resources": ["arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/f1"],
            "detail": {"findings": findings}});
        crate::source::parse(&event, &event.to_string()).expect("a notice")
    }

    fn imported(finding: Value) -> Notice {
        read_findings("Security Hub Findings - Imported", json!([finding]))
    }

    fn finding() -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": "arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/f1",
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "ProductName": "Security Hub", "GeneratorId": "security-control/S3.8",
            "AwsAccountId": "123456789012", "Region": "eu-west-1",
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "CreatedAt": "2026-11-28T08:00:00.000Z", "UpdatedAt": "2026-11-28T08:00:00.000Z",
            "FirstObservedAt": "2026-11-28T08:00:00.000Z", "LastObservedAt": "2026-11-28T09:00:00.000Z",
            "Severity": {"Label": "HIGH", "Normalized": 70},
            "Title": "Buckets should block public access", "Description": "Public access is on.",
            "Remediation": {"Recommendation": {"Text": "Turn it off.", "Url": "https://docs.example/s3.8"}},
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::exports", "Partition": "aws"}],
            "Compliance": {"Status": "FAILED"}, "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE"
        })
    }

    #[test]
    fn a_finding_says_what_how_bad_where_and_what_to_do() {
        let notice = imported(finding());
        assert_eq!(notice.title, "Buckets should block public access");
        assert_eq!(
            notice.summary.as_deref(),
            Some("High Security Hub finding: Buckets should block public access")
        );
        assert_eq!(notice.description.as_deref(), Some("Public access is on."));
        assert_eq!(
            (notice.severity, notice.status, notice.routine),
            (Severity::High, Status::Open, false)
        );
        assert_eq!(
            notice.key.as_deref(),
            Some("arn:aws:securityhub:eu-west-1:123456789012:security-control/S3.8/finding/f1")
        );
        assert_eq!(notice.account.as_deref(), Some("123456789012"));
        assert_eq!(notice.region.as_deref(), Some("eu-west-1"));
        assert_eq!(notice.partition.as_deref(), Some("aws"));
        assert_eq!(notice.resources, ["arn:aws:s3:::exports"]);
        assert_eq!(
            notice.field_pairs(),
            [
                ("Product", "Security Hub"),
                ("Resource type", "AwsS3Bucket"),
                ("Compliance", "FAILED"),
                ("Workflow", "NEW"),
                ("Record state", "ACTIVE"),
                (
                    "Finding type",
                    "Software and Configuration Checks/Industry and Regulatory Standards"
                ),
            ]
        );
        assert_eq!(notice.times.len(), 2);
        assert_eq!(notice.times[1].name, "Last seen");
        assert_eq!(
            notice.next_steps,
            ["Turn it off.", "https://docs.example/s3.8"]
        );
        assert_eq!(notice.link, None);
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
        assert!(notice.raw.is_none());
    }

    #[test]
    fn the_label_grades_else_the_normalized_score_by_aws_bands() {
        for (severity, expected) in [
            (
                json!({"Label": "CRITICAL", "Normalized": 1}),
                Severity::Critical,
            ),
            (json!({"Label": "LOW"}), Severity::Low),
            (json!({"Normalized": 100}), Severity::Critical),
            (json!({"Normalized": 90}), Severity::Critical),
            (json!({"Normalized": 89}), Severity::High),
            (json!({"Normalized": 70}), Severity::High),
            (json!({"Normalized": 69}), Severity::Medium),
            (json!({"Normalized": 40}), Severity::Medium),
            (json!({"Normalized": 39}), Severity::Low),
            (json!({"Normalized": 1}), Severity::Low),
            (
                json!({"Label": "SEVERE", "Normalized": 55}),
                Severity::Medium,
            ),
        ] {
            let mut f = finding();
            f["Severity"] = severity.clone();
            let notice = imported(f);
            assert_eq!(notice.severity, expected, "{severity}");
            assert!(!notice.routine && notice.missing.is_empty(), "{severity}");
        }
    }

    #[test]
    fn an_informational_finding_is_routine() {
        for severity in [json!({"Label": "INFORMATIONAL"}), json!({"Normalized": 0})] {
            let mut f = finding();
            f["Severity"] = severity;
            f["Compliance"] = json!({"Status": "PASSED"});
            f["Workflow"] = json!({"Status": "RESOLVED"});
            let notice = imported(f);
            assert_eq!(
                (notice.severity, notice.status, notice.routine),
                (Severity::Info, Status::Resolved, true)
            );
            assert_eq!(
                notice.summary.as_deref(),
                Some("Security Hub finding: Buckets should block public access")
            );
        }
    }

    #[test]
    fn workflow_and_record_state_set_the_lifecycle() {
        for (workflow, record, updated, expected) in [
            ("NEW", "ACTIVE", "2026-11-28T08:00:00.000Z", Status::Open),
            ("NEW", "ACTIVE", "2026-11-29T08:00:00.000Z", Status::Updated),
            (
                "NOTIFIED",
                "ACTIVE",
                "2026-11-28T08:00:00.000Z",
                Status::Updated,
            ),
            (
                "RESOLVED",
                "ACTIVE",
                "2026-11-28T08:00:00.000Z",
                Status::Resolved,
            ),
            (
                "SUPPRESSED",
                "ACTIVE",
                "2026-11-29T08:00:00.000Z",
                Status::Resolved,
            ),
            (
                "NEW",
                "ARCHIVED",
                "2026-11-28T08:00:00.000Z",
                Status::Resolved,
            ),
        ] {
            let mut f = finding();
            f["Workflow"] = json!({ "Status": workflow });
            f["RecordState"] = json!(record);
            f["UpdatedAt"] = json!(updated);
            assert_eq!(
                imported(f).status,
                expected,
                "{workflow} {record} {updated}"
            );
        }
        let mut f = finding();
        f["CreatedAt"] = json!(null);
        f["UpdatedAt"] = json!("2026-11-29T08:00:00.000Z");
        assert_eq!(
            imported(f).status,
            Status::Open,
            "no creation time to compare"
        );
    }

    #[test]
    fn a_custom_action_of_several_findings_shows_the_first_and_counts_the_rest() {
        let mut other = finding();
        other["Title"] = json!("Another");
        let notice = read_findings(
            "Security Hub Findings - Custom Action",
            json!([finding(), other, 3]),
        );
        assert_eq!(notice.title, "Buckets should block public access");
        assert_eq!(
            notice.summary.as_deref(),
            Some("High Security Hub finding: Buckets should block public access (and 2 more)")
        );
    }

    #[test]
    fn fallbacks_for_the_title_product_type_and_resources() {
        let mut f = finding();
        f["Title"] = json!(7);
        f["ProductName"] = json!(null);
        f["ProductArn"] = json!("arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty");
        f["Resources"] = (0..25)
            .map(|i| json!({"Type": "AwsEc2Instance", "Id": format!("i-{i}")}))
            .collect();
        let notice = imported(f.clone());
        // A title that is not text: the first of the finding's types stands in.
        assert_eq!(
            notice.title,
            "Software and Configuration Checks/Industry and Regulatory Standards"
        );
        assert_eq!(notice.partition.as_deref(), Some("aws-us-gov"));
        assert_eq!(notice.field_pairs()[0], ("Product", "guardduty"));
        assert_eq!(notice.resources.len(), crate::source::MAX_LISTED + 1);
        assert_eq!(notice.resources[0], "i-0");
        assert_eq!(notice.resources[20], "… and 5 more");
        assert_eq!(notice.missing, ["detail.findings[0].Title"]);

        f["Types"] = json!([]);
        let notice = imported(f);
        assert_eq!(notice.title, "Security Hub finding");
        assert_eq!(notice.summary.as_deref(), Some("High Security Hub finding"));
        assert_eq!(
            notice.field_pairs().last(),
            Some(&("Generator", "security-control/S3.8"))
        );
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let notice = imported(json!({"Severity": {"Label": 3, "Normalized": "70"},
            "Resources": {"Id": "x"}, "Workflow": "NEW", "AwsAccountId": 1, "Region": null,
            "Remediation": {"Recommendation": {"Text": 5}}}));
        assert_eq!(notice.title, "Security Hub finding");
        assert_eq!((notice.severity, notice.routine), (Severity::Info, false));
        assert_eq!(notice.status, Status::Open);
        assert_eq!(
            notice.account.as_deref(),
            Some("999999999999"),
            "the envelope's"
        );
        assert_eq!(notice.region.as_deref(), Some("us-east-1"));
        assert!(
            notice.resources.is_empty(),
            "the envelope's name the finding, not a resource"
        );
        assert!(notice.fields.is_empty() && notice.next_steps.is_empty());
        assert_eq!(
            notice.missing,
            [
                "detail.findings[0].Severity",
                "detail.findings[0].Id",
                "detail.findings[0].Title",
                "detail.findings[0].Resources"
            ]
        );
        for findings in [json!([]), json!(["x"]), json!({"Id": "a"}), json!(null)] {
            let none = read_findings("Security Hub Findings - Imported", findings.clone());
            assert_eq!(none.missing, ["detail.findings"], "{findings}");
            assert_eq!(none.title, "Security Hub finding");
        }
    }
}
