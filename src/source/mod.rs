//! Everything that is not a CloudWatch alarm but still deserves a card: an EventBridge event
//! of any source, or an Amazon Q custom notification. Each source reads into the one `Notice`
//! model, as plain data (no Slack markup); a field a source lacks is left out, or named in
//! `missing`, and never fails the notification.

pub mod autoscaling;
pub mod backup;
pub mod budgets;
pub mod codebuild;
pub mod codepipeline;
pub mod custom;
pub mod ecs;
pub mod eventbridge;
pub mod guardduty;
pub mod health;
pub mod inspector;
pub mod rds;
pub mod securityhub;

use crate::region;
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
    /// The event's own id (EventBridge's `id`): the same for every delivery of one event.
    pub id: Option<String>,
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

/// An EventBridge event from `source` in the tests' account and region, read as a notice:
/// the source readers' tests build theirs with it.
#[cfg(test)]
pub fn read_test_event(
    source: &str,
    kind: &str,
    time: &str,
    resources: Value,
    detail: Value,
) -> Notice {
    let event = serde_json::json!({"detail-type": kind, "source": source,
        "account": "123456789012", "region": "eu-west-1", "time": time,
        "resources": resources, "detail": detail});
    parse(&event, &event.to_string()).expect("a notice")
}

#[cfg(test)]
impl Notice {
    /// Its fields as `(name, value)` pairs, for the tests' comparisons.
    pub fn field_pairs(&self) -> Vec<(&str, &str)> {
        let fields = self.fields.iter();
        fields
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect()
    }
}

impl Notice {
    /// The key of the incident thread it belongs in (app mode): what has a lifecycle (open,
    /// updated, resolved), and a custom notification that names its thread. A one-off, even
    /// with a key, gets a message of its own.
    pub fn thread(&self) -> Option<&str> {
        let key = self.key.as_deref()?;
        (self.status != Status::Info || self.source == "custom").then_some(key)
    }
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

/// Severity labels as Security Hub and Inspector write them.
const LABELS: [(&str, Severity); 5] = [
    ("CRITICAL", Severity::Critical),
    ("HIGH", Severity::High),
    ("MEDIUM", Severity::Medium),
    ("LOW", Severity::Low),
    ("INFORMATIONAL", Severity::Info),
];

/// The severity a label names (`HIGH`), if it is one of AWS's.
fn graded(v: Option<&Value>) -> Option<Severity> {
    let word = v?.as_str()?;
    LABELS.iter().find(|(w, _)| *w == word).map(|(_, s)| *s)
}

/// `High GuardDuty finding: <title>`: a finding's line, its grade first (none when ungraded).
fn finding_line(severity: Severity, what: &str, title: Option<&str>) -> String {
    let label = match severity {
        Severity::Critical => "Critical ",
        Severity::High => "High ",
        Severity::Medium => "Medium ",
        Severity::Low => "Low ",
        Severity::Info => "",
    };
    match title {
        Some(title) => format!("{label}{what} finding: {title}"),
        None => format!("{label}{what} finding"),
    }
}

/// Names listed on a card; an event can name thousands.
const MAX_LISTED: usize = 20;

/// The `key` text of each object in `list`: the first `MAX_LISTED`, then how many more.
fn listed(list: Option<&Value>, key: &str) -> Vec<String> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    let mut all: Vec<String> = list.iter().filter_map(|e| text(e.get(key))).collect();
    let more = all.len().saturating_sub(MAX_LISTED);
    if more > 0 {
        all.truncate(MAX_LISTED);
        all.push(format!("… and {more} more"));
    }
    all
}

/// A table's fields, in its order: each title whose value (at a JSON pointer into `v`) is a
/// scalar, at most [`MAX_FIELDS`]. One table per source reads shorter, and compiles smaller,
/// than a chain of lookups per field.
fn fields(v: &Value, table: &[(&str, &str)]) -> Vec<Field> {
    table
        .iter()
        .filter_map(|(name, at)| field(name, v.pointer(at)))
        .take(MAX_FIELDS)
        .collect()
}

/// Each named moment (at a JSON pointer into `v`) that is text: as ISO 8601 when [`iso`]
/// reads it, else as it came.
fn push_times(notice: &mut Notice, v: &Value, moments: &[(&'static str, &str)]) {
    for (name, at) in moments {
        if let Some(at) = text(v.pointer(at)) {
            let at = iso(&at).unwrap_or(at);
            notice.times.push(Moment { name, at });
        }
    }
}

/// Names each documented part whose reading came back empty.
fn require<const N: usize>(notice: &mut Notice, parts: [(&'static str, bool); N]) {
    for (name, present) in parts {
        if !present {
            notice.missing.push(name);
        }
    }
}

/// A name or id AWS writes in letters, digits and `-_.@`: safe in a URL's path as it is,
/// where anything else would need escaping and gets no link instead.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
}

/// `https://<region>.<console>/<path>?region=<region>`: a page of the notice's region in
/// its partition's console, if both are codes and the partition has a public console.
fn console_link(notice: &Notice, path: &str) -> Option<String> {
    let host = region::console_host(notice.partition.as_deref()?)?;
    let r = notice.region.as_deref().filter(|r| region::is_code(r))?;
    Some(format!("https://{r}.{host}/{path}?region={r}"))
}

/// The ARN of what an event names only by its name (a pipeline, a project), from the
/// envelope: the same for each of its events, and another account's or region's differs.
fn arn(notice: &Notice, service: &str, resource: &str) -> String {
    format!(
        "arn:{}:{service}:{}:{}:{resource}",
        notice.partition.as_deref().unwrap_or("aws"),
        notice.region.as_deref().unwrap_or_default(),
        notice.account.as_deref().unwrap_or_default()
    )
}

/// The title, `parts` and then `state` in words (`TIMED_OUT` as `timed out`), and the line
/// notifications show: the title, and where.
fn headline(notice: &mut Notice, parts: &[Option<&str>], state: Option<&str>) {
    let mut title = String::new();
    for part in parts.iter().flatten() {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(part);
    }
    if let Some(state) = state {
        title.push(' ');
        title.push_str(&state.to_ascii_lowercase().replace('_', " "));
    }
    notice.title = title;
    notice.summary = Some(line(notice, None));
}

/// What follows the last `/` of an ARN: a cluster's or a task's name, a build's
/// `project:uuid`, a task definition's `family:revision`.
fn after_slash(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A date in words as ISO 8601: Health writes `Wed, 15 Feb 2023 22:07:07 GMT`, Inspector
/// `Wed Sep 04 16:59:44.356 UTC 2024`. After the weekday, each of day, month, year, clock and
/// zone once, in any order; `None` for anything else (shown as it came).
fn iso(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let mut words = s.split_whitespace();
    let weekday = words.next()?;
    if !weekday
        .trim_end_matches(',')
        .bytes()
        .all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    let (mut day, mut month, mut year, mut clock, mut zone) = (None, None, None, None, None);
    let mut count = 0;
    for w in words {
        count += 1;
        if let Some(m) = MONTHS.iter().position(|m| *m == w) {
            month = Some(m + 1);
        } else if matches!(w, "GMT" | "UTC") {
            zone = Some(());
        } else if w.len() == 4 && digits(w) {
            year = Some(w);
        } else if w.len() <= 2 && digits(w) {
            day = w.parse::<u8>().ok().filter(|d| (1..=31).contains(d));
        } else if is_clock(w) {
            clock = Some(w);
        } else {
            return None;
        }
    }
    // Five words and all five parts: none came twice.
    zone.filter(|_| count == 5)?;
    let (day, month, year, clock) = (day?, month?, year?, clock?);
    Some(format!("{year}-{month:02}-{day:02}T{clock}Z"))
}

/// `HH:MM:SS`, then perhaps a fraction (`.356`). Bytes, not `str` slices: a word may hold
/// any character.
fn is_clock(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 8
        && b[..8].iter().enumerate().all(|(i, &c)| match i {
            2 | 5 => c == b':',
            _ => c.is_ascii_digit(),
        })
        && match &b[8..] {
            [] => true,
            [b'.', fraction @ ..] => {
                !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit)
            }
            _ => false,
        }
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

/// The last part of an ARN or path (`vol-0abc` of `arn:aws:ec2:…:volume/vol-0abc`).
fn last_part(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// `…/<service>/home?region=<region>#<page><id>`: a page of a service's console that names
/// one thing, `id`, when the id is [`plain`] (a link that would need escaping is left out
/// rather than built wrong).
fn console_page(notice: &Notice, service: &str, page: &str, id: &str) -> Option<String> {
    let base = console_link(notice, &format!("{service}/home")).filter(|_| plain(id))?;
    Some(format!("{base}#{page}{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_tables_and_links() {
        let d = json!({"a": {"b-c": 1}, "s": "x", "n": null});
        let f = fields(
            &d,
            &[("N", "/n"), ("B", "/a/b-c"), ("X", "/a/x/y"), ("S", "/s")],
        );
        assert_eq!((f[0].name.as_str(), f[0].value.as_str()), ("B", "1"));
        assert_eq!(f.len(), 2);
        let seven = [("S", "/s"); 7];
        assert_eq!(fields(&d, &seven).len(), MAX_FIELDS);
        assert_eq!(after_slash("arn:aws:ecs:r:1:task/c/t1"), "t1");
        assert_eq!(after_slash("plain"), "plain");
        assert!(plain("my-pipe_1.x@y") && !plain("a/b") && !plain("") && !plain("a b"));
        let mut n = Notice {
            partition: Some("aws-cn".into()),
            region: Some("cn-north-1".into()),
            account: Some("1".into()),
            ..Notice::default()
        };
        assert_eq!(
            console_link(&n, "x/y").as_deref(),
            Some("https://cn-north-1.console.amazonaws.cn/x/y?region=cn-north-1")
        );
        assert_eq!(
            arn(&n, "codebuild", "project/p"),
            "arn:aws-cn:codebuild:cn-north-1:1:project/p"
        );
        n.partition = Some("aws-iso".into());
        assert_eq!(console_link(&n, "x"), None);
        headline(&mut n, &[Some("A:"), None, Some("b")], Some("TIMED_OUT"));
        assert_eq!(n.title, "A: b timed out");
        assert_eq!(n.summary.as_deref(), Some("A: b timed out in cn-north-1"));
        require(&mut n, [("x", true), ("y", false)]);
        assert_eq!(n.missing, ["y"]);
    }

    #[test]
    fn console_pages_need_a_partition_a_region_and_a_plain_id() {
        let mut n = Notice {
            partition: Some("aws-cn".into()),
            region: Some("cn-north-1".into()),
            ..Notice::default()
        };
        assert_eq!(
            console_page(&n, "rds", "database:id=", "db-1").as_deref(),
            Some("https://cn-north-1.console.amazonaws.cn/rds/home?region=cn-north-1#database:id=db-1")
        );
        assert_eq!(console_page(&n, "rds", "x=", "a b"), None);
        assert_eq!(console_page(&n, "rds", "x=", ""), None);
        n.region = Some("CN North".into());
        assert_eq!(console_page(&n, "rds", "x=", "a"), None);
        assert_eq!(last_part("arn:aws:ec2:r:1:volume/vol-1"), "vol-1");
        assert_eq!(last_part("arn:aws:rds:r:1:db:orders"), "orders");
        assert_eq!(last_part("plain"), "plain");
    }

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
    fn what_has_a_lifecycle_or_names_its_thread_is_threaded() {
        let notice = |source: &str, status, key: Option<&str>| Notice {
            source: source.into(),
            status,
            key: key.map(str::to_string),
            ..Notice::default()
        };
        let gd = notice("aws.guardduty", Status::Updated, Some("f1"));
        assert_eq!(gd.thread(), Some("f1"));
        assert_eq!(notice("aws.rds", Status::Info, Some("db1")).thread(), None);
        assert_eq!(
            notice("custom", Status::Info, Some("t1")).thread(),
            Some("t1")
        );
        assert_eq!(notice("aws.health", Status::Open, None).thread(), None);
    }

    #[test]
    fn severities_are_ordered_worst_first_and_named() {
        assert!(Severity::Critical < Severity::High && Severity::Low < Severity::Info);
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("High"), None);
    }

    #[test]
    fn dates_in_words_become_iso() {
        for (words, expected) in [
            ("Wed, 1 Feb 2023 22:07:07 GMT", "2023-02-01T22:07:07Z"),
            (
                "Wed Sep 04 16:59:44.356 UTC 2024",
                "2024-09-04T16:59:44.356Z",
            ),
            ("Sat Nov 28 09:41:07 UTC 2026", "2026-11-28T09:41:07Z"),
        ] {
            assert_eq!(iso(words).as_deref(), Some(expected), "{words}");
        }
        for odd in [
            "Wed Sep 04 16:59:44. UTC 2024",
            "Wed Sep 04 16:59:44.3a UTC 2024",
            "Wed Sep 04 16:59:44.356 UTC 2024 2025",
            "Wed Sep Sep 16:59:44 UTC 2024",
            "Wed Sep 04 16:59:44 UTC",
            "Wed Sep 00 16:59:44 UTC 2024",
            "Wed Sep 04 16:59:4é UTC 2024",
            "Wed Sep 04 16:59:44é UTC 2024",
            "Wed, 1 Feb 2023 22:07:07 CET",
            "1 Feb 2023 22:07:07 GMT",
        ] {
            assert_eq!(iso(odd), None, "{odd}");
        }
    }

    #[test]
    fn lists_name_the_first_twenty_and_count_the_rest() {
        let list: Value = (0..22).map(|i| json!({"id": format!("r{i}")})).collect();
        let names = listed(Some(&list), "id");
        assert_eq!(names.len(), MAX_LISTED + 1);
        assert_eq!(names[MAX_LISTED], "… and 2 more");
        assert_eq!(listed(Some(&json!([{"id": 1}, {"id": "a"}])), "id"), ["a"]);
        assert!(listed(Some(&json!({"id": "a"})), "id").is_empty());
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
