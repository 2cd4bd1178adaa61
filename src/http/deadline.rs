//! The invocation's deadline, and the time each network step may take within it.

use crate::error::Error;
use std::time::{Duration, Instant};

/// Time kept back from every deadline so that a failure can still be reported
/// to the Runtime API before Lambda stops the sandbox.
const SAFETY_MARGIN: Duration = Duration::from_millis(200);
/// Below this, a network call has no real chance; fail fast instead.
const MIN_BUDGET: Duration = Duration::from_millis(20);
/// One attempt may not eat the whole invocation: leave room to try again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const LONGEST: Duration = Duration::from_secs(86_400);

/// When Lambda will stop this invocation.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    /// `d` from now, on the monotonic clock so that later arithmetic cannot be fooled
    /// by clock steps. Lambda's longest timeout is 15 minutes; a day bounds whatever a
    /// Runtime API sends, so that no arithmetic on it can overflow.
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d.min(LONGEST))
    }

    /// The time until Lambda stops the invocation.
    pub fn left(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// The time a step may take, or `None` when too little is left for it.
    pub fn budget(&self) -> Option<Duration> {
        let left = self.left().saturating_sub(SAFETY_MARGIN);
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
        let attempt = self.attempt().ok_or(Error::Timeout(step))?;
        Ok(request
            .config()
            .timeout_global(Some(attempt))
            .timeout_connect(Some(attempt.min(CONNECT_TIMEOUT)))
            .build())
    }

    /// How long one attempt may wait. A socket receive timeout fires late: Linux's timer
    /// wheel rounds it up to its level's granularity, up to an eighth of the timeout
    /// (measured: +10 ms on 1.8 s, +184 ms on 9.8 s). Cut by a ninth, even the latest
    /// firing still leaves the whole safety margin to report the failure.
    fn attempt(&self) -> Option<Duration> {
        let left = self.budget()?;
        Some((left - left / 9).min(ATTEMPT_TIMEOUT))
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
        assert!(Deadline::after(Duration::ZERO).budget().is_none());
        let forever = Deadline::after(Duration::from_millis(u64::MAX));
        assert_eq!(forever.attempt(), Some(ATTEMPT_TIMEOUT));
        let ten = Deadline::after(Duration::from_secs(10))
            .attempt()
            .expect("time");
        // However late it fires, the timeout ends within the budget.
        assert!(
            ten + ten / 8 <= Duration::from_secs(10) - SAFETY_MARGIN,
            "{ten:?}"
        );
        assert!(ten > Duration::from_secs(8), "{ten:?}");
        assert!(forever.left() <= LONGEST);
    }
}
