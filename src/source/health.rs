//! An AWS Health event (`detail-type` `AWS Health Event` from `aws.health`): which service,
//! what kind of event and its status, the accounts' affected entities, and AWS's own words
//! about it. The event ARN is the key (`open`, then `closed`, of one event), the Health
//! dashboard's page for it the link.

use super::{fields, listed, partition_of, push_times, require, text, Notice, Severity, Status};
use crate::region;
use serde_json::Value;

/// The card's fields, where the event keeps them.
const FIELDS: [(&str, &str); 5] = [
    ("Service", "/service"),
    ("Event type", "/eventTypeCode"),
    ("Category", "/eventTypeCategory"),
    ("Scope", "/eventScopeCode"),
    ("Health status", "/statusCode"),
];

/// Fills in `notice`, whose envelope is read already, from the event in `detail`.
#[inline(never)] // See `eventbridge::parse`: smaller out of line.
pub fn read(detail: Option<&Value>, notice: &mut Notice) {
    let Some(d) = detail.filter(|d| d.is_object()) else {
        notice.title = "AWS Health event".to_string();
        notice.missing.push("detail");
        return;
    };
    // The affected account and region: the envelope names the account that received it (an
    // organization's management account) and the region it was delivered to.
    if let Some(account) = text(d.get("affectedAccount")) {
        notice.account = Some(account);
    }
    if let Some(r) = text(d.get("eventRegion")) {
        notice.region = Some(r);
    }
    let arn = text(d.get("eventArn"));
    if let Some(p) = arn.as_deref().and_then(partition_of) {
        notice.partition = Some(p.to_string());
    }
    let service = text(d.get("service"));
    let category = text(d.get("eventTypeCategory"));
    let status = text(d.get("statusCode"));
    let scope = text(d.get("eventScopeCode"));
    notice.status = match status.as_deref() {
        Some("open") => Status::Open,
        Some("upcoming") => Status::Updated,
        Some("closed") => Status::Resolved,
        _ => Status::Info,
    };
    // Health grades nothing: an issue touching this account's resources is the worst it
    // reports, a public one or an investigation less so, a plan or a notice least.
    notice.severity = match (category.as_deref(), scope.as_deref()) {
        (Some("issue"), Some("ACCOUNT_SPECIFIC")) => Severity::High,
        (Some("issue" | "investigation"), _) => Severity::Medium,
        (Some("scheduledChange" | "accountNotification"), _) => Severity::Low,
        _ => Severity::Info,
    };
    let what = match category.as_deref() {
        Some("issue") => "issue",
        Some("scheduledChange") => "scheduled change",
        Some("accountNotification") => "account notification",
        Some("investigation") => "investigation",
        Some(other) => other,
        None => "event",
    };
    notice.title = match &service {
        Some(service) => format!("AWS Health: {service} {what}"),
        None => format!("AWS Health: {what}"),
    };
    let mut summary = notice.title.clone();
    if let Some(r) = &notice.region {
        summary.push_str(" in ");
        summary.push_str(r);
    }
    if let Some(status) = &status {
        summary.push_str(&format!(" ({status})"));
    }
    notice.summary = Some(summary);
    notice.description = description(d.get("eventDescription"));
    notice.key = arn;
    let entities = listed(d.get("affectedEntities"), "entityValue");
    if !entities.is_empty() {
        notice.resources = entities;
    }
    notice.fields = fields(d, &FIELDS);
    push_times(notice, d, &[("Start", "/startTime"), ("End", "/endTime")]);
    notice.link = link(notice);
    let parts = [
        ("detail.eventArn", notice.key.is_some()),
        ("detail.service", service.is_some()),
        (
            "detail.eventTypeCode",
            text(d.get("eventTypeCode")).is_some(),
        ),
        ("detail.statusCode", status.is_some()),
    ];
    require(notice, parts);
}

/// The English text if there is one, else the first: Health sends one per language.
fn description(v: Option<&Value>) -> Option<String> {
    let Some(Value::Array(list)) = v else {
        return None;
    };
    let english = list.iter().find(|d| {
        d.get("language")
            .and_then(Value::as_str)
            .is_some_and(|l| l.starts_with("en"))
    });
    english
        .into_iter()
        .chain(list.iter())
        .find_map(|d| text(d.get("latestDescription")))
}

/// The event's page in the Health dashboard. An ARN of other characters than AWS writes in
/// them gets no link rather than one that needs escaping.
fn link(notice: &Notice) -> Option<String> {
    let arn = notice.key.as_deref().filter(|a| {
        a.len() <= 1600
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":/_-.".contains(&b))
    })?;
    let host = match notice.partition.as_deref()? {
        "aws" => "health.aws.amazon.com",
        other => region::console_host(other)?,
    };
    Some(format!(
        "https://{host}/health/home#/account/event-log?eventID={arn}&eventTab=details"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{iso, MAX_LISTED};
    use serde_json::json;

    fn read_detail(detail: Value) -> Notice {
        let event = json!({"detail-type": "AWS Health Event", "source": "aws.health",
            "account": "999999999999", "region": "us-east-1", "time": "2026-11-28T10:07:10Z",
            "resources": ["i-0abc"], "detail": detail});
        crate::source::parse(&event, &event.to_string()).expect("a notice")
    }

    fn event() -> Value {
        json!({
            "eventArn": "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_1",
            "service": "EC2", "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue", "eventScopeCode": "ACCOUNT_SPECIFIC",
            "statusCode": "open", "eventRegion": "eu-west-1", "affectedAccount": "123456789012",
            "startTime": "Sat, 28 Nov 2026 09:50:00 GMT",
            "eventDescription": [{"language": "fr_FR", "latestDescription": "Problème"},
                                 {"language": "en_US", "latestDescription": " Increased API error rates. "}],
            "affectedEntities": [{"entityValue": "i-1"}, {"entityValue": 2}, {"entityValue": "i-3"}]
        })
    }

    #[test]
    fn an_event_says_which_service_what_where_and_its_words() {
        let notice = read_detail(event());
        assert_eq!(notice.title, "AWS Health: EC2 issue");
        assert_eq!(
            notice.summary.as_deref(),
            Some("AWS Health: EC2 issue in eu-west-1 (open)")
        );
        assert_eq!(
            notice.description.as_deref(),
            Some("Increased API error rates.")
        );
        assert_eq!(
            (notice.status, notice.severity),
            (Status::Open, Severity::High)
        );
        assert_eq!(notice.account.as_deref(), Some("123456789012"));
        assert_eq!(notice.region.as_deref(), Some("eu-west-1"));
        assert_eq!(notice.resources, ["i-1", "i-3"]);
        assert_eq!(notice.fields.len(), 5);
        assert_eq!(notice.times.len(), 1);
        assert_eq!(notice.times[0].at, "2026-11-28T09:50:00Z");
        assert_eq!(
            notice.link.as_deref(),
            Some("https://health.aws.amazon.com/health/home#/account/event-log?eventID=arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_1&eventTab=details")
        );
        assert!(notice.missing.is_empty(), "{:?}", notice.missing);
    }

    #[test]
    fn status_and_category_set_the_lifecycle_and_grade() {
        for (status, category, scope, expected) in [
            (
                "closed",
                "issue",
                "PUBLIC",
                (Status::Resolved, Severity::Medium),
            ),
            (
                "upcoming",
                "scheduledChange",
                "ACCOUNT_SPECIFIC",
                (Status::Updated, Severity::Low),
            ),
            (
                "open",
                "accountNotification",
                "ACCOUNT_SPECIFIC",
                (Status::Open, Severity::Low),
            ),
            (
                "open",
                "investigation",
                "PUBLIC",
                (Status::Open, Severity::Medium),
            ),
            ("odd", "other", "NONE", (Status::Info, Severity::Info)),
        ] {
            let mut e = event();
            e["statusCode"] = json!(status);
            e["eventTypeCategory"] = json!(category);
            e["eventScopeCode"] = json!(scope);
            let notice = read_detail(e);
            assert_eq!(
                (notice.status, notice.severity),
                expected,
                "{status} {category}"
            );
        }
    }

    #[test]
    fn many_entities_are_counted_not_listed() {
        let mut e = event();
        e["affectedEntities"] = (0..45)
            .map(|i| json!({"entityValue": format!("i-{i}")}))
            .collect();
        let notice = read_detail(e);
        assert_eq!(notice.resources.len(), MAX_LISTED + 1);
        assert_eq!(notice.resources[MAX_LISTED], "… and 25 more");
    }

    #[test]
    fn health_times_become_iso() {
        assert_eq!(
            iso("Wed, 1 Feb 2023 22:07:07 GMT").as_deref(),
            Some("2023-02-01T22:07:07Z")
        );
        for odd in [
            "2023-02-01T22:07:07Z",
            "Wed, 1 Foo 2023 22:07:07 GMT",
            "Wed, 1 Feb 2023 22:07 GMT",
            "Wed, 1 Feb 2023 22:07:07 CET",
            "Wed, 32 Feb 2023 22:07:07 GMT",
            "",
        ] {
            assert_eq!(iso(odd), None, "{odd}");
        }
    }

    #[test]
    fn missing_and_mistyped_parts_are_named_not_fatal() {
        let notice = read_detail(json!({"eventArn": "arn:aws:health:x <y>", "statusCode": 1,
            "eventDescription": "text", "affectedEntities": {}, "startTime": "soon"}));
        assert_eq!(notice.title, "AWS Health: event");
        assert_eq!(
            notice.resources,
            ["i-0abc"],
            "the envelope's resources stay"
        );
        assert_eq!(notice.link, None);
        assert_eq!(notice.times[0].at, "soon");
        assert_eq!(
            notice.missing,
            [
                "detail.service",
                "detail.eventTypeCode",
                "detail.statusCode"
            ]
        );
        let none = read_detail(json!(null));
        assert_eq!(none.missing, ["detail"]);
    }
}
