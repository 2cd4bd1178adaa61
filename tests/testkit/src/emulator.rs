//! Local emulator for the bootstrap's peers: the Lambda Runtime API, AWS Secrets Manager
//! (GetSecretValue, with its own SigV4 verifier), a Slack incoming webhook and Slack's Web API
//! for a bot token (`slack_api`, the "app mode" peer), and the CloudWatch and DynamoDB
//! stand-ins (`METRIC_GRAPH`, `INCIDENT_TABLE`). Each is a
//! `tiny_http` server on `127.0.0.1:0`; every request is served on its own thread so that a
//! long-polling `GET /next` never blocks the `POST /response` that follows it.

pub mod click;
pub mod cloudwatch;
pub mod connects;
pub mod delay;
pub mod dynamodb;
pub mod fault;
pub mod interpose;
pub mod process;
pub mod runtime_api;
pub mod secrets_manager;
pub mod sigv4;
pub mod slack;
pub mod slack_api;
pub mod tls;

pub use process::Bootstrap;
pub use slack_api::{ApiCall, ApiFile, ApiMessage, Encoding, Ephemeral, Fault, SlackApi};

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any wait in the emulator blocks before it panics naming what it waited for.
pub const SAFETY_TIMEOUT: Duration = Duration::from_secs(30);

/// The webhook path the local Slack serves (the secret part of a real webhook URL).
pub const SLACK_HOOK_PATH: &str = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";

pub const DEFAULT_FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:alarm-to-slack";
pub const DEFAULT_TRACE_ID: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

#[derive(Debug, Clone)]
pub struct Options {
    /// Path prefix for the Runtime API, e.g. "" or "/.rt".
    pub runtime_prefix: String,
    pub region: String,
    /// The only key pair the Secrets Manager stand-in accepts.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// When Some, requests must carry `X-Amz-Security-Token` equal to it, and sign it.
    pub session_token: Option<String>,
    pub secret_id: String,
    /// The SecretString served; None => `default_secret_json(slack_url, Some("#alerts"))`.
    pub secret_string: Option<String>,
    /// `Lambda-Runtime-Deadline-Ms` is set this far after the moment `/next` delivers the event.
    pub deadline_ms: u64,
    /// The bot token the Slack Web API stand-in accepts at start (`SlackApi::add_token` adds more).
    pub bot_token: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime_prefix: String::new(),
            region: "us-east-1".to_string(),
            access_key_id: "AKIDEMULATOR".to_string(),
            secret_access_key: "emulator-secret-key".to_string(),
            session_token: Some("emulator-session-token".to_string()),
            secret_id: "slack/dev".to_string(),
            secret_string: None,
            deadline_ms: 30_000,
            bot_token: slack_api::DEFAULT_BOT_TOKEN.to_string(),
        }
    }
}

/// One invocation to hand out on `GET /next`. `None` fields mean "header omitted".
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub deadline_ms: Option<String>,
    pub trace_id: Option<String>,
    pub function_arn: Option<String>,
}

impl Invocation {
    /// All headers present: a fresh request id, a deadline 30 s from now (the time of this call:
    /// `push_event_with` sends the value exactly as given), the default ARN and trace id.
    pub fn new(body: impl Into<Vec<u8>>) -> Invocation {
        Invocation {
            body: body.into(),
            request_id: Some(new_request_id()),
            deadline_ms: Some((now_ms() + 30_000).to_string()),
            trace_id: Some(DEFAULT_TRACE_ID.to_string()),
            function_arn: Some(DEFAULT_FUNCTION_ARN.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(String),
    Error(Posted),
}

/// A body POSTed to `/error` or `/runtime/init/error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub error_type_header: Option<String>,
    pub body: String,
    /// `Null` when the body is not JSON.
    pub json: serde_json::Value,
}

/// What `wait_settled` saw first.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Outcome(Outcome),
    InitError(Posted),
    /// The runtime process went away (see `Emulator::exit_notifier`) without either.
    RuntimeExited,
    TimedOut,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretRequest {
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The SigV4 checks (key, scope, token, clock skew, signature) all passed.
    pub signature_ok: bool,
    /// Why the request was rejected (`"__type: message"`), None when it was served.
    pub reason: Option<String>,
    /// `x-amz-security-token` was present and among the signed headers.
    pub token_signed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlackPost {
    pub path: String,
    pub content_type: Option<String>,
    /// Every header as sent, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// `Null` when the body is not JSON.
    pub json: serde_json::Value,
    /// The status the webhook answered with.
    pub status: u16,
}

/// `{"SLACK_HOOK_URL": hook_url, "SLACK_CHANNEL": channel}` (channel only when given).
pub fn default_secret_json(hook_url: &str, channel: Option<&str>) -> String {
    let mut map = serde_json::Map::new();
    map.insert("SLACK_HOOK_URL".into(), hook_url.into());
    if let Some(channel) = channel {
        map.insert("SLACK_CHANNEL".into(), channel.into());
    }
    serde_json::Value::Object(map).to_string()
}

pub struct Emulator {
    options: Options,
    runtime: Arc<runtime_api::State>,
    secrets: Arc<secrets_manager::State>,
    slack: Arc<slack::State>,
    slack_api: Arc<SlackApi>,
    cloudwatch: Arc<cloudwatch::CloudWatch>,
    dynamodb: Arc<dynamodb::DynamoDb>,
    runtime_server: HttpServer,
    secrets_server: HttpServer,
    slack_server: HttpServer,
    slack_api_server: HttpServer,
    cloudwatch_server: HttpServer,
    dynamodb_server: HttpServer,
}

impl Emulator {
    pub fn start(mut options: Options) -> Emulator {
        options.runtime_prefix = normalise_prefix(&options.runtime_prefix);

        let slack = Arc::new(slack::State::default());
        let slack_server = HttpServer::start("slack", {
            let slack = Arc::clone(&slack);
            move |rq| slack.handle(rq)
        });
        let slack_url = format!("http://{}{SLACK_HOOK_PATH}", slack_server.addr);

        let slack_api = Arc::new(SlackApi::new(&options.bot_token));
        let slack_api_server = HttpServer::start("slack-api", {
            let slack_api = Arc::clone(&slack_api);
            move |rq| slack_api.handle(rq)
        });
        slack_api.set_addr(slack_api_server.addr);

        let secret = options
            .secret_string
            .clone()
            .unwrap_or_else(|| default_secret_json(&slack_url, Some("#alerts")));
        let secrets = Arc::new(secrets_manager::State::new(options.clone(), secret));
        let secrets_server = HttpServer::start("secrets-manager", {
            let secrets = Arc::clone(&secrets);
            move |rq| secrets.handle(rq)
        });

        let cloudwatch = Arc::new(cloudwatch::CloudWatch::new(options.clone()));
        let cloudwatch_server = HttpServer::start("cloudwatch", {
            let cloudwatch = Arc::clone(&cloudwatch);
            move |rq| cloudwatch.handle(rq)
        });

        let dynamodb = Arc::new(dynamodb::DynamoDb::new(options.clone()));
        let dynamodb_server = HttpServer::start("dynamodb", {
            let dynamodb = Arc::clone(&dynamodb);
            move |rq| dynamodb.handle(rq)
        });

        let runtime = Arc::new(runtime_api::State::new(
            options.runtime_prefix.clone(),
            options.deadline_ms,
        ));
        let runtime_server = HttpServer::start("runtime-api", {
            let runtime = Arc::clone(&runtime);
            move |rq| runtime.handle(rq)
        });

        Emulator {
            options,
            runtime,
            secrets,
            slack,
            slack_api,
            cloudwatch,
            dynamodb,
            runtime_server,
            secrets_server,
            slack_server,
            slack_api_server,
            cloudwatch_server,
            dynamodb_server,
        }
    }

    /// Value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT` plus the prefix.
    pub fn runtime_api(&self) -> String {
        format!(
            "{}{}",
            self.runtime_server.addr, self.options.runtime_prefix
        )
    }

    /// For `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub fn secrets_manager_url(&self) -> String {
        format!("http://{}", self.secrets_server.addr)
    }

    /// For `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn dynamodb_url(&self) -> String {
        format!("http://{}", self.dynamodb_server.addr)
    }

    pub fn slack_url(&self) -> String {
        format!("http://{}{SLACK_HOOK_PATH}", self.slack_server.addr)
    }

    /// Base URL of the Slack Web API stand-in, `http://127.0.0.1:PORT/api/` (method names follow).
    pub fn slack_api_url(&self) -> String {
        format!("http://{}/api/", self.slack_api_server.addr)
    }

    pub fn set_secret_string(&self, s: &str) {
        self.secrets.set_secret_string(s);
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Environment for the bootstrap child (use with `Bootstrap::spawn`, which clears the rest).
    pub fn env(&self) -> Vec<(String, String)> {
        let o = &self.options;
        let mut env = vec![
            ("AWS_LAMBDA_RUNTIME_API".to_string(), self.runtime_api()),
            ("AWS_REGION".to_string(), o.region.clone()),
            ("AWS_ACCESS_KEY_ID".to_string(), o.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                o.secret_access_key.clone(),
            ),
        ];
        if let Some(token) = &o.session_token {
            env.push(("AWS_SESSION_TOKEN".to_string(), token.clone()));
        }
        env.push(("SecretId".to_string(), o.secret_id.clone()));
        env.push((
            "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_string(),
            self.secrets_manager_url(),
        ));
        env.push(("SLACK_API_URL".to_string(), self.slack_api_url()));
        env.push((
            "AWS_ENDPOINT_URL_CLOUDWATCH".to_string(),
            format!("http://{}", self.cloudwatch_server.addr),
        ));
        // Used only with INCIDENT_TABLE (the stand-in's table: `dynamodb::DEFAULT_TABLE`).
        env.push(("AWS_ENDPOINT_URL_DYNAMODB".to_string(), self.dynamodb_url()));
        // The emulator's Slack stands for hooks.slack.com, where the bootstrap connects
        // while it fetches the secret.
        env.push((
            "SLACK_PRECONNECT".to_string(),
            format!("http://{}", self.slack_server.addr),
        ));
        env
    }

    /// The CloudWatch stand-in (`METRIC_GRAPH`): its series, faults and what it was asked.
    pub fn cloudwatch(&self) -> &cloudwatch::CloudWatch {
        &self.cloudwatch
    }

    /// The DynamoDB stand-in (`INCIDENT_TABLE`): its tables, faults and what it was asked.
    pub fn dynamodb(&self) -> &dynamodb::DynamoDb {
        &self.dynamodb
    }

    // ---- Runtime API ------------------------------------------------------------------------

    /// Queues one invocation; its deadline is `options.deadline_ms` after delivery.
    pub fn push_event(&self, body: impl Into<Vec<u8>>) -> String {
        let inv = Invocation::new(body);
        let id = inv.request_id.clone().unwrap_or_default();
        self.runtime.push(inv, true, id.clone());
        id
    }

    /// Queues an invocation with exactly the given headers. Returns its request id; when the id
    /// header is omitted, an id is still made up and returned, but no runtime can answer it.
    pub fn push_event_with(&self, inv: Invocation) -> String {
        let id = inv.request_id.clone().unwrap_or_else(new_request_id);
        self.runtime.push(inv, false, id.clone());
        id
    }

    /// Blocks until `/response` or `/error` was posted for `request_id` (the first one wins).
    pub fn wait_outcome(&self, request_id: &str) -> Outcome {
        self.runtime.wait_outcome(request_id)
    }

    /// The [`arrival`] of the `/response` or `/error` of `request_id`, once posted: to tell
    /// what reached the Runtime API before or after a call to another stand-in.
    pub fn outcome_arrival(&self, request_id: &str) -> Option<u64> {
        self.runtime.outcome_arrival(request_id)
    }

    /// When the event `request_id` was handed out (its `GET /next` about to be answered), and
    /// the count of `GET /next` calls then (that call's own number, with one runtime polling).
    pub fn handed_out(&self, request_id: &str) -> Option<(Instant, usize)> {
        self.runtime.handed_out(request_id)
    }

    /// When the `/response` or `/error` of `request_id` had arrived whole, once posted.
    pub fn outcome_time(&self, request_id: &str) -> Option<Instant> {
        self.runtime.outcome_time(request_id)
    }

    /// Blocks until `request_id` was answered and, with one runtime polling, that runtime
    /// asked for the next event: whatever it does after an early answer is done by then.
    /// Counting from the `GET /next` that handed the event out, not from a count read before
    /// the push: a runtime still starting up has not polled yet.
    pub fn wait_finished(&self, request_id: &str) -> Outcome {
        let outcome = self.runtime.wait_outcome(request_id);
        let (_, nth) = self
            .runtime
            .handed_out(request_id)
            .unwrap_or_else(|| panic!("{request_id} was answered but never handed out"));
        self.runtime.wait_next_calls(nth + 1);
        outcome
    }

    /// Blocks until `/runtime/init/error` was posted; returns the first one.
    pub fn wait_init_error(&self) -> Posted {
        self.runtime.wait_init_error()
    }

    pub fn next_calls(&self) -> usize {
        self.runtime.next_calls()
    }

    /// Blocks until at least `n` `GET /next` arrived.
    pub fn wait_next_calls(&self, n: usize) {
        self.runtime.wait_next_calls(n)
    }

    /// The next `GET /next` (already waiting or future) answers `status` instead of an event.
    /// The next `/response` POST is recorded but answered with this status (e.g. 413, 500).
    pub fn fail_response_with(&self, status: u16) {
        self.runtime.fail_response_with(status)
    }

    pub fn fail_next_with(&self, status: u16) {
        self.runtime.fail_next_with(status)
    }

    /// Every body POSTed to the Runtime API, in arrival order.
    pub fn runtime_bodies(&self) -> Vec<String> {
        self.runtime.bodies()
    }

    /// Non-panicking wait for the demo: the outcome for `request_id`, an init error, the end of
    /// the runtime process (signalled through `exit_notifier`), or `timeout`.
    pub fn wait_settled(&self, request_id: &str, timeout: Duration) -> Settled {
        self.runtime.wait_settled(request_id, timeout)
    }

    /// A callback that tells the Runtime API state the runtime process is gone, so that
    /// `wait_settled` returns instead of waiting; pass it to `Bootstrap::spawn_with_exit_hook`.
    pub fn exit_notifier(&self) -> impl FnOnce() + Send + 'static {
        let runtime = Arc::clone(&self.runtime);
        move || runtime.mark_runtime_exited()
    }

    // ---- Secrets Manager --------------------------------------------------------------------

    /// Requests the stand-in received (valid or not).
    pub fn secret_calls(&self) -> usize {
        self.secrets.requests().len()
    }

    pub fn secret_requests(&self) -> Vec<SecretRequest> {
        self.secrets.requests()
    }

    // ---- Slack ------------------------------------------------------------------------------

    pub fn slack_posts(&self) -> Vec<SlackPost> {
        self.slack.posts()
    }

    pub fn wait_slack_posts(&self, n: usize) -> Vec<SlackPost> {
        self.slack.wait_posts(n)
    }

    /// Queues the answer to the next POST (FIFO); with an empty queue the answer is 200 `ok`.
    pub fn slack_respond(&self, status: u16, body: &str) {
        self.slack.respond_next(status, body, &[])
    }

    /// Like `slack_respond`, with extra response headers (e.g. `Retry-After`).
    pub fn slack_respond_with(&self, status: u16, body: &str, headers: &[(&str, &str)]) {
        self.slack.respond_next(status, body, headers)
    }

    /// Beyond `burst` posts, at most `per_second`; the rest get 429 with `Retry-After`.
    pub fn slack_rate_limit(&self, burst: u32, per_second: f64) {
        self.slack.rate_limit(burst, per_second)
    }

    /// Queues a raw answer for the next GetSecretValue request (FIFO), whatever it carries.
    pub fn secrets_respond(&self, status: u16, content_type: &str, body: &str) {
        self.secrets.respond_next(status, content_type, body)
    }

    // ---- Slack Web API (app mode) -------------------------------------------------------------

    /// The Web API stand-in: its configuration, faults and what it stored.
    pub fn slack_api(&self) -> &SlackApi {
        &self.slack_api
    }

    /// Every call to the Web API stand-in, in the order they were handled.
    pub fn slack_api_calls(&self) -> Vec<ApiCall> {
        self.slack_api.calls()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Release long-polling `/next` handlers first, then stop accepting.
        self.runtime.shutdown();
        self.runtime_server.stop();
        self.secrets_server.stop();
        self.slack_server.stop();
        self.slack_api_server.stop();
        self.cloudwatch_server.stop();
        self.dynamodb_server.stop();
    }
}

fn normalise_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

// ---- shared helpers -------------------------------------------------------------------------

/// Locks, ignoring poisoning: a test that panicked while holding a lock must not turn the
/// emulator's Drop into a double panic (which would abort and hide the first message).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits on `cv` until `check` yields a value, or panics after `SAFETY_TIMEOUT` with a message
/// built by `describe` (what was awaited and what state was seen).
pub(crate) fn wait_for<T, R>(
    m: &Mutex<T>,
    cv: &Condvar,
    mut check: impl FnMut(&mut T) -> Option<R>,
    describe: impl FnOnce(&T) -> String,
) -> R {
    match wait_for_timeout(m, cv, SAFETY_TIMEOUT, &mut check) {
        Some(r) => r,
        None => {
            let message = describe(&lock(m));
            panic!(
                "emulator: timed out after {} s waiting for {message}",
                SAFETY_TIMEOUT.as_secs()
            );
        }
    }
}

/// Like `wait_for` but returns None on timeout.
pub(crate) fn wait_for_timeout<T, R>(
    m: &Mutex<T>,
    cv: &Condvar,
    timeout: Duration,
    mut check: impl FnMut(&mut T) -> Option<R>,
) -> Option<R> {
    let deadline = Instant::now() + timeout;
    let mut guard = lock(m);
    loop {
        if let Some(r) = check(&mut guard) {
            return Some(r);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        guard = cv
            .wait_timeout(guard, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// The next number in the order in which requests reached the emulator's servers (every
/// emulator of the test process counts on one counter): taken once a request has been read
/// whole and before it is answered, so a client that waits for each answer before its next
/// request sees its requests numbered in the order it sent them, whichever servers they went to.
pub fn arrival() -> u64 {
    static ARRIVALS: AtomicU64 = AtomicU64::new(1);
    ARRIVALS.fetch_add(1, Ordering::SeqCst)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u64(now_ms());
    h.finish()
}

/// A random version-4-looking UUID.
pub fn new_request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A request as the handlers see it: everything read, so the `tiny_http::Request` is only
/// needed again to respond.
pub(crate) struct Incoming {
    pub method: String,
    /// Raw request target (path and query).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    /// The request as SigV4 signs it.
    pub fn signable(&self) -> sigv4::Request<'_> {
        sigv4::Request {
            method: &self.method,
            target: &self.url,
            headers: &self.headers,
            body: &self.body,
        }
    }

    pub fn read(rq: &mut tiny_http::Request) -> Incoming {
        let mut body = Vec::new();
        if let Err(e) = rq.as_reader().read_to_end(&mut body) {
            eprintln!("emulator: reading a request body failed: {e}");
        }
        Incoming {
            method: rq.method().as_str().to_string(),
            url: rq.url().to_string(),
            headers: rq
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_string(),
                        h.value.as_str().to_string(),
                    )
                })
                .collect(),
            body,
        }
    }

    /// First header with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    pub fn body_string(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends a response; a client that went away is only logged.
pub(crate) fn respond(
    rq: tiny_http::Request,
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<Vec<u8>>,
) {
    let mut response = tiny_http::Response::from_data(body.into()).with_status_code(status);
    for (name, value) in headers {
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(h) => response.add_header(h),
            Err(()) => eprintln!("emulator: cannot send header {name}: {value:?} (not ASCII?)"),
        }
    }
    if let Err(e) = rq.respond(response) {
        eprintln!("emulator: sending a {status} response failed: {e}");
    }
}

pub(crate) fn json_or_null(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

/// A tiny_http server on 127.0.0.1:0 with one accept thread that hands every request to its
/// own handler thread.
struct HttpServer {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    fn start<H>(name: &str, handler: H) -> HttpServer
    where
        H: Fn(tiny_http::Request) + Send + Sync + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| {
            panic!("emulator: cannot bind the {name} server on 127.0.0.1:0: {e}")
        });
        // tiny_http writes a response's head and body separately; with Nagle on, the body
        // waits for the client's delayed ACK (40 ms) on a kept-alive connection. The real
        // Runtime API answers at once. Accepted sockets inherit TCP_NODELAY on Linux.
        socket2::SockRef::from(&listener)
            .set_tcp_nodelay(true)
            .unwrap_or_else(|e| panic!("emulator: TCP_NODELAY on the {name} server: {e}"));
        let server = tiny_http::Server::from_listener(listener, None)
            .unwrap_or_else(|e| panic!("emulator: cannot start the {name} server: {e}"));
        let addr = server
            .server_addr()
            .to_ip()
            .unwrap_or_else(|| panic!("emulator: the {name} server has no IP address"));
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let accept = {
            let server = Arc::clone(&server);
            let stopping = Arc::clone(&stopping);
            let thread_name = format!("emulator-{name}");
            std::thread::Builder::new()
                .name(format!("{thread_name}-accept"))
                .spawn(move || loop {
                    match server.recv() {
                        Ok(rq) => {
                            let handler = Arc::clone(&handler);
                            let spawned = std::thread::Builder::new()
                                .name(thread_name.clone())
                                .spawn(move || handler(rq));
                            if let Err(e) = spawned {
                                eprintln!("emulator: cannot spawn a handler thread: {e}");
                            }
                        }
                        Err(e) => {
                            if stopping.load(Ordering::SeqCst) {
                                break;
                            }
                            eprintln!("emulator: {thread_name} accept error: {e}");
                        }
                    }
                })
                .unwrap_or_else(|e| panic!("emulator: cannot spawn the {name} accept thread: {e}"))
        };
        HttpServer {
            addr,
            server,
            stopping,
            accept: Some(accept),
        }
    }

    fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(accept) = self.accept.take() {
            if accept.join().is_err() {
                eprintln!("emulator: an accept thread panicked");
            }
        }
    }
}
