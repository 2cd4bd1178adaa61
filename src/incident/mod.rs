//! Incidents as threads (app mode with `INCIDENT_TABLE`): an `ALARM` opens a thread, every
//! later transition of the same alarm replies in it and updates its parent, and `OK`
//! closes it. This file is the state machine as a pure function: what is stored for an
//! alarm and one transition in, the step to take out. `store.rs` keeps the record in
//! DynamoDB; `delivery/threads.rs` carries the step out against Slack and the store.
//!
//! Order and races: the store's writes are conditional, so an older transition never moves
//! the parent backwards, and of two instances that see the same `ALARM` at once only one
//! posts a parent (the other replies in its thread). The store failing never costs an
//! alarm: it is then posted as a message of its own, with a WARN.

pub mod store;

use crate::alarm::Alarm;

/// A claim whose parent never came (its instance died, and Lambda gave up retrying) is
/// taken over after this: longer than any invocation can run.
pub const CLAIM_EXPIRES_SECS: i64 = 15 * 60;

/// One transition of one alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The incident's key: the alarm, and the channel when a route sends it elsewhere.
    pub key: String,
    /// `STATE@timestamp`: the same for every delivery of this transition.
    pub id: String,
    pub state: String,
    /// When the state changed (epoch s); the time it arrived when the event does not say.
    pub at: i64,
}

impl Transition {
    pub fn of(alarm: &Alarm, key: String, now: i64) -> Transition {
        Transition {
            key,
            id: transition_id(alarm),
            state: alarm.new_state.clone(),
            at: alarm.changed_epoch().unwrap_or(now),
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

/// Whether an incident is open; `None` for an alarm the store has never seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Status {
    Open,
    Closed,
}

/// The incident's parent message.
#[derive(Clone, Debug, PartialEq)]
pub struct Parent {
    /// The channel ID Slack answered with.
    pub channel: String,
    pub ts: String,
}

/// What the store holds for one alarm (in one channel).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub status: Option<Status>,
    /// The newest transition applied, and when it happened.
    pub state: Option<String>,
    pub changed: Option<i64>,
    /// When the open incident's `ALARM` happened.
    pub opened: Option<i64>,
    /// The transition that opened the incident, and when it claimed it (before its parent
    /// was posted).
    pub claim: Option<String>,
    pub claimed: Option<i64>,
    pub parent: Option<Parent>,
    /// Transitions of this incident already posted.
    pub seen: Vec<String>,
}

impl Record {
    /// The open incident's parent, to reply under.
    pub fn open_parent(&self) -> Option<&Parent> {
        match self.status {
            Some(Status::Open) => self.parent.as_ref(),
            _ => None,
        }
    }

    /// Claimed and not yet given its parent (its claimer is posting it), and not abandoned.
    pub fn opening(&self, now: i64) -> bool {
        self.status == Some(Status::Open)
            && self.parent.is_none()
            && self
                .claimed
                .is_some_and(|claimed| now - claimed < CLAIM_EXPIRES_SECS)
    }

    /// `t` is older than the newest transition applied.
    pub fn is_newer_than(&self, t: &Transition) -> bool {
        self.changed.is_some_and(|changed| t.at < changed)
    }
}

/// The step to take for one transition.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Posted already (a retried event): post nothing.
    Already,
    /// Reply in the open incident's thread and record it; unless the transition is older
    /// than what the parent shows (`stale`), also bring the parent up to date.
    Reply {
        parent: Parent,
        stale: bool,
        /// When the incident opened, for the parent's words.
        opened: i64,
    },
    /// Another instance is posting this incident's parent: wait for it, then reply.
    Join,
    /// Nothing open to reply to (an `OK` before its `ALARM`, a late old `ALARM`): post on
    /// its own and record it, its state too unless `stale`.
    Alone { stale: bool },
    /// Open the incident: claim it, then post its parent.
    Claim,
    /// The claim is this transition's own (a retry of the instance that claimed it): post
    /// the parent, which the history lookup finds if the earlier attempt posted it.
    PostParent,
    /// The store failed, or the thread did not come in time: post without a thread and
    /// record nothing.
    Unthreaded,
}

/// What to do with `t`, given what the store holds.
pub fn step(record: &Record, t: &Transition, now: i64) -> Step {
    if record.seen.contains(&t.id) {
        return Step::Already;
    }
    let stale = record.is_newer_than(t);
    if let Some(parent) = record.open_parent() {
        return reply(record, parent, t);
    }
    if record.opening(now) && record.claim.as_deref() != Some(t.id.as_str()) {
        // Whatever this transition is (an older ALARM, an OK), it belongs in that thread.
        return Step::Join;
    }
    if t.state != "ALARM" || stale {
        return Step::Alone { stale };
    }
    Step::Claim
}

/// What to do after the claim was refused, given what the store holds now.
pub fn after_refused_claim(record: &Record, t: &Transition) -> Step {
    if record.claim.as_deref() == Some(t.id.as_str()) {
        Step::PostParent
    } else {
        Step::Join
    }
}

/// What to do once waiting for another instance's parent is over: the record then, or
/// `None` when the store failed meanwhile.
pub fn after_wait(record: Option<&Record>, t: &Transition) -> Step {
    match record.and_then(|r| Some((r, r.open_parent()?))) {
        Some((record, parent)) => reply(record, parent, t),
        None => Step::Unthreaded,
    }
}

fn reply(record: &Record, parent: &Parent, t: &Transition) -> Step {
    Step::Reply {
        parent: parent.clone(),
        stale: record.is_newer_than(t),
        opened: record.opened.unwrap_or(t.at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn t(state: &str, at: i64) -> Transition {
        Transition {
            key: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu".into(),
            id: format!("{state}@{at}"),
            state: state.into(),
            at,
        }
    }

    fn parent() -> Parent {
        Parent {
            channel: "C1".into(),
            ts: "1.2".into(),
        }
    }

    /// Every kind of record the store can hold, by name.
    fn records() -> Vec<(&'static str, Record)> {
        let open = Record {
            status: Some(Status::Open),
            state: Some("ALARM".into()),
            changed: Some(NOW - 100),
            opened: Some(NOW - 100),
            claim: Some(format!("ALARM@{}", NOW - 100)),
            claimed: Some(NOW - 99),
            parent: Some(parent()),
            seen: vec![format!("ALARM@{}", NOW - 100)],
        };
        let opening = Record {
            parent: None,
            seen: vec![],
            ..open.clone()
        };
        let abandoned = Record {
            claimed: Some(NOW - CLAIM_EXPIRES_SECS),
            ..opening.clone()
        };
        let closed = Record {
            status: Some(Status::Closed),
            state: Some("OK".into()),
            changed: Some(NOW - 50),
            ..open.clone()
        };
        vec![
            ("none", Record::default()),
            ("open", open),
            ("opening", opening),
            ("abandoned", abandoned),
            ("closed", closed),
        ]
    }

    /// The whole table: each record against a newer, an older and a retried transition of
    /// each state.
    #[test]
    fn every_record_and_transition() {
        use Step::*;
        let reply = |stale| Reply {
            parent: parent(),
            stale,
            opened: NOW - 100,
        };
        let newer = NOW - 10;
        let older = NOW - 200;
        let expected: &[(&str, &str, i64, Step)] = &[
            ("none", "ALARM", newer, Claim),
            ("none", "OK", newer, Alone { stale: false }),
            ("none", "INSUFFICIENT_DATA", newer, Alone { stale: false }),
            ("open", "ALARM", newer, reply(false)),
            ("open", "OK", newer, reply(false)),
            ("open", "OK", older, reply(true)),
            ("open", "ALARM", older, reply(true)),
            ("opening", "OK", newer, Join),
            ("opening", "ALARM", older, Join),
            ("abandoned", "ALARM", newer, Claim),
            ("abandoned", "OK", newer, Alone { stale: false }),
            ("closed", "ALARM", newer, Claim),
            ("closed", "ALARM", older, Alone { stale: true }),
            ("closed", "OK", older, Alone { stale: true }),
            ("closed", "INSUFFICIENT_DATA", newer, Alone { stale: false }),
        ];
        let records = records();
        for (name, state, at, want) in expected {
            let (_, record) = records.iter().find(|(n, _)| n == name).expect("a record");
            assert_eq!(
                &step(record, &t(state, *at), NOW),
                want,
                "{state} at {at} on a {name} record"
            );
        }
    }

    #[test]
    fn a_transition_seen_before_posts_nothing_whatever_the_record() {
        for (name, mut record) in records() {
            let again = t("OK", NOW - 5);
            record.seen.push(again.id.clone());
            assert_eq!(step(&record, &again, NOW), Step::Already, "{name}");
        }
    }

    #[test]
    fn the_claimer_itself_posts_the_parent_and_others_join() {
        let (_, opening) = records().swap_remove(2);
        let own = t("ALARM", NOW - 100);
        assert_eq!(step(&opening, &own, NOW), Step::Claim);
        assert_eq!(after_refused_claim(&opening, &own), Step::PostParent);
        let other = t("ALARM", NOW - 90);
        assert_eq!(after_refused_claim(&opening, &other), Step::Join);
    }

    #[test]
    fn waiting_ends_in_the_thread_or_without_one() {
        let records = records();
        let ok = t("OK", NOW - 10);
        let open = &records[1].1;
        assert!(matches!(
            after_wait(Some(open), &ok),
            Step::Reply { stale: false, .. }
        ));
        assert_eq!(after_wait(Some(&records[2].1), &ok), Step::Unthreaded);
        assert_eq!(after_wait(None, &ok), Step::Unthreaded);
    }

    #[test]
    fn a_transition_without_a_time_is_dated_when_it_arrived() {
        let alarm = Alarm {
            name: "cpu".into(),
            new_state: "ALARM".into(),
            ..Alarm::default()
        };
        let t = Transition::of(&alarm, "k".into(), NOW);
        assert_eq!((t.id.as_str(), t.at), ("ALARM@unknown", NOW));
    }
}
