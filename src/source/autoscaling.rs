//! EC2 Auto Scaling events (from `aws.autoscaling`): a group that could not launch or
//! terminate an instance, with Auto Scaling's reason, opens under the group's name; instances
//! launched or terminated and lifecycle hooks waiting are routine.

use super::{
    console_page, field, fields, line, push_times, require, text, Notice, Severity, Status,
};
use serde_json::Value;

/// The detail types read here, what each says happened, and whether it is a failure.
pub const KINDS: [(&str, &str, bool); 6] = [
    (
        "EC2 Instance Launch Unsuccessful",
        "instance launch failed",
        true,
    ),
    (
        "EC2 Instance Terminate Unsuccessful",
        "instance termination failed",
        true,
    ),
    ("EC2 Instance Launch Successful", "instance launched", false),
    (
        "EC2 Instance Terminate Successful",
        "instance terminated",
        false,
    ),
    (
        "EC2 Instance-launch Lifecycle Action",
        "launch lifecycle hook waiting",
        false,
    ),
    (
        "EC2 Instance-terminate Lifecycle Action",
        "termination lifecycle hook waiting",
        false,
    ),
];

/// Fills in `notice`, whose envelope is read already, from the event in `detail`.
#[inline(never)] // One copy beside the dispatch, not inlined into it: a smaller binary.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let kind = notice.kind.as_deref().unwrap_or_default();
    let (what, failed) = KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or(("event", false), |k| (k.1, k.2));
    (notice.severity, notice.status, notice.routine) = if failed {
        (Severity::High, Status::Open, false)
    } else {
        (Severity::Info, Status::Info, true)
    };
    let d = detail.filter(|d| d.is_object());
    let group = d.and_then(|d| text(d.get("AutoScalingGroupName")));
    notice.title = match &group {
        Some(g) => format!("Auto Scaling group {g}: {what}"),
        None => format!("Auto Scaling: {what}"),
    };
    let Some(d) = d else {
        notice.missing.push("detail");
        return;
    };
    notice.summary = Some(line(notice, None));
    let status_message = text(d.get("StatusMessage"));
    // The status message says why it failed; the cause, what Auto Scaling set out to do.
    notice.description = status_message.clone().or_else(|| text(d.get("Cause")));
    notice.fields = fields(
        d,
        &[
            ("Instance", "/EC2InstanceId"),
            ("Availability Zone", "/Details/Availability Zone"),
            ("Lifecycle hook", "/LifecycleHookName"),
            ("Transition", "/LifecycleTransition"),
        ],
    );
    if status_message.is_some() {
        notice.fields.extend(field("Cause", d.get("Cause")));
    }
    push_times(notice, d, &[("Start", "/StartTime"), ("End", "/EndTime")]);
    if let Some(g) = &group {
        notice.link = console_page(notice, "ec2", "AutoScalingGroupDetails:id=", g)
            .map(|l| l + ";view=activity");
    }
    notice.key = group;
    require(
        notice,
        [("detail.AutoScalingGroupName", notice.key.is_some())],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_event(kind: &str, detail: Value) -> Notice {
        let time = "2026-11-28T04:20:11Z";
        crate::source::read_test_event("aws.autoscaling", kind, time, json!([]), detail)
    }

    fn failed() -> Value {
        json!({"StatusCode": "Failed", "AutoScalingGroupName": "web-asg",
            "ActivityId": "a-1", "Details": {"Availability Zone": "eu-west-1b", "Subnet ID": "subnet-1"},
            "RequestId": "r-1",
            "StatusMessage": "We currently do not have sufficient m5.large capacity in eu-west-1b.",
            "EndTime": "2026-11-28T04:20:09.000Z", "StartTime": "2026-11-28T04:20:05.000Z",
            "Cause": "At 2026-11-28T04:20:00Z an instance was started in response to a difference between desired and actual capacity."})
    }

    #[test]
    fn a_failed_launch_opens_under_the_group() {
        let n = read_event("EC2 Instance Launch Unsuccessful", failed());
        assert_eq!(
            n.title,
            "Auto Scaling group web-asg: instance launch failed"
        );
        assert_eq!(
            n.summary.as_deref(),
            Some("Auto Scaling group web-asg: instance launch failed in eu-west-1")
        );
        assert!(n
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("We currently")));
        assert_eq!(
            (n.severity, n.status, n.routine),
            (Severity::High, Status::Open, false)
        );
        assert_eq!(n.key.as_deref(), Some("web-asg"));
        let names: Vec<&str> = n.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Availability Zone", "Cause"]);
        assert_eq!(n.times.len(), 2);
        assert_eq!(
            n.link.as_deref(),
            Some("https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#AutoScalingGroupDetails:id=web-asg;view=activity")
        );
        assert!(n.missing.is_empty(), "{:?}", n.missing);
    }

    #[test]
    fn successes_and_lifecycle_actions_are_routine() {
        for kind in [
            "EC2 Instance Launch Successful",
            "EC2 Instance Terminate Successful",
            "EC2 Instance-terminate Lifecycle Action",
        ] {
            let n = read_event(
                kind,
                json!({"AutoScalingGroupName": "web-asg",
                "EC2InstanceId": "i-1", "LifecycleHookName": "drain"}),
            );
            assert_eq!(
                (n.severity, n.status, n.routine),
                (Severity::Info, Status::Info, true)
            );
            assert_eq!(n.key.as_deref(), Some("web-asg"));
        }
        let hook = read_event(
            "EC2 Instance-launch Lifecycle Action",
            json!({"AutoScalingGroupName": "web-asg", "EC2InstanceId": "i-1",
                "LifecycleHookName": "warm", "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING"}),
        );
        assert_eq!(hook.fields.len(), 3);
        assert_eq!(hook.description, None);
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let mut f = failed();
        f["AutoScalingGroupName"] = json!("web asg");
        assert_eq!(
            read_event("EC2 Instance Terminate Unsuccessful", f).link,
            None
        );
        let n = read_event(
            "EC2 Instance Launch Unsuccessful",
            json!({"StatusMessage": 1}),
        );
        assert_eq!(n.title, "Auto Scaling: instance launch failed");
        assert_eq!(n.status, Status::Open);
        assert_eq!(n.missing, ["detail.AutoScalingGroupName"]);
        let none = read_event("EC2 Instance Launch Unsuccessful", json!("x"));
        assert_eq!(none.missing, ["detail"]);
    }
}
