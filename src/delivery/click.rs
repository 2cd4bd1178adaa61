//! Carries out a verified click on an incident's parent (issue 23): who may, the change
//! written under the record's version (of two clicks at once the first wins and the second
//! is decided again on what it wrote), then the parent and its thread told. Everything
//! here runs after the HTTP answer went back to Slack: a failure is logged, and the
//! clicker told when it can be.

use crate::alarm::timestamp::{iso, now_ms};
use crate::aws::cloudwatch::{CloudWatch, MuteRule};
use crate::click::payload::Click;
use crate::error::Error;
use crate::http::Deadline;
use crate::incident::action::{self, Act, Acted, Refusal};
use crate::incident::store::{Outcome, Store};
use crate::incident::{Mark, Record};
use crate::json::Object;
use crate::log::{self, Level};
use crate::slack::controls::{self, Controls};
use crate::slack::incident_words::span;
use crate::slack::secret::{BotToken, Settings};
use crate::slack::web_api::{form, Args, WebApi};
use serde_json::Value;

/// Writes lost to other clicks before giving up: each loss is a click that did land.
const ROUNDS: usize = 4;

/// What a click asks for, read from its `action_id` (and the mute select's choice).
/// `None`: not one of our actions; `Some(None)`: the runbook link, which asks nothing.
pub fn action_of(click: &Click, now: i64) -> Option<Option<Act>> {
    let act = match click.action_id.as_str() {
        controls::ACKNOWLEDGE => Act::Acknowledge,
        controls::RESOLVE => Act::Resolve,
        controls::UNMUTE => Act::Unmute,
        controls::MUTE => match click.value.as_deref()? {
            "ok" => Act::Mute(None),
            // Only the choices offered: a value is Slack's echo of ours, checked all the same.
            secs if controls::MUTE_FOR.iter().any(|(_, v)| *v == secs) => {
                Act::Mute(Some(now + secs.parse::<i64>().ok()? * 1000))
            }
            _ => return None,
        },
        controls::RUNBOOK => return Some(None),
        _ => return None,
    };
    Some(Some(act))
}

/// Everything a click needs.
pub struct Clicked<'a> {
    pub agent: &'a ureq::Agent,
    pub api: &'a WebApi,
    pub token: &'a BotToken,
    pub settings: &'a Settings,
    pub store: &'a Store,
    pub click: &'a Click,
    pub act: Act,
    /// `MUTE_CLOUDWATCH`: a timed mute is also CloudWatch's alarm mute rule.
    pub cloudwatch: Option<&'a CloudWatch>,
    pub deadline: Deadline,
}

impl Clicked<'_> {
    /// Applies the click; what failed is logged and, where it helps, told to the clicker.
    pub fn carry_out(&self) {
        if let Err(err) = self.try_carry_out() {
            log::line(Level::Warn, &"a click could not be carried out")
                .word("action", self.click.action_id.as_str())
                .error(&err)
                .emit();
            self.tell_clicker("Sorry: that did not go through (Slack or the incident store failed). Try again in a moment.");
        }
    }

    // Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
    #[inline(never)]
    fn try_carry_out(&self) -> Result<(), Error> {
        let click = self.click;
        if !self.may_act()? {
            log::line(
                Level::Warn,
                &"a click by someone who is not a responder was refused",
            )
            .word("action", click.action_id.as_str())
            .str("user", click.user.as_str())
            .emit();
            self.tell_clicker("Only this channel's responders can do that.");
            return Ok(());
        }
        let Some(key) = incident_key(click) else {
            self.tell_clicker("This message is not an incident of ours any more.");
            return Ok(());
        };
        let id = format!("{}@{}", click.user, click.action_ts);
        let mut record = self.store.get(self.agent, &key, self.deadline)?;
        for _ in 0..ROUNDS {
            let applied = action::act(
                &record,
                &action::Click {
                    act: self.act.clone(),
                    parent: &click.message_ts,
                    user: &click.user,
                    id: &id,
                    now: now_ms(),
                },
            );
            let next = match applied {
                Acted::Again => return Ok(()),
                Acted::Refused(why) => {
                    self.tell_clicker(&refusal(&why));
                    return Ok(());
                }
                Acted::Done(next) => next,
            };
            match self
                .store
                .put(self.agent, &key, &record, &next, self.deadline)?
            {
                Outcome::Done(written) => {
                    log::line(Level::Info, &"incident action")
                        .word("action", click.action_id.as_str())
                        .str("user", click.user.as_str())
                        .str("incident", key.as_str())
                        .emit();
                    self.tell_everyone(&key, &written);
                    self.mute_in_cloudwatch(&key, &record);
                    return Ok(());
                }
                Outcome::Refused(now) => record = now,
            }
        }
        Err(Error::Timeout(
            "write the click: other clicks kept writing first",
        ))
    }

    /// Whether the clicker may act: anyone, unless a route to this channel names
    /// responders; then one of them, or a member of one of their user groups.
    fn may_act(&self) -> Result<bool, Error> {
        let responders = self.settings.responders(&self.click.channel);
        if responders.is_empty() || responders.contains(&self.click.user.as_str()) {
            return Ok(true);
        }
        let groups = responders.iter().filter(|r| r.starts_with('S'));
        in_a_group(groups.copied(), &self.click.user, |group| {
            self.call(
                "usergroups.users.list",
                Args::Form(&form(&[("usergroup", group)])),
                true,
            )
        })
    }

    /// The parent shows the marks; the thread says what happened. Both best-effort: the
    /// click is written, and the next update of the parent shows it anyway.
    // Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
    #[inline(never)]
    fn tell_everyone(&self, key: &str, record: &Record) {
        let click = self.click;
        let parent = click.message_ts.as_str();
        let status = action::status(record, parent);
        let opened = status.as_ref().and_then(|s| s.opened);
        let of = |m: &Option<Mark>| m.as_ref().filter(|m| m.parent == parent).cloned();
        let ack = of(&record.marks.ack);
        let resolved = of(&record.marks.resolved);
        let mute = record.marks.muted(now_ms());
        let controls = Controls {
            key,
            open: status.as_ref().is_some_and(|s| s.open),
            ack: ack.as_ref().map(|a| {
                (
                    a.user.as_str(),
                    (a.at - opened.unwrap_or(a.at)).max(0) / 1000,
                )
            }),
            mute: mute.map(|m| (m.user.as_str(), m.until.map(|u| u.div_euclid(1000)))),
            resolved: resolved.as_ref().map(|r| r.user.as_str()),
            runbook: runbook_of(&click.message),
        };
        let update = controls::update(&click.channel, parent, &click.message, &controls);
        if let Err(err) = self.call("chat.update", Args::Json(&update), true) {
            warn("cannot update the incident's parent after a click", &err);
        }
        let user = &click.user;
        // A notice's incident (`aws.guardduty|…`) is not an alarm, and has no ALARM state.
        let alarm = key.starts_with("arn:");
        let (what, next) = match alarm {
            true => ("alarm", "the next ALARM"),
            false => ("incident", "the next event that opens it"),
        };
        let words = match &self.act {
            Act::Acknowledge => format!(
                ":eyes: <@{user}> acknowledged this incident, {} after it fired.",
                span(ack.map_or(0, |a| (a.at - opened.unwrap_or(a.at)).max(0) / 1000))
            ),
            Act::Mute(Some(until)) => format!(
                ":mute: <@{user}> muted this {what} until <!date^{0}^{{date_short_pretty}} {{time}}|{0}>: its transitions come to this thread and mention nobody.",
                until.div_euclid(1000)
            ),
            Act::Mute(None) => format!(
                ":mute: <@{user}> muted this {what} until it is {}: its transitions come to this thread and mention nobody.",
                if alarm { "OK" } else { "resolved" }
            ),
            Act::Unmute => format!(":bell: <@{user}> unmuted this {what}."),
            Act::Resolve => format!(
                ":white_check_mark: <@{user}> resolved this incident by hand; {next} opens a new one."
            ),
        };
        let mut reply = Object::new();
        reply.string("channel", &click.channel);
        reply.string("thread_ts", parent);
        reply.string("text", &words);
        if let Err(err) = self.call("chat.postMessage", Args::Json(&reply.finish()), false) {
            warn("cannot reply in the incident's thread after a click", &err);
        }
    }

    /// With `MUTE_CLOUDWATCH`, a mute for some hours is also a mute rule in CloudWatch (one
    /// per incident, replaced by the next mute), and an unmute deletes it. A failure is a
    /// WARN: the mute in Slack stands either way.
    fn mute_in_cloudwatch(&self, key: &str, before: &Record) {
        // Only an alarm's incident has an alarm to mute.
        let Some(cloudwatch) = self.cloudwatch.filter(|_| key.starts_with("arn:")) else {
            return;
        };
        let name = rule_name(key);
        let result = match &self.act {
            Act::Mute(Some(until)) => {
                let now = now_ms();
                let at = iso(now.div_euclid(1000));
                cloudwatch.mute(
                    self.agent,
                    self.deadline,
                    &MuteRule {
                        name: &name,
                        alarm: alarm_name(key),
                        at: at.get(..16).unwrap_or(&at),
                        hours: ((until - now) as f64 / 3_600_000.0).round().max(1.0) as i64,
                    },
                )
            }
            Act::Unmute
                if before
                    .marks
                    .mute
                    .as_ref()
                    .is_some_and(|m| m.until.is_some()) =>
            {
                cloudwatch.unmute(self.agent, self.deadline, &name)
            }
            _ => return,
        };
        if let Err(err) = result {
            warn("cannot set the alarm's mute rule in CloudWatch", &err);
        }
    }

    /// An ephemeral message: only the clicker sees it.
    fn tell_clicker(&self, text: &str) {
        let message = ephemeral(self.click, text);
        if let Err(err) = self.call("chat.postEphemeral", Args::Json(&message), false) {
            warn("cannot tell the clicker", &err);
        }
    }

    fn call(&self, method: &'static str, args: Args, idempotent: bool) -> Result<Value, Error> {
        self.api.call(
            self.agent,
            self.token,
            method,
            args,
            idempotent,
            self.deadline,
        )
    }
}

/// `chat.postEphemeral` for the clicker, in the channel of the message clicked. Not in its
/// thread: Slack shows an ephemeral message in a thread only when the thread already has a
/// reply, and a fresh incident's parent has none (nor, when two click at once, does the
/// parent whose first click is still being told).
fn ephemeral(click: &Click, text: &str) -> String {
    let mut message = Object::new();
    message.string("channel", &click.channel);
    message.string("user", &click.user);
    message.string("text", text);
    message.finish()
}

/// The incident a click is about: every button of ours carries its key as `value`; the
/// mute select does not, so the key is read from the parent's other buttons.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn incident_key(click: &Click) -> Option<String> {
    if click.action_id != controls::MUTE {
        return click.value.clone().filter(|v| !v.is_empty());
    }
    our_buttons(&click.message)
        .find_map(|b| b.get("value").and_then(Value::as_str))
        .map(str::to_string)
}

/// The runbook link of the parent as it was shown, kept through the update.
fn runbook_of(message: &Value) -> Option<&str> {
    our_buttons(message)
        .find(|b| b.get("action_id").and_then(Value::as_str) == Some(controls::RUNBOOK))
        .and_then(|b| b.get("url").and_then(Value::as_str))
}

fn our_buttons(message: &Value) -> impl Iterator<Item = &Value> {
    message
        .get("blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| b.get("block_id").and_then(Value::as_str) == Some("incident"))
        .filter_map(|b| b.get("elements").and_then(Value::as_array))
        .flatten()
}

/// The alarm's name in an incident key: an ARN's last part, or the name after account and
/// region, without the `|channel` of a routed channel.
fn alarm_name(key: &str) -> &str {
    let alarm = key.split('|').next().unwrap_or(key);
    match alarm.split_once(":alarm:") {
        Some((_, name)) => name,
        None => alarm.splitn(3, '/').nth(2).unwrap_or(alarm),
    }
}

/// The mute rule's name: ours, one per incident key, stable across instances and builds
/// (FNV-1a; the rule names allow no ARN characters).
fn rule_name(key: &str) -> String {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("alarm-to-slack-{hash:016x}")
}

/// Whether `user` is a member of one of `groups`, each listed by `members`
/// (`usergroups.users.list`). A group Slack does not know (deleted since the route was
/// written) has no members; any other failure is the answer only when no other group has
/// the user, so that one group that cannot be listed keeps no one of another out.
fn in_a_group<'g>(
    groups: impl Iterator<Item = &'g str>,
    user: &str,
    mut members: impl FnMut(&str) -> Result<Value, Error>,
) -> Result<bool, Error> {
    let mut failed = None;
    for group in groups {
        match members(group) {
            Ok(answer) => {
                let users = answer.get("users").and_then(Value::as_array);
                if users
                    .into_iter()
                    .flatten()
                    .any(|u| u.as_str() == Some(user))
                {
                    return Ok(true);
                }
            }
            Err(Error::SlackRejected { body, .. }) if body == "no_such_subteam" => {
                log::line(Level::Warn, &"a responders user group is unknown to Slack")
                    .str("usergroup", group)
                    .emit();
            }
            Err(err) => failed = Some(err),
        }
    }
    failed.map_or(Ok(false), Err)
}

// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn refusal(why: &Refusal) -> String {
    match why {
        Refusal::Closed => "This incident is over: there is nothing to do on it.".to_string(),
        Refusal::AlreadyAcknowledged(m) => {
            format!("Already acknowledged by <@{}>.", m.user)
        }
        Refusal::AlreadyResolved(m) => format!("Already resolved by <@{}>.", m.user),
        Refusal::NotMuted => "This alarm is not muted.".to_string(),
    }
}

fn warn(what: &str, err: &Error) {
    log::line(Level::Warn, &what).error(err).emit();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn click(action_id: &str, value: Option<&str>) -> Click {
        Click {
            team: "T1".into(),
            app: "A1".into(),
            user: "U1".into(),
            user_name: None,
            channel: "C1".into(),
            message_ts: "1.2".into(),
            action_id: action_id.into(),
            value: value.map(str::to_string),
            action_ts: "3.4".into(),
            response_url: None,
            message: json!({"blocks": [
                {"block_id": "seed"},
                {"block_id": "incident", "elements": [
                    {"action_id": "mute"},
                    {"action_id": "resolve", "value": "arn:k"},
                    {"action_id": "runbook", "url": "https://r.example/x"},
                ]},
            ]}),
        }
    }

    #[test]
    fn actions_are_read_from_their_ids_and_only_ours_are() {
        let now = 1_000;
        let cases = [
            ("ack", None, Some(Some(Act::Acknowledge))),
            ("resolve", None, Some(Some(Act::Resolve))),
            ("unmute", None, Some(Some(Act::Unmute))),
            (
                "mute",
                Some("3600"),
                Some(Some(Act::Mute(Some(now + 3_600_000)))),
            ),
            ("mute", Some("ok"), Some(Some(Act::Mute(None)))),
            ("mute", Some("5"), None),
            ("mute", Some("-3600"), None),
            ("mute", None, None),
            ("runbook", None, Some(None)),
            ("delete_everything", None, None),
        ];
        for (id, value, expected) in cases {
            assert_eq!(
                action_of(&click(id, value), now),
                expected,
                "{id} {value:?}"
            );
        }
    }

    /// Slack shows an ephemeral message in a thread only once the thread has a reply: the
    /// clicker is told in the channel, where the message they clicked is.
    #[test]
    fn the_clicker_is_told_in_the_channel_not_in_a_thread_slack_may_not_show() {
        let told: Value = serde_json::from_str(&ephemeral(
            &click("ack", Some("arn:a")),
            "Only this channel's responders can do that.",
        ))
        .expect("JSON");
        assert_eq!(
            told,
            json!({"channel": "C1", "user": "U1",
                "text": "Only this channel's responders can do that."})
        );
    }

    #[test]
    fn a_group_slack_does_not_know_keeps_no_member_of_another_out() {
        let lists = |group: &str| match group {
            "S0GONE" => Err(Error::SlackRejected {
                status: 200,
                body: "no_such_subteam".into(),
            }),
            "S0DOWN" => Err(Error::SlackRejected {
                status: 200,
                body: "internal_error".into(),
            }),
            _ => Ok(json!({"ok": true, "users": ["U1", "U2"]})),
        };
        let member = |groups: &[&str], user: &str| in_a_group(groups.iter().copied(), user, lists);
        assert!(matches!(member(&["S0GONE", "S0ONCALL"], "U2"), Ok(true)));
        assert!(matches!(member(&["S0GONE", "S0ONCALL"], "U9"), Ok(false)));
        assert!(matches!(member(&["S0GONE"], "U1"), Ok(false)));
        // A group that cannot be listed now: its members may be refused wrongly, so the
        // clicker is told to try again, unless another group has them.
        assert!(matches!(member(&["S0DOWN", "S0ONCALL"], "U1"), Ok(true)));
        assert!(matches!(
            member(&["S0DOWN", "S0ONCALL"], "U9"),
            Err(Error::SlackRejected { .. })
        ));
        assert!(matches!(member(&[], "U1"), Ok(false)));
    }

    #[test]
    fn mute_rules_name_the_alarm_and_one_rule_per_incident() {
        assert_eq!(
            alarm_name("arn:aws:cloudwatch:us-east-1:1:alarm:cpu high"),
            "cpu high"
        );
        assert_eq!(
            alarm_name("arn:aws:cloudwatch:us-east-1:1:alarm:a:b|C0PAY"),
            "a:b"
        );
        assert_eq!(alarm_name("111122223333/eu-west-1/disk/root"), "disk/root");
        assert_eq!(rule_name("k"), rule_name("k"));
        assert_ne!(rule_name("k"), rule_name("k|C1"));
        assert!(rule_name("k").starts_with("alarm-to-slack-"));
    }

    #[test]
    fn the_incident_key_comes_from_the_button_or_the_parents_other_buttons() {
        assert_eq!(
            incident_key(&click("ack", Some("arn:a"))).as_deref(),
            Some("arn:a")
        );
        assert_eq!(
            incident_key(&click("mute", Some("3600"))).as_deref(),
            Some("arn:k")
        );
        assert_eq!(incident_key(&click("ack", Some(""))), None);
        assert_eq!(
            runbook_of(&click("ack", None).message),
            Some("https://r.example/x")
        );
    }
}
