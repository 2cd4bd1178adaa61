//! DynamoDB `GetItem`, `PutItem` and `UpdateItem` over the awsJson1_0 protocol: the
//! incident store. Items are JSON in DynamoDB's `AttributeValue` form.

use super::{Client, Operation};
use crate::error::{Error, Service};
use crate::http::Deadline;
use crate::json::Object;
use serde_json::{Map, Value};

/// The SigV4 signing name, and the first label of the regional endpoint.
pub const SERVICE: &str = crate::settings::DYNAMODB;
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

const GET_ITEM: Operation = Operation {
    service: Service::DynamoDb,
    step: "read the incident from DynamoDB",
    idempotent: true,
    answers: &[],
};

/// A conditional write sent twice could fail its own condition: not re-sent once sent.
const WRITE: Operation = Operation {
    service: Service::DynamoDb,
    step: "write the incident to DynamoDB",
    idempotent: false,
    answers: &[CONDITION_FAILED],
};

pub type Item = Map<String, Value>;

/// What a conditional write did.
#[derive(Debug, PartialEq)]
pub enum Written {
    /// Written; the item as it now is when the request asked for it (`ReturnValues`).
    Done(Option<Item>),
    /// The condition did not hold; the item as it is (`ReturnValuesOnConditionCheckFailure`).
    Refused(Option<Item>),
}

pub struct DynamoDb {
    client: Client,
}

impl DynamoDb {
    pub fn new(client: Client) -> DynamoDb {
        DynamoDb { client }
    }

    /// `GetItem`, strongly consistent: the item, or `None` when there is none.
    pub fn get(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        table: &str,
        key: (&str, &str),
    ) -> Result<Option<Item>, Error> {
        let mut request = Object::new();
        request.string("TableName", table);
        request.object("Key", |k| k.object(key.0, |v| v.string("S", key.1)));
        request.bool("ConsistentRead", true);
        let answer = self.call(agent, deadline, "GetItem", &request.finish(), &GET_ITEM)?;
        Ok(match answer {
            Value::Object(mut answer) => match answer.remove("Item") {
                Some(Value::Object(item)) => Some(item),
                _ => None,
            },
            _ => None,
        })
    }

    /// `PutItem` or `UpdateItem` (`action`) with a `ConditionExpression` in `request`; the
    /// current item is asked for when the condition fails.
    pub fn write(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        action: &'static str,
        mut request: Object,
    ) -> Result<Written, Error> {
        request.string("ReturnValuesOnConditionCheckFailure", "ALL_OLD");
        let answer = self.call(agent, deadline, action, &request.finish(), &WRITE)?;
        Ok(match answer {
            Value::Object(mut body) if is_condition_failure(&body) => {
                Written::Refused(match body.remove("Item") {
                    Some(Value::Object(item)) => Some(item),
                    _ => None,
                })
            }
            Value::Object(mut body) => Written::Done(match body.remove("Attributes") {
                Some(Value::Object(item)) => Some(item),
                _ => None,
            }),
            _ => Written::Done(None),
        })
    }

    fn call(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        action: &str,
        request: &str,
        op: &Operation,
    ) -> Result<Value, Error> {
        let target = format!("DynamoDB_20120810.{action}");
        self.client.json(agent, deadline, &target, request, op)
    }
}

fn is_condition_failure(body: &Map<String, Value>) -> bool {
    ["__type", "code"].iter().any(|key| {
        body.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with(CONDITION_FAILED))
    })
}

/// A string attribute of an item.
pub fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.get("S")?.as_str()
}

/// A number attribute of an item, as a whole number.
pub fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.get("N")?.as_str()?.parse().ok()
}

/// A string-set attribute of an item.
pub fn strings<'a>(item: &'a Item, name: &str) -> Vec<&'a str> {
    match item.get(name).and_then(|v| v.get("SS")) {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_are_read_by_type() {
        let item: Item = serde_json::from_value(json!({
            "alarm": {"S": "arn:aws:cloudwatch:us-east-1:1:alarm:cpu"},
            "opened": {"N": "1795865888"},
            "seen": {"SS": ["ALARM@t1", "OK@t2"]},
            "odd": {"N": "x"}
        }))
        .expect("item");
        assert_eq!(
            string(&item, "alarm"),
            Some("arn:aws:cloudwatch:us-east-1:1:alarm:cpu")
        );
        assert_eq!(number(&item, "opened"), Some(1_795_865_888));
        assert_eq!(strings(&item, "seen"), ["ALARM@t1", "OK@t2"]);
        assert_eq!(
            (number(&item, "odd"), string(&item, "opened")),
            (None, None)
        );
        assert!(strings(&item, "missing").is_empty());
    }

    #[test]
    fn a_failed_condition_is_recognised_in_either_spelling() {
        let aws =
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"});
        let bare = json!({"code": "ConditionalCheckFailedException"});
        for body in [aws, bare] {
            let Value::Object(body) = body else { panic!() };
            assert!(is_condition_failure(&body));
        }
        assert!(!is_condition_failure(&Map::new()));
    }
}
