//! One invocation: read the SNS records, get the webhook (cached), post each
//! record to Slack, and log one line about it.

use crate::config::Config;
use crate::error::Error;
use crate::event::{self, Notification};
use crate::http::Deadline;
use crate::log::{self, Level};
use crate::message;
use crate::runtime::Invocation;
use crate::secret_cache::{Lookup, SecretCache};
use crate::secrets_manager::SecretsManager;
use crate::slack::{self, Webhook};
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
    /// The first record's alarm name and new state, when it is an alarm.
    alarm: Option<(String, String)>,
    secret: Option<Lookup>,
    slack_status: Option<u16>,
}

impl Handler {
    pub fn new(agent: ureq::Agent, config: &Config) -> Handler {
        Handler {
            agent,
            secrets: SecretsManager::new(config),
            cache: SecretCache::new(config.secret_ttl),
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed.
    pub fn handle(&mut self, invocation: &Invocation) -> Result<String, Error> {
        let started = Instant::now();
        let mut report = Report::default();
        let result = self.post_all(&invocation.body, invocation.deadline, &mut report);

        let slack_status = match &result {
            Err(Error::SlackRejected { status, .. }) => Some(*status),
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
            .word("secretCache", report.secret.map(Lookup::as_str))
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
        match notifications.first() {
            Some(Notification::Alarm(a)) => {
                report.alarm = Some((
                    crate::error::sanitize(&a.name, 255),
                    crate::error::sanitize(&a.new_state, 40),
                ))
            }
            Some(Notification::Text { .. }) => {}
            None => return Ok(0),
        }

        let (secrets, agent) = (&self.secrets, &self.agent);
        let (webhook, lookup) = self.cache.get(Instant::now(), || {
            Webhook::from_secret(&secrets.get_secret_string(agent, deadline)?)
        })?;
        report.secret = Some(lookup);

        // Stop at the first failure: the whole event is retried by Lambda.
        for notification in &notifications {
            let payload = message::render(notification, webhook.channel.as_deref());
            log::debug(&"Slack payload")
                .word("webhook", webhook.redacted())
                .str("payload", payload.as_str())
                .emit();
            report.slack_status = Some(slack::post(&self.agent, webhook, &payload, deadline)?);
            report.posted += 1;
        }
        Ok(report.posted)
    }
}
