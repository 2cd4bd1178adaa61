//! One invocation: read the SNS records, get the webhook (cached), post each
//! record to Slack, and log one line about it.

use crate::config::Config;
use crate::error::{sanitize, Error};
use crate::event::{self, Notification};
use crate::http::Deadline;
use crate::log::{log, Level};
use crate::message;
use crate::runtime::Invocation;
use crate::secret_cache::{Lookup, SecretCache};
use crate::secrets_manager::SecretsManager;
use crate::slack::{self, Webhook};
use std::fmt::Write;
use std::time::Instant;

pub struct Handler {
    agent: ureq::Agent,
    secrets: SecretsManager,
    cache: SecretCache<Webhook>,
}

/// What the log line says about an invocation, filled in as it goes.
#[derive(Default)]
struct Report {
    posted: usize,
    first: String,
    secret: Option<&'static str>,
    slack_status: Option<u16>,
}

impl Handler {
    pub fn new(agent: ureq::Agent, config: &Config) -> Handler {
        Handler {
            agent,
            secrets: SecretsManager::new(config),
            cache: SecretCache::new(config.secret_ttl, config.secret_max_stale),
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed.
    pub fn handle(&mut self, invocation: &Invocation) -> Result<String, Error> {
        let started = Instant::now();
        let id = invocation.request_id.as_str();
        let mut report = Report::default();
        let result = self.post_all(id, &invocation.body, invocation.deadline, &mut report);

        let mut line = format!("posted={}", report.posted);
        if !report.first.is_empty() {
            let _ = write!(line, " {}", report.first);
        }
        if let Some(lookup) = report.secret {
            let _ = write!(line, " secretCache={lookup}");
        }
        if let Some(status) = report.slack_status {
            let _ = write!(line, " slackStatus={status}");
        }
        match &result {
            Ok(_) => line.push_str(" outcome=ok"),
            Err(e) => {
                let _ = write!(
                    line,
                    " outcome=error errorType={} error=\"{e}\"",
                    e.error_type()
                );
            }
        }
        let _ = write!(line, " durationMs={}", started.elapsed().as_millis());
        let level = if result.is_ok() {
            Level::Info
        } else {
            Level::Error
        };
        log(level, Some(id), format_args!("{line}"));

        result.map(|posted| format!("{{\"posted\":{posted}}}"))
    }

    fn post_all(
        &mut self,
        id: &str,
        body: &[u8],
        deadline: Deadline,
        report: &mut Report,
    ) -> Result<usize, Error> {
        let notifications = event::parse(body)?;
        let Some(first) = notifications.first() else {
            return Ok(0);
        };
        report.first = match first {
            Notification::Alarm(a) => format!(
                "alarm={:?} state={:?}",
                sanitize(&a.name, 255),
                sanitize(&a.new_state, 40)
            ),
            Notification::Text { .. } => "message=text".to_string(),
        };

        let mut refreshed = false;
        let mut next = 0;
        // Stop at the first failure: Lambda retries the whole event.
        while let Some(notification) = notifications.get(next) {
            let (hook, lookup) =
                cached_webhook(&mut self.cache, &self.secrets, &self.agent, deadline, id)?;
            report.secret.get_or_insert(lookup);
            let payload = message::render(notification, hook.channel.as_deref());
            match slack::post(&self.agent, hook, &payload, deadline) {
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
                        cached_webhook(&mut self.cache, &self.secrets, &self.agent, deadline, id)?;
                    if fresh.fingerprint() == old {
                        return Err(revoked);
                    }
                    log(
                        Level::Warn,
                        Some(id),
                        format_args!("Slack revoked the cached webhook; the secret holds a new one, posting again"),
                    );
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
    id: &str,
) -> Result<(&'c Webhook, &'static str), Error> {
    let fetch = || Webhook::from_secret(&secrets.get_secret_string(agent, deadline)?);
    let (webhook, lookup) = cache.get(Instant::now(), fetch)?;
    if let Lookup::Stale(err) = &lookup {
        log(
            Level::Warn,
            Some(id),
            format_args!(
                "cannot refresh the secret ({}: {err}); using the cached one past its TTL",
                err.error_type()
            ),
        );
    }
    Ok((webhook, lookup.as_str()))
}
