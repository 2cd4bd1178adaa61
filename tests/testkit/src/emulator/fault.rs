//! A scripted HTTP/1.1 server on raw TCP for the faults a real HTTP server
//! library will not produce on purpose: closing a connection after reading a
//! request without answering, closing a kept-alive connection when it is
//! reused, or closing right after an answer without saying so.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::{lock, wait_for};

/// What to do with one request.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answer, and keep the connection open unless `close` (without a `Connection: close` header).
    Respond {
        status: u16,
        content_type: String,
        body: String,
        close: bool,
    },
    /// Read the request, then close the connection without a byte of answer.
    Close,
    /// Read the request and never answer (until the server is dropped).
    Hang,
    /// Answer the status line, then one byte of a header line every `every`, never
    /// finishing the headers: a peer that accepted the request and is slow to answer.
    Dribble { every: std::time::Duration },
    /// Answer with exactly these bytes (framing of our choosing), then close the
    /// connection if `close`.
    Raw { bytes: Vec<u8>, close: bool },
    /// Answer as the Runtime API's `GET /next` does: an event with its request id and a
    /// deadline `deadline_ms` from now.
    Invoke {
        request_id: String,
        deadline_ms: u64,
        body: String,
    },
}

impl Action {
    pub fn ok(content_type: &str, body: &str) -> Action {
        Action::Respond {
            status: 200,
            content_type: content_type.to_string(),
            body: body.to_string(),
            close: false,
        }
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Which connection (1, 2, …) and which request on it (1, 2, …).
    pub connection: usize,
    pub nth_on_connection: usize,
    /// `POST /path HTTP/1.1`.
    pub line: String,
    pub body: String,
    /// Whether it was answered (false: the connection was closed instead).
    pub answered: bool,
}

struct Inner {
    default: Action,
    script: VecDeque<Action>,
    /// Close a kept-alive connection when a second request arrives on it.
    drop_reused: bool,
    /// Serving as a Runtime API: `GET`s take the events queued by `push_event`, and
    /// wait (as `/next` does) while there is none.
    events: Option<VecDeque<Action>>,
    connections: usize,
    received: Vec<Received>,
    stopping: bool,
}

pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<(Mutex<Inner>, Condvar)>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Answers every request with `default` unless a scripted action is queued.
    pub fn start(default: Action) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fault server");
        let addr = listener.local_addr().expect("fault server address");
        let state = Arc::new((
            Mutex::new(Inner {
                default,
                script: VecDeque::new(),
                drop_reused: false,
                events: None,
                connections: 0,
                received: Vec::new(),
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
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve(stream, &state));
                }
            }
        });
        FaultServer {
            addr,
            state,
            stopping,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues actions for the next requests (FIFO), before the default applies again.
    pub fn push(&self, action: Action) {
        lock(&self.state.0).script.push_back(action);
    }

    /// Queues an event for a `GET` (see [`Action::Invoke`]); from now on `GET`s only
    /// take events, and wait while there is none.
    pub fn push_event(&self, action: Action) {
        lock(&self.state.0)
            .events
            .get_or_insert_with(VecDeque::new)
            .push_back(action);
    }

    pub fn drop_reused_connections(&self, on: bool) {
        lock(&self.state.0).drop_reused = on;
    }

    pub fn connections(&self) -> usize {
        lock(&self.state.0).connections
    }

    /// Blocks until `n` connections were accepted.
    pub fn wait_connections(&self, n: usize) {
        let (m, cv) = &*self.state;
        wait_for(
            m,
            cv,
            |s| (s.connections >= n).then_some(()),
            |s| {
                format!(
                    "{n} connection(s) at the fault server (got {})",
                    s.connections
                )
            },
        )
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.state.0).received.clone()
    }

    pub fn wait_received(&self, n: usize) -> Vec<Received> {
        let (m, cv) = &*self.state;
        wait_for(
            m,
            cv,
            |s| (s.received.len() >= n).then(|| s.received.clone()),
            |s| {
                format!(
                    "{n} request(s) at the fault server (got {})",
                    s.received.len()
                )
            },
        )
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        lock(&self.state.0).stopping = true;
        self.state.1.notify_all();
        // Wake the blocking accept so its thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(stream: TcpStream, state: &(Mutex<Inner>, Condvar)) {
    let connection = {
        let mut s = lock(&state.0);
        s.connections += 1;
        s.connections
    };
    state.1.notify_all();
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut nth = 0;
    while let Some((line, body)) = read_request(&mut reader) {
        nth += 1;
        let action = {
            let mut s = lock(&state.0);
            let action = if s.drop_reused && nth > 1 {
                Action::Close
            } else if let (Some(events), true) = (&mut s.events, line.starts_with("GET")) {
                events.pop_front().unwrap_or(Action::Hang)
            } else {
                s.script.pop_front().unwrap_or_else(|| s.default.clone())
            };
            s.received.push(Received {
                connection,
                nth_on_connection: nth,
                line,
                body,
                answered: matches!(
                    action,
                    Action::Respond { .. } | Action::Invoke { .. } | Action::Raw { .. }
                ),
            });
            action
        };
        state.1.notify_all();
        match action {
            Action::Close => break,
            Action::Hang => {
                let (m, cv) = state;
                let mut s = lock(m);
                while !s.stopping {
                    s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                break;
            }
            Action::Dribble { every } => {
                if writer.write_all(b"HTTP/1.1 200 OK\r\n").is_err() {
                    break;
                }
                let (m, cv) = state;
                let mut s = lock(m);
                while !s.stopping {
                    // Only the wait paces the bytes; the client's timeout ends the exchange.
                    s = cv
                        .wait_timeout(s, every)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                    if writer.write_all(b"X").is_err() {
                        break;
                    }
                }
                break;
            }
            Action::Invoke {
                request_id,
                deadline_ms,
                body,
            } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {request_id}\r\n\
                     Lambda-Runtime-Deadline-Ms: {}\r\nContent-Length: {}\r\n\r\n",
                    super::now_ms() + deadline_ms,
                    body.len()
                );
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(body.as_bytes()).is_err()
                {
                    break;
                }
            }
            Action::Raw { bytes, close } => {
                if writer.write_all(&bytes).is_err() || close {
                    break;
                }
            }
            Action::Respond {
                status,
                content_type,
                body,
                close,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    reason(status),
                    body.len()
                );
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(body.as_bytes()).is_err()
                    || close
                {
                    break;
                }
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// The request line and body of the next request, or None at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String)> {
    let mut content_length = 0;
    let mut first = true;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            if first {
                continue;
            }
            break;
        }
        if first {
            request_line = line.to_string();
        }
        first = false;
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).ok()?;
    Some((request_line, String::from_utf8_lossy(&body).into_owned()))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
