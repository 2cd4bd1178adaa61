//! An incident parent's buttons (issue 23) and the lines that say what they did, as Block
//! Kit: the seed line as a section (a message with `blocks` shows them instead of `text`),
//! then who acknowledged, muted or resolved, then the buttons while the incident is open.
//! The card stays in `attachments`, below.

use super::incident_words::span;
use super::mrkdwn::cut;
use crate::json::{Array, Object};
use serde_json::Value;

/// A section's text holds at most 3,000 characters.
const MAX_SECTION_CHARS: usize = 3_000;

/// The `action_id`s of our buttons: what a click names.
pub const ACKNOWLEDGE: &str = "ack";
pub const MUTE: &str = "mute";
pub const UNMUTE: &str = "unmute";
pub const RESOLVE: &str = "resolve";
pub const RUNBOOK: &str = "runbook";
/// The mute select's choices: seconds, and "until OK".
pub const MUTE_FOR: [(&str, &str); 4] = [
    ("1 hour", "3600"),
    ("4 hours", "14400"),
    ("24 hours", "86400"),
    ("until OK", "ok"),
];

/// What a parent shows of its incident's marks. User IDs are Slack's (checked by whoever
/// read them), shown as mentions.
#[derive(Clone, Default)]
pub struct Controls<'a> {
    /// The incident's key, the value every button carries back.
    pub key: &'a str,
    /// Buttons are offered while the incident is open.
    pub open: bool,
    /// Who acknowledged, and how long after the incident opened (seconds).
    pub ack: Option<(&'a str, i64)>,
    /// Who muted the alarm, and until when (epoch seconds; `None`: until OK).
    pub mute: Option<(&'a str, Option<i64>)>,
    pub resolved: Option<&'a str>,
    pub runbook: Option<&'a str>,
}

/// The `blocks` of a parent whose seed line (mrkdwn, escaped) is `text`.
pub fn blocks(text: &str, c: &Controls) -> String {
    let mut blocks = Array::new();
    blocks.object(|b| {
        b.string("type", "section");
        b.string("block_id", "seed");
        b.object("text", |t| {
            t.string("type", "mrkdwn");
            t.string("text", &cut(text.to_string(), MAX_SECTION_CHARS));
        });
    });
    let lines = marks(c);
    if !lines.is_empty() {
        blocks.object(|b| {
            b.string("type", "context");
            b.string("block_id", "marks");
            b.array("elements", |e| {
                e.object(|t| {
                    t.string("type", "mrkdwn");
                    t.string("text", &lines.join("  ·  "));
                })
            });
        });
    }
    // A mute is the alarm's and outlives the incident it was set on (its transitions keep
    // coming to this thread): Unmute stays while it lasts.
    let buttons = c.open || c.mute.is_some() || c.runbook.is_some();
    if buttons {
        blocks.object(|b| {
            b.string("type", "actions");
            b.string("block_id", "incident");
            b.array("elements", |e| elements(e, c));
        });
    }
    blocks.finish()
}

fn marks(c: &Controls) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(user) = c.resolved {
        lines.push(format!(":white_check_mark: Resolved by <@{user}>"));
    }
    if let Some((user, after)) = c.ack {
        lines.push(format!(
            ":eyes: Acknowledged by <@{user}> after {}",
            span(after)
        ));
    }
    match c.mute {
        Some((user, Some(until))) => lines.push(format!(
            ":mute: Muted by <@{user}> until <!date^{until}^{{time}}|{until}>"
        )),
        Some((user, None)) => lines.push(format!(":mute: Muted by <@{user}> until OK")),
        None => {}
    }
    lines
}

// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn elements(e: &mut Array, c: &Controls) {
    let button = |e: &mut Array, id: &str, label: &str, style: Option<&str>| {
        e.object(|b| {
            b.string("type", "button");
            b.string("action_id", id);
            b.object("text", |t| plain(t, label));
            b.string("value", c.key);
            if let Some(style) = style {
                b.string("style", style);
            }
            if id == RESOLVE {
                b.object("confirm", |d| {
                    d.object("title", |t| plain(t, "Resolve this incident?"));
                    d.object("text", |t| {
                        plain(t, "The thread stays; the next ALARM opens a new incident.")
                    });
                    d.object("confirm", |t| plain(t, "Resolve"));
                    d.object("deny", |t| plain(t, "Cancel"));
                });
            }
        })
    };
    if c.open && c.ack.is_none() {
        button(e, ACKNOWLEDGE, "Acknowledge", Some("primary"));
    }
    if c.mute.is_some() {
        button(e, UNMUTE, "Unmute", None);
    } else if c.open {
        e.object(|s| {
            s.string("type", "static_select");
            s.string("action_id", MUTE);
            s.object("placeholder", |t| plain(t, "Mute…"));
            s.array("options", |o| {
                for (label, value) in MUTE_FOR {
                    o.object(|opt| {
                        opt.object("text", |t| plain(t, label));
                        opt.string("value", value);
                    });
                }
            });
        });
    }
    if c.open {
        button(e, RESOLVE, "Resolve", Some("danger"));
    }
    if let Some(url) = c.runbook {
        e.object(|b| {
            b.string("type", "button");
            b.string("action_id", RUNBOOK);
            b.object("text", |t| plain(t, "Runbook"));
            b.string("url", url);
        });
    }
}

fn plain(t: &mut Object, text: &str) {
    t.string("type", "plain_text");
    t.string("text", text);
}

/// `chat.update` of a parent as Slack showed it to the clicker (`message` of the click):
/// its text and card unchanged, its blocks rewritten for `controls`. The card cannot be
/// rendered again here: the alarm it came from is not part of a click.
pub fn update(channel: &str, ts: &str, message: &Value, controls: &Controls) -> String {
    let text = message.get("text").and_then(Value::as_str).unwrap_or("");
    let mut payload = Object::new();
    payload.string("channel", channel);
    payload.string("ts", ts);
    payload.string("text", text);
    payload.raw("blocks", &blocks(text, controls));
    if let Some(attachments) = message.get("attachments").filter(|a| a.is_array()) {
        payload.raw("attachments", &attachments.to_string());
    }
    payload.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(json: &str) -> Value {
        serde_json::from_str(json).expect("valid JSON")
    }

    fn ids(blocks: &Value) -> Vec<String> {
        blocks
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["action_id"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn an_open_incident_offers_every_action() {
        let c = Controls {
            key: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu",
            open: true,
            runbook: Some("https://wiki.example/cpu"),
            ..Controls::default()
        };
        let shown = parsed(&blocks("*cpu* state is now ALARM: x &lt; y", &c));
        assert_eq!(
            shown[0]["text"]["text"],
            "*cpu* state is now ALARM: x &lt; y"
        );
        assert_eq!(ids(&shown), ["ack", "mute", "resolve", "runbook"]);
        let resolve = &shown[1]["elements"][2];
        assert_eq!(resolve["value"], c.key);
        assert_eq!(resolve["confirm"]["confirm"]["text"], "Resolve");
        assert_eq!(shown[1]["elements"][3]["url"], "https://wiki.example/cpu");
    }

    #[test]
    fn marks_replace_the_buttons_they_answer() {
        let c = Controls {
            key: "k",
            open: true,
            ack: Some(("U1", 240)),
            mute: Some(("U2", Some(1_796_000_000))),
            ..Controls::default()
        };
        let shown = parsed(&blocks("x", &c));
        assert_eq!(
            shown[1]["elements"][0]["text"],
            ":eyes: Acknowledged by <@U1> after 4 min  ·  :mute: Muted by <@U2> until <!date^1796000000^{time}|1796000000>"
        );
        assert_eq!(ids(&shown), ["unmute", "resolve"]);
    }

    #[test]
    fn a_closed_incident_keeps_its_marks_and_only_a_runbook() {
        let closed = Controls {
            key: "k",
            resolved: Some("U3"),
            ..Controls::default()
        };
        let shown = parsed(&blocks("x", &closed));
        assert_eq!(shown.as_array().map(Vec::len), Some(2));
        assert_eq!(ids(&shown), Vec::<String>::new());
        let with_runbook = Controls {
            runbook: Some("https://r"),
            ..closed
        };
        assert_eq!(ids(&parsed(&blocks("x", &with_runbook))), ["runbook"]);
    }

    /// A mute outlives the incident it was set on: an hour's mute goes on after the OK, and
    /// its alarm's next ALARM comes to this thread. The parent keeps offering Unmute.
    #[test]
    fn a_closed_incident_of_a_muted_alarm_still_offers_unmute() {
        let closed = Controls {
            key: "k",
            mute: Some(("U2", Some(1_796_000_000))),
            ..Controls::default()
        };
        let shown = parsed(&blocks("x", &closed));
        assert_eq!(ids(&shown), ["unmute"]);
        assert_eq!(shown[2]["elements"][0]["value"], "k");
        let until_ok = Controls {
            mute: Some(("U2", None)),
            runbook: Some("https://r"),
            ..closed
        };
        assert_eq!(ids(&parsed(&blocks("x", &until_ok))), ["unmute", "runbook"]);
    }

    #[test]
    fn an_update_keeps_the_text_and_card_it_was_shown_with() {
        let message = json!({
            "text": "cpu state is now ALARM: \"quoted\"",
            "attachments": [{"id": 1, "color": "#d00000", "title": "cpu"}],
            "blocks": [{"type": "section"}],
        });
        let c = Controls {
            key: "k",
            open: true,
            ..Controls::default()
        };
        let payload = parsed(&update("C1", "1.2", &message, &c));
        assert_eq!(payload["text"], message["text"]);
        assert_eq!(payload["attachments"], message["attachments"]);
        assert_eq!(payload["blocks"][0]["text"]["text"], message["text"]);
        assert_eq!(
            (&payload["channel"], &payload["ts"]),
            (&json!("C1"), &json!("1.2"))
        );
    }
}
