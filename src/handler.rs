//! One invocation: read the SNS records, get the webhook (cached), post each
//! record to Slack, and log one line about it.

use crate::config::Config;
use crate::error::Error;
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
    format: message::Format,
}

/// What the log line says about an invocation, filled in as it goes.
#[derive(Default)]
struct Report {
    posted: usize,
    first: String,
    secret: Option<Lookup>,
}

impl Handler {
    pub fn new(agent: ureq::Agent, config: &Config) -> Handler {
        Handler {
            agent,
            secrets: SecretsManager::new(config),
            cache: SecretCache::new(config.secret_ttl),
            format: config.message_format,
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed.
    pub fn handle(&mut self, invocation: &Invocation) -> Result<String, Error> {
        let started = Instant::now();
        let mut report = Report::default();
        let result = self.post_all(&invocation.body, invocation.deadline, &mut report);

        let mut line = format!("posted={}", report.posted);
        if !report.first.is_empty() {
            let _ = write!(line, " {}", report.first);
        }
        if let Some(lookup) = report.secret {
            let _ = write!(line, " secretCache={}", lookup.as_str());
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
        log(level, Some(&invocation.request_id), format_args!("{line}"));

        result.map(|posted| format!("{{\"posted\":{posted}}}"))
    }

    fn post_all(
        &mut self,
        body: &[u8],
        deadline: Deadline,
        report: &mut Report,
    ) -> Result<usize, Error> {
        let notifications = event::parse(body)?;
        if let Some(first) = notifications.first() {
            report.first = match first {
                Notification::Alarm(a) => format!(
                    "alarm={:?} state={:?}",
                    crate::error::sanitize(&a.name, 255),
                    crate::error::sanitize(&a.new_state, 40)
                ),
                Notification::Text { .. } => "message=text".to_string(),
            };
        } else {
            return Ok(0);
        }

        let (secrets, agent) = (&self.secrets, &self.agent);
        let (webhook, lookup) = self.cache.get(Instant::now(), || {
            Webhook::from_secret(&secrets.get_secret_string(agent, deadline)?)
        })?;
        report.secret = Some(lookup);

        // Stop at the first failure: the whole event is retried by Lambda.
        let options = message::Options::for_webhook(self.format, webhook);
        for notification in &notifications {
            let payload = message::render(notification, &options);
            slack::post(&self.agent, webhook, &payload, deadline)?;
            report.posted += 1;
        }
        Ok(report.posted)
    }
}
