//! What the secret says about Slack: where messages go (an incoming webhook, or the Web
//! API with a bot token and a channel) and as whom. Errors say which rule is broken,
//! never the value: the secret's values are credentials.

use super::routes::{self, Route, RouteTarget};
use super::webhook::Webhook;
use crate::alarm::event::Notification;
use crate::error::Error;
use serde::de::{Deserialize, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::hash::{Hash, Hasher};

pub struct Settings {
    pub target: Target,
    /// `ROUTES`: where each alarm goes; the default target takes what none matches.
    pub routes: Vec<Route>,
    /// `SLACK_CHANNEL`: required in app mode; a webhook's own channel when absent.
    pub channel: Option<String>,
    /// Sender name and emoji; legacy webhooks honour them, and the Web API with
    /// `chat:write.customize`.
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
    /// App mode: `SLACK_SIGNING_SECRET`, which turns the parents' buttons on (issue 23).
    pub signing_secret: Option<SigningSecret>,
    /// `SLACK_TEAM_ID` and `SLACK_APP_ID`: whose clicks are served; asked of `auth.test`
    /// when the secret does not say.
    pub team_id: Option<String>,
    pub app_id: Option<String>,
}

/// The app's signing secret: a credential, never shown.
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

pub enum Target {
    /// The default webhook; only a secret with routes may go without one.
    Webhook(Option<Webhook>),
    /// App mode: the Web API with this bot token.
    App(BotToken),
}

/// A bot token (`xoxb-…`): a credential, never shown.
pub struct BotToken(String);

impl BotToken {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(xoxb-…)")
    }
}

/// The secret's JSON object, each field as given (absent or `null`: `None`). Read by the
/// visitor below rather than `#[derive(Deserialize)]`: the derive also writes a reader for
/// a JSON array and for fields named by index, which no secret takes (`from_secret` only
/// parses text that starts with `{`), and cost 4.6 KB more code. The same rules: any other
/// key is skipped, and a field given twice fails the parse.
#[derive(Default)]
struct Fields {
    hook_url: Option<Value>,
    bot_token: Option<Value>,
    channel: Option<Value>,
    username: Option<Value>,
    icon_emoji: Option<Value>,
    routes: Option<Value>,
    signing_secret: Option<Value>,
    team_id: Option<Value>,
    app_id: Option<Value>,
}

/// The keys of [`Fields`], in its order.
const FIELD_NAMES: [&str; 9] = [
    "SLACK_HOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "SLACK_USERNAME",
    "SLACK_ICON_EMOJI",
    "ROUTES",
    "SLACK_SIGNING_SECRET",
    "SLACK_TEAM_ID",
    "SLACK_APP_ID",
];

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Fields::default();
                let mut seen = [false; FIELD_NAMES.len()];
                while let Some(key) = map.next_key::<String>()? {
                    let Some(i) = FIELD_NAMES.iter().position(|name| *name == key) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    if std::mem::replace(&mut seen[i], true) {
                        return Err(A::Error::duplicate_field(FIELD_NAMES[i]));
                    }
                    let value = map.next_value::<Option<Value>>()?;
                    let field = match i {
                        0 => &mut fields.hook_url,
                        1 => &mut fields.bot_token,
                        2 => &mut fields.channel,
                        3 => &mut fields.username,
                        4 => &mut fields.icon_emoji,
                        5 => &mut fields.routes,
                        6 => &mut fields.signing_secret,
                        7 => &mut fields.team_id,
                        _ => &mut fields.app_id,
                    };
                    *field = value;
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(Object)
    }
}

/// One place a notification goes, and how.
pub struct Destination<'s> {
    pub to: To<'s>,
    /// Slack mentions to add to the text (already checked syntax).
    pub mention: Option<String>,
    pub flap_seconds: Option<u64>,
    /// A route's runbook link for the alarm (its template filled in).
    pub runbook: Option<String>,
    /// Only as a reply in an open incident's thread (a routine notice that resolves one).
    pub thread_only: bool,
}

pub enum To<'s> {
    /// A webhook, with the channel to ask for (legacy webhooks honour it).
    Webhook(&'s Webhook, Option<&'s str>),
    /// App mode: a channel.
    Channel(&'s str),
}

impl To<'_> {
    /// Names the target without showing a credential: the same for the same target.
    pub fn id(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match self {
            To::Webhook(hook, channel) => (0u8, hook.fingerprint(), channel).hash(&mut hasher),
            To::Channel(channel) => (1u8, channel).hash(&mut hasher),
        }
        hasher.finish()
    }
}

impl Settings {
    /// From a SecretString: `{"SLACK_HOOK_URL": "...", "SLACK_CHANNEL": "#alerts"}`, or
    /// `{"SLACK_BOT_TOKEN": "xoxb-…", "SLACK_CHANNEL": "C0123ABCD"}` (app mode, which wins
    /// when both are there), or just the webhook URL.
    pub fn from_secret(secret: &str) -> Result<Settings, Error> {
        let secret = secret.trim();
        if secret.starts_with("http://") || secret.starts_with("https://") {
            return Ok(Settings {
                target: Target::Webhook(Some(Webhook::new(secret, "the SecretString")?)),
                routes: Vec::new(),
                channel: None,
                username: None,
                icon_emoji: None,
                signing_secret: None,
                team_id: None,
                app_id: None,
            });
        }
        if !secret.starts_with('{') {
            return Err(Error::InvalidSecret(
                "the SecretString is neither JSON nor a URL; store {\"SLACK_HOOK_URL\": \"https://hooks.slack.com/services/…\", \"SLACK_CHANNEL\": \"#alerts\"} or just the webhook URL"
                    .to_string(),
            ));
        }
        let fields: Fields = serde_json::from_str(secret).map_err(|_| {
            Error::InvalidSecret(
                "SecretString is not a JSON object; store {\"SLACK_HOOK_URL\": \"https://hooks.slack.com/services/…\", \"SLACK_CHANNEL\": \"#alerts\"}"
                    .to_string(),
            )
        })?;
        let channel = match fields.channel {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) => Some(c.trim().to_string()).filter(|c| !c.is_empty()),
            Some(_) => {
                return Err(Error::InvalidSecret(
                    "SLACK_CHANNEL must be a string such as \"#alerts\"".to_string(),
                ))
            }
        };
        let has_routes = fields.routes.as_ref().is_some_and(|r| !r.is_null());
        let target = match (fields.bot_token, fields.hook_url) {
            (Some(token), _) => {
                let token = match token {
                    Value::String(t) if t.trim().starts_with("xoxb-") => t.trim().to_string(),
                    _ => {
                        return Err(Error::InvalidSecret(
                            "SLACK_BOT_TOKEN must be the app's bot token, a string that starts with xoxb"
                                .to_string(),
                        ))
                    }
                };
                if channel.is_none() && !has_routes {
                    return Err(Error::InvalidSecret(
                        "app mode (SLACK_BOT_TOKEN) needs SLACK_CHANNEL, a channel ID such as C0123ABCD"
                            .to_string(),
                    ));
                }
                crate::text::register_credential(&token);
                Target::App(BotToken(token))
            }
            (None, Some(Value::String(url))) => {
                Target::Webhook(Some(Webhook::new(url.trim(), "SLACK_HOOK_URL")?))
            }
            (None, Some(_)) => {
                return Err(Error::InvalidSecret(
                    "SLACK_HOOK_URL must be a string".to_string(),
                ))
            }
            (None, None) if has_routes => Target::Webhook(None),
            (None, None) => {
                return Err(Error::InvalidSecret(
                    "the SecretString has no SLACK_HOOK_URL key; add the Slack incoming webhook URL under it (or SLACK_BOT_TOKEN and SLACK_CHANNEL for app mode)"
                        .to_string(),
                ))
            }
        };
        let routes = match &fields.routes {
            Some(list) if !list.is_null() => routes::parse(list, matches!(target, Target::App(_)))?,
            _ => Vec::new(),
        };
        let signing_secret = match (fields.signing_secret, &target) {
            (None | Some(Value::Null), _) => None,
            (Some(Value::String(s)), Target::App(_)) if is_signing_secret(s.trim()) => {
                crate::text::register_credential(s.trim());
                Some(SigningSecret(s.trim().to_string()))
            }
            (Some(_), Target::App(_)) => {
                return Err(Error::InvalidSecret(
                    "SLACK_SIGNING_SECRET must be the app's signing secret, a string of 32 hex digits from its Basic Information page"
                        .to_string(),
                ))
            }
            (Some(_), Target::Webhook(_)) => {
                return Err(Error::InvalidSecret(
                    "SLACK_SIGNING_SECRET is for app mode: webhooks cannot receive clicks".to_string(),
                ))
            }
        };
        let id = |value: Option<Value>, name: &str, first: u8| match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) if is_slack_id(v.trim(), first) => {
                Ok(Some(v.trim().to_string()))
            }
            Some(_) => Err(Error::InvalidSecret(format!(
                "{name} must be a Slack ID such as {}0123ABCD",
                first as char
            ))),
        };
        Ok(Settings {
            target,
            routes,
            channel,
            username: optional_text(fields.username, "SLACK_USERNAME")?,
            icon_emoji: optional_text(fields.icon_emoji, "SLACK_ICON_EMOJI")?,
            signing_secret,
            team_id: id(fields.team_id, "SLACK_TEAM_ID", b'T')?,
            app_id: id(fields.app_id, "SLACK_APP_ID", b'A')?,
        })
    }

    /// Who may act on an incident in `channel` (an ID): the `responders` of the routes that
    /// post there; empty when none names any, and then anyone who sees the message may.
    pub fn responders(&self, channel: &str) -> Vec<&str> {
        let mut responders: Vec<&str> = Vec::new();
        let routes = self
            .routes
            .iter()
            .filter(|r| matches!(&r.target, RouteTarget::Channel(c) if c == channel));
        for responder in routes.flat_map(|r| &r.responders) {
            if !responders.contains(&responder.as_str()) {
                responders.push(responder);
            }
        }
        responders
    }

    /// Tells two sets of credentials apart without keeping or showing any.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match &self.target {
            Target::Webhook(hook) => hook.as_ref().map(Webhook::fingerprint).hash(&mut hasher),
            Target::App(token) => token.0.hash(&mut hasher),
        }
        for route in &self.routes {
            if let RouteTarget::Webhook(hook) = &route.target {
                hook.fingerprint().hash(&mut hasher);
            }
        }
        hasher.finish()
    }

    /// Where `notification` goes: every matching route, each target once (their mentions
    /// merged), else the default target; nowhere (an empty list) when a matching route drops
    /// it and no posting route matches.
    pub fn destinations(&self, notification: &Notification) -> Result<Vec<Destination<'_>>, Error> {
        let state = match notification {
            Notification::Alarm(alarm) => alarm.new_state.as_str(),
            Notification::Notice(_) | Notification::Text { .. } => "",
        };
        let mut out: Vec<Destination> = Vec::new();
        let mut dropped = false;
        for route in self.routes.iter().filter(|r| r.matches(notification)) {
            let to = match &route.target {
                RouteTarget::Channel(channel) => To::Channel(channel),
                RouteTarget::Webhook(hook) => To::Webhook(hook, None),
                RouteTarget::Drop => {
                    dropped = true;
                    continue;
                }
            };
            let mention = match notification {
                Notification::Notice(notice) => route.mention_for_notice(notice),
                _ => route.mention_for(state),
            };
            match out.iter_mut().find(|d| d.to.id() == to.id()) {
                Some(same) => {
                    if let Some(mention) = mention {
                        let merged = match same.mention.take() {
                            Some(m) if m.split(' ').any(|t| t == mention) => m,
                            Some(m) => format!("{m} {mention}"),
                            None => mention.to_string(),
                        };
                        same.mention = Some(merged);
                    }
                    same.flap_seconds = same.flap_seconds.or(route.flap_seconds);
                    same.runbook = same
                        .runbook
                        .take()
                        .or_else(|| route.runbook_for(notification));
                }
                None => out.push(Destination {
                    to,
                    mention: mention.map(str::to_string),
                    flap_seconds: route.flap_seconds,
                    runbook: route.runbook_for(notification),
                    thread_only: false,
                }),
            }
        }
        // A drop route keeps what it matches from the default target: posted to the posting
        // routes it matches, or nowhere. So does a routine notice, unless a route asks for it
        // or it resolves an incident: then it goes to the default target, into that incident's
        // thread only.
        let (routine, resolves) = match notification {
            Notification::Notice(n) => (
                n.routine,
                n.status == crate::source::Status::Resolved && n.key.is_some(),
            ),
            _ => (false, false),
        };
        if !out.is_empty() || dropped || (routine && !resolves) {
            return Ok(out);
        }
        let default = match (&self.target, self.channel.as_deref()) {
            (Target::Webhook(Some(hook)), channel) => Some(To::Webhook(hook, channel)),
            (Target::App(_), Some(channel)) => Some(To::Channel(channel)),
            _ => None,
        };
        match default {
            Some(to) => Ok(vec![Destination {
                to,
                mention: None,
                flap_seconds: None,
                runbook: None,
                thread_only: routine,
            }]),
            None => Err(Error::InvalidSecret(
                "no route matches this notification, and the secret has no default target \
                 (SLACK_HOOK_URL, or SLACK_CHANNEL in app mode); add one, or a route for it"
                    .to_string(),
            )),
        }
    }
}

/// An optional string key of the secret; blank counts as absent.
/// Slack's signing secrets are 32 lower-case hex digits; anything of that alphabet and
/// length band is taken, so that a future longer one still works.
fn is_signing_secret(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `T0123ABCD`, `A0123ABCD`: a letter, then upper-case letters and digits.
pub fn is_slack_id(s: &str, first: u8) -> bool {
    s.len() >= 3
        && s.len() <= 32
        && s.as_bytes()[0] == first
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn optional_text(value: Option<Value>, key: &str) -> Result<Option<String>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(_) => Err(Error::InvalidSecret(format!("{key} must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://hooks.slack.com/services/T0/B0/SECRETPART";

    fn webhook(settings: &Settings) -> &Webhook {
        match &settings.target {
            Target::Webhook(Some(hook)) => hook,
            _ => panic!("no default webhook"),
        }
    }

    #[test]
    fn secret_json_with_channel() {
        let s = Settings::from_secret(&format!(
            r##"{{"SLACK_HOOK_URL":"{URL}","SLACK_CHANNEL":"#alerts","other":1}}"##
        ))
        .expect("valid");
        assert_eq!(s.channel.as_deref(), Some("#alerts"));
        assert_eq!(webhook(&s).redacted(), "https://hooks.slack.com");
    }

    #[test]
    fn sender_name_and_icon_are_optional() {
        let s = Settings::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_USERNAME":"CloudWatch","SLACK_ICON_EMOJI":" :bell: "}}"#
        ))
        .expect("valid");
        assert_eq!(s.username.as_deref(), Some("CloudWatch"));
        assert_eq!(s.icon_emoji.as_deref(), Some(":bell:"));
        let bare = Settings::from_secret(URL).expect("bare url");
        assert_eq!(
            (bare.username, bare.icon_emoji, bare.channel),
            (None, None, None)
        );
        let err = Settings::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_ICON_EMOJI":1}}"#
        ))
        .err()
        .expect("not a string");
        assert!(err.to_string().contains("SLACK_ICON_EMOJI"), "{err}");
    }

    #[test]
    fn empty_channel_is_none() {
        let s = Settings::from_secret(&format!(
            r#"{{"SLACK_HOOK_URL":"{URL}","SLACK_CHANNEL":""}}"#
        ))
        .expect("valid");
        assert!(s.channel.is_none());
    }

    #[test]
    fn the_signing_secret_and_ids_turn_buttons_on_and_are_checked() {
        let app = |extra: &str| {
            Settings::from_secret(&format!(
                r#"{{"SLACK_BOT_TOKEN":"xoxb-1","SLACK_CHANNEL":"C1"{extra}}}"#
            ))
        };
        let on = app(r#","SLACK_SIGNING_SECRET":"8f742231b10e8888abcd99yyyzzz85a5","SLACK_TEAM_ID":"T0ONE","SLACK_APP_ID":"A0TWO""#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            on.signing_secret.as_ref().map(SigningSecret::bytes),
            Some(&b"8f742231b10e8888abcd99yyyzzz85a5"[..])
        );
        assert_eq!(
            (on.team_id.as_deref(), on.app_id.as_deref()),
            (Some("T0ONE"), Some("A0TWO"))
        );
        assert!(!format!("{:?}", on.signing_secret).contains("8f74"));
        let off = app("").unwrap_or_else(|e| panic!("{e}"));
        assert!(off.signing_secret.is_none());
        for (extra, expected) in [
            (
                r#","SLACK_SIGNING_SECRET":"short""#,
                "SLACK_SIGNING_SECRET must be",
            ),
            (
                r#","SLACK_SIGNING_SECRET":7"#,
                "SLACK_SIGNING_SECRET must be",
            ),
            (
                r#","SLACK_TEAM_ID":"team one""#,
                "SLACK_TEAM_ID must be a Slack ID",
            ),
            (
                r#","SLACK_APP_ID":"T0ONE""#,
                "SLACK_APP_ID must be a Slack ID",
            ),
        ] {
            let err = app(extra).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(expected)),
                "{extra}: {err:?}"
            );
            assert!(!err.unwrap_or_default().contains("short"));
        }
        let webhook = Settings::from_secret(
            r#"{"SLACK_HOOK_URL":"https://hooks.slack.com/services/T/B/x","SLACK_SIGNING_SECRET":"8f742231b10e8888abcd99yyyzzz85a5"}"#,
        );
        assert!(webhook
            .err()
            .is_some_and(|e| e.to_string().contains("is for app mode")));
    }

    #[test]
    fn app_mode_needs_a_bot_token_and_a_channel() {
        let app = Settings::from_secret(
            r#"{"SLACK_BOT_TOKEN":" xoxb-1-SECRETTOKEN ","SLACK_CHANNEL":"C0123ABCD","SLACK_HOOK_URL":"https://hooks.slack.com/x"}"#,
        )
        .expect("valid");
        let Target::App(token) = &app.target else {
            panic!("webhook mode")
        };
        assert_eq!(token.bearer(), "Bearer xoxb-1-SECRETTOKEN");
        assert_eq!(format!("{token:?}"), "BotToken(xoxb-…)");
        assert_eq!(app.channel.as_deref(), Some("C0123ABCD"));
        for bad in [
            r#"{"SLACK_BOT_TOKEN":"xoxb-SECRETTOKEN"}"#,
            r#"{"SLACK_BOT_TOKEN":"xoxp-SECRETTOKEN","SLACK_CHANNEL":"C1"}"#,
            r#"{"SLACK_BOT_TOKEN":7,"SLACK_CHANNEL":"C1"}"#,
        ] {
            let err = Settings::from_secret(bad).err().expect(bad);
            assert_eq!(err.error_type(), "Secret.Invalid");
            assert!(!err.to_string().contains("SECRETTOKEN"), "{err}");
        }
    }

    /// `Fields` as `#[derive(Deserialize)]` read it before its visitor was written by hand.
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Derived {
        #[serde(rename = "SLACK_HOOK_URL")]
        hook_url: Option<Value>,
        #[serde(rename = "SLACK_BOT_TOKEN")]
        bot_token: Option<Value>,
        #[serde(rename = "SLACK_CHANNEL")]
        channel: Option<Value>,
        #[serde(rename = "SLACK_USERNAME")]
        username: Option<Value>,
        #[serde(rename = "SLACK_ICON_EMOJI")]
        icon_emoji: Option<Value>,
        #[serde(rename = "ROUTES")]
        routes: Option<Value>,
        #[serde(rename = "SLACK_SIGNING_SECRET")]
        signing_secret: Option<Value>,
        #[serde(rename = "SLACK_TEAM_ID")]
        team_id: Option<Value>,
        #[serde(rename = "SLACK_APP_ID")]
        app_id: Option<Value>,
    }

    #[test]
    fn the_fields_are_read_as_the_derive_read_them() {
        for json in [
            r##"{}"##,
            r##"{"SLACK_HOOK_URL":"x","SLACK_CHANNEL":"#a","other":{"deep":[1,{"x":null}]}}"##,
            r##"{"SLACK_BOT_TOKEN":"xoxb-1","SLACK_CHANNEL":null,"ROUTES":[{"alarm":"*"}]}"##,
            r##"{"SLACK_SIGNING_SECRET":"s","SLACK_TEAM_ID":"T1","SLACK_APP_ID":7}"##,
            r##"{"SLACK_USERNAME":"u","SLACK_ICON_EMOJI":":x:","SLACK_APP_ID":"A1"}"##,
            // Escaped key names are the same names.
            r##"{"SLACK\u005fHOOK_URL":"x"}"##,
            // Another key twice is skipped both times; one of ours twice fails, null or not.
            r##"{"other":1,"other":2}"##,
            r##"{"SLACK_HOOK_URL":"x","SLACK_HOOK_URL":"y"}"##,
            r##"{"SLACK_CHANNEL":null,"SLACK_CHANNEL":"#a"}"##,
            r##"{"SLACK_APP_ID":"A1","SLACK_TEAM_ID":"T1","SLACK_APP_ID":"A1"}"##,
            // Case matters; neither reads a broken or unfinished object.
            r##"{"slack_hook_url":"x"}"##,
            r##"{"SLACK_HOOK_URL":}"##,
            r##"{"SLACK_HOOK_URL":"x""##,
            r##"{"SLACK_HOOK_URL":"x"} {}"##,
            r##"{1:2}"##,
        ] {
            let derived = serde_json::from_str::<Derived>(json).ok();
            let ours = serde_json::from_str::<Fields>(json).ok().map(|f| Derived {
                hook_url: f.hook_url,
                bot_token: f.bot_token,
                channel: f.channel,
                username: f.username,
                icon_emoji: f.icon_emoji,
                routes: f.routes,
                signing_secret: f.signing_secret,
                team_id: f.team_id,
                app_id: f.app_id,
            });
            assert_eq!(ours, derived, "{json}");
        }
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
            let err = Settings::from_secret(&secret).err().expect(&secret);
            assert_eq!(err.error_type(), "Secret.Invalid");
            assert!(!err.to_string().contains("SECRETPART"), "{err}");
        }
    }

    #[test]
    fn fingerprints_tell_credentials_apart() {
        let a = Settings::from_secret(URL).expect("a");
        let b = Settings::from_secret(&URL.replace("SECRETPART", "OTHER")).expect("b");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint(),
            Settings::from_secret(URL).expect("a").fingerprint()
        );
    }

    fn alarm(name: &str, state: &str) -> Notification {
        Notification::Alarm(Box::new(crate::alarm::Alarm {
            name: name.into(),
            new_state: state.into(),
            ..crate::alarm::Alarm::default()
        }))
    }

    fn channels(settings: &Settings, n: &Notification) -> Vec<(String, Option<String>)> {
        settings
            .destinations(n)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|d| match d.to {
                To::Channel(c) => (c.to_string(), d.mention),
                To::Webhook(..) => panic!("webhook"),
            })
            .collect()
    }

    fn notice(source: &str, severity: crate::source::Severity) -> Notification {
        Notification::Notice(Box::new(crate::source::Notice {
            source: source.into(),
            kind: Some("GuardDuty Finding".into()),
            severity,
            ..crate::source::Notice::default()
        }))
    }

    #[test]
    fn a_drop_route_keeps_what_it_matches_from_the_default() {
        use crate::source::Severity;
        let secret = |extra: &str| {
            Settings::from_secret(&format!(
                r#"{{"SLACK_BOT_TOKEN":"xoxb-1","SLACK_CHANNEL":"C0DEFAULT","ROUTES":[
                {{"source":["aws.guardduty"],"severity":"medium","channel":"C0SEC","mention":"<!here>"}},
                {{"source":["aws.guardduty"],"drop":true}},
                {{"alarm":["staging-*"],"drop":true}}{extra}]}}"#
            ))
            .expect("valid")
        };
        let s = secret("");
        let gd = |s: &Settings, severity| channels(s, &notice("aws.guardduty", severity));
        assert_eq!(
            gd(&s, Severity::High),
            [("C0SEC".to_string(), Some("<!here>".to_string()))]
        );
        assert_eq!(gd(&s, Severity::Medium).len(), 1);
        assert!(gd(&s, Severity::Low).is_empty(), "dropped");
        assert!(gd(&s, Severity::Info).is_empty(), "dropped");
        assert_eq!(
            channels(&s, &notice("aws.health", Severity::High)),
            [("C0DEFAULT".to_string(), None)]
        );
        assert!(channels(&s, &alarm("staging-db", "ALARM")).is_empty());
        assert_eq!(
            channels(&s, &alarm("prod-db", "ALARM")),
            [("C0DEFAULT".to_string(), None)]
        );
        // A catch-all posting route takes what the drop route matches too; its mention is for
        // alarms, not notices.
        let s = secret(r#",{"channel":"C0ALL","mention":"<!channel>"}"#);
        assert_eq!(gd(&s, Severity::Low), [("C0ALL".to_string(), None)]);
        assert_eq!(
            channels(&s, &alarm("staging-db", "ALARM")),
            [("C0ALL".to_string(), Some("<!channel>".to_string()))]
        );
    }

    #[test]
    fn a_routine_notice_goes_only_where_a_route_sends_it() {
        let routine = |source: &str| {
            Notification::Notice(Box::new(crate::source::Notice {
                source: source.into(),
                routine: true,
                ..crate::source::Notice::default()
            }))
        };
        let s = Settings::from_secret(
            r#"{"SLACK_BOT_TOKEN":"xoxb-1","SLACK_CHANNEL":"C0DEFAULT","ROUTES":[
                {"source":["aws.codepipeline"],"channel":"C0DEPLOYS"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            channels(&s, &routine("aws.codepipeline")),
            [("C0DEPLOYS".to_string(), None)]
        );
        assert!(channels(&s, &routine("aws.ecs")).is_empty());
        assert_eq!(
            channels(&s, &notice("aws.ecs", crate::source::Severity::High)),
            [("C0DEFAULT".to_string(), None)]
        );
    }

    #[test]
    fn every_matching_route_once_else_the_default() {
        let s = Settings::from_secret(
            r#"{"SLACK_BOT_TOKEN":"xoxb-1","SLACK_CHANNEL":"C0DEFAULT","ROUTES":[
                {"alarm":["prod-pay-*"],"channel":"C0PAY","mention":"<!subteam^S1>"},
                {"alarm":["*-p1"],"channel":"C0ONCALL","mention":"<!here>"},
                {"alarm":["prod-pay-*"],"channel":"C0ONCALL","mention":"<!subteam^S1>"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            channels(&s, &alarm("prod-pay-db-p1", "ALARM")),
            [
                ("C0PAY".to_string(), Some("<!subteam^S1>".to_string())),
                (
                    "C0ONCALL".to_string(),
                    Some("<!here> <!subteam^S1>".to_string())
                ),
            ]
        );
        assert_eq!(
            channels(&s, &alarm("prod-pay-db", "OK")),
            [("C0PAY".to_string(), None), ("C0ONCALL".to_string(), None)]
        );
        assert_eq!(
            channels(&s, &alarm("web", "ALARM")),
            [("C0DEFAULT".to_string(), None)]
        );
    }

    #[test]
    fn routes_without_a_default_serve_what_they_match() {
        let s = Settings::from_secret(
            r#"{"ROUTES":[{"alarm":["staging-*"],"webhook":"https://hooks.slack.com/services/T/B/SECRETPART"}]}"#,
        )
        .expect("valid without SLACK_HOOK_URL");
        assert_eq!(
            s.destinations(&alarm("staging-db", "ALARM"))
                .expect("routed")
                .len(),
            1
        );
        let err = s
            .destinations(&alarm("prod-db", "ALARM"))
            .err()
            .expect("no target");
        assert_eq!(err.error_type(), "Secret.Invalid");
        let app =
            Settings::from_secret(r#"{"SLACK_BOT_TOKEN":"xoxb-1","ROUTES":[{"channel":"C1"}]}"#)
                .expect("app mode with routes needs no SLACK_CHANNEL");
        assert_eq!(
            channels(&app, &alarm("x", "OK")),
            [("C1".to_string(), None)]
        );
    }
}
