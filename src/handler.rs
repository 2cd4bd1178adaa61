//! One invocation: read the records, find each one's destinations in the Slack settings,
//! have each delivered, and log one line about it. What a delivery does is `delivery/`'s;
//! this file only sequences the records and reports.

use crate::alarm::event::{self, Notification};
use crate::alarm::sqs;
use crate::aws::cloudwatch::CloudWatch;
use crate::aws::dynamodb::DynamoDb;
use crate::aws::secrets_manager::SecretsManager;
use crate::beside::beside;
use crate::buttons::{self, Identity, Parts};
use crate::click::request::{self, is_function_url, Unreadable};
use crate::config::Config;
use crate::delivery::credentials::Credentials;
use crate::delivery::delivered::Delivered;
use crate::delivery::flaps::Flaps;
use crate::delivery::{self, Ahead, Context, Sent};
use crate::error::Error;
use crate::graph::Graphs;
use crate::http::{Deadline, Preconnect};
use crate::incident::store::Store;
use crate::incident::storm::Storms;
use crate::json::Object;
use crate::log::{self, Level};
use crate::runtime::Invocation;
use crate::secret_cache::SecretCache;
use crate::slack::secret::To;
use crate::slack::web_api::WebApi;
use crate::slack::{digest, message, webhook};
use crate::text::sanitize;
use std::time::Instant;

pub struct Handler {
    agent: ureq::Agent,
    credentials: Credentials,
    format: message::Format,
    web_api: WebApi,
    incidents: Option<Store>,
    graphs: Graphs,
    delivered: Delivered,
    flaps: Flaps,
    /// The bot token's workspace and app, for the buttons' clicks.
    identity: Option<Identity>,
    /// `MUTE_CLOUDWATCH`: CloudWatch, for a Mute's alarm mute rule.
    mute_rules: Option<CloudWatch>,
    /// `STORM_THRESHOLD`: storm grouping, with threads and a threshold above 0.
    storms: Option<Storms>,
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
    /// `preconnect` is the agent's: the handler aims it where Slack is expected.
    pub fn new(agent: ureq::Agent, preconnect: Preconnect, config: &Config) -> Handler {
        Handler {
            agent,
            credentials: Credentials::new(
                SecretsManager::new(config.secrets_manager.clone(), &config.secret_id),
                SecretCache::new(config.secret_ttl, config.secret_max_stale),
                // Slack's connection, and with threads DynamoDB's: on a cold start each opens
                // beside the secret's instead of after it. DynamoDB's once for each write a
                // new incident makes at once: the claim, the storm count, the pace's turn.
                preconnect.to(config
                    .slack_preconnect
                    .iter()
                    .cloned()
                    .chain(std::iter::repeat_n(
                        config.dynamodb.endpoint.url.clone(),
                        config.incident_table.as_ref().map_or(0, |_| {
                            1 + usize::from(config.storm_threshold > 0)
                                + usize::from(!config.slack_pace.is_zero())
                        }),
                    ))),
            ),
            format: config.message_format,
            web_api: WebApi::new(&config.slack_api_url, config.slack_pace),
            incidents: config
                .incident_table
                .as_ref()
                .map(|table| Store::new(DynamoDb::new(config.dynamodb.clone()), table.clone())),
            graphs: Graphs::new(
                config.metric_graph,
                CloudWatch::new(config.cloudwatch.clone()),
            ),
            delivered: Delivered::default(),
            flaps: Flaps::default(),
            identity: None,
            mute_rules: config
                .mute_cloudwatch
                .then(|| CloudWatch::new(config.cloudwatch.clone())),
            storms: (config.incident_table.is_some() && config.storm_threshold > 0).then_some(
                Storms {
                    threshold: config.storm_threshold,
                    window_ms: config.storm_window.as_millis() as i64,
                },
            ),
        }
    }

    /// The Runtime API response body (`{"posted":N}`) or the reason it failed. A click
    /// through the function's URL may be answered early, with `answer` (see `runtime::run`).
    pub fn handle(
        &mut self,
        invocation: &Invocation,
        answer: &mut dyn FnMut(String),
    ) -> Result<String, Error> {
        if is_function_url(&invocation.body) {
            match request::parse(&invocation.body) {
                Ok(request) => {
                    let parts = Parts {
                        agent: &self.agent,
                        credentials: &mut self.credentials,
                        web_api: &self.web_api,
                        store: self.incidents.as_ref(),
                        identity: &mut self.identity,
                        mute_rules: self.mute_rules.as_ref(),
                    };
                    return buttons::serve(parts, &request, invocation, answer);
                }
                Err(Unreadable::Body(refused)) => return Ok(buttons::refuse(refused)),
                // Not a request after all (an alarm whose dimension is named requestContext):
                // read as any other event.
                Err(Unreadable::Event(_)) => {}
            }
        }
        if let Some(batch) = sqs::batch(&invocation.body) {
            return self.serve_batch(&batch?, invocation.deadline);
        }
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

    /// An SQS batch: each record delivered on its own, the ones that failed named in the
    /// answer (`batchItemFailures`) so that only they come back. In webhook mode the batch's
    /// alarms for one webhook go as one digest (`slack/digest.rs`). A secret that cannot be
    /// read fails the whole batch, as it would fail each record.
    fn serve_batch(
        &mut self,
        records: &[sqs::Record],
        deadline: Deadline,
    ) -> Result<String, Error> {
        let started = Instant::now();
        let (settings, lookup) = self.credentials.settings(&self.agent, deadline)?;
        let notifications: Vec<Vec<Notification>> = records
            .iter()
            .map(|r| sqs::notifications(&r.body))
            .collect();
        let mut failed = vec![false; records.len()];
        // Each delivery: (record, notification, destination, and for an alarm to a webhook
        // without flaps, the webhook's digest). One list, not singles and digests apart:
        // each list type of its own was code of its own.
        let mut plan = Vec::new();
        for (i, list) in notifications.iter().enumerate() {
            for notification in list {
                match settings.destinations(notification) {
                    Ok(destinations) => {
                        for destination in destinations {
                            let digest = match (&destination.to, notification) {
                                (To::Webhook(..), Notification::Alarm(_))
                                    if destination.flap_seconds.is_none() =>
                                {
                                    Some(destination.to.id())
                                }
                                _ => None,
                            };
                            plan.push((i, notification, destination, digest));
                        }
                    }
                    Err(err) => {
                        warn_record(&records[i].id, &err);
                        failed[i] = true;
                    }
                }
            }
        }
        let digest = |id: u64| plan.iter().filter(move |p| p.3 == Some(id));
        // One alarm alone keeps its card.
        let alone = |id: Option<u64>| id.is_some_and(|id| digest(id).nth(1).is_none());
        let cx = Context {
            agent: &self.agent,
            settings,
            format: self.format,
            web_api: &self.web_api,
            incidents: self.incidents.as_ref(),
            storms: self.storms,
            graphs: &self.graphs,
            sparkline: None,
            deadline,
        };
        let mut posted = 0;
        // The digests, each where its first alarm is.
        for (k, (_, _, destination, id)) in plan.iter().enumerate() {
            let (Some(id), To::Webhook(hook, channel)) = (*id, &destination.to) else {
                continue;
            };
            if alone(Some(id)) || plan[..k].iter().any(|p| p.3 == Some(id)) {
                continue;
            }
            let list: Vec<&crate::alarm::Alarm> = digest(id)
                .filter_map(|p| match p.1 {
                    Notification::Alarm(alarm) => Some(&**alarm),
                    Notification::Notice(_) | Notification::Text { .. } => None,
                })
                .collect();
            let sender = [
                ("channel", *channel),
                ("username", settings.username.as_deref()),
                ("icon_emoji", settings.icon_emoji.as_deref()),
            ];
            for payload in digest::render(&list, sender) {
                if let Err(err) =
                    webhook::post(&self.agent, hook, &payload, self.web_api.pace(), deadline)
                {
                    for (i, ..) in digest(id) {
                        warn_record(&records[*i].id, &err);
                        failed[*i] = true;
                    }
                    break;
                }
                posted += 1;
            }
        }
        // Then the rest, in order, and after them the alarms alone in their digest.
        let singles = plan.iter().filter(|p| p.3.is_none());
        for (i, notification, destination, _) in singles.chain(plan.iter().filter(|p| alone(p.3))) {
            let i = *i;
            if failed[i] {
                continue;
            }
            let note = self.flaps.note(notification, destination.flap_seconds);
            match delivery::deliver(&cx, destination, note.as_deref(), notification, &mut None) {
                Ok(Sent::Posted(_)) => posted += 1,
                Ok(Sent::Already) => {}
                Err(err) => {
                    warn_record(&records[i].id, &err);
                    failed[i] = true;
                }
            }
            self.flaps.saw(notification);
        }
        let mut answer = Object::new();
        answer.array("batchItemFailures", |list| {
            for (record, _) in records.iter().zip(&failed).filter(|(_, f)| **f) {
                list.object(|item| item.string("itemIdentifier", &record.id));
            }
        });
        log::line(Level::Info, &"batch done")
            .num("records", records.len() as u64)
            .num("failed", failed.iter().filter(|f| **f).count() as u64)
            .num("posted", posted)
            .word("secretCache", Some(lookup))
            .num("durationMs", started.elapsed().as_millis() as u64)
            .emit();
        Ok(answer.finish())
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

        // A cold start (or an expired secret) fetches the secret: the first alarm's claim in
        // its incident (and its storm count) is written meanwhile, beside it, for the default
        // channel.
        let mut ahead = None;
        if let (Some(store), Notification::Alarm(alarm), false) =
            (&self.incidents, first, self.credentials.is_fresh())
        {
            let (agent, credentials, storms) = (&self.agent, &mut self.credentials, self.storms);
            let fetched = beside(
                &mut || ahead = Ahead::claim(store, agent, alarm, alarm.key(), storms, deadline),
                || credentials.settings(agent, deadline).map(|(_, l)| l),
            );
            match fetched {
                Ok(lookup) => report.secret = Some(lookup),
                Err(err) => {
                    if let Some(unused) = ahead {
                        unused.release(store, agent, deadline);
                    }
                    return Err(err);
                }
            }
        }
        let result = self.post_each(&notifications, body, deadline, report, reached, &mut ahead);
        if let (Some(unused), Some(store)) = (ahead, &self.incidents) {
            unused.release(store, &self.agent, deadline);
        }
        result
    }

    /// Posts the records in order, stopping at the first that fails.
    fn post_each(
        &mut self,
        notifications: &[Notification],
        body: &[u8],
        deadline: Deadline,
        report: &mut Report,
        reached: &mut Vec<(usize, u64)>,
        ahead: &mut Option<Ahead>,
    ) -> Result<usize, Error> {
        let mut refreshed = false;
        let mut next = 0;
        // Stop at the first record that fails: Lambda retries the whole event, and the
        // targets that got it already are skipped then (see `delivered`).
        while let Some(notification) = notifications.get(next) {
            let (settings, lookup) = self.credentials.settings(&self.agent, deadline)?;
            report.secret.get_or_insert(lookup);
            let mut failed = None;
            // Fetched once per record, before its first post: it is part of the card (the
            // `text` format has none).
            let mut sparkline: Option<Option<String>> = None;
            let destinations = settings.destinations(notification)?;
            if destinations.is_empty() {
                let why = match notification {
                    Notification::Notice(n) if n.routine => {
                        "routine news, and no route asks for it: posted nowhere"
                    }
                    _ => "a route drops this notification (\"drop\": true)",
                };
                log::line(Level::Info, &why).emit();
            }
            for destination in destinations {
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
                let sent = delivery::deliver(
                    &Context {
                        agent: &self.agent,
                        settings,
                        format: self.format,
                        web_api: &self.web_api,
                        incidents: self.incidents.as_ref(),
                        storms: self.storms,
                        graphs: &self.graphs,
                        sparkline,
                        deadline,
                    },
                    &destination,
                    note.as_deref(),
                    notification,
                    ahead,
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
                    self.credentials.invalidate();
                    let (fresh, _) = self.credentials.settings(&self.agent, deadline)?;
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

fn warn_record(id: &str, err: &Error) {
    log::line(
        Level::Warn,
        &"an SQS record could not be delivered; it comes back",
    )
    .str("messageId", id)
    .error(err)
    .emit();
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
        let (agent, preconnect) = crate::http::agent();
        Handler::new(agent, preconnect, &config)
    }

    impl Handler {
        fn handle_now(&mut self, invocation: &Invocation) -> Result<String, Error> {
            self.handle(invocation, &mut |_| {
                panic!("an alarm is never answered early")
            })
        }
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
            .handle_now(&invocation(r#"{"hello":1}"#, Duration::from_secs(5)))
            .expect_err("not an event of ours");
        assert_eq!(err.error_type(), "Event.Invalid");
    }

    #[test]
    fn an_empty_event_posts_nothing() {
        let body = handler().handle_now(&invocation(r#"{"Records":[]}"#, Duration::from_secs(5)));
        assert_eq!(body.expect("nothing to do"), r#"{"posted":0}"#);
    }

    #[test]
    fn no_time_left_is_a_timeout_not_a_call() {
        let err = handler()
            .handle_now(&invocation(ALARM, Duration::from_millis(100)))
            .expect_err("too late");
        assert_eq!(err.error_type(), "Invocation.Timeout");
        assert!(err.to_string().contains("fetch the secret"), "{err}");
    }

    #[test]
    fn an_unreachable_secret_fails_the_alarm_for_lambda_to_retry() {
        let err = handler()
            .handle_now(&invocation(ALARM, Duration::from_secs(5)))
            .expect_err("no Secrets Manager");
        assert_eq!(err.error_type(), "SecretsManager.Unreachable");
        assert!(err.is_transient());
    }
}
