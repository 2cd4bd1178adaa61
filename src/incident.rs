//! Incidents as threads (app mode with `INCIDENT_TABLE`): an `ALARM` opens a thread, every
//! later transition of the same alarm replies in it and updates its parent, and `OK`
//! closes it. The thread store is one DynamoDB item per alarm:
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | the alarm's ARN, else `account/region/name` |
//! | `status` (S) | `open` or `closed` |
//! | `state` (S), `changed` (N) | the newest transition applied, and when it happened (epoch s) |
//! | `opened` (N) | when the open incident's `ALARM` happened |
//! | `claim` (S), `claimed` (N) | the transition that opened it, and when (set before its parent is posted) |
//! | `channel`, `ts` (S) | the parent message, once posted |
//! | `seen` (SS) | transitions of this incident already posted: a retried event posts nothing |
//! | `expires` (N) | TTL, 30 days after the incident closed |
//!
//! Order and races: writes are conditional, so an older transition never moves the parent
//! backwards, and of two instances that see the same `ALARM` at once only one posts a
//! parent (the other replies in its thread). The store failing never costs an alarm: it
//! is then posted as a message of its own, with a WARN.

use crate::alarm::event::Notification;
use crate::alarm::Alarm;
use crate::aws::dynamodb::{self, DynamoDb, Item, Written};
use crate::error::Error;
use crate::http::Deadline;
use crate::log::{self, Level};
use crate::slack::app::{App, Tag};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Closed incidents are kept this long, then DynamoDB's TTL deletes them.
const KEEP_CLOSED_SECS: i64 = 30 * 86_400;
/// A claim whose parent never came (its instance died, and Lambda gave up retrying) is
/// taken over after this: longer than any invocation can run.
const CLAIM_EXPIRES_SECS: i64 = 15 * 60;
/// How long an instance that lost the race for a parent waits for the winner's `ts`.
const PARENT_WAIT: Duration = Duration::from_secs(3);
const PARENT_POLL: Duration = Duration::from_millis(150);

pub struct Incidents {
    db: DynamoDb,
    table: String,
}

/// One transition of one alarm, as the store sees it.
struct Transition {
    key: String,
    /// `STATE@timestamp`: the same for every delivery of this transition.
    id: String,
    state: String,
    at: i64,
}

impl Incidents {
    pub fn new(db: DynamoDb, table: String) -> Incidents {
        Incidents { db, table }
    }

    /// Posts an alarm in its incident's thread. `Ok(false)`: this transition was posted
    /// already (a retried event), nothing was posted again.
    /// `key` names the alarm's incident in this channel.
    pub fn deliver(
        &self,
        app: &App,
        alarm: &Alarm,
        key: &str,
        notification: &Notification,
        deadline: Deadline,
    ) -> Result<bool, Error> {
        let now = epoch_now();
        let at = alarm.changed_epoch().unwrap_or(now);
        let t = Transition {
            key: key.to_string(),
            id: transition_id(alarm),
            state: alarm.new_state.clone(),
            at,
        };
        let tag = Tag {
            alarm: &t.key,
            transition: &t.id,
        };
        let item = match self.get(app, &t, deadline) {
            Ok(item) => item,
            Err(err) => return self.alone(app, notification, &tag, deadline, Some(err)),
        };
        let item = item.unwrap_or_default();
        if dynamodb::strings(&item, "seen").contains(&t.id.as_str()) {
            log::line(
                Level::Info,
                &"this transition was posted already; not posting it again",
            )
            .str("transition", t.id.as_str())
            .emit();
            return Ok(false);
        }
        let changed = dynamodb::number(&item, "changed");
        let stale = changed.is_some_and(|c| t.at < c);
        if let Some(parent) = open_parent(&item) {
            self.reply(app, &item, parent, &t, stale, notification, deadline)?;
            return Ok(true);
        }
        let claim = dynamodb::string(&item, "claim");
        if opening(&item) && claim != Some(t.id.as_str()) {
            // Another instance is posting this incident's parent: whatever this transition
            // is (an older ALARM, an OK), it belongs in that thread.
            return self.join(app, &t, &tag, notification, deadline);
        }
        if t.state != "ALARM" || stale {
            // Nothing open to reply to (an OK before its ALARM, a late old ALARM).
            app.post(notification, None, Some(&tag), deadline)?;
            self.best_effort(app, &t, deadline, self.record_alone(&t, stale));
            return Ok(true);
        }
        match self.claim(app, &t, deadline) {
            Ok(Written::Done) => {
                let posted = app.post(notification, None, Some(&tag), deadline)?;
                let write = self.set_parent(&t, &posted.channel, &posted.ts);
                self.best_effort(app, &t, deadline, write);
                Ok(true)
            }
            Ok(Written::Refused(current)) => {
                let current = current.unwrap_or_default();
                if dynamodb::string(&current, "claim") == Some(t.id.as_str()) {
                    // A retry of the instance that claimed it: its post may or may not be
                    // there; the metadata lookup in `post` finds it if so.
                    let posted = app.post(notification, None, Some(&tag), deadline)?;
                    let write = self.set_parent(&t, &posted.channel, &posted.ts);
                    self.best_effort(app, &t, deadline, write);
                    return Ok(true);
                }
                // Another instance opened it: reply in its thread once its parent is posted.
                self.join(app, &t, &tag, notification, deadline)
            }
            Err(err) => self.alone(app, notification, &tag, deadline, Some(err)),
        }
    }

    /// Replies in the thread another instance is opening, once its parent is there; posts
    /// on its own if the parent does not come in time.
    fn join(
        &self,
        app: &App,
        t: &Transition,
        tag: &Tag,
        notification: &Notification,
        deadline: Deadline,
    ) -> Result<bool, Error> {
        if let Some(item) = self.wait_for_parent(app, t, deadline) {
            if let Some(parent) = open_parent(&item) {
                let stale = dynamodb::number(&item, "changed").is_some_and(|c| t.at < c);
                self.reply(app, &item, parent, t, stale, notification, deadline)?;
                return Ok(true);
            }
        }
        self.alone(app, notification, tag, deadline, None)
    }

    /// A reply in the open incident's thread, then the parent brought up to date (unless the
    /// transition is older than what the parent shows).
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &self,
        app: &App,
        item: &Item,
        parent: (&str, &str),
        t: &Transition,
        stale: bool,
        notification: &Notification,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let tag = Tag {
            alarm: &t.key,
            transition: &t.id,
        };
        app.post(notification, Some(parent), Some(&tag), deadline)?;
        let write = self.record_reply(t, parent.1, stale);
        self.best_effort(app, t, deadline, write);
        if !stale {
            let opened = dynamodb::number(item, "opened").unwrap_or(t.at);
            let words = incident_words(&t.state, opened, t.at);
            if let Err(err) = app.update(parent, notification, &words, deadline) {
                warn("cannot update the incident's parent message", &err);
            }
        }
        Ok(())
    }

    /// Posted without a thread: the store failed (`err`), or the thread could not be found.
    fn alone(
        &self,
        app: &App,
        notification: &Notification,
        tag: &Tag,
        deadline: Deadline,
        err: Option<Error>,
    ) -> Result<bool, Error> {
        match &err {
            Some(err) => warn("the incident store failed; posting the alarm without a thread", err),
            None => log::line(Level::Warn, &"another instance is opening this incident and its thread is not there yet; posting the alarm without a thread").emit(),
        }
        app.post(notification, None, Some(tag), deadline)
            .map(|_| true)
    }

    fn get(&self, app: &App, t: &Transition, deadline: Deadline) -> Result<Option<Item>, Error> {
        self.db
            .get(app.agent, deadline, &self.table, ("alarm", &t.key))
    }

    /// Opens the incident, unless one is open or a newer transition was stored.
    fn claim(&self, app: &App, t: &Transition, deadline: Deadline) -> Result<Written, Error> {
        let now = epoch_now();
        let request = json!({
            "TableName": self.table,
            "Key": {"alarm": {"S": t.key}},
            "UpdateExpression": "SET #status = :open, #state = :state, opened = :at, changed = :at, claim = :id, claimed = :now REMOVE ts, channel, seen, expires",
            "ConditionExpression": "attribute_not_exists(alarm) \
                OR (#status = :closed AND (attribute_not_exists(changed) OR changed <= :at)) \
                OR (#status = :open AND attribute_not_exists(ts) AND claimed < :expired)",
            "ExpressionAttributeNames": {"#status": "status", "#state": "state"},
            "ExpressionAttributeValues": {
                ":open": {"S": "open"}, ":closed": {"S": "closed"}, ":state": {"S": t.state},
                ":at": {"N": t.at.to_string()}, ":id": {"S": t.id},
                ":now": {"N": now.to_string()}, ":expired": {"N": (now - CLAIM_EXPIRES_SECS).to_string()},
            },
        });
        self.db.write(app.agent, deadline, "UpdateItem", request)
    }

    fn set_parent(&self, t: &Transition, channel: &str, ts: &str) -> Value {
        json!({
            "TableName": self.table,
            "Key": {"alarm": {"S": t.key}},
            "UpdateExpression": "SET channel = :channel, ts = :ts ADD seen :seen",
            "ConditionExpression": "claim = :id",
            "ExpressionAttributeValues": {
                ":channel": {"S": channel}, ":ts": {"S": ts}, ":seen": {"SS": [t.id]},
                ":id": {"S": t.id},
            },
        })
    }

    /// A reply was posted: remember it, and unless it is older than the parent, the state
    /// (`OK` closes the incident).
    fn record_reply(&self, t: &Transition, parent_ts: &str, stale: bool) -> Value {
        let mut values = json!({
            ":seen": {"SS": [t.id]}, ":ts": {"S": parent_ts},
        });
        let (update, condition) = if stale {
            ("ADD seen :seen".to_string(), "ts = :ts")
        } else {
            values[":state"] = json!({"S": t.state});
            values[":at"] = json!({"N": t.at.to_string()});
            let mut update = "SET #state = :state, changed = :at".to_string();
            if t.state == "OK" {
                values[":closed"] = json!({"S": "closed"});
                values[":expires"] = json!({"N": (t.at + KEEP_CLOSED_SECS).to_string()});
                update.push_str(", #status = :closed, expires = :expires");
            }
            update.push_str(" ADD seen :seen");
            (update, "ts = :ts AND changed <= :at")
        };
        let mut request = json!({
            "TableName": self.table,
            "Key": {"alarm": {"S": t.key}},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        });
        if !stale {
            request["ExpressionAttributeNames"] = json!({"#state": "state"});
            if t.state == "OK" {
                request["ExpressionAttributeNames"]["#status"] = "status".into();
            }
        }
        request
    }

    /// A message without a thread was posted: remember it, and its state unless older.
    fn record_alone(&self, t: &Transition, stale: bool) -> Value {
        let mut request = json!({
            "TableName": self.table,
            "Key": {"alarm": {"S": t.key}},
            "UpdateExpression": "ADD seen :seen",
            "ExpressionAttributeValues": {":seen": {"SS": [t.id]}},
        });
        if !stale {
            request["UpdateExpression"] =
                "SET #state = :state, changed = :at, #status = if_not_exists(#status, :closed), expires = :expires ADD seen :seen".into();
            request["ConditionExpression"] =
                "attribute_not_exists(changed) OR changed <= :at".into();
            request["ExpressionAttributeNames"] = json!({"#state": "state", "#status": "status"});
            let values = &mut request["ExpressionAttributeValues"];
            values[":state"] = json!({"S": t.state});
            values[":at"] = json!({"N": t.at.to_string()});
            values[":closed"] = json!({"S": "closed"});
            values[":expires"] = json!({"N": (t.at + KEEP_CLOSED_SECS).to_string()});
        }
        request
    }

    /// An `UpdateItem` that the alarm does not depend on: its failure is a WARN, and a
    /// refused condition (a newer transition got there first) is expected.
    fn best_effort(&self, app: &App, t: &Transition, deadline: Deadline, request: Value) {
        match self.db.write(app.agent, deadline, "UpdateItem", request) {
            Ok(Written::Done) => {}
            Ok(Written::Refused(_)) => log::debug(&"a newer transition is stored already")
                .str("transition", t.id.as_str())
                .emit(),
            Err(err) => warn("cannot record the transition in the incident store", &err),
        }
    }

    /// The item once the winning instance stored its parent, polled for a few seconds.
    fn wait_for_parent(&self, app: &App, t: &Transition, deadline: Deadline) -> Option<Item> {
        let mut waited = Duration::ZERO;
        while waited < PARENT_WAIT && deadline.sleep(PARENT_POLL) {
            waited += PARENT_POLL;
            match self.get(app, t, deadline) {
                Ok(Some(item)) if open_parent(&item).is_some() => return Some(item),
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

/// `STATE@StateChangeTime`: the same for every delivery of one transition.
pub fn transition_id(alarm: &Alarm) -> String {
    format!(
        "{}@{}",
        alarm.new_state,
        alarm.changed_at.as_deref().unwrap_or("unknown")
    )
}

/// An incident claimed and not yet given its parent (its claimer is posting it), and not
/// abandoned (a claim expires after [`CLAIM_EXPIRES_SECS`]).
fn opening(item: &Item) -> bool {
    dynamodb::string(item, "status") == Some("open")
        && dynamodb::string(item, "ts").is_none()
        && dynamodb::number(item, "claimed")
            .is_some_and(|claimed| epoch_now() - claimed < CLAIM_EXPIRES_SECS)
}

/// The open incident's parent message: channel ID and ts.
fn open_parent(item: &Item) -> Option<(&str, &str)> {
    if dynamodb::string(item, "status") != Some("open") {
        return None;
    }
    Some((
        dynamodb::string(item, "channel")?,
        dynamodb::string(item, "ts")?,
    ))
}

fn warn(what: &str, err: &Error) {
    log::line(Level::Warn, &what).error(err).emit();
}

fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The incident in words, for its parent: `Firing for 2 h 5 min`, `Resolved after 14 min`,
/// `No data since <date>`.
fn incident_words(state: &str, opened: i64, at: i64) -> String {
    let span = span((at - opened).max(0));
    match state {
        "ALARM" => format!("Firing for {span}"),
        "OK" => format!("Resolved after {span}"),
        "INSUFFICIENT_DATA" => {
            format!("No data since <!date^{at}^{{time}}|{at}>, firing {span} before")
        }
        other => format!("{} after {span}", crate::slack::mrkdwn::escape(other)),
    }
}

/// `14 min`, `2 h 5 min`, `3 d 4 h`, `less than a minute`.
fn span(secs: i64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(30), "less than a minute");
        assert_eq!(span(14 * 60 + 5), "14 min");
        assert_eq!(span(2 * 3600 + 5 * 60), "2 h 5 min");
        assert_eq!(span(3600), "1 h");
        assert_eq!(span(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(span(86_400 + 60), "1 d");
    }

    #[test]
    fn incident_words_follow_the_state() {
        assert_eq!(incident_words("ALARM", 0, 7500), "Firing for 2 h 5 min");
        assert_eq!(
            incident_words("OK", 100, 100 + 14 * 60),
            "Resolved after 14 min"
        );
        assert_eq!(
            incident_words("INSUFFICIENT_DATA", 0, 600),
            "No data since <!date^600^{time}|600>, firing 10 min before"
        );
        assert_eq!(
            incident_words("ALARM", 500, 100),
            "Firing for less than a minute"
        );
    }

    #[test]
    fn only_an_open_item_with_a_parent_has_a_thread() {
        let item = |v: Value| -> Item { serde_json::from_value(v).expect("item") };
        let open =
            item(json!({"status": {"S": "open"}, "channel": {"S": "C1"}, "ts": {"S": "1.2"}}));
        assert_eq!(open_parent(&open), Some(("C1", "1.2")));
        let opening = item(json!({"status": {"S": "open"}, "claim": {"S": "ALARM@t"}}));
        assert_eq!(open_parent(&opening), None);
        let closed =
            item(json!({"status": {"S": "closed"}, "channel": {"S": "C1"}, "ts": {"S": "1.2"}}));
        assert_eq!(open_parent(&closed), None);
    }

    #[test]
    fn replies_never_move_the_parent_backwards() {
        let incidents = Incidents::new(
            DynamoDb::new(crate::aws::Client {
                endpoint: crate::aws::Endpoint::regional("dynamodb", "us-east-1"),
                region: "us-east-1".into(),
                credentials: aws_credential_types::Credentials::new("A", "S", None, None, "t"),
                service: "dynamodb",
            }),
            "incidents".into(),
        );
        let t = Transition {
            key: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu".into(),
            id: "OK@2026-11-30T10:00:00Z".into(),
            state: "OK".into(),
            at: 1_796_032_800,
        };
        let newer = incidents.record_reply(&t, "1.2", false);
        assert_eq!(newer["ConditionExpression"], "ts = :ts AND changed <= :at");
        assert!(newer["UpdateExpression"]
            .as_str()
            .unwrap_or("")
            .contains("#status = :closed"));
        assert_eq!(
            newer["ExpressionAttributeValues"][":expires"]["N"],
            (1_796_032_800 + KEEP_CLOSED_SECS).to_string()
        );
        let older = incidents.record_reply(&t, "1.2", true);
        assert_eq!(older["UpdateExpression"], "ADD seen :seen");
        assert!(older.get("ExpressionAttributeNames").is_none());
    }
}
