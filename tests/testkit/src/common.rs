//! What every end-to-end test crate shares: the `bootstrap` under test, a
//! running emulator + process pair, and event builders.

use crate::emulator::{Bootstrap, Emulator, Options, Outcome, Posted};
use serde_json::json;
use std::path::PathBuf;

/// The `bootstrap` under test: `BOOTSTRAP_BIN` (what `make test` sets: the release build),
/// else the one cargo built beside the running test binary (`target/<profile>/bootstrap`).
pub fn bootstrap_bin() -> PathBuf {
    std::env::var_os("BOOTSTRAP_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.join("bootstrap"))
        })
        .unwrap_or_else(|| PathBuf::from("bootstrap"))
}

/// The sample event `events/<name>.json` of the repository, as it is stored.
pub fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/{}.json"),
        name
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The emulator's environment for a bootstrap, with `set` added or replacing and `unset` removed.
pub fn env_with(emu: &Emulator, set: &[(&str, &str)], unset: &[&str]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = emu
        .env()
        .into_iter()
        .filter(|(k, _)| !unset.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k))
        .collect();
    env.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// One emulator and one bootstrap serving it.
pub struct Lambda {
    pub emu: Emulator,
    pub process: Bootstrap,
}

impl Lambda {
    pub fn start(options: Options) -> Lambda {
        Lambda::start_with(options, &[], &[])
    }

    /// `set` adds or replaces variables of the emulator's environment, `unset` removes some.
    pub fn start_with(options: Options, set: &[(&str, &str)], unset: &[&str]) -> Lambda {
        let emu = Emulator::start(options);
        let process = Bootstrap::spawn(&bootstrap_bin(), &env_with(&emu, set, unset));
        Lambda { emu, process }
    }

    /// The `text` of every payload Slack received, in order.
    pub fn slack_texts(&self) -> Vec<String> {
        self.emu
            .slack_posts()
            .iter()
            .map(|p| p.json["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub fn invoke(&self, event: impl Into<Vec<u8>>) -> Outcome {
        let id = self.emu.push_event(event);
        self.emu.wait_outcome(&id)
    }

    /// Nothing secret in anything the process printed or told the Runtime API.
    pub fn assert_no_leaks(&self) {
        let mut seen = vec![self.process.stdout(), self.process.stderr()];
        seen.extend(self.emu.runtime_bodies());
        self.assert_none_in(&seen);
    }

    /// Every byte the process sent to a stand-in outside the one place each credential
    /// belongs (the webhook's path in its request line, the bot token in the Web API's
    /// `Authorization`, the AWS key and token in the signed AWS headers): the webhook posts'
    /// headers and bodies, the Web API calls' bodies, the Secrets Manager and CloudWatch
    /// requests, and the uploads' headers and bytes.
    pub fn wire_texts(&self) -> Vec<String> {
        let header_lines = |headers: &[(String, String)]| {
            headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\n"))
                .collect::<String>()
        };
        let mut sent = Vec::new();
        for post in self.emu.slack_posts() {
            sent.push(header_lines(&post.headers));
            sent.push(post.body);
        }
        sent.extend(self.emu.slack_api_calls().into_iter().map(|c| c.body));
        sent.extend(self.emu.secret_requests().into_iter().map(|r| r.body));
        sent.extend(
            self.emu
                .cloudwatch()
                .calls()
                .into_iter()
                .map(|c| c.request.to_string()),
        );
        for file in self.emu.slack_api().files() {
            sent.push(header_lines(&file.upload_headers));
            sent.extend(file.bytes.map(|b| String::from_utf8_lossy(&b).into_owned()));
        }
        sent
    }

    /// No credential in anything [`Lambda::wire_texts`] holds, the AWS key ID included.
    pub fn assert_nothing_on_the_wire(&self) {
        let wire = self.wire_texts();
        self.assert_none_in(&wire);
        let key_id = &self.emu.options().access_key_id;
        for text in &wire {
            assert!(
                !text.contains(key_id.as_str()),
                "the AWS key ID went out in {text:?}"
            );
        }
    }

    /// The strings that must never be printed: see [`secrets_of`].
    pub fn secrets(&self) -> Vec<String> {
        secrets_of(&self.emu)
    }

    /// None of `secrets()` in any of `texts` (e.g. what another tool printed).
    pub fn assert_none_in(&self, texts: &[String]) {
        assert_no_secrets(&self.emu, texts);
    }
}

/// The strings that must never be printed: the webhook URL, its path and the long parts of
/// the path, the secret access key, the session token, any bot token or webhook path, and the
/// signing secret of the secret the emulator started with.
pub fn secrets_of(emu: &Emulator) -> Vec<String> {
    let opts = emu.options();
    let slack = emu.slack_url();
    let path = slack
        .splitn(4, '/')
        .nth(3)
        .expect("webhook url has a path")
        .to_string();
    let mut secrets = vec![slack.clone(), path.clone(), opts.secret_access_key.clone()];
    secrets.extend(path.split('/').filter(|s| s.len() > 8).map(str::to_string));
    secrets.extend(opts.session_token.clone());
    // Any bot token, whichever secret it came from (webhook paths: see below).
    secrets.extend([opts.bot_token.clone(), "xoxb-".into()]);
    // The Slack app's signing secret, when the secret holds one (the buttons' clicks).
    let secret: serde_json::Value =
        serde_json::from_str(opts.secret_string.as_deref().unwrap_or("null")).unwrap_or_default();
    if let Some(signing) = secret["SLACK_SIGNING_SECRET"].as_str() {
        secrets.push(signing.to_string());
    }
    secrets
}

/// None of [`secrets_of`] `emu` in any of `texts`: for scenarios of several processes, which
/// a [`Lambda`] does not describe.
pub fn assert_no_secrets(emu: &Emulator, texts: &[String]) {
    let secrets = secrets_of(emu);
    for text in texts {
        // No webhook path at all, whichever secret or route it came from; the help texts
        // write the form as `…/services/…`.
        for (at, _) in text.match_indices("/services/") {
            let next = text[at + "/services/".len()..].chars().next();
            assert_eq!(next, Some('…'), "a webhook path leaked into {text:?}");
        }
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "secret {secret:?} leaked into {text:?}"
            );
        }
    }
}

/// Every scenario is scanned for leaked secrets when it ends, whatever it tested: in what the
/// process printed and told the Runtime API, and in what it sent each stand-in.
impl Drop for Lambda {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // Stopped first, so that everything it wrote has been read from its pipes.
            self.process.kill();
            self.assert_no_leaks();
            self.assert_nothing_on_the_wire();
        }
    }
}

pub fn sns(records: &[(&str, Option<&str>)]) -> Vec<u8> {
    let records: Vec<_> = records
        .iter()
        .map(|(message, subject)| {
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
                "Subject": subject,
                "Message": message,
                "Timestamp": "2026-11-28T11:38:08.171Z"
            }})
        })
        .collect();
    json!({ "Records": records }).to_string().into_bytes()
}

pub fn alarm_message(name: &str, state: &str) -> String {
    json!({
        "AlarmName": name,
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [93.4] was greater than the threshold (80.0).",
        "StateChangeTime": "2026-11-28T11:38:08.123+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"),
        "OldStateValue": "OK",
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Threshold": 80.0}
    })
    .to_string()
}

pub fn alarm_event(name: &str) -> Vec<u8> {
    sns(&[(&alarm_message(name, "ALARM"), Some("ALARM: cpu"))])
}

pub fn expect_response(outcome: Outcome) -> String {
    match outcome {
        Outcome::Response(body) => body,
        Outcome::Error(e) => panic!("expected a response, got error {:?}", e.body),
    }
}

pub fn expect_error(outcome: Outcome) -> Posted {
    match outcome {
        Outcome::Error(e) => e,
        Outcome::Response(body) => panic!("expected an error, got response {body}"),
    }
}

/// The Runtime API error body and header agree and carry the expected type.
pub fn assert_error_type(posted: &Posted, error_type: &str) {
    assert_eq!(posted.error_type_header.as_deref(), Some(error_type));
    assert_eq!(posted.json["errorType"], error_type, "{}", posted.body);
    let message = posted.json["errorMessage"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "empty errorMessage: {}", posted.body);
}
