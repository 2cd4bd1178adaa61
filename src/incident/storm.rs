//! A storm in one channel (issue 25): when more new incidents than `STORM_THRESHOLD` open
//! there within `STORM_WINDOW_SECONDS`, the later ones reply under one storm message. The
//! count lives in the incident table, in an item of the channel's own (`storm|<channel>`),
//! so that every instance counts the same storm; each write is conditional on the window it
//! read (`since`), so a window that started over meanwhile is never written into. The
//! secret's default channel's item is `storm|` alone, as its incidents' keys name no channel:
//! a cold start counts there beside the secret's fetch, before the secret names the channel.
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | `storm|` and the channel (none for the secret's default channel) |
//! | `since` (N) | when the window's first new incident opened (epoch ms) |
//! | `n` (N) | new incidents in the window |
//! | `last` (N) | when the newest of them opened: once the storm message is out, the window goes on while they keep coming within `STORM_WINDOW_SECONDS` of each other |
//! | `ts`, `in` (S) | the storm message, once posted, and its channel ID |
//! | `claim`, `until` | the instance posting the storm message, and until when |
//! | `members` (M) | per alarm (a hash of its key): `state`, `namespace` and name, tab-separated |
//! | `updated` (N) | when the storm message was last brought up to date |
//! | `touched` (S) | the invocation that wrote a member last: it brings the message up to date once more after the last update, so that the end of the storm shows |
//! | `expires` (N) | TTL: a day after the window began |

use super::store::{Seen, Store};
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
    /// Each member's `state`, `namespace` and name, tab-separated as stored (only lines
    /// with all three), in no particular order.
    pub members: Vec<String>,
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
        Summary {
            since: self.since,
            n: self.n.max(self.members.len() as u64),
            by_state: tally(&self.members, 0),
            by_namespace: tally(&self.members, 1),
        }
    }
}

/// `(value, count)` of the members' `field`th part, most first (then by value).
fn tally(members: &[String], field: usize) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in members {
        let value = m.split('\t').nth(field).unwrap_or_default();
        match counts.iter_mut().find(|(k, _)| k == value) {
            Some((_, n)) => *n += 1,
            None => counts.push((value.to_string(), 1)),
        }
    }
    // Sorted by insertion, not `sort_by`: the slice's sort for this type alone was about
    // 3.5 KiB of code, for at most [`MEMBERS`] values. The values are distinct, so the order
    // is the one any sort gives.
    for i in 1..counts.len() {
        let mut j = i;
        while j > 0 && first(&counts[j], &counts[j - 1]) {
            counts.swap(j, j - 1);
            j -= 1;
        }
    }
    counts
}

/// Whether `a` comes before `b`: more first, then by value.
fn first(a: &(String, usize), b: &(String, usize)) -> bool {
    a.1 > b.1 || (a.1 == b.1 && a.0 < b.0)
}

/// The writes on a channel's storm item.
pub struct StormStore<'a> {
    pub store: &'a Store,
    pub agent: &'a ureq::Agent,
    pub storms: Storms,
    pub deadline: Deadline,
    /// Whose window: see [`window_of`].
    pub window: &'a str,
}

/// The secret's default channel's window.
pub const DEFAULT_WINDOW: &str = "";

/// The window of `channel`: its name, or none for the secret's `default` channel.
pub fn window_of(channel: &str, default: bool) -> &str {
    match default {
        true => DEFAULT_WINDOW,
        false => channel,
    }
}

/// A value of `ExpressionAttributeValues`.
pub enum Val<'a> {
    N(i64),
    S(&'a str),
    /// An empty map (`M`).
    NoMembers,
}

/// One conditional `UpdateItem` on the item `prefix` + `channel`, its members in the order
/// DynamoDB has always been sent them. One function, not a request built in each caller: a
/// nested object written by a closure is code of its own per closure, and the storm's and
/// the pace's writes had some thirty of them.
pub struct Update<'a> {
    pub set: &'a str,
    pub condition: &'a str,
    pub names: &'a [(&'a str, &'a str)],
    pub values: &'a [(&'a str, Val<'a>)],
    /// `ReturnValues: ALL_NEW`.
    pub all_new: bool,
}

impl Update<'_> {
    #[inline(never)]
    pub fn write(
        &self,
        store: &Store,
        agent: &ureq::Agent,
        (prefix, channel): (&str, &str),
        deadline: Deadline,
    ) -> Result<Written, Error> {
        let (db, table) = store.table();
        let mut request = Object::new();
        request.string("TableName", table);
        request.object("Key", |k| {
            k.object("alarm", |v| v.string("S", &format!("{prefix}{channel}")))
        });
        request.string("UpdateExpression", self.set);
        request.string("ConditionExpression", self.condition);
        if !self.names.is_empty() {
            request.object("ExpressionAttributeNames", |n| {
                for (name, value) in self.names {
                    n.string(name, value);
                }
            });
        }
        request.object("ExpressionAttributeValues", |v| {
            for (name, value) in self.values {
                v.object(name, |o| match value {
                    Val::N(n) => o.string("N", &n.to_string()),
                    Val::S(s) => o.string("S", s),
                    Val::NoMembers => o.object("M", |_| {}),
                });
            }
        });
        if self.all_new {
            request.string("ReturnValues", "ALL_NEW");
        }
        db.write(agent, deadline, "UpdateItem", request)
    }
}

impl StormStore<'_> {
    /// One more new incident in the channel at `now`: the window as it now is, begun afresh
    /// when the last one is over.
    pub fn count(&self, now: i64) -> Result<Window, Error> {
        let start = now - self.storms.window_ms;
        let add = Update {
            set: "ADD n :one SET #last = :now",
            // A storm under way goes on while new incidents keep coming: paced at one
            // post a second, a storm of 200 takes minutes, and one window a minute would
            // begin it afresh (parents and a storm message) each minute.
            condition: "since > :start OR (attribute_exists(ts) AND #last > :start)",
            names: &[("#last", "last")],
            values: &[
                (":one", Val::N(1)),
                (":start", Val::N(start)),
                (":now", Val::N(now)),
            ],
            all_new: true,
        };
        let fresh = Update {
            set: "SET since = :now, #last = :now, n = :one, members = :none, expires = :expires REMOVE ts, #in, claim, #until, updated",
            condition: "attribute_not_exists(since) OR (since <= :start AND (attribute_not_exists(ts) OR attribute_not_exists(#last) OR #last <= :start))",
            names: &[("#in", "in"), ("#until", "until"), ("#last", "last")],
            values: &[
                (":now", Val::N(now)),
                (":one", Val::N(1)),
                (":start", Val::N(start)),
                (":expires", Val::N(now.div_euclid(1000) + 86_400)),
                (":none", Val::NoMembers),
            ],
            all_new: true,
        };
        // The write likelier to hold goes first, so that the count usually costs one
        // round trip: a new window when the last one this instance counted in is over,
        // or when it counted in none (a quiet channel is the usual case); else the
        // count in the window under way. Each write's condition decides, whatever the
        // guess; a refused one is followed by the other, and a window begun by another
        // instance between the two is counted in on the next round.
        let order = match over(self.store.seen_window(self.window), start) {
            true => [&fresh, &add],
            false => [&add, &fresh],
        };
        for update in order.iter().cycle().take(4) {
            if let Some(window) = done(self.write(update)?) {
                let seen = Seen {
                    since: window.since,
                    last: now,
                    posted: window.parent.is_some(),
                };
                self.store.saw_window(self.window, seen);
                return Ok(window);
            }
        }
        Err(Error::Timeout(
            "count the channel's new incidents: the window kept changing",
        ))
    }

    /// Claims the posting of the storm message of the window begun at `since`: `false` when
    /// it is posted or another instance is at it.
    pub fn claim(&self, since: i64, nonce: &str, now: i64, until: i64) -> Result<bool, Error> {
        let claim = Update {
            set: "SET claim = :nonce, #until = :until",
            condition: "since = :since AND attribute_not_exists(ts) AND (attribute_not_exists(claim) OR #until < :now)",
            names: &[("#until", "until")],
            values: &[
                (":nonce", Val::S(nonce)),
                (":until", Val::N(until)),
                (":since", Val::N(since)),
                (":now", Val::N(now)),
            ],
            all_new: false,
        };
        Ok(matches!(self.write(&claim)?, Written::Done(_)))
    }

    /// Where the storm message of the window begun at `since` went.
    pub fn posted(&self, since: i64, at: (&str, &str), now: i64) -> Result<(), Error> {
        let posted = Update {
            set: "SET ts = :ts, #in = :in, updated = :now REMOVE claim",
            condition: "since = :since",
            names: &[("#in", "in")],
            values: &[
                (":ts", Val::S(at.1)),
                (":in", Val::S(at.0)),
                (":since", Val::N(since)),
                (":now", Val::N(now)),
            ],
            all_new: false,
        };
        self.write(&posted).map(|_| ())
    }

    /// The window as it is now (strongly consistent).
    pub fn read(&self) -> Result<Window, Error> {
        let (db, table) = self.store.table();
        let key = format!("{PREFIX}{}", self.window);
        let item = db.get(self.agent, self.deadline, table, ("alarm", &key))?;
        Ok(window(item.as_ref()))
    }

    /// An alarm of the storm begun at `since` is in `state` now, written by the invocation
    /// `mark` (the storm's newest writer until another): the window as it now is
    /// (`None` when the window is over, and the alarm's state is the old storm's no more).
    pub fn member(
        &self,
        since: i64,
        alarm: &str,
        (state, namespace, name): (&str, &str, &str),
        mark: &str,
    ) -> Result<Option<Window>, Error> {
        let member = Update {
            set: "SET members.#k = :v, touched = :mark",
            condition: "since = :since",
            names: &[("#k", &format!("{:016x}", fnv(alarm)))],
            values: &[
                (":v", Val::S(&format!("{state}\t{namespace}\t{name}"))),
                (":since", Val::N(since)),
                (":mark", Val::S(mark)),
            ],
            all_new: true,
        };
        Ok(done(self.write(&member)?))
    }

    /// Takes the turn to bring the storm message up to date: `false` when it was updated
    /// less than [`UPDATE_EVERY_MS`] ago.
    pub fn update_turn(&self, since: i64, now: i64) -> Result<bool, Error> {
        let turn = Update {
            set: "SET updated = :now",
            condition: "since = :since AND (attribute_not_exists(updated) OR updated < :recent)",
            names: &[],
            values: &[
                (":now", Val::N(now)),
                (":since", Val::N(since)),
                (":recent", Val::N(now - UPDATE_EVERY_MS)),
            ],
            all_new: false,
        };
        Ok(matches!(self.write(&turn)?, Written::Done(_)))
    }

    /// Takes back a count in the window begun at `since`, made for an incident that was not
    /// posted here: a cold start counts before it knows where the alarm goes, or whether the
    /// secret can be had.
    pub fn uncount(&self, since: i64) -> Result<(), Error> {
        let back = Update {
            set: "ADD n :back",
            condition: "since = :since",
            names: &[],
            values: &[(":back", Val::N(-1)), (":since", Val::N(since))],
            all_new: false,
        };
        self.write(&back).map(|_| ())
    }

    fn write(&self, update: &Update) -> Result<Written, Error> {
        update.write(self.store, self.agent, (PREFIX, self.window), self.deadline)
    }
}

/// Whether the window last seen is over by `start` (as the new window's condition has it),
/// or none was seen.
fn over(seen: Option<Seen>, start: i64) -> bool {
    seen.is_none_or(|seen| seen.since <= start && (!seen.posted || seen.last <= start))
}

/// The window a write returned (`ALL_NEW`); `None` when its condition did not hold.
fn done(written: Written) -> Option<Window> {
    match written {
        Written::Done(item) => Some(window(item.as_ref())),
        Written::Refused(_) => None,
    }
}

/// The storm item as a window (an empty one for none); what does not read is left out.
fn window(item: Option<&Item>) -> Window {
    let Some(item) = item else {
        return Window::default();
    };
    let text = |name| dynamodb::string(item, name).map(str::to_string);
    let members = item
        .get("members")
        .and_then(|m| m.get("M"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.get("S")?.as_str())
        .filter(|line| line.splitn(3, '\t').count() == 3)
        .map(str::to_string)
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
    fn a_window_is_guessed_over_as_the_new_windows_condition_would_find_it() {
        let seen = |since, last, posted| {
            Some(Seen {
                since,
                last,
                posted,
            })
        };
        assert!(over(None, 5_000), "none seen: a quiet channel");
        assert!(over(seen(1_000, 4_000, false), 5_000));
        assert!(!over(seen(6_000, 6_000, false), 5_000), "under way");
        // A storm whose message is out goes on while new incidents keep coming.
        assert!(!over(seen(1_000, 6_000, true), 5_000));
        assert!(over(seen(1_000, 5_000, true), 5_000));
    }

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
                "e": {"S": "ALARM\tAWS/EC2"},
            }},
        }))
        .expect("an item");
        let w = window(Some(&item));
        assert_eq!(w.parent, Some(("C1".into(), "1.2".into())));
        assert_eq!(w.members.len(), 3, "a line without a name is no member");
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
        assert_eq!(window(Some(&Item::new())), Window::default());
        assert_eq!(window(None), Window::default());
    }

    #[test]
    fn tallies_are_ordered_as_sort_by_orders_them() {
        let members: Vec<String> = (0..150)
            .map(|i| format!("S{}\tN{}\tname", i % 7, (i * i) % 23))
            .collect();
        for field in [0, 1] {
            let mut expected = tally(&members, field);
            expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            assert_eq!(tally(&members, field), expected);
        }
    }

    #[test]
    fn member_names_are_stable() {
        assert_eq!(fnv("k"), fnv("k"));
        assert_ne!(fnv("k"), fnv("k|C1"));
    }
}
