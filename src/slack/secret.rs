//! What the secret says about Slack: where messages go (an incoming webhook, or the Web
//! API with a bot token and a channel) and as whom. Errors say which rule is broken,
//! never the value: the secret's values are credentials.

use super::webhook::Webhook;
use crate::error::Error;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::hash::{Hash, Hasher};

pub struct Settings {
    pub target: Target,
    /// `SLACK_CHANNEL`: required in app mode; a webhook's own channel when absent.
    pub channel: Option<String>,
    /// Sender name and emoji; legacy webhooks honour them, and the Web API with
    /// `chat:write.customize`.
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
}

pub enum Target {
    Webhook(Webhook),
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

#[derive(Deserialize)]
struct Fields {
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
}

impl Settings {
    /// From a SecretString: `{"SLACK_HOOK_URL": "...", "SLACK_CHANNEL": "#alerts"}`, or
    /// `{"SLACK_BOT_TOKEN": "xoxb-…", "SLACK_CHANNEL": "C0123ABCD"}` (app mode, which wins
    /// when both are there), or just the webhook URL.
    pub fn from_secret(secret: &str) -> Result<Settings, Error> {
        let secret = secret.trim();
        if secret.starts_with("http://") || secret.starts_with("https://") {
            return Ok(Settings {
                target: Target::Webhook(Webhook::new(secret, "the SecretString")?),
                channel: None,
                username: None,
                icon_emoji: None,
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
        let target = match (fields.bot_token, fields.hook_url) {
            (Some(token), _) => {
                let token = match token {
                    Value::String(t) if t.trim().starts_with("xoxb-") => t.trim().to_string(),
                    _ => {
                        return Err(Error::InvalidSecret(
                            "SLACK_BOT_TOKEN must be the app's bot token, a string starting with xoxb-"
                                .to_string(),
                        ))
                    }
                };
                if channel.is_none() {
                    return Err(Error::InvalidSecret(
                        "app mode (SLACK_BOT_TOKEN) needs SLACK_CHANNEL, a channel ID such as C0123ABCD"
                            .to_string(),
                    ));
                }
                Target::App(BotToken(token))
            }
            (None, Some(Value::String(url))) => {
                Target::Webhook(Webhook::new(url.trim(), "SLACK_HOOK_URL")?)
            }
            (None, Some(_)) => {
                return Err(Error::InvalidSecret(
                    "SLACK_HOOK_URL must be a string".to_string(),
                ))
            }
            (None, None) => {
                return Err(Error::InvalidSecret(
                    "the SecretString has no SLACK_HOOK_URL key; add the Slack incoming webhook URL under it (or SLACK_BOT_TOKEN and SLACK_CHANNEL for app mode)"
                        .to_string(),
                ))
            }
        };
        Ok(Settings {
            target,
            channel,
            username: optional_text(fields.username, "SLACK_USERNAME")?,
            icon_emoji: optional_text(fields.icon_emoji, "SLACK_ICON_EMOJI")?,
        })
    }

    /// Tells two credentials apart without keeping or showing either.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match &self.target {
            Target::Webhook(hook) => hook.fingerprint().hash(&mut hasher),
            Target::App(token) => token.0.hash(&mut hasher),
        }
        hasher.finish()
    }
}

/// An optional string key of the secret; blank counts as absent.
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
            Target::Webhook(hook) => hook,
            Target::App(_) => panic!("app mode"),
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
}
