//! A resolver that remembers a host's addresses for a while.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host's addresses are used before DNS is asked again.
const DNS_TTL: Duration = Duration::from_secs(30);
/// Hosts remembered: the Runtime API, Secrets Manager and the webhook, with room to spare.
const DNS_HOSTS: usize = 8;

/// Reuses a host's resolved addresses for [`DNS_TTL`].
///
/// ureq resolves the host before it looks for a pooled connection, and when the
/// request has a timeout it resolves on a new thread: without this every warm
/// Slack post would pay a thread and a DNS round trip for a connection it
/// already holds. Failures are not remembered.
#[derive(Debug, Default)]
pub(super) struct RecentAddrs<R> {
    inner: R,
    seen: Mutex<Vec<(String, Instant, ResolvedSocketAddrs)>>,
}

impl<R: Resolver> Resolver for RecentAddrs<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let key = format!("{scheme}://{authority}");
        self.lookup(key, Instant::now(), || {
            self.inner.resolve(uri, config, timeout)
        })
    }
}

impl<R> RecentAddrs<R> {
    fn lookup(
        &self,
        key: String,
        now: Instant,
        resolve: impl FnOnce() -> Result<ResolvedSocketAddrs, ureq::Error>,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let fresh = |at: Instant| now.saturating_duration_since(at) < DNS_TTL;
        {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, _, addrs)) = seen.iter().find(|(k, at, _)| *k == key && fresh(*at)) {
                return Ok(addrs.clone());
            }
        }
        // Not under the lock: a lookup can take as long as the request's timeout.
        let addrs = resolve()?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|(k, at, _)| *k != key && fresh(*at));
        if seen.len() >= DNS_HOSTS {
            seen.remove(0);
        }
        seen.push((key, now, addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::resolver::DefaultResolver;

    #[test]
    fn addresses_are_reused_for_a_while_and_failures_are_not() {
        let dns = RecentAddrs::<DefaultResolver>::default();
        let calls = std::cell::Cell::new(0);
        let resolve = |ip: [u8; 4]| {
            calls.set(calls.get() + 1);
            let mut addrs = DefaultResolver::default().empty();
            addrs.push((ip, 443).into());
            Ok(addrs)
        };
        let t0 = Instant::now();
        let key = || "https://hooks.slack.com".to_string();
        let ip = |addrs: ResolvedSocketAddrs| addrs[0].ip().to_string();
        let first = dns.lookup(key(), t0, || resolve([10, 0, 0, 1]));
        let soon = dns.lookup(key(), t0 + DNS_TTL / 2, || resolve([10, 0, 0, 2]));
        assert_eq!(ip(first.expect("ok")), "10.0.0.1");
        assert_eq!(ip(soon.expect("ok")), "10.0.0.1");
        assert_eq!(calls.get(), 1);

        let other = dns.lookup("https://example.com".into(), t0, || resolve([10, 0, 0, 3]));
        assert_eq!(ip(other.expect("ok")), "10.0.0.3");
        let later = dns.lookup(key(), t0 + DNS_TTL, || resolve([10, 0, 0, 4]));
        assert_eq!(ip(later.expect("ok")), "10.0.0.4");
        assert_eq!(calls.get(), 3);

        let failing = || Err(ureq::Error::HostNotFound);
        let t1 = t0 + DNS_TTL * 3;
        assert!(dns.lookup(key(), t1, failing).is_err());
        assert!(dns.lookup(key(), t1, failing).is_err());
        assert!(dns.lookup(key(), t1, || resolve([10, 0, 0, 5])).is_ok());
    }
}
