//! The incident store: one DynamoDB item per alarm (and channel) holding its [`Record`],
//! written only by `UpdateItem`s conditional on the version read (no `PutItem`, so the role
//! needs only `GetItem` and `UpdateItem`).
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | the alarm's ARN, else `account/region/name`; `|channel` for a routed channel |
//! | `v` (N) | the version: every write is conditional on the one it read, and adds one |
//! | `log` (S) | the recent transitions as JSON: `id`, `state`, `old`, `at` (epoch ms); `channel`, `ts`, `top` once posted; `claim`, `until` (and `in`, the thread of a reply) while an instance posts it |
//! | `expires` (N) | TTL: 30 days after the newest transition |
//! | `marks` (S) | what the parent's buttons did, as JSON: `ack` and `resolved` (`parent`, `user`, `at`), `mute` (`user`, `at`, `until` unless until OK), `applied` (the last clicks); absent when none |
//!
//! An item written by the previous version (`status`, `claim`, `channel`, `ts`, `seen`, …)
//! is read into a record of version 0 (its parent and the transitions it saw), and the next
//! write replaces it. A write made without reading first (from what this instance
//! remembers, or nothing) is refused when the item is not as assumed, and the refusal
//! returns it.

use super::{Claim, Entry, Mark, Marks, Mute, Post, Record};
use crate::alarm::timestamp::epoch_millis;
use crate::aws::dynamodb::{self, DynamoDb, Item, Written};
use crate::error::Error;
use crate::http::Deadline;
use crate::json::{Array, Object};
use serde_json::Value;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Incidents are kept this long after their newest transition, then DynamoDB's TTL
/// deletes them.
const KEEP_SECS: i64 = 30 * 86_400;
/// The attributes of the previous version's items, removed by the first write.
const LEGACY: &str = "#status, #state, changed, opened, claim, claimed, channel, ts, seen";

pub struct Store {
    db: DynamoDb,
    table: String,
    /// The records this instance last read or wrote: a warm invocation decides from its
    /// alarm's record without reading it first, and the conditional write it makes anyway
    /// tells whether the record was still current (issue 22).
    recent: Kept<Record>,
    /// Per channel, the storm window this instance last counted in (`storm.rs`).
    windows: Kept<Seen>,
}

/// What this instance last saw, by key, for the last `cap` keys. A mutex, not a cell: a
/// cold start makes its first write on a helper thread while the secret is fetched.
struct Kept<T> {
    cap: usize,
    entries: Mutex<Vec<(String, T)>>,
}

impl<T: Clone> Kept<T> {
    fn new(cap: usize) -> Kept<T> {
        Kept {
            cap,
            entries: Mutex::new(Vec::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Vec<(String, T)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &str) -> Option<T> {
        let entries = self.entries();
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// `value` in place of what `key` had; the oldest key goes when `cap` are kept.
    fn put(&self, key: &str, value: T) {
        let mut entries = self.entries();
        entries.retain(|(k, _)| k != key);
        if entries.len() >= self.cap {
            entries.remove(0);
        }
        entries.push((key.to_string(), value));
    }
}

/// What an instance last saw of a channel's storm window: enough to guess whether the next
/// new incident begins a new one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seen {
    pub since: i64,
    /// When the newest new incident in it opened.
    pub last: i64,
    /// The storm message was out.
    pub posted: bool,
}

/// Channels whose window is remembered.
const WINDOWS: usize = 16;

/// Records kept in memory: a few alarms' worth of the last storm.
const RECENT: usize = 64;

/// What a conditional write did.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Written: the record as it now is.
    Done(Record),
    /// Another instance wrote first: the record as it now is.
    Refused(Record),
}

impl Store {
    pub fn new(db: DynamoDb, table: String) -> Store {
        Store {
            db,
            table,
            recent: Kept::new(RECENT),
            windows: Kept::new(WINDOWS),
        }
    }

    /// The storm window this instance last counted in for `window` (`storm::window_of`).
    pub fn seen_window(&self, window: &str) -> Option<Seen> {
        self.windows.get(window)
    }

    /// Remembers what a count in `window` returned, in place of what it returned before.
    pub fn saw_window(&self, window: &str, seen: Seen) {
        self.windows.put(window, seen);
    }

    /// The table, for the other items kept beside the alarms' (a channel's storm).
    pub fn table(&self) -> (&DynamoDb, &str) {
        (&self.db, &self.table)
    }

    /// The alarm's record as this instance last saw it: possibly behind, never wrong about
    /// what was posted. An empty one for an alarm it has not seen.
    pub fn remembered(&self, key: &str) -> Record {
        self.recent.get(key).unwrap_or_default()
    }

    fn remember(&self, key: &str, record: &Record) {
        self.recent.put(key, record.clone());
    }

    /// The alarm's record, strongly consistent; an empty one for an alarm never seen.
    pub fn get(&self, agent: &ureq::Agent, key: &str, deadline: Deadline) -> Result<Record, Error> {
        let item = self.db.get(agent, deadline, &self.table, ("alarm", key))?;
        let record = item.as_ref().map(record).unwrap_or_default();
        self.remember(key, &record);
        Ok(record)
    }

    /// Writes `next` in place of `read`, if the item is still as it was read.
    pub fn put(
        &self,
        agent: &ureq::Agent,
        key: &str,
        read: &Record,
        next: &Record,
        deadline: Deadline,
    ) -> Result<Outcome, Error> {
        let request = self.request(key, read, next);
        let version = read.version.unwrap_or(0) + 1;
        let outcome = match self.db.write(agent, deadline, "UpdateItem", request)? {
            Written::Done(_) => Outcome::Done(Record {
                version: Some(version),
                log: next.log.clone(),
                marks: next.marks.clone(),
            }),
            Written::Refused(item) => {
                Outcome::Refused(item.as_ref().map(record).unwrap_or_default())
            }
        };
        let (Outcome::Done(now) | Outcome::Refused(now)) = &outcome;
        self.remember(key, now);
        Ok(outcome)
    }

    fn request(&self, key: &str, read: &Record, next: &Record) -> Object {
        let version = read.version.unwrap_or(0);
        let newest = next.newest().map_or(0, |e| e.at.div_euclid(1000));
        let number = |o: &mut Object, name: &str, n: i64| {
            o.object(name, |v| v.string("N", &n.to_string()));
        };
        let mut request = Object::new();
        request.string("TableName", &self.table);
        request.object("Key", |k| k.object("alarm", |v| v.string("S", key)));
        // Items without marks are written as before the buttons came.
        let marks = match (next.marks.is_empty(), read.marks.is_empty()) {
            (false, _) => ", marks = :marks REMOVE ",
            (true, false) => " REMOVE marks, ",
            (true, true) => " REMOVE ",
        };
        request.string(
            "UpdateExpression",
            &format!("SET v = :next, #log = :log, expires = :expires{marks}{LEGACY}"),
        );
        request.string(
            "ConditionExpression",
            match read.version {
                None => "attribute_not_exists(alarm)",
                // An item of the previous version, as read: not yet replaced by anyone.
                Some(0) => "attribute_not_exists(v)",
                Some(_) => "v = :read",
            },
        );
        request.object("ExpressionAttributeNames", |names| {
            names.string("#log", "log");
            names.string("#status", "status");
            names.string("#state", "state");
        });
        request.object("ExpressionAttributeValues", |values| {
            number(values, ":next", version as i64 + 1);
            values.object(":log", |v| v.string("S", &log_json(&next.log)));
            number(values, ":expires", newest + KEEP_SECS);
            if !next.marks.is_empty() {
                values.object(":marks", |v| v.string("S", &marks_json(&next.marks)));
            }
            if read.version.is_some_and(|v| v > 0) {
                number(values, ":read", version as i64);
            }
        });
        request
    }
}

fn log_json(log: &[Entry]) -> String {
    let mut entries = Array::new();
    for e in log {
        entries.object(|entry| {
            entry.string("id", &e.id);
            entry.string("state", &e.state);
            if let Some(old) = &e.old {
                entry.string("old", old);
            }
            entry.number("at", e.at);
            if let Some(post) = &e.post {
                entry.string("channel", &post.channel);
                entry.string("ts", &post.ts);
                entry.bool("top", post.top);
            }
            if let Some(claim) = &e.claim {
                entry.string("claim", &claim.nonce);
                entry.number("until", claim.until);
                if let Some(thread) = &claim.thread {
                    entry.string("in", thread);
                }
            }
        });
    }
    entries.finish()
}

// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn marks_json(marks: &Marks) -> String {
    let mark = |o: &mut Object, name: &str, m: &Mark| {
        o.object(name, |o| {
            o.string("parent", &m.parent);
            o.string("user", &m.user);
            o.number("at", m.at);
        })
    };
    let mut json = Object::new();
    if let Some(ack) = &marks.ack {
        mark(&mut json, "ack", ack);
    }
    if let Some(resolved) = &marks.resolved {
        mark(&mut json, "resolved", resolved);
    }
    if let Some(mute) = &marks.mute {
        json.object("mute", |o| {
            o.string("user", &mute.user);
            o.number("at", mute.at);
            if let Some(until) = mute.until {
                o.number("until", until);
            }
        });
    }
    json.array("applied", |a| {
        for id in &marks.applied {
            a.string(id);
        }
    });
    json.finish()
}

/// The marks of an item; what does not read is left out, like a log entry.
fn marks(item: &Item) -> Marks {
    let Some(json) =
        dynamodb::string(item, "marks").and_then(|m| serde_json::from_str::<Value>(m).ok())
    else {
        return Marks::default();
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mark = |name: &str| {
        let v = json.get(name)?;
        Some(Mark {
            parent: text(v, "parent")?,
            user: text(v, "user")?,
            at: v.get("at")?.as_i64()?,
        })
    };
    Marks {
        ack: mark("ack"),
        resolved: mark("resolved"),
        mute: json.get("mute").and_then(|v| {
            Some(Mute {
                user: text(v, "user")?,
                at: v.get("at")?.as_i64()?,
                until: v.get("until").and_then(Value::as_i64),
            })
        }),
        applied: json
            .get("applied")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    }
}

/// An item as a record. What does not read (another shape, another type) is left out, so
/// an item no version of ours wrote never fails the alarm.
fn record(item: &Item) -> Record {
    let Some(version) = dynamodb::number(item, "v") else {
        return legacy(item);
    };
    let log: Vec<Value> = dynamodb::string(item, "log")
        .and_then(|log| serde_json::from_str(log).ok())
        .unwrap_or_default();
    let mut log: Vec<Entry> = log.iter().filter_map(entry).collect();
    log.sort_by(super::order);
    Record {
        version: u64::try_from(version).ok(),
        log,
        marks: marks(item),
    }
}

fn entry(v: &Value) -> Option<Entry> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let post = match (text("channel"), text("ts")) {
        (Some(channel), Some(ts)) => Some(Post {
            channel,
            ts,
            top: v.get("top").and_then(Value::as_bool).unwrap_or(false),
        }),
        _ => None,
    };
    let claim = match (text("claim"), v.get("until").and_then(Value::as_i64)) {
        (Some(nonce), Some(until)) => Some(Claim {
            nonce,
            until,
            thread: text("in"),
        }),
        _ => None,
    };
    Some(Entry {
        id: text("id")?,
        state: text("state")?,
        old: text("old"),
        at: v.get("at")?.as_i64()?,
        post,
        claim,
    })
}

/// An item of the previous version: its parent (the claim that opened it, at `channel`,
/// `ts`) and the transitions it posted (`seen`), whose threads are not known but which a
/// retry must not post again.
fn legacy(item: &Item) -> Record {
    let string = |name| dynamodb::string(item, name);
    let parent = match (string("claim"), string("channel"), string("ts")) {
        (Some(claim), Some(channel), Some(ts)) => Some((claim, channel, ts)),
        _ => None,
    };
    let mut ids: Vec<&str> = dynamodb::strings(item, "seen");
    if let Some((claim, ..)) = parent {
        ids.push(claim);
    }
    let mut log: Vec<Entry> = ids
        .into_iter()
        .filter_map(|id| {
            let (state, at) = id.split_once('@')?;
            let post = match parent {
                Some((claim, channel, ts)) => Post {
                    channel: channel.to_string(),
                    ts: ts.to_string(),
                    top: claim == id,
                },
                // Posted without a thread: where is not known.
                None => Post {
                    channel: String::new(),
                    ts: String::new(),
                    top: false,
                },
            };
            Some(Entry {
                id: id.to_string(),
                state: state.to_string(),
                old: None,
                at: epoch_millis(at)?,
                post: Some(post),
                claim: None,
            })
        })
        .collect();
    log.sort_by(super::order);
    log.dedup_by(|a, b| a.id == b.id);
    Record {
        version: Some(0),
        log,
        marks: Marks::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::Transition;
    use serde_json::json;

    fn store() -> Store {
        Store::new(
            DynamoDb::new(crate::aws::Client {
                endpoint: crate::aws::Endpoint::regional("dynamodb", "us-east-1"),
                region: "us-east-1".into(),
                credentials: aws_credential_types::Credentials::new("A", "S", None, None, "t"),
                service: "dynamodb",
            }),
            "incidents".into(),
        )
    }

    fn parsed(request: Object) -> Value {
        serde_json::from_str(&request.finish()).expect("JSON")
    }

    fn item(v: Value) -> Item {
        serde_json::from_value(v).expect("item")
    }

    fn t(state: &str, at: i64) -> Transition {
        Transition {
            key: "k".into(),
            id: format!("{state}@{at}"),
            state: state.into(),
            old: Some("OK".into()),
            at,
        }
    }

    #[test]
    fn a_record_survives_its_round_trip_through_the_item() {
        let post = Post {
            channel: "C1".into(),
            ts: "1.2".into(),
            top: true,
        };
        let next = Record::default()
            .claimed(&t("ALARM", 1_000), "n1", 9_000, None)
            .posted(&t("ALARM", 1_000), post)
            .claimed(&t("OK", 2_000), "n2", 9_500, None);
        let request = parsed(store().request("k", &Record::default(), &next));
        assert_eq!(
            request["ConditionExpression"],
            "attribute_not_exists(alarm)"
        );
        let values = &request["ExpressionAttributeValues"];
        let written = item(json!({
            "alarm": {"S": "k"}, "v": values[":next"], "log": values[":log"],
        }));
        assert_eq!(
            record(&written),
            Record {
                version: Some(1),
                log: next.log.clone(),
                marks: Marks::default(),
            }
        );
        let again = parsed(store().request("k", &record(&written), &next));
        assert_eq!(again["ConditionExpression"], "v = :read");
        assert_eq!(again["ExpressionAttributeValues"][":read"]["N"], "1");
        assert_eq!(again["ExpressionAttributeValues"][":next"]["N"], "2");
    }

    #[test]
    fn marks_are_written_only_when_there_are_some_and_read_back() {
        let plain = Record {
            version: Some(3),
            ..Record::default()
        };
        let expression = |read: &Record, next: &Record| {
            parsed(store().request("k", read, next))["UpdateExpression"]
                .as_str()
                .map(str::to_string)
        };
        let marked = Record {
            marks: Marks {
                ack: Some(Mark {
                    parent: "1.2".into(),
                    user: "U1".into(),
                    at: 5,
                }),
                resolved: None,
                mute: Some(Mute {
                    user: "U2".into(),
                    at: 6,
                    until: None,
                }),
                applied: vec!["U1@9.9".into()],
            },
            ..plain.clone()
        };
        let before = expression(&plain, &plain).expect("a string");
        assert!(!before.contains("marks"), "{before}");
        let set = expression(&plain, &marked).expect("a string");
        assert!(set.contains("marks = :marks"), "{set}");
        let removed = expression(&marked, &plain).expect("a string");
        assert!(removed.contains("REMOVE marks,"), "{removed}");

        let request = parsed(store().request("k", &plain, &marked));
        let values = &request["ExpressionAttributeValues"];
        let written = item(json!({
            "alarm": {"S": "k"}, "v": values[":next"], "log": values[":log"],
            "marks": values[":marks"],
        }));
        assert_eq!(record(&written).marks, marked.marks);
        let garbled = item(json!({"alarm": {"S": "k"}, "v": {"N": "1"}, "marks": {"S": "{"}}));
        assert_eq!(record(&garbled).marks, Marks::default());
    }

    #[test]
    fn an_item_of_the_previous_version_is_read_not_failed() {
        let old = record(&item(json!({
            "alarm": {"S": "k"}, "status": {"S": "open"}, "state": {"S": "OK"},
            "claim": {"S": "ALARM@2026-11-30T10:00:00.000+0000"},
            "channel": {"S": "C1"}, "ts": {"S": "1.2"},
            "seen": {"SS": ["ALARM@2026-11-30T10:00:00.000+0000", "OK@2026-11-30T10:05:00.000+0000"]},
        })));
        assert_eq!(old.version, Some(0));
        let replace = parsed(store().request("k", &old, &old));
        assert_eq!(replace["ConditionExpression"], "attribute_not_exists(v)");
        assert_eq!(replace["ExpressionAttributeValues"][":next"]["N"], "1");
        assert_eq!(old.log.len(), 2);
        assert_eq!(
            old.log[0].post.as_ref().map(|p| (p.ts.as_str(), p.top)),
            Some(("1.2", true))
        );
        assert_eq!(old.log[1].post.as_ref().map(|p| p.top), Some(false));
        let odd = record(&item(json!({
            "status": {"S": "reopened"}, "seen": {"S": "x"}, "ts": {"N": "1"},
        })));
        assert_eq!((odd.version, odd.log.len()), (Some(0), 0));
        let garbage = record(&item(
            json!({"v": {"N": "3"}, "log": {"S": "[{\"id\":1}, 7]"}}),
        ));
        assert_eq!((garbage.version, garbage.log.len()), (Some(3), 0));
    }
}
