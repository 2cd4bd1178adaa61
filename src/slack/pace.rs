//! How fast this process posts to one channel. Slack's rate-limit pages give posting about
//! one message per second per channel, with short bursts allowed "with no guarantee"; above
//! a burst a message may be accepted (200) and never shown. So no post goes to a channel
//! sooner than [`INTERVAL`] after the last one there, and after a 429 none before its
//! `Retry-After` has passed, whichever message it is (not only the one retried).

use crate::error::Error;
use crate::http::Deadline;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Slack's documented pace per channel: `SLACK_PACE_MILLISECONDS`' default.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// Channels remembered: their turns are at most a second or a `Retry-After` away, so the
/// oldest one forgotten has long had its turn.
const CHANNELS: usize = 64;

/// When each channel may next be posted to. A mutex, not a cell: the graph's upload and a
/// cold start's claim run on threads of their own.
pub struct Pace {
    next: Mutex<Vec<(String, Instant)>>,
    /// Between two posts to one channel: [`INTERVAL`] unless `SLACK_PACE_MILLISECONDS` says
    /// otherwise (a workspace granted more; `0`, no pacing).
    interval: Duration,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace::new(INTERVAL)
    }
}

impl Pace {
    pub fn new(interval: Duration) -> Pace {
        Pace {
            next: Mutex::new(Vec::new()),
            interval,
        }
    }

    /// Between two posts to one channel; zero when pacing is off.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long until `channel`'s turn here: zero when it has come.
    pub fn wait(&self, channel: &str) -> Duration {
        let now = Instant::now();
        self.next()
            .iter()
            .find(|(c, _)| c == channel)
            .map_or(Duration::ZERO, |(_, at)| at.saturating_duration_since(now))
    }

    /// Waits for `channel`'s turn and takes it: the next post there waits [`INTERVAL`]. When
    /// the deadline comes first the post is not made (`Invocation.Timeout`), and Lambda's
    /// retry brings the alarm back, rather than posting it faster than Slack shows.
    pub fn turn(&self, channel: &str, deadline: Deadline) -> Result<(), Error> {
        loop {
            let wait = {
                let mut next = self.next();
                let now = Instant::now();
                match next.iter_mut().find(|(c, _)| c == channel) {
                    Some((_, at)) if *at > now => *at - now,
                    Some((_, at)) => {
                        *at = now + self.interval;
                        return Ok(());
                    }
                    None => {
                        if next.len() >= CHANNELS {
                            next.remove(0);
                        }
                        next.push((channel.to_string(), now + self.interval));
                        return Ok(());
                    }
                }
            };
            if !deadline.sleep(wait) {
                return Err(Error::Timeout(
                    "wait for the channel's turn (Slack shows about one message per second per channel)",
                ));
            }
        }
    }

    /// A post to `channel` ended (answered or not): the next waits [`INTERVAL`] from now, as
    /// Slack counts from when a post arrived, which is later than its turn.
    pub fn done(&self, channel: &str) {
        self.hold(channel, self.interval);
    }

    /// Nothing goes to `channel` for `after`: Slack answered 429, or other instances have
    /// the turns until then.
    pub fn hold(&self, channel: &str, after: Duration) {
        let until = Instant::now() + after;
        let mut next = self.next();
        match next.iter_mut().find(|(c, _)| c == channel) {
            Some((_, at)) => *at = (*at).max(until),
            None => next.push((channel.to_string(), until)),
        }
    }

    fn next(&self) -> MutexGuard<'_, Vec<(String, Instant)>> {
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon() -> Deadline {
        Deadline::after(Duration::from_millis(300))
    }

    #[test]
    fn a_channel_takes_one_post_per_interval_and_others_are_not_held_up() {
        let pace = Pace::default();
        assert!(pace.turn("C1", soon()).is_ok());
        // Within the second, C1's next turn does not fit a short deadline; C2's is now.
        let again = pace.turn("C1", soon()).expect_err("a second too soon");
        assert_eq!(again.error_type(), "Invocation.Timeout");
        assert!(pace.turn("C2", soon()).is_ok());
    }

    #[test]
    fn a_429_holds_every_later_post_to_that_channel() {
        let pace = Pace::default();
        pace.hold("C1", Duration::from_secs(30));
        assert!(pace
            .turn("C1", Deadline::after(Duration::from_secs(5)))
            .is_err());
        assert!(pace.turn("C2", soon()).is_ok());
        // A hold never shortens a turn already further away.
        pace.hold("C2", Duration::ZERO);
        assert!(pace.turn("C2", soon()).is_err());
    }

    #[test]
    fn the_wait_is_until_the_channels_turn_here() {
        let pace = Pace::default();
        assert_eq!(pace.wait("C1"), Duration::ZERO);
        assert!(pace.turn("C1", soon()).is_ok());
        let wait = pace.wait("C1");
        assert!(wait > Duration::ZERO && wait <= INTERVAL, "{wait:?}");
        assert_eq!(pace.wait("C2"), Duration::ZERO);
    }

    #[test]
    fn the_channels_remembered_are_bounded() {
        let pace = Pace::default();
        for i in 0..(CHANNELS + 10) {
            assert!(pace.turn(&format!("C{i}"), soon()).is_ok());
        }
        assert_eq!(pace.next().len(), CHANNELS);
    }
}
