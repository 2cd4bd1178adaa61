//! Alarm storms end to end (issue 25): two release bootstraps on one Runtime API queue, their
//! incident store in moto_server's DynamoDB (IAM on), Slack's Web API from the emulator's
//! stand-in. 40 new incidents in one channel: the first STORM_THRESHOLD open parents, every
//! later one replies under one storm message, none is lost, the route's mention is said once
//! for the storm, and every alarm is readable in Slack: the stand-in hides what comes faster
//! than Slack shows, and the two instances share the channel's pace through the store.

use common::alarm_message;
use emulator::slack_api::{ApiMessage, ChannelLimit, Over, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::{Bootstrap, Emulator, Options, Outcome};
use moto_server::{Credentials, Moto};
use serde_json::{json, Value};
use testkit::{common, emulator, moto_server};

const TABLE: &str = "alarm-incidents";
const ALARMS: usize = 40;
const THRESHOLD: usize = 5;
/// The storm item of the secret's default channel: it names no channel, so that a cold start
/// counts there before the secret says which channel that is.
const DEFAULT_WINDOW: &str = "storm|";

/// What the bootstrap may do in AWS.
const ACTIONS: [&str; 3] = [
    "secretsmanager:GetSecretValue",
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
];

/// The emulator of an app whose secret names the default channel and nothing else, signed
/// for with moto's `creds`.
fn quiet_channel(creds: &Credentials) -> Emulator {
    let secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID});
    Emulator::start(Options {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        secret_string: Some(secret.to_string()),
        ..Options::default()
    })
}

/// A bootstrap's environment on `emu`, its incidents in `moto`, Slack's pace off (each
/// event's writes are then the count's and the claim's alone).
fn paced_off(emu: &Emulator, moto: &Moto) -> Vec<(String, String)> {
    common::env_with(
        emu,
        &[
            ("INCIDENT_TABLE", TABLE),
            ("AWS_ENDPOINT_URL_DYNAMODB", &moto.url()),
            ("SLACK_PACE_MILLISECONDS", "0"),
        ],
        &[],
    )
}

/// The first words (`SET since`, `ADD n`) of each write on the default channel's storm item
/// that moto recorded.
fn default_window_writes(moto: &Moto) -> Vec<String> {
    let item = format!(r#"{{"S":"{DEFAULT_WINDOW}"}}"#);
    moto.recorded_target("DynamoDB_20120810.UpdateItem")
        .into_iter()
        .filter(|r| r.body.contains(&item))
        .map(|r| {
            let request: Value = serde_json::from_str(&r.body).expect("JSON request");
            let update = request["UpdateExpression"].as_str().unwrap_or("");
            update.split(' ').take(2).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn event(name: &str, namespace: &str) -> Vec<u8> {
    let mut message: Value = serde_json::from_str(&alarm_message(name, "ALARM")).expect("json");
    message["Trigger"]["Namespace"] = namespace.into();
    common::sns(&[(&message.to_string(), Some("ALARM"))])
}

fn text(m: &ApiMessage) -> String {
    m.text.clone().unwrap_or_default()
}

#[test]
fn a_storm_is_a_few_messages_and_every_alarm_is_in_one_of_them() {
    let (moto, creds) = Moto::with_incident_table(TABLE, &ACTIONS);
    let secret = json!({
        "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
        "SLACK_CHANNEL": DEFAULT_CHANNEL_ID,
        "ROUTES": [{"channel": DEFAULT_CHANNEL_ID, "mention": "<!subteam^S0ONCALL>"}],
    });
    let emu = Emulator::start(Options {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        secret_string: Some(secret.to_string()),
        ..Options::default()
    });
    let threshold = THRESHOLD.to_string();
    let env = common::env_with(
        &emu,
        &[
            ("INCIDENT_TABLE", TABLE),
            ("AWS_ENDPOINT_URL_DYNAMODB", &moto.url()),
            ("STORM_THRESHOLD", &threshold),
        ],
        &[],
    );
    // Slack as a new user meets it: a post above one a second, past a burst of 10, is
    // accepted and never shown. Two instances pacing themselves alone post two a second.
    emu.slack_api().limit_channels(ChannelLimit {
        every: std::time::Duration::from_secs(1),
        burst: 10,
        over: Over::Hide,
    });
    let _processes: Vec<Bootstrap> = (0..2)
        .map(|_| Bootstrap::spawn(&common::bootstrap_bin(), &env))
        .collect();
    moto.reset_auth("0");
    emu.wait_next_calls(2);

    let namespaces = ["AWS/EC2", "AWS/RDS", "AWS/ELB", "AWS/Lambda"];
    let ids: Vec<String> = (0..ALARMS)
        .map(|i| emu.push_event(event(&format!("storm-{i:02}"), namespaces[i % 4])))
        .collect();
    let outcomes: Vec<Outcome> = ids.iter().map(|id| emu.wait_outcome(id)).collect();
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| **o != Outcome::Response(r#"{"posted":1}"#.to_string()))
        .collect();
    assert!(failed.is_empty(), "every alarm posted: {failed:#?}");

    let hidden = emu.slack_api().hidden();
    assert!(
        hidden.is_empty(),
        "posted faster than the channel shows: {hidden:#?}"
    );
    let tops = emu.slack_api().messages(DEFAULT_CHANNEL_ID);
    let storm: Vec<&ApiMessage> = tops
        .iter()
        .filter(|m| text(m).starts_with(":zap: *Alarm storm*"))
        .collect();
    assert_eq!(storm.len(), 1, "one storm message");
    let parents = tops.len() - storm.len();
    assert_eq!(parents, THRESHOLD, "the first {THRESHOLD} open parents");
    // Every alarm is visible: its own parent, or a reply under the storm's message.
    let mut seen: Vec<String> = tops
        .iter()
        .map(text)
        .chain(storm[0].replies.iter().map(text))
        .filter_map(|t| t.split(" state is now ").next().map(str::to_string))
        .filter(|name| name.starts_with("storm-"))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), ALARMS, "0 lost: {seen:?}");
    // The mention: on each parent posted before the storm, once on the storm, on no reply.
    let storm_text = text(storm[0]);
    assert!(
        storm_text.contains("<!subteam^S0ONCALL>")
            || storm[0].versions[0]
                .text
                .as_deref()
                .unwrap_or("")
                .contains("<!subteam^S0ONCALL>"),
        "{storm_text}"
    );
    assert!(storm[0]
        .replies
        .iter()
        .all(|r| !text(r).contains("<!subteam^")));
    assert_eq!(storm[0].replies.len(), ALARMS - THRESHOLD);
    // The storm's end shows: the message counts every alarm that replied under it, though
    // the last ones came less than the update interval after the update before.
    assert!(
        storm_text.contains(&format!("Now: ALARM: {}", ALARMS - THRESHOLD)),
        "{storm_text}"
    );
    let all: Vec<String> = tops
        .iter()
        .map(text)
        .chain(storm[0].replies.iter().map(text))
        .collect();
    common::assert_no_secrets(&emu, &all);
}

/// The storm count before a new incident's post is one write when the guess is right: a new
/// window in a channel where this instance has counted nothing (a quiet channel), the count
/// in the window under way once it has. A second instance's first count, in that window,
/// costs the refused new window and then the count, and loses nothing.
#[test]
fn a_new_incident_counts_its_channel_in_one_write() {
    let (moto, creds) = Moto::with_incident_table(TABLE, &ACTIONS);
    let (first, second) = (quiet_channel(&creds), quiet_channel(&creds));
    let _a = Bootstrap::spawn(&common::bootstrap_bin(), &paced_off(&first, &moto));
    let _b = Bootstrap::spawn(&common::bootstrap_bin(), &paced_off(&second, &moto));
    moto.reset_auth("0");
    // The writes on the channel's storm item while `emu` posts one new incident.
    let count = |emu: &Emulator, name: &str| -> Vec<String> {
        moto.start_recording();
        let id = emu.push_event(event(name, "AWS/EC2"));
        assert_eq!(
            emu.wait_outcome(&id),
            Outcome::Response(r#"{"posted":1}"#.to_string())
        );
        default_window_writes(&moto)
    };
    assert_eq!(count(&first, "quiet-1"), ["SET since"], "a new window");
    assert_eq!(count(&first, "quiet-2"), ["ADD n"], "the count in it");
    assert_eq!(
        count(&second, "quiet-3"),
        ["SET since", "ADD n"],
        "another instance's first count: the new window refused, then the count"
    );
    assert_eq!(count(&second, "quiet-4"), ["ADD n"]);
    let counted = moto.incident_item(&creds, TABLE, DEFAULT_WINDOW);
    assert_eq!(counted["n"], json!({"N": "4"}), "{counted}");
    let tops = first.slack_api().messages(DEFAULT_CHANNEL_ID).len()
        + second.slack_api().messages(DEFAULT_CHANNEL_ID).len();
    assert_eq!(tops, 4, "four parents, below the threshold");
}

/// Issue 22: a cold start counts its first new incident beside the secret's fetch, not after
/// it. Shown where nothing after the secret can have made the count: the secret is denied,
/// the invocation fails, and the count made meanwhile is taken back (the channel is no
/// nearer a storm). The next invocation, served, counts once.
#[test]
fn a_cold_start_counts_beside_the_secret_and_takes_the_count_back_when_it_fails() {
    let (moto, creds) = Moto::with_incident_table(TABLE, &ACTIONS);
    let emu = quiet_channel(&creds);
    let mut process = Bootstrap::spawn(&common::bootstrap_bin(), &paced_off(&emu, &moto));
    moto.reset_auth("0");
    emu.secrets_respond(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"AccessDeniedException","Message":"not authorized"}"#,
    );
    moto.start_recording();
    let id = emu.push_event(event("cold-1", "AWS/EC2"));
    let Outcome::Error(denied) = emu.wait_outcome(&id) else {
        panic!("the invocation fails without its secret");
    };
    assert_eq!(
        denied.json["errorType"], "SecretsManager.AccessDeniedException",
        "{denied:?}"
    );
    assert_eq!(
        default_window_writes(&moto),
        ["SET since", "ADD n"],
        "counted beside the secret, then taken back"
    );
    let window = moto.incident_item(&creds, TABLE, DEFAULT_WINDOW);
    assert_eq!(window["n"], json!({"N": "0"}), "{window}");
    assert!(emu.slack_api().messages(DEFAULT_CHANNEL_ID).is_empty());

    moto.start_recording();
    let id = emu.push_event(event("cold-2", "AWS/EC2"));
    assert_eq!(
        emu.wait_outcome(&id),
        Outcome::Response(r#"{"posted":1}"#.to_string())
    );
    assert_eq!(default_window_writes(&moto), ["ADD n"], "counted once");
    let window = moto.incident_item(&creds, TABLE, DEFAULT_WINDOW);
    assert_eq!(window["n"], json!({"N": "1"}), "{window}");
    assert_eq!(emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
    process.kill();
    common::assert_no_secrets(&emu, &[process.stdout(), process.stderr()]);
}
