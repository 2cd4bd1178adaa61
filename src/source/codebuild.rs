//! A CodeBuild build changing state (`CodeBuild Build State Change` from `aws.codebuild`):
//! which project, which build, how it ended, the phase that failed and CodeBuild's words about
//! it, who started it, its logs. The project's ARN is the key: a failed build and the next
//! one that succeeds are one story.

use super::{after_slash, arn, console_link, field, fields, headline, plain, require, text};
use super::{Notice, Severity, Status};
use serde_json::Value;

const FIELDS: [(&str, &str); 4] = [
    ("Build number", "/additional-information/build-number"),
    ("Initiator", "/additional-information/initiator"),
    ("Source version", "/additional-information/source-version"),
    ("Logs", "/additional-information/logs/deep-link"),
];

/// Fills in `notice`, whose envelope is read already, from the build in `detail`.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "CodeBuild build".to_string();
        notice.missing.push("detail");
        return;
    };
    let project = text(d.get("project-name"));
    let status = text(d.get("build-status"));
    let build = text(d.get("build-id"));
    (notice.status, notice.severity, notice.routine) = match status.as_deref() {
        Some("FAILED" | "FAULT" | "TIMED_OUT") => (Status::Open, Severity::High, false),
        Some("SUCCEEDED") => (Status::Resolved, Severity::Info, true),
        // STOPPED: someone stopped it, and knows.
        Some("IN_PROGRESS" | "STOPPED") => (Status::Info, Severity::Info, true),
        _ => (Status::Info, Severity::Info, false),
    };
    headline(
        notice,
        &[
            Some("CodeBuild:"),
            Some(project.as_deref().unwrap_or("build")),
        ],
        status.as_deref(),
    );
    notice.fields = fields(d, &FIELDS);
    // A finished build's current phase is COMPLETED; the phase that did not succeed, and
    // what CodeBuild said of it, is what the reader wants.
    let phase = match failed_phase(d.pointer("/additional-information/phases")) {
        Some(p) => {
            notice.description = super::texts(p.get("phase-context"))
                .into_iter()
                .find(|c| c != ":");
            field("Failed phase", p.get("phase-type"))
        }
        None => field("Phase", d.get("current-phase")),
    };
    if let Some(phase) = phase {
        notice.fields.insert(notice.fields.len().min(1), phase);
    }
    if let Some(p) = &project {
        notice.key = Some(arn(notice, "codebuild", &format!("project/{p}")));
    }
    notice.link = link(notice, build.as_deref());
    require(
        notice,
        [
            ("detail.project-name", project.is_some()),
            ("detail.build-id", build.is_some()),
            ("detail.build-status", status.is_some()),
        ],
    );
}

/// The last phase that neither succeeded nor is still running: CodeBuild writes the error
/// in its context (`COMMAND_EXECUTION_ERROR: Error while executing command: …`).
fn failed_phase(phases: Option<&Value>) -> Option<&Value> {
    let Some(Value::Array(phases)) = phases else {
        return None;
    };
    phases
        .iter()
        .rev()
        .find(|p| text(p.get("phase-status")).is_some_and(|s| s != "SUCCEEDED"))
}

/// The build's page in the CodeBuild console, from its ARN (`…:build/<project>:<uuid>`).
fn link(notice: &Notice, build: Option<&str>) -> Option<String> {
    let (project, id) = after_slash(build?).split_once(':')?;
    let account = notice.account.as_deref()?;
    if !(plain(project) && plain(id) && plain(account)) {
        return None;
    }
    console_link(
        notice,
        &format!("codesuite/codebuild/{account}/projects/{project}/build/{project}%3A{id}/"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BUILD: &str =
        "arn:aws:codebuild:us-east-1:123456789012:build/web-build:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    fn read_detail(detail: Value) -> Notice {
        let event = json!({"detail-type": "CodeBuild Build State Change", "source": "aws.codebuild",
            "account": "123456789012", "region": "us-east-1", "time": "2026-11-28T12:00:00Z",
            "resources": [BUILD], "detail": detail});
        crate::source::parse(&event, &event.to_string()).expect("a notice")
    }

    fn build(status: &str) -> Value {
        json!({"build-status": status, "project-name": "web-build", "build-id": BUILD,
            "current-phase": "COMPLETED", "current-phase-context": "[]", "version": "1",
            "additional-information": {"build-number": 42, "initiator": "codepipeline/web-deploy",
                "logs": {"deep-link": "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/web-build;stream=0a1b"},
                "phases": [
                    {"phase-type": "SUBMITTED", "phase-status": "SUCCEEDED", "phase-context": []},
                    {"phase-type": "BUILD", "phase-status": "FAILED",
                     "phase-context": ["COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1"]},
                    {"phase-type": "FINALIZING", "phase-status": "SUCCEEDED", "phase-context": [": "]},
                    {"phase-type": "COMPLETED"}]}})
    }

    #[test]
    fn a_failed_build_says_which_phase_and_why() {
        let n = read_detail(build("FAILED"));
        assert_eq!(n.title, "CodeBuild: web-build failed");
        assert_eq!(
            n.summary.as_deref(),
            Some("CodeBuild: web-build failed in us-east-1")
        );
        assert_eq!(
            (n.status, n.severity, n.routine),
            (Status::Open, Severity::High, false)
        );
        assert_eq!(
            n.description.as_deref(),
            Some("COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1")
        );
        let fields = n.field_pairs();
        assert_eq!(
            fields[..3],
            [
                ("Build number", "42"),
                ("Failed phase", "BUILD"),
                ("Initiator", "codepipeline/web-deploy")
            ]
        );
        assert_eq!(fields[3].0, "Logs");
        assert_eq!(
            n.key.as_deref(),
            Some("arn:aws:codebuild:us-east-1:123456789012:project/web-build")
        );
        assert_eq!(
            n.link.as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/web-build/build/web-build%3A0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/?region=us-east-1")
        );
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn statuses_set_the_lifecycle() {
        for (status, expected) in [
            ("FAULT", (Status::Open, Severity::High, false)),
            ("TIMED_OUT", (Status::Open, Severity::High, false)),
            ("SUCCEEDED", (Status::Resolved, Severity::Info, true)),
            ("IN_PROGRESS", (Status::Info, Severity::Info, true)),
            ("STOPPED", (Status::Info, Severity::Info, true)),
            ("QUEUED", (Status::Info, Severity::Info, false)),
        ] {
            let n = read_detail(build(status));
            assert_eq!((n.status, n.severity, n.routine), expected, "{status}");
        }
        let mut running = build("IN_PROGRESS");
        running["current-phase"] = json!("BUILD");
        running["additional-information"]["phases"] = json!([]);
        let n = read_detail(running);
        assert_eq!(n.title, "CodeBuild: web-build in progress");
        assert!(n
            .fields
            .iter()
            .any(|f| f.name == "Phase" && f.value == "BUILD"));
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let n = read_detail(json!({"build-id": "build/x y:1", "build-status": 7}));
        assert_eq!(n.title, "CodeBuild: build");
        assert_eq!((n.key, n.link, n.description), (None, None, None));
        assert_eq!(n.missing, ["detail.project-name", "detail.build-status"]);
        assert_eq!(read_detail(json!(1)).missing, ["detail"]);
    }
}
