//! `METRIC_GRAPH` end to end: the release bootstrap against the emulator's CloudWatch stand-in
//! (SigV4 checked for `monitoring` by our own verifier) and Slack stand-ins. The sparkline
//! field in both modes, the PNG shared in the posted message's thread in app mode, every
//! failure leaving the alarm posted, and the widget JSON of every example event against
//! `tests/golden/widget/` (`UPDATE_GOLDEN=1` rewrites them).

use testkit::{common, emulator};

use common::{bootstrap_bin, expect_response, Lambda};
use emulator::cloudwatch::PNG;
use emulator::slack_api::{DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID};
use emulator::Options;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn event(name: &str) -> Vec<u8> {
    std::fs::read(root().join("events").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn app_secret() -> String {
    json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID}).to_string()
}

fn app(mode: &str) -> Lambda {
    app_with(Options::default(), mode)
}

fn app_with(options: Options, mode: &str) -> Lambda {
    Lambda::start_with(
        Options {
            secret_string: Some(app_secret()),
            ..options
        },
        &[("METRIC_GRAPH", mode), ("AWS_LAMBDA_LOG_LEVEL", "DEBUG")],
        &[],
    )
}

/// The card field `title` of a payload, if it has one.
fn field(payload: &Value, title: &str) -> Option<String> {
    payload["attachments"][0]["fields"]
        .as_array()?
        .iter()
        .find(|f| f["title"] == title)
        .and_then(|f| f["value"].as_str())
        .map(str::to_string)
}

fn render_graph(name: &str) -> String {
    let out = Command::new(bootstrap_bin())
        .args(["render", "--graph"])
        .arg(format!("events/{name}.json"))
        .current_dir(root())
        .env_clear()
        .output()
        .expect("bootstrap runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "render --graph events/{name}.json: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn every_event_renders_as_its_golden_widget() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| !v.is_empty() && v != "0");
    let dir = root().join("tests/golden/widget");
    let mut names: Vec<String> = std::fs::read_dir(root().join("events"))
        .expect("events/")
        .filter_map(|e| {
            let name = e.ok()?.file_name();
            name.to_str()?.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut problems = Vec::new();
    for name in &names {
        let got = render_graph(name);
        let path = dir.join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(&dir).expect("tests/golden/widget/");
            std::fs::write(&path, &got).expect("write golden widget");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(got.as_str()) {
            problems.push(format!(
                "events/{name}.json: its widget differs from tests/golden/widget/{name}.json:\n{got}"
            ));
        }
    }
    // Every kind the issue names is drawn, and composite alarms are not.
    let widget = |name: &str| -> Value {
        serde_json::from_str(&render_graph(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert_eq!(
        widget("cloudwatch-alarm-insufficient-data")["stat"],
        "p99",
        "a percentile"
    );
    assert_eq!(
        widget("cloudwatch-alarm-metric-math")["metrics"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert!(render_graph("cloudwatch-alarm-composite").starts_with("# no graph: a composite"));
    assert!(
        problems.is_empty(),
        "{}\n\nIf intended: UPDATE_GOLDEN=1 cargo test --test graph, then review the diff.",
        problems.join("\n\n")
    );
}

#[test]
fn the_graph_is_shared_in_the_posted_messages_thread_with_the_exact_bytes() {
    let lambda = app("image");
    let body = expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    assert_eq!(body, r#"{"posted":1}"#);

    // CloudWatch: the sparkline's data before the post, the image after it, both signed.
    let cw = lambda.emu.cloudwatch().calls();
    let operations: Vec<&str> = cw.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(operations, ["GetMetricData", "GetMetricWidgetImage"]);
    assert!(
        cw.iter().all(|c| c.signature_ok && c.status == 200),
        "{cw:?}"
    );
    let rendered: Value =
        serde_json::from_str(&render_graph("cloudwatch-alarm")).expect("widget JSON");
    assert_eq!(cw[1].widget, rendered, "the widget render --graph prints");
    let query = &cw[0].request;
    assert_eq!(query["EndTime"].as_i64(), Some(1_795_865_888));
    assert_eq!(
        query["MetricDataQueries"][0]["MetricStat"]["Stat"],
        "Average"
    );

    // Slack: the post first (with the sparkline), then the three upload steps.
    let api = lambda.emu.slack_api();
    let methods: Vec<String> = api.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        [
            "chat.postMessage",
            "files.getUploadURLExternal",
            "files.completeUploadExternal"
        ]
    );
    let calls = api.calls();
    assert_eq!(
        field(&calls[0].params, "Recent values").as_deref(),
        Some("▁▁▁▁▂▁▂▂▂▂▂▃▃▃▄▄▄▅▆▆▆▇██ 93.4 &gt; 80")
    );
    assert_eq!(calls[1].encoding, emulator::Encoding::Form);
    assert_eq!(calls[1].params["length"], PNG.len().to_string());
    let messages = api.messages(DEFAULT_CHANNEL_ID);
    assert_eq!(messages.len(), 1, "one top-level message: {messages:?}");
    let parent = &messages[0];
    let files = api.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.bytes.as_deref(), Some(&PNG[..]));
    assert_eq!(file.upload_statuses, [200]);
    assert!(file.completed);
    assert_eq!(file.channel.as_deref(), Some(DEFAULT_CHANNEL_ID));
    assert_eq!(file.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert_eq!(file.title.as_deref(), Some("api-cpu-high (ALARM)"));
    assert_eq!(parent.replies.len(), 1);
    assert_eq!(parent.replies[0].files, std::slice::from_ref(&file.id));
    assert!(stdout_once_done(&lambda).contains("graph image shared"));
}

#[test]
fn a_post_found_again_shares_no_second_graph() {
    let lambda = app("image");
    expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    assert_eq!(lambda.emu.slack_api().files().len(), 1);
    // A post whose answer was lost and that is found in the history is not new: its graph
    // went with it (a retried event with threads on posts nothing at all: tests/threads.rs).
    lambda.emu.slack_api().lose_answer_next("chat.postMessage");
    expect_response(lambda.invoke(event("cloudwatch-alarm-ok.json")));
    let api = lambda.emu.slack_api();
    assert_eq!(api.files().len(), 1, "{:?}", api.calls());
    assert_eq!(api.messages(DEFAULT_CHANNEL_ID).len(), 2);
    let images = lambda
        .emu
        .cloudwatch()
        .calls()
        .iter()
        .filter(|c| c.operation == "GetMetricWidgetImage")
        .count();
    assert_eq!(images, 1);
}

/// The process's stdout once its first invocation's last line is in. The pipe is read on a
/// thread of the test's, and the Runtime API may have the answer before that thread has the
/// lines written ahead of it.
fn stdout_once_done(lambda: &Lambda) -> String {
    lambda.process.wait_output("outcome=ok");
    lambda.process.stdout()
}

/// One failure, injected by `inject`: the alarm is still posted and the invocation succeeds;
/// the log has one WARN with `error_type`. The posted card, for further checks.
fn survives(lambda: &Lambda, inject: impl FnOnce(&Lambda), error_type: &str) -> Value {
    inject(lambda);
    let body = expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    assert_eq!(body, r#"{"posted":1}"#);
    let stdout = stdout_once_done(lambda);
    let warns: Vec<&str> = stdout.lines().filter(|l| l.starts_with("WARN")).collect();
    assert_eq!(warns.len(), 1, "{stdout}");
    assert!(
        warns[0].contains(&format!("errorType={error_type}")),
        "{}",
        warns[0]
    );
    let posts = lambda.emu.slack_api().calls();
    let post = posts
        .iter()
        .find(|c| c.method == "chat.postMessage")
        .expect("the alarm was posted");
    post.params.clone()
}

#[test]
fn access_denied_drops_the_sparkline_not_the_alarm() {
    let lambda = app("sparkline");
    let card = survives(
        &lambda,
        |l| l.emu.cloudwatch().fail_next(400, "AccessDenied"),
        "CloudWatch.AccessDenied",
    );
    assert_eq!(field(&card, "Recent values"), None);
    assert!(card["attachments"][0]["fields"].as_array().is_some());
}

#[test]
fn throttling_is_retried_within_the_budget_then_dropped() {
    let lambda = app("sparkline");
    let card = survives(
        &lambda,
        |l| {
            for _ in 0..3 {
                l.emu.cloudwatch().fail_next(400, "Throttling");
            }
        },
        "CloudWatch.Throttling",
    );
    assert_eq!(field(&card, "Recent values"), None);
    assert_eq!(lambda.emu.cloudwatch().calls().len(), 3, "three attempts");
}

#[test]
fn no_datapoints_drops_the_sparkline() {
    let lambda = app("sparkline");
    let card = survives(
        &lambda,
        |l| l.emu.cloudwatch().set_values(&[]),
        "CloudWatch.NoDatapoints",
    );
    assert_eq!(field(&card, "Recent values"), None);
}

#[test]
fn an_upload_url_that_refuses_leaves_the_posted_alarm_alone() {
    let lambda = app("image");
    let card = survives(
        &lambda,
        |l| l.emu.slack_api().fail_upload_next(403),
        "Slack.Rejected",
    );
    // The sparkline came first and is in the card.
    assert!(field(&card, "Recent values").is_some());
    let files = lambda.emu.slack_api().files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].upload_statuses, [403]);
    assert!(!files[0].completed);
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
}

#[test]
fn too_little_time_left_skips_every_graph_with_a_debug_line() {
    let lambda = app_with(
        Options {
            deadline_ms: 2300,
            ..Options::default()
        },
        "image",
    );
    let body = expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    assert_eq!(body, r#"{"posted":1}"#);
    assert!(lambda.emu.cloudwatch().calls().is_empty());
    assert_eq!(lambda.emu.slack_api().messages(DEFAULT_CHANNEL_ID).len(), 1);
    let stdout = stdout_once_done(&lambda);
    assert!(
        stdout.contains("DEBUG") && stdout.contains("no sparkline: too little time left"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no graph image: too little time left"),
        "{stdout}"
    );
    assert!(!stdout.contains("WARN"), "{stdout}");
}

#[test]
fn a_webhook_gets_the_sparkline_and_no_image() {
    let lambda = Lambda::start_with(Options::default(), &[("METRIC_GRAPH", "image")], &[]);
    expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    let posts = lambda.emu.slack_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        field(&posts[0].json, "Recent values").as_deref(),
        Some("▁▁▁▁▂▁▂▂▂▂▂▃▃▃▄▄▄▅▆▆▆▇██ 93.4 &gt; 80")
    );
    let cw = lambda.emu.cloudwatch().calls();
    assert_eq!(cw.len(), 1);
    assert_eq!(cw[0].operation, "GetMetricData");
    assert!(lambda.emu.slack_api().calls().is_empty());
}

#[test]
fn off_calls_nothing_and_composites_fetch_nothing() {
    let lambda = Lambda::start(Options::default());
    expect_response(lambda.invoke(event("cloudwatch-alarm.json")));
    assert_eq!(
        field(&lambda.emu.slack_posts()[0].json, "Recent values"),
        None
    );
    assert!(lambda.emu.cloudwatch().calls().is_empty());
    let sparkline = Lambda::start_with(Options::default(), &[("METRIC_GRAPH", "sparkline")], &[]);
    expect_response(sparkline.invoke(event("cloudwatch-alarm-composite.json")));
    assert!(sparkline.emu.cloudwatch().calls().is_empty());
}

/// docs/metric-graph.md shows the sparkline of three example events, each against a series
/// given there; they are what the bootstrap posts.
#[test]
fn the_sparklines_in_the_docs_are_what_is_posted() {
    let doc = std::fs::read_to_string(root().join("docs/metric-graph.md")).expect("doc");
    let mut checked = 0;
    for line in doc.lines() {
        // | `events/NAME.json` | series | `field` |
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, name, series, shown, _] = cells[..] else {
            continue;
        };
        let (Some(name), Some(series), Some(shown)) = (
            name.strip_prefix("`events/")
                .and_then(|n| n.strip_suffix('`')),
            series.strip_prefix('`').and_then(|s| s.strip_suffix('`')),
            shown.strip_prefix('`').and_then(|s| s.strip_suffix('`')),
        ) else {
            continue;
        };
        let values: Vec<Option<f64>> = series.split_whitespace().map(|v| v.parse().ok()).collect();
        let lambda = Lambda::start_with(Options::default(), &[("METRIC_GRAPH", "sparkline")], &[]);
        lambda.emu.cloudwatch().set_values(&values);
        expect_response(lambda.invoke(event(name)));
        let posted = field(&lambda.emu.slack_posts()[0].json, "Recent values");
        assert_eq!(
            posted
                .map(|p| p.replace("&gt;", ">").replace("&lt;", "<"))
                .as_deref(),
            Some(shown),
            "docs/metric-graph.md, {name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "docs/metric-graph.md shows three sparklines");
}

/// Not a check: how long each mode takes per alarm against the emulator, printed
/// (`cargo test --test graph -- --ignored --nocapture`).
#[test]
#[ignore]
fn latency_per_mode() {
    for mode in ["off", "sparkline", "image"] {
        let lambda = app(mode);
        let mut total = Vec::new();
        for i in 0..20 {
            let started = std::time::Instant::now();
            let message = common::alarm_message(&format!("latency-{i}"), "ALARM");
            expect_response(lambda.invoke(common::sns(&[(&message, None)])));
            total.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        total.sort_by(f64::total_cmp);
        let (cw, api) = (
            lambda.emu.cloudwatch().calls(),
            lambda.emu.slack_api().calls(),
        );
        let bytes: usize = api.iter().map(|c| c.body.len()).sum();
        let cw_bytes: usize = cw.iter().map(|c| c.request.to_string().len()).sum();
        println!(
            "{mode}: median {:.1} ms, p90 {:.1} ms per alarm; {} CloudWatch calls ({} request bytes), {} Slack calls ({} request bytes) for 20 alarms",
            total[10],
            total[18],
            cw.len(),
            cw_bytes,
            api.len(),
            bytes
        );
    }
}
