//! One invocation as the Runtime API hands it over: the headers of `GET /next`, read
//! without a socket so that every rule about them is unit-tested.

use crate::error::Error;
use crate::http::Deadline;
use std::time::Duration;

/// Epoch milliseconds before 2001: no deadline Lambda could send. `cargo lambda watch`
/// sends its timeout here (`600000`), a budget from now rather than a time.
const EARLIEST_EPOCH_MS: u64 = 1_000_000_000_000;

pub struct Invocation {
    pub request_id: String,
    pub deadline: Deadline,
    /// The deadline header held a budget, not a time (see [`EARLIEST_EPOCH_MS`]).
    pub deadline_is_budget: bool,
    pub function_arn: Option<String>,
    pub trace_id: Option<String>,
    pub body: Vec<u8>,
}

/// Why an event cannot be served.
#[derive(Debug)]
pub enum Rejected {
    /// Without a request id nobody can be told: the event is skipped.
    Anonymous,
    /// Answered on `/error` with this.
    Invalid { request_id: String, error: Error },
}

impl Invocation {
    /// From the headers of `/next` (`header` looks one up by its lower-case name) at
    /// `now_ms` since the epoch; the body comes later.
    pub fn from_headers<'h>(
        header: impl Fn(&str) -> Option<&'h str>,
        now_ms: u64,
    ) -> Result<Invocation, Rejected> {
        let text = |name: &str| {
            header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let request_id = text("lambda-runtime-aws-request-id").ok_or(Rejected::Anonymous)?;
        let Some(deadline_ms) =
            text("lambda-runtime-deadline-ms").and_then(|v| v.parse::<u64>().ok())
        else {
            return Err(Rejected::Invalid {
                request_id,
                error: Error::InvalidInvocation(
                    "no valid Lambda-Runtime-Deadline-Ms header".to_string(),
                ),
            });
        };
        let deadline_is_budget = deadline_ms < EARLIEST_EPOCH_MS;
        let left = if deadline_is_budget {
            deadline_ms
        } else {
            deadline_ms.saturating_sub(now_ms)
        };
        Ok(Invocation {
            request_id,
            deadline: Deadline::after(Duration::from_millis(left)),
            deadline_is_budget,
            function_arn: text("lambda-runtime-invoked-function-arn"),
            trace_id: text("lambda-runtime-trace-id"),
            body: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_795_865_888_000;

    fn read(headers: &[(&str, &str)]) -> Result<Invocation, Rejected> {
        Invocation::from_headers(
            |name| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
            NOW_MS,
        )
    }

    #[test]
    fn lambda_headers() {
        let deadline = (NOW_MS + 3_000).to_string();
        let got = read(&[
            (
                "lambda-runtime-aws-request-id",
                " 8476a536-e9f4-11e8-9739-2dfe598c3fcd ",
            ),
            ("lambda-runtime-deadline-ms", &deadline),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:1:function:f",
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            ),
        ])
        .expect("valid");
        assert_eq!(got.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert!(!got.deadline_is_budget);
        let left = got.deadline.left();
        assert!(
            left <= Duration::from_secs(3) && left > Duration::from_secs(2),
            "{left:?}"
        );
        assert_eq!(
            got.function_arn.as_deref(),
            Some("arn:aws:lambda:us-east-1:1:function:f")
        );
        assert!(got.trace_id.is_some_and(|t| t.starts_with("Root=")));
    }

    #[test]
    fn cargo_lambda_sends_a_budget() {
        let got = read(&[
            ("lambda-runtime-aws-request-id", "a"),
            ("lambda-runtime-deadline-ms", "600000"),
        ])
        .expect("valid");
        assert!(got.deadline_is_budget);
        let left = got.deadline.left();
        assert!(left > Duration::from_secs(599) && left <= Duration::from_secs(600));
        assert_eq!((got.function_arn, got.trace_id), (None, None));
    }

    #[test]
    fn a_past_deadline_is_past() {
        let past = (NOW_MS - 5_000).to_string();
        let got = read(&[
            ("lambda-runtime-aws-request-id", "a"),
            ("lambda-runtime-deadline-ms", &past),
        ])
        .expect("valid");
        assert_eq!(got.deadline.left(), Duration::ZERO);
    }

    #[test]
    fn missing_or_bad_headers_are_rejected() {
        assert!(matches!(
            read(&[("lambda-runtime-deadline-ms", "1")]),
            Err(Rejected::Anonymous)
        ));
        assert!(matches!(
            read(&[("lambda-runtime-aws-request-id", "  ")]),
            Err(Rejected::Anonymous)
        ));
        for deadline in [None, Some("soon"), Some("-1"), Some("")] {
            let mut headers = vec![("lambda-runtime-aws-request-id", "id-1")];
            headers.extend(deadline.map(|d| ("lambda-runtime-deadline-ms", d)));
            match read(&headers) {
                Err(Rejected::Invalid { request_id, error }) => {
                    assert_eq!(request_id, "id-1");
                    assert_eq!(error.error_type(), "Runtime.InvalidInvocation");
                }
                _ => panic!("{deadline:?} accepted"),
            }
        }
    }
}
