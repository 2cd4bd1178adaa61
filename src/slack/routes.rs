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
//! globs); the conditions present must all hold. `mention` is added on `ALARM` only, or on
//! the states in `mention_on`. `flap_seconds` turns an `OK` that follows its `ALARM`
//! within that many seconds into a one-line note.

use super::webhook::Webhook;
use crate::alarm::event::Notification;
use crate::alarm::trigger::Trigger;
use crate::error::Error;
use serde_json::{Map, Value};

pub struct Route {
    alarm: Vec<String>,
    state: Vec<String>,
    account: Vec<String>,
    region: Vec<String>,
    namespace: Vec<String>,
    pub target: RouteTarget,
    pub mention: Option<String>,
    mention_on: Vec<String>,
    pub flap_seconds: Option<u64>,
}

pub enum RouteTarget {
    /// App mode: a channel (ID or name).
    Channel(String),
    /// Webhook mode: a webhook, a credential like the default one.
    Webhook(Webhook),
}

const KEYS: [&str; 10] = [
    "alarm",
    "state",
    "account",
    "region",
    "namespace",
    "channel",
    "webhook",
    "mention",
    "mention_on",
    "flap_seconds",
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
            "is not a route field; use alarm, state, account, region, namespace, channel, webhook, mention, mention_on or flap_seconds",
        ));
    }
    let list = |field: &str| -> Result<Vec<String>, Error> {
        match fields.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(invalid(field, "must hold only non-empty strings")),
                })
                .collect(),
            Some(_) => Err(invalid(
                field,
                "must be a non-empty list of strings, such as [\"a\", \"b\"]",
            )),
        }
    };
    let target = match (app_mode, text(fields, "channel"), fields.get("webhook")) {
        (true, Some(channel), None) => RouteTarget::Channel(channel),
        (true, _, Some(_)) => {
            return Err(invalid(
                "webhook",
                "is for webhook mode; in app mode (SLACK_BOT_TOKEN) a route names a channel",
            ))
        }
        (true, None, None) => {
            return Err(invalid(
                "channel",
                "is missing: name the channel ID this route posts to",
            ))
        }
        (false, _, Some(Value::String(url))) => {
            RouteTarget::Webhook(Webhook::new(url.trim(), &format!("ROUTES[{i}].webhook"))?)
        }
        (false, _, Some(_)) => return Err(invalid("webhook", "must be a string")),
        (false, _, None) => {
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
                "must be Slack mentions separated by spaces: <!here>, <!channel>, <!subteam^S0123>, <@U0123>",
            ))
        }
    };
    let mention_on = list("mention_on")?;
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
    Ok(Route {
        alarm: list("alarm")?,
        state: list("state")?,
        account: list("account")?,
        region: list("region")?,
        namespace: list("namespace")?,
        target,
        mention,
        mention_on: if mention_on.is_empty() {
            vec!["ALARM".to_string()]
        } else {
            mention_on
        },
        flap_seconds,
    })
}

fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Slack's mention syntax only, so that a route cannot smuggle a link or markup in.
fn is_mention(text: &str) -> bool {
    !text.is_empty()
        && text.split(' ').filter(|t| !t.is_empty()).all(|token| {
            let Some(inner) = token.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
                return false;
            };
            let id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
            matches!(inner, "!here" | "!channel" | "!everyone")
                || inner.strip_prefix("!subteam^").is_some_and(id)
                || inner.strip_prefix('@').is_some_and(id)
        })
}

impl Route {
    /// Whether every condition present holds for `notification`. A message that is not an
    /// alarm matches only a route without conditions.
    pub fn matches(&self, notification: &Notification) -> bool {
        let Notification::Alarm(alarm) = notification else {
            return [
                &self.alarm,
                &self.state,
                &self.account,
                &self.region,
                &self.namespace,
            ]
            .iter()
            .all(|c| c.is_empty());
        };
        let any = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
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
        let other_account = routes(json!([{"account": ["999"], "channel": "C1"}]), true);
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
                json!([{"channel": "C1"}]),
                false,
                "ROUTES[0].webhook is missing",
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
}
