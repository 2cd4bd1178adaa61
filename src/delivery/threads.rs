//! Carries out the incident state machine (`incident::step`) for one transition: decides
//! from the record this instance last saw, claims the transition with a write conditional
//! on that record's version, posts, and writes where the post went. When another instance
//! wrote first, the refusal returns the record as it is and the step is decided again; a
//! record is read only to wait on a claim.
//!
//! Time: the store gets at most a third of what is left (and at most [`STORE_MAX`]) before
//! the post, so that Slack always keeps the larger part; what is written after the post
//! never turns a posted alarm into a failure.

use crate::alarm::event::Notification;
use crate::alarm::timestamp::now_ms;
use crate::alarm::Alarm;
use crate::beside::beside;
use crate::error::Error;
use crate::http::Deadline;
use crate::incident::action::status;
use crate::incident::store::{Outcome, Store};
use crate::incident::storm::{StormStore, Storms, Window, DEFAULT_WINDOW, UPDATE_EVERY_MS};
use crate::incident::turns;
use crate::incident::{self, Mark, Post, Record, Step, Transition};
use crate::log::{self, Level};
use crate::slack::app::{App, Posted, Tag};
use crate::slack::controls::Controls;
use crate::slack::incident_words::{incident_words, span};
use crate::slack::message::Options;
use crate::slack::mrkdwn::escape;
use crate::slack::pace::Pace;
use crate::slack::storm;
use crate::slack::web_api::Args;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The store's share of the time left, before the post and after it.
const STORE_SHARE: u32 = 3;
const STORE_MAX: Duration = Duration::from_secs(3);
/// How often a transition waiting for another instance's parent reads the record again.
const POLL: Duration = Duration::from_millis(150);
/// Races lost (another instance wrote first) before giving up on the thread; waiting on
/// another instance's claim is bounded by time instead.
const ROUNDS: usize = 8;

/// The parents' buttons are on (the secret holds the signing secret that verifies their
/// clicks), with the alarm's runbook link if it has one.
pub struct Buttons<'a> {
    pub runbook: Option<&'a str>,
}

/// A notification, and the transition of the incident it goes to.
pub struct Incident<'a> {
    pub t: Transition,
    pub notification: &'a Notification,
    /// Posted only as a reply in its incident's thread, never as a parent of its own (a
    /// routine notice that resolves: a pipeline's success after its failure).
    pub thread_only: bool,
    pub buttons: Option<&'a Buttons<'a>>,
    /// Storm grouping, when on (`STORM_THRESHOLD`).
    pub storms: Option<Storms>,
    /// The channel's storm window (`storm::window_of`).
    pub window: &'a str,
}

/// One transition on its way to Slack.
struct Run<'a> {
    store: &'a Store,
    app: &'a App<'a>,
    t: Transition,
    /// This invocation's mark on the claims it makes.
    nonce: String,
    notification: &'a Notification,
    buttons: Option<&'a Buttons<'a>>,
    storms: Option<Storms>,
    window: &'a str,
    thread_only: bool,
    /// The channel's storm window, counted beside the claim of a new parent.
    counted: RefCell<Option<Window>>,
    /// The alarm is muted, or one of a storm: its posts mention nobody.
    quiet: Cell<bool>,
    deadline: Deadline,
}

/// A transition's first claim, written before the Slack settings are known: a cold start
/// fetches the secret meanwhile, on the main thread, so that the claim costs no round trip
/// of its own. A new incident is counted in the default channel's storm window beside it.
/// Taken by [`deliver`] when the alarm goes to the incident it names; released by
/// [`Ahead::release`] when it does not (a routed channel, webhook mode).
pub struct Ahead {
    t: Transition,
    nonce: String,
    step: Step,
    outcome: Result<Outcome, Error>,
    counted: Option<(Storms, Window)>,
}

impl Ahead {
    /// Claims `alarm`'s transition in the incident `key`, as [`deliver`] would first; `None`
    /// when its first step is not a claim (it must wait, or was posted already).
    pub fn claim(
        store: &Store,
        agent: &ureq::Agent,
        alarm: &Alarm,
        key: String,
        storms: Option<Storms>,
        deadline: Deadline,
    ) -> Option<Ahead> {
        let t = Transition::of(alarm, key, now_ms());
        let nonce = nonce();
        let record = store.remembered(&t.key);
        let step = incident::step(&record, &t, &nonce, now_ms());
        if !matches!(step, Step::Open | Step::Reply { .. }) {
            return None;
        }
        let claimed = record.claimed(&t, &nonce, until(deadline), thread_of(&step));
        let share = store_share(deadline);
        let storms = storms.filter(|_| matches!(step, Step::Open));
        let count = storms.map(|storms| default_window(store, agent, storms, deadline));
        let (outcome, counted) = claim_beside_count(&t, count.as_ref(), &mut || {
            store.put(agent, &t.key, &record, &claimed, share)
        });
        Some(Ahead {
            counted: storms.zip(counted),
            t,
            nonce,
            step,
            outcome,
        })
    }

    /// Gives back a claim nothing took: no one waits on a post that will not come; and the
    /// count, so that the default channel's storm is not one incident nearer.
    pub fn release(self, store: &Store, agent: &ureq::Agent, deadline: Deadline) {
        if let Some((storms, window)) = &self.counted {
            let count = default_window(store, agent, *storms, deadline);
            if let Err(err) = count.uncount(window.since) {
                warn(
                    &self.t,
                    "cannot take back a count made ahead of the secret",
                    &err,
                );
            }
        }
        if let Ok(Outcome::Done(written)) = &self.outcome {
            let released = written.released(&self.t.id);
            if let Err(err) = store.put(
                agent,
                &self.t.key,
                written,
                &released,
                store_share(deadline),
            ) {
                warn(
                    &self.t,
                    "cannot give back a claim made ahead of the secret",
                    &err,
                );
            }
        }
    }
}

/// Posts an alarm in its incident's thread. `Ok(false)`: this transition was posted
/// already (a retried or duplicated event), nothing was posted again. `key` names the
/// alarm's incident in this channel; `ahead` is its claim if one was made before the
/// settings were known (taken when it is this transition's, in this incident).
pub fn deliver(
    store: &Store,
    app: &App,
    incident: Incident,
    deadline: Deadline,
    ahead: &mut Option<Ahead>,
) -> Result<bool, Error> {
    let Incident {
        t,
        notification,
        thread_only,
        buttons,
        storms,
        window,
    } = incident;
    // The same key is the default channel's incident, whose storm window it counted in.
    let ahead = match ahead.take() {
        Some(a) if a.t.key == t.key && a.t.id == t.id => Some(a),
        other => {
            *ahead = other;
            None
        }
    };
    let (nonce, counted, ahead) = match ahead {
        Some(a) => (
            a.nonce,
            a.counted.map(|(_, w)| w),
            Some((a.step, a.outcome)),
        ),
        None => (nonce(), None, None),
    };
    let run = Run {
        store,
        app,
        t,
        nonce,
        notification,
        buttons,
        storms,
        window,
        thread_only,
        counted: RefCell::new(counted),
        quiet: Cell::new(false),
        deadline,
    };
    let share = store_share(deadline);
    match run.settle(share, ahead) {
        Ok(done) => Ok(done),
        Err(Fallback::Store(err)) => run.without_store(&err),
        Err(Fallback::NoThread) => {
            log::line(Level::Warn, &"another instance is posting this incident's parent and it did not come in time; posting the alarm without a thread")
                .str("incident", run.t.key.as_str())
                .emit();
            run.post_unthreaded(None)
        }
        Err(Fallback::Fail(err)) => Err(err),
    }
}

/// How a transition ends up without its thread.
enum Fallback {
    /// The store failed or ran out of its share: post without a thread (the alarm first).
    Store(Error),
    /// Another instance's parent did not come in time: post without a thread.
    NoThread,
    /// Slack failed, or the same transition is being posted elsewhere: the invocation fails
    /// and Lambda's retry finds the record as this attempt left it.
    Fail(Error),
}

impl Run<'_> {
    /// Reads, decides and writes until the transition is posted; `ahead`: the first claim,
    /// already made.
    fn settle(
        &self,
        share: Deadline,
        ahead: Option<(Step, Result<Outcome, Error>)>,
    ) -> Result<bool, Fallback> {
        let store = |e| Fallback::Store(e);
        // Decided from what this instance last saw, without a read: the claim written before
        // the post is conditional on that version, and a refusal returns the record as it is.
        let mut record = self.store.remembered(&self.t.key);
        let mut fresh = false;
        if let Some((step, outcome)) = ahead {
            match outcome.map_err(store)? {
                Outcome::Done(written) => return self.act(step, &written).map(|()| true),
                Outcome::Refused(now) => {
                    record = now;
                    fresh = true;
                }
            }
        }
        // Lost races are bounded by ROUNDS; waits by the store's share of the time.
        let mut lost = 0;
        while lost < ROUNDS {
            let step = incident::step(&record, &self.t, &self.nonce, now_ms());
            match step {
                Step::Already => return Ok(self.already()),
                Step::Open if self.thread_only => {
                    log::line(
                        Level::Info,
                        &"no open thread for this routine notice; not posted",
                    )
                    .str("incident", self.t.key.as_str())
                    .emit();
                    return Ok(false);
                }
                // Claims seen in memory may be long settled: read before waiting on one.
                Step::Wait { .. } | Step::Recover { .. } if !fresh => {
                    record = self
                        .store
                        .get(self.app.agent, &self.t.key, share)
                        .map_err(store)?;
                    fresh = true;
                }
                Step::Wait { until, same } => {
                    let gave_up = || {
                        if same {
                            Fallback::Fail(Error::Timeout(
                                "wait for the instance that is posting the same transition",
                            ))
                        } else {
                            Fallback::NoThread
                        }
                    };
                    let wait = Duration::from_millis((until - now_ms()).clamp(1, 1000) as u64);
                    if !share.sleep(POLL.min(wait)) {
                        return Err(gave_up());
                    }
                    // A sleep may end past the share's last read: that is the wait running
                    // out, not the store failing.
                    record = match self.store.get(self.app.agent, &self.t.key, share) {
                        Err(Error::Timeout(_)) => return Err(gave_up()),
                        read => read.map_err(store)?,
                    };
                }
                Step::Recover { id } => {
                    record = self.recover(&record, &id, share)?;
                    lost += 1;
                }
                Step::Open | Step::Reply { .. } => {
                    let claimed = record.claimed(
                        &self.t,
                        &self.nonce,
                        until(self.deadline),
                        thread_of(&step),
                    );
                    let channel = match &step {
                        Step::Reply { parent, .. } => parent.channel.as_str(),
                        _ => self.app.channel,
                    };
                    // The channel's shared turn beside the claim: it costs no round trip.
                    // Without a pace there is no turn, and no thread to start for it.
                    let (db, agent, pace) = (self.store, self.app.agent, self.app.api.pace());
                    let deadline = self.deadline;
                    let open = matches!(step, Step::Open);
                    let mut turn = Ok(());
                    let claim = || match open {
                        true => self.claim_and_count(&record, &claimed, share),
                        false => self.put(&record, &claimed, share),
                    };
                    let written = match pace.interval().is_zero() {
                        true => claim(),
                        false => beside(
                            &mut || turn = take_turn(db, agent, pace, channel, deadline),
                            claim,
                        ),
                    };
                    if let Err(err) = turn {
                        warn(
                            &self.t,
                            "cannot take the channel's turn among instances; pacing this one alone",
                            &err,
                        );
                    }
                    match written.map_err(store)? {
                        Outcome::Done(written) => {
                            self.act(step, &written)?;
                            return Ok(true);
                        }
                        Outcome::Refused(now) => {
                            record = now;
                            fresh = true;
                            lost += 1;
                        }
                    }
                }
            }
        }
        Err(Fallback::NoThread)
    }

    /// The store failed: the alarm is posted all the same, in the thread this instance
    /// remembers for it if any (else on its own), after a look in Slack for its own
    /// metadata there: without the store, a retry of an attempt whose answer was lost, or a
    /// duplicate another instance posted, can only be told by the message in Slack.
    fn without_store(&self, err: &Error) -> Result<bool, Error> {
        let remembered = self.store.remembered(&self.t.key);
        let thread = match incident::step(&remembered, &self.t, &self.nonce, now_ms()) {
            Step::Already => return Ok(self.already()),
            Step::Reply { parent, .. } => Some(parent),
            _ => None,
        };
        let words = match thread {
            Some(_) => {
                "the incident store failed; posting the alarm in the thread this instance remembers"
            }
            None => "the incident store failed; posting the alarm without a thread",
        };
        warn(&self.t, words, err);
        let tag = Tag {
            alarm: &self.t.key,
            transition: &self.t.id,
        };
        let (channel, parent) = match &thread {
            Some(p) => (p.channel.as_str(), Some(p.ts.as_str())),
            None => (self.app.channel, None),
        };
        if let Ok(Some(_)) = self.app.find(channel, parent, &tag, self.deadline) {
            return Ok(self.already());
        }
        self.post_unthreaded(thread)
    }

    /// Posts a fallback (in `thread`, else on its own), then tries to record it like any
    /// post, so that a duplicate or Lambda's retry of this event finds it posted.
    fn post_unthreaded(&self, thread: Option<Post>) -> Result<bool, Error> {
        let posted = self.post(thread.as_ref(), None, None)?;
        let post = match thread {
            Some(parent) => Post {
                top: false,
                ..parent
            },
            None => Post {
                channel: posted.channel,
                ts: posted.ts,
                top: true,
            },
        };
        self.record_after_post(&self.store.remembered(&self.t.key), post);
        Ok(true)
    }

    /// `chat.update` of `parent` to show this transition, and its buttons as `record` has
    /// them; a failure is a WARN.
    fn update_parent(&self, parent: &Post, opened: Option<i64>, record: &Record) {
        let opened = opened.unwrap_or(self.t.at).div_euclid(1000);
        let words = incident_words(&self.t.state, opened, self.t.at.div_euclid(1000));
        let controls = self.controls(record, Some(&parent.ts));
        let parent = (parent.channel.as_str(), parent.ts.as_str());
        if let Err(err) = self.app.update(
            parent,
            self.notification,
            &words,
            controls.as_ref(),
            self.deadline,
        ) {
            warn(&self.t, "cannot update the incident's parent message", &err);
        }
    }

    /// Posted already (a retried or duplicated event): says so, and posts nothing.
    fn already(&self) -> bool {
        log::line(
            Level::Info,
            &"this transition was posted already; not posting it again",
        )
        .str("transition", self.t.id.as_str())
        .emit();
        false
    }

    /// What a parent (`parent`, its `ts`; `None` for one about to be posted) shows of its
    /// incident's marks, when the buttons are on.
    fn controls<'c>(&'c self, record: &'c Record, parent: Option<&str>) -> Option<Controls<'c>> {
        let buttons = self.buttons?;
        let status = parent.and_then(|ts| status(record, ts));
        let open = match &status {
            Some(s) => s.open,
            None => {
                self.t.state == "ALARM"
                    || (self.t.state != "OK" && self.t.old.as_deref() == Some("ALARM"))
            }
        };
        let opened = status.as_ref().and_then(|s| s.opened).unwrap_or(self.t.at);
        let of = |m: &'c Option<Mark>| m.as_ref().filter(|m| Some(m.parent.as_str()) == parent);
        Some(Controls {
            key: &self.t.key,
            open,
            ack: of(&record.marks.ack).map(|a| (a.user.as_str(), (a.at - opened).max(0) / 1000)),
            mute: record
                .marks
                .muted(now_ms())
                .map(|m| (m.user.as_str(), m.until.map(|u| u.div_euclid(1000)))),
            resolved: of(&record.marks.resolved).map(|r| r.user.as_str()),
            runbook: buttons.runbook,
        })
    }

    /// The post a claimed step names.
    fn act(&self, step: Step, claimed: &Record) -> Result<(), Fallback> {
        self.quiet.set(claimed.marks.muted(now_ms()).is_some());
        match step {
            Step::Reply {
                parent,
                late,
                opened,
                ..
            } => self.reply(claimed, &parent, late.as_deref(), opened),
            _ => self.open(claimed),
        }
    }

    /// Posts `t`, claimed in `claimed`: in `thread`, else as its segment's parent. A post
    /// that certainly did not happen gives the claim back; one that may have (no answer)
    /// keeps it, so that Lambda's retry looks for it in Slack first.
    fn post_claimed(
        &self,
        claimed: &Record,
        thread: Option<&Post>,
        note: Option<&str>,
    ) -> Result<Posted, Fallback> {
        let controls = match thread {
            None => self.controls(claimed, None),
            Some(_) => None,
        };
        self.post(thread, note, controls.as_ref()).map_err(|err| {
            if !matches!(err, Error::SlackNoAnswer(_)) {
                let share = store_share(self.deadline);
                let _ = self.put(claimed, &claimed.released(&self.t.id), share);
            }
            Fallback::Fail(err)
        })
    }

    /// The segment's parent, then where it is; in a storm, a reply under the storm's
    /// message instead.
    fn open(&self, claimed: &Record) -> Result<(), Fallback> {
        if let Some((storm, since)) = self.storm_thread() {
            self.quiet.set(true);
            self.post_claimed(claimed, Some(&storm), None)?;
            let post = Post {
                top: false,
                ..storm.clone()
            };
            self.record_after_post(claimed, post);
            self.storm_member(since, &storm);
            return Ok(());
        }
        let posted = self.post_claimed(claimed, None, None)?;
        let post = Post {
            channel: posted.channel,
            ts: posted.ts,
            top: true,
        };
        self.record_after_post(claimed, post);
        Ok(())
    }

    /// A reply under `parent`, marked late when it is; then, if it is the newest of its
    /// thread once recorded, the parent brought up to date.
    fn reply(
        &self,
        claimed: &Record,
        parent: &Post,
        late: Option<&str>,
        opened: Option<i64>,
    ) -> Result<(), Fallback> {
        // The reply that closes an acknowledged incident says how long acknowledging took.
        let acknowledged = claimed
            .marks
            .ack
            .as_ref()
            .filter(|a| a.parent == parent.ts && self.t.state == "OK");
        let note = match (late, acknowledged) {
            // A notice's states are ours, not its source's words: only that it is late.
            (Some(_), _) if !matches!(self.notification, Notification::Alarm(_)) => {
                Some("_(arrived late)_".to_string())
            }
            (Some(now), _) => Some(format!(
                "_(arrived late: the alarm is {} now)_",
                escape(now)
            )),
            (None, Some(ack)) => Some(format!(
                "_Acknowledged by <@{}> {} after it fired._",
                ack.user,
                span((ack.at - opened.unwrap_or(ack.at)).max(0) / 1000)
            )),
            (None, None) => None,
        };
        self.post_claimed(claimed, Some(parent), note.as_deref())?;
        // The record first: whether this reply is the newest of its thread is decided on
        // the record as written, which shows any transition another instance posted or
        // claimed there meanwhile. (An instance that dies after its post and before this
        // write leaves its claim; its retry recovers it and updates the parent then.)
        let post = Post {
            top: false,
            ..parent.clone()
        };
        let recorded = self.record_after_post(claimed, post);
        let record = recorded.as_ref().unwrap_or(claimed);
        if !is_ours(record, parent) {
            // A storm's thread: its message counts the alarm's new state instead.
            if let Some(since) = self.storm_of(parent) {
                self.storm_member(since, parent);
            }
        } else if incident::newest_in_thread(record, &self.t, parent) {
            self.update_parent(parent, opened, record);
        }
        Ok(())
    }

    /// `chat.postMessage`, in `thread` when given, with `note` instead of the destination's
    /// mentions (a late transition pings nobody, nor does a muted alarm).
    fn post(
        &self,
        thread: Option<&Post>,
        note: Option<&str>,
        controls: Option<&Controls>,
    ) -> Result<Posted, Error> {
        let tag = Tag {
            alarm: &self.t.key,
            transition: &self.t.id,
        };
        let thread = thread.map(|p| (p.channel.as_str(), p.ts.as_str()));
        if note.is_none() && !self.quiet.get() {
            return self.app.post(
                self.notification,
                thread,
                Some(&tag),
                controls,
                self.deadline,
            );
        }
        let app = App {
            options: Options {
                suffix: note,
                ..self.app.options.clone()
            },
            landed: Default::default(),
            ..*self.app
        };
        let posted = app.post(
            self.notification,
            thread,
            Some(&tag),
            controls,
            self.deadline,
        );
        // A muted alarm's post still gets its graph; a late one never did.
        if let (Ok(p), None) = (&posted, note) {
            self.app.landed.set(Some(p.clone()));
        }
        posted
    }

    /// Records where this transition was posted: it is done, so a failure here is a WARN,
    /// and a lost race is written again over what the other instance wrote.
    /// The record as written, `None` when it could not be.
    fn record_after_post(&self, read: &Record, post: Post) -> Option<Record> {
        let share = store_share(self.deadline);
        let mut read = read.clone();
        for _ in 0..ROUNDS {
            match self.put(&read, &read.posted(&self.t, post.clone()), share) {
                Ok(Outcome::Done(written)) => return Some(written),
                Ok(Outcome::Refused(now)) => read = now,
                Err(err) => {
                    warn(
                        &self.t,
                        "cannot record the transition in the incident store",
                        &err,
                    );
                    return None;
                }
            }
        }
        None
    }

    /// The claim on entry `id` outlived its instance: its post is in Slack if that instance
    /// posted it before it died, in the channel (a parent) or in the thread the claim names
    /// (a reply). Found: recorded; not found: the claim is dropped.
    fn recover(&self, read: &Record, id: &str, share: Deadline) -> Result<Record, Fallback> {
        let Some(entry) = read.log.iter().find(|e| e.id == id) else {
            return Ok(read.clone());
        };
        let claimed = Transition {
            key: self.t.key.clone(),
            id: entry.id.clone(),
            state: entry.state.clone(),
            old: entry.old.clone(),
            at: entry.at,
        };
        let tag = Tag {
            alarm: &self.t.key,
            transition: id,
        };
        let thread = entry.claim.as_ref().and_then(|c| c.thread.as_deref());
        // A reply's thread is in the channel its parent was posted in.
        let channel = thread
            .and_then(|ts| {
                read.log
                    .iter()
                    .find_map(|e| e.post.as_ref().filter(|p| p.ts == ts))
            })
            .map_or(self.app.channel, |p| p.channel.as_str());
        let found = self
            .app
            .find(channel, thread, &tag, share)
            .map_err(Fallback::Fail)?;
        let was_found = found.is_some();
        let next = match found {
            Some(ts) => {
                log::line(
                    Level::Warn,
                    &"an instance died after posting a transition; found its post in Slack",
                )
                .str("incident", self.t.key.as_str())
                .emit();
                read.posted(
                    &claimed,
                    Post {
                        channel: channel.to_string(),
                        ts: thread.map_or(ts, str::to_string),
                        top: thread.is_none(),
                    },
                )
            }
            None => read.released(id),
        };
        let now = match self.put(read, &next, share).map_err(Fallback::Store)? {
            Outcome::Done(now) | Outcome::Refused(now) => now,
        };
        // This event's own reply, posted by an attempt that died before updating the
        // parent: the parent is brought up to date now, if the reply is its newest.
        if let (true, Some(ts), true) = (was_found, thread, id == self.t.id) {
            let parent = Post {
                channel: channel.to_string(),
                ts: ts.to_string(),
                top: true,
            };
            if is_ours(&now, &parent) && incident::newest_in_thread(&now, &self.t, &parent) {
                let opened = now
                    .log
                    .iter()
                    .filter(|e| e.state == "ALARM" && e.post.as_ref().is_some_and(|p| p.ts == ts))
                    .map(|e| e.at)
                    .min();
                self.update_parent(&parent, opened, &now);
            }
        }
        Ok(now)
    }

    /// The claim of a new parent, and beside it (on a helper thread, so that it costs no
    /// round trip) the channel's storm count, which decides where the parent goes; once only,
    /// also when it was counted ahead of the secret. A refused claim over-counts the channel
    /// by one at most.
    fn claim_and_count(
        &self,
        read: &Record,
        claimed: &Record,
        share: Deadline,
    ) -> Result<Outcome, Error> {
        let storms = self.storms().filter(|_| self.counted.borrow().is_none());
        let (written, counted) =
            claim_beside_count(&self.t, storms.as_ref().map(|(s, _)| s), &mut || {
                self.put(read, claimed, share)
            });
        if counted.is_some() {
            *self.counted.borrow_mut() = counted;
        }
        written
    }

    fn storms(&self) -> Option<(StormStore<'_>, Storms)> {
        let storms = self.storms?;
        let store = StormStore {
            store: self.store,
            agent: self.app.agent,
            storms,
            deadline: store_share(self.deadline),
            window: self.window,
        };
        Some((store, storms))
    }

    /// This new incident's thread when its channel is in a storm: the storm's message (posted
    /// by this instance if it is the first past the threshold), and the window's start. `None`
    /// to open a parent as usual: no storm, or the store failed, or the storm's message did
    /// not come within the store's share (the alarm is never held up by its storm).
    fn storm_thread(&self) -> Option<(Post, i64)> {
        let (store, storms) = self.storms()?;
        let channel = self.app.channel;
        // Counted beside the claim, or now (a claim made ahead of the secret).
        let counted = self.counted.borrow_mut().take();
        let window = match counted.map_or_else(|| store.count(now_ms()), Ok) {
            Ok(window) => window,
            Err(err) => {
                warn(
                    &self.t,
                    "cannot count the channel's new incidents; opening a parent",
                    &err,
                );
                return None;
            }
        };
        if !window.in_storm(&storms) {
            return None;
        }
        let since = window.since;
        let at = |(channel, ts): (String, String)| Post {
            channel,
            ts,
            top: true,
        };
        if let Some(parent) = window.parent {
            return Some((at(parent), since));
        }
        match store.claim(since, &self.nonce, now_ms(), until(self.deadline)) {
            Ok(true) => {
                let text = storm::text(&window.summary(), self.app.options.suffix);
                let mut message = crate::json::Object::new();
                message.string("channel", channel);
                message.string("text", &text);
                let posted = self.app.call(
                    "chat.postMessage",
                    Args::Json(&message.finish()),
                    false,
                    self.deadline,
                );
                let answer = match posted {
                    Ok(answer) => answer,
                    Err(err) => {
                        warn(
                            &self.t,
                            "cannot post the storm's message; opening a parent",
                            &err,
                        );
                        return None;
                    }
                };
                let field = |k: &str| answer.get(k).and_then(|v| v.as_str()).map(str::to_string);
                let parent = (
                    field("channel").unwrap_or_else(|| channel.to_string()),
                    field("ts")?,
                );
                // A store share of its own: the post may have waited for its turn.
                let (store, _) = self.storms()?;
                if let Err(err) = store.posted(since, (&parent.0, &parent.1), now_ms()) {
                    warn(&self.t, "cannot record the storm's message", &err);
                }
                log::line(
                    Level::Warn,
                    &"alarm storm: new incidents reply under one message",
                )
                .num("incidents", window.n)
                .str("channel", channel)
                .emit();
                Some((at(parent), since))
            }
            Ok(false) => {
                // Another instance is posting it. It took its turn in the channel before
                // this instance took its own, so it comes before this alarm's turn: wait that
                // long and two turns more (or the store's share, if longer), never past half
                // the time left. Sooner, the alarm would open a parent of its own: with the
                // pace on, most of a storm would.
                let pace = self.app.api.pace();
                let patience = (pace.wait(channel) + pace.interval() * 2)
                    .max(store.deadline.left())
                    .min(self.deadline.left() / 2);
                self.await_storm(since, Deadline::after(patience))
                    .map(|parent| (at(parent), since))
            }
            Err(err) => {
                warn(
                    &self.t,
                    "cannot claim the storm's message; opening a parent",
                    &err,
                );
                None
            }
        }
    }

    /// The storm message of the window begun at `since`, once the instance posting it has
    /// recorded it; `None` when `patience` runs out, the window is over, or the store fails.
    fn await_storm(&self, since: i64, patience: Deadline) -> Option<(String, String)> {
        loop {
            if !patience.sleep(POLL) {
                return None;
            }
            let (store, _) = self.storms()?;
            match store.read() {
                Ok(w) if w.since != since => return None,
                Ok(Window {
                    parent: Some(parent),
                    ..
                }) => return Some(parent),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// The window whose storm message is `parent`, if it is still that window.
    fn storm_of(&self, parent: &Post) -> Option<i64> {
        let (store, _) = self.storms()?;
        let window = store.read().ok()?;
        (window.parent.as_ref().map(|(_, ts)| ts) == Some(&parent.ts)).then_some(window.since)
    }

    /// Counts this alarm's new state in the storm begun at `since`, and brings the storm's
    /// message up to date when it is this instance's turn. Best effort: the alarm is posted.
    fn storm_member(&self, since: i64, parent: &Post) {
        let Some((store, _)) = self.storms() else {
            return;
        };
        let Notification::Alarm(alarm) = self.notification else {
            return;
        };
        let namespace = match &alarm.trigger {
            crate::alarm::trigger::Trigger::Threshold(rule) => {
                rule.metrics.iter().find_map(|m| m.namespace.as_deref())
            }
            _ => None,
        };
        let line = (
            self.t.state.as_str(),
            namespace.unwrap_or(""),
            alarm.name.as_str(),
        );
        let window = match store.member(since, &self.t.key, line, &self.nonce) {
            Ok(Some(window)) => window,
            Ok(None) => return,
            Err(err) => {
                warn(&self.t, "cannot count the alarm in its storm", &err);
                return;
            }
        };
        if !matches!(store.update_turn(since, now_ms()), Ok(true)) {
            return self.trail_storm(since, parent);
        }
        self.show_storm(parent, &window);
    }

    /// The storm message was brought up to date less than [`UPDATE_EVERY_MS`] ago, without
    /// this alarm: while no other alarm of the storm writes after this one, this instance
    /// brings it up to date once the turn comes, so that the storm's end shows (how many,
    /// how many still fire). Another alarm's write hands that over to its instance. Waits at
    /// most half the time left, reading the window once a second.
    fn trail_storm(&self, since: i64, parent: &Post) {
        let patience = Deadline::after(self.deadline.left() / 2);
        loop {
            let Some((store, _)) = self.storms() else {
                return;
            };
            let Ok(window) = store.read() else {
                return;
            };
            if window.since != since || window.touched.as_deref() != Some(self.nonce.as_str()) {
                return;
            }
            let due = window.updated.unwrap_or(0) + UPDATE_EVERY_MS - now_ms();
            if due <= 0 && matches!(store.update_turn(since, now_ms()), Ok(true)) {
                return self.show_storm(parent, &window);
            }
            let wait = Duration::from_millis(due.clamp(1, 1000) as u64);
            if !patience.sleep(wait) {
                return;
            }
        }
    }

    /// `chat.update` of the storm message with `window`'s counts.
    fn show_storm(&self, parent: &Post, window: &Window) {
        let mut update = crate::json::Object::new();
        update.string("channel", &parent.channel);
        update.string("ts", &parent.ts);
        update.string("text", &storm::text(&window.summary(), None));
        if let Err(err) = self.app.call(
            "chat.update",
            Args::Json(&update.finish()),
            true,
            self.deadline,
        ) {
            warn(&self.t, "cannot update the storm's message", &err);
        }
    }

    fn put(&self, read: &Record, next: &Record, share: Deadline) -> Result<Outcome, Error> {
        self.store
            .put(self.app.agent, &self.t.key, read, next, share)
    }
}

/// Writes a claim (`put`) and, given `count`, the channel's storm count beside it on a helper
/// thread, so that the count costs no round trip: what the write answered, and the window
/// counted in or `None` (not counted, or the count failed: it is warned of and made again
/// before the post).
fn claim_beside_count(
    t: &Transition,
    count: Option<&StormStore>,
    put: &mut dyn FnMut() -> Result<Outcome, Error>,
) -> (Result<Outcome, Error>, Option<Window>) {
    let Some(count) = count else {
        return (put(), None);
    };
    let mut counted = None;
    let written = beside(&mut || counted = Some(count.count(now_ms())), put);
    let window = match counted {
        Some(Ok(window)) => Some(window),
        Some(Err(err)) => {
            warn(
                t,
                "cannot count the channel's new incidents beside the claim",
                &err,
            );
            None
        }
        None => None,
    };
    (written, window)
}

/// The secret's default channel's storm window, for what a cold start writes before the
/// secret names the channel.
fn default_window<'a>(
    store: &'a Store,
    agent: &'a ureq::Agent,
    storms: Storms,
    deadline: Deadline,
) -> StormStore<'a> {
    StormStore {
        store,
        agent,
        storms,
        deadline: store_share(deadline),
        window: DEFAULT_WINDOW,
    }
}

/// Takes `channel`'s next turn among all instances (`incident/turns.rs`) and makes this
/// instance's pace wait for it. A turn that does not fit the deadline, or a store that fails,
/// leaves the post to this instance's own pace: the alarm is never held up by the pace's
/// store, and a turn too late fails the post there as it would have.
fn take_turn(
    store: &Store,
    agent: &ureq::Agent,
    pace: &Pace,
    channel: &str,
    deadline: Deadline,
) -> Result<(), Error> {
    let interval = pace.interval().as_millis() as i64;
    let now = now_ms();
    let latest = now + deadline.left().as_millis() as i64;
    // Not before this instance's own next turn there: the write is then refused only when
    // another instance took a turn since.
    let earliest = now + pace.wait(channel).as_millis() as i64;
    let span = (earliest, interval, latest);
    let turn = turns::take(store, agent, channel, span, store_share(deadline))?;
    pace.hold(channel, Duration::from_millis((turn - now).max(0) as u64));
    Ok(())
}

/// Whether `parent` is one of this alarm's own parents (not a storm's message).
fn is_ours(record: &Record, parent: &Post) -> bool {
    record
        .log
        .iter()
        .any(|e| e.post.as_ref().is_some_and(|p| p.top && p.ts == parent.ts))
}

/// A claim lasts as long as the invocation can: after its deadline, whoever finds it knows
/// that instance is done with it.
fn until(deadline: Deadline) -> i64 {
    now_ms() + deadline.left().as_millis() as i64
}

/// The thread a claimed step posts in: a reply's parent.
fn thread_of(step: &Step) -> Option<&str> {
    match step {
        Step::Reply { parent, .. } => Some(parent.ts.as_str()),
        _ => None,
    }
}

/// The store's share of what is left of `deadline`.
fn store_share(deadline: Deadline) -> Deadline {
    Deadline::after((deadline.left() / STORE_SHARE).min(STORE_MAX))
}

/// A mark no other invocation's claim carries.
fn nonce() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(now_ms() as u128);
    format!("{:016x}", hasher.finish())
}

fn warn(t: &Transition, what: &str, err: &Error) {
    log::line(Level::Warn, &what)
        .str("incident", t.key.as_str())
        .error(err)
        .emit();
}
