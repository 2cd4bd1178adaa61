//! Self-test of the local emulator with raw HTTP over std `TcpStream` (no bootstrap involved).
//! Also runs the SigV4 test-suite vectors in `emulator/sigv4.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use testkit::emulator;

use emulator::{sigv4, Bootstrap, Emulator, Invocation, Options, Outcome, SAFETY_TIMEOUT};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("reply body is not JSON ({e}): {:?}", self.body))
    }
}

/// One HTTP/1.1 exchange with `Connection: close`. `addr` is `host:port`; the `Host` header is
/// `addr` unless given in `headers`.
fn http(addr: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(SAFETY_TIMEOUT))
        .expect("set read timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .expect("write request head");
    stream.write_all(body).expect("write request body");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read reply to {method} {target}: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("malformed reply: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `127.0.0.1:PORT/.rt` -> (`127.0.0.1:PORT`, `/.rt/2018-06-01`).
fn runtime_base(emu: &Emulator) -> (String, String) {
    let api = emu.runtime_api();
    let (addr, prefix) = match api.find('/') {
        Some(i) => (api[..i].to_string(), api[i..].to_string()),
        None => (api, String::new()),
    };
    (addr, format!("{prefix}/2018-06-01"))
}

/// `GET /next` on another thread; the reply arrives through the channel.
fn next_in_background(addr: &str, base: &str) -> mpsc::Receiver<Reply> {
    let (tx, rx) = mpsc::channel();
    let (addr, target) = (addr.to_string(), format!("{base}/runtime/invocation/next"));
    std::thread::spawn(move || {
        let _ = tx.send(http(&addr, "GET", &target, &[], b""));
    });
    rx
}

fn recv(rx: &mpsc::Receiver<Reply>, what: &str) -> Reply {
    rx.recv_timeout(SAFETY_TIMEOUT)
        .unwrap_or_else(|e| panic!("no reply for {what} within 30 s: {e}"))
}

#[test]
fn runtime_api_queue_and_outcomes() {
    let emu = Emulator::start(Options {
        runtime_prefix: "/.rt".to_string(),
        ..Options::default()
    });
    let (addr, base) = runtime_base(&emu);
    assert!(emu.runtime_api().ends_with("/.rt"));

    // A /next that arrives first waits for the event.
    let pending = next_in_background(&addr, &base);
    emu.wait_next_calls(1);
    let id = emu.push_event(r#"{"hello":"world"}"#);
    let event = recv(&pending, "the first /next");
    assert_eq!(event.status, 200);
    assert_eq!(event.body, r#"{"hello":"world"}"#);
    assert_eq!(
        event.header("Lambda-Runtime-Aws-Request-Id"),
        Some(id.as_str())
    );
    assert_eq!(
        event.header("Lambda-Runtime-Trace-Id"),
        Some(emulator::DEFAULT_TRACE_ID)
    );
    assert_eq!(
        event.header("Lambda-Runtime-Invoked-Function-Arn"),
        Some(emulator::DEFAULT_FUNCTION_ARN)
    );
    let deadline: u64 = event
        .header("Lambda-Runtime-Deadline-Ms")
        .and_then(|d| d.parse().ok())
        .expect("numeric deadline header");
    assert!(
        deadline > emulator::now_ms() + 20_000,
        "deadline about 30 s ahead"
    );

    let ok = http(
        &addr,
        "POST",
        &format!("{base}/runtime/invocation/{id}/response"),
        &[],
        br#"{"posted":1}"#,
    );
    assert_eq!(ok.status, 202);
    assert_eq!(
        emu.wait_outcome(&id),
        Outcome::Response(r#"{"posted":1}"#.to_string())
    );
    // When it was handed out, by the first /next, and when its answer came: for timing an
    // invocation without the queue's wait (make bench).
    let (handed, nth) = emu.handed_out(&id).expect("handed out");
    assert_eq!(nth, 1);
    let answered = emu.outcome_time(&id).expect("answered");
    assert!(handed <= answered);
    let again = http(
        &addr,
        "POST",
        &format!("{base}/runtime/invocation/{id}/response"),
        &[],
        b"{}",
    );
    assert_eq!(
        again.status, 400,
        "a second answer for the same id is refused"
    );
    assert_eq!(
        emu.outcome_time(&id),
        Some(answered),
        "the first answer's time"
    );

    // An event queued first is handed out at once; this one omits the trace header.
    let id2 = emu.push_event_with(Invocation {
        trace_id: None,
        ..Invocation::new("[]")
    });
    let event = http(
        &addr,
        "GET",
        &format!("{base}/runtime/invocation/next"),
        &[],
        b"",
    );
    assert_eq!(
        event.header("Lambda-Runtime-Aws-Request-Id"),
        Some(id2.as_str())
    );
    assert_eq!(event.header("Lambda-Runtime-Trace-Id"), None);
    let error_body = r#"{"errorMessage":"bad","errorType":"Alarm.Invalid","stackTrace":[]}"#;
    let err = http(
        &addr,
        "POST",
        &format!("{base}/runtime/invocation/{id2}/error"),
        &[("Lambda-Runtime-Function-Error-Type", "Alarm.Invalid")],
        error_body.as_bytes(),
    );
    assert_eq!(err.status, 202);
    match emu.wait_outcome(&id2) {
        Outcome::Error(p) => {
            assert_eq!(p.error_type_header.as_deref(), Some("Alarm.Invalid"));
            assert_eq!(p.json["errorMessage"], "bad");
        }
        other => panic!("expected an error outcome, got {other:?}"),
    }

    let unknown = http(
        &addr,
        "POST",
        &format!("{base}/runtime/invocation/nope/response"),
        &[],
        b"{}",
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["errorType"], "InvalidRequestID");
    assert_eq!(
        http(&addr, "GET", &format!("{base}/runtime/other"), &[], b"").status,
        404
    );
    assert_eq!(
        http(
            &addr,
            "GET",
            "/2018-06-01/runtime/invocation/next",
            &[],
            b""
        )
        .status,
        404,
        "prefix is required"
    );

    let init = http(
        &addr,
        "POST",
        &format!("{base}/runtime/init/error"),
        &[("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")],
        br#"{"errorMessage":"no SecretId","errorType":"Runtime.ConfigError"}"#,
    );
    assert_eq!(init.status, 202);
    assert_eq!(
        emu.wait_init_error().error_type_header.as_deref(),
        Some("Runtime.ConfigError")
    );

    // An injected failure answers a /next that is already waiting.
    let calls = emu.next_calls();
    let pending = next_in_background(&addr, &base);
    emu.wait_next_calls(calls + 1);
    emu.fail_next_with(500);
    assert_eq!(recv(&pending, "the failed /next").status, 500);

    let bodies = emu.runtime_bodies();
    assert!(bodies.iter().any(|b| b.contains("no SecretId")));
    assert!(bodies.iter().any(|b| b == error_body));

    // Dropping the emulator releases a /next that is still waiting.
    let calls = emu.next_calls();
    let pending = next_in_background(&addr, &base);
    emu.wait_next_calls(calls + 1);
    drop(emu);
    assert_eq!(recv(&pending, "the /next blocked during drop").status, 500);
}

#[test]
fn slack_recorder_answers_in_order() {
    let emu = Emulator::start(Options::default());
    let url = emu.slack_url();
    let (addr, path) = url
        .strip_prefix("http://")
        .and_then(|r| r.split_once('/'))
        .map(|(a, p)| (a.to_string(), format!("/{p}")))
        .expect("slack url shape");
    assert_eq!(path, emulator::SLACK_HOOK_PATH);
    emu.slack_respond(404, "no_service");
    let json = [("Content-Type", "application/json")];
    let first = http(&addr, "POST", &path, &json, br#"{"text":"one"}"#);
    assert_eq!((first.status, first.body.as_str()), (404, "no_service"));
    let second = http(&addr, "POST", &path, &json, br#"{"text":"two"}"#);
    assert_eq!((second.status, second.body.as_str()), (200, "ok"));
    let posts = emu.wait_slack_posts(2);
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].json["text"], "one");
    assert_eq!(posts[1].path, path);
    assert_eq!(posts[1].content_type.as_deref(), Some("application/json"));
}

fn secret_headers(emu: &Emulator, host: &str, amz_date: &str) -> Vec<(String, String)> {
    vec![
        ("Host".into(), host.into()),
        ("Content-Type".into(), "application/x-amz-json-1.1".into()),
        (
            "X-Amz-Target".into(),
            "secretsmanager.GetSecretValue".into(),
        ),
        ("X-Amz-Date".into(), amz_date.into()),
        (
            "X-Amz-Security-Token".into(),
            emu.options()
                .session_token
                .clone()
                .expect("default options have a token"),
        ),
    ]
}

fn post_secret(addr: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http(addr, "POST", "/", &borrowed, body)
}

#[test]
fn secrets_manager_requires_a_valid_signature() {
    let emu = Emulator::start(Options::default());
    let addr = emu
        .secrets_manager_url()
        .strip_prefix("http://")
        .expect("http url")
        .to_string();
    let body = br#"{"SecretId":"slack/dev"}"#;
    let amz_date = sigv4::format_amz_date((emulator::now_ms() / 1000) as i64);
    let mut headers = secret_headers(&emu, &addr, &amz_date);

    let unsigned = post_secret(&addr, &headers, body);
    assert_eq!(unsigned.status, 400);
    assert_eq!(
        unsigned.json()["__type"],
        "MissingAuthenticationTokenException"
    );

    let o = emu.options();
    let signed = [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
    ];
    let request = sigv4::Request {
        method: "POST",
        target: "/",
        headers: &headers,
        body,
    };
    let authorization = sigv4::authorization_header(
        &request,
        &o.access_key_id,
        &o.secret_access_key,
        &o.region,
        "secretsmanager",
        &amz_date,
        &signed,
    )
    .expect("sign the request");
    headers.push(("Authorization".into(), authorization));

    let good = post_secret(&addr, &headers, body);
    assert_eq!(good.status, 200, "{}", good.body);
    let secret: serde_json::Value =
        serde_json::from_str(good.json()["SecretString"].as_str().expect("SecretString"))
            .expect("SecretString is JSON");
    assert_eq!(secret["SLACK_HOOK_URL"], emu.slack_url());

    let tampered = post_secret(&addr, &headers, br#"{"SecretId":"slack/prod"}"#);
    assert_eq!(tampered.status, 400);
    assert_eq!(tampered.json()["__type"], "InvalidSignatureException");

    let requests = emu.secret_requests();
    assert_eq!(emu.secret_calls(), 3);
    assert!(!requests[0].signature_ok && requests[0].reason.is_some());
    assert!(requests[1].signature_ok && requests[1].token_signed && requests[1].reason.is_none());
    assert_eq!(
        requests[1].target.as_deref(),
        Some("secretsmanager.GetSecretValue")
    );
    assert!(!requests[2].signature_ok);
}

/// Writes an executable shell script for the process-harness test.
fn script(name: &str, body: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "emulator-selftest-{}-{name}.sh",
        std::process::id()
    ));
    emulator::process::write_executable(&path, &format!("#!/bin/sh\n{body}\n"));
    path
}

#[test]
fn process_harness_clean_env_output_and_kill() {
    let env = [
        ("GREETING".to_string(), "hi".to_string()),
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
    ];
    let exits = script(
        "exits",
        r#"echo "$GREETING:${HOME:-unset}"; echo oops >&2; exit 3"#,
    );
    let mut child = Bootstrap::spawn(&exits, &env);
    assert_eq!(child.wait_exit().code(), Some(3));
    assert_eq!(
        child.stdout(),
        "hi:unset\n",
        "only the given env reaches the child"
    );
    assert_eq!(child.stderr(), "oops\n");
    assert_eq!(child.try_status().and_then(|s| s.code()), Some(3));

    let hangs = script("hangs", "echo ready; exec sleep 600");
    let mut child = Bootstrap::spawn(&hangs, &env);
    child.wait_output("ready");
    assert!(child.try_status().is_none(), "still running");
    child.kill();
    let status = child.try_status().expect("killed child is reaped");
    assert!(!status.success());
    for path in [exits, hangs] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn process_harness_terminates_with_sigterm_then_kills() {
    use emulator::process::Stopped;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    let env = [("PATH".to_string(), "/usr/bin:/bin".to_string())];
    let obeys = script("obeys-sigterm", "echo ready; exec sleep 600");
    let mut child = Bootstrap::spawn(&obeys, &env);
    child.wait_output("ready");
    match child.terminate(SAFETY_TIMEOUT) {
        Stopped::Terminated(status) => assert_eq!(status.signal(), Some(libc::SIGTERM)),
        other => panic!("expected SIGTERM to end it: {other:?}"),
    }

    // An ignored signal stays ignored across exec: this one only SIGKILL ends.
    let ignores = script(
        "ignores-sigterm",
        "trap '' TERM; echo ready; exec sleep 600",
    );
    let mut child = Bootstrap::spawn(&ignores, &env);
    child.wait_output("ready");
    match child.terminate(Duration::from_millis(200)) {
        Stopped::Killed(status) => assert_eq!(status.signal(), Some(libc::SIGKILL)),
        other => panic!("expected a kill after the grace period: {other:?}"),
    }

    let exits = script("exits-first", "exit 4");
    let mut child = Bootstrap::spawn(&exits, &env);
    child.wait_exit();
    match child.terminate(SAFETY_TIMEOUT) {
        Stopped::Exited(status) => assert_eq!(status.code(), Some(4)),
        other => panic!("expected its own exit: {other:?}"),
    }
    for path in [obeys, ignores, exits] {
        let _ = std::fs::remove_file(path);
    }
}

// ---- Slack Web API stand-in --------------------------------------------------------------------

const BOT: &str = emulator::slack_api::DEFAULT_BOT_TOKEN;
const ALERTS: &str = emulator::slack_api::DEFAULT_CHANNEL_ID;
const JSON_UTF8: &str = "application/json; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";

/// `host:port` of the Web API stand-in.
fn api_addr(emu: &Emulator) -> String {
    emu.slack_api_url()
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/api/"))
        .expect("slack api url shape")
        .to_string()
}

/// `POST /api/<method>` with this content type and body, and `Authorization: Bearer` if given.
fn api_post(emu: &Emulator, method: &str, token: Option<&str>, ct: &str, body: &[u8]) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", ct)];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    http(
        &api_addr(emu),
        "POST",
        &format!("/api/{method}"),
        &headers,
        body,
    )
}

/// A JSON call with the bot token; the answer's JSON.
fn api_json(emu: &Emulator, method: &str, body: serde_json::Value) -> serde_json::Value {
    let reply = api_post(
        emu,
        method,
        Some(BOT),
        JSON_UTF8,
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{method}: {}", reply.body);
    reply.json()
}

fn form(fields: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A form-encoded call with the bot token; the answer's JSON.
fn api_form(emu: &Emulator, method: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let reply = api_post(emu, method, Some(BOT), FORM, form(fields).as_bytes());
    assert_eq!(reply.status, 200, "{method}: {}", reply.body);
    reply.json()
}

fn post(emu: &Emulator, body: serde_json::Value) -> serde_json::Value {
    api_json(emu, "chat.postMessage", body)
}

fn ts_of(answer: &serde_json::Value) -> String {
    assert_eq!(answer["ok"], true, "{answer}");
    answer["ts"].as_str().expect("a ts").to_string()
}

#[test]
fn slack_api_auth_and_encodings() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    assert!(emu
        .env()
        .contains(&("SLACK_API_URL".to_string(), emu.slack_api_url())));
    let body = json!({"channel": ALERTS, "text": "hi"}).to_string();
    let post_with = |token: Option<&str>, ct: &str, body: &str| {
        api_post(&emu, "chat.postMessage", token, ct, body.as_bytes()).json()
    };

    assert_eq!(post_with(None, JSON_UTF8, &body)["error"], "not_authed");
    assert_eq!(
        post_with(Some("xoxb-wrong"), JSON_UTF8, &body)["error"],
        "invalid_auth"
    );
    // A JSON body cannot carry the token; a form can.
    let in_json = json!({"token": BOT, "channel": ALERTS, "text": "hi"}).to_string();
    assert_eq!(post_with(None, JSON_UTF8, &in_json)["error"], "not_authed");
    let in_form = form(&[("token", BOT), ("channel", "#alerts"), ("text", "form")]);
    let answer = post_with(None, FORM, &in_form);
    assert_eq!(
        (answer["ok"].clone(), answer["channel"].clone()),
        (json!(true), json!(ALERTS))
    );

    let ok = post_with(Some(BOT), JSON_UTF8, &body);
    assert_eq!(ok["ok"], true);
    assert!(ok.get("warning").is_none(), "{ok}");
    // Without a charset Slack still accepts JSON, with a warning.
    let bare = post_with(Some(BOT), "application/json", &body);
    assert_eq!(bare["ok"], true);
    assert_eq!(bare["warning"], "missing_charset");
    assert_eq!(
        post_with(Some(BOT), JSON_UTF8, "{not json")["error"],
        "invalid_json"
    );

    emu.slack_api().revoke_token(BOT);
    assert_eq!(
        post_with(Some(BOT), JSON_UTF8, &body)["error"],
        "token_revoked"
    );
    emu.slack_api().add_token("xoxb-second");
    assert_eq!(post_with(Some("xoxb-second"), JSON_UTF8, &body)["ok"], true);
    emu.slack_api().add_token(BOT);
    let who = api_post(&emu, "auth.test", Some(BOT), FORM, b"");
    assert_eq!(who.json()["user_id"], emulator::slack_api::BOT_USER_ID);
    assert_eq!(
        api_post(&emu, "chat.nope", Some(BOT), FORM, b"").json()["error"],
        "unknown_method"
    );

    let calls = emu.slack_api_calls();
    assert_eq!(calls.len(), 11);
    let first = &calls[0];
    assert_eq!(first.method, "chat.postMessage");
    assert!(!first.auth_header && first.token.is_none());
    assert_eq!(first.content_type.as_deref(), Some(JSON_UTF8));
    assert_eq!(first.encoding, emulator::Encoding::Json);
    assert_eq!(first.params["channel"], ALERTS);
    assert_eq!(calls[2].token, None, "a token in a JSON body is not used");
    assert_eq!(calls[2].params["token"], BOT);
    assert_eq!(calls[3].encoding, emulator::Encoding::Form);
    assert_eq!(calls[3].token.as_deref(), Some(BOT));
    assert!(!calls[3].auth_header);
    assert_eq!(calls[3].params["text"], "form");
    assert_eq!(calls[5].content_type.as_deref(), Some("application/json"));
    assert!(calls[4].auth_header && calls[4].ok());
    assert_eq!(calls[1].error(), Some("invalid_auth"));
    assert_eq!(emu.slack_api().wait_calls("auth.test", 1).len(), 1);
    // Only the accepted posts were stored.
    assert_eq!(emu.slack_api().messages(ALERTS).len(), 4);
}

#[test]
fn slack_api_posts_threads_and_channels() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    let api = emu.slack_api();
    let metadata = json!({"event_type": "cw_alarm", "event_payload": {"alarm_arn": "arn:x", "state": "ALARM"}});
    let parent = post(
        &emu,
        json!({"channel": "#alerts", "text": "ALARM: cpu", "unfurl_links": false, "unfurl_media": false,
               "attachments": [{"color": "danger", "text": "details"}], "metadata": metadata}),
    );
    let parent_ts = ts_of(&parent);
    assert_eq!(parent["channel"], ALERTS, "the answer carries the ID");
    let (secs, micros) = parent_ts.split_once('.').expect("seconds.micros");
    assert!(secs.len() >= 10 && micros.len() == 6, "{parent_ts}");
    assert_eq!(parent["message"]["text"], "ALARM: cpu");
    assert_eq!(parent["message"]["metadata"], metadata);

    let by_name = post(&emu, json!({"channel": "alerts", "text": "second"}));
    assert!(ts_of(&by_name) > parent_ts, "ts increase");

    let reply = post(
        &emu,
        json!({"channel": ALERTS, "text": "still", "thread_ts": parent_ts}),
    );
    let reply_ts = ts_of(&reply);
    assert_eq!(reply["message"]["thread_ts"], parent_ts.as_str());
    let broadcast = post(
        &emu,
        json!({"channel": ALERTS, "text": "OK: cpu", "thread_ts": parent_ts, "reply_broadcast": true}),
    );
    ts_of(&broadcast);

    let error = |body: serde_json::Value| post(&emu, body)["error"].clone();
    assert_eq!(
        error(json!({"channel": ALERTS, "text": "x", "thread_ts": "1.000001"})),
        "thread_not_found"
    );
    assert_eq!(
        error(json!({"channel": ALERTS, "text": "x", "thread_ts": reply_ts})),
        "thread_not_found"
    );
    assert_eq!(
        error(json!({"channel": ALERTS, "text": "x", "thread_ts": "0"})),
        "invalid_thread_ts"
    );
    assert_eq!(
        error(json!({"channel": "#nope", "text": "x"})),
        "channel_not_found"
    );
    assert_eq!(error(json!({"text": "x"})), "channel_not_found");
    assert_eq!(error(json!({"channel": ALERTS})), "no_text");
    for bad in [
        json!({"event_type": "cw_alarm"}),
        json!({"event_type": "", "event_payload": {}}),
        json!({"event_type": "cw_alarm", "event_payload": "state=ALARM"}),
        json!("cw_alarm"),
    ] {
        assert_eq!(
            error(json!({"channel": ALERTS, "text": "x", "metadata": bad})),
            "invalid_metadata_format",
            "{bad}"
        );
    }
    api.add_channel("C0PRIVATE", "private", false);
    assert_eq!(
        error(json!({"channel": "#private", "text": "x"})),
        "not_in_channel"
    );
    api.add_channel("C0OPS", "ops", true);
    assert_eq!(
        post(&emu, json!({"channel": "#ops", "text": "x"}))["channel"],
        "C0OPS"
    );
    api.archive_channel("C0OPS");
    assert_eq!(
        error(json!({"channel": "C0OPS", "text": "x"})),
        "is_archived"
    );

    let messages = api.messages(ALERTS);
    assert_eq!(messages.len(), 2, "top-level only: {messages:?}");
    let first = &messages[0];
    assert_eq!(first.ts, parent_ts);
    assert_eq!(first.metadata, Some(metadata));
    assert_eq!(first.unfurl_links, Some(false));
    assert_eq!(
        first.attachments.as_ref().map(|a| a[0]["color"].clone()),
        Some(json!("danger"))
    );
    assert_eq!(first.token, BOT);
    let replies: Vec<(&str, bool)> = first
        .replies
        .iter()
        .map(|r| (r.text.as_deref().unwrap_or(""), r.reply_broadcast))
        .collect();
    assert_eq!(replies, [("still", false), ("OK: cpu", true)]);
    assert_eq!(api.messages("C0OPS").len(), 1);
}

/// What the buttons' clicks use: `chat.postEphemeral` (kept apart from the channel's
/// messages; shown in a thread only once it has a reply), `usergroups.users.list`, and
/// `auth.test`'s `app_id`, absent unless set.
#[test]
fn slack_api_ephemerals_user_groups_and_the_app_id() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    let api = emu.slack_api();
    let parent = ts_of(&post(&emu, json!({"channel": ALERTS, "text": "ALARM"})));
    let ephemeral = |body: serde_json::Value| api_json(&emu, "chat.postEphemeral", body);
    let first = ephemeral(json!({"channel": ALERTS, "user": "U0ALICE", "text": "only you"}));
    assert_eq!(first["ok"], true, "{first}");
    let in_thread = json!({"channel": "#alerts", "user": "U0BOB", "text": "in the thread",
        "thread_ts": parent});
    let quiet = ephemeral(in_thread.clone());
    ts_of(&post(
        &emu,
        json!({"channel": ALERTS, "text": "a reply", "thread_ts": parent}),
    ));
    let shown = ephemeral(in_thread);
    let error = |body: serde_json::Value| ephemeral(body)["error"].clone();
    assert_eq!(
        error(json!({"channel": ALERTS, "text": "x"})),
        "user_not_found"
    );
    assert_eq!(
        error(json!({"channel": ALERTS, "user": "U0ALICE"})),
        "no_text"
    );
    assert_eq!(
        error(json!({"channel": "#nope", "user": "U0ALICE", "text": "x"})),
        "channel_not_found"
    );
    assert_eq!(
        error(json!({"channel": ALERTS, "user": "U0ALICE", "text": "x", "thread_ts": "1.000001"})),
        "thread_not_found"
    );
    api.set_channel_users(ALERTS, &["U0ALICE"]);
    assert_eq!(
        error(json!({"channel": ALERTS, "user": "U0BOB", "text": "x"})),
        "user_not_in_channel"
    );
    let kept: Vec<(String, String, Option<String>, bool)> = api
        .ephemerals()
        .into_iter()
        .map(|e| (e.user, e.text.unwrap_or_default(), e.thread_ts, e.shown))
        .collect();
    assert_eq!(
        kept,
        [
            ("U0ALICE".into(), "only you".into(), None, true),
            (
                "U0BOB".into(),
                "in the thread".into(),
                Some(parent.clone()),
                false
            ),
            (
                "U0BOB".into(),
                "in the thread".into(),
                Some(parent.clone()),
                true
            ),
        ]
    );
    let answered: Vec<&serde_json::Value> = [&first, &quiet, &shown]
        .into_iter()
        .map(|a| &a["message_ts"])
        .collect();
    assert!(answered.iter().all(|ts| ts.is_string()), "{answered:?}");
    assert_eq!(api.ephemerals()[0].message_ts, first["message_ts"]);
    let messages = api.messages(ALERTS);
    assert_eq!(
        messages.len(),
        1,
        "ephemerals are not the channel's messages"
    );
    assert_eq!(messages[0].replies.len(), 1);

    api.add_usergroup("S0ONCALL", &["U0ALICE", "U0CAROL"]);
    let members = api_form(&emu, "usergroups.users.list", &[("usergroup", "S0ONCALL")]);
    assert_eq!(members["users"], json!(["U0ALICE", "U0CAROL"]), "{members}");
    let unknown = api_form(&emu, "usergroups.users.list", &[("usergroup", "S0GONE")]);
    assert_eq!(unknown["error"], "no_such_subteam");

    assert!(api_post(&emu, "auth.test", Some(BOT), FORM, b"")
        .json()
        .get("app_id")
        .is_none());
    api.set_auth_app_id("A0EMUAPP");
    let who = api_post(&emu, "auth.test", Some(BOT), FORM, b"").json();
    assert_eq!(
        (who["team_id"].clone(), who["app_id"].clone()),
        (json!(emulator::slack_api::TEAM_ID), json!("A0EMUAPP"))
    );
    // The order calls reached the stand-in in.
    let arrivals: Vec<u64> = api.calls().iter().map(|c| c.arrival).collect();
    assert!(arrivals.windows(2).all(|w| w[0] < w[1]), "{arrivals:?}");
}

#[test]
fn slack_api_updates_keep_what_is_omitted() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    let api = emu.slack_api();
    let ts = ts_of(&post(
        &emu,
        json!({"channel": ALERTS, "text": "ALARM", "attachments": [{"color": "danger"}],
               "metadata": {"event_type": "cw_alarm", "event_payload": {"state": "ALARM"}}}),
    ));
    let update = |body: serde_json::Value| api_json(&emu, "chat.update", body);

    let answer = update(json!({"channel": ALERTS, "ts": ts, "text": "OK (was ALARM)"}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(
        (answer["channel"].clone(), answer["ts"].clone()),
        (json!(ALERTS), json!(ts))
    );
    assert_eq!(answer["text"], "OK (was ALARM)");
    assert_eq!(
        answer["message"]["attachments"][0]["color"], "danger",
        "kept"
    );
    let answer = update(
        json!({"channel": ALERTS, "ts": ts, "attachments": [{"color": "good"}], "metadata": {}}),
    );
    assert_eq!(answer["message"]["text"], "OK (was ALARM)", "kept");

    assert_eq!(
        update(json!({"channel": "#alerts", "ts": ts, "text": "x"}))["error"],
        "channel_not_found"
    );
    assert_eq!(
        update(json!({"channel": ALERTS, "ts": "1700000000.000001", "text": "x"}))["error"],
        "message_not_found"
    );
    assert_eq!(
        update(json!({"channel": ALERTS, "ts": ts, "text": "x".repeat(4_001)}))["error"],
        "msg_too_long"
    );
    api.add_token("xoxb-other-bot");
    let other = api_post(
        &emu,
        "chat.update",
        Some("xoxb-other-bot"),
        JSON_UTF8,
        json!({"channel": ALERTS, "ts": ts, "text": "mine now"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(other.json()["error"], "cant_update_message");

    let message = &api.messages(ALERTS)[0];
    assert_eq!(message.updates(), 2);
    let texts: Vec<Option<&str>> = message.versions.iter().map(|v| v.text.as_deref()).collect();
    assert_eq!(
        texts,
        [
            Some("ALARM"),
            Some("OK (was ALARM)"),
            Some("OK (was ALARM)")
        ]
    );
    assert_eq!(
        message.versions[1].attachments,
        Some(json!([{"color": "danger"}]))
    );
    assert_eq!(message.attachments, Some(json!([{"color": "good"}])));
    assert_eq!(message.metadata, None, "{{}} cleared it");
    assert_eq!(
        message.versions[0]
            .metadata
            .as_ref()
            .map(|m| m["event_type"].clone()),
        Some(json!("cw_alarm"))
    );
}

#[test]
fn slack_api_history_with_metadata_and_pages() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    let mut tss = Vec::new();
    for i in 0..3 {
        tss.push(ts_of(&post(
            &emu,
            json!({"channel": ALERTS, "text": format!("alarm {i}"),
                   "metadata": {"event_type": "cw_alarm", "event_payload": {"n": i}}}),
        )));
    }
    post(
        &emu,
        json!({"channel": ALERTS, "text": "hidden reply", "thread_ts": tss[0]}),
    );
    post(
        &emu,
        json!({"channel": ALERTS, "text": "broadcast", "thread_ts": tss[0], "reply_broadcast": true}),
    );

    let history = |fields: &[(&str, &str)]| {
        let mut all = vec![("channel", ALERTS)];
        all.extend_from_slice(fields);
        let answer = api_form(&emu, "conversations.history", &all);
        assert_eq!(answer["ok"], true, "{answer}");
        answer
    };
    let texts = |answer: &serde_json::Value| -> Vec<String> {
        answer["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap_or("").to_string())
            .collect()
    };

    let plain = history(&[]);
    assert_eq!(
        texts(&plain),
        ["broadcast", "alarm 2", "alarm 1", "alarm 0"],
        "newest first, no plain replies"
    );
    assert_eq!(plain["messages"][0]["subtype"], "thread_broadcast");
    assert_eq!(plain["messages"][3]["reply_count"], 2);
    assert!(
        plain["messages"][1].get("metadata").is_none(),
        "no metadata unless asked"
    );
    assert_eq!(plain["has_more"], false);

    let tagged = history(&[("include_all_metadata", "true")]);
    assert_eq!(tagged["messages"][1]["metadata"]["event_payload"]["n"], 2);
    assert_eq!(tagged["messages"][3]["metadata"]["event_type"], "cw_alarm");

    assert_eq!(
        texts(&history(&[("oldest", &tss[1])])),
        ["broadcast", "alarm 2"]
    );
    assert_eq!(
        texts(&history(&[
            ("oldest", &tss[1]),
            ("inclusive", "true"),
            ("latest", &tss[2])
        ])),
        ["alarm 2", "alarm 1"]
    );

    let page1 = history(&[("limit", "2")]);
    assert_eq!(texts(&page1), ["broadcast", "alarm 2"]);
    assert_eq!(page1["has_more"], true);
    let cursor = page1["response_metadata"]["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let page2 = history(&[("limit", "2"), ("cursor", &cursor)]);
    assert_eq!(texts(&page2), ["alarm 1", "alarm 0"]);
    assert_eq!(
        (
            page2["has_more"].clone(),
            page2["response_metadata"]["next_cursor"].clone()
        ),
        (json!(false), json!(""))
    );

    let error =
        |fields: &[(&str, &str)]| api_form(&emu, "conversations.history", fields)["error"].clone();
    assert_eq!(error(&[("channel", "#alerts")]), "channel_not_found");
    assert_eq!(
        error(&[("channel", ALERTS), ("oldest", "yesterday")]),
        "invalid_ts_oldest"
    );
    assert_eq!(
        error(&[("channel", ALERTS), ("cursor", "!!")]),
        "invalid_cursor"
    );
    let call = emu
        .slack_api()
        .wait_calls("conversations.history", 1)
        .remove(0);
    assert_eq!(
        (call.encoding, call.params["channel"].clone()),
        (emulator::Encoding::Form, json!(ALERTS))
    );
}

#[test]
fn slack_api_upload_flow() {
    use serde_json::json;
    let emu = Emulator::start(Options::default());
    let api = emu.slack_api();
    let parent = ts_of(&post(&emu, json!({"channel": ALERTS, "text": "ALARM"})));
    let png: Vec<u8> = (0..=255u8).cycle().take(1000).collect();

    let got = api_form(
        &emu,
        "files.getUploadURLExternal",
        &[
            ("filename", "cpu.png"),
            ("length", "1000"),
            ("alt_txt", "CPU graph"),
        ],
    );
    assert_eq!(got["ok"], true, "{got}");
    let file_id = got["file_id"].as_str().expect("file_id").to_string();
    let upload_url = got["upload_url"].as_str().expect("upload_url");
    let (addr, target) = upload_url
        .strip_prefix("http://")
        .and_then(|r| r.split_once('/'))
        .map(|(a, p)| (a.to_string(), format!("/{p}")))
        .expect("upload url shape");
    assert_eq!(addr, api_addr(&emu));
    assert_eq!(target, format!("/upload/{file_id}"));
    let upload = |body: &[u8]| {
        http(
            &addr,
            "POST",
            &target,
            &[("Content-Type", "image/png")],
            body,
        )
    };

    let complete = |body: serde_json::Value| api_json(&emu, "files.completeUploadExternal", body);
    let completion = json!({"files": [{"id": file_id, "title": "cpu-high"}], "channel_id": ALERTS,
                            "thread_ts": parent, "initial_comment": "graph"});
    assert_eq!(
        complete(completion.clone())["error"],
        "file_not_found",
        "nothing uploaded yet"
    );

    assert_eq!(upload(&png[..999]).status, 400, "length mismatch");
    api.fail_upload_next(500);
    assert_eq!(upload(&png).status, 500);
    let stored = upload(&png);
    assert_eq!((stored.status, stored.body.as_str()), (200, "OK - 1000"));

    let done = complete(completion.clone());
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["files"], json!([{"id": file_id, "title": "cpu-high"}]));
    assert_eq!(
        complete(completion)["error"],
        "file_not_found",
        "completing twice"
    );
    assert_eq!(
        complete(json!({"files": [{"id": "F0NOPE"}], "channel_id": ALERTS}))["error"],
        "file_not_found"
    );
    assert_eq!(upload(&png).status, 404, "no upload after completion");

    let files = api.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.bytes.as_deref(), Some(png.as_slice()));
    assert_eq!(file.upload_statuses, [400, 500, 200, 404]);
    assert!(file.completed);
    assert_eq!(
        (file.title.as_deref(), file.channel.as_deref()),
        (Some("cpu-high"), Some(ALERTS))
    );
    assert_eq!(file.thread_ts.as_deref(), Some(parent.as_str()));
    assert_eq!(file.alt_txt.as_deref(), Some("CPU graph"));
    let thread = &api.messages(ALERTS)[0];
    assert_eq!(
        thread.replies.len(),
        1,
        "the share is a reply in the thread"
    );
    assert_eq!(thread.replies[0].files, [file_id.as_str()]);
    assert_eq!(thread.replies[0].text.as_deref(), Some("graph"));

    // The form-encoded completion (files as a JSON string) works too, and multipart uploads.
    let got = api_form(
        &emu,
        "files.getUploadURLExternal",
        &[("filename", "b.png"), ("length", "3")],
    );
    let id = got["file_id"].as_str().expect("file_id").to_string();
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.png\"\r\n\r\nabc\r\n--XyZ--\r\n";
    let multipart = http(
        &addr,
        "POST",
        &format!("/upload/{id}"),
        &[("Content-Type", "multipart/form-data; boundary=XyZ")],
        body,
    );
    assert_eq!(multipart.status, 200, "{}", multipart.body);
    let files = format!(r#"[{{"id":"{id}"}}]"#);
    let private = api_form(&emu, "files.completeUploadExternal", &[("files", &files)]);
    assert_eq!(
        private["files"][0]["title"], "b.png",
        "title defaults to the filename"
    );
    let file = api.files().remove(1);
    assert_eq!(
        (file.bytes.as_deref(), file.channel.as_deref()),
        (Some(&b"abc"[..]), None)
    );
    assert_eq!(
        api_form(&emu, "files.getUploadURLExternal", &[("filename", "c.png")])["error"],
        "invalid_arguments"
    );
}

/// Writes one keep-alive request (no `Connection: close`) and reads until the server closes.
fn raw_keep_alive(addr: &str, target: &str, body: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(SAFETY_TIMEOUT))
        .expect("set read timeout");
    let request = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {BOT}\r\n\
         Content-Type: {JSON_UTF8}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("the server closes the connection (not a read timeout)");
    raw
}

#[test]
fn slack_api_faults() {
    use serde_json::json;
    use std::time::{Duration, Instant};
    let emu = Emulator::start(Options::default());
    let api = emu.slack_api();
    let body = json!({"channel": ALERTS, "text": "ALARM"}).to_string();
    let send = || {
        api_post(
            &emu,
            "chat.postMessage",
            Some(BOT),
            JSON_UTF8,
            body.as_bytes(),
        )
    };

    // FIFO per method; other methods are not affected.
    api.fail_next("chat.postMessage", "internal_error");
    api.rate_limit_next("chat.postMessage", 7);
    api.status_next(
        "chat.postMessage",
        503,
        "<html><body>503 Service Unavailable</body></html>",
    );
    let who = api_post(&emu, "auth.test", Some(BOT), FORM, b"");
    assert_eq!(who.json()["ok"], true);
    let failed = send();
    assert_eq!(
        (failed.status, failed.json()["error"].clone()),
        (200, json!("internal_error"))
    );
    let limited = send();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("Retry-After"), Some("7"));
    assert_eq!(limited.json()["error"], "ratelimited");
    let unavailable = send();
    assert_eq!(unavailable.status, 503);
    assert!(unavailable
        .header("Content-Type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(unavailable.body.contains("503 Service Unavailable"));
    assert!(
        api.messages(ALERTS).is_empty(),
        "refused calls store nothing"
    );
    assert_eq!(send().json()["ok"], true, "the queue is empty again");

    // A lost answer: stored, then the kept-alive connection is closed without a byte.
    api.lose_answer_next("chat.postMessage");
    let raw = raw_keep_alive(&api_addr(&emu), "/api/chat.postMessage", &body);
    assert!(
        raw.is_empty(),
        "no answer: {:?}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(api.messages(ALERTS).len(), 2, "processed anyway");
    let calls = api.wait_calls("chat.postMessage", 5);
    assert_eq!(calls[4].fault, Some(emulator::Fault::LoseAnswer));
    assert_eq!(calls[4].answer["ok"], true, "what would have been answered");

    // A delayed answer: stored before the answer leaves.
    let delay = Duration::from_secs(2);
    api.delay_answer_next("chat.postMessage", delay);
    let (tx, rx) = mpsc::channel();
    let addr = api_addr(&emu);
    let delayed_body = body.clone();
    let started = Instant::now();
    std::thread::spawn(move || {
        let auth = format!("Bearer {BOT}");
        let headers = [
            ("Content-Type", JSON_UTF8),
            ("Authorization", auth.as_str()),
        ];
        let reply = http(
            &addr,
            "POST",
            "/api/chat.postMessage",
            &headers,
            delayed_body.as_bytes(),
        );
        let _ = tx.send(reply);
    });
    api.wait_calls("chat.postMessage", 6);
    assert_eq!(api.messages(ALERTS).len(), 3, "stored at once");
    let reply = recv(&rx, "the delayed answer");
    assert!(
        started.elapsed() >= delay,
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(reply.json()["ok"], true);
}

/// The bootstrap's own HTTP client on a kept-alive, pooled connection: a lost answer is an
/// error at once (not a wait for the client's timeout), and the next call works.
#[test]
fn slack_api_lost_answer_with_a_pooled_client() {
    use std::time::Instant;
    let emu = Emulator::start(Options::default());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SAFETY_TIMEOUT))
        .build()
        .into();
    let url = format!("{}chat.postMessage", emu.slack_api_url());
    let body = serde_json::json!({"channel": ALERTS, "text": "ALARM"}).to_string();
    let call = || {
        agent
            .post(&url)
            .header("Authorization", &format!("Bearer {BOT}"))
            .content_type(JSON_UTF8)
            .send(body.as_str())
    };
    let mut first = call().expect("first call");
    let text = first.body_mut().read_to_string().expect("first body");
    assert!(text.contains(r#""ok":true"#), "{text}");

    emu.slack_api().lose_answer_next("chat.postMessage");
    let started = Instant::now();
    let lost = call();
    assert!(lost.is_err(), "expected a transport error, got {lost:?}");
    assert!(started.elapsed() < SAFETY_TIMEOUT / 2, "not a timeout");
    assert_eq!(
        emu.slack_api().messages(ALERTS).len(),
        2,
        "processed anyway"
    );

    let mut again = call().expect("the call after");
    assert_eq!(again.status(), 200);
    assert!(again
        .body_mut()
        .read_to_string()
        .expect("body")
        .contains(r#""ok":true"#));
}

// ---- DynamoDB stand-in -------------------------------------------------------------------------

/// A DynamoDB call signed for `service` with the emulator's credentials.
fn dynamodb_call(
    emu: &Emulator,
    service: &str,
    operation: &str,
    body: &serde_json::Value,
) -> Reply {
    let addr = emu
        .dynamodb_url()
        .strip_prefix("http://")
        .expect("http url")
        .to_string();
    let o = emu.options();
    let amz_date = sigv4::format_amz_date((emulator::now_ms() / 1000) as i64);
    let body = body.to_string();
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), addr.clone()),
        ("Content-Type".into(), "application/x-amz-json-1.0".into()),
        (
            "X-Amz-Target".into(),
            format!("DynamoDB_20120810.{operation}"),
        ),
        ("X-Amz-Date".into(), amz_date.clone()),
        (
            "X-Amz-Security-Token".into(),
            o.session_token.clone().expect("a token"),
        ),
    ];
    let signed = [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
    ];
    let request = sigv4::Request {
        method: "POST",
        target: "/",
        headers: &headers,
        body: body.as_bytes(),
    };
    let authorization = sigv4::authorization_header(
        &request,
        &o.access_key_id,
        &o.secret_access_key,
        &o.region,
        service,
        &amz_date,
        &signed,
    )
    .expect("sign the request");
    headers.push(("Authorization".into(), authorization));
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http(&addr, "POST", "/", &borrowed, body.as_bytes())
}

/// The incident store's write, as `src/incident/store.rs` makes it.
fn store_write(condition: &str, next: u64, read: Option<u64>) -> serde_json::Value {
    let mut values = serde_json::json!({
        ":next": {"N": next.to_string()},
        ":log": {"S": format!("[{{\"id\":\"ALARM@{next}\"}}]")},
        ":expires": {"N": "1799999999"},
    });
    if let Some(read) = read {
        values[":read"] = serde_json::json!({"N": read.to_string()});
    }
    serde_json::json!({
        "TableName": emulator::dynamodb::DEFAULT_TABLE,
        "Key": {"alarm": {"S": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"}},
        "UpdateExpression": "SET v = :next, #log = :log, expires = :expires REMOVE #status, #state, changed, opened, claim, claimed, channel, ts, seen",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#log": "log", "#status": "status", "#state": "state"},
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    })
}

#[test]
fn dynamodb_serves_the_incident_stores_calls_and_nothing_else() {
    let emu = Emulator::start(Options::default());
    assert!(emu
        .env()
        .contains(&("AWS_ENDPOINT_URL_DYNAMODB".to_string(), emu.dynamodb_url())));
    let key =
        serde_json::json!({"alarm": {"S": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"}});
    let get =
        serde_json::json!({"TableName": "alarm-incidents", "Key": key, "ConsistentRead": true});

    let absent = dynamodb_call(&emu, "dynamodb", "GetItem", &get);
    assert_eq!((absent.status, absent.json()), (200, serde_json::json!({})));
    let crc = absent.header("x-amz-crc32").expect("x-amz-crc32");
    assert_eq!(
        crc,
        emulator::dynamodb::crc32(absent.body.as_bytes()).to_string()
    );

    let opened = dynamodb_call(
        &emu,
        "dynamodb",
        "UpdateItem",
        &store_write("attribute_not_exists(alarm)", 1, None),
    );
    assert_eq!(
        (opened.status, opened.json()),
        (200, serde_json::json!({})),
        "{}",
        opened.body
    );
    // The same write again: refused, with the item as it is.
    let refused = dynamodb_call(
        &emu,
        "dynamodb",
        "UpdateItem",
        &store_write("attribute_not_exists(alarm)", 1, None),
    );
    assert_eq!(refused.status, 400);
    let answer = refused.json();
    assert_eq!(
        answer["__type"],
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    );
    assert_eq!(answer["message"], "The conditional request failed");
    assert_eq!(answer["Item"]["v"], serde_json::json!({"N": "1"}));
    assert_eq!(answer["Item"]["alarm"], key["alarm"]);

    let stale = dynamodb_call(
        &emu,
        "dynamodb",
        "UpdateItem",
        &store_write("v = :read", 3, Some(2)),
    );
    assert_eq!(stale.status, 400, "{}", stale.body);
    let next = dynamodb_call(
        &emu,
        "dynamodb",
        "UpdateItem",
        &store_write("v = :read", 2, Some(1)),
    );
    assert_eq!(next.status, 200, "{}", next.body);
    let item = dynamodb_call(&emu, "dynamodb", "GetItem", &get).json()["Item"].clone();
    assert_eq!(item["v"], serde_json::json!({"N": "2"}));
    assert_eq!(item["log"]["S"], "[{\"id\":\"ALARM@2\"}]");
    assert_eq!(
        Some(item),
        emu.dynamodb()
            .item("alarm-incidents", key["alarm"]["S"].as_str().unwrap_or(""))
    );

    // A channel's storm count (`src/incident/storm.rs`): `ADD`, a compound condition and the
    // item as written (`ALL_NEW`).
    let counted = dynamodb_call(
        &emu,
        "dynamodb",
        "UpdateItem",
        &serde_json::json!({
            "TableName": "alarm-incidents",
            "Key": {"alarm": {"S": "storm|C1"}},
            "UpdateExpression": "ADD n :one SET #last = :now",
            "ConditionExpression": "attribute_not_exists(n) OR (n < :one AND #last > :now)",
            "ExpressionAttributeNames": {"#last": "last"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":now": {"N": "1000"}},
            "ReturnValues": "ALL_NEW",
        }),
    );
    assert_eq!(
        (counted.status, counted.json()),
        (
            200,
            serde_json::json!({"Attributes": {"alarm": {"S": "storm|C1"}, "n": {"N": "1"}, "last": {"N": "1000"}}})
        ),
        "{}",
        counted.body
    );

    // What it was not written for is refused loudly, and so is a signature for another service.
    let mut unaliased = store_write("v = :read", 3, Some(2));
    unaliased["UpdateExpression"] =
        "SET v = :next, log = :log, expires = :expires REMOVE #status, #state".into();
    let put = serde_json::json!({"TableName": "alarm-incidents", "Item": key});
    let mut eventual = get.clone();
    eventual["ConsistentRead"] = false.into();
    for (service, operation, body, says) in [
        (
            "dynamodb",
            "PutItem",
            &put,
            "does not understand the operation PutItem",
        ),
        (
            "dynamodb",
            "UpdateItem",
            &unaliased,
            "reserved keyword: log",
        ),
        (
            "dynamodb",
            "GetItem",
            &eventual,
            "does not understand an eventually consistent",
        ),
        ("monitoring", "GetItem", &get, "scoped to"),
    ] {
        let reply = dynamodb_call(&emu, service, operation, body);
        assert_eq!(reply.status, 400, "{operation}: {}", reply.body);
        let json = reply.json();
        let message = json["message"]
            .as_str()
            .or(json["Message"].as_str())
            .unwrap_or("");
        assert!(message.contains(says), "{operation}: {json}");
    }

    let calls = emu.dynamodb().calls();
    let seen: Vec<(&str, u16, bool)> = calls
        .iter()
        .map(|c| (c.operation.as_str(), c.status, c.signature_ok))
        .collect();
    assert_eq!(
        seen,
        [
            ("GetItem", 200, true),
            ("UpdateItem", 200, true),
            ("UpdateItem", 400, true),
            ("UpdateItem", 400, true),
            ("UpdateItem", 200, true),
            ("GetItem", 200, true),
            ("UpdateItem", 200, true),
            ("PutItem", 400, true),
            ("UpdateItem", 400, true),
            ("GetItem", 400, true),
            ("GetItem", 400, false),
        ]
    );
    assert_eq!(
        calls[2].error.as_deref(),
        Some("ConditionalCheckFailedException")
    );
    assert!(calls.windows(2).all(|w| w[0].received <= w[1].received));
}
