//! The Lambda Runtime API (2018-06-01), one function per endpoint, over one kept-alive
//! connection of our own (`wire.rs` reads the answers). Each request's bytes are built by
//! a pure function, so that its method, path and headers are unit-tested.

use super::invocation::{Invocation, Rejected};
use super::wire::{self, Connection, Head};
use crate::error::Error;
use crate::http::{is_idle, url::Url};
use crate::json::Object;
use crate::log;
use crate::text::sanitize;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Lambda allows 6 MB synchronous payloads; anything beyond is not an event of ours.
const MAX_EVENT_BYTES: usize = 8 << 20;
/// An answer to a `POST` is read for its words only.
const MAX_ANSWER_BYTES: usize = 4096;
/// A connection that answered this recently is reused without a probe: no server closes
/// a kept-alive connection, or times it out with a `408`, that soon after an answer.
const FRESH: Duration = Duration::from_secs(1);
const USER_AGENT: &str = concat!("alarm-to-slack/", env!("CARGO_PKG_VERSION"));
/// RFC 3986's unreserved characters stay; a request id goes into a URL path as one segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Runtime API failed us; the process must exit so Lambda can start a new one.
pub struct Fatal(pub String);

/// What `GET /next` brought.
pub enum Next {
    Event(Invocation),
    /// An event that cannot be served; only the loop answers it, on `/error`.
    Invalid {
        request_id: String,
        error: Error,
    },
    /// Nothing to do this time round (204, or an event without a request id).
    Nothing,
}

pub struct RuntimeApi {
    base: Base,
    link: Link,
    /// `GET /next`: the same bytes every time.
    next: Vec<u8>,
}

/// Where the Runtime API is, as every request names it.
struct Base {
    /// `host:port` as configured: the `Host` header.
    authority: String,
    /// The path prefix, if any, and `/2018-06-01`.
    path: String,
}

/// The connection, kept alive between requests.
struct Link {
    /// Host and port, for error messages.
    authority: String,
    /// What to connect to: the authority, with port 80 when it names none.
    address: String,
    conn: Option<Connection<TcpStream>>,
    /// When the kept connection's last answer was read whole.
    answered: Option<Instant>,
}

/// Why no answer arrived.
enum Failure {
    Connect(io::Error),
    Wire(wire::Error),
}

impl RuntimeApi {
    /// `base` is `http://{AWS_LAMBDA_RUNTIME_API}/2018-06-01`, as `config::runtime_api` checked it.
    pub fn new(base: &str) -> Result<RuntimeApi, Fatal> {
        let url = Url::parse(base).filter(|u| !u.https).ok_or_else(|| {
            Fatal(format!(
                "the Runtime API address {base} is not a plain http:// URL"
            ))
        })?;
        let authority = url.authority.to_string();
        // `[::1]` and `host` name no port; `[::1]:9001` and `host:9001` do.
        let address = if authority.ends_with(']') || !authority.contains(':') {
            format!("{authority}:80")
        } else {
            authority.clone()
        };
        let base = Base {
            authority: authority.clone(),
            path: url.rest.to_string(),
        };
        Ok(RuntimeApi {
            next: next_request(&base),
            base,
            link: Link {
                authority,
                address,
                conn: None,
                answered: None,
            },
        })
    }

    /// Blocks until Lambda hands over the next event. No timeout: Lambda freezes the
    /// sandbox while this call waits.
    pub fn next_event(&mut self) -> Result<Next, Fatal> {
        log::set_request_id(None);
        let (head, body) = self
            .link
            .exchange(&self.next, "next event", MAX_EVENT_BYTES)?;
        match head.status {
            200 => {}
            204 => return Ok(Next::Nothing),
            status => {
                return Err(Fatal(format!(
                    "the Runtime API answered HTTP {status} for the next event"
                )))
            }
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let read = Invocation::from_headers(|name| head.header(name), now_ms);
        // provided.* runtimes must set this themselves for X-Ray-aware code.
        match read.as_ref().ok().and_then(|i| i.trace_id.as_deref()) {
            Some(trace) => std::env::set_var("_X_AMZN_TRACE_ID", trace),
            None => std::env::remove_var("_X_AMZN_TRACE_ID"),
        }
        let mut invocation = match read {
            Ok(invocation) => invocation,
            Err(Rejected::Anonymous) => {
                log::error(&"the Runtime API sent an event without Lambda-Runtime-Aws-Request-Id; it cannot be answered and is skipped").emit();
                return Ok(Next::Nothing);
            }
            Err(Rejected::Invalid { request_id, error }) => {
                log::set_request_id(Some(&request_id));
                return Ok(Next::Invalid { request_id, error });
            }
        };
        log::set_request_id(Some(&invocation.request_id));
        log::debug(&"invocation received")
            .str("functionArn", invocation.function_arn.as_deref())
            .str("traceId", invocation.trace_id.as_deref())
            .num("deadlineMs", invocation.deadline.left().as_millis() as u64)
            .emit();
        static BUDGET_LOGGED: AtomicBool = AtomicBool::new(false);
        if invocation.deadline_is_budget && !BUDGET_LOGGED.swap(true, Ordering::Relaxed) {
            log::debug(&"Lambda-Runtime-Deadline-Ms is too small to be a time; read as milliseconds from now, as cargo lambda watch means it").emit();
        }
        match body {
            Ok(body) => {
                invocation.body = body;
                Ok(Next::Event(invocation))
            }
            Err(wire::Error::TooLarge) => Ok(Next::Invalid {
                request_id: invocation.request_id,
                error: Error::InvalidEvent(format!("larger than {} MiB", MAX_EVENT_BYTES >> 20)),
            }),
            Err(e) => Ok(Next::Invalid {
                request_id: invocation.request_id,
                error: Error::InvalidInvocation(format!(
                    "cannot read the event: {}",
                    e.describe(&self.link.authority)
                )),
            }),
        }
    }

    /// `POST /runtime/invocation/{id}/response`.
    pub fn response(&mut self, request_id: &str, body: String) -> Result<(), Fatal> {
        let post = response_post(&self.base, request_id, &body);
        self.send(&post, "response")
    }

    /// `POST /runtime/invocation/{id}/error`.
    pub fn error(&mut self, request_id: &str, err: &Error) -> Result<(), Fatal> {
        let post = error_post(&self.base, Some(request_id), err)?;
        self.send(&post, "error")
    }

    /// `POST /runtime/init/error`: a start-up failure, shown on the first invocation.
    pub fn init_error(&mut self, err: &Error) -> Result<(), Fatal> {
        let post = error_post(&self.base, None, err)?;
        self.send(&post, "init error")
    }

    fn send(&mut self, post: &[u8], what: &str) -> Result<(), Fatal> {
        let (head, body) = self.link.exchange(post, what, MAX_ANSWER_BYTES)?;
        let answer = body
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        check(head.status, &answer, what)
    }
}

impl Link {
    /// Sends `request` and reads the answer, its body up to `limit` (a body that cannot be
    /// read is the caller's to judge). A request whose connection died before any answer
    /// (a kept-alive one the Runtime API closed without saying so) is sent once more, on a
    /// fresh connection. Only a Runtime API that cannot be reached twice in a row is fatal.
    fn exchange(
        &mut self,
        request: &[u8],
        what: &str,
        limit: usize,
    ) -> Result<(Head, Result<Vec<u8>, wire::Error>), Fatal> {
        let answered = match self.ask(request) {
            Err(Failure::Wire(wire::Error::Dropped(_))) => {
                log::debug(&format_args!(
                    "the Runtime API connection closed before answering the {what}; sending it again"
                ))
                .emit();
                self.ask(request)
            }
            other => other,
        };
        let (head, mut conn) = answered.map_err(|failure| {
            Fatal(format!(
                "cannot reach the Runtime API for the {what}: {}",
                self.words(&failure)
            ))
        })?;
        let body = conn.body(&head, limit);
        if conn.reusable() {
            self.conn = Some(conn);
            self.answered = Some(Instant::now());
        }
        Ok((head, body))
    }

    /// One attempt: on the kept connection while it is open and idle, else a new one. The
    /// probe is one system call; without it, bytes a server sent unasked (a `408` before it
    /// closes) would be read as this request's answer.
    fn ask(&mut self, request: &[u8]) -> Result<(Head, Connection<TcpStream>), Failure> {
        let fresh = self.answered.take().is_some_and(|at| at.elapsed() < FRESH);
        let mut conn = match self.conn.take() {
            Some(conn) if fresh || is_idle(conn.stream()) => conn,
            _ => self.connect().map_err(Failure::Connect)?,
        };
        conn.send(request).map_err(Failure::Wire)?;
        let head = conn.head().map_err(Failure::Wire)?;
        Ok((head, conn))
    }

    fn connect(&self) -> io::Result<Connection<TcpStream>> {
        let stream = TcpStream::connect(&self.address)?;
        // Each request leaves in one write and waits for its answer: nothing to coalesce.
        stream.set_nodelay(true)?;
        Ok(Connection::new(stream))
    }

    fn words(&self, failure: &Failure) -> String {
        let host = &self.authority;
        match failure {
            // std's getaddrinfo failure has no ErrorKind of its own.
            Failure::Connect(e) if e.to_string().starts_with("failed to lookup address") => {
                format!("no address for {host} (DNS)")
            }
            Failure::Connect(e) => format!("cannot connect to {host}: {}", e.kind()),
            Failure::Wire(e) => e.describe(host),
        }
    }
}

/// 2xx is done; 5xx is the spec's "non-recoverable"; other refusals (400, 403, 413) lose
/// this invocation to Lambda's own error handling, but the runtime serves the next one.
fn check(status: u16, answer: &str, what: &str) -> Result<(), Fatal> {
    match status {
        200..=299 => Ok(()),
        500..=599 => Err(Fatal(format!(
            "the Runtime API answered HTTP {status} to the {what}: {}",
            sanitize(answer, 200)
        ))),
        _ => {
            log::error(&format_args!(
                "the Runtime API refused the {what} with HTTP {status}: {}",
                sanitize(answer, 200)
            ))
            .emit();
            Ok(())
        }
    }
}

fn next_request(base: &Base) -> Vec<u8> {
    format!(
        "GET {}/runtime/invocation/next HTTP/1.1\r\nHost: {}\r\nUser-Agent: {USER_AGENT}\r\n\r\n",
        base.path, base.authority
    )
    .into_bytes()
}

/// A JSON `POST` to `path` under the base, head and body in one buffer.
fn post(base: &Base, path: &str, error_type: Option<&str>, body: &str) -> Vec<u8> {
    let mut request = format!(
        "POST {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {USER_AGENT}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        base.path,
        base.authority,
        body.len()
    );
    if let Some(error_type) = error_type {
        request.push_str("Lambda-Runtime-Function-Error-Type: ");
        request.push_str(error_type);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    request.into_bytes()
}

fn response_post(base: &Base, request_id: &str, body: &str) -> Vec<u8> {
    let path = format!("/runtime/invocation/{}/response", segment(request_id));
    post(base, &path, None, body)
}

/// `/runtime/invocation/{id}/error`, or `/runtime/init/error` without an id.
fn error_post(base: &Base, request_id: Option<&str>, err: &Error) -> Result<Vec<u8>, Fatal> {
    let path = match request_id {
        Some(id) => format!("/runtime/invocation/{}/error", segment(id)),
        None => "/runtime/init/error".to_string(),
    };
    let error_type = err.error_type();
    // What a header value may hold (the `http` crate's rule): a line break would end the
    // header and start one of the peer's choosing.
    if !error_type
        .bytes()
        .all(|b| (b >= b' ' && b != 0x7f) || b == b'\t')
    {
        return Err(Fatal(format!(
            "cannot build a Runtime API request to http://{}{}{path}",
            base.authority, base.path
        )));
    }
    let mut body = Object::new();
    body.string("errorMessage", &err.to_string());
    body.string("errorType", &error_type);
    body.raw("stackTrace", "[]");
    Ok(post(base, &path, Some(&error_type), &body.finish()))
}

fn segment(id: &str) -> String {
    utf8_percent_encode(id, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Base {
        Base {
            authority: "127.0.0.1:9001".into(),
            path: "/2018-06-01".into(),
        }
    }

    fn text(request: &[u8]) -> &str {
        std::str::from_utf8(request).expect("utf-8")
    }

    #[test]
    fn next_is_a_plain_get() {
        assert_eq!(
            text(&next_request(&base())),
            concat!(
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n",
                "User-Agent: alarm-to-slack/",
                env!("CARGO_PKG_VERSION"),
                "\r\n\r\n"
            )
        );
    }

    #[test]
    fn the_address_as_lambda_and_cargo_lambda_give_it() {
        let api = |base: &str| RuntimeApi::new(base).unwrap_or_else(|Fatal(why)| panic!("{why}"));
        let lambda = api("http://127.0.0.1:9001/2018-06-01");
        assert_eq!(lambda.link.address, "127.0.0.1:9001");
        assert!(text(&lambda.next).starts_with("GET /2018-06-01/runtime/invocation/next "));
        let watch = api("http://[::]:9000/.rt/bootstrap/2018-06-01");
        assert_eq!(watch.link.address, "[::]:9000");
        assert!(text(&watch.next).contains("\r\nHost: [::]:9000\r\n"));
        assert!(text(&watch.next).starts_with("GET /.rt/bootstrap/2018-06-01/runtime/"));
        assert_eq!(
            api("http://localhost/2018-06-01").link.address,
            "localhost:80"
        );
        assert_eq!(api("http://[::1]/2018-06-01").link.address, "[::1]:80");
        assert!(RuntimeApi::new("https://localhost:9000/2018-06-01").is_err());
    }

    #[test]
    fn response_posts_json_to_the_invocation() {
        let post = response_post(&base(), "8476a536-e9f4", "{\"posted\":1}");
        assert_eq!(
            text(&post),
            concat!(
                "POST /2018-06-01/runtime/invocation/8476a536-e9f4/response HTTP/1.1\r\n",
                "Host: 127.0.0.1:9001\r\nUser-Agent: alarm-to-slack/",
                env!("CARGO_PKG_VERSION"),
                "\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n",
                "{\"posted\":1}"
            )
        );
    }

    #[test]
    fn errors_carry_their_type_in_header_and_body() {
        let err = Error::InvalidEvent("no Records".into());
        let post = error_post(&base(), Some("id/1 ?"), &err).unwrap_or_else(|_| panic!("post"));
        let (head, body) = text(&post).split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.starts_with("POST /2018-06-01/runtime/invocation/id%2F1%20%3F/error HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nLambda-Runtime-Function-Error-Type: Event.Invalid"));
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "errorMessage": "the event is not one this function handles: no Records",
                "errorType": "Event.Invalid",
                "stackTrace": []
            })
        );
        let init = error_post(&base(), None, &Error::config("SecretId", "is not set"))
            .unwrap_or_else(|_| panic!("post"));
        assert!(text(&init).starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"));
        assert!(text(&init)
            .contains("\r\nLambda-Runtime-Function-Error-Type: Config.InvalidEnvironment\r\n"));
    }

    #[test]
    fn request_ids_are_one_path_segment() {
        assert_eq!(
            segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(segment("a/b c?~._"), "a%2Fb%20c%3F~._");
    }
}
