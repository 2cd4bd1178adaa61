//! Keeps the secret in memory between warm invocations, so that an alarm
//! usually costs no Secrets Manager call at all.
//!
//! Time is the monotonic clock, which keeps running while Lambda freezes the
//! sandbox, so a TTL counts frozen time too.

use crate::error::Error;
use std::time::{Duration, Instant};

pub struct SecretCache<T> {
    ttl: Duration,
    entry: Option<(T, Instant)>,
}

/// Where a value came from, for the invocation's log line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup {
    Hit,
    Miss,
}

impl Lookup {
    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
        }
    }
}

impl<T> SecretCache<T> {
    /// A `ttl` of zero fetches on every invocation.
    pub fn new(ttl: Duration) -> SecretCache<T> {
        SecretCache { ttl, entry: None }
    }

    /// The cached value while it is younger than the TTL, else a fresh one from
    /// `fetch`. A failed fetch leaves no entry behind.
    pub fn get(
        &mut self,
        now: Instant,
        fetch: impl FnOnce() -> Result<T, Error>,
    ) -> Result<(&T, Lookup), Error> {
        let ttl = self.ttl;
        let (entry, lookup) = match self.entry.take() {
            Some(entry) if now.saturating_duration_since(entry.1) < ttl => {
                (self.entry.insert(entry), Lookup::Hit)
            }
            _ => (self.entry.insert((fetch()?, now)), Lookup::Miss),
        };
        Ok((&entry.0, lookup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn fetches_once_within_ttl_and_again_after() {
        let calls = Cell::new(0);
        let fetch = || {
            calls.set(calls.get() + 1);
            Ok(calls.get())
        };
        let mut cache = SecretCache::new(Duration::from_secs(300));
        let t0 = Instant::now();
        assert_eq!(cache.get(t0, fetch).expect("ok"), (&1, Lookup::Miss));
        for s in [1, 100, 299] {
            let at = t0 + Duration::from_secs(s);
            assert_eq!(cache.get(at, fetch).expect("ok"), (&1, Lookup::Hit));
        }
        let later = t0 + Duration::from_secs(300);
        assert_eq!(cache.get(later, fetch).expect("ok"), (&2, Lookup::Miss));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn zero_ttl_always_fetches_and_errors_are_not_cached() {
        let mut cache = SecretCache::new(Duration::ZERO);
        let now = Instant::now();
        assert_eq!(cache.get(now, || Ok(1)).expect("ok").0, &1);
        assert_eq!(cache.get(now, || Ok(2)).expect("ok").0, &2);
        let mut cache = SecretCache::new(Duration::from_secs(60));
        assert!(cache
            .get(now, || Err::<u8, _>(Error::Timeout("test")))
            .is_err());
        assert_eq!(cache.get(now, || Ok(3)).expect("ok"), (&3, Lookup::Miss));
    }
}
