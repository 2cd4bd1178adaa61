//! The Slack incoming webhook: where it is (from the secret) and how we post to it.
//! The webhook URL is a credential: it is only ever shown as its host.

use crate::error::{sanitize, Error};
use crate::http::url::Url;
use crate::http::{retry, Deadline, Failure, Peer};
use serde::Deserialize;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

pub struct Webhook {
    url: String,
    host_end: usize,
    pub channel: Option<String>,
    /// Sender name and emoji; only legacy webhooks honour them.
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
}

#[derive(Deserialize)]
struct SecretFields {
    #[serde(rename = "SLACK_HOOK_URL")]
    hook_url: Option<serde_json::Value>,
    #[serde(rename = "SLACK_CHANNEL")]
    channel: Option<serde_json::Value>,
    #[serde(rename = "SLACK_USERNAME")]
    username: Option<serde_json::Value>,
    #[serde(rename = "SLACK_ICON_EMOJI")]
    icon_emoji: Option<serde_json::Value>,
}

impl Webhook {
    /// From a SecretString: `{"SLACK_HOOK_URL": "...", "SLACK_CHANNEL": "#alerts"}`,
    /// or just the webhook URL. Errors say which rule is broken, never the value.
    pub fn from_secret(secret: &str) -> Result<Webhook, Error> {
        let secret = secret.trim();
        if secret.starts_with("http://") || secret.starts_with("https://") {
            return Webhook::new(secret, None, "the SecretString");
        }
        if !secret.starts_with('{') {
            return Err(Error::InvalidSecret(
                "the SecretString is neither JSON nor a URL; store {\"SLACK_HOOK_URL\": \"https://hooks.slack.com/services/…\", \"SLACK_CHANNEL\": \"#alerts\"} or just the webhook URL"
                    .to_string(),
            ));
        }
        let fields: SecretFields = serde_json::from_str(secret).map_err(|_| {
            Error::InvalidSecret(
                "SecretString is not a JSON object; store {\"SLACK_HOOK_URL\": \"https://hooks.slack.com/services/…\", \"SLACK_CHANNEL\": \"#alerts\"}"
                    .to_string(),
            )
        })?;
        let url = match fields.hook_url {
            Some(serde_json::Value::String(url)) => url,
            Some(_) => {
                return Err(Error::InvalidSecret(
                    "SLACK_HOOK_URL must be a string".to_string(),
                ))
            }
            None => {
                return Err(Error::InvalidSecret(
                    "the SecretString has no SLACK_HOOK_URL key; add the Slack incoming webhook URL under it"
                        .to_string(),
                ))
            }
        };
        let channel = match fields.channel {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(c)) => {
                Some(c.trim().to_string()).filter(|c| !c.is_empty())
            }
            Some(_) => {
                return Err(Error::InvalidSecret(
                    "SLACK_CHANNEL must be a string such as \"#alerts\"".to_string(),
                ))
            }
        };
        let mut webhook = Webhook::new(url.trim(), channel, "SLACK_HOOK_URL")?;
        webhook.username = optional_text(fields.username, "SLACK_USERNAME")?;
        webhook.icon_emoji = optional_text(fields.icon_emoji, "SLACK_ICON_EMOJI")?;
        Ok(webhook)
    }

    fn new(url: &str, channel: Option<String>, what: &str) -> Result<Webhook, Error> {
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
        Ok(Webhook {
            url: url.to_string(),
            host_end: parsed.origin_len(),
            channel,
            username: None,
            icon_emoji: None,
        })
    }

    /// Tells two webhooks apart without keeping or showing either URL.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.url.hash(&mut hasher);
        hasher.finish()
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

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Webhook({}/…)", self.redacted())
    }
}

/// An optional string key of the secret; blank counts as absent.
fn optional_text(value: Option<serde_json::Value>, key: &str) -> Result<Option<String>, Error> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty()))
        }
        Some(_) => Err(Error::InvalidSecret(format!("{key} must be a string"))),
    }
}

/// Posts a ready JSON payload, retrying what Slack or the network say is
/// passing: 429 after `Retry-After`, 5xx and network errors with backoff.
pub fn post(
    agent: &ureq::Agent,
    webhook: &Webhook,
    payload: &str,
    deadline: Deadline,
) -> Result<u16, Error> {
    retry(deadline, || post_once(agent, webhook, payload, deadline))
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
                unreachable: Error::SlackUnreachable,
                idempotent: false,
            };
            peer.failure(&e, deadline)
        })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
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
        429 => {
            // Without a usable Retry-After, one second is Slack's documented pace.
            let secs = retry_after.unwrap_or(1).min(900);
            Err(Failure::After(
                Duration::from_secs(secs),
                Error::SlackRateLimited {
                    retry_after_secs: secs,
                },
            ))
        }
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
    fn secret_json_with_channel() {
        let w = Webhook::from_secret(&format!(
            r##"{{"SLACK_HOOK_URL":"{URL}","SLACK_CHANNEL":"#alerts","other":1}}"##
        ))
        .expect("valid");
        assert_eq!(w.channel.as_deref(), Some("#alerts"));
        assert_eq!(w.redacted(), "https://hooks.slack.com");
        assert_eq!(format!("{w:?}"), "Webhook(https://hooks.slack.com/…)");
    }

    #[test]
    fn sender_name_and_icon_are_optional() {
        let w = Webhook::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_USERNAME":"CloudWatch","SLACK_ICON_EMOJI":" :bell: "}}"#
        ))
        .expect("valid");
        assert_eq!(w.username.as_deref(), Some("CloudWatch"));
        assert_eq!(w.icon_emoji.as_deref(), Some(":bell:"));
        let bare = Webhook::from_secret(URL).expect("bare url");
        assert_eq!((bare.username, bare.icon_emoji), (None, None));
        let err = Webhook::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_ICON_EMOJI":1}}"#
        ))
        .expect_err("not a string");
        assert!(err.to_string().contains("SLACK_ICON_EMOJI"), "{err}");
    }

    #[test]
    fn bare_url_and_empty_channel() {
        let w = Webhook::from_secret(URL).expect("bare url");
        assert!(w.channel.is_none());
        let w = Webhook::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_CHANNEL":""}}"#
        ))
        .expect("valid");
        assert!(w.channel.is_none());
    }

    #[test]
    fn bad_secrets_say_why_without_the_value() {
        let cases = [
            r##"{"SLACK_CHANNEL":"#a"}"##.to_string(),
            r#"{"SLACK_HOOK_URL":5}"#.to_string(),
            r#"{"SLACK_HOOK_URL":"http://hooks.slack.com/services/T0/B0/SECRETPART"}"#.to_string(),
            r#"{"SLACK_HOOK_URL":"ftp://SECRETPART"}"#.to_string(),
            "{not json SECRETPART".to_string(),
            "SECRETPART".to_string(),
        ];
        for secret in cases {
            let err = Webhook::from_secret(&secret).expect_err(&secret);
            assert_eq!(err.error_type(), "Secret.Invalid");
            assert!(!err.to_string().contains("SECRETPART"), "{err}");
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
            assert!(Webhook::from_secret(ok).is_ok(), "{ok}");
        }
        assert!(Webhook::from_secret("http://127.0.0.1.evil.com/x").is_err());
    }
}
