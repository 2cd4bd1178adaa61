//! AWS Backup job events (`Backup Job State Change`, `Copy Job State Change`, `Restore Job
//! State Change` from `aws.backup`): which job, of which resource, into which vault, in what
//! state and why. A backup job that failed opens under the protected resource's ARN, and that
//! resource's next completed backup resolves it; routine progress (created, running,
//! completed) posts only where a route asks for it.

use super::{
    console_page, fields, last_part, line, push_times, require, text, Field, Notice, Severity,
    Status,
};
use serde_json::Value;

/// Per detail type: the title's start, the field with the job's id (and its name under
/// `Missing`), the key's prefix (a copy or restore must not resolve a failed backup of the
/// same resource) and the job's page in the console.
pub const JOBS: [(&str, &str, &str, &str, &str, &str); 3] = [
    (
        "Backup Job State Change",
        "AWS Backup: backup job",
        "/backupJobId",
        "detail.backupJobId",
        "",
        "/jobs/backup/details/",
    ),
    (
        "Copy Job State Change",
        "AWS Backup: copy job",
        "/copyJobId",
        "detail.copyJobId",
        "copy:",
        "/jobs/copy/details/",
    ),
    (
        "Restore Job State Change",
        "AWS Backup: restore job",
        "/restoreJobId",
        "detail.restoreJobId",
        "restore:",
        "/jobs/restore/details/",
    ),
];

/// Fills in `notice`, whose envelope is read already, from the job in `detail`.
#[inline(never)] // One copy beside the dispatch, not inlined into it: a smaller binary.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let kind = notice.kind.as_deref().unwrap_or_default();
    let &(_, base, id_key, id_name, prefix, page) =
        JOBS.iter().find(|j| j.0 == kind).unwrap_or(&JOBS[0]);
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = base.to_string();
        notice.missing.push("detail");
        return;
    };
    // Backup and copy jobs write `state`, restore jobs mostly `status`.
    let state_key = if d.get("state").is_some() {
        "/state"
    } else {
        "/status"
    };
    let state = text(d.pointer(state_key));
    let message = text(d.get("statusMessage")).map(|m| m.trim_matches('"').trim().to_string());
    (notice.severity, notice.status, notice.routine) = match state.as_deref() {
        Some("FAILED" | "ABORTED") => (Severity::High, Status::Open, false),
        // The job never ran in its window (often another job of the resource still ran) or
        // finished only in part: a backup is missing, but nothing is known to be broken.
        Some("EXPIRED" | "PARTIAL") => (Severity::Medium, Status::Open, false),
        // A message on a completed job is the console's "Completed with issues".
        Some("COMPLETED") if message.is_some() => (Severity::Low, Status::Resolved, false),
        Some("COMPLETED") => (Severity::Info, Status::Resolved, true),
        Some(_) => (Severity::Info, Status::Info, true),
        None => (Severity::Info, Status::Info, false),
    };
    let resource = text(d.get("resourceArn")).or_else(|| text(d.get("sourceResourceArn")));
    let id = text(d.pointer(id_key));
    notice.key = resource
        .as_deref()
        .or(id.as_deref())
        .map(|k| prefix.to_string() + k);
    let mut title = base.to_string();
    if let Some(s) = &state {
        title.push(' ');
        title.push_str(&s.to_ascii_lowercase());
    }
    let name = resource
        .as_deref()
        .map(last_part)
        .map(str::to_string)
        .or_else(|| text(d.get("resourceType")));
    if let Some(name) = &name {
        title.push_str(" for ");
        title.push_str(name);
    }
    notice.title = title;
    notice.summary = Some(line(notice, None));
    notice.description = message;
    if let Some(arn) = &resource {
        notice.resources.insert(0, arn.clone());
    }
    let vault = text(d.get("backupVaultName")).or_else(|| {
        text(d.get("backupVaultArn"))
            .or_else(|| text(d.get("destinationBackupVaultArn")))
            // Vault names may hold `/` (`aws/backup/…`), never `:`.
            .and_then(|arn| arn.rsplit(':').next().map(str::to_string))
    });
    notice.fields = fields(
        d,
        &[
            ("Resource type", "/resourceType"),
            ("Job", id_key),
            ("Backup plan", "/createdBy/backupPlanId"),
            ("Rule", "/createdBy/backupPlanRuleId"),
            ("State", state_key),
        ],
    );
    if let Some(value) = vault {
        let name = "Vault".to_string();
        let after_type = notice
            .fields
            .first()
            .is_some_and(|f| f.name == "Resource type");
        notice
            .fields
            .insert(usize::from(after_type), Field { name, value });
    }
    push_times(
        notice,
        d,
        &[
            ("Created", "/creationDate"),
            ("Completed", "/completionDate"),
        ],
    );
    if let Some(id) = &id {
        notice.link = console_page(notice, "backup", page, id);
    }
    require(
        notice,
        [
            ("detail.state", state.is_some()),
            (id_name, id.is_some()),
            (
                "detail.resourceArn",
                resource.is_some() || id_key == "/restoreJobId",
            ),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_event(kind: &str, detail: Value) -> Notice {
        let time = "2026-11-28T02:10:00Z";
        crate::source::read_test_event("aws.backup", kind, time, json!([]), detail)
    }

    fn job(state: &str) -> Value {
        json!({
            "backupJobId": "5F1C2B7A-0D3E-4C19-9A8B-6E2D1F0A9C37",
            "backupVaultName": "prod-vault",
            "resourceArn": "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0abc",
            "resourceType": "EBS", "state": state,
            "statusMessage": "\"Backup job failed: the volume is in use.\"",
            "creationDate": "2026-11-28T02:00:00.000Z",
            "createdBy": {"backupPlanId": "plan-1", "backupPlanRuleId": "rule-1"}
        })
    }

    #[test]
    fn a_failed_backup_opens_under_the_resource() {
        let n = read_event("Backup Job State Change", job("FAILED"));
        assert_eq!(n.title, "AWS Backup: backup job failed for vol-0abc");
        assert_eq!(
            n.summary.as_deref(),
            Some("AWS Backup: backup job failed for vol-0abc in eu-west-1")
        );
        assert_eq!(
            n.description.as_deref(),
            Some("Backup job failed: the volume is in use.")
        );
        assert_eq!(
            (n.severity, n.status, n.routine),
            (Severity::High, Status::Open, false)
        );
        assert_eq!(
            n.key.as_deref(),
            Some("arn:aws:ec2:eu-west-1:123456789012:volume/vol-0abc")
        );
        assert_eq!(n.resources.len(), 1);
        let names: Vec<&str> = n.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Resource type",
                "Vault",
                "Job",
                "Backup plan",
                "Rule",
                "State"
            ]
        );
        assert_eq!(
            n.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/backup/home?region=eu-west-1#/jobs/backup/details/5F1C2B7A-0D3E-4C19-9A8B-6E2D1F0A9C37")
        );
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn states_set_grade_lifecycle_and_routine() {
        for (state, message, expected) in [
            ("ABORTED", true, (Severity::High, Status::Open, false)),
            ("EXPIRED", true, (Severity::Medium, Status::Open, false)),
            ("COMPLETED", false, (Severity::Info, Status::Resolved, true)),
            ("COMPLETED", true, (Severity::Low, Status::Resolved, false)),
            ("RUNNING", false, (Severity::Info, Status::Info, true)),
            ("CREATED", false, (Severity::Info, Status::Info, true)),
        ] {
            let mut j = job(state);
            if !message {
                j["statusMessage"] = json!("");
            }
            let n = read_event("Backup Job State Change", j);
            assert_eq!((n.severity, n.status, n.routine), expected, "{state}");
        }
    }

    #[test]
    fn copy_and_restore_jobs_keep_keys_of_their_own() {
        let copy = read_event(
            "Copy Job State Change",
            json!({"copyJobId": "C1", "state": "FAILED",
                "resourceArn": "arn:aws:ec2:eu-west-1:1:volume/vol-0abc",
                "destinationBackupVaultArn": "arn:aws:backup:eu-west-1:1:backup-vault:dr-vault"}),
        );
        assert_eq!(
            copy.key.as_deref(),
            Some("copy:arn:aws:ec2:eu-west-1:1:volume/vol-0abc")
        );
        assert!(copy.fields.iter().any(|f| f.value == "dr-vault"));
        assert!(copy
            .link
            .is_some_and(|l| l.ends_with("#/jobs/copy/details/C1")));
        let restore = read_event(
            "Restore Job State Change",
            json!({"restoreJobId": "R1", "status": "FAILED", "resourceType": "EC2"}),
        );
        assert_eq!(restore.key.as_deref(), Some("restore:R1"));
        assert_eq!(restore.status, Status::Open);
        assert_eq!(
            restore.summary.as_deref(),
            Some("AWS Backup: restore job failed for EC2 in eu-west-1")
        );
        assert!(restore.missing.is_empty(), "{:?}", restore.missing);
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let n = read_event(
            "Backup Job State Change",
            json!({"state": 3, "backupJobId": "a/b"}),
        );
        assert_eq!(n.title, "AWS Backup: backup job");
        assert_eq!((n.status, n.routine), (Status::Info, false));
        assert_eq!(n.link, None);
        assert_eq!(n.key.as_deref(), Some("a/b"));
        assert_eq!(n.missing, ["detail.state", "detail.resourceArn"]);
        let vault_only = read_event(
            "Backup Job State Change",
            json!({"backupVaultArn": "arn:aws:backup:eu-west-1:1:backup-vault:aws/backup/Auto"}),
        );
        assert_eq!(vault_only.fields[0].value, "aws/backup/Auto");
        let none = read_event("Copy Job State Change", json!([]));
        assert_eq!(none.missing, ["detail"]);
        assert_eq!(none.title, "AWS Backup: copy job");
    }
}
