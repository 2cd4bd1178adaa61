//! The one HTTP agent, the invocation's deadline, and HTTP errors rendered by us.
//!
//! ureq's own `Display` for an error can carry the request URL, and a Slack
//! webhook URL is a credential, so nothing here ever prints a URL.

use crate::error::Error;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back from every deadline so that a failure can still be reported
/// to the Runtime API before Lambda stops the sandbox.
const SAFETY_MARGIN: Duration = Duration::from_millis(200);
/// Below this, a network call has no real chance; fail fast instead.
const MIN_BUDGET: Duration = Duration::from_millis(20);
/// One attempt may not eat the whole invocation: leave room to try again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call for 5xx answers and network errors (the AWS SDKs' standard mode).
const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        // Non-2xx answers carry the reason (Slack's `no_service`, AWS's `__type`): read them.
        .http_status_as_error(false)
        // A webhook or AWS endpoint that redirects is misconfigured; say so rather than follow.
        .max_redirects(0)
        .user_agent(concat!("alarm-to-slack/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// When Lambda will stop this invocation.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    /// From `Lambda-Runtime-Deadline-Ms` (Unix epoch milliseconds), onto the
    /// monotonic clock so that later arithmetic cannot be fooled by clock steps.
    pub fn from_epoch_ms(deadline_ms: u64) -> Deadline {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Deadline(Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
    }

    #[cfg(test)]
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d)
    }

    /// The time a step may take, or `None` when too little is left for it.
    pub fn budget(&self) -> Option<Duration> {
        let left = self
            .0
            .saturating_duration_since(Instant::now())
            .saturating_sub(SAFETY_MARGIN);
        (left >= MIN_BUDGET).then_some(left)
    }

    /// Waits `wait` when that still leaves time for another attempt; `false` when it does not.
    pub fn sleep(&self, wait: Duration) -> bool {
        match self.budget() {
            Some(left) if left >= wait.saturating_add(MIN_BUDGET) => {
                std::thread::sleep(wait);
                true
            }
            _ => false,
        }
    }

    /// A request builder whose timeouts stop at this deadline, with room to retry.
    pub fn bound<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        step: &'static str,
    ) -> Result<ureq::RequestBuilder<B>, Error> {
        let left = self.budget().ok_or(Error::Timeout(step))?;
        Ok(request
            .config()
            .timeout_global(Some(left.min(ATTEMPT_TIMEOUT)))
            .timeout_connect(Some(left.min(CONNECT_TIMEOUT)))
            .build())
    }
}

/// What a failed attempt asks of [`retry`].
pub enum Failure {
    /// Trying again cannot help.
    Final(Error),
    /// Transient: try again after an exponential, jittered backoff.
    Backoff(Error),
    /// The peer named when to come back (HTTP 429 `Retry-After`).
    After(Duration, Error),
    /// The connection died before any answer: probably a pooled one the peer
    /// closed while Lambda froze us. One immediate retry on a fresh connection.
    Dropped(Error),
}

/// Runs `attempt` until it succeeds, a failure is final, [`MAX_ATTEMPTS`]
/// transient failures happened, or the deadline leaves no time to wait.
/// The error returned is the last real one, so the user sees the cause.
pub fn retry<T>(
    deadline: Deadline,
    mut attempt: impl FnMut() -> Result<T, Failure>,
) -> Result<T, Error> {
    let mut failures = 0;
    let mut reconnected = false;
    loop {
        let failure = match attempt() {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        let wait = match &failure {
            Failure::Final(_) => return Err(failure.into_error()),
            // 429s are not failures of ours: only the deadline bounds them.
            Failure::After(wait, _) => (*wait).max(backoff(failures)),
            Failure::Dropped(_) if !reconnected => {
                reconnected = true;
                failures += 1;
                Duration::ZERO
            }
            Failure::Backoff(_) | Failure::Dropped(_) => {
                failures += 1;
                backoff(failures)
            }
        };
        let err = failure.into_error();
        if failures >= MAX_ATTEMPTS || !deadline.sleep(wait) {
            return Err(err);
        }
    }
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Final(e)
            | Failure::Backoff(e)
            | Failure::After(_, e)
            | Failure::Dropped(e) => e,
        }
    }
}

/// "Full jitter": a random wait up to an exponentially growing cap, so that
/// many sandboxes failing together do not retry together.
fn backoff(failures: u32) -> Duration {
    let cap = BACKOFF_BASE
        .saturating_mul(1 << failures.min(8))
        .min(BACKOFF_CAP);
    let random = RandomState::new().build_hasher().finish();
    Duration::from_nanos(random % (cap.as_nanos() as u64 + 1))
}

/// Sorts a transport error for [`retry`]; `unreachable` wraps the safe description.
pub fn transport_failure(
    err: &ureq::Error,
    deadline: Deadline,
    step: &'static str,
    unreachable: fn(String) -> Error,
) -> Failure {
    use std::io::ErrorKind as K;
    let timed_out = matches!(err, ureq::Error::Timeout(_))
        || matches!(err, ureq::Error::Io(e) if e.kind() == K::TimedOut);
    let dropped = matches!(err, ureq::Error::Io(e) if matches!(
        e.kind(),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
    ));
    if timed_out && deadline.budget().is_none() {
        Failure::Final(Error::Timeout(step))
    } else if dropped {
        Failure::Dropped(unreachable(describe(err)))
    } else {
        Failure::Backoff(unreachable(describe(err)))
    }
}

/// A transport failure in words that are safe to log: no URL, no body.
pub fn describe(err: &ureq::Error) -> String {
    use ureq::Error as E;
    match err {
        E::Timeout(_) => "timed out".to_string(),
        E::HostNotFound => "host not found (DNS)".to_string(),
        E::ConnectionFailed => "connection failed".to_string(),
        E::Io(e) => format!("network error: {}", e.kind()),
        E::Tls(why) => format!("TLS error: {why}"),
        E::Rustls(e) => format!("TLS error: {e}"),
        E::Protocol(_) => "the server's HTTP response is malformed".to_string(),
        E::BadUri(_) | E::Http(_) => "the URL is not valid".to_string(),
        E::RedirectFailed | E::TooManyRedirects => "the server redirected".to_string(),
        E::BodyExceedsLimit(_) => "the response is too large".to_string(),
        E::StatusCode(status) => format!("HTTP {status}"),
        _ => "HTTP request failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_a_margin_and_refuses_when_short() {
        let far = Deadline::after(Duration::from_secs(10))
            .budget()
            .expect("time left");
        assert!(far <= Duration::from_secs(10) - SAFETY_MARGIN);
        assert!(far > Duration::from_secs(9));
        assert!(Deadline::after(SAFETY_MARGIN).budget().is_none());
        assert!(Deadline::from_epoch_ms(0).budget().is_none());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for failures in 0..20 {
            let cap = BACKOFF_BASE
                .saturating_mul(1 << failures.min(8))
                .min(BACKOFF_CAP);
            assert!(backoff(failures) <= cap);
        }
    }

    #[test]
    fn retry_stops_at_three_transient_failures() {
        let deadline = Deadline::after(Duration::from_secs(60));
        let mut calls = 0;
        let result: Result<(), Error> = retry(deadline, || {
            calls += 1;
            Err(Failure::Backoff(Error::SlackUnreachable("down".into())))
        });
        assert!(matches!(result, Err(Error::SlackUnreachable(_))));
        assert_eq!(calls, MAX_ATTEMPTS);
    }

    #[test]
    fn retry_reconnects_once_then_counts_drops_as_failures() {
        let deadline = Deadline::after(Duration::from_secs(60));
        let mut calls = 0;
        let result = retry(deadline, || {
            calls += 1;
            if calls < 3 {
                Err(Failure::Dropped(Error::SlackUnreachable("reset".into())))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.expect("third call succeeds"), 3);
    }

    #[test]
    fn retry_gives_up_when_the_wait_does_not_fit() {
        let deadline = Deadline::after(Duration::from_secs(2));
        let mut calls = 0;
        let result: Result<(), Error> = retry(deadline, || {
            calls += 1;
            Err(Failure::After(
                Duration::from_secs(30),
                Error::SlackRateLimited {
                    retry_after_secs: 30,
                },
            ))
        });
        assert!(matches!(result, Err(Error::SlackRateLimited { .. })));
        assert_eq!(calls, 1);
        let final_error: Result<(), Error> = retry(deadline, || {
            Err(Failure::Final(Error::InvalidSecret("x".into())))
        });
        assert!(matches!(final_error, Err(Error::InvalidSecret(_))));
    }

    #[test]
    fn describe_never_echoes_a_url() {
        let url = "https://hooks.slack.com/services/T1/B2/secret".to_string();
        let text = describe(&ureq::Error::BadUri(url));
        assert!(
            !text.contains("secret") && !text.contains("hooks"),
            "{text}"
        );
    }
}
