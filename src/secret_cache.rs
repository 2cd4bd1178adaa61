//! Keeps the secret in memory between warm invocations, so that an alarm
//! usually costs no Secrets Manager call at all.
//!
//! Time is the monotonic clock, which keeps running while Lambda freezes the
//! sandbox, so a TTL counts frozen time too.

use crate::error::Error;
use std::time::{Duration, Instant};

pub struct SecretCache<T> {
    ttl: Duration,
    max_stale: Duration,
    entry: Option<(T, Instant)>,
}

/// Where a value came from, for the invocation's log line.
#[derive(Debug)]
pub enum Lookup {
    Hit,
    Miss,
    /// The refresh failed transiently; the expired value is still in use.
    Stale(Error),
}

impl Lookup {
    pub fn as_str(&self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Stale(_) => "stale",
        }
    }
}

impl<T> SecretCache<T> {
    /// A `ttl` of zero fetches on every invocation. After the TTL, a value is
    /// still served for up to `max_stale` while refreshing it fails transiently
    /// (Secrets Manager throttled or unreachable), rather than failing alarms.
    pub fn new(ttl: Duration, max_stale: Duration) -> SecretCache<T> {
        SecretCache {
            ttl,
            max_stale,
            entry: None,
        }
    }

    /// The cached value while it is younger than the TTL, else a fresh one from
    /// `fetch`. A value `fetch` fails on is never cached.
    pub fn get(
        &mut self,
        now: Instant,
        fetch: impl FnOnce() -> Result<T, Error>,
    ) -> Result<(&T, Lookup), Error> {
        let (ttl, max_stale) = (self.ttl, self.max_stale);
        let (entry, lookup) = match self.entry.take() {
            Some(entry) if now.saturating_duration_since(entry.1) < ttl => {
                (self.entry.insert(entry), Lookup::Hit)
            }
            Some(entry) => match fetch() {
                Ok(value) => (self.entry.insert((value, now)), Lookup::Miss),
                Err(err)
                    if err.is_transient()
                        && now.saturating_duration_since(entry.1) < ttl + max_stale =>
                {
                    (self.entry.insert(entry), Lookup::Stale(err))
                }
                Err(err) => return Err(err),
            },
            None => (self.entry.insert((fetch()?, now)), Lookup::Miss),
        };
        Ok((&entry.0, lookup))
    }

    /// Whether [`get`](Self::get) at `now` serves the cached value without fetching.
    pub fn is_fresh(&self, now: Instant) -> bool {
        self.entry
            .as_ref()
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) < self.ttl)
    }

    /// Forgets the value, e.g. when Slack says the webhook in it is revoked.
    pub fn invalidate(&mut self) {
        self.entry = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AwsAnswer, Service};
    use std::cell::Cell;

    fn answer(status: u16, code: &str) -> AwsAnswer {
        AwsAnswer {
            status,
            code: code.into(),
            message: String::new(),
        }
    }

    const TTL: Duration = Duration::from_secs(300);
    const STALE: Duration = Duration::from_secs(3600);

    fn unreachable() -> Error {
        Error::aws_unreachable(Service::SecretsManager, "network error".into())
    }

    #[test]
    fn fetches_once_within_ttl_and_again_after() {
        let calls = Cell::new(0);
        let fetch = || {
            calls.set(calls.get() + 1);
            Ok(calls.get())
        };
        let mut cache = SecretCache::new(TTL, STALE);
        let t0 = Instant::now();
        let (value, lookup) = cache.get(t0, fetch).expect("ok");
        assert_eq!((*value, lookup.as_str()), (1, "miss"));
        for s in [1, 100, 299] {
            let (value, lookup) = cache.get(t0 + Duration::from_secs(s), fetch).expect("ok");
            assert_eq!((*value, lookup.as_str()), (1, "hit"));
        }
        let (value, lookup) = cache.get(t0 + TTL, fetch).expect("ok");
        assert_eq!((*value, lookup.as_str()), (2, "miss"));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn zero_ttl_always_fetches_and_errors_are_not_cached() {
        let mut cache = SecretCache::new(Duration::ZERO, Duration::ZERO);
        let now = Instant::now();
        assert_eq!(*cache.get(now, || Ok(1)).expect("ok").0, 1);
        assert_eq!(*cache.get(now, || Ok(2)).expect("ok").0, 2);
        let mut cache = SecretCache::new(TTL, STALE);
        assert!(cache.get(now, || Err::<u8, _>(unreachable())).is_err());
        assert_eq!(*cache.get(now, || Ok(3)).expect("ok").0, 3);
    }

    #[test]
    fn transient_refresh_failures_serve_stale_until_max_stale() {
        let mut cache = SecretCache::new(TTL, STALE);
        let t0 = Instant::now();
        cache.get(t0, || Ok(1)).expect("first fetch");
        let later = t0 + TTL + Duration::from_secs(10);
        let (value, lookup) = cache.get(later, || Err(unreachable())).expect("stale");
        assert_eq!((*value, lookup.as_str()), (1, "stale"));
        let too_late = t0 + TTL + STALE;
        assert!(cache.get(too_late, || Err(unreachable())).is_err());
        // Once given up, nothing stale is left behind.
        assert!(cache.get(too_late, || Err(unreachable())).is_err());
    }

    /// Which answers are transient is the AWS layer's rule (`aws/error.rs`: any 5xx); the
    /// cache serves stale for every one it marks so.
    #[test]
    fn a_transient_aws_answer_serves_stale() {
        let mut cache = SecretCache::new(TTL, STALE);
        let t0 = Instant::now();
        cache.get(t0, || Ok(1)).expect("first fetch");
        let unavailable = || {
            Err(Error::aws(
                Service::SecretsManager,
                answer(503, "ServiceUnavailableException"),
                true,
            ))
        };
        let (value, lookup) = cache.get(t0 + TTL, unavailable).expect("stale");
        assert_eq!((*value, lookup.as_str()), (1, "stale"));
    }

    #[test]
    fn permanent_refresh_failures_are_not_papered_over() {
        let mut cache = SecretCache::new(TTL, STALE);
        let t0 = Instant::now();
        cache.get(t0, || Ok(1)).expect("first fetch");
        let denied = || {
            Err(Error::aws(
                Service::SecretsManager,
                answer(400, "AccessDeniedException"),
                false,
            ))
        };
        assert!(cache.get(t0 + TTL, denied).is_err());
    }

    #[test]
    fn invalidate_forces_a_fetch() {
        let mut cache = SecretCache::new(TTL, STALE);
        let t0 = Instant::now();
        cache.get(t0, || Ok(1)).expect("first fetch");
        cache.invalidate();
        let (value, lookup) = cache.get(t0, || Ok(2)).expect("ok");
        assert_eq!((*value, lookup.as_str()), (2, "miss"));
    }
}
