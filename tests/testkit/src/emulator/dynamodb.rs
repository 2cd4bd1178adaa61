//! DynamoDB stand-in for the incident store (`INCIDENT_TABLE`): `GetItem` and `UpdateItem` over
//! awsJson1_0 (`X-Amz-Target: DynamoDB_20120810.…`), in memory, every request checked with the
//! emulator's own SigV4 verifier (`sigv4.rs`) for the signing name `dynamodb`.
//!
//! It understands exactly what the bootstrap sends (`src/incident/store.rs`, `storm.rs`,
//! `turns.rs`, `src/aws/dynamodb.rs`), checked as DynamoDB checks it, and nothing more: a
//! strongly consistent `GetItem`; an `UpdateItem` whose `UpdateExpression` has
//! `SET path = :value, …`, `REMOVE path, …` and `ADD attribute :number, …` clauses (a path may
//! go into maps: `members.#k`), whose `ConditionExpression` joins `attribute_exists(path)`,
//! `attribute_not_exists(path)` and comparisons (`=`, `<`, `<=`, `>`, `>=`) with `AND`, `OR`,
//! `NOT` and parentheses, by DynamoDB's precedence, with `ExpressionAttributeNames`/`Values`
//! (every one used, no reserved word unaliased), `ReturnValues` `ALL_NEW` and
//! `ReturnValuesOnConditionCheckFailure`. A comparison with a missing attribute, or across
//! types, is false, as on DynamoDB.
//! Anything else is a 400 `ValidationException` that says the stand-in does not understand
//! it, so that a change in the bootstrap's requests shows up loudly instead of being served
//! by guesswork. A conditional write is checked and applied under one lock: atomic, as on
//! DynamoDB.
//!
//! Answers as DynamoDB's: `{"Item": …}` or `{}`; `{}` for a write (`{"Attributes": …}` with
//! `ALL_NEW`); a failed condition is 400
//! `{"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message":
//! "The conditional request failed", "Item": {…}}` (`Item` only with `ALL_OLD` and an item);
//! every answer carries `x-amzn-RequestId` and `x-amz-crc32`. Facts it follows:
//! /work/shared/reference/dynamodb.md and botocore's `dynamodb/2012-08-10/service-2.json`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::{json_or_null, lock, respond, sigv4, wait_for, Incoming, Options};

const AMZ_JSON: &str = "application/x-amz-json-1.0";
const SERVICE: &str = "dynamodb";
const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// Largest accepted difference between `X-Amz-Date` and the local clock, as AWS does.
const MAX_SKEW_SECS: i64 = 15 * 60;
/// DynamoDB's item size limit.
const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The table the stand-in starts with, and its key: the incident store's.
pub const DEFAULT_TABLE: &str = "alarm-incidents";
pub const DEFAULT_KEY: &str = "alarm";

const DYNAMODB_ERROR: &str = "com.amazonaws.dynamodb.v20120810#";
const CORAL_SERVICE: &str = "com.amazon.coral.service#";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate#";

pub type Item = Map<String, Value>;

/// One request, recorded after it was handled.
#[derive(Debug, Clone, PartialEq)]
pub struct DdbCall {
    /// When the whole request had arrived.
    pub received: Instant,
    /// The operation, from `X-Amz-Target` without its prefix (the whole header if it has none).
    pub operation: String,
    pub body: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub request: Value,
    pub signature_ok: bool,
    pub status: u16,
    /// The error code answered (the part of `__type` after `#`), if any.
    pub error: Option<String>,
    /// The JSON answered.
    pub answer: Value,
}

struct Table {
    /// The name of the table's only key attribute (type S).
    key: String,
    /// By key value.
    items: BTreeMap<String, Item>,
}

struct Inner {
    tables: BTreeMap<String, Table>,
    calls: Vec<DdbCall>,
    /// Errors for the next requests (FIFO), whatever the operation: `(status, code)`.
    faults: VecDeque<(u16, String)>,
}

pub struct DynamoDb {
    options: Options,
    inner: Mutex<Inner>,
    cv: Condvar,
}

/// An error answer: HTTP status, the whole `__type`, the message, and for a failed condition
/// the item as it is.
struct Reject {
    status: u16,
    kind: String,
    message: String,
    item: Option<Item>,
}

fn error(prefix: &str, code: &str, message: impl Into<String>) -> Reject {
    Reject {
        status: 400,
        kind: format!("{prefix}{code}"),
        message: message.into(),
        item: None,
    }
}

fn validation(message: impl Into<String>) -> Reject {
    error(CORAL_VALIDATE, "ValidationException", message)
}

/// What DynamoDB would serve but this stand-in was not written for: a change in what the
/// bootstrap sends, to look at.
fn not_understood(what: impl std::fmt::Display) -> Reject {
    validation(format!(
        "the DynamoDB stand-in (tests/testkit/src/emulator/dynamodb.rs) does not understand {what}"
    ))
}

impl DynamoDb {
    /// With one empty table, [`DEFAULT_TABLE`] keyed by [`DEFAULT_KEY`].
    pub fn new(options: Options) -> DynamoDb {
        let db = DynamoDb {
            options,
            inner: Mutex::new(Inner {
                tables: BTreeMap::new(),
                calls: Vec::new(),
                faults: VecDeque::new(),
            }),
            cv: Condvar::new(),
        };
        db.create_table(DEFAULT_TABLE, DEFAULT_KEY);
        db
    }

    // ---- configuration ----------------------------------------------------------------------

    /// An empty table whose only key is the string attribute `key` (replaces one of that name).
    pub fn create_table(&self, name: &str, key: &str) {
        lock(&self.inner).tables.insert(
            name.to_string(),
            Table {
                key: key.to_string(),
                items: BTreeMap::new(),
            },
        );
    }

    /// Stores `item` (an object of AttributeValues holding the table's key) as it is, as an
    /// older writer would have left it. Panics on an unknown table or a missing key.
    pub fn put_item(&self, table: &str, item: Value) {
        let mut inner = lock(&self.inner);
        let table = inner
            .tables
            .get_mut(table)
            .unwrap_or_else(|| panic!("dynamodb stand-in: no table {table:?}"));
        let Value::Object(item) = item else {
            panic!("dynamodb stand-in: an item is a JSON object")
        };
        let key = item
            .get(&table.key)
            .and_then(|v| v.get("S"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("dynamodb stand-in: the item has no S {:?}", table.key))
            .to_string();
        table.items.insert(key, item);
    }

    /// The next request answers HTTP `status` with error `code` (`ThrottlingException`,
    /// `InternalServerError`), after its signature was checked; nothing is read or written.
    pub fn fail_next(&self, status: u16, code: &str) {
        lock(&self.inner)
            .faults
            .push_back((status, code.to_string()));
    }

    // ---- accessors --------------------------------------------------------------------------

    /// The item of `table` whose key is `key`, as DynamoDB would return it.
    pub fn item(&self, table: &str, key: &str) -> Option<Value> {
        let inner = lock(&self.inner);
        let item = inner.tables.get(table)?.items.get(key)?;
        Some(Value::Object(item.clone()))
    }

    /// Every request, in the order they were handled.
    pub fn calls(&self) -> Vec<DdbCall> {
        lock(&self.inner).calls.clone()
    }

    /// Blocks until at least `n` requests were handled; returns them all.
    pub fn wait_calls(&self, n: usize) -> Vec<DdbCall> {
        wait_for(
            &self.inner,
            &self.cv,
            |s| (s.calls.len() >= n).then(|| s.calls.clone()),
            |s| format!("{n} DynamoDB call(s) (seen {})", s.calls.len()),
        )
    }

    // ---- serving ----------------------------------------------------------------------------

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        let received = Instant::now();
        let target = incoming.header("X-Amz-Target").unwrap_or_default();
        let operation = target
            .strip_prefix(TARGET_PREFIX)
            .unwrap_or(&target)
            .to_string();
        let body = incoming.body_string();
        let request = json_or_null(&body);
        let mut call = DdbCall {
            received,
            operation: operation.clone(),
            body,
            request: request.clone(),
            signature_ok: false,
            status: 200,
            error: None,
            answer: Value::Null,
        };
        let result = self.authenticate(&incoming).and_then(|()| {
            call.signature_ok = true;
            let mut inner = lock(&self.inner);
            if let Some((status, code)) = inner.faults.pop_front() {
                let prefix = match code.as_str() {
                    "ThrottlingException" | "UnrecognizedClientException" => CORAL_SERVICE,
                    _ => DYNAMODB_ERROR,
                };
                let mut fault = error(prefix, &code, "injected fault");
                fault.status = status;
                return Err(fault);
            }
            if !target.starts_with(TARGET_PREFIX) {
                return Err(error(
                    CORAL_SERVICE,
                    "UnknownOperationException",
                    format!("X-Amz-Target {target:?} is not a DynamoDB_20120810 operation"),
                ));
            }
            let Value::Object(request) = &request else {
                return Err(error(
                    CORAL_SERVICE,
                    "SerializationException",
                    "the request body is not a JSON object",
                ));
            };
            match operation.as_str() {
                "GetItem" => get_item(&mut inner, request),
                "UpdateItem" => update_item(&mut inner, request),
                other => Err(not_understood(format_args!(
                    "the operation {other} (it serves GetItem and UpdateItem)"
                ))),
            }
        });
        let request_id = super::new_request_id();
        let (status, answer) = match result {
            Ok(answer) => (200, answer),
            Err(reject) => {
                let code = reject.kind.rsplit('#').next().unwrap_or("").to_string();
                call.error = Some(code);
                // The auth front end says `Message`; DynamoDB's own errors `message`.
                let field = match reject.kind.starts_with(CORAL_SERVICE) {
                    true => "Message",
                    false => "message",
                };
                let mut body = json!({ "__type": reject.kind });
                body[field] = reject.message.into();
                if let Some(item) = reject.item {
                    body["Item"] = Value::Object(item);
                }
                (reject.status, body)
            }
        };
        call.status = status;
        call.answer = answer.clone();
        let text = answer.to_string();
        let crc = crc32(text.as_bytes()).to_string();
        lock(&self.inner).calls.push(call);
        self.cv.notify_all();
        respond(
            rq,
            status,
            &[
                ("Content-Type", AMZ_JSON),
                ("x-amzn-RequestId", &request_id),
                ("x-amz-crc32", &crc),
            ],
            text,
        );
    }

    /// The SigV4 checks, as the Secrets Manager stand-in makes them, for the signing name
    /// `dynamodb`; then the content type.
    fn authenticate(&self, rq: &Incoming) -> Result<(), Reject> {
        let o = &self.options;
        let deny = |code: &str, message: String| Err(error(CORAL_SERVICE, code, message));
        let Some(header) = rq.header("Authorization") else {
            return deny(
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token".into(),
            );
        };
        let auth = match sigv4::parse_authorization(&header) {
            Ok(auth) => auth,
            Err(e) => return deny("IncompleteSignatureException", e),
        };
        let token = rq.header("X-Amz-Security-Token");
        let token_signed = auth
            .signed_headers
            .iter()
            .any(|h| h == "x-amz-security-token");
        if auth.access_key_id != o.access_key_id
            || token != o.session_token
            || (o.session_token.is_some() && !token_signed)
        {
            return deny(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            );
        }
        let Some(amz_date) = rq.header("X-Amz-Date") else {
            return deny(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            );
        };
        let signed_at = match sigv4::parse_amz_date(&amz_date) {
            Ok(t) => t,
            Err(e) => return deny("IncompleteSignatureException", e),
        };
        if auth.date != amz_date[..8] {
            return deny(
                "InvalidSignatureException",
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
                    auth.date,
                    &amz_date[..8]
                ),
            );
        }
        if auth.service != SERVICE || auth.region != o.region || auth.terminator != "aws4_request" {
            return deny(
                "InvalidSignatureException",
                format!(
                    "Credential should be scoped to {}/{SERVICE}/aws4_request, not {}/{}/{}",
                    o.region, auth.region, auth.service, auth.terminator
                ),
            );
        }
        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.iter().any(|h| h == required) {
                return deny(
                    "InvalidSignatureException",
                    format!("'{required}' must be a 'SignedHeader' in the AWS Authorization."),
                );
            }
        }
        let now = (super::now_ms() / 1000) as i64;
        if (now - signed_at).abs() > MAX_SKEW_SECS {
            return deny(
                "InvalidSignatureException",
                format!("Signature expired: {amz_date} is more than 15 min from now"),
            );
        }
        if let Err(e) = sigv4::verify(&rq.signable(), &auth, &amz_date, &o.secret_access_key) {
            return deny("InvalidSignatureException", e);
        }
        if rq.method != "POST" || rq.path() != "/" {
            return Err(not_understood(format_args!(
                "{} {} (DynamoDB takes POST /)",
                rq.method,
                rq.path()
            )));
        }
        let content_type = rq.header("Content-Type").unwrap_or_default();
        if content_type != AMZ_JSON {
            return deny(
                "SerializationException",
                format!("Content-Type must be {AMZ_JSON}, got {content_type:?}"),
            );
        }
        Ok(())
    }
}

// ---- operations -----------------------------------------------------------------------------

/// Rejects members the stand-in was not written for (DynamoDB may know them).
fn only(request: &Item, known: &[&str], operation: &str) -> Result<(), Reject> {
    match request.keys().find(|k| !known.contains(&k.as_str())) {
        Some(other) => Err(not_understood(format_args!("{other} in {operation}"))),
        None => Ok(()),
    }
}

fn serialization(message: impl Into<String>) -> Reject {
    error(CORAL_SERVICE, "SerializationException", message)
}

/// `TableName` and `Key`: the table, and the key's value (the table's one string key).
fn table_and_key<'a>(
    inner: &'a mut Inner,
    request: &Item,
) -> Result<(&'a mut Table, String), Reject> {
    let Some(name) = request.get("TableName").and_then(Value::as_str) else {
        return Err(validation(
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        ));
    };
    let Some(Value::Object(key)) = request.get("Key") else {
        return Err(validation(
            "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null",
        ));
    };
    for value in key.values() {
        check_value(value)?;
    }
    let Some(table) = inner.tables.get_mut(name) else {
        return Err(error(
            DYNAMODB_ERROR,
            "ResourceNotFoundException",
            "Requested resource not found",
        ));
    };
    let value = match (key.len(), key.get(&table.key)) {
        (1, Some(v)) => v.get("S").and_then(Value::as_str),
        _ => None,
    };
    match value {
        Some(s) if !s.is_empty() => {
            let s = s.to_string();
            Ok((table, s))
        }
        _ => Err(validation(
            "The provided key element does not match the schema",
        )),
    }
}

fn get_item(inner: &mut Inner, request: &Item) -> Result<Value, Reject> {
    only(request, &["TableName", "Key", "ConsistentRead"], "GetItem")?;
    match request.get("ConsistentRead") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) | None => return Err(not_understood(
            "an eventually consistent GetItem (the incident store reads with ConsistentRead: true)",
        )),
        Some(_) => return Err(serialization("ConsistentRead must be a boolean")),
    }
    let (table, key) = table_and_key(inner, request)?;
    Ok(match table.items.get(&key) {
        Some(item) => json!({ "Item": item }),
        None => json!({}),
    })
}

fn update_item(inner: &mut Inner, request: &Item) -> Result<Value, Reject> {
    only(
        request,
        &[
            "TableName",
            "Key",
            "UpdateExpression",
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ReturnValues",
            "ReturnValuesOnConditionCheckFailure",
        ],
        "UpdateItem",
    )?;
    let text = |name: &str| -> Result<Option<&str>, Reject> {
        match request.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(serialization(format!("{name} must be a string"))),
        }
    };
    let all_new = match text("ReturnValues")? {
        None | Some("NONE") => false,
        Some("ALL_NEW") => true,
        Some(v @ ("ALL_OLD" | "UPDATED_OLD" | "UPDATED_NEW")) => {
            return Err(not_understood(format_args!("ReturnValues {v}")))
        }
        Some(v) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{v}' at 'returnValues' failed to satisfy constraint: \
                 Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
            )))
        }
    };
    let all_old = match text("ReturnValuesOnConditionCheckFailure")? {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(v) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{v}' at 'returnValuesOnConditionCheckFailure' \
                 failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
            )))
        }
    };
    let empty = Map::new();
    let names = match request.get("ExpressionAttributeNames") {
        None => &empty,
        Some(Value::Object(m)) if m.is_empty() => {
            return Err(validation("ExpressionAttributeNames must not be empty"))
        }
        Some(Value::Object(m)) if m.values().all(Value::is_string) => m,
        Some(_) => {
            return Err(serialization(
                "ExpressionAttributeNames must map names to strings",
            ))
        }
    };
    let values = match request.get("ExpressionAttributeValues") {
        None => &empty,
        Some(Value::Object(m)) if m.is_empty() => {
            return Err(validation("ExpressionAttributeValues must not be empty"))
        }
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(serialization(
                "ExpressionAttributeValues must map names to AttributeValues",
            ))
        }
    };
    for value in values.values() {
        check_value(value)?;
    }
    let Some(update) = text("UpdateExpression")? else {
        return Err(not_understood("an UpdateItem without an UpdateExpression"));
    };
    let mut scope = Scope {
        names,
        values,
        used_names: BTreeSet::new(),
        used_values: BTreeSet::new(),
    };
    let actions = parse_update(update, &mut scope)?;
    let condition = match text("ConditionExpression")? {
        Some(c) => Some(parse_condition(c, &mut scope)?),
        None => None,
    };
    for (kind, given, used) in [
        ("ExpressionAttributeNames", names, &scope.used_names),
        ("ExpressionAttributeValues", values, &scope.used_values),
    ] {
        let unused: Vec<&str> = given
            .keys()
            .filter(|k| !used.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            return Err(validation(format!(
                "Value provided in {kind} unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }

    let (table, key) = table_and_key(inner, request)?;
    if let Some(path) = actions
        .iter()
        .map(|a| &a.path()[0])
        .find(|p| **p == table.key)
    {
        return Err(validation(format!(
            "One or more parameter values were invalid: Cannot update attribute {path}. \
             This attribute is part of the key"
        )));
    }
    let old = table.items.get(&key);
    if let Some(condition) = condition {
        if !condition.holds(old) {
            return Err(Reject {
                status: 400,
                kind: format!("{DYNAMODB_ERROR}ConditionalCheckFailedException"),
                message: "The conditional request failed".into(),
                item: old.filter(|_| all_old).cloned(),
            });
        }
    }
    let mut item = old.cloned().unwrap_or_else(|| {
        let mut item = Map::new();
        item.insert(table.key.clone(), json!({ "S": key }));
        item
    });
    for action in actions {
        action.apply(&mut item)?;
    }
    if item_size(&item) > MAX_ITEM_BYTES {
        return Err(validation(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    let answer = match all_new {
        true => json!({ "Attributes": item }),
        false => json!({}),
    };
    table.items.insert(key, item);
    Ok(answer)
}

// ---- expressions ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An attribute name, keyword or function name.
    Word(String),
    /// `#name`.
    Name(String),
    /// `:value`.
    Value(String),
    /// `=`, `,`, `(`, `)` and the `.` between a document path's parts.
    Sym(char),
    /// `<`, `<=`, `>`, `>=` or `<>`.
    Cmp(&'static str),
}

fn tokens(expression: &str, what: &str) -> Result<Vec<Token>, Reject> {
    let chars: Vec<char> = expression.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let token = match c {
            '#' | ':' => {
                i += 1;
                while i < chars.len() && word(chars[i]) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if text.len() == 1 {
                    return Err(validation(format!(
                        "Invalid {what}: Syntax error; token: \"{c}\", near: \"{expression}\""
                    )));
                }
                match c {
                    '#' => Token::Name(text),
                    _ => Token::Value(text),
                }
            }
            '=' | ',' | '(' | ')' | '.' => {
                i += 1;
                Token::Sym(c)
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('=')) => ("<=", 2),
                    ('<', Some('>')) => ("<>", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    _ => (">", 1),
                };
                i += len;
                Token::Cmp(op)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && word(chars[i]) {
                    i += 1;
                }
                Token::Word(chars[start..i].iter().collect())
            }
            '[' | ']' | '+' | '-' => {
                return Err(not_understood(format_args!(
                    "{c:?} in the {what} {expression:?}"
                )))
            }
            _ => {
                return Err(validation(format!(
                    "Invalid {what}: Syntax error; token: \"{c}\", near: \"{expression}\""
                )))
            }
        };
        out.push(token);
    }
    if out.is_empty() {
        return Err(validation(format!(
            "Invalid {what}: The expression can not be empty;"
        )));
    }
    Ok(out)
}

/// An attribute's place: a top-level name, then the keys of the maps (`M`) inside it.
type Path = Vec<String>;

fn shown(path: &[String]) -> String {
    path.join(".")
}

/// The names and values an expression may use, and those it did.
struct Scope<'a> {
    names: &'a Map<String, Value>,
    values: &'a Map<String, Value>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Scope<'_> {
    /// One part of a path: a word that is not reserved, or a defined `#name`.
    fn part(&mut self, token: Option<&Token>, what: &str) -> Result<String, Reject> {
        match token {
            Some(Token::Word(word)) => match reserved(word) {
                true => Err(validation(format!(
                    "Invalid {what}: Attribute name is a reserved keyword; reserved keyword: {word}"
                ))),
                false => Ok(word.clone()),
            },
            Some(Token::Name(name)) => match self.names.get(name).and_then(Value::as_str) {
                Some(attribute) => {
                    self.used_names.insert(name.clone());
                    Ok(attribute.to_string())
                }
                None => Err(validation(format!(
                    "Invalid {what}: An expression attribute name used in the document path is \
                     not defined; attribute name: {name}"
                ))),
            },
            other => Err(not_understood(format_args!(
                "{other:?} where the {what} needs an attribute name"
            ))),
        }
    }

    /// A path from `tokens[*i]` on: parts joined by `.`.
    fn path(&mut self, tokens: &[Token], i: &mut usize, what: &str) -> Result<Path, Reject> {
        let mut path = vec![self.part(tokens.get(*i), what)?];
        *i += 1;
        while tokens.get(*i) == Some(&Token::Sym('.')) {
            path.push(self.part(tokens.get(*i + 1), what)?);
            *i += 2;
        }
        Ok(path)
    }

    /// A `:value`, defined.
    fn value(&mut self, token: Option<&Token>, what: &str) -> Result<Value, Reject> {
        match token {
            Some(Token::Value(name)) => match self.values.get(name) {
                Some(value) => {
                    self.used_values.insert(name.clone());
                    Ok(value.clone())
                }
                None => Err(validation(format!(
                    "Invalid {what}: An expression attribute value used in expression is not \
                     defined; attribute value: {name}"
                ))),
            },
            other => Err(not_understood(format_args!(
                "{other:?} as an operand in the {what} (only :value)"
            ))),
        }
    }
}

#[derive(Debug)]
enum Action {
    Set(Path, Value),
    Remove(Path),
    /// `ADD path :number` on a top-level attribute.
    Add(Path, Value),
}

impl Action {
    fn path(&self) -> &Path {
        match self {
            Action::Set(path, _) | Action::Remove(path) | Action::Add(path, _) => path,
        }
    }

    /// Applies the action to `item`, as DynamoDB does once the condition held.
    fn apply(self, item: &mut Item) -> Result<(), Reject> {
        let invalid = || {
            validation("The document path provided in the update expression is invalid for update")
        };
        match self {
            Action::Set(path, value) => {
                let (last, parents) = path.split_last().ok_or_else(invalid)?;
                map_at(item, parents)
                    .ok_or_else(invalid)?
                    .insert(last.clone(), value);
            }
            Action::Remove(path) => {
                let (last, parents) = path.split_last().ok_or_else(invalid)?;
                if let Some(map) = map_at(item, parents) {
                    map.remove(last);
                }
            }
            Action::Add(path, value) => {
                let wrong = |kind: &str| {
                    validation(format!(
                        "An operand in the update expression has an incorrect data type; \
                         operator: ADD, operand type: {kind}"
                    ))
                };
                let Some(by) = value.get("N").and_then(Value::as_str) else {
                    return Err(wrong(kind_of(&value)));
                };
                let sum = match item.get(&path[0]) {
                    None => by.to_string(),
                    Some(old) => match old.get("N").and_then(Value::as_str) {
                        Some(n) => add_numbers(n, by).ok_or_else(|| wrong("NUMBER"))?,
                        None => return Err(wrong(kind_of(old))),
                    },
                };
                item.insert(path[0].clone(), json!({ "N": sum }));
            }
        }
        Ok(())
    }
}

/// The map `parents` leads to in `item`: `item` itself for none; `None` when a part is
/// missing or not a map.
fn map_at<'a>(item: &'a mut Item, parents: &[String]) -> Option<&'a mut Item> {
    let mut map = item;
    for part in parents {
        map = map.get_mut(part)?.get_mut("M")?.as_object_mut()?;
    }
    Some(map)
}

/// The attribute at `path` in `item`.
fn value_at<'a>(item: &'a Item, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = item.get(first)?;
    for part in rest {
        value = value.get("M")?.get(part)?;
    }
    Some(value)
}

/// An AttributeValue's type as DynamoDB names it in errors.
fn kind_of(value: &Value) -> &'static str {
    match value
        .as_object()
        .and_then(|m| m.keys().next())
        .map(String::as_str)
    {
        Some("N") => "NUMBER",
        Some("S") => "STRING",
        Some("M") => "MAP",
        Some("L") => "LIST",
        Some("BOOL") => "BOOLEAN",
        _ => "OTHER",
    }
}

/// `a + b` for two DynamoDB numbers: exact for integers, else as floats.
fn add_numbers(a: &str, b: &str) -> Option<String> {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.checked_add(y).map(|s| s.to_string()),
        _ => Some((number(a)? + number(b)?).to_string()),
    }
}

/// `SET path = :value, …`, `REMOVE path, …` and `ADD path :number, …`, each clause at most
/// once, in any order; a `SET` or `REMOVE` path may go into maps (`a.#k`).
fn parse_update(expression: &str, scope: &mut Scope) -> Result<Vec<Action>, Reject> {
    const WHAT: &str = "UpdateExpression";
    let tokens = tokens(expression, WHAT)?;
    let mut actions = Vec::new();
    let mut clauses = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        let clause = match &tokens[i] {
            Token::Word(word) => word.to_ascii_uppercase(),
            other => {
                return Err(validation(format!(
                    "Invalid {WHAT}: Syntax error; token: {other:?}, near: \"{expression}\""
                )))
            }
        };
        match clause.as_str() {
            "SET" | "REMOVE" | "ADD" => {}
            "DELETE" => {
                return Err(not_understood(format_args!(
                    "the {clause} clause of the {WHAT} {expression:?}"
                )))
            }
            _ => {
                return Err(validation(format!(
                    "Invalid {WHAT}: Syntax error; token: \"{clause}\", near: \"{expression}\""
                )))
            }
        }
        if !clauses.insert(clause.clone()) {
            return Err(validation(format!(
                "Invalid {WHAT}: The \"{clause}\" section can only be used once in an update expression;"
            )));
        }
        i += 1;
        loop {
            let path = scope.path(&tokens, &mut i, WHAT)?;
            match clause.as_str() {
                "SET" => {
                    if tokens.get(i) != Some(&Token::Sym('=')) {
                        return Err(not_understood(format_args!(
                            "the SET action on {} in {expression:?} (only path = :value)",
                            shown(&path)
                        )));
                    }
                    let value = scope.value(tokens.get(i + 1), WHAT)?;
                    i += 2;
                    actions.push(Action::Set(path, value));
                }
                "ADD" => {
                    if path.len() > 1 {
                        return Err(not_understood(format_args!(
                            "ADD into a map ({}) in {expression:?}",
                            shown(&path)
                        )));
                    }
                    let value = scope.value(tokens.get(i), WHAT)?;
                    i += 1;
                    actions.push(Action::Add(path, value));
                }
                _ => actions.push(Action::Remove(path)),
            }
            if tokens.get(i) == Some(&Token::Sym(',')) {
                i += 1;
                continue;
            }
            break;
        }
    }
    // Two paths overlap when one is the other or leads into it.
    for (n, a) in actions.iter().enumerate() {
        for b in &actions[n + 1..] {
            let (a, b) = (a.path(), b.path());
            if a.iter().zip(b.iter()).all(|(x, y)| x == y) {
                return Err(validation(format!(
                    "Invalid {WHAT}: Two document paths overlap with each other; must remove or \
                     rewrite one of these paths; path one: [{}], path two: [{}]",
                    shown(a),
                    shown(b)
                )));
            }
        }
    }
    Ok(actions)
}

#[derive(Debug)]
enum Operand {
    Path(Path),
    Value(Value),
}

#[derive(Debug)]
enum Condition {
    Exists(Path),
    NotExists(Path),
    /// `a op b` with `op` one of `=`, `<`, `<=`, `>`, `>=`.
    Compare(Operand, &'static str, Operand),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    fn holds(&self, item: Option<&Item>) -> bool {
        let get = |path: &Path| item.and_then(|i| value_at(i, path));
        match self {
            Condition::Exists(path) => get(path).is_some(),
            Condition::NotExists(path) => get(path).is_none(),
            Condition::Compare(a, op, b) => {
                fn operand<'v>(o: &'v Operand, item: Option<&'v Item>) -> Option<&'v Value> {
                    match o {
                        Operand::Path(path) => item.and_then(|i| value_at(i, path)),
                        Operand::Value(value) => Some(value),
                    }
                }
                // A missing attribute, or two of different types, compare false.
                match (operand(a, item), operand(b, item)) {
                    (Some(a), Some(b)) => compare(a, b).is_some_and(|order| match *op {
                        "=" => order.is_eq(),
                        "<" => order.is_lt(),
                        "<=" => order.is_le(),
                        ">" => order.is_gt(),
                        _ => order.is_ge(),
                    }),
                    _ => false,
                }
            }
            Condition::And(a, b) => a.holds(item) && b.holds(item),
            Condition::Or(a, b) => a.holds(item) || b.holds(item),
            Condition::Not(a) => !a.holds(item),
        }
    }
}

/// The order of two AttributeValues of one type: numbers by value, strings by their bytes
/// (as DynamoDB orders them); `None` across types. Other types are only equal or not.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    fn text<'v>(v: &'v Value, kind: &str) -> Option<&'v str> {
        v.get(kind).and_then(Value::as_str)
    }
    if let (Some(x), Some(y)) = (text(a, "N"), text(b, "N")) {
        return number(x)?.partial_cmp(&number(y)?);
    }
    if let (Some(x), Some(y)) = (text(a, "S"), text(b, "S")) {
        return Some(x.as_bytes().cmp(y.as_bytes()));
    }
    (kind_of(a) == kind_of(b) && same_value(a, b)).then_some(std::cmp::Ordering::Equal)
}

/// A `ConditionExpression` read by precedence as DynamoDB's: `NOT` before `AND` before `OR`.
struct Conditions<'s, 'a> {
    tokens: Vec<Token>,
    i: usize,
    scope: &'s mut Scope<'a>,
    expression: &'s str,
}

impl Conditions<'_, '_> {
    const WHAT: &'static str = "ConditionExpression";

    fn keyword(&mut self, word: &str) -> bool {
        let found =
            matches!(self.tokens.get(self.i), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        self.i += usize::from(found);
        found
    }

    fn odd(&self) -> Reject {
        not_understood(format_args!("the {} {:?}", Self::WHAT, self.expression))
    }

    fn expect(&mut self, token: Token) -> Result<(), Reject> {
        if self.tokens.get(self.i) != Some(&token) {
            return Err(self.odd());
        }
        self.i += 1;
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, Reject> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, Reject> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, Reject> {
        match self.keyword("NOT") {
            true => Ok(Condition::Not(Box::new(self.not()?))),
            false => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Condition, Reject> {
        if self.tokens.get(self.i) == Some(&Token::Sym('(')) {
            self.i += 1;
            let inner = self.or()?;
            self.expect(Token::Sym(')'))?;
            return Ok(inner);
        }
        if let (Some(Token::Word(f)), Some(Token::Sym('('))) =
            (self.tokens.get(self.i), self.tokens.get(self.i + 1))
        {
            let exists = match f.as_str() {
                "attribute_exists" => true,
                "attribute_not_exists" => false,
                _ => return Err(self.odd()),
            };
            self.i += 2;
            let path = self.scope.path(&self.tokens, &mut self.i, Self::WHAT)?;
            self.expect(Token::Sym(')'))?;
            return Ok(match exists {
                true => Condition::Exists(path),
                false => Condition::NotExists(path),
            });
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.i) {
            Some(Token::Sym('=')) => "=",
            Some(Token::Cmp(op)) if *op != "<>" => op,
            _ => return Err(self.odd()),
        };
        self.i += 1;
        let right = self.operand()?;
        Ok(Condition::Compare(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, Reject> {
        match self.tokens.get(self.i) {
            Some(Token::Value(_)) => {
                let value = self.scope.value(self.tokens.get(self.i), Self::WHAT)?;
                self.i += 1;
                Ok(Operand::Value(value))
            }
            Some(Token::Word(_) | Token::Name(_)) => Ok(Operand::Path(self.scope.path(
                &self.tokens,
                &mut self.i,
                Self::WHAT,
            )?)),
            _ => Err(self.odd()),
        }
    }
}

/// `attribute_exists(path)`, `attribute_not_exists(path)` and comparisons (`=`, `<`, `<=`,
/// `>`, `>=`) of paths and `:values`, joined by `AND`, `OR`, `NOT` and parentheses.
fn parse_condition(expression: &str, scope: &mut Scope) -> Result<Condition, Reject> {
    let mut parser = Conditions {
        tokens: tokens(expression, Conditions::WHAT)?,
        i: 0,
        scope,
        expression,
    };
    let condition = parser.or()?;
    if parser.i != parser.tokens.len() {
        return Err(parser.odd());
    }
    Ok(condition)
}

fn reserved(word: &str) -> bool {
    RESERVED_WORDS
        .split_whitespace()
        .any(|r| r.eq_ignore_ascii_case(word))
}

// ---- attribute values -----------------------------------------------------------------------

/// One AttributeValue: exactly one of DynamoDB's types, with a value of that type.
fn check_value(value: &Value) -> Result<(), Reject> {
    let bad = || {
        validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        )
    };
    let Value::Object(typed) = value else {
        return Err(bad());
    };
    let mut fields = typed.iter();
    let (Some((kind, inner)), None) = (fields.next(), fields.next()) else {
        return Err(bad());
    };
    let ok = match (kind.as_str(), inner) {
        ("S" | "B", Value::String(_)) => true,
        ("N", Value::String(n)) => number(n).is_some(),
        ("BOOL", Value::Bool(_)) | ("NULL", Value::Bool(true)) => true,
        ("M", Value::Object(map)) => {
            for v in map.values() {
                check_value(v)?;
            }
            true
        }
        ("L", Value::Array(list)) => {
            for v in list {
                check_value(v)?;
            }
            true
        }
        ("SS" | "BS", Value::Array(set)) => !set.is_empty() && set.iter().all(Value::is_string),
        ("NS", Value::Array(set)) => {
            !set.is_empty() && set.iter().all(|n| n.as_str().and_then(number).is_some())
        }
        _ => false,
    };
    match ok {
        true => Ok(()),
        false => Err(validation(format!(
            "One or more parameter values were invalid: not a valid {kind} AttributeValue: {inner}"
        ))),
    }
}

/// A DynamoDB number (digits, sign, point, exponent), as a float for comparing.
fn number(text: &str) -> Option<f64> {
    let plausible = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    plausible.then(|| text.parse().ok()).flatten()
}

/// Equal as DynamoDB compares: numbers by value, anything else as written.
fn same_value(a: &Value, b: &Value) -> bool {
    match (
        a.get("N").and_then(Value::as_str),
        b.get("N").and_then(Value::as_str),
    ) {
        (Some(x), Some(y)) => number(x).is_some() && number(x) == number(y),
        _ => a == b,
    }
}

/// About DynamoDB's item size: names and values in bytes.
fn item_size(item: &Item) -> usize {
    fn value_size(v: &Value) -> usize {
        match v {
            Value::String(s) => s.len(),
            Value::Array(list) => 3 + list.iter().map(value_size).sum::<usize>(),
            Value::Object(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + value_size(v))
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// CRC-32 (IEEE), as DynamoDB's `x-amz-crc32` header carries it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// DynamoDB's reserved words (its developer guide, `ReservedWords.md`): an expression must
/// alias them with `#name`.
const RESERVED_WORDS: &str = "\
    ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE \
    ARE ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH \
    AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY \
    BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY \
    CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED \
    CLUSTERING CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT \
    COMMIT COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY \
    CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING \
    COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY \
    DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION \
    DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS \
    DIRECTORIES DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION \
    DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL \
    EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN \
    EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE \
    FILTER FILTERING FINAL FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD \
    FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT \
    GREATER GROUP GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY \
    IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED \
    INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT INSENSITIVE INSERT \
    INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE \
    JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL \
    LIKE LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK \
    LOCKS LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD \
    METRICS MIN MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME \
    NAMES NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT \
    OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER \
    OTHERS OUT OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS \
    PARTIAL PARTITION PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS \
    PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVATE \
    PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY PROVISIONING PUBLIC PUT QUERY \
    QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE \
    REF REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE REMAINDER \
    RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT \
    RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS \
    RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION \
    SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET \
    SETS SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME \
    SOURCE SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION \
    SQLSTATE SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT \
    STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM \
    TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP \
    TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION \
    TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN \
    UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER USERS USING \
    UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS \
    VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE \
    YEAR ZONE
";

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(names: &'a Map<String, Value>, values: &'a Map<String, Value>) -> Scope<'a> {
        Scope {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn crc32_is_ieee() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"{}"), crc32(b"{}"));
    }

    #[test]
    fn the_reserved_words_are_dynamodbs() {
        assert_eq!(RESERVED_WORDS.split_whitespace().count(), 573);
        assert!(reserved("log") && reserved("State") && reserved("STATUS"));
        assert!(!reserved("v") && !reserved("expires") && !reserved("alarm"));
    }

    #[test]
    fn the_bootstraps_update_expression_parses_and_others_do_not() {
        let names = map(json!({"#log": "log", "#status": "status", "#state": "state"}));
        let values = map(json!({":next": {"N": "2"}, ":log": {"S": "[]"}, ":expires": {"N": "9"}}));
        let mut s = scope(&names, &values);
        let actions = parse_update(
            "SET v = :next, #log = :log, expires = :expires REMOVE #status, #state, changed, seen",
            &mut s,
        )
        .unwrap_or_else(|r| panic!("{}", r.message));
        let paths: Vec<String> = actions.iter().map(|a| shown(a.path())).collect();
        assert_eq!(
            paths,
            ["v", "log", "expires", "status", "state", "changed", "seen"]
        );
        assert_eq!(s.used_names.len(), 3);
        assert_eq!(s.used_values.len(), 3);
        for (expression, says) in [
            ("SET v = v + :next", "does not understand"),
            ("SET v = if_not_exists(v, :next)", "does not understand"),
            ("DELETE v :next", "does not understand"),
            ("ADD v.#log :next", "does not understand"),
            ("SET v = :next, v.#log = :log", "overlap"),
            ("SET log = :log", "reserved keyword: log"),
            ("SET v = :nope", "attribute value: :nope"),
            ("SET #nope = :next", "attribute name: #nope"),
            ("SET v = :next REMOVE v", "overlap"),
            ("SET v = :next SET expires = :expires", "only be used once"),
            ("  ", "can not be empty"),
        ] {
            let mut s = scope(&names, &values);
            match parse_update(expression, &mut s) {
                Ok(actions) => panic!("{expression:?} parsed: {actions:?}"),
                Err(r) => assert!(r.message.contains(says), "{expression:?}: {}", r.message),
            }
        }
    }

    #[test]
    fn conditions_hold_as_dynamodb_evaluates_them() {
        let names = Map::new();
        let values = map(json!({":read": {"N": "3"}}));
        let item = map(json!({"alarm": {"S": "a"}, "v": {"N": "3.0"}}));
        let mut s = scope(&names, &values);
        let parse = |e: &str, s: &mut Scope| {
            parse_condition(e, s).unwrap_or_else(|r| panic!("{e}: {}", r.message))
        };
        assert!(parse("attribute_not_exists(alarm)", &mut s).holds(None));
        assert!(!parse("attribute_not_exists(alarm)", &mut s).holds(Some(&item)));
        assert!(parse("attribute_exists(v)", &mut s).holds(Some(&item)));
        assert!(parse("v = :read", &mut s).holds(Some(&item)));
        assert!(!parse("v = :read", &mut s).holds(None));
        assert!(parse("v = :read AND attribute_exists(v)", &mut s).holds(Some(&item)));
        assert!(parse("v <= :read AND NOT v < :read", &mut s).holds(Some(&item)));
        assert!(!parse("v > :read OR attribute_not_exists(alarm)", &mut s).holds(Some(&item)));
        // A missing attribute compares false, whichever the operator.
        assert!(!parse("w < :read OR w >= :read", &mut s).holds(Some(&item)));
        // AND binds tighter than OR.
        assert!(parse("v = :read OR w = :read AND w = :read", &mut s).holds(Some(&item)));
        assert!(!parse("(v = :read OR w = :read) AND w = :read", &mut s).holds(Some(&item)));
        for odd in [
            "size(v) = :read",
            "v <> :read",
            "v BETWEEN :read AND :read",
            "(v = :read",
            "v = :read v",
        ] {
            assert!(parse_condition(odd, &mut s).is_err(), "{odd}");
        }
    }

    /// One `UpdateItem` on `item` as the stand-in carries it out: whether its condition held.
    fn write(
        item: &mut Option<Item>,
        update: &str,
        condition: &str,
        names: Value,
        values: Value,
    ) -> bool {
        let (names, values) = (map(names), map(values));
        let mut s = scope(&names, &values);
        let actions = parse_update(update, &mut s).unwrap_or_else(|r| panic!("{}", r.message));
        let condition =
            parse_condition(condition, &mut s).unwrap_or_else(|r| panic!("{}", r.message));
        assert_eq!(s.used_names.len(), names.len(), "{update} {condition:?}");
        assert_eq!(s.used_values.len(), values.len(), "{update} {condition:?}");
        if !condition.holds(item.as_ref()) {
            return false;
        }
        let mut next = item.clone().unwrap_or_default();
        for action in actions {
            action
                .apply(&mut next)
                .unwrap_or_else(|r| panic!("{}", r.message));
        }
        *item = Some(next);
        true
    }

    fn count(item: &mut Option<Item>, now: i64) -> bool {
        write(
            item,
            "ADD n :one SET #last = :now",
            "since > :start OR (attribute_exists(ts) AND #last > :start)",
            json!({"#last": "last"}),
            json!({":one": {"N": "1"}, ":start": {"N": (now - 60_000).to_string()}, ":now": {"N": now.to_string()}}),
        )
    }

    fn fresh(item: &mut Option<Item>, now: i64) -> bool {
        write(
            item,
            "SET since = :now, #last = :now, n = :one, members = :none, expires = :expires REMOVE ts, #in, claim, #until, updated",
            "attribute_not_exists(since) OR (since <= :start AND (attribute_not_exists(ts) OR attribute_not_exists(#last) OR #last <= :start))",
            json!({"#in": "in", "#until": "until", "#last": "last"}),
            json!({":now": {"N": now.to_string()}, ":one": {"N": "1"}, ":start": {"N": (now - 60_000).to_string()},
                   ":expires": {"N": "86400"}, ":none": {"M": {}}}),
        )
    }

    fn turn(item: &mut Option<Item>, at: i64, last: i64) -> bool {
        write(
            item,
            "SET #at = :turn, expires = :expires",
            "attribute_not_exists(#at) OR #at <= :last",
            json!({"#at": "at"}),
            json!({":turn": {"N": at.to_string()}, ":expires": {"N": "1"}, ":last": {"N": last.to_string()}}),
        )
    }

    /// The storm count's two writes, a member's, a count taken back, and the pace's turn,
    /// written as the bootstrap writes them (`src/incident/storm.rs`, `turns.rs`).
    #[test]
    fn the_storm_count_and_the_turn_are_understood() {
        let mut item = None;
        let n = |item: &Option<Item>| item.as_ref().map(|i| i["n"].clone());
        // No item: the count is refused, a fresh window begins.
        assert!(!count(&mut item, 1_000_000));
        assert!(fresh(&mut item, 1_000_000));
        // Within the window the count goes up; a second fresh window is refused.
        assert!(count(&mut item, 1_010_000));
        assert!(!fresh(&mut item, 1_010_000));
        assert_eq!(n(&item), Some(json!({"N": "2"})));
        // A member goes into the map.
        assert!(write(
            &mut item,
            "SET members.#k = :v, touched = :mark",
            "since = :since",
            json!({"#k": "00ab"}),
            json!({":v": {"S": "ALARM\tAWS/EC2\tcpu"}, ":since": {"N": "1000000"}, ":mark": {"S": "x"}}),
        ));
        let members = item.as_ref().map(|i| i["members"].clone());
        assert_eq!(
            members,
            Some(json!({"M": {"00ab": {"S": "ALARM\tAWS/EC2\tcpu"}}}))
        );
        // Past the window (and no storm message): the count is refused, a fresh one begins.
        assert!(!count(&mut item, 1_100_000));
        assert!(fresh(&mut item, 1_100_000));
        assert_eq!(n(&item), Some(json!({"N": "1"})));
        assert_eq!(
            item.as_ref().map(|i| i["members"].clone()),
            Some(json!({"M": {}}))
        );
        // A count taken back: only from the window it was made in.
        let back = |item: &mut Option<Item>, since: i64| {
            write(
                item,
                "ADD n :back",
                "since = :since",
                json!({}),
                json!({":back": {"N": "-1"}, ":since": {"N": since.to_string()}}),
            )
        };
        assert!(!back(&mut item, 1_000_000));
        assert!(back(&mut item, 1_100_000));
        assert_eq!(n(&item), Some(json!({"N": "0"})));
        // The pace's turn: taken when none is, or when the last is at or before `:last`.
        let mut pace = None;
        assert!(turn(&mut pace, 5_000, 0));
        assert!(!turn(&mut pace, 5_500, 4_999));
        assert!(turn(&mut pace, 6_000, 5_000));
    }

    #[test]
    fn attribute_values_are_checked() {
        for good in [
            json!({"S": ""}),
            json!({"N": "-1.5e3"}),
            json!({"M": {"a": {"BOOL": true}}}),
        ] {
            assert!(check_value(&good).is_ok(), "{good}");
        }
        for bad in [
            json!({"N": 1}),
            json!({"N": "one"}),
            json!({"S": "a", "N": "1"}),
            json!({}),
            json!("a"),
        ] {
            assert!(check_value(&bad).is_err(), "{bad}");
        }
    }
}
