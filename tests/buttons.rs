//! The incident buttons (issue 23) end to end: the release bootstrap in app mode with the
//! secret's signing secret, its incident store in moto_server's DynamoDB (IAM on, an assumed
//! role's credentials), Slack's Web API from our stand-in, and the clicks as Slack sends
//! them: signed form posts arriving as Lambda Function URL events (`emulator/click.rs`),
//! built from the parent as the stand-in stores it.
//!
//! Every click's answer is the invocation's response (the HTTP answer); an accepted click is
//! answered before it is carried out, which is checked by the order in which the answer and
//! the Slack calls reached the stand-ins. A refused request changes nothing: the item is the
//! same before and after, and Slack gets no `chat.*` call but the ephemeral one that tells
//! the clicker why, where one is due. No secret (bot token, signing secret, AWS secret key,
//! session token) shows in what the processes print, answer or send.

use common::{alarm_message, sns, Lambda};
use emulator::click::{Click, Request, APP_ID, SIGNING_SECRET};
use emulator::slack_api::{ApiCall, Ephemeral, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID, TEAM_ID};
use emulator::{Bootstrap, Emulator, Options, Outcome};
use moto_server::{Credentials, Moto};
use serde_json::{json, Value};
use testkit::{common, emulator, moto_server};

const TABLE: &str = "alarm-incidents";
const ACTIONS: [&str; 3] = [
    "secretsmanager:GetSecretValue",
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
];
const CHANNEL: &str = DEFAULT_CHANNEL_ID;

// ---- the world ------------------------------------------------------------------------------

fn moto_with_table() -> (Moto, Credentials) {
    Moto::with_incident_table(TABLE, &ACTIONS)
}

/// App mode with buttons: bot token, channel, signing secret, and `extra` keys.
fn secret(extra: Value) -> String {
    let mut secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": CHANNEL,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET});
    for (k, v) in extra.as_object().into_iter().flatten() {
        secret[k] = v.clone();
    }
    secret.to_string()
}

fn options(creds: &Credentials, secret: String) -> Options {
    Options {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        secret_string: Some(secret),
        ..Options::default()
    }
}

fn env_for(moto: &Moto) -> Vec<(String, String)> {
    vec![
        ("INCIDENT_TABLE".to_string(), TABLE.to_string()),
        ("AWS_ENDPOINT_URL_DYNAMODB".to_string(), moto.url()),
    ]
}

/// One bootstrap with this secret, polling; IAM checks on from here.
fn start(moto: &Moto, creds: &Credentials, secret: String) -> Lambda {
    let env = env_for(moto);
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let lambda = Lambda::start_with(options(creds, secret), &set, &[]);
    moto.reset_auth("0");
    lambda.emu.wait_next_calls(1);
    lambda
}

// ---- alarms ---------------------------------------------------------------------------------

/// CloudWatch's timestamp `offset` seconds from now: the mute's "until OK" compares the OK's
/// time with the click's, so the transitions after a click must be later than it.
fn at(offset: i64) -> String {
    let secs = emulator::click::now_secs() + offset;
    let t = time::OffsetDateTime::from_unix_timestamp(secs).expect("a time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An SNS alarm event for `name` entering `state` from `old` at `when`, with this description.
fn transition(
    name: &str,
    state: &str,
    old: &str,
    when: &str,
    description: Option<&str>,
) -> Vec<u8> {
    let mut message: Value = serde_json::from_str(&alarm_message(name, state)).expect("json");
    message["OldStateValue"] = old.into();
    message["StateChangeTime"] = when.into();
    message["AlarmDescription"] = description.into();
    sns(&[(&message.to_string(), Some(state))])
}

fn arn(name: &str) -> String {
    format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")
}

/// Runs one event to its end: answered, and the process back at `GET /next` (so whatever a
/// click does after its answer is done too).
fn run(emu: &Emulator, event: Vec<u8>) -> (String, Outcome) {
    let id = emu.push_event(event);
    let outcome = emu.wait_finished(&id);
    (id, outcome)
}

fn post(lambda: &Lambda, event: Vec<u8>) {
    let (_, outcome) = run(&lambda.emu, event);
    assert_eq!(
        outcome,
        Outcome::Response(r#"{"posted":1}"#.to_string()),
        "{}",
        lambda.process.stdout()
    );
}

// ---- clicks and answers ---------------------------------------------------------------------

/// The HTTP answer a Function URL gives for an invocation's response.
#[derive(Debug)]
struct Answer {
    id: String,
    status: u64,
    body: String,
}

fn answer_of(id: String, outcome: Outcome) -> Answer {
    let Outcome::Response(response) = outcome else {
        panic!("a Function URL request failed the invocation: {outcome:?}")
    };
    let http: Value = serde_json::from_str(&response).expect("the answer is JSON");
    assert_eq!(http["isBase64Encoded"], false, "{response}");
    assert!(http["headers"]["content-type"].is_string(), "{response}");
    Answer {
        id,
        status: http["statusCode"].as_u64().expect("a statusCode"),
        body: http["body"].as_str().expect("a body").to_string(),
    }
}

fn send(emu: &Emulator, request: &Request) -> Answer {
    let (id, outcome) = run(emu, request.event());
    answer_of(id, outcome)
}

/// Sends an accepted click: 200 with an empty body.
fn accepted(emu: &Emulator, request: &Request) -> Answer {
    let answer = send(emu, request);
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, ""),
        "{answer:?}"
    );
    answer
}

/// The parent `ts` of `channel` as Slack shows it now.
fn shown(emu: &Emulator, channel: &str, ts: &str) -> Value {
    emu.slack_api().shown(channel, ts)
}

/// The top-level messages' `ts` of a channel.
fn parents(emu: &Emulator, channel: &str) -> Vec<String> {
    emu.slack_api()
        .messages(channel)
        .into_iter()
        .map(|m| m.ts)
        .collect()
}

/// A click by `user` on `action_id` of the parent `ts`, as it is shown now.
fn click(emu: &Emulator, channel: &str, ts: &str, action_id: &str, user: &str) -> Click {
    Click::on(&shown(emu, channel, ts), channel, action_id, user)
}

/// The `action_id`s of a parent's buttons.
fn buttons(message: &Value) -> Vec<String> {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["block_id"] == "incident")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["action_id"].as_str().map(str::to_string))
        .collect()
}

/// The element `action_id` of a parent's buttons.
fn element(message: &Value, action_id: &str) -> Option<Value> {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == action_id)
}

/// The parent's marks line (its `marks` context block), empty when it has none.
fn marks_line(message: &Value) -> String {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["block_id"] == "marks")
        .and_then(|b| b["elements"][0]["text"].as_str())
        .unwrap_or("")
        .to_string()
}

/// The replies' texts under a parent.
fn replies(emu: &Emulator, channel: &str, ts: &str) -> Vec<String> {
    emu.slack_api()
        .messages(channel)
        .into_iter()
        .find(|m| m.ts == ts)
        .map(|m| {
            m.replies
                .iter()
                .map(|r| r.text.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// The `chat.*` calls so far.
fn chat_calls(emu: &Emulator) -> Vec<ApiCall> {
    emu.slack_api_calls()
        .into_iter()
        .filter(|c| c.method.starts_with("chat."))
        .collect()
}

/// The single call of `method` among `calls` after the first `skip`.
fn only_new<'c>(calls: &'c [ApiCall], skip: usize, method: &str) -> &'c ApiCall {
    let new: Vec<&ApiCall> = calls[skip..]
        .iter()
        .filter(|c| c.method == method)
        .collect();
    assert_eq!(new.len(), 1, "one {method}: {:?}", &calls[skip..]);
    new[0]
}

/// The answer reached the Runtime API before `call` reached Slack.
fn answered_before(emu: &Emulator, answer: &Answer, call: &ApiCall) {
    let answered = emu
        .outcome_arrival(&answer.id)
        .expect("the answer was posted");
    assert!(
        answered < call.arrival,
        "the HTTP answer (#{answered}) went out after Slack's {} (#{})",
        call.method,
        call.arrival
    );
}

// ---- the store ------------------------------------------------------------------------------

fn item(moto: &Moto, creds: &Credentials, key: &str) -> Value {
    moto.incident_item(creds, TABLE, key)
}

/// The item's `marks`, as JSON (`Null` when it has none).
fn marks_of(item: &Value) -> Value {
    item["marks"]["S"].as_str().map_or(Value::Null, |m| {
        serde_json::from_str(m).expect("marks JSON")
    })
}

fn log_of(item: &Value) -> Vec<Value> {
    serde_json::from_str(item["log"]["S"].as_str().unwrap_or("[]")).expect("log JSON")
}

// ---- accepted clicks ------------------------------------------------------------------------

/// Two people click Acknowledge at the same moment, each served by its own instance
/// (two bootstraps sharing the table and Slack): one click is written, the other is decided
/// again on what it wrote and refused, and its clicker is told who was first.
#[test]
fn acknowledge_by_two_people_at_once_is_written_once_and_the_second_is_told() {
    let (moto, creds) = moto_with_table();
    let emu = Emulator::start(options(&creds, secret(json!({}))));
    let env = env_for(&moto);
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let env = common::env_with(&emu, &set, &[]);
    let mut list: Vec<Bootstrap> = (0..2)
        .map(|_| Bootstrap::spawn(&common::bootstrap_bin(), &env))
        .collect();
    moto.reset_auth("0");
    emu.wait_next_calls(2);
    let id = emu.push_event(transition("cpu", "ALARM", "OK", &at(-600), None));
    assert_eq!(
        emu.wait_outcome(&id),
        Outcome::Response(r#"{"posted":1}"#.to_string())
    );
    emu.wait_next_calls(3);
    let ts = parents(&emu, CHANNEL).remove(0);
    let before = shown(&emu, CHANNEL, &ts);
    // The parent: the seed line, its buttons, the card below.
    assert_eq!(before["blocks"][0]["block_id"], "seed");
    assert_eq!(buttons(&before), ["ack", "mute", "resolve"]);
    assert_eq!(
        element(&before, "ack").map(|b| b["value"].clone()),
        Some(json!(arn("cpu")))
    );
    let options: Vec<Value> = element(&before, "mute").expect("the mute select")["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["value"].clone())
        .collect();
    assert_eq!(
        options,
        [json!("3600"), json!("14400"), json!("86400"), json!("ok")]
    );
    assert!(element(&before, "resolve").expect("resolve")["confirm"].is_object());
    assert!(before["attachments"][0]["fields"].is_array(), "{before}");
    assert!(marks_line(&before).is_empty());

    let chats = chat_calls(&emu).len();
    let alice = Click::on(&before, CHANNEL, "ack", "U0ALICE").signed(SIGNING_SECRET);
    let bob = Click::on(&before, CHANNEL, "ack", "U0BOB").signed(SIGNING_SECRET);
    let ids = [emu.push_event(alice.event()), emu.push_event(bob.event())];
    let answers: Vec<Answer> = ids
        .iter()
        .map(|id| answer_of(id.clone(), emu.wait_outcome(id)))
        .collect();
    for answer in &answers {
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, ""),
            "{answer:?}"
        );
    }
    emu.wait_next_calls(5);

    let stored = marks_of(&item(&moto, &creds, &arn("cpu")));
    let winner = stored["ack"]["user"].as_str().expect("one acknowledgement");
    let (won, lost, loser) = match winner {
        "U0ALICE" => (&answers[0], &answers[1], "U0BOB"),
        "U0BOB" => (&answers[1], &answers[0], "U0ALICE"),
        other => panic!("acknowledged by {other}"),
    };
    assert_eq!(stored["ack"]["parent"], ts.as_str());
    assert_eq!(
        stored["applied"].as_array().map(Vec::len),
        Some(1),
        "{stored}"
    );
    let calls = chat_calls(&emu);
    let update = only_new(&calls, chats, "chat.update");
    let told = only_new(&calls, chats, "chat.postEphemeral");
    only_new(&calls, chats, "chat.postMessage");
    answered_before(&emu, won, update);
    answered_before(&emu, lost, told);
    let ephemerals = emu.slack_api().ephemerals();
    assert_eq!(ephemerals.len(), 1);
    let Ephemeral {
        user,
        text,
        shown: visible,
        ..
    } = &ephemerals[0];
    assert_eq!(user, loser);
    assert_eq!(
        text.as_deref(),
        Some(format!("Already acknowledged by <@{winner}>.").as_str())
    );
    assert!(visible, "Slack would not show it: {:?}", ephemerals[0]);

    let after = shown(&emu, CHANNEL, &ts);
    assert!(
        marks_line(&after).starts_with(&format!(":eyes: Acknowledged by <@{winner}> after ")),
        "{after}"
    );
    assert_eq!(
        buttons(&after),
        ["mute", "resolve"],
        "no Acknowledge once acknowledged"
    );
    assert_eq!(after["text"], before["text"]);
    assert_eq!(
        after["attachments"], before["attachments"],
        "the card is kept"
    );
    let thread = replies(&emu, CHANNEL, &ts);
    assert_eq!(thread.len(), 1, "{thread:?}");
    assert!(
        thread[0].starts_with(&format!(":eyes: <@{winner}> acknowledged this incident, ")),
        "{thread:?}"
    );

    let mut seen = emu.runtime_bodies();
    for process in &mut list {
        process.kill();
        seen.extend([process.stdout(), process.stderr()]);
    }
    seen.extend(emu.slack_api_calls().into_iter().map(|c| c.body));
    common::assert_no_secrets(&emu, &seen);
    assert!(seen.iter().all(|t| !t.contains(SIGNING_SECRET)));
}

/// Mute until OK: the alarm's later transitions reply in its thread and mention nobody; the
/// next OK ends the mute, and the ALARM after it opens a new parent with the mention again.
/// Slack's retry of the mute click (same click, signed again) is applied once.
#[test]
fn mute_until_ok_keeps_the_alarm_quiet_in_its_thread_until_the_next_ok() {
    let (moto, creds) = moto_with_table();
    let routes = json!({"ROUTES": [{"alarm": ["disk-*"], "channel": CHANNEL,
        "mention": "<@U0ONCALL>"}]});
    let lambda = start(&moto, &creds, secret(routes));
    let emu = &lambda.emu;
    post(
        &lambda,
        transition("disk-full", "ALARM", "OK", &at(-600), None),
    );
    let ts = parents(emu, CHANNEL).remove(0);
    let parent = shown(emu, CHANNEL, &ts);
    assert!(
        parent["text"]
            .as_str()
            .unwrap_or("")
            .contains("<@U0ONCALL>"),
        "{parent}"
    );

    let chats = chat_calls(emu).len();
    let mute = click(emu, CHANNEL, &ts, "mute", "U0ALICE").choose("ok");
    let request = mute.signed(SIGNING_SECRET);
    let answer = accepted(emu, &request);
    let calls = chat_calls(emu);
    answered_before(emu, &answer, only_new(&calls, chats, "chat.update"));
    only_new(&calls, chats, "chat.postMessage");
    let muted = shown(emu, CHANNEL, &ts);
    assert_eq!(marks_line(&muted), ":mute: Muted by <@U0ALICE> until OK");
    assert_eq!(buttons(&muted), ["ack", "unmute", "resolve"]);
    let thread = replies(emu, CHANNEL, &ts);
    assert_eq!(
        thread,
        [":mute: <@U0ALICE> muted this alarm until it is OK: its transitions come to this thread and mention nobody."]
    );
    let key = arn("disk-full");
    let written = item(&moto, &creds, &key);
    let mark = &marks_of(&written)["mute"];
    assert_eq!(mark["user"], "U0ALICE");
    assert!(mark.get("until").is_none(), "until OK: {mark}");

    // Slack sends the click again (our answer was slow): signed anew, the same click.
    let retry = Request::signed(
        request.body.clone(),
        SIGNING_SECRET,
        emulator::click::now_secs(),
    )
    .with_header("x-slack-retry-num", "1")
    .with_header("x-slack-retry-reason", "http_timeout");
    let chats = chat_calls(emu).len();
    accepted(emu, &retry);
    assert_eq!(
        chat_calls(emu).len(),
        chats,
        "{:?}",
        &chat_calls(emu)[chats..]
    );
    assert_eq!(item(&moto, &creds, &key), written, "applied once");

    // Muted: the next transitions reply in the thread without the route's mention.
    post(
        &lambda,
        transition("disk-full", "INSUFFICIENT_DATA", "ALARM", &at(1), None),
    );
    post(
        &lambda,
        transition("disk-full", "ALARM", "INSUFFICIENT_DATA", &at(2), None),
    );
    assert_eq!(
        parents(emu, CHANNEL),
        [ts.as_str()],
        "no new top-level message"
    );
    let thread = replies(emu, CHANNEL, &ts);
    assert_eq!(thread.len(), 3, "{thread:?}");
    assert!(
        thread[2].starts_with("disk-full state is now ALARM: "),
        "{thread:?}"
    );
    assert!(
        thread.iter().all(|r| !r.contains("<@U0ONCALL>")),
        "{thread:?}"
    );
    assert_eq!(
        marks_line(&shown(emu, CHANNEL, &ts)),
        ":mute: Muted by <@U0ALICE> until OK"
    );

    // The OK ends the mute; the next ALARM is a new incident, mentioned again.
    post(
        &lambda,
        transition("disk-full", "OK", "ALARM", &at(3), None),
    );
    assert_eq!(marks_of(&item(&moto, &creds, &key))["mute"], Value::Null);
    let closed = shown(emu, CHANNEL, &ts);
    assert!(!marks_line(&closed).contains("Muted"), "{closed}");
    assert!(
        buttons(&closed).is_empty(),
        "an incident over has no buttons: {closed}"
    );
    post(
        &lambda,
        transition("disk-full", "ALARM", "OK", &at(4), None),
    );
    let all = parents(emu, CHANNEL);
    assert_eq!(all.len(), 2, "{all:?}");
    let reopened = shown(emu, CHANNEL, &all[1]);
    assert!(
        reopened["text"]
            .as_str()
            .unwrap_or("")
            .contains("<@U0ONCALL>"),
        "{reopened}"
    );
    assert_eq!(buttons(&reopened), ["ack", "mute", "resolve"]);
}

/// Mute for an hour outlives the OK: the ALARM after it goes into the thread, not to the
/// top of the channel. Unmute ends it; the next incident opens its own parent.
#[test]
fn mute_for_an_hour_holds_across_an_ok_until_unmuted() {
    let (moto, creds) = moto_with_table();
    let lambda = start(&moto, &creds, secret(json!({})));
    let emu = &lambda.emu;
    post(&lambda, transition("lag", "ALARM", "OK", &at(-120), None));
    let ts = parents(emu, CHANNEL).remove(0);
    let mute = click(emu, CHANNEL, &ts, "mute", "U0ALICE")
        .choose("3600")
        .signed(SIGNING_SECRET);
    let sent = emulator::now_ms() as i64;
    accepted(emu, &mute);
    let done = emulator::now_ms() as i64;
    let until = marks_of(&item(&moto, &creds, &arn("lag")))["mute"]["until"]
        .as_i64()
        .expect("a mute with an end");
    assert!(
        (sent + 3_600_000..=done + 3_600_000).contains(&until),
        "{until} is not an hour after the click ({sent}..{done})"
    );
    assert!(marks_line(&shown(emu, CHANNEL, &ts))
        .starts_with(":mute: Muted by <@U0ALICE> until <!date^"));
    post(&lambda, transition("lag", "OK", "ALARM", &at(1), None));
    post(&lambda, transition("lag", "ALARM", "OK", &at(2), None));
    assert_eq!(parents(emu, CHANNEL), [ts.as_str()], "muted: no new parent");
    let thread = replies(emu, CHANNEL, &ts);
    assert!(
        thread
            .last()
            .is_some_and(|r| r.starts_with("lag state is now ALARM: ")),
        "{thread:?}"
    );

    // Unmute from the parent (it shows Unmute while muted).
    let parent = shown(emu, CHANNEL, &ts);
    assert!(buttons(&parent).contains(&"unmute".to_string()), "{parent}");
    accepted(
        emu,
        &Click::on(&parent, CHANNEL, "unmute", "U0BOB").signed(SIGNING_SECRET),
    );
    assert_eq!(
        marks_of(&item(&moto, &creds, &arn("lag")))["mute"],
        Value::Null
    );
    assert!(replies(emu, CHANNEL, &ts)
        .last()
        .is_some_and(|r| r == ":bell: <@U0BOB> unmuted this alarm."));
    // Unmuting what is not muted changes nothing; the clicker is told.
    let chats = chat_calls(emu).len();
    let before = item(&moto, &creds, &arn("lag"));
    accepted(
        emu,
        &Click::on(&parent, CHANNEL, "unmute", "U0BOB").signed(SIGNING_SECRET),
    );
    let calls = chat_calls(emu);
    assert_eq!(calls.len(), chats + 1, "{:?}", &calls[chats..]);
    only_new(&calls, chats, "chat.postEphemeral");
    assert_eq!(item(&moto, &creds, &arn("lag")), before);
    post(&lambda, transition("lag", "OK", "ALARM", &at(3), None));
    post(&lambda, transition("lag", "ALARM", "OK", &at(4), None));
    assert_eq!(parents(emu, CHANNEL).len(), 2);
}

/// Resolve ends the incident by hand: a RESOLVED entry in the item's log, "Resolved by" on
/// the parent and no buttons; a later transition stays in its thread until an ALARM, which
/// opens a new parent even when it comes from INSUFFICIENT_DATA.
#[test]
fn with_mute_cloudwatch_a_timed_mute_is_an_alarm_mute_rule_until_unmuted() {
    let (moto, creds) = moto_with_table();
    let mut env = env_for(&moto);
    env.push(("MUTE_CLOUDWATCH".to_string(), "true".to_string()));
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let lambda = Lambda::start_with(options(&creds, secret(json!({}))), &set, &[]);
    moto.reset_auth("0");
    let emu = &lambda.emu;
    post(&lambda, transition("lag", "ALARM", "OK", &at(-120), None));
    let ts = parents(emu, CHANNEL).remove(0);
    let started = emulator::click::now_secs();
    accepted(
        emu,
        &click(emu, CHANNEL, &ts, "mute", "U0ALICE")
            .choose("14400")
            .signed(SIGNING_SECRET),
    );
    let rules = emu.cloudwatch().mute_rules();
    assert_eq!(rules.len(), 1, "{rules:?}\n{}", lambda.process.stdout());
    let (name, rule) = rules.iter().next().expect("one rule");
    assert!(name.starts_with("alarm-to-slack-"), "{name}");
    assert_eq!(rule["MuteTargets"]["AlarmNames"], json!(["lag"]));
    let schedule = &rule["Rule"]["Schedule"];
    assert_eq!(schedule["Duration"], "PT4H");
    assert_eq!(schedule["Timezone"], "UTC");
    let expression = schedule["Expression"].as_str().unwrap_or_default();
    let minute = |secs: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).expect("a time");
        format!(
            "at({:04}-{:02}-{:02}T{:02}:{:02})",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    };
    let done = emulator::click::now_secs();
    assert!(
        expression == minute(started) || expression == minute(done),
        "{expression} is not the click's minute"
    );
    // Until OK makes no rule (the OK that ends it would not come); Unmute deletes the rule.
    let parent = shown(emu, CHANNEL, &ts);
    accepted(
        emu,
        &Click::on(&parent, CHANNEL, "unmute", "U0ALICE").signed(SIGNING_SECRET),
    );
    assert!(emu.cloudwatch().mute_rules().is_empty());
    accepted(
        emu,
        &click(emu, CHANNEL, &ts, "mute", "U0ALICE")
            .choose("ok")
            .signed(SIGNING_SECRET),
    );
    assert!(emu.cloudwatch().mute_rules().is_empty());
    let calls: Vec<String> = emu
        .cloudwatch()
        .calls()
        .iter()
        .map(|c| c.operation.clone())
        .collect();
    assert_eq!(calls, ["PutAlarmMuteRule", "DeleteAlarmMuteRule"]);
    assert!(emu
        .cloudwatch()
        .calls()
        .iter()
        .all(|c| c.signature_ok && c.status == 200));
}

#[test]
fn resolve_ends_the_incident_and_the_next_alarm_opens_a_new_parent() {
    let (moto, creds) = moto_with_table();
    let lambda = start(&moto, &creds, secret(json!({})));
    let emu = &lambda.emu;
    post(&lambda, transition("queue", "ALARM", "OK", &at(-300), None));
    let ts = parents(emu, CHANNEL).remove(0);
    let open = shown(emu, CHANNEL, &ts);
    let chats = chat_calls(emu).len();
    let answer = accepted(
        emu,
        &Click::on(&open, CHANNEL, "resolve", "U0ALICE").signed(SIGNING_SECRET),
    );
    let calls = chat_calls(emu);
    answered_before(emu, &answer, only_new(&calls, chats, "chat.update"));
    let resolved = shown(emu, CHANNEL, &ts);
    assert_eq!(
        marks_line(&resolved),
        ":white_check_mark: Resolved by <@U0ALICE>"
    );
    assert!(buttons(&resolved).is_empty(), "{resolved}");
    assert_eq!(resolved["attachments"], open["attachments"]);
    assert_eq!(
        replies(emu, CHANNEL, &ts),
        [":white_check_mark: <@U0ALICE> resolved this incident by hand; the next ALARM opens a new one."]
    );
    let stored = item(&moto, &creds, &arn("queue"));
    let log = log_of(&stored);
    let last = log.last().expect("entries");
    assert_eq!(last["state"], "RESOLVED", "{stored}");
    assert_eq!(marks_of(&stored)["resolved"]["user"], "U0ALICE");

    // A click from a view of the parent taken before: refused, nothing changes.
    let chats = chat_calls(emu).len();
    accepted(
        emu,
        &Click::on(&open, CHANNEL, "ack", "U0BOB").signed(SIGNING_SECRET),
    );
    let calls = chat_calls(emu);
    assert_eq!(calls.len(), chats + 1, "{:?}", &calls[chats..]);
    let told = only_new(&calls, chats, "chat.postEphemeral");
    assert_eq!(told.params["text"], "Already resolved by <@U0ALICE>.");
    assert_eq!(item(&moto, &creds, &arn("queue")), stored);

    post(
        &lambda,
        transition("queue", "INSUFFICIENT_DATA", "ALARM", &at(1), None),
    );
    assert_eq!(parents(emu, CHANNEL), [ts.as_str()]);
    post(
        &lambda,
        transition("queue", "ALARM", "INSUFFICIENT_DATA", &at(2), None),
    );
    let all = parents(emu, CHANNEL);
    assert_eq!(all.len(), 2, "a new parent: {all:?}");
    let new = shown(emu, CHANNEL, &all[1]);
    assert_eq!(buttons(&new), ["ack", "mute", "resolve"]);
    assert!(marks_line(&new).is_empty(), "{new}");
    assert!(
        marks_line(&shown(emu, CHANNEL, &ts)).contains("Resolved by <@U0ALICE>"),
        "the old parent keeps its mark"
    );
}

/// A runbook link button from the alarm's description or a route's template (the route
/// first), none without either; clicking it is answered 200 and does nothing. With
/// SLACK_TEAM_ID and SLACK_APP_ID in the secret, auth.test is never called, and a click of
/// another app is refused.
#[test]
fn runbook_links_come_from_the_route_or_the_description_and_clicking_one_does_nothing() {
    let (moto, creds) = moto_with_table();
    let extra = json!({"SLACK_TEAM_ID": TEAM_ID, "SLACK_APP_ID": APP_ID,
        "ROUTES": [{"alarm": ["api-*"], "channel": CHANNEL,
            "runbook": "https://wiki.example/rb/{alarm}"}]});
    let lambda = start(&moto, &creds, secret(extra));
    let emu = &lambda.emu;
    let described = Some("CPU of the db. Runbook: https://runbooks.example/db-cpu, then page.");
    post(
        &lambda,
        transition("api-latency", "ALARM", "OK", &at(-60), None),
    );
    post(
        &lambda,
        transition("api-errors", "ALARM", "OK", &at(-60), described),
    );
    post(
        &lambda,
        transition("db-cpu", "ALARM", "OK", &at(-60), described),
    );
    post(
        &lambda,
        transition("queue-depth", "ALARM", "OK", &at(-60), Some("no link here")),
    );
    let all = parents(emu, CHANNEL);
    let links: Vec<Option<Value>> = all
        .iter()
        .map(|ts| element(&shown(emu, CHANNEL, ts), "runbook").map(|b| b["url"].clone()))
        .collect();
    assert_eq!(
        links,
        [
            Some(json!("https://wiki.example/rb/api-latency")),
            Some(json!("https://wiki.example/rb/api-errors")),
            Some(json!("https://runbooks.example/db-cpu")),
            None
        ]
    );

    // Slack tells the app of a link click too: a plain 200, nothing else.
    let db = shown(emu, CHANNEL, &all[2]);
    let before = item(&moto, &creds, &arn("db-cpu"));
    let chats = chat_calls(emu).len();
    accepted(
        emu,
        &Click::on(&db, CHANNEL, "runbook", "U0ALICE").signed(SIGNING_SECRET),
    );
    assert_eq!(chat_calls(emu).len(), chats);
    assert_eq!(item(&moto, &creds, &arn("db-cpu")), before);
    // The link stays through an acknowledgement's update.
    accepted(
        emu,
        &Click::on(&db, CHANNEL, "ack", "U0ALICE").signed(SIGNING_SECRET),
    );
    let acked = shown(emu, CHANNEL, &all[2]);
    assert_eq!(buttons(&acked), ["mute", "resolve", "runbook"]);
    assert_eq!(
        element(&acked, "runbook").map(|b| b["url"].clone()),
        Some(json!("https://runbooks.example/db-cpu"))
    );
    // The secret names the app: a click of another one is refused.
    let before = item(&moto, &creds, &arn("db-cpu"));
    let chats = chat_calls(emu).len();
    let other_app = Click::on(&db, CHANNEL, "mute", "U0ALICE")
        .choose("ok")
        .app("A0OTHERAPP")
        .signed(SIGNING_SECRET);
    assert_eq!(send(emu, &other_app).status, 403);
    assert_eq!(chat_calls(emu).len(), chats);
    assert_eq!(item(&moto, &creds, &arn("db-cpu")), before);
    let asked: Vec<String> = emu
        .slack_api_calls()
        .into_iter()
        .map(|c| c.method)
        .filter(|m| m == "auth.test")
        .collect();
    assert!(asked.is_empty(), "the secret names team and app: {asked:?}");
}

/// A route's responders: listed users, and members of a listed user group (asked of
/// `usergroups.users.list`); anyone else is told so and nothing changes. A group Slack no
/// longer knows does not keep the members of another group out.
#[test]
fn only_a_routes_responders_and_their_user_groups_may_act() {
    const PAY: &str = "C0PAYMENTS";
    let (moto, creds) = moto_with_table();
    let routes = json!({"ROUTES": [{"alarm": ["pay-*"], "channel": PAY,
        "responders": ["U0LEAD", "S0GONE", "S0ONCALL"]}]});
    let lambda = start(&moto, &creds, secret(routes));
    let emu = &lambda.emu;
    emu.slack_api().add_channel(PAY, "payments", true);
    emu.slack_api()
        .add_usergroup("S0ONCALL", &["U0CAROL", "U0DAVE"]);
    post(
        &lambda,
        transition("pay-api", "ALARM", "OK", &at(-60), None),
    );
    let ts = parents(emu, PAY).remove(0);
    let key = format!("{}|{PAY}", arn("pay-api"));
    let before = item(&moto, &creds, &key);

    let chats = chat_calls(emu).len();
    let answer = accepted(
        emu,
        &click(emu, PAY, &ts, "ack", "U0MALLORY").signed(SIGNING_SECRET),
    );
    let calls = chat_calls(emu);
    assert_eq!(calls.len(), chats + 1, "{:?}", &calls[chats..]);
    let told = only_new(&calls, chats, "chat.postEphemeral");
    answered_before(emu, &answer, told);
    let ephemerals = emu.slack_api().ephemerals();
    let last = ephemerals.last().expect("an ephemeral");
    assert_eq!(
        (last.user.as_str(), last.text.as_deref()),
        (
            "U0MALLORY",
            Some("Only this channel's responders can do that.")
        )
    );
    assert!(last.shown, "Slack would not show it: {last:?}");
    assert_eq!(item(&moto, &creds, &key), before);
    let groups: Vec<Value> = emu
        .slack_api_calls()
        .into_iter()
        .filter(|c| c.method == "usergroups.users.list")
        .map(|c| c.params["usergroup"].clone())
        .collect();
    assert_eq!(groups, [json!("S0GONE"), json!("S0ONCALL")]);

    // A member of the on-call group mutes; the listed lead acknowledges.
    accepted(
        emu,
        &click(emu, PAY, &ts, "mute", "U0CAROL")
            .choose("14400")
            .signed(SIGNING_SECRET),
    );
    assert_eq!(
        marks_of(&item(&moto, &creds, &key))["mute"]["user"],
        "U0CAROL"
    );
    accepted(
        emu,
        &click(emu, PAY, &ts, "ack", "U0LEAD").signed(SIGNING_SECRET),
    );
    let parent = shown(emu, PAY, &ts);
    let line = marks_line(&parent);
    assert!(line.contains("Acknowledged by <@U0LEAD>"), "{line}");
    assert!(line.contains("Muted by <@U0CAROL>"), "{line}");
    assert_eq!(
        emu.slack_api().ephemerals().len(),
        1,
        "nobody else was refused"
    );
}

/// Without SLACK_SIGNING_SECRET the parents have no buttons and a click, signed or not, is
/// answered 404.
#[test]
fn without_a_signing_secret_there_are_no_buttons_and_clicks_are_404() {
    let (moto, creds) = moto_with_table();
    let plain = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": CHANNEL});
    let lambda = start(&moto, &creds, plain.to_string());
    let emu = &lambda.emu;
    post(&lambda, transition("cpu", "ALARM", "OK", &at(-60), None));
    let ts = parents(emu, CHANNEL).remove(0);
    let parent = shown(emu, CHANNEL, &ts);
    assert!(parent.get("blocks").is_none(), "{parent}");
    // The click of a parent that had buttons, from an earlier configuration.
    let mut with_buttons = parent.clone();
    with_buttons["blocks"] = json!([{"type": "actions", "block_id": "incident",
        "elements": [{"type": "button", "action_id": "ack", "value": arn("cpu")}]}]);
    let before = item(&moto, &creds, &arn("cpu"));
    let calls = emu.slack_api_calls().len();
    let answer = send(
        emu,
        &Click::on(&with_buttons, CHANNEL, "ack", "U0ALICE").signed(SIGNING_SECRET),
    );
    assert_eq!(answer.status, 404, "{answer:?}");
    assert_eq!(emu.slack_api_calls().len(), calls);
    assert_eq!(item(&moto, &creds, &arn("cpu")), before);
}

// ---- bad input ------------------------------------------------------------------------------

/// Every request that must not act, each against an open incident: its status, the item the
/// same, no `chat.*` call (but the ephemeral where the clicker is told why), no secret in
/// anything the process printed or answered (checked when `lambda` drops).
#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let (moto, creds) = moto_with_table();
    let lambda = start(&moto, &creds, secret(json!({})));
    let emu = &lambda.emu;
    // auth.test names the app, so that a click of another app can be told apart.
    emu.slack_api().set_auth_app_id(APP_ID);
    post(&lambda, transition("cpu", "ALARM", "OK", &at(-60), None));
    let ts = parents(emu, CHANNEL).remove(0);
    let key = arn("cpu");
    let parent = shown(emu, CHANNEL, &ts);
    let ack = || Click::on(&parent, CHANNEL, "ack", "U0ALICE");
    let now = emulator::click::now_secs();
    let good = ack().signed(SIGNING_SECRET);
    let signature = good
        .header("x-slack-signature")
        .expect("signed")
        .to_string();
    let timestamp = good
        .header("x-slack-request-timestamp")
        .expect("dated")
        .to_string();
    let tampered = {
        let mut r = good.clone();
        let body = String::from_utf8(r.body.clone()).expect("text");
        assert!(body.contains("U0ALICE"));
        r.body = body.replace("U0ALICE", "U0MALLORY").into_bytes();
        r
    };
    let as_text = Request {
        base64: false,
        base64_flag: Some(true),
        ..good.clone()
    };
    let as_base64_unsaid = Request {
        base64_flag: Some(false),
        ..good.clone()
    };
    let bad_base64 = Request {
        body: b"payload=%7B%22type".to_vec(),
        base64: false,
        base64_flag: Some(true),
        ..good.clone()
    };
    let huge = {
        let mut body = good.body.clone();
        body.extend_from_slice(b"&pad=");
        body.resize(1 << 20, b'x');
        Request::signed(body, SIGNING_SECRET, now)
    };
    let get = Request {
        method: "GET".into(),
        body: Vec::new(),
        ..good.clone()
    };
    let other_path = Request {
        path: "/slack/actions".into(),
        ..good.clone()
    };
    let signed_body = |body: &str| Request::signed(body.as_bytes().to_vec(), SIGNING_SECRET, now);
    let mut not_a_click = ack().payload();
    not_a_click["type"] = "view_submission".into();
    let cases: Vec<(&str, Request, u64)> = vec![
        (
            "unsigned",
            good.clone().without_header("x-slack-signature"),
            401,
        ),
        (
            "no timestamp",
            good.clone().without_header("x-slack-request-timestamp"),
            401,
        ),
        (
            "another secret",
            ack().signed("0123456789abcdef0123456789abcdef"),
            401,
        ),
        (
            "signed 6 minutes ahead",
            ack().signed_at(SIGNING_SECRET, now + 360),
            401,
        ),
        (
            "signed 6 minutes ago",
            ack().signed_at(SIGNING_SECRET, now - 360),
            401,
        ),
        (
            "a replay after 5 minutes",
            ack().signed_at(SIGNING_SECRET, now - 301),
            401,
        ),
        ("tampered after signing", tampered, 401),
        (
            "the signature twice",
            good.clone().with_header("x-slack-signature", &signature),
            401,
        ),
        (
            "a forged signature beside the right one",
            good.clone().with_header("x-slack-signature", "v0=0000"),
            401,
        ),
        (
            "the timestamp twice",
            good.clone()
                .with_header("x-slack-request-timestamp", &timestamp),
            401,
        ),
        ("base64 said, text sent", as_text, 400),
        ("base64 sent, not said", as_base64_unsaid, 401),
        ("not base64 at all", bad_base64, 400),
        ("1 MB", huge, 413),
        ("GET", get, 405),
        ("another path", other_path, 404),
        (
            "unknown action",
            Click::on(&parent, CHANNEL, "delete_everything", "U0ALICE").signed(SIGNING_SECRET),
            400,
        ),
        (
            "a mute not offered",
            Click::on(&parent, CHANNEL, "mute", "U0ALICE")
                .choose("5")
                .signed(SIGNING_SECRET),
            400,
        ),
        ("no payload field", signed_body("text=hello"), 400),
        (
            "a payload that is not JSON",
            signed_body("payload=%7Bnot+json"),
            400,
        ),
        (
            "not block_actions",
            signed_body(&format!(
                "payload={}",
                emulator::click::form_encode(&not_a_click.to_string())
            )),
            400,
        ),
        (
            "another workspace",
            ack().team("T0OTHERTEAM").signed(SIGNING_SECRET),
            403,
        ),
        (
            "another app",
            ack().app("A0OTHERAPP").signed(SIGNING_SECRET),
            403,
        ),
    ];
    let before = item(&moto, &creds, &key);
    let chats = chat_calls(emu).len();
    for (what, request, status) in &cases {
        let answer = send(emu, request);
        assert_eq!(answer.status, *status, "{what}: {answer:?}");
        assert!(!answer.body.is_empty(), "{what}: a refusal says why");
        // In our words: nothing of the request, nor a secret.
        for echo in [
            SIGNING_SECRET,
            DEFAULT_BOT_TOKEN,
            &signature,
            "U0MALLORY",
            "view_submission",
        ] {
            assert!(!answer.body.contains(echo), "{what}: {answer:?}");
        }
        assert_eq!(item(&moto, &creds, &key), before, "{what} changed the item");
        let calls = chat_calls(emu);
        assert_eq!(calls.len(), chats, "{what}: {:?}", &calls[chats..]);
    }
    let asked: Vec<String> = emu
        .slack_api_calls()
        .into_iter()
        .map(|c| c.method)
        .filter(|m| !m.starts_with("chat."))
        .collect();
    assert_eq!(
        asked,
        ["auth.test"],
        "one auth.test, for the first signed click"
    );

    // Signed and ours, but on no open incident: answered, and the clicker told why.
    let unknown = ack()
        .value(Some(&arn("never-fired")))
        .signed(SIGNING_SECRET);
    let answer = accepted(emu, &unknown);
    let calls = chat_calls(emu);
    assert_eq!(calls.len(), chats + 1, "{:?}", &calls[chats..]);
    answered_before(emu, &answer, only_new(&calls, chats, "chat.postEphemeral"));
    assert_eq!(item(&moto, &creds, &arn("never-fired")), Value::Null);
    assert_eq!(item(&moto, &creds, &key), before);
    post(&lambda, transition("cpu", "OK", "ALARM", &at(1), None));
    let closed = item(&moto, &creds, &key);
    let chats = chat_calls(emu).len();
    for action in ["ack", "resolve"] {
        accepted(
            emu,
            &Click::on(&parent, CHANNEL, action, "U0ALICE").signed(SIGNING_SECRET),
        );
    }
    let calls = chat_calls(emu);
    let methods: Vec<&str> = calls[chats..].iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, ["chat.postEphemeral", "chat.postEphemeral"]);
    for call in &calls[chats..] {
        assert_eq!(
            call.params["text"],
            "This incident is over: there is nothing to do on it."
        );
    }
    assert_eq!(item(&moto, &creds, &key), closed);
    let texts: Vec<String> = emu
        .slack_api()
        .ephemerals()
        .into_iter()
        .filter_map(|e| e.text)
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    lambda
        .process
        .wait_output("a Function URL request was refused");
}

/// The GuardDuty finding of `events/`, as EventBridge sends it `offset` seconds from now,
/// with this event id and count.
fn finding(offset: i64, id: &str, count: u64) -> Vec<u8> {
    let mut event: Value =
        serde_json::from_slice(&common::sample("eventbridge-guardduty-finding")).expect("json");
    event["id"] = id.into();
    event["time"] = at(offset).replace(".000+0000", "Z").into();
    event["detail"]["service"]["count"] = count.into();
    event.to_string().into_bytes()
}

#[test]
fn a_notice_incident_has_the_buttons_and_resolving_it_ends_it() {
    let (moto, creds) = moto_with_table();
    let lambda = start(&moto, &creds, secret(json!({})));
    let emu = &lambda.emu;
    post(&lambda, finding(-300, "e-1", 1));
    let ts = parents(emu, CHANNEL).remove(0);
    let open = shown(emu, CHANNEL, &ts);
    assert_eq!(buttons(&open), ["ack", "mute", "resolve"], "{open}");
    accepted(
        emu,
        &Click::on(&open, CHANNEL, "ack", "U0ALICE").signed(SIGNING_SECRET),
    );
    let acked = shown(emu, CHANNEL, &ts);
    assert!(marks_line(&acked).contains("<@U0ALICE>"), "{acked}");
    accepted(
        emu,
        &Click::on(&acked, CHANNEL, "resolve", "U0ALICE").signed(SIGNING_SECRET),
    );
    let said = replies(emu, CHANNEL, &ts);
    assert_eq!(
        said.last().map(String::as_str),
        Some(":white_check_mark: <@U0ALICE> resolved this incident by hand; the next event that opens it opens a new one."),
        "{said:?}"
    );
    let key = "aws.guardduty|7ac8e1f2b3d4c5a6978812ab34cd56ef";
    let stored = item(&moto, &creds, key);
    assert_eq!(marks_of(&stored)["resolved"]["user"], "U0ALICE", "{stored}");
    // Seen again after the Resolve: a new incident, with its own buttons.
    post(&lambda, finding(5, "e-2", 2));
    let all = parents(emu, CHANNEL);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        buttons(&shown(emu, CHANNEL, &all[1])),
        ["ack", "mute", "resolve"]
    );
}
