//! The Lambda Runtime API client and the invocation loop: a plain blocking
//! loop over ureq, one invocation at a time, as Lambda runs them.

use crate::error::{sanitize, Error};
use crate::http::{describe, Deadline};
use crate::log;

/// Lambda allows 6 MB synchronous payloads; anything beyond is not an event of ours.
const MAX_EVENT_BYTES: u64 = 8 << 20;

/// The Runtime API failed us; the process must exit so Lambda can start a new one.
pub struct Fatal(pub String);

pub struct RuntimeApi {
    base: String,
    agent: ureq::Agent,
}

pub struct Invocation {
    pub request_id: String,
    pub deadline: Deadline,
    pub body: Vec<u8>,
}

impl RuntimeApi {
    /// `base` is `http://{AWS_LAMBDA_RUNTIME_API}/2018-06-01`.
    pub fn new(agent: ureq::Agent, base: String) -> RuntimeApi {
        RuntimeApi { base, agent }
    }

    /// Blocks until Lambda hands over the next event. `None` means there is
    /// nothing to do this time round (204, or an invocation we cannot even name).
    fn next(&self) -> Result<Option<Invocation>, Fatal> {
        log::set_request_id(None);
        let url = format!("{}/runtime/invocation/next", self.base);
        // No timeout: Lambda freezes the sandbox while this call waits.
        let mut response = self.agent.get(&url).call().map_err(|e| {
            Fatal(format!(
                "cannot reach the Runtime API for the next event: {}",
                describe(&e)
            ))
        })?;
        match response.status().as_u16() {
            200 => {}
            204 => return Ok(None),
            status => {
                return Err(Fatal(format!(
                    "the Runtime API answered HTTP {status} for the next event"
                )))
            }
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let request_id = header("lambda-runtime-aws-request-id");
        let deadline = header("lambda-runtime-deadline-ms").and_then(|v| v.parse::<u64>().ok());
        let function_arn = header("lambda-runtime-invoked-function-arn");
        let trace_id = header("lambda-runtime-trace-id");
        match &trace_id {
            // provided.* runtimes must set this themselves for X-Ray-aware code.
            Some(trace) => std::env::set_var("_X_AMZN_TRACE_ID", trace),
            None => std::env::remove_var("_X_AMZN_TRACE_ID"),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_EVENT_BYTES)
            .read_to_vec();

        let Some(request_id) = request_id else {
            log::error(&"the Runtime API sent an event without Lambda-Runtime-Aws-Request-Id; it cannot be answered and is skipped").emit();
            return Ok(None);
        };
        log::set_request_id(Some(&request_id));
        log::debug(&"invocation received")
            .str("functionArn", function_arn.as_deref())
            .str("traceId", trace_id.as_deref())
            .num("deadlineMs", deadline)
            .emit();
        let problem = match (deadline, &body) {
            (None, _) => Some(Error::InvalidInvocation(
                "no valid Lambda-Runtime-Deadline-Ms header".to_string(),
            )),
            (_, Err(ureq::Error::BodyExceedsLimit(_))) => Some(Error::InvalidEvent(format!(
                "larger than {} MiB",
                MAX_EVENT_BYTES >> 20
            ))),
            (_, Err(e)) => Some(Error::InvalidInvocation(format!(
                "cannot read the event: {}",
                describe(e)
            ))),
            _ => None,
        };
        if let Some(err) = problem {
            log::error(&"invocation failed")
                .word("outcome", "error")
                .error(&err)
                .emit();
            self.fail(&request_id, &err)?;
            return Ok(None);
        }
        match (deadline, body) {
            (Some(deadline), Ok(body)) => Ok(Some(Invocation {
                request_id,
                deadline: Deadline::from_epoch_ms(deadline),
                body,
            })),
            _ => Ok(None),
        }
    }

    fn respond(&self, request_id: &str, body: &str) -> Result<(), Fatal> {
        let url = format!(
            "{}/runtime/invocation/{}/response",
            self.base,
            path_segment(request_id)
        );
        let result = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body);
        self.check(result, "response")
    }

    fn fail(&self, request_id: &str, err: &Error) -> Result<(), Fatal> {
        let url = format!(
            "{}/runtime/invocation/{}/error",
            self.base,
            path_segment(request_id)
        );
        self.post_error(&url, err, "error")
    }

    /// Reports a start-up failure; Lambda shows it on the first invocation.
    pub fn init_error(&self, err: &Error) -> Result<(), Fatal> {
        let url = format!("{}/runtime/init/error", self.base);
        self.post_error(&url, err, "init error")
    }

    fn post_error(&self, url: &str, err: &Error, what: &str) -> Result<(), Fatal> {
        let error_type = err.error_type();
        let body = serde_json::json!({
            "errorMessage": err.to_string(),
            "errorType": error_type,
            "stackTrace": [],
        })
        .to_string();
        let result = self
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Lambda-Runtime-Function-Error-Type", &error_type)
            .send(body.as_str());
        self.check(result, what)
    }

    fn check(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> Result<(), Fatal> {
        let mut response = result.map_err(|e| {
            Fatal(format!(
                "cannot reach the Runtime API to post the {what}: {}",
                describe(&e)
            ))
        })?;
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
            // 400/403/413: this invocation is lost to Lambda's own error handling,
            // but the runtime itself is fine and serves the next one.
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
}

/// Serves invocations until the Runtime API fails; returns why it stopped.
pub fn run(
    api: &RuntimeApi,
    mut handle: impl FnMut(&Invocation) -> Result<String, Error>,
) -> Fatal {
    loop {
        let invocation = match api.next() {
            Ok(Some(invocation)) => invocation,
            Ok(None) => continue,
            Err(fatal) => return fatal,
        };
        let sent = match handle(&invocation) {
            Ok(body) => api.respond(&invocation.request_id, &body),
            Err(err) => api.fail(&invocation.request_id, &err),
        };
        if let Err(fatal) = sent {
            return fatal;
        }
    }
}

/// A request id goes into a URL path; real ones are UUIDs, but nothing promises it.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_path_safe() {
        assert_eq!(
            path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(path_segment("a/b c?"), "a%2Fb%20c%3F");
    }
}
