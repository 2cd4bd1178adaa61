//! One invocation: read the SNS records, get the webhook (cached), post each
//! record to Slack, and log one line about it.

use crate::alarm::event::{self, Notification};
use crate::aws::secrets_manager::SecretsManager;
use crate::config::Config;
use crate::error::{sanitize, Error};
use crate::http::Deadline;
use crate::log::{self, Level};
use crate::runtime::Invocation;
use crate::secret_cache::{Lookup, SecretCache};
use crate::slack::message::{self, Options};
use crate::slack::webhook::{self, Webhook};
use std::time::Instant;

pub struct Handler {
    agent: ureq::Agent,
    secrets: SecretsManager,
    cache: SecretCache<Webhook>,
    format: message::Format,
}

/// What the log line says about an invocation, filled in as it goes.
#[derive(Default)]
struct Report {
    posted: usize,
    /// The first record's alarm name and new state, when it is an alarm.
    alarm: Option<(String, String)>,
    secret: Option<&'static str>,
    slack_status: Option<u16>,
}

impl Handler {
    pub fn new(agent: ureq::Agent, config: &Config) -> Handler {
        crate::http::set_preconnect(&agent, config.slack_preconnect.clone());
        Handler {
            agent,
            secrets: SecretsManager::new(config.secrets_manager.clone(), &config.secret_id),
            cache: SecretCache::new(config.secret_ttl, config.secret_max_stale),
            format: config.message_format,
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed.
    pub fn handle(&mut self, invocation: &Invocation) -> Result<String, Error> {
        let started = Instant::now();
        let mut report = Report::default();
        let result = self.post_all(&invocation.body, invocation.deadline, &mut report);

        let slack_status = match &result {
            Err(Error::SlackRejected { status, .. } | Error::WebhookRevoked { status, .. }) => {
                Some(*status)
            }
            _ => report.slack_status,
        };
        let (alarm, state) = report
            .alarm
            .as_ref()
            .map(|(a, s)| (a.as_str(), s.as_str()))
            .unzip();
        let (level, message, outcome) = match &result {
            Ok(_) => (Level::Info, "invocation done", "ok"),
            Err(_) => (Level::Error, "invocation failed", "error"),
        };
        let mut line = log::line(level, &message)
            .num("posted", report.posted as u64)
            .str("alarm", alarm)
            .str("state", state)
            .word("secretCache", report.secret)
            .num("slackStatus", slack_status.map(u64::from))
            .word("outcome", outcome);
        if let Err(e) = &result {
            line = line.error(e);
        }
        line.num("durationMs", started.elapsed().as_millis() as u64)
            .emit();

        result.map(|posted| format!("{{\"posted\":{posted}}}"))
    }

    fn post_all(
        &mut self,
        body: &[u8],
        deadline: Deadline,
        report: &mut Report,
    ) -> Result<usize, Error> {
        let notifications = event::parse(body)?;
        let Some(first) = notifications.first() else {
            return Ok(0);
        };
        if let Notification::Alarm(a) = first {
            report.alarm = Some((sanitize(&a.name, 255), sanitize(&a.new_state, 40)));
        }

        let mut refreshed = false;
        let mut next = 0;
        // Stop at the first failure: Lambda retries the whole event.
        while let Some(notification) = notifications.get(next) {
            let (hook, lookup) =
                cached_webhook(&mut self.cache, &self.secrets, &self.agent, deadline)?;
            report.secret.get_or_insert(lookup);
            let options = Options {
                format: self.format,
                channel: hook.channel.as_deref(),
                username: hook.username.as_deref(),
                icon_emoji: hook.icon_emoji.as_deref(),
            };
            let payload = message::render(notification, &options);
            log::debug(&"Slack payload")
                .word("webhook", hook.redacted())
                .str("payload", payload.as_str())
                .emit();
            match webhook::post(&self.agent, hook, &payload, deadline) {
                Ok(status) => {
                    report.slack_status = Some(status);
                    report.posted += 1;
                    next += 1;
                }
                // The secret may have been rotated to a new webhook since we cached it.
                Err(revoked @ Error::WebhookRevoked { .. }) if !refreshed => {
                    refreshed = true;
                    let old = hook.fingerprint();
                    self.cache.invalidate();
                    let (fresh, _) =
                        cached_webhook(&mut self.cache, &self.secrets, &self.agent, deadline)?;
                    if fresh.fingerprint() == old {
                        return Err(revoked);
                    }
                    log::line(
                        Level::Warn,
                        &"Slack revoked the cached webhook; the secret holds a new one, posting again",
                    )
                    .emit();
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report.posted)
    }
}

/// The webhook from the cache, or from Secrets Manager when it is not fresh.
fn cached_webhook<'c>(
    cache: &'c mut SecretCache<Webhook>,
    secrets: &SecretsManager,
    agent: &ureq::Agent,
    deadline: Deadline,
) -> Result<(&'c Webhook, &'static str), Error> {
    let fetch = || {
        // Where the webhook probably is, connected while its URL is being fetched.
        crate::http::preconnect(agent);
        Webhook::from_secret(&secrets.get_secret_string(agent, deadline)?)
    };
    let (webhook, lookup) = cache.get(Instant::now(), fetch)?;
    if let Lookup::Stale(err) = &lookup {
        log::line(
            Level::Warn,
            &"cannot refresh the secret; using the cached one past its TTL",
        )
        .error(err)
        .emit();
    }
    Ok((webhook, lookup.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A handler whose Secrets Manager is a closed port on loopback: anything that
    /// reaches the network fails fast and says so.
    fn handler() -> Handler {
        let env = |name: &str| {
            let value = match name {
                "SecretId" => "slack/dev",
                "AWS_REGION" => "us-east-1",
                "AWS_ACCESS_KEY_ID" => "AKID",
                "AWS_SECRET_ACCESS_KEY" => "SECRET",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER" => "http://127.0.0.1:1",
                _ => return None,
            };
            Some(value.to_string())
        };
        let config = Config::from_env(env).unwrap_or_else(|e| panic!("{e}"));
        Handler::new(crate::http::agent(), &config)
    }

    fn invocation(body: &str, left: Duration) -> Invocation {
        Invocation {
            request_id: "id-1".into(),
            deadline: Deadline::after(left),
            deadline_is_budget: false,
            function_arn: None,
            trace_id: None,
            body: body.as_bytes().to_vec(),
        }
    }

    const ALARM: &str = r#"{"Records":[{"Sns":{"Message":"{\"AlarmName\":\"cpu\",\"NewStateValue\":\"ALARM\"}"}}]}"#;

    #[test]
    fn an_event_of_no_known_shape_fails_before_any_call() {
        let err = handler()
            .handle(&invocation(r#"{"hello":1}"#, Duration::from_secs(5)))
            .expect_err("not an event of ours");
        assert_eq!(err.error_type(), "Event.Invalid");
    }

    #[test]
    fn an_empty_event_posts_nothing() {
        let body = handler().handle(&invocation(r#"{"Records":[]}"#, Duration::from_secs(5)));
        assert_eq!(body.expect("nothing to do"), r#"{"posted":0}"#);
    }

    #[test]
    fn no_time_left_is_a_timeout_not_a_call() {
        let err = handler()
            .handle(&invocation(ALARM, Duration::from_millis(100)))
            .expect_err("too late");
        assert_eq!(err.error_type(), "Invocation.Timeout");
        assert!(err.to_string().contains("fetch the secret"), "{err}");
    }

    #[test]
    fn an_unreachable_secret_fails_the_alarm_for_lambda_to_retry() {
        let err = handler()
            .handle(&invocation(ALARM, Duration::from_secs(5)))
            .expect_err("no Secrets Manager");
        assert_eq!(err.error_type(), "SecretsManager.Unreachable");
        assert!(err.is_transient());
    }
}
