//! Routes: which alarm goes to which channel (app mode) or webhook (webhook mode), and
//! whom it wakes up. They live in the secret's `ROUTES`, so that a change needs no deploy:
//!
//! ```json
//! "ROUTES": [
//!   {"alarm": ["prod-pay-*", "*-p1"], "state": ["ALARM", "OK"], "account": ["111122223333"],
//!    "region": ["eu-west-1"], "namespace": ["AWS/ApiGateway"], "channel": "C0PAYMENTS",
//!    "mention": "<!subteam^S0123>"},
//!   {"alarm": ["staging-*"], "webhook": "https://hooks.slack.com/services/T/B/x"}
//! ]
//! ```
//!
//! Every condition is optional and holds a list (any element matches; `alarm` takes `*`
//! globs), but `severity`, the least a notice's may be; the conditions present must all hold.
//! `alarm`, `state` and `namespace` hold for alarms only, `source`, `detail_type` and
//! `severity` for other sources' notices only, `account` and `region` for both. A route with
//! `"drop": true` posts nowhere: what it matches goes only to the posting routes it matches,
//! never to the default target. `mention` is added on `ALARM` only, or on
//! the states in `mention_on`. `flap_seconds` turns an `OK` that follows its `ALARM`
//! within that many seconds into a one-line note.
//!
//! Values are compared exactly, case included, so each is checked against what it is
//! compared with (states in upper case, 12-digit accounts, region codes, namespaces as
//! CloudWatch writes them, channel IDs or names, Slack's mention syntax): a route that could
//! never match, or a mention that could never be added, refuses the secret when it is read.

use super::webhook::Webhook;
use crate::alarm::event::Notification;
use crate::alarm::trigger::Trigger;
use crate::error::Error;
use crate::source::Severity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// An alarm name inside a link: RFC 3986's unreserved characters stay.
const URL_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub struct Route {
    alarm: Vec<String>,
    state: Vec<String>,
    account: Vec<String>,
    region: Vec<String>,
    namespace: Vec<String>,
    /// EventBridge's `source` of a notice (`aws.guardduty`), `custom` for Amazon Q's.
    source: Vec<String>,
    /// EventBridge's `detail-type` of a notice (an Amazon Q notification's `eventType`).
    detail_type: Vec<String>,
    /// The least severity of a notice this route takes.
    severity: Option<Severity>,
    pub target: RouteTarget,
    pub mention: Option<String>,
    mention_on: Vec<String>,
    pub flap_seconds: Option<u64>,
    /// App mode: an `https://` link template, `{alarm}` replaced by the alarm's name.
    runbook: Option<String>,
    /// App mode: the user and user-group IDs who may click the incident's buttons.
    pub responders: Vec<String>,
}

pub enum RouteTarget {
    /// App mode: a channel (ID or name).
    Channel(String),
    /// Webhook mode: a webhook, a credential like the default one.
    Webhook(Webhook),
    /// `"drop": true`: nowhere, and what it matches skips the default target.
    Drop,
}

const KEYS: [&str; 16] = [
    "alarm",
    "state",
    "account",
    "region",
    "namespace",
    "source",
    "detail_type",
    "severity",
    "drop",
    "channel",
    "webhook",
    "mention",
    "mention_on",
    "flap_seconds",
    "runbook",
    "responders",
];

/// Reads `ROUTES`. A bad route is `Secret.Invalid` naming its index, the field and what is
/// expected; a webhook URL is never echoed.
pub fn parse(routes: &Value, app_mode: bool) -> Result<Vec<Route>, Error> {
    let Value::Array(list) = routes else {
        return Err(Error::InvalidSecret(
            "ROUTES must be a list of route objects".to_string(),
        ));
    };
    list.iter()
        .enumerate()
        .map(|(i, route)| parse_one(i, route, app_mode))
        .collect()
}

fn parse_one(i: usize, route: &Value, app_mode: bool) -> Result<Route, Error> {
    let invalid =
        |field: &str, rule: &str| Error::InvalidSecret(format!("ROUTES[{i}].{field} {rule}"));
    let Value::Object(fields) = route else {
        return Err(Error::InvalidSecret(format!(
            "ROUTES[{i}] must be an object such as {{\"alarm\": [\"prod-*\"], \"channel\": \"C0123ABCD\"}}"
        )));
    };
    if let Some(unknown) = fields.keys().find(|k| !KEYS.contains(&k.as_str())) {
        let unknown = crate::text::sanitize(unknown, 40);
        return Err(invalid(
            &unknown,
            "is not a route field; use alarm, state, account, region, namespace, source, detail_type, severity, drop, channel, webhook, mention, mention_on, flap_seconds, runbook or responders",
        ));
    }
    // Every value is checked against what it is compared with, so that a route that could
    // never match, or never mention, is refused here instead of misrouting alarms quietly.
    let list = |field: &str, valid: fn(&str) -> bool, rule: &str| -> Result<Vec<String>, Error> {
        match fields.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::String(s) if valid(s.trim()) => Ok(s.trim().to_string()),
                    Value::String(s) if !s.trim().is_empty() => Err(invalid(field, rule)),
                    _ => Err(invalid(field, "must hold only non-empty strings")),
                })
                .collect(),
            Some(_) => Err(invalid(
                field,
                "must be a non-empty list of strings, such as [\"a\", \"b\"]",
            )),
        }
    };
    let drop = match fields.get("drop") {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(invalid("drop", "must be true or false")),
    };
    if drop {
        let targets = ["channel", "webhook"];
        let extras = [
            "mention",
            "mention_on",
            "flap_seconds",
            "runbook",
            "responders",
        ];
        if let Some(field) = targets.iter().find(|f| fields.contains_key(**f)) {
            return Err(invalid(
                field,
                "is on a route that drops what it matches (\"drop\": true): it posts nowhere",
            ));
        }
        if let Some(field) = extras.iter().find(|f| fields.contains_key(**f)) {
            return Err(invalid(
                field,
                "would never apply: the route drops what it matches (\"drop\": true)",
            ));
        }
    }
    let target = match (app_mode, fields.get("channel"), fields.get("webhook")) {
        _ if drop => RouteTarget::Drop,
        (true, Some(Value::String(channel)), None) if is_channel(channel.trim()) => {
            RouteTarget::Channel(channel.trim().to_string())
        }
        (true, Some(Value::String(channel)), None) if !channel.trim().is_empty() => {
            return Err(invalid(
                "channel",
                "must be a channel ID such as C0123ABCD (best: threads and updates take IDs only) \
                 or a channel name in lower case such as #alerts",
            ))
        }
        (true, _, Some(_)) => {
            return Err(invalid(
                "webhook",
                "is for webhook mode; in app mode (SLACK_BOT_TOKEN) a route names a channel",
            ))
        }
        (true, Some(v), None) if !v.is_null() && !v.is_string() => {
            return Err(invalid("channel", "must be a string such as \"C0123ABCD\""))
        }
        (true, _, None) => {
            return Err(invalid(
                "channel",
                "is missing: name the channel ID this route posts to",
            ))
        }
        (false, Some(_), _) => {
            return Err(invalid(
                "channel",
                "is for app mode; in webhook mode a route names the incoming webhook it posts to",
            ))
        }
        (false, None, Some(Value::String(url))) => {
            RouteTarget::Webhook(Webhook::new(url.trim(), &format!("ROUTES[{i}].webhook"))?)
        }
        (false, None, Some(_)) => return Err(invalid("webhook", "must be a string")),
        (false, None, None) => {
            return Err(invalid(
                "webhook",
                "is missing: in webhook mode a route names the incoming webhook it posts to",
            ))
        }
    };
    let mention = match fields.get("mention") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if is_mention(m.trim()) => Some(m.trim().to_string()),
        Some(_) => {
            return Err(invalid(
                "mention",
                "must be Slack mentions separated by spaces: <!here>, <!channel>, <!subteam^S0123>, <@U0123> \
                 (not <!everyone>, which pings every member of the workspace)",
            ))
        }
    };
    let state = list("state", is_state, STATE_RULE)?;
    let mention_on = list("mention_on", is_state, STATE_RULE)?;
    let flap_seconds = match fields.get("flap_seconds") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|s| s <= 86_400) => n.as_u64(),
        Some(_) => {
            return Err(invalid(
                "flap_seconds",
                "must be a whole number of seconds up to 86400",
            ))
        }
    };
    let mention_on = if mention_on.is_empty() {
        vec!["ALARM".to_string()]
    } else if mention.is_none() {
        return Err(invalid(
            "mention_on",
            "has no mention to add; add a mention, or remove mention_on",
        ));
    } else {
        mention_on
    };
    let passes = |s: &str| state.is_empty() || state.iter().any(|t| t == s);
    if mention.is_some() && !mention_on.iter().any(|s| passes(s)) {
        let field = if fields.contains_key("mention_on") {
            "mention_on"
        } else {
            "mention"
        };
        return Err(invalid(
            field,
            "would never be added: the mention is added on the states in mention_on (default \
             [\"ALARM\"]), and the route's state list lets none of them through",
        ));
    }
    if flap_seconds.is_some() && !passes("OK") {
        return Err(invalid(
            "flap_seconds",
            "would never apply: it turns an OK into a note, and the route's state list leaves OK out",
        ));
    }
    let runbook = match fields.get("runbook") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if is_runbook(r.trim()) => Some(r.trim().to_string()),
        Some(_) => {
            return Err(invalid(
                "runbook",
                "must be an https:// link, where {alarm} stands for the alarm's name, such as \"https://wiki.example.com/runbooks/{alarm}\"",
            ))
        }
    };
    let responders = list("responders", is_responder, RESPONDER_RULE)?;
    // A click names its channel by ID: responders of a channel named otherwise would never
    // apply, and anyone could click.
    let by_id = matches!(&target, RouteTarget::Channel(c) if c.starts_with(['C', 'G', 'D']));
    if app_mode && !responders.is_empty() && !by_id {
        return Err(invalid(
            "responders",
            "needs the route's channel as an ID such as C0123ABCD: a click names its channel by ID",
        ));
    }
    if !app_mode && (runbook.is_some() || !responders.is_empty()) {
        let field = if runbook.is_some() {
            "runbook"
        } else {
            "responders"
        };
        return Err(invalid(
            field,
            "is for app mode with INCIDENT_TABLE: webhook messages have no buttons",
        ));
    }
    let severity = match fields.get("severity") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if Severity::parse(s.trim()).is_some() => Severity::parse(s.trim()),
        Some(_) => {
            return Err(invalid(
                "severity",
                "must be the least severity the route takes: critical, high, medium, low or info, in lower case",
            ))
        }
    };
    Ok(Route {
        source: list("source", is_source, SOURCE_RULE)?,
        detail_type: list("detail_type", is_detail_type, DETAIL_TYPE_RULE)?,
        severity,
        runbook,
        responders,
        alarm: list("alarm", is_alarm_glob, ALARM_RULE)?,
        state,
        account: list("account", is_account, ACCOUNT_RULE)?,
        region: list("region", is_region, REGION_RULE)?,
        namespace: list("namespace", is_namespace, NAMESPACE_RULE)?,
        target,
        mention,
        mention_on,
        flap_seconds,
    })
}

const STATES: [&str; 3] = ["ALARM", "OK", "INSUFFICIENT_DATA"];
const RESPONDER_RULE: &str =
    "must hold Slack user IDs (U0123ABCD, W0123ABCD) or user-group IDs (S0123ABCD)";

fn is_responder(s: &str) -> bool {
    s.len() >= 3
        && s.len() <= 32
        && matches!(s.as_bytes()[0], b'U' | b'W' | b'S')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// An `https://` link with a host; what it holds is sent to Slack as a button's `url`, so
/// no spaces, quotes or angle brackets.
fn is_runbook(s: &str) -> bool {
    s.strip_prefix("https://").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && s.len() <= 2_000
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>\"'`|".contains(c))
    })
}
const STATE_RULE: &str =
    "must hold alarm states as CloudWatch writes them, in upper case: ALARM, OK, INSUFFICIENT_DATA";
const ALARM_RULE: &str =
    "must hold alarm-name globs of at most 255 characters besides *, without control characters";
const ACCOUNT_RULE: &str = "must hold AWS account IDs of 12 digits, such as \"111122223333\"";
const REGION_RULE: &str = "must hold region codes in lower case, such as \"eu-west-1\"";
const NAMESPACE_RULE: &str = "must hold CloudWatch namespaces as CloudWatch writes them, \
     such as \"AWS/EC2\" (AWS/ in upper case; up to 255 ASCII characters, not starting with :)";

const SOURCE_RULE: &str = "must hold EventBridge sources as they are written, such as \"aws.guardduty\" \
     (aws. in lower case; up to 256 characters, without spaces), or \"custom\" for Amazon Q custom notifications";
const DETAIL_TYPE_RULE: &str = "must hold EventBridge detail types as they are written, such as \
     \"GuardDuty Finding\" (up to 128 characters, without control characters)";

/// EventBridge's limit, no spaces, and AWS's own as AWS writes them: `AWS.GuardDuty` can
/// never match `aws.guardduty`.
fn is_source(s: &str) -> bool {
    let aws_other_case = s
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws.") && p != "aws.");
    (1..=256).contains(&s.len())
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !aws_other_case
}

fn is_detail_type(s: &str) -> bool {
    (1..=128).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

fn is_state(s: &str) -> bool {
    STATES.contains(&s)
}

/// CloudWatch's alarm names are 1 to 255 characters without control characters.
fn is_alarm_glob(s: &str) -> bool {
    !s.is_empty()
        && s.chars().filter(|c| *c != '*').count() <= 255
        && !s.chars().any(char::is_control)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `eu-west-1`, `us-gov-west-1`, `eusc-de-east-1`: words in lower case, then a number.
fn is_region(s: &str) -> bool {
    let Some((words, number)) = s.rsplit_once('-') else {
        return false;
    };
    words.contains('-')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && words
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// CloudWatch's rule for namespaces (1 to 255 ASCII characters, not starting with `:`),
/// and AWS's own written as AWS writes them: `aws/ec2` can never match `AWS/EC2`.
fn is_namespace(s: &str) -> bool {
    let aws_other_case = s
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws/") && p != "AWS/");
    (1..=255).contains(&s.len())
        && s.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !s.starts_with(':')
        && !aws_other_case
}

/// A channel ID (`C0123ABCD`, `G…` private, `D…` a DM: upper case), or a name as Slack
/// makes them: lower case, digits, `-` and `_` (and letters of other scripts), at most 80
/// characters, with or without `#`.
fn is_channel(s: &str) -> bool {
    let id = s.len() >= 2
        && s.starts_with(['C', 'G', 'D'])
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let name = s.strip_prefix('#').unwrap_or(s);
    // ASCII by its own rule; beyond it, whatever is neither space nor control (no Unicode
    // case tables for a channel name).
    let name_char = |c: char| {
        if c.is_ascii() {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_')
        } else {
            !c.is_whitespace() && !c.is_control() && !crate::text::is_invisible(c)
        }
    };
    let is_name = (1..=80).contains(&name.chars().count()) && name.chars().all(name_char);
    id || is_name
}

/// Slack's mention syntax only, so that a route cannot smuggle a link or markup in.
fn is_mention(text: &str) -> bool {
    !text.is_empty()
        && text.split(' ').filter(|t| !t.is_empty()).all(|token| {
            let Some(inner) = token.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
                return false;
            };
            let id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
            // Not `<!everyone>`: it pings every member of the workspace, and most teams
            // forbid it; `<!channel>` reaches the channel the route posts to.
            matches!(inner, "!here" | "!channel")
                || inner.strip_prefix("!subteam^").is_some_and(id)
                || inner.strip_prefix('@').is_some_and(id)
        })
}

impl Route {
    /// Whether every condition present holds for `notification`. Conditions of alarms never
    /// hold for a notice, nor a notice's for an alarm; a plain message matches only a route
    /// without conditions.
    pub fn matches(&self, notification: &Notification) -> bool {
        let any = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
        };
        let for_alarms = [&self.alarm, &self.state, &self.namespace];
        let for_notices =
            self.source.is_empty() && self.detail_type.is_empty() && self.severity.is_none();
        let alarm = match notification {
            Notification::Alarm(alarm) if for_notices => alarm,
            Notification::Notice(notice) if for_alarms.iter().all(|c| c.is_empty()) => {
                return any(&self.account, notice.account.as_deref())
                    && any(&self.region, notice.region.as_deref())
                    && any(&self.source, Some(&notice.source))
                    && any(&self.detail_type, notice.kind.as_deref())
                    && self.severity.is_none_or(|least| notice.severity <= least);
            }
            Notification::Text { .. } => {
                return for_notices
                    && [
                        &self.alarm,
                        &self.state,
                        &self.account,
                        &self.region,
                        &self.namespace,
                    ]
                    .iter()
                    .all(|c| c.is_empty());
            }
            _ => return false,
        };
        let namespaces: Vec<&str> = match &alarm.trigger {
            Trigger::Threshold(rule) => rule
                .metrics
                .iter()
                .filter_map(|m| m.namespace.as_deref())
                .collect(),
            _ => Vec::new(),
        };
        (self.alarm.is_empty() || self.alarm.iter().any(|g| glob(g, &alarm.name)))
            && any(&self.state, Some(&alarm.new_state))
            && any(&self.account, alarm.account.as_deref())
            && any(&self.region, alarm.region.as_deref())
            && (self.namespace.is_empty()
                || namespaces
                    .iter()
                    .any(|n| self.namespace.iter().any(|l| l == n)))
    }

    /// The mention for this state, if the route has one.
    /// The route's runbook link for `notification`: `{alarm}` becomes the alarm's name,
    /// percent-encoded.
    pub fn runbook_for(&self, notification: &Notification) -> Option<String> {
        let template = self.runbook.as_deref()?;
        let name = match notification {
            Notification::Alarm(alarm) => alarm.name.as_str(),
            Notification::Notice(_) | Notification::Text { .. } => "",
        };
        let encoded = percent_encoding::utf8_percent_encode(name, URL_PART).to_string();
        Some(template.replace("{alarm}", &encoded))
    }

    /// The mention for a notice: from a route that names a notice condition (a catch-all
    /// route's mention is for alarms), unless the notice reports its own end.
    pub fn mention_for_notice(&self, notice: &crate::source::Notice) -> Option<&str> {
        let for_notices =
            !self.source.is_empty() || !self.detail_type.is_empty() || self.severity.is_some();
        (for_notices && notice.status != crate::source::Status::Resolved)
            .then_some(self.mention.as_deref())
            .flatten()
    }

    pub fn mention_for(&self, state: &str) -> Option<&str> {
        let mention = self.mention.as_deref()?;
        self.mention_on
            .iter()
            .any(|s| s == state)
            .then_some(mention)
    }
}

/// `*` matches any run of characters, anything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::trigger::{Metric, Rule};
    use crate::alarm::Alarm;
    use serde_json::json;

    fn alarm(name: &str, state: &str) -> Notification {
        Notification::Alarm(Box::new(Alarm {
            name: name.into(),
            new_state: state.into(),
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            trigger: Trigger::Threshold(Rule {
                metrics: vec![Metric {
                    namespace: Some("AWS/ApiGateway".into()),
                    ..Metric::default()
                }],
                ..Rule::default()
            }),
            ..Alarm::default()
        }))
    }

    fn routes(v: Value, app: bool) -> Vec<Route> {
        parse(&v, app).unwrap_or_else(|e| panic!("{e}"))
    }

    fn notice(source: &str, kind: &str, severity: Severity) -> Notification {
        Notification::Notice(Box::new(crate::source::Notice {
            source: source.into(),
            kind: Some(kind.into()),
            severity,
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            ..crate::source::Notice::default()
        }))
    }

    #[test]
    fn notices_match_by_source_detail_type_severity_account_and_region() {
        let r = routes(
            json!([{"source": ["aws.guardduty"], "channel": "C1"},
                   {"detail_type": ["AWS Health Event"], "channel": "C2"},
                   {"severity": "high", "channel": "C3"},
                   {"account": ["111122223333"], "region": ["eu-west-1"], "channel": "C4"},
                   {"account": ["999999999999"], "channel": "C5"},
                   {"source": ["custom"], "severity": "info", "channel": "C6"}]),
            true,
        );
        let matched = |n: &Notification| -> Vec<usize> {
            (0..r.len()).filter(|i| r[*i].matches(n)).collect()
        };
        let gd = notice("aws.guardduty", "GuardDuty Finding", Severity::Critical);
        assert_eq!(matched(&gd), [0, 2, 3]);
        let health = notice("aws.health", "AWS Health Event", Severity::Medium);
        assert_eq!(matched(&health), [1, 3]);
        assert_eq!(matched(&notice("custom", "Deploy", Severity::Info)), [3, 5]);
        // Alarms keep to the alarm conditions: none of these matches one but by account.
        assert_eq!(matched(&alarm("x", "ALARM")), [3]);
        let text = Notification::Text {
            subject: None,
            message: "hi".into(),
            json: false,
        };
        assert!(matched(&text).is_empty());
    }

    #[test]
    fn alarm_conditions_never_match_a_notice() {
        let r = routes(
            json!([{"alarm": ["*"], "channel": "C1"}, {"state": ["ALARM"], "channel": "C1"},
                   {"namespace": ["AWS/EC2"], "channel": "C1"}, {"channel": "C2"}]),
            true,
        );
        let n = notice("aws.guardduty", "GuardDuty Finding", Severity::High);
        let hits: Vec<bool> = r.iter().map(|route| route.matches(&n)).collect();
        assert_eq!(hits, [false, false, false, true]);
    }

    #[test]
    fn drop_routes_and_notice_conditions_are_checked() {
        assert!(matches!(
            routes(json!([{"source": ["aws.health"], "drop": true}]), false)[0].target,
            RouteTarget::Drop
        ));
        assert!(matches!(
            routes(json!([{"drop": false, "channel": "C1"}]), true)[0].target,
            RouteTarget::Channel(_)
        ));
        for (route, field, rule) in [
            (
                json!({"drop": true, "channel": "C1"}),
                "channel",
                "posts nowhere",
            ),
            (
                json!({"drop": true, "mention": "<!here>"}),
                "mention",
                "would never apply",
            ),
            (json!({"drop": "yes"}), "drop", "true or false"),
            (
                json!({"severity": "High", "channel": "C1"}),
                "severity",
                "lower case",
            ),
            (
                json!({"severity": ["high"], "channel": "C1"}),
                "severity",
                "least severity",
            ),
            (
                json!({"source": ["AWS.GuardDuty"], "channel": "C1"}),
                "source",
                "aws. in lower case",
            ),
            (
                json!({"source": ["aws guardduty"], "channel": "C1"}),
                "source",
                "without spaces",
            ),
            (
                json!({"detail_type": ["a\nb"], "channel": "C1"}),
                "detail_type",
                "control",
            ),
        ] {
            let err = parse(&json!([route]), true).err().expect("refused");
            let text = err.to_string();
            assert!(text.contains(&format!("ROUTES[0].{field} ")), "{text}");
            assert!(text.contains(rule), "{rule}: {text}");
        }
    }

    #[test]
    fn globs() {
        for (pattern, text) in [
            ("prod-pay-*", "prod-pay-latency"),
            ("*-p1", "db-cpu-p1"),
            ("*", ""),
            ("a*b*c", "a-x-b-y-c"),
            ("exact", "exact"),
            ("a**b", "ab"),
        ] {
            assert!(glob(pattern, text), "{pattern} ~ {text}");
        }
        for (pattern, text) in [
            ("prod-pay-*", "staging-pay"),
            ("*-p1", "p1-db"),
            ("exact", "exact2"),
            ("a*b*c", "a-c-b"),
            ("ab*ba", "aba"),
        ] {
            assert!(!glob(pattern, text), "{pattern} !~ {text}");
        }
    }

    #[test]
    fn every_condition_present_must_hold() {
        let r = routes(
            json!([{"alarm": ["prod-pay-*", "*-p1"], "state": ["ALARM", "OK"],
                "account": ["111122223333"], "region": ["eu-west-1"],
                "namespace": ["AWS/ApiGateway"], "channel": "C0PAYMENTS"}]),
            true,
        );
        assert!(r[0].matches(&alarm("prod-pay-latency", "ALARM")));
        assert!(r[0].matches(&alarm("db-p1", "OK")));
        assert!(!r[0].matches(&alarm("prod-pay-latency", "INSUFFICIENT_DATA")));
        assert!(!r[0].matches(&alarm("prod-web", "ALARM")));
        let other_account = routes(
            json!([{"account": ["999999999999"], "channel": "C1"}]),
            true,
        );
        assert!(!other_account[0].matches(&alarm("x", "ALARM")));
        let other_namespace = routes(json!([{"namespace": ["AWS/EC2"], "channel": "C1"}]), true);
        assert!(!other_namespace[0].matches(&alarm("x", "ALARM")));
        let text = Notification::Text {
            subject: None,
            message: "hi".into(),
            json: false,
        };
        assert!(!r[0].matches(&text));
        assert!(routes(json!([{"channel": "C1"}]), true)[0].matches(&text));
    }

    #[test]
    fn mentions_are_for_alarm_unless_the_route_says_so() {
        let r = routes(
            json!([{"channel": "C1", "mention": "<!subteam^S0123> <@U42>"},
                   {"channel": "C2", "mention": "<!here>", "mention_on": ["ALARM", "OK"]}]),
            true,
        );
        assert_eq!(r[0].mention_for("ALARM"), Some("<!subteam^S0123> <@U42>"));
        assert_eq!(r[0].mention_for("OK"), None);
        assert_eq!(r[1].mention_for("OK"), Some("<!here>"));
    }

    #[test]
    fn runbooks_and_responders_are_read_and_checked() {
        let r = routes(
            json!([{"alarm": ["prod-*"], "channel": "C1",
                    "runbook": "https://wiki.example/rb/{alarm}?from=slack",
                    "responders": ["U0ONE", "S0ONCALL"]}]),
            true,
        );
        assert_eq!(
            r[0].runbook_for(&alarm("prod-api 5xx/high", "ALARM"))
                .as_deref(),
            Some("https://wiki.example/rb/prod-api%205xx%2Fhigh?from=slack")
        );
        assert_eq!(r[0].responders, ["U0ONE", "S0ONCALL"]);
        for (route, app, expected) in [
            (
                json!([{"channel": "C1", "runbook": "http://wiki/x"}]),
                true,
                "ROUTES[0].runbook must be an https:// link",
            ),
            (
                json!([{"channel": "C1", "runbook": "https://wiki/<script>"}]),
                true,
                "ROUTES[0].runbook must be an https:// link",
            ),
            (
                json!([{"channel": "C1", "responders": ["alice"]}]),
                true,
                "ROUTES[0].responders must hold Slack user IDs",
            ),
            (
                json!([{"channel": "#ops", "responders": ["U1X"]}]),
                true,
                "ROUTES[0].responders needs the route's channel as an ID",
            ),
            (
                json!([{"webhook": "https://hooks.slack.com/services/T/B/x", "responders": ["U1X"]}]),
                false,
                "ROUTES[0].responders is for app mode",
            ),
        ] {
            let err = parse(&route, app).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(expected)),
                "{route}: {err:?}"
            );
        }
    }

    #[test]
    fn each_bad_route_names_its_index_field_and_rule() {
        let secret_url = "https://hooks.slack.com/services/T/B/SECRETPART";
        for (routes, app, expected) in [
            (json!({"a": 1}), true, "ROUTES must be a list"),
            (json!([7]), true, "ROUTES[0] must be an object"),
            (
                json!([{"channel": "C1"}, {"alarm": "prod-*", "channel": "C2"}]),
                true,
                "ROUTES[1].alarm must be a non-empty list",
            ),
            (
                json!([{"alarm": [""], "channel": "C2"}]),
                true,
                "ROUTES[0].alarm must hold only non-empty strings",
            ),
            (
                json!([{"alarm": ["x"]}]),
                true,
                "ROUTES[0].channel is missing",
            ),
            (
                json!([{"webhook": secret_url}]),
                true,
                "ROUTES[0].webhook is for webhook mode",
            ),
            (
                json!([{"alarm": ["x"]}]),
                false,
                "ROUTES[0].webhook is missing",
            ),
            (
                json!([{"channel": "C1"}]),
                false,
                "ROUTES[0].channel is for app mode",
            ),
            (
                json!([{"webhook": "http://SECRETPART.example/x"}]),
                false,
                "ROUTES[0].webhook must use https://",
            ),
            (
                json!([{"channel": "C1", "mention": "@here"}]),
                true,
                "ROUTES[0].mention must be Slack mentions",
            ),
            (
                json!([{"channel": "C1", "mention": "<https://evil|click>"}]),
                true,
                "ROUTES[0].mention must be Slack mentions",
            ),
            (
                json!([{"channel": "C1", "flap_seconds": -5}]),
                true,
                "ROUTES[0].flap_seconds must be a whole number",
            ),
            (
                json!([{"channel": "C1", "chanel": "x"}]),
                true,
                "ROUTES[0].chanel is not a route field",
            ),
            (
                json!([{"channel": "C1", "mention": "<!everyone>"}]),
                true,
                "ROUTES[0].mention must be Slack mentions",
            ),
            (
                json!([{"channel": "C1", "mention": "<!here> <!everyone>"}]),
                true,
                "not <!everyone>",
            ),
        ] {
            let err = parse(&routes, app)
                .err()
                .unwrap_or_else(|| panic!("{routes} accepted"));
            let text = err.to_string();
            assert_eq!(err.error_type(), "Secret.Invalid");
            assert!(text.contains(expected), "{text}");
            assert!(!text.contains("SECRETPART"), "{text}");
        }
    }

    /// Values that could never match, or a mention that could never be added: each refused,
    /// naming the route and the field. Case counts: values are compared exactly.
    #[test]
    fn values_that_never_match_are_refused() {
        let secret_url = "https://hooks.slack.com/services/T/B/SECRETPART";
        for (route, app, field, rule) in [
            (
                json!({"state": ["FIRING"]}),
                true,
                "state",
                "ALARM, OK, INSUFFICIENT_DATA",
            ),
            (json!({"state": ["alarm"]}), true, "state", "upper case"),
            (
                json!({"state": ["ALARM", "Ok"]}),
                true,
                "state",
                "upper case",
            ),
            (
                json!({"mention": "<!here>", "mention_on": ["ok"]}),
                true,
                "mention_on",
                "upper case",
            ),
            (
                json!({"mention": "<!here>", "mention_on": ["RESOLVED"]}),
                true,
                "mention_on",
                "ALARM, OK",
            ),
            (
                json!({"mention_on": ["OK"]}),
                true,
                "mention_on",
                "has no mention to add",
            ),
            (
                json!({"state": ["OK"], "mention": "<!here>"}),
                true,
                "mention",
                "would never be added",
            ),
            (
                json!({"state": ["ALARM"], "mention": "<!here>", "mention_on": ["OK"]}),
                true,
                "mention_on",
                "would never be added",
            ),
            (
                json!({"state": ["ALARM"], "flap_seconds": 60}),
                true,
                "flap_seconds",
                "would never apply",
            ),
            (
                json!({"account": ["1111-2222-3333"]}),
                true,
                "account",
                "12 digits",
            ),
            (
                json!({"account": ["11112222333"]}),
                true,
                "account",
                "12 digits",
            ),
            (
                json!({"region": ["EU-WEST-1"]}),
                true,
                "region",
                "lower case",
            ),
            (
                json!({"region": ["Europe (Ireland)"]}),
                true,
                "region",
                "lower case",
            ),
            (json!({"region": ["eu-west"]}), true, "region", "lower case"),
            (
                json!({"namespace": ["aws/ec2"]}),
                true,
                "namespace",
                "AWS/ in upper case",
            ),
            (
                json!({"namespace": ["Aws/EC2"]}),
                true,
                "namespace",
                "AWS/ in upper case",
            ),
            (
                json!({"namespace": [":custom"]}),
                true,
                "namespace",
                "not starting with :",
            ),
            (json!({"namespace": ["Café"]}), true, "namespace", "ASCII"),
            (
                json!({"namespace": ["x".repeat(256)]}),
                true,
                "namespace",
                "255",
            ),
            (
                json!({"alarm": ["a\nb"]}),
                true,
                "alarm",
                "control characters",
            ),
            (json!({"alarm": ["x".repeat(256)]}), true, "alarm", "255"),
            (json!({"channel": "Alerts"}), true, "channel", "lower case"),
            (
                json!({"channel": "#my alerts"}),
                true,
                "channel",
                "lower case",
            ),
            (
                json!({"channel": "c0123abcd!"}),
                true,
                "channel",
                "channel ID",
            ),
            (json!({"channel": 7}), true, "channel", "must be a string"),
            (json!({"channel": " "}), true, "channel", "is missing"),
            (
                json!({"webhook": secret_url, "channel": "#a"}),
                false,
                "channel",
                "is for app mode",
            ),
        ] {
            let mut route = route;
            if app && route.get("channel").is_none() {
                route["channel"] = "C1".into();
            }
            let first = match app {
                true => json!({"channel": "C0", "alarm": ["ok-*"]}),
                false => json!({"webhook": secret_url, "alarm": ["ok-*"]}),
            };
            let routes = json!([first, route]);
            let err = parse(&routes, app)
                .err()
                .unwrap_or_else(|| panic!("{routes} accepted"));
            let text = err.to_string();
            assert_eq!(err.error_type(), "Secret.Invalid", "{text}");
            assert!(text.contains(&format!("ROUTES[1].{field} ")), "{text}");
            assert!(text.contains(rule), "{rule}: {text}");
            assert!(!text.contains("SECRETPART"), "{text}");
        }
    }

    #[test]
    fn every_allowed_value_is_accepted() {
        let r = routes(
            json!([{"alarm": ["*", "prod-*-p1", "Ünïcode name (p1)"],
                    "state": ["ALARM", "OK", "INSUFFICIENT_DATA"],
                    "account": ["111122223333", "000000000000"],
                    "region": ["eu-west-1", "us-gov-west-1", "cn-northwest-1", "eusc-de-east-1"],
                    "namespace": ["AWS/EC2", "AWS/ApiGateway", "MyApp/Checkout #2: p99", "aws-custom"],
                    "channel": "C0123ABCD", "mention": "<!here> <!channel> <!subteam^S0123> <@U0123>",
                    "mention_on": ["ALARM", "OK"], "flap_seconds": 0},
                   {"channel": "#alerts-prod_2"}, {"channel": "alerts"}, {"channel": "G0PRIVATE"},
                   {"channel": "#日本語"}, {"state": ["OK"], "mention": "<!here>", "mention_on": ["OK"],
                    "channel": "C1", "flap_seconds": 86400}]),
            true,
        );
        assert_eq!(r.len(), 6);
        assert_eq!(
            r[0].mention_for("OK"),
            Some("<!here> <!channel> <!subteam^S0123> <@U0123>")
        );
        assert_eq!(r[5].mention_for("OK"), Some("<!here>"));
    }
}
