//! Carries one notification to one destination: an incoming webhook, or the Web API in
//! app mode, in its incident's thread when threads are on, with the graph under what it
//! posted. What the handler keeps across invocations for this lives here too: the Slack
//! settings, the deliveries of failed events, the flaps.

pub mod click;
pub mod credentials;
pub mod delivered;
pub mod flaps;
mod graph;
mod threads;

pub use threads::{Ahead, Buttons};

use crate::alarm::event::Notification;
use crate::alarm::timestamp::now_ms;
use crate::error::Error;
use crate::graph::Graphs;
use crate::http::Deadline;
use crate::incident::store::Store;
use crate::incident::storm::{window_of, Storms};
use crate::incident::{transition_id, Transition};
use crate::log;
use crate::slack::app::{App, Tag};
use crate::slack::message::{self, Options};
use crate::slack::secret::{Destination, Settings, Target, To};
use crate::slack::web_api::WebApi;
use crate::slack::webhook;

/// What every delivery of an invocation shares.
pub struct Context<'a> {
    pub agent: &'a ureq::Agent,
    pub settings: &'a Settings,
    pub format: message::Format,
    pub web_api: &'a WebApi,
    pub incidents: Option<&'a Store>,
    /// Storm grouping in the incidents' channels (`STORM_THRESHOLD`), when on.
    pub storms: Option<Storms>,
    pub graphs: &'a Graphs,
    pub sparkline: Option<&'a str>,
    pub deadline: Deadline,
}

/// What a delivery did.
pub enum Sent {
    /// Posted; the webhook's HTTP status, if it was a webhook.
    Posted(Option<u16>),
    /// The incident store says this transition was posted already (a retried event).
    Already,
}

/// Posts one notification to one destination. `note` replaces the card with one line (a
/// flap).
pub fn deliver(
    cx: &Context,
    destination: &Destination,
    note: Option<&str>,
    notification: &Notification,
    ahead: &mut Option<Ahead>,
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
    // Only an incident thread (app mode) knows whether there is anything to resolve.
    if destination.thread_only
        && (cx.incidents.is_none() || matches!(destination.to, To::Webhook(..)))
    {
        return Ok(Sent::Already);
    }
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
            webhook::post(cx.agent, hook, &payload, cx.web_api.pace(), cx.deadline)
                .map(|s| Sent::Posted(Some(s)))
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
            // One incident per key and channel: a routed channel has its own thread. A
            // notice's key is apart from every alarm's (an ARN) by its source. The default
            // channel's keys and storm window name no channel: a cold start writes them
            // before the secret names it.
            let default = settings.channel.as_deref() == Some(*channel);
            let per_channel = |key: String| match default {
                true => key,
                false => format!("{key}|{channel}"),
            };
            let threaded = match (cx.incidents, notification) {
                (Some(store), Notification::Alarm(alarm)) if note.is_none() => {
                    let t = Transition::of(alarm, per_channel(alarm.key()), now_ms());
                    let runbook = destination.runbook.as_deref().or_else(|| alarm.runbook());
                    Some((store, t, runbook, cx.storms))
                }
                (Some(store), Notification::Notice(n)) if note.is_none() => {
                    n.thread().map(|thread| {
                        let key = per_channel(format!("{}|{thread}", n.source));
                        let t = Transition::of_notice(n, key, now_ms());
                        (store, t, destination.runbook.as_deref(), None)
                    })
                }
                _ => None,
            };
            let new = match (threaded, notification) {
                (Some((store, t, runbook, storms)), _) => {
                    // Buttons need the signing secret that lets their clicks be verified.
                    let buttons = settings
                        .signing_secret
                        .as_ref()
                        .map(|_| Buttons { runbook });
                    let incident = threads::Incident {
                        t,
                        notification,
                        thread_only: destination.thread_only,
                        buttons: buttons.as_ref(),
                        storms,
                        window: window_of(channel, default),
                    };
                    // `false`: a retried event, posted already; its graph was shared then.
                    if !threads::deliver(store, &app, incident, cx.deadline, ahead)? {
                        return Ok(Sent::Already);
                    }
                    true
                }
                (_, Notification::Alarm(alarm)) => {
                    let key = alarm.key();
                    let transition = transition_id(alarm);
                    let tag = Tag {
                        alarm: &key,
                        transition: &transition,
                    };
                    app.post(notification, None, Some(&tag), None, cx.deadline)?;
                    true
                }
                (_, Notification::Notice(_) | Notification::Text { .. }) => {
                    app.post(notification, None, None, None, cx.deadline)?;
                    false
                }
            };
            // The graph follows a card this invocation posted (a flap's one line has none).
            if let (true, None, Notification::Alarm(alarm), Some(posted)) =
                (new, note, notification, app.landed.take())
            {
                if !posted.found {
                    let thread = (posted.channel.as_str(), posted.thread_ts.as_str());
                    graph::share(&app, cx.graphs, alarm, thread, cx.deadline);
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
