//! The one HTTP agent, the invocation's deadline, and HTTP errors rendered by us.
//!
//! ureq's own `Display` for an error can carry the request URL, and a Slack
//! webhook URL is a credential, so nothing here ever prints a URL.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back from every deadline so that a failure can still be reported
/// to the Runtime API before Lambda stops the sandbox.
const SAFETY_MARGIN: Duration = Duration::from_millis(200);
/// Below this, a network call has no real chance; fail fast instead.
const MIN_BUDGET: Duration = Duration::from_millis(20);

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
    fn describe_never_echoes_a_url() {
        let url = "https://hooks.slack.com/services/T1/B2/secret".to_string();
        let text = describe(&ureq::Error::BadUri(url));
        assert!(
            !text.contains("secret") && !text.contains("hooks"),
            "{text}"
        );
    }
}
