//! Routing and mentions end to end (webhook mode against the emulator): each alarm to the
//! webhooks its routes name, the mention only on ALARM, a failed target retried alone.

use common::{alarm_message, assert_error_type, expect_error, expect_response, sns, Lambda};
use emulator::fault::{Action, FaultServer};
use emulator::{Options, SlackPost};
use serde_json::json;
use testkit::{common, emulator};

/// A secret whose routes post to paths of the emulator's Slack: `/services/<name>`.
fn routed_secret(slack: &str, routes: serde_json::Value, default: bool) -> String {
    let base = slack
        .split("/services/")
        .next()
        .unwrap_or(slack)
        .to_string();
    let mut routes = routes;
    for route in routes.as_array_mut().into_iter().flatten() {
        if let Some(name) = route["webhook"].as_str() {
            if !name.contains("://") {
                route["webhook"] = format!("{base}/services/{name}").into();
            }
        }
    }
    let mut secret = json!({ "ROUTES": routes });
    if default {
        secret["SLACK_HOOK_URL"] = format!("{base}/services/DEFAULTHOOKSECRET").into();
    }
    secret.to_string()
}

fn start(routes: serde_json::Value, default: bool) -> Lambda {
    let lambda = Lambda::start(Options::default());
    let secret = routed_secret(&lambda.emu.slack_url(), routes, default);
    lambda.emu.set_secret_string(&secret);
    lambda
}

fn alarm(name: &str, state: &str) -> Vec<u8> {
    sns(&[(&alarm_message(name, state), Some("ALARM"))])
}

fn by_path(posts: &[SlackPost], name: &str) -> Vec<String> {
    posts
        .iter()
        .filter(|p| p.path == format!("/services/{name}"))
        .map(|p| p.json["text"].as_str().unwrap_or("").to_string())
        .collect()
}

fn three_routes() -> serde_json::Value {
    json!([
        {"alarm": ["pay-*"], "webhook": "PAYTEAMSECRET", "mention": "<!subteam^S0PAY>"},
        {"alarm": ["*-p1"], "webhook": "ONCALLSECRET", "mention": "<!here>", "state": ["ALARM", "OK"]},
        {"account": ["999999999999"], "webhook": "OTHERACCOUNTSECRET"}
    ])
}

#[test]
fn alarms_go_to_every_route_they_match_else_the_default() {
    let lambda = start(three_routes(), true);
    expect_response(lambda.invoke(alarm("pay-latency", "ALARM")));
    let two = expect_response(lambda.invoke(alarm("pay-db-p1", "ALARM")));
    assert_eq!(two, r#"{"posted":2}"#);
    expect_response(lambda.invoke(alarm("web-cpu", "ALARM")));
    let posts = lambda.emu.slack_posts();
    let pay = by_path(&posts, "PAYTEAMSECRET");
    let oncall = by_path(&posts, "ONCALLSECRET");
    let default = by_path(&posts, "DEFAULTHOOKSECRET");
    assert_eq!(pay.len(), 2, "{pay:?}");
    assert!(
        pay[0].starts_with("pay-latency state is now ALARM: "),
        "{}",
        pay[0]
    );
    assert!(pay[0].ends_with("\n<!subteam^S0PAY>"), "{}", pay[0]);
    assert_eq!(oncall.len(), 1);
    assert!(oncall[0].ends_with("\n<!here>"), "{}", oncall[0]);
    assert_eq!(default.len(), 1);
    assert!(
        default[0].starts_with("web-cpu state is now ALARM"),
        "{}",
        default[0]
    );
    assert!(!default[0].contains("<!"), "{}", default[0]);
    assert!(by_path(&posts, "OTHERACCOUNTSECRET").is_empty());
}

#[test]
fn the_mention_is_on_alarm_only_and_state_filters_apply() {
    let lambda = start(three_routes(), false);
    expect_response(lambda.invoke(alarm("pay-latency", "OK")));
    let posts = lambda.emu.slack_posts();
    let pay = by_path(&posts, "PAYTEAMSECRET");
    assert_eq!(pay.len(), 1);
    assert!(
        pay[0].starts_with("pay-latency state is now OK: "),
        "{}",
        pay[0]
    );
    assert!(!pay[0].contains("<!subteam"), "{}", pay[0]);
    // `state` drops what a route does not want: INSUFFICIENT_DATA is not for on-call.
    let none = expect_error(lambda.invoke(alarm("db-p1", "INSUFFICIENT_DATA")));
    assert_error_type(&none, "Secret.Invalid");
    assert!(by_path(&lambda.emu.slack_posts(), "ONCALLSECRET").is_empty());
}

#[test]
fn an_alarm_name_cannot_produce_a_mention() {
    let lambda = start(three_routes(), true);
    expect_response(lambda.invoke(alarm("pay-<!channel>-<@U1>", "ALARM")));
    let pay = by_path(&lambda.emu.slack_posts(), "PAYTEAMSECRET");
    assert_eq!(pay.len(), 1);
    let text = &pay[0];
    assert!(
        text.starts_with("pay-&lt;!channel&gt;-&lt;@U1&gt; state is now ALARM"),
        "{text}"
    );
    assert!(
        !text.contains("<!channel>") && !text.contains("<@U1>"),
        "{text}"
    );
    assert!(text.ends_with("\n<!subteam^S0PAY>"), "{text}");
}

#[test]
fn a_failed_target_is_retried_alone_when_lambda_retries_the_event() {
    let fault = FaultServer::start(Action::ok("text/plain", "ok"));
    for _ in 0..3 {
        fault.push(Action::Respond {
            status: 500,
            content_type: "text/plain".into(),
            body: "rollup_error".into(),
            close: false,
        });
    }
    let failing = format!("{}/services/FAILINGSECRET", fault.url());
    let lambda = start(
        json!([
            {"alarm": ["pay-*"], "webhook": "PAYTEAMSECRET"},
            {"alarm": ["pay-*"], "webhook": failing}
        ]),
        false,
    );
    let event = alarm("pay-latency", "ALARM");
    let failed = expect_error(lambda.invoke(event.clone()));
    assert_error_type(&failed, "Slack.Rejected");
    assert_eq!(by_path(&lambda.emu.slack_posts(), "PAYTEAMSECRET").len(), 1);
    assert_eq!(fault.received().len(), 3);
    // Lambda's retry of the same event: only the target that failed gets it.
    let retried = expect_response(lambda.invoke(event));
    assert_eq!(retried, r#"{"posted":1}"#);
    assert_eq!(by_path(&lambda.emu.slack_posts(), "PAYTEAMSECRET").len(), 1);
    assert_eq!(fault.received().len(), 4);
    assert!(!lambda.process.stdout().contains("FAILINGSECRET"));
}

#[test]
fn a_bad_route_names_its_index_and_field_not_the_url() {
    let lambda = start(
        json!([{"alarm": ["x"], "webhook": "OKSECRET"}, {"alarm": "pay-*", "webhook": "BADROUTESECRET"}]),
        true,
    );
    let err = expect_error(lambda.invoke(alarm("pay-latency", "ALARM")));
    assert_error_type(&err, "Secret.Invalid");
    let message = err.json["errorMessage"].as_str().unwrap_or("");
    assert!(
        message.contains("ROUTES[1].alarm must be a non-empty list"),
        "{message}"
    );
    assert!(!message.contains("SECRET"), "{message}");
}

#[test]
fn render_with_a_secret_shows_each_target_and_its_payload() {
    let dir = std::env::temp_dir().join(format!("routing-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let secret = dir.join("secret.json");
    std::fs::write(
        &secret,
        json!({"SLACK_HOOK_URL": "https://hooks.slack.com/services/T/B/DEFAULTSECRET",
               "ROUTES": [{"alarm": ["api-*"], "webhook": "https://hooks.slack.com/services/T/B/APISECRET",
                           "mention": "<!here>"}]})
        .to_string(),
    )
    .expect("write secret");
    let out = std::process::Command::new(common::bootstrap_bin())
        .args(["render", "--secret"])
        .arg(&secret)
        .arg("events/cloudwatch-alarm.json")
        .output()
        .expect("run render");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("# to webhook https://hooks.slack.com\n{"),
        "{stdout}"
    );
    assert!(stdout.contains("\\n<!here>\""), "{stdout}");
    assert!(!stdout.contains("SECRET"), "{stdout}");
}

/// A routine notice: nowhere without a route; one that resolves, only into its thread.
#[test]
fn render_with_a_secret_says_where_routine_notices_go() {
    let dir = std::env::temp_dir().join(format!("routing-routine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let secret = dir.join("secret.json");
    std::fs::write(
        &secret,
        json!({"SLACK_BOT_TOKEN": "xoxb-1-ROUTINESECRET", "SLACK_CHANNEL": "C0DEFAULT"})
            .to_string(),
    )
    .expect("write secret");
    let render = |event: &str| {
        let out = std::process::Command::new(common::bootstrap_bin())
            .args(["render", "--secret"])
            .arg(&secret)
            .arg(event)
            .output()
            .expect("run render");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let scale_in = render("events/eventbridge-ecs-task-stopped-scale-in.json");
    assert!(
        scale_in.starts_with("# routine, and no route asks for it: nothing is posted"),
        "{scale_in}"
    );
    let succeeded = render("events/sns-eventbridge-codepipeline-succeeded.json");
    assert!(
        succeeded
            .starts_with("# to channel C0DEFAULT, only as a reply in its open incident thread"),
        "{succeeded}"
    );
    assert!(!succeeded.contains("ROUTINESECRET"), "{succeeded}");
}

#[test]
fn app_mode_routes_post_to_each_channel_with_its_mention() {
    use emulator::slack_api::{DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
    let secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID,
        "ROUTES": [{"alarm": ["pay-*"], "channel": "C0PAYMENTS", "mention": "<!subteam^S0PAY>"},
                   {"alarm": ["*-p1"], "channel": "C0ONCALL", "mention": "<!here>"}]});
    let lambda = Lambda::start(Options {
        secret_string: Some(secret.to_string()),
        ..Options::default()
    });
    let api = lambda.emu.slack_api();
    api.add_channel("C0PAYMENTS", "payments", true);
    api.add_channel("C0ONCALL", "oncall", true);
    let two = expect_response(lambda.invoke(alarm("pay-db-p1", "ALARM")));
    assert_eq!(two, r#"{"posted":2}"#);
    expect_response(lambda.invoke(alarm("web-cpu", "OK")));
    let text = |channel: &str| -> Vec<String> {
        api.messages(channel)
            .iter()
            .map(|m| m.text.clone().unwrap_or_default())
            .collect()
    };
    let pay = text("C0PAYMENTS");
    assert_eq!(pay.len(), 1);
    assert!(
        pay[0].starts_with("pay-db-p1 state is now ALARM: "),
        "{}",
        pay[0]
    );
    assert!(pay[0].ends_with("\n<!subteam^S0PAY>"), "{}", pay[0]);
    let oncall = text("C0ONCALL");
    assert!(
        oncall.len() == 1 && oncall[0].ends_with("\n<!here>"),
        "{oncall:?}"
    );
    let default = text(DEFAULT_CHANNEL_ID);
    assert!(
        default.len() == 1 && default[0].starts_with("web-cpu state is now OK"),
        "{default:?}"
    );
}

/// Notices route by their source and severity; a drop route keeps the rest from the default
/// webhook, and an invocation with nothing to post answers `{"posted":0}`.
#[test]
fn findings_route_by_source_and_severity_and_a_drop_route_posts_nothing() {
    let lambda = start(
        json!([
            {"source": ["aws.guardduty"], "severity": "medium", "webhook": "SECURITYSECRET"},
            {"source": ["aws.guardduty"], "drop": true}
        ]),
        true,
    );
    // High, straight from EventBridge.
    let high = expect_response(lambda.invoke(common::sample("eventbridge-guardduty-finding")));
    assert_eq!(high, r#"{"posted":1}"#);
    // Low, through SNS: matched by the drop route only.
    let low = expect_response(lambda.invoke(common::sample("sns-eventbridge-guardduty-finding")));
    assert_eq!(low, r#"{"posted":0}"#);
    // Alarms keep to their routes: none of these, so the default.
    expect_response(lambda.invoke(alarm("web-cpu", "ALARM")));
    let posts = lambda.emu.slack_posts();
    let security = by_path(&posts, "SECURITYSECRET");
    assert_eq!(security.len(), 1, "{security:?}");
    assert!(
        security[0].starts_with("High GuardDuty finding: "),
        "{}",
        security[0]
    );
    let default = by_path(&posts, "DEFAULTHOOKSECRET");
    assert_eq!(default.len(), 1, "{default:?}");
    assert!(default[0].starts_with("web-cpu state is now ALARM"));
    assert_eq!(posts.len(), 2, "the low finding is posted nowhere");
}
