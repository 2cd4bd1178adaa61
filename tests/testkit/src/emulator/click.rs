//! Slack's side of a click on an incident's buttons: the `block_actions` payload Slack builds
//! from the message as it shows it (`SlackApi::shown`), the form body it posts, signed with the
//! app's signing secret, and the Lambda Function URL event (payload format 2.0) that body
//! becomes. Every part is a field a test may spoil: the secret, the timestamp, the headers,
//! the path, the method, the body after signing, the base64 flag.
//!
//! Facts it follows: /work/shared/reference/slack-interactivity.md (what a click sends, the
//! signature) and /work/shared/reference/function-url.md (the event; a form post arrives
//! base64-encoded, a header sent twice arrives once with its values joined by a comma).

use super::slack_api::TEAM_ID;
use super::{new_request_id, now_ms};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};

/// The signing secret of the app the tests' secrets name: 32 hex digits, as Slack's Basic
/// Information page shows one.
pub const SIGNING_SECRET: &str = "8e0f5a3c7b9d1e2f4a6c8b0d2e4f6a8c";
/// The app the clicks come from (`api_app_id`).
pub const APP_ID: &str = "A0EMUAPP";
/// The Function URL's id (its host's first label).
const URL_ID: &str = "k3xq7emulatorfunctionurl0abcdefg";
const SLACKBOT: &str = "Slackbot 1.0 (+https://api.slack.com/robots)";

/// What `application/x-www-form-urlencoded` leaves as it is: letters, digits and `*-._`;
/// a space becomes `+` (see [`form_encode`]).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// A click by one user on one element of a message.
#[derive(Debug, Clone)]
pub struct Click {
    /// `team.id` (default: the stand-in's workspace).
    pub team: String,
    /// `api_app_id` (default: [`APP_ID`]).
    pub app: String,
    pub user: String,
    pub channel: String,
    /// The message as Slack showed it to the clicker.
    pub message: Value,
    /// `actions[0]`.
    pub action: Value,
}

impl Click {
    /// `user` clicks the element `action_id` of `message` (as [`super::SlackApi::shown`]
    /// gives it) in `channel`: a button sends its `value`; for a select, [`Click::choose`]
    /// picks the option. An element the message does not have is clicked all the same, as a
    /// button of block `incident` without a value (a button of another version of the app).
    pub fn on(message: &Value, channel: &str, action_id: &str, user: &str) -> Click {
        let element = elements(message)
            .find(|(_, e)| e["action_id"] == action_id)
            .map(|(block, e)| (block, e.clone()));
        let mut action = Map::new();
        action.insert("action_id".into(), action_id.into());
        let (block_id, element) =
            element.unwrap_or_else(|| ("incident".to_string(), json!({"type": "button"})));
        action.insert("block_id".into(), block_id.into());
        action.insert(
            "type".into(),
            element.get("type").cloned().unwrap_or("button".into()),
        );
        for key in ["text", "value", "style", "url"] {
            if let Some(v) = element.get(key) {
                action.insert(key.into(), v.clone());
            }
        }
        if element["type"] == "static_select" {
            action.insert("placeholder".into(), element["placeholder"].clone());
        }
        action.insert("action_ts".into(), action_ts().into());
        Click {
            team: TEAM_ID.to_string(),
            app: APP_ID.to_string(),
            user: user.to_string(),
            channel: channel.to_string(),
            message: message.clone(),
            action: Value::Object(action),
        }
    }

    /// The select's option with this `value` chosen (Slack sends it as `selected_option`); a
    /// value the select does not offer is sent all the same, with its value as the label.
    pub fn choose(mut self, value: &str) -> Click {
        let label = elements(&self.message)
            .filter(|(_, e)| e["action_id"] == self.action["action_id"])
            .flat_map(|(_, e)| e["options"].as_array().cloned().unwrap_or_default())
            .find(|o| o["value"] == value)
            .map(|o| o["text"].clone())
            .unwrap_or(json!({"type": "plain_text", "text": value}));
        self.action["selected_option"] = json!({"text": label, "value": value});
        self
    }

    /// The action's `value` replaced (`None`: removed).
    pub fn value(mut self, value: Option<&str>) -> Click {
        match value {
            Some(v) => self.action["value"] = v.into(),
            None => {
                if let Some(a) = self.action.as_object_mut() {
                    a.remove("value");
                }
            }
        }
        self
    }

    pub fn team(mut self, team: &str) -> Click {
        self.team = team.to_string();
        self
    }

    pub fn app(mut self, app: &str) -> Click {
        self.app = app.to_string();
        self
    }

    /// The `block_actions` payload, as Slack sends it.
    pub fn payload(&self) -> Value {
        let ts = self.message["ts"].clone();
        json!({
            "type": "block_actions",
            "user": {"id": self.user, "username": self.user.to_lowercase(),
                "name": self.user.to_lowercase(), "team_id": self.team},
            "api_app_id": self.app,
            // The deprecated verification token: still sent, never to be used.
            "token": "Xq1emulatorVerificationToken",
            "container": {"type": "message", "message_ts": ts, "channel_id": self.channel,
                "is_ephemeral": false},
            "trigger_id": "1111111111111.2222222222.0123456789abcdef0123456789abcdef",
            "team": {"id": self.team, "domain": "emulator"},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": self.channel, "name": "alerts"},
            "message": self.message,
            "state": {"values": {}},
            "response_url": format!("https://hooks.slack.com/actions/{}/1111111111111/emulatorResponseUrl", self.team),
            "actions": [self.action],
        })
    }

    /// The form body Slack posts: `payload=` and the payload, URL-encoded.
    pub fn body(&self) -> Vec<u8> {
        format!("payload={}", form_encode(&self.payload().to_string())).into_bytes()
    }

    /// The request Slack sends now, signed with `secret`.
    pub fn signed(&self, secret: &str) -> Request {
        self.signed_at(secret, now_secs())
    }

    /// The request signed with `secret` and this `X-Slack-Request-Timestamp`.
    pub fn signed_at(&self, secret: &str, timestamp: i64) -> Request {
        Request::signed(self.body(), secret, timestamp)
    }
}

/// The elements of a message's `actions` blocks, each with its block's id.
fn elements(message: &Value) -> impl Iterator<Item = (String, &Value)> {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| {
            let id = b["block_id"].as_str().unwrap_or("").to_string();
            b["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |e| (id.clone(), e))
        })
}

/// A fresh `action_ts` (`seconds.micros`, as Slack writes them), never the same twice.
fn action_ts() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = now_ms() * 1000;
    let micros = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .map_or(now, |last| now.max(last + 1));
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

pub fn now_secs() -> i64 {
    (now_ms() / 1000) as i64
}

/// `application/x-www-form-urlencoded`, spaces as `+`.
pub fn form_encode(text: &str) -> String {
    utf8_percent_encode(text, FORM)
        .to_string()
        .replace("%20", "+")
}

/// Slack's `X-Slack-Signature`: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// One HTTP request to the function's URL, before Lambda turns it into an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// As sent (`rawPath`).
    pub path: String,
    /// In the order sent, names in lower case; a name may come twice (the event joins the
    /// values with a comma, as a Function URL does).
    pub headers: Vec<(String, String)>,
    /// The bytes the client sent.
    pub body: Vec<u8>,
    /// The body travels base64-encoded, as a Function URL delivers a form post.
    pub base64: bool,
    /// `isBase64Encoded` as the event says it, when it lies (`None`: it says `base64`).
    pub base64_flag: Option<bool>,
}

impl Request {
    /// A form post to `/` as Slack sends one, `body` signed with `secret` at `timestamp`.
    pub fn signed(body: Vec<u8>, secret: &str, timestamp: i64) -> Request {
        let timestamp = timestamp.to_string();
        let signature = signature(secret, &timestamp, &body);
        let headers = [
            ("content-length", body.len().to_string()),
            ("x-amzn-tls-version", "TLSv1.3".to_string()),
            ("x-forwarded-proto", "https".to_string()),
            ("x-forwarded-port", "443".to_string()),
            ("x-forwarded-for", "192.0.2.10".to_string()),
            ("accept", "application/json,*/*".to_string()),
            ("x-slack-signature", signature),
            ("x-slack-request-timestamp", timestamp),
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("host", format!("{URL_ID}.lambda-url.us-east-1.on.aws")),
            ("user-agent", SLACKBOT.to_string()),
            ("accept-encoding", "gzip,deflate".to_string()),
            (
                "x-amzn-trace-id",
                "Root=1-67a0b1c2-0123456789abcdef01234567".to_string(),
            ),
        ];
        Request {
            method: "POST".to_string(),
            path: "/".to_string(),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            body,
            base64: true,
            base64_flag: None,
        }
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Header `name` sent once more with `value`.
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Header `name` with `value` instead (added if absent).
    pub fn set_header(mut self, name: &str, value: &str) -> Request {
        self = self.without_header(name);
        self.with_header(name, value)
    }

    pub fn without_header(mut self, name: &str) -> Request {
        self.headers.retain(|(k, _)| k != name);
        self
    }

    /// The Function URL event Lambda hands the function for this request.
    pub fn event(&self) -> Vec<u8> {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            match headers.get_mut(name) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(value);
                }
                _ => {
                    headers.insert(name.clone(), value.clone().into());
                }
            }
        }
        let now = now_ms();
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": URL_ID,
                "domainName": format!("{URL_ID}.lambda-url.us-east-1.on.aws"),
                "domainPrefix": URL_ID,
                "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.10", "userAgent": SLACKBOT},
                "requestId": new_request_id(),
                "routeKey": "$default",
                "stage": "$default",
                "time": "03/Dec/2026:00:00:00 +0000",
                "timeEpoch": now,
            },
            "isBase64Encoded": self.base64_flag.unwrap_or(self.base64 && !self.body.is_empty()),
        });
        if !self.body.is_empty() {
            use base64::Engine as _;
            event["body"] = if self.base64 {
                base64::engine::general_purpose::STANDARD
                    .encode(&self.body)
                    .into()
            } else {
                String::from_utf8_lossy(&self.body).into_owned().into()
            };
        }
        event.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Slack's "Verifying requests from Slack" (as in
    /// src/click/signature.rs).
    #[test]
    fn signs_slacks_worked_example() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            signature(
                "8f742231b10e8888abcd99yyyzzz85a5",
                "1531420618",
                body.as_bytes()
            ),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    fn parent() -> Value {
        json!({"type": "message", "ts": "1796000000.000100", "text": "cpu state is now ALARM",
        "blocks": [
            {"type": "section", "block_id": "seed", "text": {"type": "mrkdwn", "text": "x"}},
            {"type": "actions", "block_id": "incident", "elements": [
                {"type": "button", "action_id": "ack", "value": "arn:k",
                    "text": {"type": "plain_text", "text": "Acknowledge"}},
                {"type": "static_select", "action_id": "mute",
                    "placeholder": {"type": "plain_text", "text": "Mute…"},
                    "options": [{"text": {"type": "plain_text", "text": "until OK"}, "value": "ok"}]},
            ]}]})
    }

    #[test]
    fn a_click_carries_the_element_and_the_message_and_decodes_back() {
        let click = Click::on(&parent(), "C1", "mute", "U1").choose("ok");
        let body = String::from_utf8(click.body()).expect("text");
        let encoded = body.strip_prefix("payload=").expect("one field");
        assert!(!encoded.contains(['{', '"', ' ', '&', '=']), "{encoded}");
        let decoded = percent_encoding::percent_decode_str(&encoded.replace('+', " "))
            .decode_utf8()
            .expect("UTF-8")
            .into_owned();
        let payload: Value = serde_json::from_str(&decoded).expect("JSON");
        let action = &payload["actions"][0];
        assert_eq!(action["block_id"], "incident");
        assert_eq!(action["type"], "static_select");
        assert_eq!(action["selected_option"]["value"], "ok");
        assert_eq!(action["selected_option"]["text"]["text"], "until OK");
        assert_eq!(payload["container"]["message_ts"], "1796000000.000100");
        assert_eq!(
            payload["message"]["blocks"][1]["elements"][0]["value"],
            "arn:k"
        );
        let ack = Click::on(&parent(), "C1", "ack", "U1");
        assert_eq!(ack.action["value"], "arn:k");
        assert_ne!(ack.action["action_ts"], click.action["action_ts"]);
    }

    #[test]
    fn the_event_is_a_function_url_form_post() {
        let request = Click::on(&parent(), "C1", "ack", "U1")
            .signed_at("s", 1_796_000_000)
            .with_header("x-slack-signature", "v0=00");
        let event: Value = serde_json::from_slice(&request.event()).expect("JSON");
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["headers"]["x-slack-request-timestamp"], "1796000000");
        let joined = event["headers"]["x-slack-signature"]
            .as_str()
            .expect("text");
        assert_eq!(joined.matches("v0=").count(), 2, "{joined}");
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD
            .decode(event["body"].as_str().expect("body"))
            .expect("base64");
        assert_eq!(body, request.body);
    }
}
