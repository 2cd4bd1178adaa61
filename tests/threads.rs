//! Incidents as threads, end to end: the release bootstrap in app mode, with its incident
//! store in moto_server's DynamoDB (real conditional expressions, IAM checks on, an assumed
//! role's temporary credentials) and Slack's Web API from our emulator's stand-in.

use common::{alarm_message, expect_response, sns, Lambda};
use emulator::slack_api::{ApiMessage, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
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

fn moto_with_table(actions: &[&str]) -> (Moto, Credentials) {
    Moto::with_incident_table(TABLE, actions)
}

fn options(creds: &Credentials) -> Options {
    Options {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        secret_string: Some(
            json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID})
                .to_string(),
        ),
        ..Options::default()
    }
}

/// Secrets Manager stays our emulator's (it checks SigV4 with the same credentials); DynamoDB
/// is moto's. Storm grouping off: these tests open dozens of parents in one channel on
/// purpose (tests/storms.rs has the storms).
fn env_for(moto: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("INCIDENT_TABLE", TABLE.to_string()),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.url()),
        ("STORM_THRESHOLD", "0".to_string()),
    ]
}

fn start(moto: &Moto, creds: &Credentials) -> Lambda {
    let env = env_for(moto);
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lambda = Lambda::start_with(options(creds), &set, &[]);
    moto.reset_auth("0");
    lambda
}

/// An SNS alarm event for `name` entering `state` at `at` (CloudWatch's timestamp form).
fn transition(name: &str, state: &str, old: &str, at: &str) -> Vec<u8> {
    let mut message: Value = serde_json::from_str(&alarm_message(name, state)).expect("json");
    message["OldStateValue"] = old.into();
    message["StateChangeTime"] = at.into();
    sns(&[(&message.to_string(), Some(state))])
}

fn messages(lambda: &Lambda) -> Vec<ApiMessage> {
    lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID)
}

fn text(m: &ApiMessage) -> String {
    m.text.clone().unwrap_or_default()
}

/// The card's `Incident` field of a message's latest version.
fn incident_field(m: &ApiMessage) -> Option<String> {
    let fields = m
        .attachments
        .as_ref()?
        .get(0)?
        .get("fields")?
        .as_array()?
        .clone();
    fields
        .iter()
        .find(|f| f["title"] == "Incident")
        .and_then(|f| f["value"].as_str())
        .map(str::to_string)
}

fn item(moto: &Moto, creds: &Credentials, key: &str) -> Value {
    moto.incident_item(creds, TABLE, key)
}

/// The item's transitions (its `log`, in time order), each as JSON.
fn log_of(item: &Value) -> Vec<Value> {
    let log = item["log"]["S"].as_str().unwrap_or("[]");
    serde_json::from_str(log).expect("the item's log is JSON")
}

fn arn(name: &str) -> String {
    format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")
}

fn assert_posted(lambda: &Lambda, event: Vec<u8>) {
    assert_eq!(expect_response(lambda.invoke(event)), r#"{"posted":1}"#);
}

#[test]
fn alarm_then_ok_is_one_parent_one_reply_and_a_resolved_parent() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    assert_posted(
        &lambda,
        transition("cpu", "ALARM", "OK", "2026-11-30T10:00:00.000+0000"),
    );
    assert_posted(
        &lambda,
        transition("cpu", "OK", "ALARM", "2026-11-30T10:14:00.000+0000"),
    );
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "one parent: {all:?}");
    let parent = &all[0];
    assert!(
        text(parent).starts_with("cpu state is now OK: "),
        "{}",
        text(parent)
    );
    assert_eq!(parent.updates(), 1);
    assert_eq!(
        incident_field(parent).as_deref(),
        Some("Resolved after 14 min")
    );
    assert_eq!(
        parent.attachments.as_ref().map(|a| a[0]["color"].clone()),
        Some("good".into())
    );
    assert_eq!(parent.replies.len(), 1);
    assert!(text(&parent.replies[0]).starts_with("cpu state is now OK: "));
    let stored = item(&moto, &creds, &arn("cpu"));
    let log = log_of(&stored);
    let placed: Vec<(&str, &str, bool)> = log
        .iter()
        .map(|e| {
            let (state, ts) = (e["state"].as_str(), e["ts"].as_str());
            (state.unwrap_or(""), ts.unwrap_or(""), e["top"] == true)
        })
        .collect();
    let parent_ts = parent.ts.as_str();
    assert_eq!(
        placed,
        [("ALARM", parent_ts, true), ("OK", parent_ts, false)]
    );
    assert!(log.iter().all(|e| e.get("claim").is_none()), "{stored}");
    assert!(stored["expires"]["N"].as_str().is_some(), "{stored}");
    lambda.assert_none_in(&[moto.output()]);
}

#[test]
fn the_graph_goes_into_the_incident_thread_once() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let mut env = env_for(&moto);
    env.push(("METRIC_GRAPH", "image".to_string()));
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lambda = Lambda::start_with(options(&creds), &set, &[]);
    moto.reset_auth("0");
    let alarm = transition("graphed", "ALARM", "OK", "2026-11-30T10:00:00Z");
    assert_posted(&lambda, alarm.clone());
    let parent = messages(&lambda).remove(0);
    let files = lambda.emu.slack_api().files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].channel.as_deref(), Some(DEFAULT_CHANNEL_ID));
    assert_eq!(files[0].thread_ts.as_deref(), Some(parent.ts.as_str()));
    // The event again (a Lambda retry): nothing posted, no second graph.
    assert_eq!(expect_response(lambda.invoke(alarm)), r#"{"posted":0}"#);
    assert_eq!(lambda.emu.slack_api().files().len(), 1);
}

#[test]
fn every_later_state_replies_and_the_next_alarm_opens_a_new_incident() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    for (state, old, at) in [
        ("ALARM", "OK", "2026-11-30T10:00:00Z"),
        ("INSUFFICIENT_DATA", "ALARM", "2026-11-30T10:05:00Z"),
        ("ALARM", "INSUFFICIENT_DATA", "2026-11-30T10:10:00Z"),
    ] {
        assert_posted(&lambda, transition("db", state, old, at));
    }
    let open = &messages(&lambda)[0];
    assert_eq!(open.replies.len(), 2);
    assert_eq!(incident_field(open).as_deref(), Some("Firing for 10 min"));
    assert_eq!(open.updates(), 2);
    assert_posted(
        &lambda,
        transition("db", "OK", "ALARM", "2026-11-30T11:05:00Z"),
    );
    assert_posted(
        &lambda,
        transition("db", "ALARM", "OK", "2026-11-30T12:00:00Z"),
    );
    let all = messages(&lambda);
    assert_eq!(all.len(), 2, "the second ALARM opens a new thread");
    assert_eq!(all[0].replies.len(), 3);
    assert_eq!(
        incident_field(&all[0]).as_deref(),
        Some("Resolved after 1 h 5 min")
    );
    assert!(all[1].replies.is_empty());
    let log = log_of(&item(&moto, &creds, &arn("db")));
    let newest = log.last().expect("a transition");
    assert_eq!(
        (newest["ts"].as_str(), newest["top"].as_bool()),
        (Some(all[1].ts.as_str()), Some(true))
    );
}

/// Invariant I2: the OK (+5 min) is delivered first and posted; its ALARM arrives late. The
/// ALARM goes into the OK's thread saying it is late, and nothing top-level shows ALARM.
#[test]
fn an_alarm_delivered_after_its_ok_goes_into_the_thread_marked_late() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    assert_posted(
        &lambda,
        transition("late", "OK", "ALARM", "2026-11-30T10:05:00Z"),
    );
    assert_posted(
        &lambda,
        transition("late", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "one top-level message: {all:?}");
    assert!(text(&all[0]).starts_with("late state is now OK: "));
    assert_eq!(all[0].updates(), 0, "the parent keeps showing OK");
    assert_eq!(all[0].replies.len(), 1);
    let reply = text(&all[0].replies[0]);
    assert!(reply.starts_with("late state is now ALARM: "), "{reply}");
    assert!(
        reply.ends_with("\n_(arrived late: the alarm is OK now)_"),
        "{reply}"
    );
}

/// An item written by the previous version of the function (its `status`/`seen` schema):
/// read, not failed; a transition it saw is not posted again, and the next write replaces it.
#[test]
fn an_item_of_the_previous_version_is_honoured_and_replaced() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let put = moto.signed(
        &Credentials::fixture(),
        "dynamodb",
        "application/x-amz-json-1.0",
        &[("X-Amz-Target", "DynamoDB_20120810.PutItem")],
        json!({"TableName": TABLE, "Item": {
            "alarm": {"S": arn("legacy")}, "status": {"S": "closed"}, "state": {"S": "OK"},
            "changed": {"N": "1796033100"}, "expires": {"N": "1798625100"},
            "seen": {"SS": ["OK@2026-11-30T10:05:00Z"]}}})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    let lambda = start(&moto, &creds);
    let ok = transition("legacy", "OK", "ALARM", "2026-11-30T10:05:00Z");
    assert_eq!(expect_response(lambda.invoke(ok)), r#"{"posted":0}"#);
    assert_posted(
        &lambda,
        transition("legacy", "ALARM", "OK", "2026-11-30T11:00:00Z"),
    );
    assert_eq!(messages(&lambda).len(), 1);
    let stored = item(&moto, &creds, &arn("legacy"));
    assert!(
        stored.get("status").is_none() && stored.get("seen").is_none(),
        "{stored}"
    );
    assert_eq!(log_of(&stored).len(), 2);
}

#[test]
fn a_transition_while_another_instance_opens_the_incident_waits_for_its_thread() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    // Another instance claimed the incident for a newer ALARM and is posting its parent,
    // for another minute: a claim with no `ts` yet (it never comes here).
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        + 60_000;
    let log = json!([{"id": "ALARM@2026-11-30T10:00:30Z", "state": "ALARM", "old": "OK",
        "at": 1_796_032_830_000_u64, "claim": "other-instance", "until": until}]);
    let claimed = moto.signed(
        &Credentials::fixture(),
        "dynamodb",
        "application/x-amz-json-1.0",
        &[("X-Amz-Target", "DynamoDB_20120810.PutItem")],
        json!({"TableName": TABLE, "Item": {
            "alarm": {"S": arn("opening")}, "v": {"N": "1"}, "log": {"S": log.to_string()}}})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let lambda = start(&moto, &creds);
    // An older ALARM: not posted as a stale message of its own at once, but held for the
    // thread; when the parent does not come within the store's share of the time, posted
    // on its own with a WARN that says why.
    assert_posted(
        &lambda,
        transition("opening", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    lambda
        .process
        .wait_output("another instance is posting this incident's parent");
    assert_eq!(messages(&lambda).len(), 1);
}

#[test]
fn the_same_event_delivered_twice_is_posted_once() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    let alarm = transition("twice", "ALARM", "OK", "2026-11-30T10:00:00Z");
    let ok = transition("twice", "OK", "ALARM", "2026-11-30T10:01:00Z");
    // A delivered event leaves nothing in the instance's memory: the store knows it.
    let answers: Vec<String> = [&alarm, &alarm, &ok, &ok]
        .into_iter()
        .map(|event| expect_response(lambda.invoke(event.clone())))
        .collect();
    let (posted, again) = (r#"{"posted":1}"#, r#"{"posted":0}"#);
    assert_eq!(answers, [posted, again, posted, again]);
    lambda.process.wait_output("posted already");
    let all = messages(&lambda);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].replies.len(), 1);
    assert_eq!(all[0].updates(), 1);
}

#[test]
fn a_lost_answer_to_the_parent_is_found_and_not_posted_twice() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    lambda.emu.slack_api().lose_answer_next("chat.postMessage");
    assert_posted(
        &lambda,
        transition("lost", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    assert_posted(
        &lambda,
        transition("lost", "OK", "ALARM", "2026-11-30T10:02:00Z"),
    );
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].replies.len(), 1, "the OK found its thread");
}

#[test]
fn dynamodb_denied_or_unreachable_still_posts_the_alarm() {
    // The role may not use DynamoDB at all.
    let (moto, creds) = moto_with_table(&["secretsmanager:GetSecretValue"]);
    let lambda = start(&moto, &creds);
    assert_posted(
        &lambda,
        transition("nostore", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    assert_eq!(messages(&lambda).len(), 1);
    // The log is read from the process's pipe as it comes: wait for the line, not for luck.
    lambda.process.wait_output("DynamoDB.AccessDenied");
    let log = lambda.process.stdout();
    assert!(
        log.contains("WARN") && log.contains("DynamoDB.AccessDenied"),
        "{log}"
    );
    // A DynamoDB that cannot be reached at all.
    let gone = Lambda::start_with(
        options(&creds),
        &[
            ("INCIDENT_TABLE", TABLE),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1"),
        ],
        &[],
    );
    assert_posted(
        &gone,
        transition("nostore", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    assert_eq!(messages(&gone).len(), 1);
    gone.process.wait_output("DynamoDB.Unreachable");
}

/// Several bootstraps against one emulator and one moto.
/// The emulator and `n` bootstraps serving it.
fn processes(moto: &Moto, creds: &Credentials, n: usize) -> (Emulator, Vec<Bootstrap>) {
    let emu = Emulator::start(options(creds));
    let mut env = env_for(moto);
    // Races, not pace: the channel's turns among instances are tests/storms.rs's.
    env.push(("SLACK_PACE_MILLISECONDS", "0".to_string()));
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env = common::env_with(&emu, &set, &[]);
    let list = (0..n)
        .map(|_| Bootstrap::spawn(&common::bootstrap_bin(), &env))
        .collect();
    moto.reset_auth("0");
    (emu, list)
}

fn settle(emu: &Emulator, ids: &[String]) {
    for id in ids {
        assert!(
            matches!(emu.wait_outcome(id), Outcome::Response(_)),
            "{id} failed"
        );
    }
}

#[test]
fn two_instances_racing_on_one_alarm_open_one_parent() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let (emu, mut list) = processes(&moto, &creds, 2);
    emu.wait_next_calls(2);
    // Two ALARMs of one incident (the second after a moment of INSUFFICIENT_DATA): a second
    // ALARM that left OK would rightly open an incident of its own.
    let ids: Vec<String> = [
        ("OK", "2026-11-30T10:00:00Z"),
        ("INSUFFICIENT_DATA", "2026-11-30T10:00:30Z"),
    ]
    .iter()
    .map(|(old, at)| emu.push_event(transition("race", "ALARM", old, at)))
    .collect();
    settle(&emu, &ids);
    let all = emu.slack_api().messages(DEFAULT_CHANNEL_ID);
    assert_eq!(all.len(), 1, "exactly one parent: {all:?}");
    assert_eq!(all[0].replies.len(), 1, "the other replied in its thread");
    for process in &mut list {
        process.kill();
    }
}

#[test]
fn a_storm_of_interleaved_alarms_loses_nothing_and_opens_no_parent_twice() {
    const ALARMS: usize = 40;
    let (moto, creds) = moto_with_table(&ACTIONS);
    let (emu, mut list) = processes(&moto, &creds, 4);
    emu.wait_next_calls(4);
    let name = |i: usize| format!("storm-{i:02}");
    let alarms: Vec<String> = (0..ALARMS)
        .map(|i| emu.push_event(transition(&name(i), "ALARM", "OK", "2026-11-30T10:00:00Z")))
        .collect();
    settle(&emu, &alarms);
    let oks: Vec<String> = (0..ALARMS)
        .map(|i| emu.push_event(transition(&name(i), "OK", "ALARM", "2026-11-30T10:03:00Z")))
        .collect();
    settle(&emu, &oks);
    let all = emu.slack_api().messages(DEFAULT_CHANNEL_ID);
    assert_eq!(all.len(), ALARMS, "one parent per alarm");
    for i in 0..ALARMS {
        let parents: Vec<&ApiMessage> = all
            .iter()
            .filter(|m| text(m).starts_with(&format!("{} state is now", name(i))))
            .collect();
        assert_eq!(parents.len(), 1, "{}", name(i));
        assert_eq!(
            parents[0].replies.len(),
            1,
            "{}: the OK in its thread",
            name(i)
        );
        assert_eq!(
            incident_field(parents[0]).as_deref(),
            Some("Resolved after 3 min")
        );
    }
    for process in &mut list {
        process.kill();
        assert!(!process.stdout().contains("xoxb-"));
    }
}

/// Issue 22: a warm instance makes one DynamoDB round trip before each post, opening ALARM
/// and later transition alike: the claim, conditional on the version it remembers, and
/// beside it the channel's turn. Proved by
/// what moto recorded: no read, and one write before the write that stores the post's `ts`
/// (which only exists once Slack answered).
#[test]
fn a_warm_transition_makes_one_dynamodb_call_before_its_post() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    // Warm: the secret cached, this alarm's record remembered.
    assert_posted(
        &lambda,
        transition("warm", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    assert_posted(
        &lambda,
        transition("warm", "OK", "ALARM", "2026-11-30T10:05:00Z"),
    );
    let mut helpers = Vec::new();
    for (state, old, at) in [
        ("ALARM", "OK", "2026-11-30T11:00:00Z"),
        ("OK", "ALARM", "2026-11-30T11:03:00Z"),
    ] {
        moto.start_recording();
        assert_posted(&lambda, transition("warm", state, old, at));
        helpers.push(helper_threads(lambda.process.pid()));
        let calls: Vec<(String, String)> = moto
            .recorded()
            .into_iter()
            .filter_map(|r| {
                let target = r
                    .header("X-Amz-Target")?
                    .strip_prefix("DynamoDB_20120810.")?;
                Some((target.to_string(), r.body))
            })
            .collect();
        // Beside the claim, and before the post, the channel's turn among instances (issue
        // 25): a write of its own item, made on a helper thread.
        let turn = |(_, body): &(String, String)| body.contains(r#"{"S":"pace|C0ALERTS"}"#);
        let turns: Vec<usize> = (0..calls.len()).filter(|&i| turn(&calls[i])).collect();
        assert_eq!(turns.len(), 1, "{state}: one turn taken: {calls:?}");
        assert!(
            turns[0] < calls.len() - 1,
            "{state}: the turn before the post"
        );
        let calls: Vec<(String, String)> = calls.into_iter().filter(|c| !turn(c)).collect();
        let targets: Vec<&str> = calls.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(targets, ["UpdateItem", "UpdateItem"], "{state}: {calls:?}");
        let id = format!("{state}@{at}");
        let entry = |body: &str| -> Value {
            let request: Value = serde_json::from_str(body).expect("JSON request");
            let log = request["ExpressionAttributeValues"][":log"]["S"]
                .as_str()
                .unwrap_or("[]");
            let log: Vec<Value> = serde_json::from_str(log).expect("log");
            log.into_iter()
                .find(|e| e["id"] == id.as_str())
                .unwrap_or_default()
        };
        let (claim, stored) = (entry(&calls[0].1), entry(&calls[1].1));
        assert!(
            claim["claim"].is_string() && claim.get("ts").is_none(),
            "{claim}"
        );
        let thread = messages(&lambda).last().expect("a parent").ts.clone();
        assert_eq!(stored["ts"].as_str(), Some(thread.as_str()), "{stored}");
        assert!(stored.get("claim").is_none(), "{stored}");
    }
    // The turns ran on a helper thread kept between invocations, not on one started for
    // each: the same helper is there after both.
    assert!(!helpers[0].is_empty(), "no helper thread");
    assert_eq!(helpers[0], helpers[1], "a helper started or ended");
    let all = messages(&lambda);
    assert_eq!(all.len(), 2, "two incidents");
    assert_eq!(all[1].replies.len(), 1);
}

/// The bootstrap's helper threads (`src/beside.rs`), by thread id.
fn helper_threads(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the bootstrap's threads");
    let mut ids: Vec<String> = tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            (name.trim_end() == "beside").then(|| task.file_name().to_string_lossy().into_owned())
        })
        .collect();
    ids.sort();
    ids
}

/// A cold start claims the first alarm's transition in its default-channel incident while
/// the secret is fetched, and counts it in that channel's storm window. When a route sends
/// the alarm elsewhere, both are given back: the default incident keeps no claim that nothing
/// will ever post, the default channel is no nearer a storm, and the routed channel gets its
/// own incident and count.
#[test]
fn a_claim_made_ahead_of_the_secret_is_given_back_when_a_route_sends_the_alarm_elsewhere() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let mut env = env_for(&moto);
    // Storm grouping on, as by default.
    env.retain(|(k, _)| *k != "STORM_THRESHOLD");
    let set: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID,
        "ROUTES": [{"alarm": ["pay-*"], "channel": "C0PAYMENTS"}]});
    let lambda = Lambda::start_with(
        Options {
            secret_string: Some(secret.to_string()),
            ..options(&creds)
        },
        &set,
        &[],
    );
    moto.reset_auth("0");
    lambda
        .emu
        .slack_api()
        .add_channel("C0PAYMENTS", "payments", true);
    assert_posted(
        &lambda,
        transition("pay-db", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    // Claimed (version 1) while the secret was fetched, then given back (version 2).
    let default = item(&moto, &creds, &arn("pay-db"));
    assert_eq!(default["v"]["N"], "2", "{default}");
    assert!(
        log_of(&default).is_empty(),
        "the default incident keeps nothing: {default}"
    );
    let routed = item(&moto, &creds, &format!("{}|C0PAYMENTS", arn("pay-db")));
    let log = log_of(&routed);
    assert_eq!(log.len(), 1, "{routed}");
    assert!(
        log[0]["top"] == true && log[0].get("claim").is_none(),
        "{routed}"
    );
    assert_eq!(lambda.emu.slack_api().messages("C0PAYMENTS").len(), 1);
    assert!(messages(&lambda).is_empty());
    // Storm grouping is on: the new incident was counted in the default channel's window
    // beside the claim, and taken back from it; the routed channel counts its own.
    let default = item(&moto, &creds, "storm|");
    assert_eq!(default["n"], json!({"N": "0"}), "{default}");
    let routed = item(&moto, &creds, "storm|C0PAYMENTS");
    assert_eq!(routed["n"], json!({"N": "1"}), "{routed}");
}

/// Found by the randomized test: a reply whose answer was lost was looked for in the
/// channel's history, where replies are not, and posted again. It is looked for in its
/// thread (`conversations.replies`).
#[test]
fn a_lost_answer_to_a_reply_is_found_in_its_thread_and_not_posted_twice() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    assert_posted(
        &lambda,
        transition("lost-reply", "ALARM", "OK", "2026-11-30T10:00:00Z"),
    );
    lambda.emu.slack_api().lose_answer_next("chat.postMessage");
    assert_posted(
        &lambda,
        transition("lost-reply", "OK", "ALARM", "2026-11-30T10:02:00Z"),
    );
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].replies.len(), 1, "the OK once, in the thread");
    let looked: Vec<String> = lambda
        .emu
        .slack_api()
        .calls()
        .into_iter()
        .map(|c| c.method)
        .filter(|m| m.starts_with("conversations."))
        .collect();
    assert_eq!(looked, ["conversations.replies"]);
}

/// An event of `events/`, with `edit` applied to its JSON.
fn sample(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&common::sample(name)).expect("an event is JSON");
    edit(&mut event);
    event.to_string().into_bytes()
}

fn color(m: &ApiMessage) -> Option<String> {
    let card = m.attachments.as_ref()?.get(0)?;
    card["color"].as_str().map(str::to_string)
}

#[test]
fn a_guardduty_finding_seen_again_replies_in_its_thread_and_updates_the_parent() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    let first = sample("eventbridge-guardduty-finding", |_| {});
    assert_posted(&lambda, first.clone());
    let again = sample("eventbridge-guardduty-finding", |e| {
        e["id"] = "d3b8f6e2-4c5a-4b7f-8e9d-2a1b3c4d5e6f".into();
        e["time"] = "2026-11-28T09:45:00Z".into();
        e["detail"]["service"]["count"] = 5.into();
    });
    assert_posted(&lambda, again.clone());
    // Delivered twice (a retry, or two subscriptions): posted once.
    assert_eq!(expect_response(lambda.invoke(again)), r#"{"posted":0}"#);
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "one parent: {all:?}");
    let parent = &all[0];
    assert_eq!(parent.replies.len(), 1);
    assert!(
        text(&parent.replies[0]).contains("(seen 5 times)"),
        "{parent:?}"
    );
    assert_eq!(parent.updates(), 1, "the parent shows the newest count");
    assert!(text(parent).contains("(seen 5 times)"), "{parent:?}");
    let stored = item(
        &moto,
        &creds,
        "aws.guardduty|7ac8e1f2b3d4c5a6978812ab34cd56ef",
    );
    assert_eq!(log_of(&stored).len(), 2, "{stored}");
}

#[test]
fn a_health_event_closed_resolves_its_thread_whatever_the_order() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    let open = sample("eventbridge-health-event", |_| {});
    let closed = sample("sns-eventbridge-health-event-closed", |_| {});
    assert_posted(&lambda, open.clone());
    assert_posted(&lambda, closed.clone());
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].replies.len(), 1);
    assert_eq!(
        color(&all[0]).as_deref(),
        Some("good"),
        "the parent is resolved"
    );
    assert!(
        incident_field(&all[0]).is_some_and(|w| w.starts_with("Resolved")),
        "{:?}",
        incident_field(&all[0])
    );

    // The other way round, in another channel's worth of state (a new event ARN): the
    // closed event opens the thread, and the open one goes into it, marked late.
    let arn = "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/LATE";
    let set_arn = |e: &mut Value| {
        if let Some(message) = e["Records"][0]["Sns"]["Message"].as_str() {
            let mut inner: Value = serde_json::from_str(message).expect("json");
            inner["detail"]["eventArn"] = arn.into();
            e["Records"][0]["Sns"]["Message"] = inner.to_string().into();
        } else {
            e["detail"]["eventArn"] = arn.into();
        }
    };
    assert_posted(
        &lambda,
        sample("sns-eventbridge-health-event-closed", set_arn),
    );
    assert_posted(&lambda, sample("eventbridge-health-event", set_arn));
    let all = messages(&lambda);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1].replies.len(), 1);
    assert!(
        text(&all[1].replies[0]).contains("arrived late"),
        "{:?}",
        all[1]
    );
    assert_eq!(color(&all[1]).as_deref(), Some("good"));
}

#[test]
fn custom_notifications_with_one_thread_id_share_one_thread() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    assert_posted(&lambda, sample("amazon-q-custom-notification", |_| {}));
    let second = sample("amazon-q-custom-notification", |e| {
        e["id"] = "5d1e9f0a-7b2c-4e3d-8f4a-0b1c2d3e4f5a".into();
        e["content"]["description"] = "Error rate back under 1 %.".into();
    });
    assert_posted(&lambda, second);
    // Another thread id: a message of its own.
    let other = sample("amazon-q-custom-notification", |e| {
        e["id"] = "6e2f0a1b-8c3d-4f4e-9a5b-1c2d3e4f5a6b".into();
        e["metadata"]["threadId"] = "another-thread".into();
    });
    assert_posted(&lambda, other);
    let all = messages(&lambda);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].replies.len(), 1);
    assert!(
        text(&all[0].replies[0]).contains("back under 1 %")
            || format!("{:?}", all[0].replies[0]).contains("back under 1 %")
    );
}

#[test]
fn a_pipelines_success_resolves_its_failure_and_alone_posts_nothing() {
    let (moto, creds) = moto_with_table(&ACTIONS);
    let lambda = start(&moto, &creds);
    let succeeded = || sample("sns-eventbridge-codepipeline-succeeded", |_| {});
    // Routine, with no failure to resolve: nothing, not even a message of its own.
    assert_eq!(
        expect_response(lambda.invoke(succeeded())),
        r#"{"posted":0}"#
    );
    lambda
        .process
        .wait_output("no open thread for this routine notice");
    assert!(messages(&lambda).is_empty());

    assert_posted(&lambda, sample("eventbridge-codepipeline-failed", |_| {}));
    let later = sample("sns-eventbridge-codepipeline-succeeded", |e| {
        let message = e["Records"][0]["Sns"]["Message"]
            .as_str()
            .expect("a message");
        let mut inner: Value = serde_json::from_str(message).expect("json");
        inner["id"] = "b8e4c2d0-6f3a-4b9c-a7d5-1e0f9a8b7c6d".into();
        e["Records"][0]["Sns"]["Message"] = inner.to_string().into();
    });
    assert_posted(&lambda, later);
    let all = messages(&lambda);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        all[0].replies.len(),
        1,
        "the success replies in the failure's thread"
    );
    assert_eq!(color(&all[0]).as_deref(), Some("good"), "{:?}", all[0]);
    assert!(
        incident_field(&all[0]).is_some_and(|w| w.starts_with("Resolved")),
        "{:?}",
        incident_field(&all[0])
    );
}
