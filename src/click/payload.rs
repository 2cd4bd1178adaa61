//! What was clicked: the body Slack signed, a form with one field `payload` holding the
//! interaction as URL-encoded JSON, read as a `block_actions` click on a message. Read only
//! after the signature was checked: before that, nothing in it is Slack's word.

use percent_encoding::percent_decode;
use serde_json::Value;

/// A click on a button (or a choice in a menu) of a message, with what is needed to answer
/// it and to show the message again.
#[derive(Clone, Debug, PartialEq)]
pub struct Click {
    /// `team.id`: the workspace.
    pub team: String,
    /// `api_app_id`.
    pub app: String,
    /// `user.id`: who clicked.
    pub user: String,
    /// Their handle (`user.username`, else `user.name`), when Slack sends one.
    pub user_name: Option<String>,
    /// The message's channel (`channel.id`, else `container.channel_id`).
    pub channel: String,
    /// The message's `ts` (`container.message_ts`, else `message.ts`).
    pub message_ts: String,
    /// The first action's `action_id`: which button.
    pub action_id: String,
    /// The button's `value`, or the chosen option's (`selected_option.value`); `None` for a
    /// button without one, or a menu choice taken back.
    pub value: Option<String>,
    pub action_ts: String,
    /// Where an answer for this click may be posted (30 minutes, 5 times).
    pub response_url: Option<String>,
    /// The message as Slack sent it (`text`, `blocks`, `attachments`, …), to show it again
    /// changed; `Null` when the payload holds none (a click on an ephemeral message).
    pub message: Value,
}

/// Why a signed body is not a click we handle. Each says so in our own words: never the
/// body's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAClick {
    /// The body is not a form with exactly one `payload` field.
    NoPayload,
    /// `payload` is not a JSON object.
    NotJson,
    /// Another kind of interaction: a modal submitted or closed, a shortcut, a message action.
    OtherType,
    /// A `block_actions` payload without an action.
    NoAction,
    /// A field every click carries is absent, empty or not text; the words name it.
    Missing(&'static str),
}

impl NotAClick {
    pub fn why(self) -> &'static str {
        match self {
            NotAClick::NoPayload => "the body is not a form with one `payload` field",
            NotAClick::NotJson => "the `payload` field is not a JSON object",
            NotAClick::OtherType => "the payload is not a `block_actions` interaction",
            NotAClick::NoAction => "the `block_actions` payload holds no action",
            NotAClick::Missing(why) => why,
        }
    }
}

/// The click in a signed body.
pub fn parse(body: &[u8]) -> Result<Click, NotAClick> {
    let payload = form_field(body, b"payload")?;
    let mut payload: Value = serde_json::from_slice(&payload).map_err(|_| NotAClick::NotJson)?;
    if !payload.is_object() {
        return Err(NotAClick::NotJson);
    }
    if payload.get("type").and_then(Value::as_str) != Some("block_actions") {
        return Err(NotAClick::OtherType);
    }
    let action = payload
        .get("actions")
        .and_then(Value::as_array)
        .and_then(|actions| actions.first())
        .filter(|action| action.is_object())
        .ok_or(NotAClick::NoAction)?;
    // Each field looked up through a table, into the click in place: written out field by
    // field, each with its own copy and error exit, the same lookups cost 700 bytes more.
    let mut click = Click {
        team: String::new(),
        app: String::new(),
        user: String::new(),
        user_name: None,
        channel: String::new(),
        message_ts: String::new(),
        action_id: String::new(),
        value: None,
        action_ts: String::new(),
        response_url: None,
        message: Value::Null,
    };
    let required = [
        &mut click.team,
        &mut click.app,
        &mut click.user,
        &mut click.channel,
        &mut click.message_ts,
        &mut click.action_id,
        &mut click.action_ts,
    ];
    let paths = REQUIRED.split(' ').zip(MISSING);
    for (field, (paths, missing)) in required.into_iter().zip(paths) {
        let text = lookup(&payload, action, paths).ok_or(NotAClick::Missing(missing))?;
        *field = text.to_string();
    }
    let optional = [
        &mut click.user_name,
        &mut click.value,
        &mut click.response_url,
    ];
    for (field, paths) in optional.into_iter().zip(OPTIONAL.split(' ')) {
        *field = lookup(&payload, action, paths).map(str::to_string);
    }
    // Taken, not copied: a message with its blocks is most of the payload.
    let message = payload
        .get_mut("message")
        .filter(|m| m.is_object())
        .map(Value::take)
        .unwrap_or(Value::Null);
    click.message = message;
    Ok(click)
}

/// The one value of the field `name` in an `application/x-www-form-urlencoded` body,
/// decoded. A field given twice is refused: which of the two Slack signed would be a guess.
fn form_field(body: &[u8], name: &[u8]) -> Result<Vec<u8>, NotAClick> {
    let mut found = None;
    for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            // `get`, not indexing: no panic's location and call kept for bounds that hold.
            Some(at) => (
                pair.get(..at).unwrap_or_default(),
                pair.get(at + 1..).unwrap_or_default(),
            ),
            None => (pair, &b""[..]),
        };
        if form_decode(key) != name {
            continue;
        }
        if found.is_some() {
            return Err(NotAClick::NoPayload);
        }
        found = Some(form_decode(value));
    }
    found.ok_or(NotAClick::NoPayload)
}

/// A form's `+` is a space; `%2B` is a plus, so `+` goes first.
fn form_decode(text: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = text
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced).collect()
}

/// Where the fields a click must have are read, one after another in the order of
/// [`Click`]'s fields: a dotted path in the payload (in its first action after `@`), and a
/// fallback after `|`. A field is absent when it is empty or not text. One string, split
/// when read: a table of the same paths takes 16 bytes more per path.
const REQUIRED: &str = "team.id api_app_id user.id channel.id|container.channel_id \
    container.message_ts|message.ts @action_id @action_ts";

/// Why a click without the field of [`REQUIRED`] at the same place is refused.
const MISSING: [&str; 7] = [
    "the payload has no `team.id`",
    "the payload has no `api_app_id`",
    "the payload has no `user.id`",
    "the payload names no channel",
    "the payload names no message",
    "the action has no `action_id`",
    "the action has no `action_ts`",
];

/// The fields that may be absent, likewise: `user_name`, `value`, `response_url`.
const OPTIONAL: &str = "user.username|user.name @value|@selected_option.value response_url";

/// The text at the first of `paths` (as in [`REQUIRED`]) that has some.
fn lookup<'v>(payload: &'v Value, action: &'v Value, paths: &str) -> Option<&'v str> {
    paths.split('|').find_map(|path| {
        let (root, path) = match path.strip_prefix('@') {
            Some(path) => (action, path),
            None => (payload, path),
        };
        path.split('.')
            .try_fold(root, |v, key| v.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    use serde_json::json;

    /// A click on "Acknowledge" under an alarm the app posted, as Slack sends it.
    fn button_click() -> Value {
        json!({
          "type": "block_actions",
          "user": {
            "id": "U0123ABCD",
            "username": "jane.doe",
            "name": "jane.doe",
            "team_id": "T0123WXYZ"
          },
          "api_app_id": "A0456APP1",
          "token": "verificationtokenunused",
          "container": {
            "type": "message",
            "message_ts": "1767225600.123456",
            "channel_id": "C0789CHAN",
            "is_ephemeral": false
          },
          "trigger_id": "1234567890123.1234567890.abcdef0123456789abcdef0123456789",
          "team": { "id": "T0123WXYZ", "domain": "example-ops" },
          "enterprise": null,
          "is_enterprise_install": false,
          "channel": { "id": "C0789CHAN", "name": "alerts" },
          "message": {
            "type": "message",
            "subtype": "bot_message",
            "text": ":red_circle: ALARM: cpu-high (eu-west-1)",
            "ts": "1767225600.123456",
            "bot_id": "B0456BOT1",
            "app_id": "A0456APP1",
            "blocks": [
              {
                "type": "section",
                "block_id": "summary",
                "text": { "type": "mrkdwn", "text": "*cpu-high* is in ALARM & rising > 80 %" }
              },
              {
                "type": "actions",
                "block_id": "incident",
                "elements": [
                  {
                    "type": "button",
                    "action_id": "ack",
                    "text": { "type": "plain_text", "text": "Acknowledge", "emoji": true },
                    "style": "primary",
                    "value": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high"
                  }
                ]
              }
            ],
            "attachments": [{ "id": 1, "color": "d00000", "fallback": "cpu-high" }],
            "metadata": {
              "event_type": "alarm_posted",
              "event_payload": { "alarm": "cpu-high" }
            }
          },
          "state": { "values": {} },
          "response_url": "https://hooks.slack.com/actions/T0123WXYZ/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx",
          "actions": [
            {
              "action_id": "ack",
              "block_id": "incident",
              "text": { "type": "plain_text", "text": "Acknowledge", "emoji": true },
              "value": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high",
              "style": "primary",
              "type": "button",
              "action_ts": "1767225612.345678"
            }
          ]
        })
    }

    /// The body Slack posts for `payload`: spaces as `+`, everything else not alphanumeric
    /// as `%XX`.
    fn form(payload: &Value) -> Vec<u8> {
        let encoded = utf8_percent_encode(&payload.to_string(), NON_ALPHANUMERIC)
            .to_string()
            .replace("%20", "+");
        format!("payload={encoded}").into_bytes()
    }

    fn changed(change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut payload = button_click();
        change(&mut payload);
        form(&payload)
    }

    #[test]
    fn a_button_click_is_read() {
        let click = parse(&form(&button_click())).expect("a click");
        assert_eq!(
            click,
            Click {
                team: "T0123WXYZ".into(),
                app: "A0456APP1".into(),
                user: "U0123ABCD".into(),
                user_name: Some("jane.doe".into()),
                channel: "C0789CHAN".into(),
                message_ts: "1767225600.123456".into(),
                action_id: "ack".into(),
                value: Some("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high".into()),
                action_ts: "1767225612.345678".into(),
                response_url: Some(
                    "https://hooks.slack.com/actions/T0123WXYZ/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx"
                        .into()
                ),
                message: button_click()["message"].clone(),
            }
        );
        // Spaces, `&`, `>`, `%` and `+` came through the form encoding intact.
        assert_eq!(
            click.message["blocks"][0]["text"]["text"],
            "*cpu-high* is in ALARM & rising > 80 %"
        );
    }

    #[test]
    fn every_field_has_one_path() {
        // Zipped with the fields: a path too many or too few would go unnoticed.
        assert_eq!(REQUIRED.split(' ').count(), MISSING.len());
        assert_eq!(OPTIONAL.split(' ').count(), 3);
        for paths in REQUIRED.split(' ').chain(OPTIONAL.split(' ')) {
            assert!(paths.split('|').all(|p| !p.is_empty() && !p.contains(' ')));
        }
    }

    #[test]
    fn form_encoding_is_undone_as_browsers_and_slack_do_it() {
        assert_eq!(form_decode(b"a+b%2Bc%20d%25"), b"a b+c d%");
        assert_eq!(form_decode(b"%E2%9C%85+ok"), "✅ ok".as_bytes());
        // A broken escape is left as it is: the JSON reader then decides.
        assert_eq!(form_decode(b"100%"), b"100%");
        assert_eq!(
            form_field(b"a=1&payload=x+y&b", b"payload"),
            Ok(b"x y".to_vec())
        );
        assert_eq!(form_field(b"pay%6Coad=z", b"payload"), Ok(b"z".to_vec()));
        assert_eq!(form_field(b"payload", b"payload"), Ok(Vec::new()));
        assert_eq!(
            form_field(b"payloads=1", b"payload"),
            Err(NotAClick::NoPayload)
        );
        assert_eq!(
            form_field(b"payload=1&payload=2", b"payload"),
            Err(NotAClick::NoPayload)
        );
        // Other fields beside it do not matter.
        let mut body = b"ssl_check=1&".to_vec();
        body.extend_from_slice(&form(&button_click()));
        assert!(parse(&body).is_ok());
    }

    #[test]
    fn a_menu_choice_gives_the_chosen_value() {
        let body = changed(|p| {
            p["actions"][0] = json!({
              "type": "static_select",
              "action_id": "snooze",
              "block_id": "incident",
              "selected_option": {
                "text": { "type": "plain_text", "text": "1 hour" },
                "value": "3600"
              },
              "placeholder": { "type": "plain_text", "text": "Snooze" },
              "action_ts": "1767225700.000100"
            });
        });
        let click = parse(&body).expect("a click");
        assert_eq!(click.action_id, "snooze");
        assert_eq!(click.value.as_deref(), Some("3600"));
        // An overflow menu's choice has the same shape; a choice taken back has none.
        let taken_back = changed(|p| {
            p["actions"][0] = json!({
              "type": "static_select",
              "action_id": "snooze",
              "selected_option": null,
              "action_ts": "1767225700.000100"
            });
        });
        assert_eq!(parse(&taken_back).expect("a click").value, None);
    }

    #[test]
    fn a_link_button_or_a_click_without_extras_is_still_a_click() {
        let body = changed(|p| {
            let o = p.as_object_mut().expect("an object");
            o.remove("response_url");
            o.remove("channel");
            o.remove("message");
            o["user"].as_object_mut().map(|u| u.remove("username"));
            o["user"].as_object_mut().map(|u| u.remove("name"));
            o["actions"][0] = json!({
              "type": "button",
              "action_id": "console",
              "url": "https://console.aws.amazon.com/cloudwatch/home",
              "action_ts": "1767225612.345678"
            });
        });
        let click = parse(&body).expect("a click");
        assert_eq!(click.channel, "C0789CHAN", "from the container");
        assert_eq!(click.value, None);
        assert_eq!(click.user_name, None);
        assert_eq!(click.response_url, None);
        assert_eq!(click.message, Value::Null);
        // The message's own ts when the container has none.
        let body = changed(|p| {
            p["container"] = json!({ "type": "message" });
        });
        let click = parse(&body).expect("a click");
        assert_eq!(
            (click.channel.as_str(), click.message_ts.as_str()),
            ("C0789CHAN", "1767225600.123456")
        );
        // Only the first action counts.
        let body = changed(|p| {
            let second = json!({ "action_id": "other", "action_ts": "1" });
            if let Some(actions) = p["actions"].as_array_mut() {
                actions.push(second);
            }
        });
        assert_eq!(parse(&body).expect("a click").action_id, "ack");
    }

    #[test]
    fn anything_else_is_refused_by_kind() {
        let cases: Vec<(Vec<u8>, NotAClick)> = vec![
            (Vec::new(), NotAClick::NoPayload),
            (b"token=x&command=%2Fack".to_vec(), NotAClick::NoPayload),
            (b"payload=".to_vec(), NotAClick::NotJson),
            (b"payload=%7B".to_vec(), NotAClick::NotJson),
            (b"payload=%5B%5D".to_vec(), NotAClick::NotJson),
            (b"payload=%22block_actions%22".to_vec(), NotAClick::NotJson),
            (b"payload=%FF%FE".to_vec(), NotAClick::NotJson),
            (
                form(&json!({ "type": "view_submission", "view": {} })),
                NotAClick::OtherType,
            ),
            (
                form(&json!({ "type": "shortcut", "callback_id": "x" })),
                NotAClick::OtherType,
            ),
            (
                changed(|p| p["type"] = json!("message_action")),
                NotAClick::OtherType,
            ),
            (changed(|p| p["type"] = json!(null)), NotAClick::OtherType),
            (changed(|p| p["actions"] = json!([])), NotAClick::NoAction),
            (changed(|p| p["actions"] = json!({})), NotAClick::NoAction),
            (
                changed(|p| p["actions"] = json!(["ack"])),
                NotAClick::NoAction,
            ),
            (
                changed(|p| p["team"] = json!("T0123WXYZ")),
                NotAClick::Missing("the payload has no `team.id`"),
            ),
            (
                changed(|p| p["api_app_id"] = json!("")),
                NotAClick::Missing("the payload has no `api_app_id`"),
            ),
            (
                changed(|p| p["user"]["id"] = json!(42)),
                NotAClick::Missing("the payload has no `user.id`"),
            ),
            (
                changed(|p| {
                    p["channel"] = json!(null);
                    p["container"] = json!({ "type": "message" });
                }),
                NotAClick::Missing("the payload names no channel"),
            ),
            (
                changed(|p| {
                    p["container"] = json!({ "type": "view", "view_id": "V1" });
                    p["message"] = json!(null);
                }),
                NotAClick::Missing("the payload names no message"),
            ),
            (
                changed(|p| p["actions"][0]["action_id"] = json!(null)),
                NotAClick::Missing("the action has no `action_id`"),
            ),
            (
                changed(|p| {
                    p["actions"][0]
                        .as_object_mut()
                        .map(|a| a.remove("action_ts"));
                }),
                NotAClick::Missing("the action has no `action_ts`"),
            ),
        ];
        for (body, expected) in cases {
            let got = parse(&body);
            assert_eq!(got, Err(expected), "{}", String::from_utf8_lossy(&body));
            // Our words, never the body's.
            let why = expected.why();
            for leak in [
                "T0123WXYZ",
                "U0123ABCD",
                "view_submission",
                "hooks.slack.com",
            ] {
                assert!(!why.contains(leak), "{why}");
            }
        }
    }
}
