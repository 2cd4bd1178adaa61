//! A storm in one channel (issue 25): when more new incidents than `STORM_THRESHOLD` open
//! there within `STORM_WINDOW_SECONDS`, the later ones reply under one storm message. The
//! count lives in the incident table, in an item of the channel's own (`storm|<channel>`),
//! so that every instance counts the same storm; each write is conditional on the window it
//! read (`since`), so a window that started over meanwhile is never written into.
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | `storm|` and the channel |
//! | `since` (N) | when the window's first new incident opened (epoch ms) |
//! | `n` (N) | new incidents in the window |
//! | `last` (N) | when the newest of them opened: once the storm message is out, the window goes on while they keep coming within `STORM_WINDOW_SECONDS` of each other |
//! | `ts`, `in` (S) | the storm message, once posted, and its channel ID |
//! | `claim`, `until` | the instance posting the storm message, and until when |
//! | `members` (M) | per alarm (a hash of its key): `state`, `namespace` and name, tab-separated |
//! | `updated` (N) | when the storm message was last brought up to date |
//! | `touched` (S) | the invocation that wrote a member last: it brings the message up to date once more after the last update, so that the end of the storm shows |
//! | `expires` (N) | TTL: a day after the window began |

use super::store::Store;
use crate::aws::dynamodb::{self, Item, Written};
use crate::error::Error;
use crate::http::Deadline;
use crate::json::Object;
use serde_json::Value;

const PREFIX: &str = "storm|";
/// The storm message is brought up to date at most this often.
pub const UPDATE_EVERY_MS: i64 = 5_000;
/// Members listed: the count goes on beyond them.
const MEMBERS: usize = 200;

/// `STORM_THRESHOLD` and `STORM_WINDOW_SECONDS`.
#[derive(Clone, Copy, Debug)]
pub struct Storms {
    pub threshold: u64,
    pub window_ms: i64,
}

/// A channel's window as the store holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    pub since: i64,
    pub n: u64,
    /// The storm message: its channel ID and `ts`.
    pub parent: Option<(String, String)>,
    /// Another instance is posting the storm message until then (epoch ms).
    pub claimed_until: Option<i64>,
    pub updated: Option<i64>,
    /// The invocation that wrote a member last.
    pub touched: Option<String>,
    /// `(state, namespace, name)` of each member, in no particular order.
    pub members: Vec<(String, String, String)>,
}

impl Window {
    pub fn in_storm(&self, storms: &Storms) -> bool {
        storms.threshold > 0 && self.n > storms.threshold
    }
}

/// The counts a storm message shows.
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub since: i64,
    pub n: u64,
    /// `(state, count)`, most first.
    pub by_state: Vec<(String, usize)>,
    /// `(namespace, count)`, most first.
    pub by_namespace: Vec<(String, usize)>,
}

impl Window {
    pub fn summary(&self) -> Summary {
        let tally = |pick: fn(&(String, String, String)) -> &String| {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for m in &self.members {
                match counts.iter_mut().find(|(k, _)| k == pick(m)) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((pick(m).clone(), 1)),
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            counts
        };
        Summary {
            since: self.since,
            n: self.n.max(self.members.len() as u64),
            by_state: tally(|m| &m.0),
            by_namespace: tally(|m| &m.1),
        }
    }
}

/// The writes on a channel's storm item.
pub struct StormStore<'a> {
    pub store: &'a Store,
    pub agent: &'a ureq::Agent,
    pub storms: Storms,
    pub deadline: Deadline,
}

impl StormStore<'_> {
    /// One more new incident in `channel` at `now`: the window as it now is, begun afresh
    /// when the last one is over.
    pub fn count(&self, channel: &str, now: i64) -> Result<Window, Error> {
        let start = now - self.storms.window_ms;
        for _ in 0..2 {
            let mut add = self.request(channel);
            add.string("UpdateExpression", "ADD n :one SET #last = :now");
            // A storm under way goes on while new incidents keep coming: paced at one post a
            // second, a storm of 200 takes minutes, and one window a minute would begin it
            // afresh (parents and a storm message) each minute.
            add.string(
                "ConditionExpression",
                "since > :start OR (attribute_exists(ts) AND #last > :start)",
            );
            add.object("ExpressionAttributeNames", |n| n.string("#last", "last"));
            add.object("ExpressionAttributeValues", |v| {
                number(v, ":one", 1);
                number(v, ":start", start);
                number(v, ":now", now);
            });
            add.string("ReturnValues", "ALL_NEW");
            if let Written::Done(item) = self.write(add)? {
                return Ok(item.as_ref().map(window).unwrap_or_default());
            }
            let mut fresh = self.request(channel);
            fresh.string(
                "UpdateExpression",
                "SET since = :now, #last = :now, n = :one, members = :none, expires = :expires REMOVE ts, #in, claim, #until, updated",
            );
            fresh.string(
                "ConditionExpression",
                "attribute_not_exists(since) OR (since <= :start AND (attribute_not_exists(ts) OR attribute_not_exists(#last) OR #last <= :start))",
            );
            fresh.object("ExpressionAttributeNames", |n| {
                n.string("#in", "in");
                n.string("#until", "until");
                n.string("#last", "last");
            });
            fresh.object("ExpressionAttributeValues", |v| {
                number(v, ":now", now);
                number(v, ":one", 1);
                number(v, ":start", start);
                number(v, ":expires", now.div_euclid(1000) + 86_400);
                v.object(":none", |m| m.object("M", |_| {}));
            });
            fresh.string("ReturnValues", "ALL_NEW");
            if let Written::Done(item) = self.write(fresh)? {
                return Ok(item.as_ref().map(window).unwrap_or_default());
            }
            // Another instance began the new window between the two: count in it.
        }
        Err(Error::Timeout(
            "count the channel's new incidents: the window kept changing",
        ))
    }

    /// Claims the posting of the storm message of the window begun at `since`: `false` when
    /// it is posted or another instance is at it.
    pub fn claim(
        &self,
        channel: &str,
        since: i64,
        nonce: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, Error> {
        let mut claim = self.request(channel);
        claim.string("UpdateExpression", "SET claim = :nonce, #until = :until");
        claim.string(
            "ConditionExpression",
            "since = :since AND attribute_not_exists(ts) AND (attribute_not_exists(claim) OR #until < :now)",
        );
        claim.object("ExpressionAttributeNames", |n| n.string("#until", "until"));
        claim.object("ExpressionAttributeValues", |v| {
            v.object(":nonce", |s| s.string("S", nonce));
            number(v, ":until", until);
            number(v, ":since", since);
            number(v, ":now", now);
        });
        Ok(matches!(self.write(claim)?, Written::Done(_)))
    }

    /// Where the storm message of the window begun at `since` went.
    pub fn posted(
        &self,
        channel: &str,
        since: i64,
        at: (&str, &str),
        now: i64,
    ) -> Result<(), Error> {
        let mut posted = self.request(channel);
        posted.string(
            "UpdateExpression",
            "SET ts = :ts, #in = :in, updated = :now REMOVE claim",
        );
        posted.string("ConditionExpression", "since = :since");
        posted.object("ExpressionAttributeNames", |n| n.string("#in", "in"));
        posted.object("ExpressionAttributeValues", |v| {
            v.object(":ts", |s| s.string("S", at.1));
            v.object(":in", |s| s.string("S", at.0));
            number(v, ":since", since);
            number(v, ":now", now);
        });
        self.write(posted).map(|_| ())
    }

    /// The window as it is now (strongly consistent).
    pub fn read(&self, channel: &str) -> Result<Window, Error> {
        let (db, table) = self.store.table();
        let key = format!("{PREFIX}{channel}");
        let item = db.get(self.agent, self.deadline, table, ("alarm", &key))?;
        Ok(item.as_ref().map(window).unwrap_or_default())
    }

    /// An alarm of the storm begun at `since` is in `state` now, written by the invocation
    /// `mark` (the storm's newest writer until another): the window as it now is
    /// (`None` when the window is over, and the alarm's state is the old storm's no more).
    pub fn member(
        &self,
        channel: &str,
        since: i64,
        alarm: &str,
        line: (&str, &str, &str),
        mark: &str,
    ) -> Result<Option<Window>, Error> {
        let mut member = self.request(channel);
        member.string("UpdateExpression", "SET members.#k = :v, touched = :mark");
        member.string("ConditionExpression", "since = :since");
        member.object("ExpressionAttributeNames", |n| {
            n.string("#k", &format!("{:016x}", fnv(alarm)))
        });
        member.object("ExpressionAttributeValues", |v| {
            let (state, namespace, name) = line;
            v.object(":v", |s| {
                s.string("S", &format!("{state}\t{namespace}\t{name}"))
            });
            number(v, ":since", since);
            v.object(":mark", |m| m.string("S", mark));
        });
        member.string("ReturnValues", "ALL_NEW");
        Ok(match self.write(member)? {
            Written::Done(item) => Some(item.as_ref().map(window).unwrap_or_default()),
            Written::Refused(_) => None,
        })
    }

    /// Takes the turn to bring the storm message up to date: `false` when it was updated
    /// less than [`UPDATE_EVERY_MS`] ago.
    pub fn update_turn(&self, channel: &str, since: i64, now: i64) -> Result<bool, Error> {
        let mut turn = self.request(channel);
        turn.string("UpdateExpression", "SET updated = :now");
        turn.string(
            "ConditionExpression",
            "since = :since AND (attribute_not_exists(updated) OR updated < :recent)",
        );
        turn.object("ExpressionAttributeValues", |v| {
            number(v, ":now", now);
            number(v, ":since", since);
            number(v, ":recent", now - UPDATE_EVERY_MS);
        });
        Ok(matches!(self.write(turn)?, Written::Done(_)))
    }

    fn request(&self, channel: &str) -> Object {
        let (_, table) = self.store.table();
        let mut request = Object::new();
        request.string("TableName", table);
        request.object("Key", |k| {
            k.object("alarm", |v| v.string("S", &format!("{PREFIX}{channel}")))
        });
        request
    }

    fn write(&self, request: Object) -> Result<Written, Error> {
        let (db, _) = self.store.table();
        db.write(self.agent, self.deadline, "UpdateItem", request)
    }
}

fn number(o: &mut Object, name: &str, n: i64) {
    o.object(name, |v| v.string("N", &n.to_string()));
}

/// The storm item as a window; what does not read is left out.
fn window(item: &Item) -> Window {
    let text = |name| dynamodb::string(item, name).map(str::to_string);
    let members = item
        .get("members")
        .and_then(|m| m.get("M"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| {
            let line = v.get("S")?.as_str()?;
            let mut parts = line.splitn(3, '\t');
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                parts.next()?.to_string(),
            ))
        })
        .take(MEMBERS)
        .collect();
    Window {
        since: dynamodb::number(item, "since").unwrap_or(0),
        n: dynamodb::number(item, "n").map_or(0, |n| n.max(0) as u64),
        parent: text("in").zip(text("ts")),
        claimed_until: dynamodb::number(item, "until").filter(|_| text("claim").is_some()),
        updated: dynamodb::number(item, "updated"),
        touched: text("touched"),
        members,
    }
}

/// FNV-1a: a member's attribute name, the same in every instance.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_item_reads_as_a_window_and_sums_up() {
        let item: Item = serde_json::from_value(json!({
            "alarm": {"S": "storm|C1"}, "since": {"N": "1000"}, "n": {"N": "7"},
            "ts": {"S": "1.2"}, "in": {"S": "C1"}, "updated": {"N": "2000"},
            "members": {"M": {
                "a": {"S": "ALARM\tAWS/EC2\tcpu-1"},
                "b": {"S": "ALARM\tAWS/EC2\tcpu-2"},
                "c": {"S": "OK\tAWS/RDS\tdb"},
                "d": {"N": "5"},
            }},
        }))
        .expect("an item");
        let w = window(&item);
        assert_eq!(w.parent, Some(("C1".into(), "1.2".into())));
        assert!(w.in_storm(&Storms {
            threshold: 5,
            window_ms: 60_000
        }));
        assert!(!w.in_storm(&Storms {
            threshold: 0,
            window_ms: 60_000
        }));
        assert!(!w.in_storm(&Storms {
            threshold: 7,
            window_ms: 60_000
        }));
        let s = w.summary();
        assert_eq!(s.n, 7);
        assert_eq!(s.by_state, [("ALARM".into(), 2), ("OK".into(), 1)]);
        assert_eq!(
            s.by_namespace,
            [("AWS/EC2".into(), 2), ("AWS/RDS".into(), 1)]
        );
        assert_eq!(window(&Item::new()), Window::default());
    }

    #[test]
    fn member_names_are_stable() {
        assert_eq!(fnv("k"), fnv("k"));
        assert_ne!(fnv("k"), fnv("k|C1"));
    }
}
