//! The incident store: one DynamoDB item per alarm (and channel), read into a [`Record`]
//! and changed only by conditional `UpdateItem`s (no `PutItem`, so the role needs only
//! `GetItem` and `UpdateItem`).
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | the alarm's ARN, else `account/region/name`; `|channel` for a routed channel |
//! | `status` (S) | `open` or `closed` |
//! | `state` (S), `changed` (N) | the newest transition applied, and when it happened (epoch s) |
//! | `opened` (N) | when the open incident's `ALARM` happened |
//! | `claim` (S), `claimed` (N) | the transition that opened it, and when (set before its parent is posted) |
//! | `channel`, `ts` (S) | the parent message, once posted |
//! | `seen` (SS) | transitions of this incident already posted: a retried event posts nothing |
//! | `expires` (N) | TTL, 30 days after the incident closed |

use super::{Parent, Record, Status, Transition, CLAIM_EXPIRES_SECS};
use crate::aws::dynamodb::{self, DynamoDb, Item, Written};
use crate::error::Error;
use crate::http::Deadline;
use serde_json::{json, Value};

/// Closed incidents are kept this long, then DynamoDB's TTL deletes them.
const KEEP_CLOSED_SECS: i64 = 30 * 86_400;

pub struct Store {
    db: DynamoDb,
    table: String,
}

/// What a conditional write did.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// The condition did not hold: the record as it is now.
    Refused(Record),
}

impl Store {
    pub fn new(db: DynamoDb, table: String) -> Store {
        Store { db, table }
    }

    /// The alarm's record, strongly consistent; an empty one for an alarm never seen.
    pub fn get(&self, agent: &ureq::Agent, key: &str, deadline: Deadline) -> Result<Record, Error> {
        let item = self.db.get(agent, deadline, &self.table, ("alarm", key))?;
        Ok(item.as_ref().map(record).unwrap_or_default())
    }

    /// Sends one of the writes below.
    pub fn write(
        &self,
        agent: &ureq::Agent,
        request: Value,
        deadline: Deadline,
    ) -> Result<Outcome, Error> {
        Ok(
            match self.db.write(agent, deadline, "UpdateItem", request)? {
                Written::Done => Outcome::Done,
                Written::Refused(item) => {
                    Outcome::Refused(item.as_ref().map(record).unwrap_or_default())
                }
            },
        )
    }

    /// Opens the incident, unless one is open or a newer transition was stored.
    pub fn claim(&self, t: &Transition, now: i64) -> Value {
        json!({
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
        })
    }

    /// The claimed incident's parent was posted: where it is.
    pub fn set_parent(&self, t: &Transition, parent: &Parent) -> Value {
        json!({
            "TableName": self.table,
            "Key": {"alarm": {"S": t.key}},
            "UpdateExpression": "SET channel = :channel, ts = :ts ADD seen :seen",
            "ConditionExpression": "claim = :id",
            "ExpressionAttributeValues": {
                ":channel": {"S": parent.channel}, ":ts": {"S": parent.ts}, ":seen": {"SS": [t.id]},
                ":id": {"S": t.id},
            },
        })
    }

    /// A reply was posted: remember it, and unless it is older than the parent, the state
    /// (`OK` closes the incident).
    pub fn record_reply(&self, t: &Transition, parent_ts: &str, stale: bool) -> Value {
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
    pub fn record_alone(&self, t: &Transition, stale: bool) -> Value {
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
}

/// An item as a record. Attributes of another type or missing read as unknown, so an
/// item written by another version never fails the alarm.
fn record(item: &Item) -> Record {
    let string = |name| dynamodb::string(item, name).map(str::to_string);
    let status = match dynamodb::string(item, "status") {
        Some("open") => Some(Status::Open),
        Some("closed") => Some(Status::Closed),
        _ => None,
    };
    let parent = match (string("channel"), string("ts")) {
        (Some(channel), Some(ts)) => Some(Parent { channel, ts }),
        _ => None,
    };
    Record {
        status,
        state: string("state"),
        changed: dynamodb::number(item, "changed"),
        opened: dynamodb::number(item, "opened"),
        claim: string("claim"),
        claimed: dynamodb::number(item, "claimed"),
        parent,
        seen: dynamodb::strings(item, "seen")
            .into_iter()
            .map(str::to_string)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn item(v: Value) -> Item {
        serde_json::from_value(v).expect("item")
    }

    #[test]
    fn only_an_open_item_with_a_parent_has_a_thread() {
        let open = record(&item(
            json!({"status": {"S": "open"}, "channel": {"S": "C1"}, "ts": {"S": "1.2"}}),
        ));
        let parent = Parent {
            channel: "C1".into(),
            ts: "1.2".into(),
        };
        assert_eq!(open.open_parent(), Some(&parent));
        let opening = record(&item(
            json!({"status": {"S": "open"}, "claim": {"S": "ALARM@t"}}),
        ));
        assert_eq!(opening.open_parent(), None);
        let closed = record(&item(
            json!({"status": {"S": "closed"}, "channel": {"S": "C1"}, "ts": {"S": "1.2"}}),
        ));
        assert_eq!(closed.open_parent(), None);
    }

    #[test]
    fn an_item_of_another_shape_reads_as_unknown() {
        let odd = record(&item(json!({
            "status": {"S": "reopened"}, "changed": {"S": "yesterday"}, "seen": {"S": "x"},
            "ts": {"N": "1"},
        })));
        assert_eq!(odd, Record::default());
    }

    #[test]
    fn replies_never_move_the_parent_backwards() {
        let store = store();
        let t = Transition {
            key: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu".into(),
            id: "OK@2026-11-30T10:00:00Z".into(),
            state: "OK".into(),
            at: 1_796_032_800,
        };
        let newer = store.record_reply(&t, "1.2", false);
        assert_eq!(newer["ConditionExpression"], "ts = :ts AND changed <= :at");
        assert!(newer["UpdateExpression"]
            .as_str()
            .unwrap_or("")
            .contains("#status = :closed"));
        assert_eq!(
            newer["ExpressionAttributeValues"][":expires"]["N"],
            (1_796_032_800 + KEEP_CLOSED_SECS).to_string()
        );
        let older = store.record_reply(&t, "1.2", true);
        assert_eq!(older["UpdateExpression"], "ADD seen :seen");
        assert!(older.get("ExpressionAttributeNames").is_none());
    }
}
