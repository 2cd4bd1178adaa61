//! An ECS task changing state (`ECS Task State Change` from `aws.ecs`). Only a stopped task
//! is news, and only when it stopped for a bad reason: a crash, a failed start, failed health
//! checks. Tasks stop all the time for good ones (a deployment replaces them, a service scales
//! in, someone stops one), and those are routine. The cluster and the task's group (its
//! service, `service:web`) are the key, so that a service crashing again and again is one
//! story.

use super::{after_slash, console_link, field, headline, plain, require, text, Field, Moment};
use super::{Notice, Severity, Status};
use serde_json::Value;

/// Fills in `notice`, whose envelope is read already, from the task in `detail`.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "ECS task".to_string();
        notice.missing.push("detail");
        return;
    };
    let status = text(d.get("lastStatus"));
    let cluster_arn = text(d.get("clusterArn"));
    let cluster = cluster_arn.as_deref().map(after_slash);
    let group = text(d.get("group"));
    let code = text(d.get("stopCode"));
    let reason = text(d.get("stoppedReason"));
    let stopped = status.as_deref() == Some("STOPPED");
    let containers = match d.get("containers") {
        Some(Value::Array(list)) => list.as_slice(),
        _ => &[],
    };
    let exit = |c: &Value| c.get("exitCode").and_then(Value::as_i64);
    // The container that explains the stop: one that exited non-zero, else one with a reason
    // (an out-of-memory kill says so there).
    let culprit = containers
        .iter()
        .find(|c| exit(c).is_some_and(|e| e != 0))
        .or_else(|| containers.iter().find(|c| c.get("reason").is_some()));
    // Exited non-zero, or stopped with a reason and no exit code at all (killed).
    let crashed = culprit.is_some_and(|c| exit(c) != Some(0));
    // A task that failed its ELB or container health checks was replaced for a reason,
    // whichever stop code came with it.
    let unhealthy = reason
        .as_deref()
        .is_some_and(|r| r.contains("health check"));
    // AWS's stop codes (ECS developer guide, "Amazon ECS stopped task error codes").
    let normal = !unhealthy
        && match code.as_deref() {
            // Someone stopped it, AWS took back Spot or retiring capacity, or a deployment or
            // a scale-in replaced it ("Scaling activity initiated by …"): the service
            // scheduler starts another where one is needed, and nothing failed.
            Some(
                "UserInitiated"
                | "SpotInterruption"
                | "TerminationNotice"
                | "ServiceSchedulerInitiated",
            ) => true,
            // An essential container that exited 0 finished its work (a one-off task's end).
            Some("EssentialContainerExited") | None => {
                !crashed && containers.iter().any(|c| exit(c) == Some(0))
            }
            // TaskFailedToStart, and what AWS adds later: looked at, not hidden.
            _ => false,
        };
    // Only a task that stopped can be news; one without a status is shown, not hidden.
    (notice.status, notice.severity, notice.routine) = if stopped && !normal {
        (Status::Open, Severity::High, false)
    } else {
        (Status::Info, Severity::Info, status.is_some())
    };
    headline(
        notice,
        &[Some("ECS:"), cluster, group.as_deref(), Some("task")],
        status.as_deref(),
    );
    notice.description = reason;
    let definition = text(d.get("taskDefinitionArn")).map(|arn| Field {
        name: "Task definition".to_string(),
        value: after_slash(&arn).to_string(),
    });
    let culprit = |key| culprit.and_then(|c| c.get(key));
    notice.fields = [
        field("Stop code", d.get("stopCode")),
        field("Container", culprit("name")),
        field("Exit code", culprit("exitCode")),
        field("Container reason", culprit("reason")),
        definition,
        field("Launch type", d.get("launchType")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (name, key) in [("Started", "startedAt"), ("Stopped", "stoppedAt")] {
        if let Some(at) = text(d.get(key)) {
            notice.times.push(Moment { name, at });
        }
    }
    if let (Some(arn), Some(group)) = (&cluster_arn, &group) {
        notice.key = Some(format!("{arn}|{group}"));
    }
    let task = text(d.get("taskArn"));
    if let (Some(c), Some(t)) = (cluster, task.as_deref().map(after_slash)) {
        if plain(c) && plain(t) {
            let path = format!("ecs/v2/clusters/{c}/tasks/{t}/configuration");
            notice.link = console_link(notice, &path);
        }
    }
    require(
        notice,
        [
            ("detail.lastStatus", status.is_some()),
            ("detail.clusterArn", cluster_arn.is_some()),
            ("detail.group", group.is_some()),
            ("detail.stopCode", code.is_some() || !stopped),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_detail(detail: Value) -> Notice {
        let (kind, time) = ("ECS Task State Change", "2026-11-28T12:00:00Z");
        let resources = json!(["arn:aws:ecs:eu-west-1:123456789012:task/prod/5d7c1e0a9b8f4e3d"]);
        crate::source::read_test_event("aws.ecs", kind, time, resources, detail)
    }

    fn task(code: &str, reason: &str, exit: Value) -> Value {
        json!({"clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/5d7c1e0a9b8f4e3d",
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:17",
            "group": "service:web", "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
            "launchType": "FARGATE", "stopCode": code, "stoppedReason": reason,
            "startedAt": "2026-11-28T11:02:11.52Z", "stoppedAt": "2026-11-28T11:58:40.9Z",
            "containers": [{"name": "log-router", "exitCode": 0, "lastStatus": "STOPPED"},
                           {"name": "app", "exitCode": exit, "lastStatus": "STOPPED"}]})
    }

    #[test]
    fn a_crash_is_open_and_names_the_container() {
        let mut t = task(
            "EssentialContainerExited",
            "Essential container in task exited",
            json!(137),
        );
        t["containers"][1]["reason"] =
            json!("OutOfMemoryError: Container killed due to memory usage");
        let n = read_detail(t);
        assert_eq!(n.title, "ECS: prod service:web task stopped");
        assert_eq!(
            n.summary.as_deref(),
            Some("ECS: prod service:web task stopped in eu-west-1")
        );
        assert_eq!(
            (n.status, n.severity, n.routine),
            (Status::Open, Severity::High, false)
        );
        assert_eq!(
            n.description.as_deref(),
            Some("Essential container in task exited")
        );
        let fields = n.field_pairs();
        assert_eq!(
            fields,
            [
                ("Stop code", "EssentialContainerExited"),
                ("Container", "app"),
                ("Exit code", "137"),
                (
                    "Container reason",
                    "OutOfMemoryError: Container killed due to memory usage"
                ),
                ("Task definition", "web:17"),
                ("Launch type", "FARGATE"),
            ]
        );
        assert_eq!(
            n.key.as_deref(),
            Some("arn:aws:ecs:eu-west-1:123456789012:cluster/prod|service:web")
        );
        assert_eq!(
            n.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/5d7c1e0a9b8f4e3d/configuration?region=eu-west-1")
        );
        assert_eq!(n.times.len(), 2);
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn stop_codes_tell_normal_from_abnormal() {
        for (code, reason, exit, routine) in [
            (
                "ServiceSchedulerInitiated",
                "Scaling activity initiated by (deployment ecs-svc/1)",
                json!(143),
                true,
            ),
            (
                "ServiceSchedulerInitiated",
                "Task failed ELB health checks in (target-group arn:x)",
                json!(143),
                false,
            ),
            ("UserInitiated", "Task stopped by user", json!(137), true),
            (
                "SpotInterruption",
                "Your Spot Task was interrupted.",
                json!(143),
                true,
            ),
            (
                "TaskFailedToStart",
                "CannotPullContainerError: pull image manifest",
                json!(null),
                false,
            ),
            (
                "EssentialContainerExited",
                "Essential container in task exited",
                json!(1),
                false,
            ),
            (
                "EssentialContainerExited",
                "Essential container in task exited",
                json!(0),
                true,
            ),
            ("InfrastructureHealth", "x", json!(0), false),
            (
                "EssentialContainerExited",
                "Task failed container health checks",
                json!(0),
                false,
            ),
        ] {
            let n = read_detail(task(code, reason, exit));
            assert_eq!(n.routine, routine, "{code} {reason}");
            assert_eq!(n.status == Status::Open, !routine, "{code} {reason}");
        }
    }

    #[test]
    fn a_task_that_is_not_stopped_is_routine() {
        let mut t = task("", "", json!(null));
        t["lastStatus"] = json!("RUNNING");
        t.as_object_mut().map(|o| o.remove("stopCode"));
        let n = read_detail(t);
        assert_eq!(n.title, "ECS: prod service:web task running");
        assert_eq!((n.status, n.routine), (Status::Info, true));
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let n = read_detail(json!({"lastStatus": "STOPPED", "containers": {}, "taskArn": "a b"}));
        assert_eq!(n.title, "ECS: task stopped");
        assert_eq!(
            (n.status, n.routine),
            (Status::Open, false),
            "no clean exit to go by"
        );
        assert_eq!((n.key, n.link), (None, None));
        assert_eq!(
            n.missing,
            ["detail.clusterArn", "detail.group", "detail.stopCode"]
        );
        assert_eq!(read_detail(json!(null)).missing, ["detail"]);
        let unknown = read_detail(json!({"clusterArn": "c", "group": "g"}));
        assert_eq!((unknown.status, unknown.routine), (Status::Info, false));
        assert_eq!(unknown.missing, ["detail.lastStatus"]);
    }
}
