//! An Amazon Inspector finding (`Inspector2 Finding` from `aws.inspector2`): a package or code
//! vulnerability, or a network path open to the internet, in an instance, a container image or
//! a function. How bad by Inspector's own label, which vulnerability, which resource, whether a
//! fix exists. The finding ARN is the key; Inspector documents no console address for one
//! finding, so there is no link.

use super::{
    fields, finding_line, graded, listed, partition_of, push_times, require, text, Notice,
    Severity, Status, MAX_FIELDS,
};
use crate::region;
use serde_json::Value;

/// The card's fields, where the finding keeps them: a package's vulnerability or a code
/// finding's weakness, whichever it has.
const FIELDS: [(&str, &str); 7] = [
    ("Finding type", "/type"),
    (
        "Vulnerability",
        "/packageVulnerabilityDetails/vulnerabilityId",
    ),
    ("Weakness", "/codeVulnerabilityDetails/cwes/0"),
    ("Score", "/inspectorScore"),
    ("Resource type", "/resources/0/type"),
    ("Fix available", "/fixAvailable"),
    ("Exploit available", "/exploitAvailable"),
];

/// Fills in `notice`, whose envelope is read already, from the finding in `detail`.
#[inline(never)] // See `eventbridge::parse`: smaller out of line.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "Inspector finding".to_string();
        notice.missing.push("detail");
        return;
    };
    // The finding's own account and the resource's region: a delegated administrator
    // receives its members' findings under its own envelope.
    if let Some(account) = text(d.get("awsAccountId")) {
        notice.account = Some(account);
    }
    if let Some(r) = text(d.pointer("/resources/0/region")) {
        notice.region = Some(r);
    }
    let arn = text(d.get("findingArn"));
    let partition = text(d.pointer("/resources/0/partition"))
        .filter(|p| region::is_code(p))
        .or_else(|| Some(partition_of(arn.as_deref()?)?.to_string()));
    if partition.is_some() {
        notice.partition = partition;
    }
    let label = d.get("severity");
    // Not graded yet by the vulnerability's vendor: neither a grade nor a missing one.
    let untriaged = label.and_then(Value::as_str) == Some("UNTRIAGED");
    match graded(label) {
        Some(grade) => {
            notice.severity = grade;
            notice.routine = grade == Severity::Info;
        }
        None if untriaged => {}
        None => notice.missing.push("detail.severity"),
    }
    notice.status = match d.get("status").and_then(Value::as_str) {
        Some("CLOSED" | "SUPPRESSED") => Status::Resolved,
        Some(_) => Status::Open,
        None => {
            notice.missing.push("detail.status");
            Status::Open
        }
    };
    let title = text(d.get("title"))
        .or_else(|| text(d.pointer(FIELDS[1].1)))
        .or_else(|| text(d.pointer(FIELDS[2].1)));
    notice.description = text(d.get("description"));
    notice.key = arn;
    let what = if untriaged {
        "Untriaged Inspector"
    } else {
        "Inspector"
    };
    notice.summary = Some(finding_line(notice.severity, what, title.as_deref()));
    notice.title = title.unwrap_or_else(|| "Inspector finding".to_string());
    let ids = listed(d.get("resources"), "id");
    if !ids.is_empty() {
        notice.resources = ids;
    }
    notice.fields = fields(d, &FIELDS);
    notice.fields.truncate(MAX_FIELDS);
    push_times(
        notice,
        d,
        &[
            ("First seen", "/firstObservedAt"),
            ("Last seen", "/lastObservedAt"),
        ],
    );
    // Inspector writes this placeholder where it has no advice of its own.
    let advice =
        text(d.pointer("/remediation/recommendation/text")).filter(|t| t != "None Provided");
    notice.next_steps.extend(advice);
    let parts = [
        ("detail.findingArn", notice.key.is_some()),
        ("detail.type", text(d.get("type")).is_some()),
        (
            "detail.resources",
            d.pointer("/resources/0").is_some_and(Value::is_object),
        ),
    ];
    require(notice, parts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_detail(detail: Value) -> Notice {
        let event = json!({"detail-type": "Inspector2 Finding", "source": "aws.inspector2",
            "account": "999999999999", "region": "us-east-1", "time": "2026-11-28T09:41:08Z",
            "resources": ["arn:aws:ecr:us-east-1:999999999999:repository/x"], "detail": detail});
        crate::source::parse(&event, &event.to_string()).expect("a notice")
    }

    fn finding() -> Value {
        json!({
            "awsAccountId": "123456789012",
            "findingArn": "arn:aws:inspector2:eu-west-1:123456789012:finding/0123456789abcdef0123456789abcdef",
            "type": "PACKAGE_VULNERABILITY", "severity": "HIGH", "status": "ACTIVE",
            "title": "CVE-2026-10452 - zlib1g", "description": "A heap overflow in inflate.",
            "inspectorScore": 7.5, "fixAvailable": "YES", "exploitAvailable": "NO",
            "firstObservedAt": "Sat Nov 28 09:41:07.518 UTC 2026",
            "lastObservedAt": "Sat Nov 28 09:41:07.518 UTC 2026",
            "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-10452"},
            "remediation": {"recommendation": {"text": "None Provided"}},
            "resources": [{"type": "AWS_ECR_CONTAINER_IMAGE", "partition": "aws", "region": "eu-west-1",
                           "id": "arn:aws:ecr:eu-west-1:123456789012:repository/checkout/sha256:ab12"}]
        })
    }

    #[test]
    fn a_finding_says_what_how_bad_which_resource_and_whether_a_fix_exists() {
        let notice = read_detail(finding());
        assert_eq!(notice.title, "CVE-2026-10452 - zlib1g");
        assert_eq!(
            notice.summary.as_deref(),
            Some("High Inspector finding: CVE-2026-10452 - zlib1g")
        );
        assert_eq!(
            notice.description.as_deref(),
            Some("A heap overflow in inflate.")
        );
        assert_eq!(
            (notice.severity, notice.status, notice.routine),
            (Severity::High, Status::Open, false)
        );
        assert_eq!(
            notice.key.as_deref(),
            Some("arn:aws:inspector2:eu-west-1:123456789012:finding/0123456789abcdef0123456789abcdef")
        );
        assert_eq!(notice.account.as_deref(), Some("123456789012"));
        assert_eq!(notice.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            notice.resources,
            ["arn:aws:ecr:eu-west-1:123456789012:repository/checkout/sha256:ab12"]
        );
        let fields = notice.field_pairs();
        assert_eq!(
            fields,
            [
                ("Finding type", "PACKAGE_VULNERABILITY"),
                ("Vulnerability", "CVE-2026-10452"),
                ("Score", "7.5"),
                ("Resource type", "AWS_ECR_CONTAINER_IMAGE"),
                ("Fix available", "YES"),
                ("Exploit available", "NO"),
            ]
        );
        assert_eq!(notice.times[0].at, "2026-11-28T09:41:07.518Z");
        assert!(notice.next_steps.is_empty(), "the placeholder is no advice");
        assert_eq!(notice.link, None);
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
    }

    #[test]
    fn status_and_label_set_the_lifecycle_and_grade() {
        for (severity, status, expected) in [
            (
                "CRITICAL",
                "ACTIVE",
                (Severity::Critical, Status::Open, false),
            ),
            (
                "MEDIUM",
                "CLOSED",
                (Severity::Medium, Status::Resolved, false),
            ),
            (
                "LOW",
                "SUPPRESSED",
                (Severity::Low, Status::Resolved, false),
            ),
            (
                "INFORMATIONAL",
                "ACTIVE",
                (Severity::Info, Status::Open, true),
            ),
            ("UNTRIAGED", "ACTIVE", (Severity::Info, Status::Open, false)),
        ] {
            let mut f = finding();
            f["severity"] = json!(severity);
            f["status"] = json!(status);
            let notice = read_detail(f);
            assert_eq!(
                (notice.severity, notice.status, notice.routine),
                expected,
                "{severity} {status}"
            );
            assert!(notice.missing.is_empty(), "{:?}", notice.missing);
        }
        let mut f = finding();
        f["severity"] = json!("UNTRIAGED");
        assert_eq!(
            read_detail(f).summary.as_deref(),
            Some("Untriaged Inspector finding: CVE-2026-10452 - zlib1g")
        );
    }

    #[test]
    fn a_code_finding_names_its_weakness_and_advice() {
        let mut f = finding();
        f["type"] = json!("CODE_VULNERABILITY");
        f["title"] = json!(null);
        f["packageVulnerabilityDetails"] = json!(null);
        f["codeVulnerabilityDetails"] = json!({"cwes": ["CWE-798"]});
        f["remediation"] = json!({"recommendation": {"text": "Read credentials at run time."}});
        f["resources"][0]["partition"] = json!("aws-cn");
        let notice = read_detail(f);
        assert_eq!(notice.title, "CWE-798");
        assert_eq!(notice.fields[1].name, "Weakness");
        assert_eq!(notice.fields[1].value, "CWE-798");
        assert_eq!(notice.next_steps, ["Read credentials at run time."]);
        assert_eq!(notice.partition.as_deref(), Some("aws-cn"));
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let notice = read_detail(json!({"severity": "high", "status": 1, "resources": {},
            "findingArn": ["x"], "awsAccountId": 12, "firstObservedAt": "soon"}));
        assert_eq!(notice.title, "Inspector finding");
        assert_eq!(notice.summary.as_deref(), Some("Inspector finding"));
        assert_eq!(notice.account.as_deref(), Some("999999999999"));
        assert_eq!(
            notice.resources,
            ["arn:aws:ecr:us-east-1:999999999999:repository/x"],
            "the envelope's resources stay"
        );
        assert_eq!(notice.partition.as_deref(), Some("aws"), "the envelope's");
        assert_eq!(notice.times[0].at, "soon");
        assert_eq!(
            notice.missing,
            [
                "detail.severity",
                "detail.status",
                "detail.findingArn",
                "detail.type",
                "detail.resources"
            ]
        );
        let none = read_detail(json!([]));
        assert_eq!(none.missing, ["detail"]);
        assert_eq!(none.title, "Inspector finding");
    }
}
