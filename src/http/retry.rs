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

/// Who a request went to and what for, as its failures are reported and sorted.
pub struct Peer<'a> {
    /// Host and port only: a URL's path can be a credential.
    pub host: &'a str,
    /// What the request was for, in words: `post to Slack`.
    pub step: &'static str,
    /// Wraps the description of a failure that is not the peer's answer.
    pub unreachable: &'a dyn Fn(String) -> Error,
    /// Wraps it when the request was sent and no answer came in time.
    pub no_answer: &'a dyn Fn(String) -> Error,
    /// Sending it twice does no harm (a read). A post is not: once it was sent, a
    /// timeout may hide a delivery, and it is not sent again within the invocation.
    pub idempotent: bool,
}

impl Peer<'_> {
    /// Sorts a transport error for [`retry`].
    pub fn failure(&self, err: &ureq::Error, deadline: Deadline) -> Failure {
        use std::io::ErrorKind as K;
        use ureq::Error as E;
        use ureq::Timeout as T;
        let timed_out =
            matches!(err, E::Timeout(_)) || matches!(err, E::Io(e) if e.kind() == K::TimedOut);
        // ureq names the phase a timeout cut; `Global` may be any of them.
        let before_sending = matches!(
            err,
            E::Timeout(T::Resolve | T::Connect | T::SendRequest | T::SendBody)
        );
        let why = || (self.unreachable)(describe(err, self.host));
        if is_tls(err) {
            // A certificate or protocol the peer will present again: no retry can help.
            Failure::Final(why())
        } else if timed_out && !before_sending && !self.idempotent {
            // Before the deadline check: a post that may have arrived is reported as such,
            // so that what retries it looks for it first (not as a plain timeout).
            Failure::Final((self.no_answer)(format!(
                "{} waiting for the answer from {}; the request may have arrived, so it is \
                 not sent again (Lambda's retry decides)",
                describe(err, self.host),
                self.host
            )))
        } else if timed_out && deadline.budget().is_none() {
            Failure::Final(Error::Timeout(self.step))
        } else if is_dropped(err) {
            Failure::Dropped(why())
        } else {
            Failure::Backoff(why())
        }
    }
}

/// The connection died before any answer: most likely a kept-alive one the peer closed
/// without saying so (while Lambda froze us, or right after its last answer).
pub fn is_dropped(err: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(err, ureq::Error::Io(e) if matches!(
        e.kind(),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
    ))
}

/// A TLS failure: a certificate we do not trust or a handshake we cannot complete.
fn is_tls(err: &ureq::Error) -> bool {
    match err {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => true,
        ureq::Error::Io(e) => super::rustls_error(e).is_some(),
        _ => false,
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

    fn peer(idempotent: bool) -> Peer<'static> {
        Peer {
            host: "hooks.slack.com",
            step: "post to Slack",
            unreachable: &Error::SlackUnreachable,
            no_answer: &Error::SlackNoAnswer,
            idempotent,
        }
    }

    #[test]
    fn a_post_that_timed_out_after_sending_is_not_sent_again() {
        let deadline = Deadline::after(Duration::from_secs(30));
        let waiting = ureq::Error::Timeout(ureq::Timeout::Global);
        let Failure::Final(err @ Error::SlackNoAnswer(_)) = peer(false).failure(&waiting, deadline)
        else {
            panic!("a post is sent once");
        };
        assert!(err.to_string().contains("not sent again"), "{err}");
        assert!(matches!(
            peer(true).failure(&waiting, deadline),
            Failure::Backoff(_)
        ));
        let connecting = ureq::Error::Timeout(ureq::Timeout::Connect);
        assert!(matches!(
            peer(false).failure(&connecting, deadline),
            Failure::Backoff(_)
        ));
        // At the deadline: a post that was sent may have arrived (Lambda's retry looks for
        // it), one that was not is a plain timeout.
        let late = Deadline::after(Duration::ZERO);
        assert!(matches!(
            peer(false).failure(&waiting, late),
            Failure::Final(Error::SlackNoAnswer(_))
        ));
        assert!(matches!(
            peer(false).failure(&connecting, late),
            Failure::Final(Error::Timeout("post to Slack"))
        ));
    }

    #[test]
    fn tls_failures_are_final_and_drops_reconnect() {
        use std::io::{Error as IoError, ErrorKind};
        let deadline = Deadline::after(Duration::from_secs(30));
        let tls = ureq::Error::Io(IoError::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
        ));
        assert!(matches!(
            peer(true).failure(&tls, deadline),
            Failure::Final(Error::SlackUnreachable(_))
        ));
        let reset = ureq::Error::Io(IoError::from(ErrorKind::ConnectionReset));
        assert!(matches!(
            peer(false).failure(&reset, deadline),
            Failure::Dropped(_)
        ));
        let refused = ureq::Error::Io(IoError::from(ErrorKind::ConnectionRefused));
        assert!(matches!(
            peer(false).failure(&refused, deadline),
            Failure::Backoff(_)
        ));
    }
}
