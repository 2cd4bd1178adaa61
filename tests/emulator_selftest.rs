//! Self-test of the local emulator with raw HTTP over std `TcpStream` (no bootstrap involved).
//! Also runs the SigV4 test-suite vectors in `emulator/sigv4.rs`.

mod emulator;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;

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
