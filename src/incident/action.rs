//! A click on an incident's parent (issue 23), as a pure function: the record and the
//! click in, the record to write (or why not) out. `delivery/click.rs` writes it, under
//! the same version check as every other write, so that of two clicks at once the first
//! wins and the second is decided again on what the first wrote.

use super::{order, segment_of, top, Entry, Mark, Mute, Post, Record, LOG_LEN, RESOLVED};

/// Clicks remembered per alarm, to apply each one once.
const APPLIED_LEN: usize = 16;

/// What a button asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    Acknowledge,
    /// Until a time (epoch ms), or until the alarm's next `OK` (`None`).
    Mute(Option<i64>),
    Unmute,
    Resolve,
}

/// One click: who, on which parent (its `ts`), and Slack's id for it.
pub struct Click<'a> {
    pub act: Act,
    pub parent: &'a str,
    pub user: &'a str,
    /// Unique per click: the user and Slack's `action_ts`.
    pub id: &'a str,
    pub now: i64,
}

/// What became of a click.
#[derive(Debug, PartialEq)]
pub enum Acted {
    /// Write this record, then tell the thread.
    Done(Record),
    /// This very click was applied already: Slack sent it again.
    Again,
    /// Nothing changes; the clicker is told why.
    Refused(Refusal),
}

#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The message is not the parent of an open incident (closed, resolved, or unknown).
    Closed,
    AlreadyAcknowledged(Mark),
    AlreadyResolved(Mark),
    NotMuted,
}

/// An incident's parent as the record knows it.
#[derive(Debug, PartialEq)]
pub struct Status {
    pub post: Post,
    /// When its incident's first `ALARM` changed state (epoch ms).
    pub opened: Option<i64>,
    /// Still open: neither `OK` nor resolved by hand.
    pub open: bool,
}

/// The incident whose parent is `parent` (a `ts`), if the record has it.
pub fn status(record: &Record, parent: &str) -> Option<Status> {
    let log: Vec<&Entry> = record.log.iter().collect();
    let (at, post) = log.iter().enumerate().find_map(|(i, e)| {
        let post = top(e).filter(|p| p.ts == parent)?;
        Some((i, post))
    })?;
    // `get`, not indexing: the same slice, without a panic's location and call kept for a
    // range that is always in bounds.
    let segment = log.get(segment_of(&log, at))?;
    let incident = segment
        .iter()
        .any(|e| e.state == "ALARM" || e.old.as_deref() == Some("ALARM"));
    let ended = segment
        .iter()
        .any(|e| e.state == "OK" || e.state == RESOLVED);
    Some(Status {
        post: post.clone(),
        opened: segment
            .iter()
            .filter(|e| e.state == "ALARM")
            .map(|e| e.at)
            .min(),
        open: incident && !ended,
    })
}

/// Applies `click` to `record`.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
pub fn act(record: &Record, click: &Click) -> Acted {
    if record.marks.applied.iter().any(|id| id == click.id) {
        return Acted::Again;
    }
    let mut next = record.clone();
    let marks = &mut next.marks;
    match &click.act {
        // Mute and unmute are the alarm's, from any of its parents.
        Act::Mute(until) => {
            marks.mute = Some(Mute {
                user: click.user.to_string(),
                at: click.now,
                until: *until,
            })
        }
        Act::Unmute if marks.muted(click.now).is_none() => {
            return Acted::Refused(Refusal::NotMuted)
        }
        Act::Unmute => marks.mute = None,
        Act::Acknowledge | Act::Resolve => {
            let Some(status) = status(record, click.parent).filter(|s| s.open) else {
                return Acted::Refused(match &record.marks.resolved {
                    Some(r) if r.parent == click.parent => Refusal::AlreadyResolved(r.clone()),
                    _ => Refusal::Closed,
                });
            };
            let mark = Mark {
                parent: click.parent.to_string(),
                user: click.user.to_string(),
                at: click.now,
            };
            if click.act == Act::Acknowledge {
                if let Some(ack) = marks.ack.as_ref().filter(|a| a.parent == click.parent) {
                    return Acted::Refused(Refusal::AlreadyAcknowledged(ack.clone()));
                }
                marks.ack = Some(mark);
            } else {
                marks.resolved = Some(mark);
                next.log.push(resolved_entry(&status.post, click));
                next.log.sort_by(order);
                if next.log.len() > LOG_LEN {
                    let extra = next.log.len() - LOG_LEN;
                    next.log.drain(..extra);
                }
            }
        }
    }
    let applied = &mut next.marks.applied;
    applied.push(click.id.to_string());
    if applied.len() > APPLIED_LEN {
        applied.remove(0);
    }
    Acted::Done(next)
}

/// The entry that ends the incident: posted in its thread (the reply that says who
/// resolved it).
fn resolved_entry(parent: &Post, click: &Click) -> Entry {
    Entry {
        id: format!("{RESOLVED}@{}", click.now),
        state: RESOLVED.to_string(),
        old: None,
        at: click.now,
        post: Some(Post {
            top: false,
            ..parent.clone()
        }),
        claim: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{step, Step, Transition};

    const KEY: &str = "arn:aws:cloudwatch:us-east-1:1:alarm:cpu";
    const T0: i64 = 1_796_000_000_000;
    const MIN: i64 = 60_000;

    fn t(old: &str, state: &str, at: i64) -> Transition {
        Transition {
            key: KEY.into(),
            id: format!("{state}@{at}"),
            state: state.into(),
            old: Some(old.into()),
            at,
        }
    }

    /// Delivers `t` as threads.rs would, without claims in flight.
    fn deliver(record: &Record, t: &Transition, now: i64) -> (Step, Record) {
        let step = step(record, t, "n", now);
        let next = match &step {
            Step::Open => record.posted(
                t,
                Post {
                    channel: "C1".into(),
                    ts: format!("ts-{}", t.at),
                    top: true,
                },
            ),
            Step::Reply { parent, .. } => record.posted(
                t,
                Post {
                    top: false,
                    ..parent.clone()
                },
            ),
            other => panic!("unexpected {other:?}"),
        };
        (step, next)
    }

    fn click<'a>(act: Act, parent: &'a str, user: &'a str, id: &'a str, now: i64) -> Click<'a> {
        Click {
            act,
            parent,
            user,
            id,
            now,
        }
    }

    fn done(acted: Acted) -> Record {
        match acted {
            Acted::Done(r) => r,
            other => panic!("not done: {other:?}"),
        }
    }

    fn firing() -> Record {
        deliver(&Record::default(), &t("OK", "ALARM", T0), T0).1
    }

    #[test]
    fn the_first_acknowledgement_wins_and_a_retry_counts_once() {
        let record = firing();
        let parent = format!("ts-{T0}");
        let first = done(act(
            &record,
            &click(Act::Acknowledge, &parent, "U1", "U1@1.1", T0 + 4 * MIN),
        ));
        assert_eq!(
            first.marks.ack.as_ref().map(|a| a.user.as_str()),
            Some("U1")
        );
        assert_eq!(
            act(
                &first,
                &click(Act::Acknowledge, &parent, "U1", "U1@1.1", T0 + 5 * MIN)
            ),
            Acted::Again
        );
        assert!(matches!(
            act(&first, &click(Act::Acknowledge, &parent, "U2", "U2@1.2", T0 + 5 * MIN)),
            Acted::Refused(Refusal::AlreadyAcknowledged(Mark { user, .. })) if user == "U1"
        ));
    }

    #[test]
    fn a_closed_or_unknown_incident_takes_no_acknowledgement() {
        let parent = format!("ts-{T0}");
        let (_, closed) = deliver(&firing(), &t("ALARM", "OK", T0 + MIN), T0 + MIN);
        for (record, parent) in [(&closed, parent.as_str()), (&firing(), "ts-unknown")] {
            assert_eq!(
                act(
                    record,
                    &click(Act::Acknowledge, parent, "U1", "x", T0 + 2 * MIN)
                ),
                Acted::Refused(Refusal::Closed)
            );
        }
    }

    #[test]
    fn resolve_ends_the_incident_and_the_next_alarm_opens_a_new_one() {
        // Stuck: ALARM then INSUFFICIENT_DATA, which alone would stay in the incident.
        let (_, stuck) = deliver(
            &firing(),
            &t("ALARM", "INSUFFICIENT_DATA", T0 + MIN),
            T0 + MIN,
        );
        let parent = format!("ts-{T0}");
        let resolved = done(act(
            &stuck,
            &click(Act::Resolve, &parent, "U1", "r", T0 + 2 * MIN),
        ));
        assert!(!status(&resolved, &parent).expect("known").open);
        assert!(matches!(
            act(
                &resolved,
                &click(Act::Resolve, &parent, "U2", "r2", T0 + 3 * MIN)
            ),
            Acted::Refused(Refusal::AlreadyResolved(_))
        ));
        // What follows the resolve stays in its thread, even a transition that left ALARM…
        let (step, later) = deliver(
            &resolved,
            &t("INSUFFICIENT_DATA", "OK", T0 + 3 * MIN),
            T0 + 3 * MIN,
        );
        assert!(matches!(step, Step::Reply { ref parent, .. } if parent.ts == format!("ts-{T0}")));
        // …until the next ALARM, which opens a new parent.
        let (step, _) = deliver(&later, &t("OK", "ALARM", T0 + 4 * MIN), T0 + 4 * MIN);
        assert_eq!(step, Step::Open);
        // A new ALARM straight after the resolve opens one too.
        let (step, _) = deliver(
            &resolved,
            &t("INSUFFICIENT_DATA", "ALARM", T0 + 3 * MIN),
            T0 + 3 * MIN,
        );
        assert_eq!(step, Step::Open);
    }

    #[test]
    fn a_late_transition_is_not_told_that_the_alarm_is_resolved() {
        let parent = format!("ts-{T0}");
        let resolved = done(act(
            &firing(),
            &click(Act::Resolve, &parent, "U1", "r", T0 + 2 * MIN),
        ));
        let (step, _) = deliver(&resolved, &t("ALARM", "ALARM", T0 + MIN), T0 + 3 * MIN);
        assert!(matches!(step, Step::Reply { late: None, .. }), "{step:?}");
    }

    #[test]
    fn muted_incidents_open_no_parent_until_the_mute_ends() {
        let parent = format!("ts-{T0}");
        let muted = done(act(
            &firing(),
            &click(Act::Mute(Some(T0 + 60 * MIN)), &parent, "U1", "m", T0 + MIN),
        ));
        let (_, quiet) = deliver(&muted, &t("ALARM", "OK", T0 + 2 * MIN), T0 + 2 * MIN);
        // A new incident within the hour: in the muted thread, not at the top.
        let (step, again) = deliver(&quiet, &t("OK", "ALARM", T0 + 3 * MIN), T0 + 3 * MIN);
        assert!(
            matches!(step, Step::Reply { ref parent, update: true, .. } if parent.ts == format!("ts-{T0}")),
            "{step:?}"
        );
        // After the hour, a new incident opens a parent again.
        let (_, calm) = deliver(&again, &t("ALARM", "OK", T0 + 4 * MIN), T0 + 4 * MIN);
        let (step, _) = deliver(&calm, &t("OK", "ALARM", T0 + 61 * MIN), T0 + 61 * MIN);
        assert_eq!(step, Step::Open);
    }

    #[test]
    fn a_mute_until_ok_ends_with_the_next_ok() {
        let parent = format!("ts-{T0}");
        let muted = done(act(
            &firing(),
            &click(Act::Mute(None), &parent, "U1", "m", T0 + MIN),
        ));
        assert!(muted.marks.muted(T0 + 1000 * MIN).is_some());
        // An OK older than the mute does not end it.
        let (_, still) = deliver(&muted, &t("ALARM", "OK", T0 + MIN / 2), T0 + 2 * MIN);
        assert!(still.marks.mute.is_some());
        let (_, ended) = deliver(&muted, &t("ALARM", "OK", T0 + 2 * MIN), T0 + 2 * MIN);
        assert_eq!(ended.marks.mute, None);
        assert_eq!(
            act(
                &ended,
                &click(Act::Unmute, &parent, "U1", "u", T0 + 3 * MIN)
            ),
            Acted::Refused(Refusal::NotMuted)
        );
    }

    #[test]
    fn applied_clicks_are_bounded() {
        let parent = format!("ts-{T0}");
        let mut record = firing();
        for i in 0..40 {
            let id = format!("c{i}");
            record = done(act(
                &record,
                &click(Act::Mute(None), &parent, "U1", &id, T0 + i),
            ));
        }
        assert_eq!(record.marks.applied.len(), APPLIED_LEN);
        assert_eq!(record.marks.applied.last().map(String::as_str), Some("c39"));
    }
}
