//! Trying a call again: which failures are worth it, and how long to wait.

use super::{describe, Deadline};
use crate::error::Error;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Attempts per call for 5xx answers and network errors (the AWS SDKs' standard mode).
const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

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
    // Only this loop is generic; what to do after a failure is compiled once.
    let mut state = Attempts::new(deadline);
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(failure) => state.after(failure)?,
        }
    }
}

/// What [`retry`] knows about the attempts so far.
struct Attempts {
    deadline: Deadline,
    failures: u32,
    reconnected: bool,
}

impl Attempts {
    fn new(deadline: Deadline) -> Attempts {
        Attempts {
            deadline,
            failures: 0,
            reconnected: false,
        }
    }

    /// Waits before the next attempt, or gives the error back when there is none.
    fn after(&mut self, failure: Failure) -> Result<(), Error> {
        let wait = match &failure {
            Failure::Final(_) => return Err(failure.into_error()),
            // 429s are not failures of ours: only the deadline bounds them.
            Failure::After(wait, _) => (*wait).max(backoff(self.failures)),
            Failure::Dropped(_) if !self.reconnected => {
                self.reconnected = true;
                self.failures += 1;
                Duration::ZERO
            }
            Failure::Backoff(_) | Failure::Dropped(_) => {
                self.failures += 1;
                backoff(self.failures)
            }
        };
        if self.failures >= MAX_ATTEMPTS || !self.deadline.sleep(wait) {
            return Err(failure.into_error());
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
