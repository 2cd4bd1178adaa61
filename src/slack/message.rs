//! Turns a notification into the JSON payload for a Slack incoming webhook: the seed line
//! in `text` (what notifications show and what users search for) and, for an alarm or
//! another source's notice, a card coloured by its state or severity.

use super::controls::{self, Controls};
use super::mrkdwn::{self, cut, escape, escape_cut};
use super::trigger_words;
use crate::alarm::arn::{self, Arn};
use crate::alarm::event::Notification;
use crate::alarm::trigger::{Child, Trigger};
use crate::alarm::Alarm;
use crate::json::{self, Object};
use crate::source::{Notice, Severity, Status};
use std::borrow::Cow;

/// Slack cuts `text` at 40,000 characters; stay below it and show the cut.
pub const MAX_TEXT_CHARS: usize = 39_000;
/// Slack documents no limits for legacy attachments; these keep a card within what it
/// allows a Block Kit section (3,000 characters), and a title to the longest alarm name.
const MAX_CARD_TEXT_CHARS: usize = 3_000;
const MAX_FIELD_CHARS: usize = 2_000;
const MAX_TITLE_CHARS: usize = 255;
const MAX_SUBJECT_CHARS: usize = 250;

/// `MESSAGE_FORMAT`: the card, or only the seed's one line.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Format {
    #[default]
    Card,
    Text,
}

impl Format {
    pub fn parse(value: &str) -> Option<Format> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("card") {
            Some(Format::Card)
        } else if value.eq_ignore_ascii_case("text") {
            Some(Format::Text)
        } else {
            None
        }
    }
}

/// How and to whom: the format, and what the secret says about the channel and sender.
/// The rest is for the Web API only; a webhook payload never carries it.
#[derive(Clone, Default)]
pub struct Options<'a> {
    pub format: Format,
    pub channel: Option<&'a str>,
    pub username: Option<&'a str>,
    pub icon_emoji: Option<&'a str>,
    /// mrkdwn of ours added on a line of its own after the alarm's line: a route's
    /// mentions, or a flap note.
    pub suffix: Option<&'a str>,
    /// `METRIC_GRAPH`: the metric's recent values as a card field (plain text; escaped here).
    pub sparkline: Option<&'a str>,
    pub web_api: Option<WebApiFields<'a>>,
}

/// What a Web API message adds: where it goes in a thread, which message it updates,
/// the incident's state in words, and the metadata that finds it again.
#[derive(Clone, Default)]
pub struct WebApiFields<'a> {
    /// The parent's `ts`: post as a reply in its thread.
    pub thread_ts: Option<&'a str>,
    /// `chat.update` of this message.
    pub ts: Option<&'a str>,
    /// `Firing for 2 h 5 min`: a card field on an incident's parent (mrkdwn).
    pub incident: Option<&'a str>,
    /// `metadata`, as JSON.
    pub metadata: Option<&'a str>,
    /// An incident parent's buttons and marks, as `blocks` above the card.
    pub controls: Option<&'a Controls<'a>>,
}

/// A legacy attachment: the only way to get the coloured bar.
struct Attachment {
    color: &'static str,
    fallback: String,
    title: String,
    title_link: Option<String>,
    text: String,
    fields: Vec<Field>,
}

struct Field {
    title: Cow<'static, str>,
    value: String,
    short: bool,
}

impl Field {
    /// `value` is mrkdwn we escaped already.
    fn new(title: &'static str, value: String, short: bool) -> Field {
        Field {
            title: Cow::Borrowed(title),
            value: cut(value, MAX_FIELD_CHARS),
            short,
        }
    }
}

/// The payload as posted: compact JSON, keys in the order Slack's documentation uses.
#[inline(never)] // Shared by the handler and `render`: one copy, not one per caller.
pub fn render(notification: &Notification, options: &Options) -> String {
    // A card is 1 to 3 KB.
    let mut payload = Object::with_capacity(4096);
    let mut card = None;
    let controls = options.web_api.as_ref().and_then(|w| w.controls);
    match notification {
        Notification::Alarm(alarm) => {
            let seed = seed_line(alarm);
            if options.format == Format::Card {
                let incident = options.web_api.as_ref().and_then(|w| w.incident);
                card = Some(self::card(alarm, &seed, incident, options.sparkline));
            }
            let text = match options.suffix {
                Some(suffix) => format!("{seed}\n{suffix}"),
                None => seed,
            };
            payload.string("text", &text);
            if let Some(controls) = controls {
                payload.raw("blocks", &controls::blocks(&text, controls));
            }
        }
        Notification::Notice(notice) => {
            let seed = notice_line(notice);
            if options.format == Format::Card {
                let incident = options.web_api.as_ref().and_then(|w| w.incident);
                card = Some(notice_card(notice, &seed, incident));
            }
            let mut text = match options.suffix {
                Some(suffix) => format!("{seed}\n{suffix}"),
                None => seed,
            };
            if let Some(raw) = &notice.raw {
                // Slack folds a long message under "Show more": the event in full, for
                // whatever the card does not show.
                let budget = MAX_TEXT_CHARS.saturating_sub(text.chars().count() + 16);
                text.push('\n');
                text.push_str(&code_block(raw, budget));
            }
            payload.string("text", &text);
            if let Some(controls) = controls {
                payload.raw("blocks", &controls::blocks(&text, controls));
            }
        }
        Notification::Text {
            subject,
            message,
            json,
        } => payload.string("text", &text_message(subject.as_deref(), message, *json)),
    }
    let sender = [
        ("channel", options.channel),
        ("username", options.username),
        ("icon_emoji", options.icon_emoji),
    ];
    for (key, value) in sender {
        if let Some(value) = value {
            payload.string(key, value);
        }
    }
    if let Some(web_api) = &options.web_api {
        let thread = [("thread_ts", web_api.thread_ts), ("ts", web_api.ts)];
        for (key, value) in thread {
            if let Some(value) = value {
                payload.string(key, value);
            }
        }
    }
    if let Some(card) = card {
        payload.array("attachments", |list| list.object(|o| card.write(o)));
    }
    if let Some(web_api) = &options.web_api {
        if web_api.ts.is_none() {
            // Console links stay links, not previews.
            payload.raw("unfurl_links", "false");
            payload.raw("unfurl_media", "false");
        }
        if let Some(metadata) = web_api.metadata {
            payload.raw("metadata", metadata);
        }
    }
    payload.finish()
}

impl Attachment {
    /// Written in place in the payload: no text of its own to copy in.
    fn write(&self, card: &mut Object) {
        card.string("color", self.color);
        card.string("fallback", &self.fallback);
        card.string("title", &self.title);
        if let Some(link) = &self.title_link {
            card.string("title_link", link);
        }
        card.string("text", &self.text);
        card.array("fields", |list| {
            for f in &self.fields {
                list.object(|field| {
                    field.string("title", &f.title);
                    field.string("value", &f.value);
                    field.bool("short", f.short);
                });
            }
        });
        card.raw("mrkdwn_in", r#"["text","fields"]"#);
    }
}

/// `<AlarmName> state is now <NewStateValue>: <NewStateReason>`: the line users search for.
pub fn seed_line(alarm: &Alarm) -> String {
    let line = format!(
        "{} state is now {}: {}",
        escape(&alarm.name),
        escape(&alarm.new_state),
        escape(&alarm.reason)
    );
    cut(line, MAX_TEXT_CHARS)
}

/// Any other SNS message, under its subject in bold; JSON laid out in a code block.
fn text_message(subject: Option<&str>, message: &str, json: bool) -> String {
    let mut text = match subject {
        Some(subject) => format!("*{}*\n", escape_cut(subject, MAX_SUBJECT_CHARS)),
        None => String::new(),
    };
    // Room for the subject and the code fences.
    let budget = MAX_TEXT_CHARS - MAX_SUBJECT_CHARS - 16;
    if json {
        text.push_str(&code_block(message, budget));
    } else {
        text.push_str(&escape_cut(message, budget));
    }
    text
}

/// JSON laid out in a code block, within `budget` characters between the fences.
fn code_block(json: &str, budget: usize) -> String {
    format!(
        "```\n{}\n```",
        escape_cut(&json::indent(json, MAX_TEXT_CHARS * 4), budget)
    )
}

/// A notice's line: its summary, else its title, and an EventBridge event's source.
fn notice_line(notice: &Notice) -> String {
    match (&notice.summary, &notice.kind) {
        (Some(summary), _) => escape_cut(summary, MAX_SUBJECT_CHARS),
        (None, Some(_)) if notice.source != "custom" => escape_cut(
            &format!("{} from {}", notice.title, notice.source),
            MAX_SUBJECT_CHARS,
        ),
        (None, _) => escape_cut(&notice.title, MAX_SUBJECT_CHARS),
    }
}

/// The card of any source: what, how bad, where, and the source's own fields.
fn notice_card(notice: &Notice, seed: &str, incident: Option<&str>) -> Attachment {
    let mut fields = Vec::new();
    if let Some(severity) = severity_word(notice.severity) {
        fields.push(Field::new("Severity", severity.to_string(), true));
    }
    if let Some(status) = status_word(notice.status) {
        fields.push(Field::new("Status", status.to_string(), true));
    }
    if let Some(incident) = incident {
        fields.push(Field::new("Incident", incident.to_string(), true));
    }
    for field in &notice.fields {
        let value = escape(&field.value);
        fields.push(Field {
            title: Cow::Owned(escape_cut(&field.name, MAX_TITLE_CHARS)),
            short: value.chars().count() <= SHORT_FIELD_CHARS,
            value: cut(value, MAX_FIELD_CHARS),
        });
    }
    for moment in &notice.times {
        fields.push(Field::new(moment.name, mrkdwn::date(&moment.at), true));
    }
    if !notice.next_steps.is_empty() {
        let steps: Vec<String> = notice
            .next_steps
            .iter()
            .map(|s| format!("• {}", escape(s)))
            .collect();
        fields.push(Field::new("Next steps", steps.join("\n"), false));
    }
    if !notice.keywords.is_empty() {
        let words: Vec<String> = notice.keywords.iter().map(|k| escape(k)).collect();
        fields.push(Field::new("Keywords", words.join(", "), false));
    }
    if !notice.resources.is_empty() {
        let title = if notice.resources.len() == 1 {
            "Resource"
        } else {
            "Resources"
        };
        let list: Vec<String> = notice.resources.iter().map(|r| escape(r)).collect();
        fields.push(Field::new(title, list.join("\n"), false));
    }
    if let Some(kind) = &notice.kind {
        if *kind != notice.title {
            fields.push(Field::new("Type", escape(kind), true));
        }
    }
    fields.push(Field::new("Source", escape(&notice.source), true));
    if let Some(at) = &notice.time {
        fields.push(Field::new("Time", mrkdwn::date(at), true));
    }
    if let Some(account) = &notice.account {
        fields.push(Field::new("Account", escape(account), true));
    }
    if let Some(region) = &notice.region {
        fields.push(Field::new("Region", escape(region), true));
    }
    if !notice.missing.is_empty() {
        fields.push(Field::new("Missing", notice.missing.join(", "), false));
    }
    Attachment {
        color: notice_color(notice),
        fallback: cut(seed.to_string(), MAX_CARD_TEXT_CHARS),
        title: escape_cut(&notice.title, MAX_TITLE_CHARS),
        title_link: notice.link.clone(),
        text: notice
            .description
            .as_deref()
            .map(|d| escape_cut(d, MAX_CARD_TEXT_CHARS))
            .unwrap_or_default(),
        fields,
    }
}

/// A value this short sits beside another; a longer one gets the card's width.
const SHORT_FIELD_CHARS: usize = 40;

fn notice_color(notice: &Notice) -> &'static str {
    if notice.status == Status::Resolved {
        return "good";
    }
    match notice.severity {
        Severity::Critical | Severity::High => "danger",
        Severity::Medium => "warning",
        Severity::Low => "#439FE0",
        Severity::Info => "#9E9E9E",
    }
}

/// `None` for a notice no source graded.
fn severity_word(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("Critical"),
        Severity::High => Some("High"),
        Severity::Medium => Some("Medium"),
        Severity::Low => Some("Low"),
        Severity::Info => None,
    }
}

/// `None` for a one-off.
fn status_word(status: Status) -> Option<&'static str> {
    match status {
        Status::Open => Some("Open"),
        Status::Updated => Some("Updated"),
        Status::Resolved => Some("Resolved"),
        Status::Info => None,
    }
}

fn card(alarm: &Alarm, seed: &str, incident: Option<&str>, sparkline: Option<&str>) -> Attachment {
    let mut fields = Vec::new();
    let state = match &alarm.old_state {
        Some(old) => format!("{} → {}", escape(old), escape(&alarm.new_state)),
        None => escape(&alarm.new_state),
    };
    fields.push(Field::new("State", state, true));
    if let Some(incident) = incident {
        fields.push(Field::new("Incident", incident.to_string(), true));
    }
    if let Some(at) = &alarm.changed_at {
        fields.push(Field::new("Changed", mrkdwn::date(at), true));
    }
    if let Some(description) = &alarm.description {
        fields.push(Field::new("Description", escape(description), false));
    }
    match &alarm.trigger {
        Trigger::Threshold(rule) => {
            fields.push(Field::new("Trigger", trigger_words::words(rule), false));
            let lines = trigger_words::metric_lines(rule);
            let title = if lines.len() == 1 {
                "Metric"
            } else {
                "Metrics"
            };
            if !lines.is_empty() {
                fields.push(Field::new(title, lines.join("\n"), false));
            }
            if let Some(sparkline) = sparkline {
                fields.push(Field::new("Recent values", escape(sparkline), false));
            }
        }
        Trigger::Composite { rule, children } => {
            if let Some(rule) = rule {
                fields.push(Field::new("Rule", trigger_words::code(rule), false));
            }
            if !children.is_empty() {
                fields.push(Field::new("Triggered by", child_list(children), false));
            }
        }
        Trigger::None => {}
    }
    if let Some(account) = &alarm.account {
        fields.push(Field::new("Account", escape(account), true));
    }
    if let Some(region) = &alarm.region {
        fields.push(Field::new("Region", escape(region), true));
    }
    let title_link = match (&alarm.partition, &alarm.region) {
        (Some(partition), Some(region)) => arn::console_url(partition, region, &alarm.name),
        _ => None,
    };
    Attachment {
        color: color(&alarm.new_state),
        fallback: cut(seed.to_string(), MAX_CARD_TEXT_CHARS),
        title: escape_cut(&alarm.name, MAX_TITLE_CHARS),
        title_link,
        text: escape_cut(&alarm.reason, MAX_CARD_TEXT_CHARS),
        fields,
    }
}

fn color(state: &str) -> &'static str {
    match state {
        "ALARM" => "danger",
        "OK" => "good",
        "INSUFFICIENT_DATA" => "warning",
        _ => "#9E9E9E",
    }
}

/// One line per child, linked to its console page; whole lines only, so a cut never
/// breaks a link.
fn child_list(children: &[Child]) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for (i, child) in children.iter().enumerate() {
        let line = child_line(child);
        let len = line.chars().count() + 1;
        // Leave room for the line that says how many did not fit.
        if chars + len > MAX_FIELD_CHARS - 32 {
            out.push_str(&format!("… and {} more", children.len() - i));
            break;
        }
        out.push_str(&line);
        out.push('\n');
        chars += len;
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

fn child_line(child: &Child) -> String {
    let arn = Arn::parse(&child.arn);
    let name = arn.as_ref().and_then(Arn::alarm_name).unwrap_or(&child.arn);
    let label = escape_cut(name, MAX_TITLE_CHARS);
    let mut line = match arn.and_then(|a| arn::console_url(a.partition, a.region, name)) {
        Some(url) => format!("<{url}|{label}>"),
        None => label,
    };
    if let Some(state) = &child.state {
        line.push_str(&format!(" ({})", escape_cut(state, 40)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn alarm(name: &str) -> Alarm {
        Alarm {
            name: name.into(),
            new_state: "ALARM".into(),
            old_state: Some("OK".into()),
            reason: "Threshold Crossed: 1 datapoint [95.0] > 80".into(),
            region: Some("us-east-1".into()),
            partition: Some("aws".into()),
            ..Alarm::default()
        }
    }

    fn payload(n: &Notification, options: &Options) -> Value {
        serde_json::from_str(&render(n, options)).expect("valid json")
    }

    #[test]
    fn text_format_is_exactly_the_seed_line() {
        let options = Options {
            format: Format::Text,
            channel: Some("#alerts"),
            ..Options::default()
        };
        assert_eq!(
            payload(&Notification::Alarm(Box::new(alarm("cpu-high"))), &options),
            json!({
                "text": "cpu-high state is now ALARM: Threshold Crossed: 1 datapoint [95.0] &gt; 80",
                "channel": "#alerts"
            })
        );
    }

    #[test]
    fn card_carries_the_seed_line_and_a_linked_coloured_title() {
        let got = payload(
            &Notification::Alarm(Box::new(alarm("cpu <high> & low"))),
            &Options::default(),
        );
        assert_eq!(
            got["text"],
            "cpu &lt;high&gt; &amp; low state is now ALARM: Threshold Crossed: 1 datapoint [95.0] &gt; 80"
        );
        assert!(got.get("channel").is_none(), "{got}");
        let card = &got["attachments"][0];
        assert_eq!(card["color"], "danger");
        assert_eq!(card["title"], "cpu &lt;high&gt; &amp; low");
        assert_eq!(
            card["title_link"],
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/cpu%20%3Chigh%3E%20%26%20low"
        );
        assert_eq!(
            card["fields"][0],
            json!({"title": "State", "value": "OK → ALARM", "short": true})
        );
    }

    #[test]
    fn colours_follow_the_state() {
        assert_eq!(color("ALARM"), "danger");
        assert_eq!(color("OK"), "good");
        assert_eq!(color("INSUFFICIENT_DATA"), "warning");
        assert_eq!(color("7"), "#9E9E9E");
    }

    #[test]
    fn sender_identity_is_passed_through() {
        let options = Options {
            username: Some("CloudWatch"),
            icon_emoji: Some(":rotating_light:"),
            ..Options::default()
        };
        let got = payload(&Notification::Alarm(Box::new(alarm("a"))), &options);
        assert_eq!(got["username"], "CloudWatch");
        assert_eq!(got["icon_emoji"], ":rotating_light:");
    }

    #[test]
    fn text_messages_have_their_subject_and_json_a_code_block() {
        let n = Notification::Text {
            subject: Some("TestInvoke".into()),
            message: "Hello from SNS!".into(),
            json: false,
        };
        assert_eq!(
            payload(&n, &Options::default()),
            json!({"text": "*TestInvoke*\nHello from SNS!"})
        );
        let n = Notification::Text {
            subject: None,
            message: r#"{"b":"<x>","a":1}"#.into(),
            json: true,
        };
        assert_eq!(
            payload(&n, &Options::default())["text"],
            "```\n{\n  \"b\": \"&lt;x&gt;\",\n  \"a\": 1\n}\n```"
        );
    }

    #[test]
    fn every_field_is_cut_visibly() {
        let mut long = alarm(&"n".repeat(1000));
        long.reason = "r".repeat(50_000);
        long.description = Some("&".repeat(5_000));
        long.trigger = Trigger::Composite {
            rule: Some("ALARM(x) OR ".repeat(1000)),
            children: (0..500)
                .map(|i| Child {
                    arn: format!("arn:aws:cloudwatch:us-east-1:1:alarm:child-{i}"),
                    state: Some("ALARM".into()),
                })
                .collect(),
        };
        let got = payload(&Notification::Alarm(Box::new(long)), &Options::default());
        let chars = |v: &Value| v.as_str().expect("string").chars().count();
        assert!(chars(&got["text"]) <= MAX_TEXT_CHARS);
        let card = &got["attachments"][0];
        assert_eq!(chars(&card["title"]), MAX_TITLE_CHARS);
        assert_eq!(chars(&card["text"]), MAX_CARD_TEXT_CHARS);
        for field in card["fields"].as_array().expect("fields") {
            assert!(chars(&field["value"]) <= MAX_FIELD_CHARS, "{field}");
        }
        let description = card["fields"][1]["value"].as_str().expect("description");
        assert!(description.ends_with("&amp;…"), "{description}");
        let children = card["fields"][3]["value"].as_str().expect("children");
        assert!(children.ends_with(" more"), "{children}");
        assert!(children
            .lines()
            .all(|l| l.starts_with("<https://") || l.starts_with('…')));
    }

    #[test]
    fn long_text_messages_are_cut() {
        let n = Notification::Text {
            subject: Some("s".repeat(1_000)),
            message: "é".repeat(50_000),
            json: false,
        };
        let got = payload(&n, &Options::default());
        let text = got["text"].as_str().expect("text");
        assert!(text.chars().count() <= MAX_TEXT_CHARS);
        assert!(text.ends_with("é…"));
    }

    #[test]
    fn payloads_are_valid_json_whatever_they_hold() {
        let nasty =
            "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} us \u{1f} cr \r del \u{7f} é 🙂 \u{2028}";
        let payload = render(
            &Notification::Text {
                subject: Some(nasty.into()),
                message: nasty.into(),
                json: false,
            },
            &Options::default(),
        );
        let parsed: Value = serde_json::from_str(&payload).expect("valid json");
        assert!(parsed["text"].as_str().expect("text").contains("🙂"));
    }

    fn notice() -> Notice {
        Notice {
            source: "aws.ec2".into(),
            kind: Some("EC2 Instance State-change Notification".into()),
            title: "EC2 Instance State-change Notification".into(),
            summary: Some("EC2 Instance State-change Notification from aws.ec2".into()),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            time: Some("2026-11-28T11:40:02Z".into()),
            resources: vec!["arn:aws:ec2:us-east-1:1:instance/i-1".into()],
            fields: vec![crate::source::Field {
                name: "state <x>".into(),
                value: "stopped & gone".into(),
            }],
            raw: Some(r#"{"detail-type":"<t>","detail":{"a":1}}"#.into()),
            ..Notice::default()
        }
    }

    #[test]
    fn a_notice_is_a_card_with_the_event_in_full_under_its_line() {
        let got = payload(
            &Notification::Notice(Box::new(notice())),
            &Options::default(),
        );
        assert_eq!(
            got["text"],
            "EC2 Instance State-change Notification from aws.ec2\n```\n{\n  \"detail-type\": \"&lt;t&gt;\",\n  \"detail\": {\n    \"a\": 1\n  }\n}\n```"
        );
        let card = &got["attachments"][0];
        assert_eq!(card["color"], "#9E9E9E");
        assert_eq!(card["title"], "EC2 Instance State-change Notification");
        assert!(card.get("title_link").is_none());
        let fields: Vec<(&str, &str)> = card["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["title"].as_str().unwrap_or(""),
                    f["value"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("state &lt;x&gt;", "stopped &amp; gone"),
                ("Resource", "arn:aws:ec2:us-east-1:1:instance/i-1"),
                ("Source", "aws.ec2"),
                (
                    "Time",
                    "<!date^1795866002^{date_short_pretty} {time}|2026-11-28T11:40:02Z>"
                ),
                ("Account", "123456789012"),
                ("Region", "us-east-1"),
            ]
        );
    }

    #[test]
    fn a_notice_in_text_format_keeps_its_line_mention_and_event() {
        let options = Options {
            format: Format::Text,
            suffix: Some("<!subteam^S1>"),
            ..Options::default()
        };
        let got = payload(&Notification::Notice(Box::new(notice())), &options);
        assert!(got.get("attachments").is_none());
        let text = got["text"].as_str().expect("text");
        assert!(
            text.starts_with(
                "EC2 Instance State-change Notification from aws.ec2\n<!subteam^S1>\n```\n{"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_notice_is_coloured_by_severity_and_says_what_it_lacked() {
        let mut n = notice();
        n.raw = None;
        n.missing = vec!["account", "detail"];
        n.severity = Severity::High;
        n.status = Status::Open;
        n.description = Some("seen <twice>".into());
        n.next_steps = vec!["look".into(), "fix *it*".into()];
        n.keywords = vec!["a".into(), "b".into()];
        let got = payload(&Notification::Notice(Box::new(n)), &Options::default());
        assert_eq!(
            got["text"],
            "EC2 Instance State-change Notification from aws.ec2"
        );
        let card = &got["attachments"][0];
        assert_eq!(
            (&card["color"], &card["text"]),
            (&json!("danger"), &json!("seen &lt;twice&gt;"))
        );
        let value = |title: &str| {
            card["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["title"] == title))
                .map(|f| f["value"].clone())
        };
        assert_eq!(value("Severity"), Some(json!("High")));
        assert_eq!(value("Status"), Some(json!("Open")));
        assert_eq!(value("Next steps"), Some(json!("• look\n• fix *it*")));
        assert_eq!(value("Keywords"), Some(json!("a, b")));
        assert_eq!(value("Missing"), Some(json!("account, detail")));
        assert_eq!(
            notice_color(&Notice {
                status: Status::Resolved,
                severity: Severity::Critical,
                ..Notice::default()
            }),
            "good"
        );
        assert_eq!(
            notice_color(&Notice {
                severity: Severity::Medium,
                ..Notice::default()
            }),
            "warning"
        );
        assert_eq!(
            notice_color(&Notice {
                severity: Severity::Low,
                ..Notice::default()
            }),
            "#439FE0"
        );
    }

    #[test]
    fn a_huge_notice_is_cut_everywhere() {
        let mut n = notice();
        n.title = "t".repeat(1_000);
        n.summary = Some("s".repeat(1_000));
        n.description = Some("d".repeat(10_000));
        n.fields = (0..6)
            .map(|i| crate::source::Field {
                name: format!("{i}").repeat(500),
                value: "v".repeat(5_000),
            })
            .collect();
        n.resources = (0..1_000)
            .map(|i| format!("arn:aws:s3:::bucket-{i}"))
            .collect();
        let big: Vec<String> = (0..20_000).map(|i| format!("\"k{i}\":\"<{i}>\"")).collect();
        n.raw = Some(format!("{{{}}}", big.join(",")));
        let got = payload(&Notification::Notice(Box::new(n)), &Options::default());
        let chars = |v: &Value| v.as_str().expect("string").chars().count();
        assert!(
            chars(&got["text"]) <= MAX_TEXT_CHARS,
            "{}",
            chars(&got["text"])
        );
        assert!(got["text"].as_str().expect("text").ends_with("…\n```"));
        let card = &got["attachments"][0];
        assert_eq!(chars(&card["title"]), MAX_TITLE_CHARS);
        assert_eq!(chars(&card["text"]), MAX_CARD_TEXT_CHARS);
        for field in card["fields"].as_array().expect("fields") {
            assert!(chars(&field["title"]) <= MAX_TITLE_CHARS, "{field}");
            assert!(chars(&field["value"]) <= MAX_FIELD_CHARS, "{field}");
        }
    }

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse(" Text "), Some(Format::Text));
        assert_eq!(Format::parse("card"), Some(Format::Card));
        assert_eq!(Format::parse("blocks"), None);
    }
}
