//! Carries out the incident state machine's steps (`incident::step`) for one transition:
//! the posts and updates in Slack, and the writes to the incident store around them.

use crate::alarm::event::Notification;
use crate::alarm::Alarm;
use crate::error::Error;
use crate::http::Deadline;
use crate::incident::store::{Outcome, Store};
use crate::incident::{self, Parent, Record, Step, Transition};
use crate::log::{self, Level};
use crate::slack::app::{App, Tag};
use crate::slack::incident_words::incident_words;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an instance that lost the race for a parent waits for the winner's `ts`.
const PARENT_WAIT: Duration = Duration::from_secs(3);
const PARENT_POLL: Duration = Duration::from_millis(150);

/// One transition on its way to Slack.
struct Run<'a> {
    store: &'a Store,
    app: &'a App<'a>,
    t: Transition,
    notification: &'a Notification,
    deadline: Deadline,
}

/// Posts an alarm in its incident's thread. `Ok(false)`: this transition was posted
/// already (a retried event), nothing was posted again. `key` names the alarm's incident
/// in this channel.
pub fn deliver(
    store: &Store,
    app: &App,
    alarm: &Alarm,
    key: &str,
    notification: &Notification,
    deadline: Deadline,
) -> Result<bool, Error> {
    let now = epoch_now();
    let run = Run {
        store,
        app,
        t: Transition::of(alarm, key.to_string(), now),
        notification,
        deadline,
    };
    let step = match store.get(app.agent, key, deadline) {
        Ok(record) => incident::step(&record, &run.t, now),
        Err(err) => {
            warn(
                "the incident store failed; posting the alarm without a thread",
                &err,
            );
            Step::Unthreaded
        }
    };
    run.take(step)
}

impl Run<'_> {
    fn take(&self, step: Step) -> Result<bool, Error> {
        match step {
            Step::Already => {
                log::line(
                    Level::Info,
                    &"this transition was posted already; not posting it again",
                )
                .str("transition", self.t.id.as_str())
                .emit();
                return Ok(false);
            }
            Step::Reply {
                parent,
                stale,
                opened,
            } => self.reply(&parent, stale, opened)?,
            Step::Join => {
                let next = incident::after_wait(self.wait_for_parent().as_ref(), &self.t);
                if next == Step::Unthreaded {
                    log::line(Level::Warn, &"another instance is opening this incident and its thread is not there yet; posting the alarm without a thread").emit();
                }
                return self.take(next);
            }
            Step::Alone { stale } => {
                self.post(None)?;
                self.best_effort(self.store.record_alone(&self.t, stale));
            }
            Step::Claim => match self.store.write(
                self.app.agent,
                self.store.claim(&self.t, epoch_now()),
                self.deadline,
            ) {
                Ok(Outcome::Done) => self.post_parent()?,
                Ok(Outcome::Refused(now)) => {
                    return self.take(incident::after_refused_claim(&now, &self.t))
                }
                Err(err) => {
                    warn(
                        "the incident store failed; posting the alarm without a thread",
                        &err,
                    );
                    self.post(None)?;
                }
            },
            Step::PostParent => self.post_parent()?,
            Step::Unthreaded => {
                self.post(None)?;
            }
        }
        Ok(true)
    }

    fn post(&self, thread: Option<&Parent>) -> Result<crate::slack::app::Posted, Error> {
        let tag = Tag {
            alarm: &self.t.key,
            transition: &self.t.id,
        };
        let thread = thread.map(|p| (p.channel.as_str(), p.ts.as_str()));
        self.app
            .post(self.notification, thread, Some(&tag), self.deadline)
    }

    /// The incident's parent, then where it is, for the replies to come.
    fn post_parent(&self) -> Result<(), Error> {
        let posted = self.post(None)?;
        let parent = Parent {
            channel: posted.channel,
            ts: posted.ts,
        };
        self.best_effort(self.store.set_parent(&self.t, &parent));
        Ok(())
    }

    /// A reply in the open incident's thread, then the parent brought up to date (unless the
    /// transition is older than what the parent shows).
    fn reply(&self, parent: &Parent, stale: bool, opened: i64) -> Result<(), Error> {
        self.post(Some(parent))?;
        self.best_effort(self.store.record_reply(&self.t, &parent.ts, stale));
        if !stale {
            let words = incident_words(&self.t.state, opened, self.t.at);
            let parent = (parent.channel.as_str(), parent.ts.as_str());
            if let Err(err) = self
                .app
                .update(parent, self.notification, &words, self.deadline)
            {
                warn("cannot update the incident's parent message", &err);
            }
        }
        Ok(())
    }

    /// A write that the alarm does not depend on: its failure is a WARN, and a refused
    /// condition (a newer transition got there first) is expected.
    fn best_effort(&self, request: Value) {
        match self.store.write(self.app.agent, request, self.deadline) {
            Ok(Outcome::Done) => {}
            Ok(Outcome::Refused(_)) => log::debug(&"a newer transition is stored already")
                .str("transition", self.t.id.as_str())
                .emit(),
            Err(err) => warn("cannot record the transition in the incident store", &err),
        }
    }

    /// The record once the winning instance stored its parent, polled for a few seconds.
    fn wait_for_parent(&self) -> Option<Record> {
        let mut waited = Duration::ZERO;
        while waited < PARENT_WAIT && self.deadline.sleep(PARENT_POLL) {
            waited += PARENT_POLL;
            match self.store.get(self.app.agent, &self.t.key, self.deadline) {
                Ok(record) if record.open_parent().is_some() => return Some(record),
                Ok(_) => {}
                Err(err) => {
                    warn(
                        "the incident store failed while waiting for the thread",
                        &err,
                    );
                    return None;
                }
            }
        }
        None
    }
}

fn warn(what: &str, err: &Error) {
    log::line(Level::Warn, &what).error(err).emit();
}

fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
