//! One invocation: read the records, get the Slack settings (cached), post each record
//! to Slack (a webhook, or the Web API in app mode, in its incident's thread when
//! threads are on), and log one line about it.

use crate::alarm::event::{self, Notification};
use crate::aws::cloudwatch::CloudWatch;
use crate::aws::dynamodb::DynamoDb;
use crate::aws::secrets_manager::SecretsManager;
use crate::config::Config;
use crate::error::Error;
use crate::graph::Graphs;
use crate::http::Deadline;
use crate::incident::Incidents;
use crate::log::{self, Level};
use crate::runtime::Invocation;
use crate::secret_cache::{Lookup, SecretCache};
use crate::slack::app::{App, Tag};
use crate::slack::message::{self, Options};
use crate::slack::secret::{Destination, Settings, Target, To};
use crate::slack::web_api::WebApi;
use crate::slack::webhook;
use crate::text::sanitize;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::Instant;

pub struct Handler {
    agent: ureq::Agent,
    secrets: SecretsManager,
    cache: SecretCache<Settings>,
    format: message::Format,
    web_api: WebApi,
    incidents: Option<Incidents>,
    graphs: Graphs,
    delivered: Delivered,
    flaps: Flaps,
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
            web_api: WebApi::new(&config.slack_api_url),
            incidents: config
                .incident_table
                .as_ref()
                .map(|table| Incidents::new(DynamoDb::new(config.dynamodb.clone()), table.clone())),
            graphs: Graphs::new(
                config.metric_graph,
                CloudWatch::new(config.cloudwatch.clone()),
            ),
            delivered: Delivered::default(),
            flaps: Flaps::default(),
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed.
    pub fn handle(&mut self, invocation: &Invocation) -> Result<String, Error> {
        let started = Instant::now();
        let mut report = Report::default();
        let mut reached = Vec::new();
        let result = self.post_all(
            &invocation.body,
            invocation.deadline,
            &mut report,
            &mut reached,
        );
        self.delivered
            .settle(&invocation.body, &reached, result.is_err());

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

    /// Posts every record; `reached` collects the deliveries that are done (this time, or
    /// by an earlier attempt at the same event).
    fn post_all(
        &mut self,
        body: &[u8],
        deadline: Deadline,
        report: &mut Report,
        reached: &mut Vec<(usize, u64)>,
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
        // Stop at the first record that fails: Lambda retries the whole event, and the
        // targets that got it already are skipped then (see `delivered`).
        while let Some(notification) = notifications.get(next) {
            let (settings, lookup) =
                cached_settings(&mut self.cache, &self.secrets, &self.agent, deadline)?;
            report.secret.get_or_insert(lookup);
            let mut failed = None;
            // Fetched once per record, before its first post: it is part of the card (the
            // `text` format has none).
            let mut sparkline: Option<Option<String>> = None;
            for destination in settings.destinations(notification)? {
                let delivery = (next, destination.to.id());
                if self.delivered.contains(body, delivery) {
                    reached.push(delivery);
                    continue;
                }
                let sparkline = sparkline
                    .get_or_insert_with(|| match self.format {
                        message::Format::Card => {
                            self.graphs.sparkline(&self.agent, notification, deadline)
                        }
                        message::Format::Text => None,
                    })
                    .as_deref();
                let note = self.flaps.note(notification, destination.flap_seconds);
                let sent = deliver(
                    &Context {
                        agent: &self.agent,
                        settings,
                        format: self.format,
                        web_api: &self.web_api,
                        incidents: self.incidents.as_ref(),
                        graphs: &self.graphs,
                        sparkline,
                        deadline,
                    },
                    &destination,
                    note.as_deref(),
                    notification,
                );
                match sent {
                    Ok(Sent::Posted(status)) => {
                        report.slack_status = status.or(report.slack_status);
                        report.posted += 1;
                        reached.push(delivery);
                    }
                    Ok(Sent::Already) => reached.push(delivery),
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
            self.flaps.saw(notification);
            match failed {
                None => next += 1,
                // The secret may hold a new webhook or token since we cached it.
                Some(revoked @ (Error::WebhookRevoked { .. } | Error::TokenRevoked { .. }))
                    if !refreshed =>
                {
                    refreshed = true;
                    let old = settings.fingerprint();
                    self.cache.invalidate();
                    let (fresh, _) =
                        cached_settings(&mut self.cache, &self.secrets, &self.agent, deadline)?;
                    if fresh.fingerprint() == old {
                        return Err(revoked);
                    }
                    log::line(
                        Level::Warn,
                        &"Slack refused the cached credential; the secret holds a new one, posting again",
                    )
                    .emit();
                }
                Some(e) => return Err(e),
            }
        }
        Ok(report.posted)
    }
}

/// What every delivery of an invocation shares.
struct Context<'a> {
    agent: &'a ureq::Agent,
    settings: &'a Settings,
    format: message::Format,
    web_api: &'a WebApi,
    incidents: Option<&'a Incidents>,
    graphs: &'a Graphs,
    sparkline: Option<&'a str>,
    deadline: Deadline,
}

/// What a delivery did.
enum Sent {
    /// Posted; the webhook's HTTP status, if it was a webhook.
    Posted(Option<u16>),
    /// The incident store says this transition was posted already (a retried event).
    Already,
}

/// Posts one notification to one destination. `note` replaces the card with one line (a
/// flap).
fn deliver(
    cx: &Context,
    destination: &Destination,
    note: Option<&str>,
    notification: &Notification,
) -> Result<Sent, Error> {
    let settings = cx.settings;
    let suffix = note.or(destination.mention.as_deref());
    let options = Options {
        format: if note.is_some() {
            message::Format::Text
        } else {
            cx.format
        },
        channel: None,
        username: settings.username.as_deref(),
        icon_emoji: settings.icon_emoji.as_deref(),
        suffix,
        sparkline: cx.sparkline,
        web_api: None,
    };
    match (&settings.target, &destination.to) {
        (_, To::Webhook(hook, channel)) => {
            let options = Options {
                channel: *channel,
                ..options
            };
            let payload = message::render(notification, &options);
            log::debug(&"Slack payload")
                .word("webhook", hook.redacted())
                .str("payload", payload.as_str())
                .emit();
            webhook::post(cx.agent, hook, &payload, cx.deadline).map(|s| Sent::Posted(Some(s)))
        }
        (Target::App(token), To::Channel(channel)) => {
            let app = App {
                agent: cx.agent,
                api: cx.web_api,
                token,
                channel,
                options,
                landed: Default::default(),
            };
            let new = match (cx.incidents, notification) {
                (Some(incidents), Notification::Alarm(alarm)) if note.is_none() => {
                    // One incident per alarm and channel: a routed channel has its own thread.
                    let key = match settings.channel.as_deref() {
                        Some(default) if default == *channel => alarm.key(),
                        _ => format!("{}|{channel}", alarm.key()),
                    };
                    // `false`: a retried event, posted already; its graph was shared then.
                    if !incidents.deliver(&app, alarm, &key, notification, cx.deadline)? {
                        return Ok(Sent::Already);
                    }
                    true
                }
                (_, Notification::Alarm(alarm)) => {
                    let key = alarm.key();
                    let transition = crate::incident::transition_id(alarm);
                    let tag = Tag {
                        alarm: &key,
                        transition: &transition,
                    };
                    app.post(notification, None, Some(&tag), cx.deadline)?;
                    true
                }
                (_, Notification::Text { .. }) => {
                    app.post(notification, None, None, cx.deadline)?;
                    false
                }
            };
            // The graph follows a card this invocation posted (a flap's one line has none).
            if let (true, None, Notification::Alarm(alarm), Some(posted)) =
                (new, note, notification, app.landed.take())
            {
                if !posted.found {
                    let thread = (posted.channel.as_str(), posted.thread_ts.as_str());
                    cx.graphs.image(&app, alarm, thread, cx.deadline);
                }
            }
            Ok(Sent::Posted(None))
        }
        // A channel target exists only in app mode.
        (Target::Webhook(_), To::Channel(_)) => Err(Error::InvalidSecret(
            "a channel target needs app mode (SLACK_BOT_TOKEN)".to_string(),
        )),
    }
}

/// A hash that names an event (or a delivery of it) in memory, without keeping it.
fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The deliveries of events that failed elsewhere (another target, a later record), kept
/// in the warm instance: Lambda's retry of such an event posts only what is missing. A
/// success forgets them (an identical event is then a new one). Bounded: cleared when full.
#[derive(Default)]
struct Delivered(HashSet<u64>);

impl Delivered {
    const MAX: usize = 4096;

    /// Whether an earlier, failed attempt at `event` made this delivery (record, target).
    /// Nothing is hashed while no failed event is remembered: the common case.
    fn contains(&self, event: &[u8], delivery: (usize, u64)) -> bool {
        !self.0.is_empty()
            && self
                .0
                .contains(&fingerprint(&(fingerprint(&event), delivery)))
    }

    /// After an attempt at `event`: what it `reached` is remembered if it `failed` (Lambda
    /// retries it), and forgotten if it succeeded (it will not come back).
    fn settle(&mut self, event: &[u8], reached: &[(usize, u64)], failed: bool) {
        if reached.is_empty() || (!failed && self.0.is_empty()) {
            return;
        }
        let event = fingerprint(&event);
        let ids = reached
            .iter()
            .map(|delivery| fingerprint(&(event, *delivery)));
        if !failed {
            for id in ids {
                self.0.remove(&id);
            }
            return;
        }
        if self.0.len() + reached.len() > Self::MAX {
            self.0.clear();
        }
        self.0.extend(ids);
    }
}

/// When this instance last posted each alarm's `ALARM`, for a route's `flap_seconds`.
#[derive(Default)]
struct Flaps(Vec<(u64, i64)>);

impl Flaps {
    const MAX: usize = 256;

    /// A one-line note instead of the card, for an `OK` that follows this alarm's `ALARM`
    /// within `within` seconds.
    fn note(&self, notification: &Notification, within: Option<u64>) -> Option<String> {
        let (Notification::Alarm(alarm), Some(within)) = (notification, within) else {
            return None;
        };
        if alarm.new_state != "OK" {
            return None;
        }
        let key = fingerprint(&alarm.key());
        let at = alarm.changed_epoch()?;
        let (_, fired) = self.0.iter().rev().find(|(k, _)| *k == key)?;
        let after = at - fired;
        (0..=within as i64)
            .contains(&after)
            .then(|| format!("(a flap: back to OK {after} s after the ALARM)"))
    }

    fn saw(&mut self, notification: &Notification) {
        if let Notification::Alarm(alarm) = notification {
            if let ("ALARM", Some(at)) = (alarm.new_state.as_str(), alarm.changed_epoch()) {
                if self.0.len() >= Self::MAX {
                    self.0.remove(0);
                }
                self.0.push((fingerprint(&alarm.key()), at));
            }
        }
    }
}

/// The Slack settings from the cache, or from Secrets Manager when they are not fresh.
fn cached_settings<'c>(
    cache: &'c mut SecretCache<Settings>,
    secrets: &SecretsManager,
    agent: &ureq::Agent,
    deadline: Deadline,
) -> Result<(&'c Settings, &'static str), Error> {
    let fetch = || {
        // Where Slack probably is, connected while the secret is being fetched.
        crate::http::preconnect(agent);
        Settings::from_secret(&secrets.get_secret_string(agent, deadline)?)
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
