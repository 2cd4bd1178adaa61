//! Incidents as threads (app mode with `INCIDENT_TABLE`), as a pure function: what the
//! store holds for an alarm and one transition in, the step to take out. `store.rs` keeps
//! the record in DynamoDB; `delivery/threads.rs` carries the steps out against Slack.
//!
//! The record is the alarm's recent transitions in time order, each with where its message
//! went, or a claim while an instance is posting it. From them, the timeline falls into
//! segments: an *incident* runs from an `ALARM` (after an `OK`, or first) up to and
//! including the next `OK`; the transitions between two incidents form a *quiet* segment.
//! A segment has at most one top-level message, its parent; everything else in it replies
//! under that parent, whatever order the transitions arrive in. A transition that arrives
//! out of order is placed where its time puts it, and one older than the newest known
//! never becomes a top-level message: it says in its thread that it is late and what the
//! state is now (docs/app-mode.md, "Invariants").

pub mod action;
pub mod store;
pub mod storm;
pub mod turns;

use crate::alarm::{timestamp, Alarm};
use crate::source::{Notice, Status};

/// Transitions kept per alarm: enough for any retry Lambda or SNS makes to find its own.
pub const LOG_LEN: usize = 32;
/// The state of the entry a Resolve click adds: it ends the incident as an `OK` would, and
/// what follows it stays in its thread until the next `ALARM`.
pub const RESOLVED: &str = "RESOLVED";

/// One transition of one alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The incident's key: the alarm, and the channel when a route sends it elsewhere.
    pub key: String,
    /// `STATE@StateChangeTime`: the same for every delivery of this transition.
    pub id: String,
    pub state: String,
    /// The state it left (`OldStateValue`): an `OK` or `INSUFFICIENT_DATA` that left
    /// `ALARM` is inside an incident even before that incident's `ALARM` arrives.
    pub old: Option<String>,
    /// When the state changed (epoch ms); when it arrived, if the event does not say.
    pub at: i64,
}

impl Transition {
    pub fn of(alarm: &Alarm, key: String, now_ms: i64) -> Transition {
        Transition {
            key,
            id: transition_id(alarm),
            state: alarm.new_state.clone(),
            old: alarm.old_state.clone(),
            at: alarm.changed_millis().unwrap_or(now_ms),
        }
    }
}

impl Transition {
    /// A notice with a lifecycle as a transition of its thread `key`: what opens or updates
    /// it is an `ALARM`, what resolves it an `OK`, so that its events fall into incidents
    /// exactly as an alarm's do, in any delivery order. A notice without an id of its own
    /// is a new transition at each delivery: posted again on a retry rather than never.
    pub fn of_notice(notice: &Notice, key: String, now_ms: i64) -> Transition {
        let state = match notice.status {
            Status::Resolved => "OK",
            _ => "ALARM",
        };
        let at = notice
            .time
            .as_deref()
            .and_then(timestamp::epoch_millis)
            .unwrap_or(now_ms);
        let id = match &notice.id {
            Some(id) => format!("{state}@{id}"),
            None => format!("{state}@{now_ms}"),
        };
        Transition {
            key,
            id,
            state: state.to_string(),
            old: None,
            at,
        }
    }

    /// Its entry in the record, not yet posted nor claimed.
    fn entry(&self) -> Entry {
        Entry {
            id: self.id.clone(),
            state: self.state.clone(),
            old: self.old.clone(),
            at: self.at,
            post: None,
            claim: None,
        }
    }
}

/// `STATE@StateChangeTime`: the same for every delivery of one transition.
pub fn transition_id(alarm: &Alarm) -> String {
    format!(
        "{}@{}",
        alarm.new_state,
        alarm.changed_at.as_deref().unwrap_or("unknown")
    )
}

/// Where a transition's message is: a top-level message, or a reply in a thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// The channel ID Slack answered with.
    pub channel: String,
    /// The thread's parent: the message itself when it is top-level.
    pub ts: String,
    /// A top-level message: its segment's parent.
    pub top: bool,
}

/// An instance posting a transition's top-level message: which invocation (`nonce`), and
/// until when it can still be at it (its deadline, epoch ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub nonce: String,
    pub until: i64,
    /// The thread it is being posted in (its parent's `ts`); `None` for a parent.
    pub thread: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: String,
    pub state: String,
    pub old: Option<String>,
    pub at: i64,
    /// Set once posted.
    pub post: Option<Post>,
    /// Set while an instance posts it as a parent.
    pub claim: Option<Claim>,
}

/// What the store holds for one alarm (in one channel).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The item's version, for conditional writes: `None` when there is no item, 0 for an
    /// item written by the previous version of this function (the next write replaces it).
    pub version: Option<u64>,
    /// In time order, at most [`LOG_LEN`].
    pub log: Vec<Entry>,
    /// What people did from the parent's buttons.
    pub marks: Marks,
}

/// Who acknowledged or resolved an incident (its parent's `ts`), and when (epoch ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub parent: String,
    pub user: String,
    pub at: i64,
}

/// A mute of the alarm: until a time (epoch ms), or until its next `OK` (`None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Mute {
    pub user: String,
    pub at: i64,
    pub until: Option<i64>,
}

/// The buttons' marks on an alarm's record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    pub ack: Option<Mark>,
    pub resolved: Option<Mark>,
    pub mute: Option<Mute>,
    /// The clicks applied lately (user and Slack's `action_ts`): Slack sends a request
    /// again when its answer is slow, and a click counts once.
    pub applied: Vec<String>,
}

impl Marks {
    /// Muted at `now`: new incidents open no top-level message and mention nobody.
    pub fn muted(&self, now: i64) -> Option<&Mute> {
        self.mute
            .as_ref()
            .filter(|m| m.until.is_none_or(|until| until > now))
    }

    pub fn is_empty(&self) -> bool {
        *self == Marks::default()
    }
}

/// The step to take for one transition.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Posted already (a retried or duplicated event): post nothing.
    Already,
    /// Reply under `parent`.
    Reply {
        parent: Post,
        /// The transition is older than the newest known: this is the state now.
        late: Option<String>,
        /// The transition is the newest of the parent's segment: the parent shows it.
        update: bool,
        /// When the segment's incident opened (its `ALARM`), for the parent's words.
        opened: Option<i64>,
    },
    /// Post it as its segment's parent (top-level).
    Open,
    /// Another instance is posting this segment's parent (or this very transition) until
    /// `until` at the latest: read the record again in a moment.
    Wait { until: i64, same: bool },
    /// An instance that claimed entry `id` is gone: its post may be in Slack. Look for it
    /// there before anything else.
    Recover { id: String },
}

/// What to do with `t`, given what the store holds, at `now` (epoch ms).
pub fn step(record: &Record, t: &Transition, nonce: &str, now: i64) -> Step {
    if let Some(own) = record.log.iter().find(|e| e.id == t.id) {
        match (&own.post, &own.claim) {
            (Some(_), _) => return Step::Already,
            // Our own claim: decided afresh below, as if it were not there.
            (None, Some(claim)) if claim.nonce == nonce => {}
            (None, Some(claim)) if claim.until > now => {
                return Step::Wait {
                    until: claim.until,
                    same: true,
                }
            }
            (None, _) => return Step::Recover { id: own.id.clone() },
        }
    }
    let mut log: Vec<&Entry> = record.log.iter().filter(|e| e.id != t.id).collect();
    let probe = t.entry();
    let at = log.partition_point(|e| order(e, &probe).is_lt());
    log.insert(at, &probe);
    let segment = segment_of(&log, at);
    let members = || segment.clone().filter(|&i| i != at).map(|i| log[i]);
    // A Resolve click is not a state the alarm can be "now" in.
    let newest = log
        .iter()
        .filter(|e| e.id != t.id && e.state != RESOLVED)
        .max_by(|a, b| order(a, b));
    let late = newest
        .filter(|n| order(n, &probe).is_gt())
        .map(|n| n.state.clone());
    let opened = segment
        .clone()
        .map(|i| log[i])
        .find(|e| e.state == "ALARM")
        .map(|e| e.at);

    // The parent shows the newest transition of its thread.
    let newest_in = |thread: &Post| newest_in_thread(record, t, thread);
    if let Some(parent) = members().find_map(top) {
        let update = newest_in(parent);
        return Step::Reply {
            parent: parent.clone(),
            late,
            update,
            opened,
        };
    }
    // Replies only (a late transition split the segment it was in): the same thread.
    if let Some(thread) = members().find_map(|e| e.post.as_ref().filter(|p| !p.ts.is_empty())) {
        return Step::Reply {
            parent: thread.clone(),
            update: newest_in(thread),
            late,
            opened,
        };
    }
    if let Some(claimed) = members().find(|e| e.post.is_none() && e.claim.is_some()) {
        return match &claimed.claim {
            Some(claim) if claim.until > now => Step::Wait {
                until: claim.until,
                same: false,
            },
            _ => Step::Recover {
                id: claimed.id.clone(),
            },
        };
    }
    if late.is_none() {
        return open_or_muted(record, t, opened, now);
    }
    // Older than the newest known and nothing of its own segment is posted: it goes in the
    // thread nearest in time after it (else before it), never to the top.
    let later = log[at..].iter().find_map(|e| top(e));
    let earlier = log[..at].iter().rev().find_map(|e| top(e));
    match later.or(earlier) {
        Some(parent) => Step::Reply {
            parent: parent.clone(),
            update: newest_in(parent),
            late,
            opened,
        },
        None => match log.iter().find_map(|e| e.claim.as_ref()) {
            // Only claims are known: wait for the first to be posted.
            Some(claim) if claim.until > now => Step::Wait {
                until: claim.until,
                same: false,
            },
            _ => open_or_muted(record, t, opened, now),
        },
    }
}

/// A new parent, unless the alarm is muted: then its newest thread gets the transition, so
/// that it is still told, without a message at the top of the channel.
fn open_or_muted(record: &Record, t: &Transition, opened: Option<i64>, now: i64) -> Step {
    if record.marks.muted(now).is_none() {
        return Step::Open;
    }
    match record
        .log
        .iter()
        .filter_map(|e| top(e).map(|p| (e, p)))
        .max_by(|a, b| order(a.0, b.0))
    {
        Some((_, parent)) => Step::Reply {
            parent: parent.clone(),
            late: None,
            update: newest_in_thread(record, t, parent),
            opened,
        },
        None => Step::Open,
    }
}

/// Whether `t` is newer than every transition posted in `thread`: then the thread's parent
/// shows it.
pub fn newest_in_thread(record: &Record, t: &Transition, thread: &Post) -> bool {
    let probe = t.entry();
    // Posted there, or being posted there by another instance.
    let in_thread = |e: &Entry| {
        e.post.as_ref().is_some_and(|p| p.ts == thread.ts)
            || e.claim
                .as_ref()
                .is_some_and(|c| c.thread.as_deref() == Some(thread.ts.as_str()))
    };
    record
        .log
        .iter()
        .filter(|e| e.id != t.id && in_thread(e))
        .all(|e| order(e, &probe).is_lt())
}

/// The entry's message, if it is a parent (an item of the previous version may know a post
/// without knowing where it is).
fn top(e: &Entry) -> Option<&Post> {
    e.post.as_ref().filter(|p| p.top && !p.ts.is_empty())
}

/// Time order; transitions at the same millisecond by id, so that every instance agrees.
fn order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id))
}

/// The indexes of `log` (in time order) in the segment of entry `at`.
fn segment_of(log: &[&Entry], at: usize) -> std::ops::Range<usize> {
    let mut start = 0;
    let mut incident = false;
    // Resolved by hand: the transitions that follow stay in its thread until an ALARM.
    let mut resolved = false;
    for (i, e) in log.iter().enumerate() {
        // Inside an incident from its ALARM on, or from a transition that left ALARM (the
        // incident's ALARM is older, and not here yet).
        let in_incident = e.state == "ALARM" || (!resolved && e.old.as_deref() == Some("ALARM"));
        // An incident after a quiet stretch opens a segment, and the first entry opens one
        // either way; a transition that left OK ends the incident before it, even when that
        // OK is not here yet.
        let begins = if incident {
            e.old.as_deref() == Some("OK")
        } else {
            i == 0 || in_incident
        };
        if begins {
            if i > at {
                return start..i;
            }
            start = i;
            incident = in_incident;
            resolved = false;
        }
        if e.state == RESOLVED {
            incident = false;
            resolved = true;
        }
        if incident && e.state == "OK" {
            incident = false;
            if i >= at {
                return start..i + 1;
            }
            start = i + 1;
        }
    }
    start..log.len()
}

impl Record {
    /// The record with `t` claimed by `nonce` until `until`: what an instance writes before
    /// posting `t`, so that no other instance posts it too. `thread`: the parent's `ts` when
    /// `t` is a reply, so that whoever finds the claim abandoned knows where to look.
    pub fn claimed(&self, t: &Transition, nonce: &str, until: i64, thread: Option<&str>) -> Record {
        self.with(t, |e| {
            e.claim = Some(Claim {
                nonce: nonce.to_string(),
                until,
                thread: thread.map(str::to_string),
            });
        })
    }

    /// The record with `t` posted at `post`, its claim done. An `OK` newer than a mute
    /// "until OK" ends it.
    pub fn posted(&self, t: &Transition, post: Post) -> Record {
        let mut next = self.with(t, |e| {
            e.post = Some(post);
            e.claim = None;
        });
        let ends_mute = |m: &Mute| m.until.is_none() && t.state == "OK" && t.at > m.at;
        if next.marks.mute.as_ref().is_some_and(ends_mute) {
            next.marks.mute = None;
        }
        next
    }

    /// The record without the claim on entry `id` (its post did not happen).
    pub fn released(&self, id: &str) -> Record {
        let mut next = self.clone();
        next.log.retain(|e| e.id != id || e.post.is_some());
        next
    }

    /// `t`'s entry changed by `f`, added in its place if new, the oldest dropped past
    /// [`LOG_LEN`].
    fn with(&self, t: &Transition, f: impl FnOnce(&mut Entry)) -> Record {
        let mut next = self.clone();
        let i = match next.log.iter().position(|e| e.id == t.id) {
            Some(i) => i,
            None => {
                let entry = t.entry();
                let i = next.log.partition_point(|e| order(e, &entry).is_lt());
                next.log.insert(i, entry);
                i
            }
        };
        f(&mut next.log[i]);
        if next.log.len() > LOG_LEN {
            let extra = next.log.len() - LOG_LEN;
            next.log.drain(..extra);
        }
        next
    }

    /// The newest transition known, for the late note and the item's expiry.
    pub fn newest(&self) -> Option<&Entry> {
        self.log.iter().max_by(|a, b| order(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const NOW: i64 = 1_796_000_000_000;

    fn t(state: &str, at: i64) -> Transition {
        Transition {
            key: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu".into(),
            id: format!("{state}@{at}"),
            state: state.into(),
            old: None,
            at,
        }
    }

    fn after(old: &str, state: &str, at: i64) -> Transition {
        Transition {
            old: Some(old.into()),
            ..t(state, at)
        }
    }

    #[test]
    fn a_notice_opens_updates_and_resolves_as_an_alarm_does() {
        let notice = |status, id: Option<&str>, time: &str| Notice {
            status,
            id: id.map(str::to_string),
            time: Some(time.into()),
            ..Notice::default()
        };
        let open = Transition::of_notice(
            &notice(Status::Open, Some("e1"), "2026-11-28T09:00:00Z"),
            "aws.health|arn".into(),
            NOW,
        );
        assert_eq!(
            (open.state.as_str(), open.id.as_str(), open.at),
            ("ALARM", "ALARM@e1", 1_795_856_400_000)
        );
        let closed = Transition::of_notice(
            &notice(Status::Resolved, None, "not a time"),
            "k".into(),
            NOW,
        );
        assert_eq!(
            (closed.state.as_str(), closed.id, closed.at, closed.old),
            ("OK", format!("OK@{NOW}"), NOW, None)
        );
    }

    /// Slack as the model sees it: top-level messages (with the transition each shows
    /// now), and every post by transition id.
    #[derive(Default)]
    struct Slack {
        tops: Vec<(String, String)>,
        posts: BTreeMap<String, Vec<String>>,
    }

    /// One instance delivering `t` against the record, sequentially, as
    /// `delivery/threads.rs` does; returns the step taken.
    fn deliver(record: &mut Record, slack: &mut Slack, t: &Transition) -> Step {
        let nonce = format!("n-{}", t.id);
        let step = step(record, t, &nonce, NOW);
        match &step {
            Step::Already => {}
            Step::Open => {
                let ts = format!("{}", slack.tops.len() + 1);
                slack.tops.push((ts.clone(), t.id.clone()));
                slack
                    .posts
                    .entry(t.id.clone())
                    .or_default()
                    .push(ts.clone());
                let post = Post {
                    channel: "C1".into(),
                    ts,
                    top: true,
                };
                *record = record.claimed(t, &nonce, NOW + 1, None).posted(t, post);
            }
            Step::Reply { parent, update, .. } => {
                slack
                    .posts
                    .entry(t.id.clone())
                    .or_default()
                    .push(format!("re:{}", parent.ts));
                if *update {
                    let shown = slack.tops.iter_mut().find(|(ts, _)| *ts == parent.ts);
                    shown.expect("a parent").1 = t.id.clone();
                }
                *record = record.posted(t, parent.clone().with_top(false));
            }
            Step::Wait { .. } | Step::Recover { .. } => panic!("no claims in flight: {step:?}"),
        }
        step
    }

    impl Post {
        fn with_top(self, top: bool) -> Post {
            Post { top, ..self }
        }
    }

    /// Every delivery order of `states` (at 0, 10, 20, … s), each once and each twice:
    /// one top-level message per segment, each transition posted once, and the newest
    /// top-level message shows the newest transition.
    fn every_order(states: &[&str]) {
        let ts: Vec<Transition> = states
            .iter()
            .enumerate()
            .map(|(i, s)| Transition {
                old: i.checked_sub(1).map(|p| states[p].to_string()),
                ..t(s, NOW - 100_000 + i as i64 * 10_000)
            })
            .collect();
        let mut orders: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..ts.len() {
            let mut longer = Vec::new();
            for o in &orders {
                for i in (0..ts.len()).filter(|i| !o.contains(i)) {
                    longer.push([o.clone(), vec![i]].concat());
                }
            }
            orders = longer;
        }
        let spans = {
            let entries: Vec<Entry> = ts.iter().map(Transition::entry).collect();
            let refs: Vec<&Entry> = entries.iter().collect();
            let mut spans = Vec::new();
            let mut i = 0;
            while i < refs.len() {
                let span = segment_of(&refs, i);
                i = span.end;
                spans.push(span);
            }
            spans
        };
        let segments = spans.len();
        for order in orders {
            let mut record = Record::default();
            let mut slack = Slack::default();
            let mut firsts = Vec::new();
            for &i in order.iter().chain(order.iter()) {
                firsts.push(deliver(&mut record, &mut slack, &ts[i]));
            }
            let names: Vec<&str> = order.iter().map(|&i| states[i]).collect();
            for posts in slack.posts.values() {
                assert_eq!(posts.len(), 1, "{names:?}: posted twice: {:?}", slack.posts);
            }
            assert_eq!(slack.posts.len(), ts.len(), "{names:?}: one post each");
            assert!(
                slack.tops.len() <= segments,
                "{names:?}: {} top-level messages for {segments} segments: {:?}",
                slack.tops.len(),
                slack.tops
            );
            // One thread per segment: every member's post is the parent or under it.
            for span in &spans {
                let threads: std::collections::BTreeSet<&str> = span
                    .clone()
                    .map(|i| {
                        let post = &slack.posts[&ts[i].id][0];
                        post.strip_prefix("re:").unwrap_or(post)
                    })
                    .collect();
                assert_eq!(
                    threads.len(),
                    1,
                    "{names:?}: {span:?} spread over {threads:?}"
                );
            }
            let newest = &ts[ts.len() - 1].id;
            let last_top = &slack.tops.last().expect("a top-level message").1;
            assert_eq!(
                last_top, newest,
                "{names:?}: the newest top-level message is stale"
            );
        }
    }

    #[test]
    fn an_incident_in_any_order_is_one_thread_that_ends_current() {
        every_order(&["ALARM", "OK"]);
        every_order(&["ALARM", "INSUFFICIENT_DATA", "OK"]);
        every_order(&["ALARM", "INSUFFICIENT_DATA", "ALARM", "OK"]);
    }

    #[test]
    fn two_incidents_and_quiet_stretches_in_any_order() {
        every_order(&["INSUFFICIENT_DATA", "OK", "ALARM", "OK"]);
        every_order(&["ALARM", "OK", "ALARM", "OK"]);
        every_order(&[
            "OK",
            "INSUFFICIENT_DATA",
            "ALARM",
            "INSUFFICIENT_DATA",
            "OK",
        ]);
    }

    #[test]
    fn segments_run_from_an_alarm_to_its_ok() {
        let log: Vec<Entry> = [
            "INSUFFICIENT_DATA",
            "OK",
            "ALARM",
            "INSUFFICIENT_DATA",
            "ALARM",
            "OK",
            "OK",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| Entry {
            id: format!("{s}@{i}"),
            state: s.to_string(),
            old: None,
            at: i as i64,
            post: None,
            claim: None,
        })
        .collect();
        let refs: Vec<&Entry> = log.iter().collect();
        let segments: Vec<_> = (0..refs.len()).map(|i| segment_of(&refs, i)).collect();
        assert_eq!(
            segments,
            [0..2, 0..2, 2..6, 2..6, 2..6, 2..6, 6..7],
            "quiet, incident, quiet"
        );
    }

    #[test]
    fn the_seven_cases_of_the_issue() {
        // 1. OK first, then its ALARM late: the ALARM replies under the OK, which stays.
        let (alarm, ok) = (
            after("OK", "ALARM", NOW - 60_000),
            after("ALARM", "OK", NOW),
        );
        let mut record = Record::default();
        let mut slack = Slack::default();
        assert_eq!(deliver(&mut record, &mut slack, &ok), Step::Open);
        let late = deliver(&mut record, &mut slack, &alarm);
        assert!(
            matches!(&late, Step::Reply { late: Some(now), update: false, .. } if now == "OK"),
            "{late:?}"
        );
        // 2. and 4. Another transition while the parent is being posted: wait for it.
        let claimed = Record::default().claimed(&alarm, "other", NOW + 5_000, None);
        let insufficient = after("ALARM", "INSUFFICIENT_DATA", NOW - 59_000);
        assert_eq!(
            step(&claimed, &insufficient, "mine", NOW),
            Step::Wait {
                until: NOW + 5_000,
                same: false
            }
        );
        assert_eq!(
            step(&claimed, &ok, "mine", NOW),
            Step::Wait {
                until: NOW + 5_000,
                same: false
            }
        );
        // 3. The same transition twice at once: the second waits, and never opens.
        assert_eq!(
            step(&claimed, &alarm, "mine", NOW),
            Step::Wait {
                until: NOW + 5_000,
                same: true
            }
        );
        // A claim whose instance is gone: look in Slack before posting again.
        assert_eq!(
            step(&claimed, &alarm, "mine", NOW + 6_000),
            Step::Recover {
                id: alarm.id.clone()
            }
        );
        assert_eq!(
            step(&claimed, &ok, "mine", NOW + 6_000),
            Step::Recover {
                id: alarm.id.clone()
            }
        );
        assert_eq!(
            step(&claimed.released(&alarm.id), &alarm, "mine", NOW),
            Step::Open
        );
        // 4. After ALARM and OK, the next ALARM opens a new incident.
        let mut record = Record::default();
        let mut slack = Slack::default();
        deliver(&mut record, &mut slack, &alarm);
        deliver(&mut record, &mut slack, &ok);
        assert_eq!(
            deliver(&mut record, &mut slack, &t("ALARM", NOW + 120_000)),
            Step::Open
        );
        assert_eq!(slack.tops.len(), 2);
    }

    /// Found by the randomized test (tests/incidents.rs): an INSUFFICIENT_DATA that left
    /// OK arrives before that OK; the incident it follows had ended all the same.
    #[test]
    fn a_transition_that_left_ok_starts_a_new_segment_before_its_ok_arrives() {
        let entry = |state: &str, old: &str, at: i64| Entry {
            old: Some(old.into()),
            ..after(old, state, at).entry()
        };
        let log = [
            entry("ALARM", "OK", 0),
            entry("INSUFFICIENT_DATA", "OK", 20),
        ];
        let refs: Vec<&Entry> = log.iter().collect();
        assert_eq!((segment_of(&refs, 0), segment_of(&refs, 1)), (0..1, 1..2));
        let with_ok = [
            entry("ALARM", "OK", 0),
            entry("OK", "ALARM", 10),
            entry("INSUFFICIENT_DATA", "OK", 20),
        ];
        let refs: Vec<&Entry> = with_ok.iter().collect();
        assert_eq!((segment_of(&refs, 1), segment_of(&refs, 2)), (0..2, 2..3));
    }

    #[test]
    fn the_log_is_bounded_and_keeps_the_newest() {
        let mut record = Record::default();
        for i in 0..(LOG_LEN as i64 + 5) {
            let post = Post {
                channel: "C".into(),
                ts: "1".into(),
                top: false,
            };
            record = record.posted(&t("OK", i), post);
        }
        assert_eq!(record.log.len(), LOG_LEN);
        assert_eq!(record.newest().map(|e| e.at), Some(LOG_LEN as i64 + 4));
    }
}
