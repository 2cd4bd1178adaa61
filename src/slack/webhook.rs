//! The Slack incoming webhook and how we post to it.
//! The webhook URL is a credential: it is only ever shown as its host.

use super::pace::Pace;
use crate::error::Error;
use crate::http::url::Url;
use crate::http::{retry, Deadline, Failure, Peer};
use crate::text::{register_credential, sanitize};
use std::fmt;
use std::hash::{Hash, Hasher};

pub struct Webhook {
    url: String,
    host_end: usize,
    fingerprint: u64,
    /// The pace's name for this webhook's channel.
    pace: String,
}

impl Webhook {
    /// `what` names where the URL came from, for the error; the error never shows the URL.
    pub fn new(url: &str, what: &str) -> Result<Webhook, Error> {
        let invalid = |rule: &str| Error::InvalidSecret(format!("{what} {rule}"));
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(invalid(
                "is not an https:// URL; use the Slack incoming webhook URL",
            ));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains white space or control characters"));
        }
        let parsed = Url::parse(url).ok_or_else(|| invalid("has no valid host"))?;
        if !parsed.https && !parsed.is_loopback() {
            return Err(invalid(
                "must use https:// (http:// is only allowed for a local test host)",
            ));
        }
        let host_end = parsed.origin_len();
        register(&url[host_end..]);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut hasher);
        let fingerprint = hasher.finish();
        Ok(Webhook {
            url: url.to_string(),
            host_end,
            fingerprint,
            pace: format!("webhook-{fingerprint:016x}"),
        })
    }

    /// Tells two webhooks apart without keeping or showing either URL.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Scheme and host: the only part of the URL that is safe to show.
    pub fn redacted(&self) -> &str {
        &self.url[..self.host_end]
    }

    /// Host and port.
    fn host(&self) -> &str {
        let origin = self.redacted();
        origin.split_once("://").map_or(origin, |(_, host)| host)
    }
}

/// Takes a webhook's path out of any text logged or returned from now on: the whole path,
/// and each of its parts that looks made up rather than a word (`T…`, `B…` and the secret
/// of a Slack webhook, a Mattermost hook's key), which a peer may echo alone or escaped.
fn register(path: &str) {
    register_credential(path);
    let made_up = |part: &&str| {
        part.len() > 8
            && part
                .bytes()
                .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    for part in path.split(['/', '?', '&', '=', '#']).filter(made_up) {
        register_credential(part);
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Webhook({}/…)", self.redacted())
    }
}

/// Posts a ready JSON payload, retrying what Slack or the network say is
/// passing: 429 after `Retry-After`, 5xx and network errors with backoff.
/// A webhook posts to one channel: it is paced as one (`pace.rs`).
pub fn post(
    agent: &ureq::Agent,
    webhook: &Webhook,
    payload: &str,
    pace: &Pace,
    deadline: Deadline,
) -> Result<u16, Error> {
    let channel = &webhook.pace;
    retry(deadline, || {
        pace.turn(channel, deadline).map_err(Failure::Final)?;
        let posted = post_once(agent, webhook, payload, deadline);
        pace.done(channel);
        if let Err(Failure::After(wait, _)) = &posted {
            pace.hold(channel, *wait);
        }
        posted
    })
}

fn post_once(
    agent: &ureq::Agent,
    webhook: &Webhook,
    payload: &str,
    deadline: Deadline,
) -> Result<u16, Failure> {
    const STEP: &str = "post to Slack";
    let request = deadline
        .bound(agent.post(&webhook.url), STEP)
        .map_err(Failure::Final)?;
    let mut response = request
        .header("Content-Type", "application/json")
        .send(payload)
        .map_err(|e| {
            let peer = Peer {
                host: webhook.host(),
                step: STEP,
                unreachable: &Error::SlackUnreachable,
                no_answer: &Error::SlackNoAnswer,
                idempotent: false,
            };
            peer.failure(&e, deadline)
        })?;
    let status = response.status().as_u16();
    let retry_after = super::retry_after(&response);
    // Slack answers with a short plain-text code; read it so the connection can be reused.
    let body = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    let body = sanitize(&body, 200);
    match status {
        200..=299 => Ok(status),
        429 => Err(super::rate_limited(retry_after)),
        _ if is_revoked(status, &body) => {
            Err(Failure::Final(Error::WebhookRevoked { status, body }))
        }
        500..=599 => Err(Failure::Backoff(Error::SlackRejected { status, body })),
        _ => Err(Failure::Final(Error::SlackRejected { status, body })),
    }
}

/// Answers that mean this webhook URL will never work again; the secret may hold a newer one.
fn is_revoked(status: u16, body: &str) -> bool {
    const GONE: [&str; 7] = [
        "invalid_token",
        "no_service",
        "no_team",
        "team_disabled",
        "channel_not_found",
        "channel_is_archived",
        "no_active_hooks",
    ];
    // These 403s are the workspace's settings, not a dead webhook.
    const POLICY: [&str; 2] = ["action_prohibited", "posting_to_general_channel_denied"];
    GONE.contains(&body)
        || matches!(status, 404 | 410)
        || (status == 403 && !POLICY.contains(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://hooks.slack.com/services/T0/B0/SECRETPART";

    #[test]
    fn shown_as_its_origin_only() {
        let w = Webhook::new(URL, "SLACK_HOOK_URL").expect("valid");
        assert_eq!(w.redacted(), "https://hooks.slack.com");
        assert_eq!(w.host(), "hooks.slack.com");
        assert_eq!(format!("{w:?}"), "Webhook(https://hooks.slack.com/…)");
    }

    #[test]
    fn bad_urls_say_why_without_the_value() {
        for url in [
            "http://hooks.slack.com/services/T0/B0/SECRETPART",
            "ftp://SECRETPART",
            "https://user@SECRETPART/x",
            "https://hooks.slack.com/SECRET PART",
        ] {
            let err = Webhook::new(url, "SLACK_HOOK_URL").expect_err(url);
            assert_eq!(err.error_type(), "Secret.Invalid");
            assert!(!err.to_string().contains("SECRET"), "{err}");
            assert!(err
                .to_string()
                .starts_with("the secret is not usable: SLACK_HOOK_URL "));
        }
    }

    #[test]
    fn revoked_answers() {
        assert!(is_revoked(404, "no_service"));
        assert!(is_revoked(400, "invalid_token"));
        assert!(is_revoked(410, ""));
        assert!(is_revoked(403, "no_team"));
        assert!(!is_revoked(403, "action_prohibited"));
        assert!(!is_revoked(400, "invalid_payload"));
        assert!(!is_revoked(500, "rollup_error"));
    }

    #[test]
    fn http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:80/x",
        ] {
            assert!(Webhook::new(ok, "x").is_ok(), "{ok}");
        }
        assert!(Webhook::new("http://127.0.0.1.evil.com/x", "x").is_err());
    }

    #[test]
    fn its_path_and_made_up_parts_are_redacted_from_then_on() {
        let url = "https://hooks.slack.com/services/TWEBHOOKRS/BWEBHOOKRS/webhookRsSecret42";
        Webhook::new(url, "SLACK_HOOK_URL").expect("valid");
        let echoed = format!("no_service: {url} (path \\/TWEBHOOKRS\\/x, services, webhooks)");
        assert_eq!(
            sanitize(&echoed, 300),
            "no_service: https://hooks.slack.com[redacted] (path \\/[redacted]\\/x, services, webhooks)"
        );
    }
}
