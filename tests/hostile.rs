//! App mode, routes and the graph under hostile input, end to end against the release
//! bootstrap (issue #21): a credential a peer echoes is redacted from the log and the Runtime
//! API's error; an upload URL off Slack's file hosts is never connected to; invisible
//! characters never reach what Slack shows; a route that could never match or mention, or
//! that mentions `<!everyone>`, refuses the secret; an image that is not a PNG is not shared.
//!
//! Each `Lambda` is scanned when it ends (`testkit::common`): stdout, stderr, every Runtime
//! API body and every byte sent to each stand-in, for every credential the function holds.

use common::{alarm_message, assert_error_type, expect_error, expect_response, sns, Lambda};
use emulator::connects::Connects;
use emulator::slack_api::{DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::Options;
use serde_json::{json, Value};
use testkit::{common, emulator};

fn app_secret() -> String {
    json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID}).to_string()
}

fn app_with(set: &[(&str, &str)]) -> Lambda {
    Lambda::start_with(
        Options {
            secret_string: Some(app_secret()),
            ..Options::default()
        },
        set,
        &[],
    )
}

fn event_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The message's `errorMessage` as the Runtime API got it.
fn error_message(posted: &emulator::Posted) -> String {
    posted.json["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Everything the process printed, once it has stopped (so that nothing is still in a pipe).
fn output(lambda: &mut Lambda) -> String {
    lambda.process.kill();
    format!("{}{}", lambda.process.stdout(), lambda.process.stderr())
}

// ---- 1. credentials a peer echoes --------------------------------------------------------------

#[test]
fn a_bot_token_that_slack_echoes_is_redacted_from_the_log_and_the_error() {
    let mut lambda = app_with(&[]);
    let api = lambda.emu.slack_api();
    let token = DEFAULT_BOT_TOKEN;
    // Echoed verbatim in `error`; split by invisible characters; past the cut of the error
    // code; and in the HTML of a gateway's 5xx page, on every attempt.
    let echoes = [
        format!("invalid_auth: Bearer {token} is not allowed here"),
        format!("bad\u{200B}: {}\u{FEFF}{}", &token[..9], &token[9..]),
        format!("{}{token}", "x".repeat(70)),
    ];
    for echo in &echoes {
        api.fail_next("chat.postMessage", echo);
        let posted = expect_error(lambda.invoke(common::alarm_event("cpu-high")));
        assert_error_type(&posted, "Slack.Rejected");
        assert!(
            error_message(&posted).contains("[redacted]"),
            "{}",
            posted.body
        );
    }
    for _ in 0..3 {
        api.status_next(
            "chat.postMessage",
            503,
            &format!("<html><body>upstream said: Authorization: Bearer {token}</body></html>"),
        );
    }
    let posted = expect_error(lambda.invoke(common::alarm_event("cpu-high")));
    assert_error_type(&posted, "Slack.Rejected");
    assert!(
        error_message(&posted).contains("Bearer [redacted]"),
        "{}",
        posted.body
    );

    let printed = output(&mut lambda);
    let errors: Vec<&str> = printed.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert_eq!(errors.len(), 4, "{printed}");
    assert!(errors.iter().all(|l| l.contains("[redacted]")), "{printed}");
    // The scan at the end finds no `xoxb-` anywhere: the token was in every answer above.
}

#[test]
fn webhook_urls_that_slack_echoes_are_redacted_from_the_log_and_the_error() {
    let mut lambda = Lambda::start(Options::default());
    let hook = lambda.emu.slack_url();
    let base = hook.split("/services/").next().unwrap_or(&hook).to_string();
    let route = format!("{base}/services/TROUTE0001/BROUTE0001/routeWebhookSecret0001");
    lambda.emu.set_secret_string(
        &json!({"SLACK_HOOK_URL": hook, "ROUTES": [{"alarm": ["pay-*"], "webhook": route}]})
            .to_string(),
    );
    // The default webhook's URL whole, and its path JSON-escaped; then the route's.
    let path = hook.trim_start_matches(&base);
    lambda.emu.slack_respond(
        400,
        &format!("invalid_payload for {hook} ({})", path.replace('/', "\\/")),
    );
    let posted = expect_error(lambda.invoke(common::alarm_event("web-cpu")));
    assert_error_type(&posted, "Slack.Rejected");
    let message = error_message(&posted);
    assert!(message.contains("[redacted]"), "{message}");
    lambda
        .emu
        .slack_respond(400, &format!("invalid_payload: {route}"));
    let posted = expect_error(lambda.invoke(common::alarm_event("pay-latency")));
    assert_error_type(&posted, "Slack.Rejected");
    let message = error_message(&posted);
    assert!(message.ends_with("[redacted]"), "{message}");
    assert!(!message.contains("routeWebhookSecret0001"), "{message}");
    assert!(!output(&mut lambda).contains("routeWebhookSecret0001"));
}

#[test]
fn aws_keys_that_secrets_manager_echoes_are_redacted_from_json_logs_and_the_error() {
    let mut lambda = Lambda::start_with(
        Options::default(),
        &[("AWS_LAMBDA_LOG_FORMAT", "JSON")],
        &[],
    );
    let o = lambda.emu.options().clone();
    let token = o.session_token.clone().unwrap_or_default();
    lambda.emu.secrets_respond(
        400,
        "application/x-amz-json-1.1",
        &json!({"__type": "UnrecognizedClientException",
                "message": format!("key {} secret {} token {token} refused",
                                   o.access_key_id, o.secret_access_key)})
        .to_string(),
    );
    let posted = expect_error(lambda.invoke(common::alarm_event("cpu-high")));
    assert_error_type(&posted, "SecretsManager.UnrecognizedClientException");
    assert_eq!(
        error_message(&posted),
        "Secrets Manager GetSecretValue failed: UnrecognizedClientException: \
         key [redacted] secret [redacted] token [redacted] refused"
    );
    let printed = output(&mut lambda);
    let line = printed
        .lines()
        .find(|l| l.contains("\"level\":\"ERROR\""))
        .unwrap_or_else(|| panic!("no ERROR line: {printed}"));
    let line: Value = serde_json::from_str(line).expect("one JSON object");
    assert_eq!(line["errorMessage"], posted.json["errorMessage"]);
    assert!(!printed.contains(&o.access_key_id), "{printed}");
}

// ---- 2. hosts a peer's answer names -----------------------------------------------------------

/// One alarm whose upload URL is `url`: posted without its graph, with one WARN.
fn post_with_upload_url(lambda: &Lambda, url: &str) {
    lambda.emu.slack_api().upload_url_next(url);
    let body = expect_response(lambda.invoke(event_file("cloudwatch-alarm.json")));
    assert_eq!(body, r#"{"posted":1}"#, "{url}");
}

#[test]
fn an_upload_url_off_slacks_file_hosts_is_never_connected_to() {
    let mut lambda = app_with(&[("METRIC_GRAPH", "image")]);
    let witness = Connects::start();
    let port = witness.port();
    // Each reaches the witness if it is followed: loopback, spelled other than the
    // configured host (SLACK_API_URL is http://127.0.0.1:…). And the instance metadata
    // address, which no test can watch: refused by the same rule, before any connect.
    let refused = [
        format!("https://localhost:{port}/upload/v1/x"),
        format!("http://localhost:{port}/upload/v1/x"),
        format!("https://2130706433:{port}/upload/v1/x"),
        format!("https://0x7f000001:{port}/upload/v1/x"),
        format!("https://127.1:{port}/upload/v1/x"),
        format!("https://[::ffff:127.0.0.1]:{port}/upload/v1/x"),
        format!("https://files.slack.com@127.0.0.1:{port}/upload/v1/x"),
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "https://[fd00:ec2::254]/latest/meta-data/".to_string(),
    ];
    for url in &refused {
        post_with_upload_url(&lambda, url);
    }
    assert_eq!(witness.count(), 0, "a refused upload URL was connected to");
    let api = lambda.emu.slack_api();
    assert!(
        api.calls()
            .iter()
            .all(|c| c.method != "files.completeUploadExternal"),
        "{:?}",
        api.calls()
    );
    assert!(api.files().iter().all(|f| f.upload_statuses.is_empty()));
    assert_eq!(api.messages(DEFAULT_CHANNEL_ID).len(), refused.len());

    // The witness works: the configured host, on the witness's port, is followed.
    post_with_upload_url(&lambda, &format!("http://127.0.0.1:{port}/upload/v1/x"));
    assert!(witness.count() > 0, "the witness saw no connection");

    let printed = output(&mut lambda);
    let warns: Vec<&str> = printed.lines().filter(|l| l.starts_with("WARN")).collect();
    assert_eq!(warns.len(), refused.len() + 1, "{printed}");
    for warn in &warns[..refused.len()] {
        assert!(
            warn.contains("no graph image; the alarm was posted without it")
                && warn.contains("errorType=Slack.HostRefused"),
            "{warn}"
        );
    }
    assert!(warns[7].contains("names 169.254.169.254,"), "{}", warns[7]);
    assert!(
        !printed.contains("meta-data"),
        "a peer's URL path was logged"
    );
    assert!(!warns[refused.len()].contains("Slack.HostRefused"));
}

// ---- 3. invisible characters ------------------------------------------------------------------

/// Unicode's bidi controls and invisible format characters, one of each kind (text.rs has
/// the whole set): none may reach what Slack shows.
const INVISIBLE: [char; 16] = [
    '\u{61C}',
    '\u{180E}',
    '\u{200B}',
    '\u{200D}',
    '\u{200E}',
    '\u{200F}',
    '\u{202A}',
    '\u{202E}',
    '\u{2060}',
    '\u{2066}',
    '\u{2069}',
    '\u{FEFF}',
    '\u{AD}',
    '\u{FE0F}',
    '\u{E0041}',
    '\u{FFF9}',
];

fn hostile(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        out.push(c);
        out.push(INVISIBLE[i % INVISIBLE.len()]);
    }
    out
}

/// events/cloudwatch-alarm.json with invisible characters through its name, description and
/// reason.
fn hostile_event() -> Vec<u8> {
    let mut event: Value =
        serde_json::from_slice(&event_file("cloudwatch-alarm.json")).expect("json");
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: Value =
        serde_json::from_str(sns["Message"].as_str().unwrap_or("")).expect("message");
    for key in ["AlarmName", "AlarmDescription", "NewStateReason"] {
        let text = message[key].as_str().unwrap_or("").to_string();
        message[key] = hostile(&text).into();
    }
    sns["Message"] = message.to_string().into();
    event.to_string().into_bytes()
}

/// Every string the card and text show: text, fallback, title, the card's text, each field.
fn shown(payload: &Value) -> Vec<String> {
    let card = &payload["attachments"][0];
    let mut out: Vec<Value> = vec![
        payload["text"].clone(),
        card["fallback"].clone(),
        card["title"].clone(),
        card["text"].clone(),
    ];
    out.extend(
        card["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["value"].clone()),
    );
    out.iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect()
}

fn assert_visible(what: &str, text: &str) {
    assert!(!text.is_empty(), "{what} is empty");
    let found: Vec<String> = text
        .chars()
        .filter(|c| INVISIBLE.contains(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(found.is_empty(), "{what} holds {found:?}: {text:?}");
}

#[test]
fn invisible_characters_reach_neither_the_webhook_nor_the_card_nor_the_graph() {
    let webhook = Lambda::start(Options::default());
    expect_response(webhook.invoke(hostile_event()));
    let post = &webhook.emu.slack_posts()[0];
    assert_visible("the webhook payload", &post.body);
    for text in shown(&post.json) {
        assert_visible("a shown string", &text);
    }
    assert!(
        post.json["attachments"][0]["title"]
            .as_str()
            .is_some_and(|t| t == "api-cpu-high"),
        "{}",
        post.json
    );

    let app = app_with(&[("METRIC_GRAPH", "image")]);
    expect_response(app.invoke(hostile_event()));
    let api = app.emu.slack_api();
    let post = api
        .calls()
        .into_iter()
        .find(|c| c.method == "chat.postMessage")
        .expect("posted");
    for text in shown(&post.params) {
        assert_visible("a shown string", &text);
    }
    let files = api.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.title.as_deref(), Some("api-cpu-high (ALARM)"));
    assert_eq!(file.alt_txt.as_deref(), Some("api-cpu-high (ALARM)"));
    assert!(file.completed);
}

// ---- 4, 5. routes that never match or mention, and <!everyone> --------------------------------

#[test]
fn routes_that_could_never_match_or_mention_refuse_the_secret() {
    let lambda = Lambda::start(Options::default());
    let hook = lambda.emu.slack_url();
    let base = hook.split("/services/").next().unwrap_or(&hook).to_string();
    let webhook = |name: &str| format!("{base}/services/{name}");
    let cases = [
        (
            json!({"state": ["FIRING"]}),
            "ROUTES[1].state ",
            "ALARM, OK, INSUFFICIENT_DATA",
        ),
        (
            json!({"state": ["alarm"]}),
            "ROUTES[1].state ",
            "upper case",
        ),
        (
            json!({"mention": "<!here>", "mention_on": ["ok"]}),
            "ROUTES[1].mention_on ",
            "upper case",
        ),
        (
            json!({"mention": "<!here>", "mention_on": ["FIRING"]}),
            "ROUTES[1].mention_on ",
            "ALARM, OK",
        ),
        (
            json!({"mention_on": ["OK"]}),
            "ROUTES[1].mention_on ",
            "no mention to add",
        ),
        (
            json!({"state": ["OK"], "mention": "<!here>"}),
            "ROUTES[1].mention ",
            "never be added",
        ),
        (
            json!({"mention": "<!everyone>"}),
            "ROUTES[1].mention ",
            "not <!everyone>",
        ),
        (
            json!({"mention": "<!here> <!everyone>"}),
            "ROUTES[1].mention ",
            "not <!everyone>",
        ),
        (
            json!({"account": ["1234"]}),
            "ROUTES[1].account ",
            "12 digits",
        ),
        (
            json!({"region": ["EU-WEST-1"]}),
            "ROUTES[1].region ",
            "lower case",
        ),
        (
            json!({"namespace": ["aws/ec2"]}),
            "ROUTES[1].namespace ",
            "AWS/ in upper case",
        ),
        (
            json!({"state": ["ALARM"], "flap_seconds": 30}),
            "ROUTES[1].flap_seconds ",
            "never apply",
        ),
    ];
    for (extra, field, rule) in cases {
        let mut route = json!({"alarm": ["cpu-*"], "webhook": webhook("ROUTEDHOOKSECRET")});
        for (key, value) in extra.as_object().into_iter().flatten() {
            route[key] = value.clone();
        }
        let secret = json!({"SLACK_HOOK_URL": hook,
            "ROUTES": [{"alarm": ["other-*"], "webhook": webhook("FIRSTHOOKSECRET")}, route]});
        lambda.emu.set_secret_string(&secret.to_string());
        let posted = expect_error(lambda.invoke(common::alarm_event("cpu-high")));
        assert_error_type(&posted, "Secret.Invalid");
        let message = error_message(&posted);
        assert!(
            message.contains(field) && message.contains(rule),
            "{field}{rule}: {message}"
        );
        assert!(!message.contains("SECRET"), "{message}");
    }
    assert!(
        lambda.emu.slack_posts().is_empty(),
        "a refused secret posted"
    );

    // The same route with valid values posts, with its mention, to its webhook.
    let route = json!({"alarm": ["cpu-*"], "webhook": webhook("ROUTEDHOOKSECRET"),
        "state": ["ALARM", "OK"], "mention": "<!here> <!channel>", "mention_on": ["ALARM"],
        "account": ["123456789012"], "namespace": ["AWS/EC2"]});
    lambda
        .emu
        .set_secret_string(&json!({"SLACK_HOOK_URL": hook, "ROUTES": [route]}).to_string());
    let message = alarm_message("cpu-high", "ALARM");
    expect_response(lambda.invoke(sns(&[(&message, None)])));
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/services/ROUTEDHOOKSECRET");
    let text = posts[0].json["text"].as_str().unwrap_or("");
    assert!(text.ends_with("\n<!here> <!channel>"), "{text}");
}

// ---- an image that is not a PNG ---------------------------------------------------------------

#[test]
fn an_image_that_is_not_a_png_is_not_uploaded() {
    let mut lambda = app_with(&[("METRIC_GRAPH", "image")]);
    lambda
        .emu
        .cloudwatch()
        .set_image(b"<html><body>Sign in to continue</body></html>");
    let body = expect_response(lambda.invoke(event_file("cloudwatch-alarm.json")));
    assert_eq!(body, r#"{"posted":1}"#);
    let api = lambda.emu.slack_api();
    let methods: Vec<String> = api.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(methods, ["chat.postMessage"]);
    assert!(api.files().is_empty());
    let printed = output(&mut lambda);
    let warns: Vec<&str> = printed.lines().filter(|l| l.starts_with("WARN")).collect();
    assert_eq!(warns.len(), 1, "{printed}");
    assert!(
        warns[0].contains("no graph image; the alarm was posted without it")
            && warns[0].contains("errorType=CloudWatch.NotPng"),
        "{}",
        warns[0]
    );
}
