//! An HTTP/1.1 interposer on loopback: forwards each request, bytes unchanged (a SigV4
//! signature stays valid), to the upstream its route names (moto_server's DynamoDB, the Slack
//! Web API stand-in, a Runtime API), unless a queued rule takes it:
//!
//! - `Rule::Answer`: answered here and never forwarded (DynamoDB throttling, which moto does
//!   not simulate);
//! - `Rule::Hold`: forwarded, the upstream's answer read, and kept from the client, which
//!   waits until the interposer is dropped. The request took effect upstream and its sender
//!   never learns it: what a process killed at that moment leaves behind;
//! - `Rule::Hang`: neither forwarded nor answered.
//!
//! Every request is recorded (its request line, the rule it met, what the upstream answered)
//! and waited for with [`Interposer::wait`]. One connection upstream per request; the client's
//! connection is kept when the upstream's answer allows it (HTTP/1.1 with a length), else
//! closed after the answer, as the upstream closed its own.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::{lock, wait_for};

/// What to do with a request a rule takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Answer here with this status, content type and body; not forwarded.
    Answer {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Forward it, read the upstream's answer, and never pass that on.
    Hold,
    /// Neither forward nor answer it.
    Hang,
}

impl Rule {
    /// DynamoDB's throttling answer (awsJson1_0, HTTP 400).
    pub fn dynamodb_throttled() -> Rule {
        Rule::Answer {
            status: 400,
            content_type: "application/x-amz-json-1.0".into(),
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#.into(),
        }
    }

    /// A 503 from DynamoDB's front end.
    pub fn dynamodb_unavailable() -> Rule {
        Rule::Answer {
            status: 503,
            content_type: "application/x-amz-json-1.0".into(),
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable","message":"Service unavailable"}"#.into(),
        }
    }
}

/// One request as it went through.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `POST /path HTTP/1.1`.
    pub line: String,
    /// Its `X-Amz-Target`, if any.
    pub target: Option<String>,
    /// Its body (lossy UTF-8).
    pub body: String,
    /// The rule that took it; `None`: forwarded and answered.
    pub rule: Option<Rule>,
    /// The status the upstream answered (also for a held request), once it did; `None` while
    /// waiting, when it was not forwarded, or when the upstream closed without an answer.
    pub upstream_status: Option<u16>,
    /// Forwarded and the upstream is done with it (answered or closed).
    pub done: bool,
}

struct Queued {
    /// The request's head contains one of these.
    needles: Vec<String>,
    /// Matching requests to let through before this rule takes one.
    skip: usize,
    rule: Rule,
}

struct Inner {
    /// The first route whose needle the request's head contains (`""` matches every one).
    routes: Vec<(String, SocketAddr)>,
    rules: Vec<Queued>,
    seen: Vec<Seen>,
    stopping: bool,
}

type Shared = Arc<(Mutex<Inner>, Condvar)>;

pub struct Interposer {
    addr: SocketAddr,
    state: Shared,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Interposer {
    /// Forwards every request to `upstream` (`http://host:port`, any path ignored).
    pub fn start(upstream: &str) -> Interposer {
        Interposer::routed(&[("", upstream)])
    }

    /// Forwards each request to the upstream of the first route whose needle its head
    /// (request line and headers) contains; `""` matches every request.
    pub fn routed(routes: &[(&str, &str)]) -> Interposer {
        let routes = routes
            .iter()
            .map(|(needle, url)| (needle.to_string(), socket_addr(url)))
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind interposer");
        let addr = listener.local_addr().expect("interposer address");
        let state: Shared = Arc::new((
            Mutex::new(Inner {
                routes,
                rules: Vec::new(),
                seen: Vec::new(),
                stopping: false,
            }),
            Condvar::new(),
        ));
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = std::thread::spawn({
            let state = Arc::clone(&state);
            let stopping = Arc::clone(&stopping);
            move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve(stream, &state));
                }
            }
        });
        Interposer {
            addr,
            state,
            stopping,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, for `AWS_LAMBDA_RUNTIME_API`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The next request whose head contains one of `needles` meets `rule`.
    pub fn next(&self, needles: &[&str], rule: Rule) {
        self.nth(needles, 0, rule);
    }

    /// After `skip` requests whose head contains one of `needles` went through, the next
    /// one meets `rule`. Rules apply in the order they were queued.
    pub fn nth(&self, needles: &[&str], skip: usize, rule: Rule) {
        lock(&self.state.0).rules.push(Queued {
            needles: needles.iter().map(|n| n.to_string()).collect(),
            skip,
            rule,
        });
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.state.0).seen.clone()
    }

    /// Rules queued and not yet met.
    pub fn pending_rules(&self) -> usize {
        lock(&self.state.0).rules.len()
    }

    /// Blocks until `check` holds for the requests seen so far (30 s at most, then panics
    /// naming `what`); returns them.
    pub fn wait(&self, what: &str, mut check: impl FnMut(&[Seen]) -> bool) -> Vec<Seen> {
        let (m, cv) = &*self.state;
        wait_for(
            m,
            cv,
            |s| check(&s.seen).then(|| s.seen.clone()),
            |s| {
                let lines: Vec<&str> = s.seen.iter().map(|r| r.line.as_str()).collect();
                format!("{what} at the interposer (seen: {lines:?})")
            },
        )
    }
}

impl Drop for Interposer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        lock(&self.state.0).stopping = true;
        self.state.1.notify_all();
        // Wake the blocking accept so that its thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn socket_addr(url: &str) -> SocketAddr {
    let host = url.trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    host.parse()
        .unwrap_or_else(|e| panic!("interposer upstream {url}: not an address ({e})"))
}

/// A request or an answer as read: its head as text, its bytes as they came.
struct Message {
    head: String,
    /// Where the body starts in `raw`.
    body_at: usize,
    raw: Vec<u8>,
    /// The length was known (Content-Length); without it the body ran to the end.
    framed: bool,
}

/// Reads a head and its body (by Content-Length; to EOF when `to_eof` and there is none).
/// `None` at the end of the stream before a head.
fn read_message(reader: &mut impl BufRead, to_eof: bool) -> Option<Message> {
    let mut raw = Vec::new();
    loop {
        let before = raw.len();
        if reader.read_until(b'\n', &mut raw).ok()? == 0 {
            return None;
        }
        let line = &raw[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                // Blank lines before a request are skipped (RFC 9112, 2.2).
                raw.clear();
                continue;
            }
            break;
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let body_at = raw.len();
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    match length {
        Some(n) => {
            let start = raw.len();
            raw.resize(start + n, 0);
            reader.read_exact(&mut raw[start..]).ok()?;
        }
        None if to_eof => {
            reader.read_to_end(&mut raw).ok()?;
        }
        None => {}
    }
    Some(Message {
        head,
        body_at,
        raw,
        framed: length.is_some(),
    })
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Sends `request` to `upstream` on a connection of its own; its answer, or `None` when the
/// upstream closed without one.
fn forward(upstream: SocketAddr, request: &[u8]) -> Option<Message> {
    let mut stream = TcpStream::connect(upstream).ok()?;
    let _ = stream.set_nodelay(true);
    stream.write_all(request).ok()?;
    let mut reader = BufReader::new(stream);
    read_message(&mut reader, true)
}

fn serve(stream: TcpStream, state: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_message(&mut reader, false) {
        let line = request.head.lines().next().unwrap_or("").to_string();
        let (index, rule, upstream) = {
            let mut s = lock(&state.0);
            let matches = |needles: &[String]| needles.iter().any(|n| request.head.contains(n));
            let mut rule = None;
            if let Some(at) = s.rules.iter().position(|q| matches(&q.needles)) {
                if s.rules[at].skip > 0 {
                    s.rules[at].skip -= 1;
                } else {
                    rule = Some(s.rules.remove(at).rule);
                }
            }
            let upstream = s
                .routes
                .iter()
                .find(|(needle, _)| request.head.contains(needle.as_str()))
                .map(|(_, addr)| *addr);
            s.seen.push(Seen {
                line: line.clone(),
                target: header(&request.head, "x-amz-target").map(str::to_string),
                body: String::from_utf8_lossy(&request.raw[request.body_at..]).into_owned(),
                rule: rule.clone(),
                upstream_status: None,
                done: false,
            });
            (s.seen.len() - 1, rule, upstream)
        };
        state.1.notify_all();
        let hold = |state: &Shared| {
            let (m, cv) = &**state;
            let mut s = lock(m);
            while !s.stopping {
                s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
            }
        };
        match rule {
            Some(Rule::Answer {
                status,
                content_type,
                body,
            }) => {
                let code = error_type(&body)
                    .map(|code| format!("x-amzn-ErrorType: {code}\r\n"))
                    .unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 {status} Interposed\r\nContent-Type: {content_type}\r\n\
                     {code}Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if writer.write_all(answer.as_bytes()).is_err() {
                    break;
                }
            }
            Some(Rule::Hang) => {
                hold(state);
                break;
            }
            rule @ (Some(Rule::Hold) | None) => {
                let answer = upstream.and_then(|addr| forward(addr, &request.raw));
                {
                    let mut s = lock(&state.0);
                    let seen = &mut s.seen[index];
                    seen.done = true;
                    seen.upstream_status = answer.as_ref().and_then(|a| status(&a.head));
                }
                state.1.notify_all();
                if rule.is_some() {
                    hold(state);
                    break;
                }
                // No answer upstream: none here either (the client reads the end of the stream).
                let Some(answer) = answer else { break };
                if writer.write_all(&answer.raw).is_err() || !keeps_alive(&answer) {
                    break;
                }
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn status(head: &str) -> Option<u16> {
    head.lines().next()?.split(' ').nth(1)?.parse().ok()
}

/// HTTP/1.1, framed by its length, not closing: the client may send its next request on it.
fn keeps_alive(answer: &Message) -> bool {
    answer.framed
        && answer.head.starts_with("HTTP/1.1")
        && !header(&answer.head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
}

/// The code after `#` in an AWS error body's `__type`, for `x-amzn-ErrorType`.
fn error_type(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = body["__type"].as_str()?.rsplit('#').next()?;
    Some(code.to_string())
}
