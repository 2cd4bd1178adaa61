//! Everything that is not a CloudWatch alarm but still deserves a card: an EventBridge event
//! of any source, or an Amazon Q custom notification. Each source reads into the one `Notice`
//! model, as plain data (no Slack markup); a field a source lacks is left out, or named in
//! `missing`, and never fails the notification.

pub mod autoscaling;
pub mod backup;
pub mod budgets;
pub mod custom;
pub mod eventbridge;
pub mod guardduty;
pub mod health;
pub mod rds;

use serde_json::Value;

/// How bad, as the sources that grade it say; `Info` for those that do not. Worst first, so
/// that `a <= b` reads "a is at least as bad as b".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    #[default]
    Info,
}

impl Severity {
    /// Every level by the word `ROUTES` and the docs use for it.
    pub const WORDS: [(&'static str, Severity); 5] = [
        ("critical", Severity::Critical),
        ("high", Severity::High),
        ("medium", Severity::Medium),
        ("low", Severity::Low),
        ("info", Severity::Info),
    ];

    /// The level named `word` (lower case), if one is.
    pub fn parse(word: &str) -> Option<Severity> {
        Self::WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, s)| *s)
    }
}

/// Where in its lifecycle the thing it reports is; `Info` for a one-off.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Status {
    Open,
    Updated,
    Resolved,
    #[default]
    Info,
}

/// One named value of a card, as the source wrote it.
#[derive(Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A named moment of the source's own (`First seen`), as the source wrote it: ISO 8601
/// where it can be (the card shows it as a date token in each reader's time zone).
#[derive(Debug, PartialEq)]
pub struct Moment {
    pub name: &'static str,
    pub at: String,
}

/// At most this many fields of a source's own: a card stays readable at a glance.
pub const MAX_FIELDS: usize = 6;

#[derive(Debug, PartialEq, Default)]
pub struct Notice {
    /// Who sent it: EventBridge's `source` (`aws.guardduty`), or `custom`.
    pub source: String,
    /// What kind: EventBridge's `detail-type`, a custom notification's `eventType`.
    pub kind: Option<String>,
    pub title: String,
    /// The line notifications show, when the source has one of its own (else the title, and
    /// an EventBridge event's source).
    pub summary: Option<String>,
    /// The source's own words about it.
    pub description: Option<String>,
    pub severity: Severity,
    pub status: Status,
    /// What names the same thing across its events (a later thread's key).
    pub key: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
    /// As sent, e.g. `2026-11-28T11:40:02Z`.
    pub time: Option<String>,
    /// ARNs, or whatever the source names its resources by.
    pub resources: Vec<String>,
    /// A console page, for the title.
    pub link: Option<String>,
    pub fields: Vec<Field>,
    pub times: Vec<Moment>,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
    /// What the source's documented shape has and this event lacked or had mistyped.
    pub missing: Vec<&'static str>,
    /// The event as it came (JSON text), when the card cannot show all of it.
    pub raw: Option<String>,
    /// Routine news (a pipeline started or succeeded, a service scaled in): posted only where
    /// a route that matches it sends it, never to the default target.
    pub routine: bool,
}

/// The notice in a JSON document, if it is an Amazon Q custom notification or an EventBridge
/// event (CloudWatch alarms are read before this, by the alarm model). `raw` is the
/// document's text, kept for the card's full view.
pub fn parse(v: &Value, raw: &str) -> Option<Notice> {
    if let Some(notice) = custom::parse(v, raw) {
        return Some(notice);
    }
    eventbridge::parse(v, raw)
}

/// A string value, trimmed; anything else (a number, `null`, an object) is not one.
fn text(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A field of `detail` as text: a string, or a number or boolean as JSON writes it.
fn field(name: &str, v: Option<&Value>) -> Option<Field> {
    Some(Field {
        name: name.to_string(),
        value: scalar(v?)?,
    })
}

/// A list of strings; other entries are skipped.
fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(list)) => list.iter().filter_map(|s| text(Some(s))).collect(),
        _ => Vec::new(),
    }
}

/// A scalar as words: strings as they are, numbers and booleans as JSON writes them.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The partition of an `arn:{partition}:…` string, if it names a code.
fn partition_of(arn: &str) -> Option<&str> {
    let partition = arn.strip_prefix("arn:")?.split(':').next()?;
    crate::region::is_code(partition).then_some(partition)
}

/// The last part of an ARN or path (`vol-0abc` of `arn:aws:ec2:…:volume/vol-0abc`).
fn last_part(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// A page of a service's console in the notice's partition and region:
/// `https://<region>.<console host>/<service>/home?region=<region>#<page>`. `id`, the one
/// value the page names, must be letters, digits, `-`, `_` or `.` (up to 256 of them): a link
/// that would need escaping is left out rather than built wrong.
fn console_link(notice: &Notice, service: &str, page: &str, id: &str) -> Option<String> {
    let host = crate::region::console_host(notice.partition.as_deref()?)?;
    let r = notice
        .region
        .as_deref()
        .filter(|r| crate::region::is_code(r))?;
    let plain = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    plain.then(|| format!("https://{r}.{host}/{service}/home?region={r}#{page}{id}"))
}

/// Names each documented part that is not there.
fn note_missing(notice: &mut Notice, parts: &[(&'static str, bool)]) {
    for (name, present) in parts {
        if !present {
            notice.missing.push(name);
        }
    }
}

/// The value at `path` (keys joined by `.`, outermost first) in `v`.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

/// The fields a table names, label and path, in its order; those not there are left out.
fn fields(v: &Value, table: &[(&str, &str)]) -> Vec<Field> {
    table
        .iter()
        .filter_map(|(name, path)| field(name, at(v, path)))
        .collect()
}

/// The moments a table names, label and key, that `v` has as text.
fn moments(v: &Value, table: &[(&'static str, &str)]) -> Vec<Moment> {
    table
        .iter()
        .filter_map(|(name, key)| {
            Some(Moment {
                name,
                at: text(v.get(key))?,
            })
        })
        .collect()
}

/// The text line: the title, where, and what the source calls it (`RDS-EVENT-0013`).
fn line(notice: &Notice, tag: Option<&str>) -> String {
    let mut line = notice.title.clone();
    if let Some(r) = &notice.region {
        line.push_str(" in ");
        line.push_str(r);
    }
    if let Some(tag) = tag {
        line.push_str(" (");
        line.push_str(tag);
        line.push(')');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_leniently() {
        assert_eq!(text(Some(&json!("  a "))), Some("a".into()));
        assert_eq!(text(Some(&json!(" "))), None);
        assert_eq!(text(Some(&json!(7))), None);
        assert_eq!(texts(Some(&json!(["a", 1, null, "b"]))), ["a", "b"]);
        assert!(texts(Some(&json!("a"))).is_empty());
        assert_eq!(scalar(&json!(1.5)), Some("1.5".into()));
        assert_eq!(scalar(&json!(false)), Some("false".into()));
        assert_eq!(scalar(&json!(null)), None);
        assert_eq!(scalar(&json!({"a": 1})), None);
    }

    #[test]
    fn severities_are_ordered_worst_first_and_named() {
        assert!(Severity::Critical < Severity::High && Severity::Low < Severity::Info);
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("High"), None);
    }

    #[test]
    fn console_links_need_a_partition_a_region_and_a_plain_id() {
        let mut n = Notice {
            partition: Some("aws-cn".into()),
            region: Some("cn-north-1".into()),
            ..Notice::default()
        };
        assert_eq!(
            console_link(&n, "rds", "database:id=", "db-1").as_deref(),
            Some("https://cn-north-1.console.amazonaws.cn/rds/home?region=cn-north-1#database:id=db-1")
        );
        assert_eq!(console_link(&n, "rds", "x=", "a b"), None);
        assert_eq!(console_link(&n, "rds", "x=", ""), None);
        n.region = Some("CN North".into());
        assert_eq!(console_link(&n, "rds", "x=", "a"), None);
        assert_eq!(last_part("arn:aws:ec2:r:1:volume/vol-1"), "vol-1");
        assert_eq!(last_part("arn:aws:rds:r:1:db:orders"), "orders");
        assert_eq!(last_part("plain"), "plain");
    }

    #[test]
    fn partitions_come_from_arns_that_name_one() {
        assert_eq!(
            partition_of("arn:aws-cn:ec2:cn-north-1:1:instance/i"),
            Some("aws-cn")
        );
        assert_eq!(partition_of("arn:AWS:x"), None);
        assert_eq!(partition_of("i-0abc"), None);
    }
}
