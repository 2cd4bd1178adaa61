//! App mode: messages through the Web API with a bot token. A post carries metadata that
//! names the alarm transition, so that a post whose answer was lost is found again in the
//! channel's history instead of being posted twice.

use super::controls::Controls;
use super::message::{self, Options, WebApiFields};
use super::secret::BotToken;
use super::web_api::{form, Args, WebApi};
use crate::alarm::event::Notification;
use crate::error::Error;
use crate::http::Deadline;
use crate::json::Object;
use crate::log;
use serde_json::Value;
use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far back the history is searched for a post whose answer was lost.
const LOOKBACK_SECS: u64 = 15 * 60;
/// The metadata `event_type` of our posts.
const EVENT_TYPE: &str = "cloudwatch_alarm_transition";

/// Everything a post needs: the Web API, the token, the channel and the message options.
pub struct App<'a> {
    pub agent: &'a ureq::Agent,
    pub api: &'a WebApi,
    pub token: &'a BotToken,
    /// An ID or a name; replies and updates use the ID Slack answers with.
    pub channel: &'a str,
    pub options: Options<'a>,
    /// Where the last post landed, for what follows it (a graph under it).
    pub landed: Cell<Option<Posted>>,
}

/// A posted message: where it is.
#[derive(Clone, Debug, Default)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    /// The thread a follow-up belongs in: the parent's `ts` for a reply, else its own.
    pub thread_ts: String,
    /// Found in the channel's history rather than posted by this call (a lost answer).
    pub found: bool,
}

/// Which alarm transition a post is about, as its metadata says.
pub struct Tag<'a> {
    pub alarm: &'a str,
    pub transition: &'a str,
}

impl App<'_> {
    /// `chat.postMessage`, in `thread` (channel ID, parent ts) when given. With a `tag`, a post
    /// that got no answer is looked up in the channel's history before it is posted again.
    pub fn post(
        &self,
        notification: &Notification,
        thread: Option<(&str, &str)>,
        tag: Option<&Tag>,
        controls: Option<&Controls>,
        deadline: Deadline,
    ) -> Result<Posted, Error> {
        let metadata = tag.map(metadata);
        let channel = thread.map_or(self.channel, |(channel, _)| channel);
        let options = Options {
            channel: Some(channel),
            web_api: Some(WebApiFields {
                thread_ts: thread.map(|(_, ts)| ts),
                metadata: metadata.as_deref(),
                controls,
                ..WebApiFields::default()
            }),
            ..self.base_options()
        };
        let payload = message::render(notification, &options);
        log::debug(&"Slack payload")
            .word("method", "chat.postMessage")
            .str("payload", payload.as_str())
            .emit();
        let send = || self.call("chat.postMessage", Args::Json(&payload), false, deadline);
        let answer = match (send(), tag) {
            (Err(Error::SlackNoAnswer(why)), Some(tag)) => {
                match self.find(channel, thread.map(|(_, parent)| parent), tag, deadline) {
                    Ok(Some(ts)) => {
                        log::line(log::Level::Warn, &"Slack's answer to a post was lost; found the post in the channel's history")
                            .emit();
                        let thread_ts =
                            thread.map_or(ts.as_str(), |(_, parent)| parent).to_string();
                        return Ok(self.remember(Posted {
                            channel: channel.to_string(),
                            ts,
                            thread_ts,
                            found: true,
                        }));
                    }
                    // Not there: it did not arrive, and posting it again cannot duplicate it.
                    Ok(None) => send()?,
                    Err(_) => return Err(Error::SlackNoAnswer(why)),
                }
            }
            (result, _) => result?,
        };
        let ts = text(&answer, "ts").unwrap_or_default();
        Ok(self.remember(Posted {
            channel: text(&answer, "channel").unwrap_or(channel).to_string(),
            ts: ts.to_string(),
            thread_ts: thread.map_or(ts, |(_, parent)| parent).to_string(),
            found: false,
        }))
    }

    /// Remembers where a post landed, and returns it.
    fn remember(&self, posted: Posted) -> Posted {
        self.landed.set(Some(posted.clone()));
        posted
    }

    /// `chat.update` of a parent so that it shows the latest state and the incident in words.
    pub fn update(
        &self,
        parent: (&str, &str),
        notification: &Notification,
        incident: &str,
        controls: Option<&Controls>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let options = Options {
            channel: Some(parent.0),
            web_api: Some(WebApiFields {
                ts: Some(parent.1),
                incident: Some(incident),
                controls,
                ..WebApiFields::default()
            }),
            ..self.base_options()
        };
        let payload = message::render(notification, &options);
        self.call("chat.update", Args::Json(&payload), true, deadline)
            .map(|_| ())
    }

    /// The `ts` of our post about `tag` in the channel's recent history, or in the thread of
    /// `parent` (a reply is in the thread, not in the channel's history), if it is there.
    pub fn find(
        &self,
        channel: &str,
        parent: Option<&str>,
        tag: &Tag,
        deadline: Deadline,
    ) -> Result<Option<String>, Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let oldest = now.saturating_sub(LOOKBACK_SECS).to_string();
        let (method, args) = match parent {
            None => (
                "conversations.history",
                form(&[
                    ("channel", channel),
                    ("oldest", &oldest),
                    ("limit", "200"),
                    ("include_all_metadata", "true"),
                ]),
            ),
            Some(parent) => (
                "conversations.replies",
                form(&[
                    ("channel", channel),
                    ("ts", parent),
                    ("oldest", &oldest),
                    ("limit", "200"),
                    ("include_all_metadata", "true"),
                ]),
            ),
        };
        let answer = self.call(method, Args::Form(&args), true, deadline)?;
        let found = answer
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| {
                let payload = m.get("metadata").and_then(|d| d.get("event_payload"));
                let field = |k: &str| payload.and_then(|p| p.get(k)).and_then(Value::as_str);
                field("alarm") == Some(tag.alarm) && field("transition") == Some(tag.transition)
            });
        Ok(found.and_then(|m| text(m, "ts")).map(str::to_string))
    }

    /// A Web API method with this app's token.
    pub fn call(
        &self,
        method: &'static str,
        args: Args,
        idempotent: bool,
        deadline: Deadline,
    ) -> Result<Value, Error> {
        self.api
            .call(self.agent, self.token, method, args, idempotent, deadline)
    }

    fn base_options(&self) -> Options<'_> {
        Options {
            format: self.options.format,
            channel: None,
            username: self.options.username,
            icon_emoji: self.options.icon_emoji,
            suffix: self.options.suffix,
            sparkline: self.options.sparkline,
            web_api: None,
        }
    }
}

/// The `metadata` of a post about a transition.
pub fn metadata(tag: &Tag) -> String {
    let mut metadata = Object::new();
    metadata.string("event_type", EVENT_TYPE);
    metadata.object("event_payload", |p| {
        p.string("alarm", tag.alarm);
        p.string("transition", tag.transition);
    });
    metadata.finish()
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key)?.as_str()
}
