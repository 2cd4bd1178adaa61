//! A CodePipeline execution, stage or action changing state (`aws.codepipeline`): which
//! pipeline, which execution, stage and action, what state, what started it. The pipeline's
//! ARN is the key: a failed execution and the next one that succeeds are one story, so the
//! execution id, new each run, cannot be. Only the pipeline's own `SUCCEEDED` resolves: a stage
//! or action that succeeds says nothing about the run as a whole.

use super::{arn, console_link, fields, headline, plain, require, text, Moment, Notice};
use super::{Severity, Status};
use serde_json::Value;

/// The pipeline-level detail type; the stage and action ones are the other two.
const PIPELINE: &str = "CodePipeline Pipeline Execution State Change";

/// What a card shows, in this order, of what the event has: a pipeline's events carry the
/// trigger, a stage's the stage, an action's the stage, action and its result.
const FIELDS: [(&str, &str); 10] = [
    ("Execution", "/execution-id"),
    ("Stage", "/stage"),
    ("Action", "/action"),
    ("Trigger", "/execution-trigger/trigger-type"),
    ("Started by", "/execution-trigger/trigger-detail"),
    ("Started by", "/execution-trigger/author-display-name"),
    ("Branch", "/execution-trigger/branch-name"),
    ("Tag", "/execution-trigger/tag-name"),
    ("Provider", "/type/provider"),
    ("Error code", "/execution-result/error-code"),
];

/// Fills in `notice`, whose envelope is read already, from the execution in `detail`.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "CodePipeline execution".to_string();
        notice.missing.push("detail");
        return;
    };
    let pipeline_level = notice.kind.as_deref() == Some(PIPELINE);
    let pipeline = text(d.get("pipeline"));
    let state = text(d.get("state"));
    let execution = text(d.get("execution-id"));
    (notice.status, notice.severity, notice.routine) = match state.as_deref() {
        // A failed stage or action is news too: a rule may watch only those (AWS's own
        // example watches failed build and deploy actions), and it is why the run failed.
        Some("FAILED") => (Status::Open, Severity::High, false),
        Some("SUCCEEDED") if pipeline_level => (Status::Resolved, Severity::Info, true),
        // STOPPED too: a run stops only when someone asks it to, and they know.
        Some(
            "STARTED" | "RESUMED" | "SUPERSEDED" | "CANCELED" | "STOPPING" | "STOPPED"
            | "SUCCEEDED" | "ABANDONED",
        ) => (Status::Info, Severity::Info, true),
        // A state AWS adds later is shown, not silently made routine.
        _ => (Status::Info, Severity::Info, false),
    };
    // `action <name>` or `stage <name>`, for those events.
    let step = ["action", "stage"]
        .into_iter()
        .find_map(|key| Some((key, d.get(key)?.as_str()?)));
    headline(
        notice,
        &[
            Some("CodePipeline:"),
            Some(pipeline.as_deref().unwrap_or("pipeline")),
            step.map(|s| s.0),
            step.map(|s| s.1),
        ],
        state.as_deref(),
    );
    notice.description = [
        "/execution-result/external-execution-summary",
        "/stop-execution-comments",
        "/execution-trigger/commit-message",
    ]
    .iter()
    .find_map(|path| text(d.pointer(path)));
    notice.fields = fields(d, &FIELDS);
    if let Some(at) = text(d.get("start-time")) {
        notice.times.push(Moment {
            name: "Started",
            at,
        });
    }
    if let Some(p) = pipeline.as_deref() {
        notice.key = Some(arn(notice, "codepipeline", p));
        let page = match execution.as_deref().filter(|e| plain(e)) {
            Some(e) => format!("executions/{e}/timeline"),
            None => "view".to_string(),
        };
        if plain(p) {
            notice.link = console_link(
                notice,
                &format!("codesuite/codepipeline/pipelines/{p}/{page}"),
            );
        }
    }
    require(
        notice,
        [
            ("detail.pipeline", pipeline.is_some()),
            ("detail.execution-id", execution.is_some()),
            ("detail.state", state.is_some()),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_event(kind: &str, detail: Value) -> Notice {
        let time = "2026-11-28T12:00:00Z";
        let resources = json!(["arn:aws:codepipeline:eu-west-1:123456789012:web-deploy"]);
        crate::source::read_test_event("aws.codepipeline", kind, time, resources, detail)
    }

    fn execution(state: &str) -> Value {
        json!({"pipeline": "web-deploy", "execution-id": "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
            "start-time": "2026-11-28T11:52:10.114Z", "state": state, "version": 7.0,
            "execution-trigger": {"trigger-type": "StartPipelineExecution",
                "trigger-detail": "arn:aws:sts::123456789012:assumed-role/Admin/dana"}})
    }

    #[test]
    fn a_failed_run_is_open_and_names_its_pipeline_run_and_starter() {
        let notice = read_event(PIPELINE, execution("FAILED"));
        assert_eq!(notice.title, "CodePipeline: web-deploy failed");
        assert_eq!(
            notice.summary.as_deref(),
            Some("CodePipeline: web-deploy failed in eu-west-1")
        );
        assert_eq!(
            (notice.status, notice.severity, notice.routine),
            (Status::Open, Severity::High, false)
        );
        assert_eq!(
            notice.key.as_deref(),
            Some("arn:aws:codepipeline:eu-west-1:123456789012:web-deploy")
        );
        assert_eq!(
            notice.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/web-deploy/executions/1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b/timeline?region=eu-west-1")
        );
        let names: Vec<&str> = notice.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Execution", "Trigger", "Started by"]);
        assert_eq!(notice.times[0].name, "Started");
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
    }

    #[test]
    fn success_resolves_the_same_key_and_is_routine() {
        let failed = read_event(PIPELINE, execution("FAILED"));
        let mut next = execution("SUCCEEDED");
        next["execution-id"] = json!("99999999-5b6a-4798-8a9b-0c1d2e3f4a5b");
        let ok = read_event(PIPELINE, next);
        assert_eq!(ok.key, failed.key);
        assert_eq!((ok.status, ok.routine), (Status::Resolved, true));
        for state in [
            "STARTED",
            "RESUMED",
            "SUPERSEDED",
            "CANCELED",
            "STOPPING",
            "STOPPED",
        ] {
            let n = read_event(PIPELINE, execution(state));
            assert_eq!(
                (n.status, n.severity, n.routine),
                (Status::Info, Severity::Info, true)
            );
        }
        let odd = read_event(PIPELINE, execution("PAUSED"));
        assert_eq!((odd.status, odd.routine), (Status::Info, false));
    }

    #[test]
    fn stages_and_actions_key_on_the_pipeline_and_never_resolve() {
        let action = json!({"pipeline": "web-deploy", "execution-id": "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
            "stage": "Deploy", "action": "DeployToECS", "state": "FAILED", "region": "eu-west-1",
            "type": {"owner": "AWS", "category": "Deploy", "provider": "ECS", "version": "1"},
            "execution-result": {"external-execution-summary": "Deployment failed", "error-code": "JobFailed"}});
        let failed = read_event("CodePipeline Action Execution State Change", action.clone());
        assert_eq!(
            failed.title,
            "CodePipeline: web-deploy action DeployToECS failed"
        );
        assert_eq!(failed.description.as_deref(), Some("Deployment failed"));
        assert_eq!((failed.status, failed.routine), (Status::Open, false));
        assert_eq!(
            failed.key.as_deref(),
            Some("arn:aws:codepipeline:eu-west-1:123456789012:web-deploy")
        );
        let names: Vec<&str> = failed.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["Execution", "Stage", "Action", "Provider", "Error code"]
        );
        let mut ok = action;
        ok["state"] = json!("SUCCEEDED");
        let ok = read_event("CodePipeline Action Execution State Change", ok);
        assert_eq!((ok.status, ok.routine), (Status::Info, true));
        let stage = read_event(
            "CodePipeline Stage Execution State Change",
            json!({"pipeline": "web-deploy", "execution-id": "x", "stage": "Build", "state": "SUCCEEDED"}),
        );
        assert_eq!(
            stage.title,
            "CodePipeline: web-deploy stage Build succeeded"
        );
        assert_eq!((stage.status, stage.routine), (Status::Info, true));
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let n = read_event(
            PIPELINE,
            json!({"pipeline": "a/b", "state": 3, "execution-id": "x y"}),
        );
        assert_eq!(n.title, "CodePipeline: a/b");
        assert_eq!(n.link, None, "a name that would need escaping");
        assert_eq!(n.missing, ["detail.state"]);
        assert!(!n.routine);
        let n = read_event(PIPELINE, json!({"state": "FAILED"}));
        assert_eq!((n.key, n.link), (None, None));
        assert_eq!(n.missing, ["detail.pipeline", "detail.execution-id"]);
        let gov = read_event(PIPELINE, json!({"pipeline": "p", "state": "FAILED"}));
        assert!(gov
            .link
            .is_some_and(|l| l.ends_with("/pipelines/p/view?region=eu-west-1")));
        let none = read_event(PIPELINE, json!([]));
        assert_eq!(
            (none.title.as_str(), none.missing.as_slice()),
            ("CodePipeline execution", ["detail"].as_slice())
        );
    }
}
