//! The Lambda Runtime API (2018-06-01), one function per endpoint. Each request is
//! built by a pure function, so that its method, path and headers are unit-tested.

use super::invocation::{Invocation, Rejected};
use crate::error::Error;
use crate::http::{describe, is_dropped};
use crate::json::Object;
use crate::log;
use crate::text::sanitize;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use ureq::http::{Request, Response};
use ureq::{AsSendBody, Body};

/// Lambda allows 6 MB synchronous payloads; anything beyond is not an event of ours.
const MAX_EVENT_BYTES: u64 = 8 << 20;
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
    base: String,
    /// Host and port, for error messages.
    host: String,
    agent: ureq::Agent,
}

impl RuntimeApi {
    /// `base` is `http://{AWS_LAMBDA_RUNTIME_API}/2018-06-01`.
    pub fn new(agent: ureq::Agent, base: String) -> RuntimeApi {
        let after_scheme = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest);
        let host = after_scheme
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        RuntimeApi { base, host, agent }
    }

    /// Runs a request; one whose connection died before any answer (a kept-alive one the
    /// Runtime API closed without saying so) is sent once more, on a fresh connection.
    /// Only a Runtime API that cannot be reached twice in a row is fatal.
    fn run<B: AsSendBody>(
        &self,
        request: impl Fn() -> Result<Request<B>, Fatal>,
        what: &str,
    ) -> Result<Response<Body>, Fatal> {
        let first = match self.agent.run(request()?) {
            Err(e) if is_dropped(&e) => {
                log::debug(&format_args!(
                    "the Runtime API connection closed before answering the {what}; sending it again"
                ))
                .emit();
                self.agent.run(request()?)
            }
            other => other,
        };
        first.map_err(|e| {
            Fatal(format!(
                "cannot reach the Runtime API for the {what}: {}",
                describe(&e, &self.host)
            ))
        })
    }

    /// Blocks until Lambda hands over the next event. No timeout: Lambda freezes the
    /// sandbox while this call waits.
    pub fn next(&self) -> Result<Next, Fatal> {
        log::set_request_id(None);
        let mut response = self.run(|| next_request(&self.base), "next event")?;
        match response.status().as_u16() {
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
        let headers = response.headers();
        let read = Invocation::from_headers(
            |name| headers.get(name).and_then(|v| v.to_str().ok()),
            now_ms,
        );
        // provided.* runtimes must set this themselves for X-Ray-aware code.
        match read.as_ref().ok().and_then(|i| i.trace_id.as_deref()) {
            Some(trace) => std::env::set_var("_X_AMZN_TRACE_ID", trace),
            None => std::env::remove_var("_X_AMZN_TRACE_ID"),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_EVENT_BYTES)
            .read_to_vec();
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
            Err(ureq::Error::BodyExceedsLimit(_)) => Ok(Next::Invalid {
                request_id: invocation.request_id,
                error: Error::InvalidEvent(format!("larger than {} MiB", MAX_EVENT_BYTES >> 20)),
            }),
            Err(e) => Ok(Next::Invalid {
                request_id: invocation.request_id,
                error: Error::InvalidInvocation(format!(
                    "cannot read the event: {}",
                    describe(&e, &self.host)
                )),
            }),
        }
    }

    /// `POST /runtime/invocation/{id}/response`.
    pub fn response(&self, request_id: &str, body: String) -> Result<(), Fatal> {
        self.send(&response_post(&self.base, request_id, body), "response")
    }

    /// `POST /runtime/invocation/{id}/error`.
    pub fn error(&self, request_id: &str, err: &Error) -> Result<(), Fatal> {
        self.send(&error_post(&self.base, Some(request_id), err), "error")
    }

    /// `POST /runtime/init/error`: a start-up failure, shown on the first invocation.
    pub fn init_error(&self, err: &Error) -> Result<(), Fatal> {
        self.send(&error_post(&self.base, None, err), "init error")
    }

    /// Posts `post`; a request sent again borrows the same body (nothing is copied).
    fn send(&self, post: &Post, what: &str) -> Result<(), Fatal> {
        let mut response = self.run(|| post.request(), what)?;
        check(&mut response, what)
    }
}

/// 2xx is done; 5xx is the spec's "non-recoverable"; other refusals (400, 403, 413) lose
/// this invocation to Lambda's own error handling, but the runtime serves the next one.
fn check(response: &mut Response<ureq::Body>, what: &str) -> Result<(), Fatal> {
    let status = response.status().as_u16();
    let answer = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    match status {
        200..=299 => Ok(()),
        500..=599 => Err(Fatal(format!(
            "the Runtime API answered HTTP {status} to the {what}: {}",
            sanitize(&answer, 200)
        ))),
        _ => {
            log::error(&format_args!(
                "the Runtime API refused the {what} with HTTP {status}: {}",
                sanitize(&answer, 200)
            ))
            .emit();
            Ok(())
        }
    }
}

fn next_request(base: &str) -> Result<Request<()>, Fatal> {
    let url = format!("{base}/runtime/invocation/next");
    Request::get(&url)
        .body(())
        .map_err(|_| Fatal(format!("cannot build a Runtime API request to {url}")))
}

/// A JSON `POST` to the Runtime API, ready to be sent (and sent again).
struct Post {
    url: String,
    body: String,
    error_type: Option<String>,
}

impl Post {
    fn request(&self) -> Result<Request<&str>, Fatal> {
        let mut request = Request::post(&self.url).header("Content-Type", "application/json");
        if let Some(error_type) = &self.error_type {
            request = request.header("Lambda-Runtime-Function-Error-Type", error_type);
        }
        request.body(self.body.as_str()).map_err(|_| {
            Fatal(format!(
                "cannot build a Runtime API request to {}",
                self.url
            ))
        })
    }
}

fn response_post(base: &str, request_id: &str, body: String) -> Post {
    Post {
        url: format!("{base}/runtime/invocation/{}/response", segment(request_id)),
        body,
        error_type: None,
    }
}

/// `/runtime/invocation/{id}/error`, or `/runtime/init/error` without an id.
fn error_post(base: &str, request_id: Option<&str>, err: &Error) -> Post {
    let url = match request_id {
        Some(id) => format!("{base}/runtime/invocation/{}/error", segment(id)),
        None => format!("{base}/runtime/init/error"),
    };
    let error_type = err.error_type();
    let mut body = Object::new();
    body.string("errorMessage", &err.to_string());
    body.string("errorType", &error_type);
    body.raw("stackTrace", "[]");
    let body = body.finish();
    Post {
        url,
        body,
        error_type: Some(error_type),
    }
}

fn segment(id: &str) -> String {
    utf8_percent_encode(id, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:9001/2018-06-01";

    fn header<'r, B>(request: &'r Request<B>, name: &str) -> Option<&'r str> {
        request.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn next_is_a_plain_get() {
        let request = next_request(BASE).unwrap_or_else(|_| panic!("request"));
        assert_eq!(request.method(), "GET");
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"
        );
        assert!(request.headers().is_empty());
    }

    #[test]
    fn response_posts_json_to_the_invocation() {
        let post = response_post(BASE, "8476a536-e9f4", "{\"posted\":1}".into());
        let request = post.request().unwrap_or_else(|_| panic!("request"));
        assert_eq!(request.method(), "POST");
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/8476a536-e9f4/response"
        );
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(header(&request, "lambda-runtime-function-error-type"), None);
        assert_eq!(*request.body(), "{\"posted\":1}");
    }

    #[test]
    fn errors_carry_their_type_in_header_and_body() {
        let err = Error::InvalidEvent("no Records".into());
        let post = error_post(BASE, Some("id/1 ?"), &err);
        let request = post.request().unwrap_or_else(|_| panic!("request"));
        assert_eq!(request.method(), "POST");
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/id%2F1%20%3F/error"
        );
        assert_eq!(
            header(&request, "lambda-runtime-function-error-type"),
            Some("Event.Invalid")
        );
        let body: serde_json::Value = serde_json::from_str(request.body()).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "errorMessage": "the event is not one this function handles: no Records",
                "errorType": "Event.Invalid",
                "stackTrace": []
            })
        );
        let init_post = error_post(BASE, None, &Error::config("SecretId", "is not set"));
        let init = init_post.request().unwrap_or_else(|_| panic!("request"));
        assert_eq!(
            init.uri(),
            "http://127.0.0.1:9001/2018-06-01/runtime/init/error"
        );
        assert_eq!(
            header(&init, "lambda-runtime-function-error-type"),
            Some("Config.InvalidEnvironment")
        );
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
