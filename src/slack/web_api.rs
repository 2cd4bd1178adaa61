//! Slack's Web API with a bot token: one method call, its errors sorted. Failures of a
//! method come as HTTP 200 `{"ok": false, "error": "<code>"}`.

use super::pace::Pace;
use super::secret::BotToken;
use crate::error::Error;
use crate::http::url::Url;
use crate::http::{retry, Deadline, Failure, Peer};
use crate::text::sanitize;
use serde_json::Value;
use std::time::Duration;

pub struct WebApi {
    /// `https://slack.com/api/`, always ending in `/`.
    base: String,
    /// Host and port, for error messages.
    host: String,
    /// The host alone: the one host besides Slack's file hosts that an answer may send us to.
    api_host: String,
    /// `chat.postMessage`'s pace per channel, kept across warm invocations.
    pace: Pace,
}

/// Where `files.getUploadURLExternal` sends the bytes: `https://files.slack.com/upload/v1/…`
/// (Slack's documentation); GovSlack's by the same pattern under `slack-gov.com`.
pub const FILE_HOSTS: [&str; 2] = ["files.slack.com", "files.slack-gov.com"];

/// A method's arguments, as the method takes them.
pub enum Args<'a> {
    /// JSON: what the write methods take.
    Json(&'a str),
    /// Form-encoded: what every method takes; the read methods only this.
    Form(&'a str),
}

impl WebApi {
    /// `base` was checked at start-up (`SLACK_API_URL`).
    pub fn new(base: &str, pace: Duration) -> WebApi {
        let parsed = Url::parse(base);
        let host = parsed.as_ref().map_or("", |u| u.authority).to_string();
        let api_host = parsed.as_ref().map_or("", Url::host).to_string();
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        WebApi {
            base,
            host,
            api_host,
            pace: Pace::new(pace),
        }
    }

    /// Checks a URL that an answer names before anything is sent there, not even a DNS
    /// lookup: Slack's file hosts over https on the default port, or the host SLACK_API_URL
    /// names (the operator's choice: GovSlack, a test host) over https, or http on loopback.
    /// Any other name or address (the instance metadata's 169.254.169.254, a private or
    /// loopback address, in whatever spelling) is refused: a peer's answer must not make
    /// this function reach a host nobody configured. Host and port, for error messages.
    pub fn upload_host<'u>(&self, url: &'u str) -> Result<&'u str, Error> {
        let Some(parsed) = Url::parse(url) else {
            return Err(Error::HostRefused(
                "the upload URL in Slack's answer is not an http(s) URL without user info".into(),
            ));
        };
        let host = parsed.host();
        let allowed = if !self.api_host.is_empty() && host.eq_ignore_ascii_case(&self.api_host) {
            parsed.https || parsed.is_loopback()
        } else {
            let default_port = parsed.authority.len() == host.len()
                || parsed.authority.get(host.len()..) == Some(":443");
            parsed.https && default_port && FILE_HOSTS.iter().any(|f| host.eq_ignore_ascii_case(f))
        };
        if allowed {
            return Ok(parsed.authority);
        }
        Err(Error::HostRefused(format!(
            "the upload URL in Slack's answer names {}, which is neither Slack's file host \
             (https://{}) nor SLACK_API_URL's host",
            sanitize(parsed.authority, 80),
            FILE_HOSTS[0]
        )))
    }

    /// The pace of posts per channel, which webhooks keep too.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// Calls `method`; the answer when `ok` is true. `idempotent`: whether sending it twice
    /// does no harm (a post does harm: a timeout after sending is not re-sent).
    pub fn call(
        &self,
        agent: &ureq::Agent,
        token: &BotToken,
        method: &'static str,
        args: Args,
        idempotent: bool,
        deadline: Deadline,
    ) -> Result<Value, Error> {
        let url = format!("{}{method}", self.base);
        let peer = Peer {
            host: &self.host,
            step: "call Slack's Web API",
            unreachable: &Error::SlackUnreachable,
            no_answer: &Error::SlackNoAnswer,
            idempotent,
        };
        let (content_type, body) = match args {
            Args::Json(body) => ("application/json; charset=utf-8", body),
            Args::Form(body) => ("application/x-www-form-urlencoded", body),
        };
        // Only posts are paced: Slack's one message per second per channel is theirs.
        let paced = match method {
            "chat.postMessage" => channel_of(body),
            _ => None,
        };
        retry(deadline, || {
            if let Some(channel) = paced {
                self.pace.turn(channel, deadline).map_err(Failure::Final)?;
            }
            let mut response = deadline
                .bound(agent.post(&url), peer.step)
                .map_err(Failure::Final)?
                .header("Authorization", &token.bearer())
                .header("Content-Type", content_type)
                .send(body)
                .map_err(|e| match peer.failure(&e, deadline) {
                    // A post whose connection died may have been processed: for the Web
                    // API that is told apart by a history lookup, not by sending it again.
                    Failure::Dropped(err) if !idempotent => {
                        Failure::Final(Error::SlackNoAnswer(err.to_string()))
                    }
                    other => other,
                })?;
            let status = response.status().as_u16();
            let retry_after = super::retry_after(&response);
            // Once an answer has begun, a post was received: if its body cannot be read (too
            // large, cut off) the post may be stored, which only a history lookup can tell.
            let text = response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .map_err(|e| match peer.failure(&e, deadline) {
                    _ if !idempotent => Failure::Final(Error::SlackNoAnswer(format!(
                        "HTTP {status} with an answer that could not be read: {}",
                        crate::http::describe(&e, &self.host)
                    ))),
                    other => other,
                })?;
            let answer = answer(status, retry_after, &text, idempotent);
            if let Some(channel) = paced {
                self.pace.done(channel);
                if let Err(Failure::After(wait, _)) = &answer {
                    self.pace.hold(channel, *wait);
                }
            }
            answer
        })
    }
}

/// The `channel` of a post's JSON arguments: its first `"channel":"…"`, which is the top
/// level's (a quote inside a string is escaped, and `render` writes the channel before the
/// card's objects). IDs and names hold no escapes.
fn channel_of(args: &str) -> Option<&str> {
    let (_, rest) = args.split_once(r#""channel":""#)?;
    rest.split_once('"').map(|(channel, _)| channel)
}

/// Sorts an answer: the JSON when `ok`, else what the failure asks of the retry loop.
fn answer(
    status: u16,
    retry_after: Option<u64>,
    text: &str,
    idempotent: bool,
) -> Result<Value, Failure> {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let code = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
        .map(|c| sanitize(c, 80));
    if status == 429 {
        return Err(super::rate_limited(retry_after));
    }
    if status >= 500 {
        let body = code.unwrap_or_else(|| sanitize(text, 200));
        return Err(Failure::Backoff(Error::SlackRejected { status, body }));
    }
    match (json, code) {
        (Some(json), _) if json.get("ok") == Some(&Value::Bool(true)) => Ok(json),
        (_, Some(code)) => Err(method_failure(status, code)),
        // A 2xx without the answer's JSON: a post may be stored all the same.
        _ if !idempotent && (200..300).contains(&status) => {
            Err(Failure::Final(Error::SlackNoAnswer(format!(
                "HTTP {status} without the Web API's JSON; the post may have arrived"
            ))))
        }
        _ => Err(Failure::Final(Error::SlackUnreachable(format!(
            "HTTP {status} without the Web API's JSON; check SLACK_API_URL"
        )))),
    }
}

fn method_failure(status: u16, code: String) -> Failure {
    match code.as_str() {
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => {
            Failure::Final(Error::TokenRevoked { code })
        }
        "channel_not_found" | "not_in_channel" | "is_archived" => {
            Failure::Final(Error::SlackChannel { code })
        }
        "ratelimited" | "rate_limited" => super::rate_limited(None),
        // `fatal_error` may have half-succeeded: not retried.
        "internal_error" | "service_unavailable" | "request_timeout" => {
            Failure::Backoff(Error::SlackRejected { status, body: code })
        }
        _ => Failure::Final(Error::SlackRejected { status, body: code }),
    }
}

/// `key=value&…`, each part percent-encoded for a form body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posts_channel_is_read_from_its_top_level_key() {
        let payload =
            r#"{"text":"a \"channel\":\"C666\" in text","channel":"C0PAY","attachments":[]}"#;
        assert_eq!(channel_of(payload), Some("C0PAY"));
        assert_eq!(channel_of(r#"{"text":"x"}"#), None);
    }

    fn error_type(result: Result<Value, Failure>) -> String {
        match result {
            Err(
                Failure::Final(e)
                | Failure::Backoff(e)
                | Failure::After(_, e)
                | Failure::Dropped(e),
            ) => e.error_type(),
            Ok(v) => panic!("ok: {v}"),
        }
    }

    #[test]
    fn ok_answers_are_returned() {
        let v = answer(
            200,
            None,
            r#"{"ok":true,"channel":"C1","ts":"1.2","warning":"superfluous_charset"}"#,
            true,
        )
        .unwrap_or_else(|_| panic!("ok"));
        assert_eq!(v["ts"], "1.2");
    }

    #[test]
    fn method_errors_are_typed() {
        assert_eq!(
            error_type(answer(
                200,
                None,
                r#"{"ok":false,"error":"token_revoked"}"#,
                true
            )),
            "Slack.TokenRevoked"
        );
        assert_eq!(
            error_type(answer(
                200,
                None,
                r#"{"ok":false,"error":"not_in_channel"}"#,
                true
            )),
            "Slack.ChannelUnavailable"
        );
        assert_eq!(
            error_type(answer(
                200,
                None,
                r#"{"ok":false,"error":"invalid_blocks"}"#,
                true
            )),
            "Slack.Rejected"
        );
        assert!(matches!(
            answer(200, None, r#"{"ok":false,"error":"internal_error"}"#, true),
            Err(Failure::Backoff(_))
        ));
        assert!(matches!(
            answer(200, None, r#"{"ok":false,"error":"fatal_error"}"#, true),
            Err(Failure::Final(_))
        ));
        assert_eq!(
            error_type(answer(200, None, "<html>", true)),
            "Slack.Unreachable"
        );
        // A post answered 200 with something else: it may be stored.
        assert_eq!(
            error_type(answer(200, None, "<html>", false)),
            "Slack.NoAnswer"
        );
        assert_eq!(
            error_type(answer(404, None, "<html>", false)),
            "Slack.Unreachable"
        );
    }

    #[test]
    fn rate_limits_and_5xx_are_retried() {
        match answer(429, Some(7), r#"{"ok":false,"error":"ratelimited"}"#, true) {
            Err(Failure::After(wait, _)) => assert_eq!(wait, std::time::Duration::from_secs(7)),
            _ => panic!("not a wait"),
        }
        assert!(matches!(
            answer(503, None, "<html>down</html>", true),
            Err(Failure::Backoff(_))
        ));
    }

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(
            form(&[("channel", "C1"), ("oldest", "1.5"), ("q", "a b&c=d")]),
            "channel=C1&oldest=1%2E5&q=a%20b%26c%3Dd"
        );
    }

    /// The upload URL comes from an answer: only Slack's file hosts, or the configured
    /// API host, are followed; every other spelling of a host is refused.
    #[test]
    fn upload_urls_are_followed_to_slacks_file_hosts_only() {
        let slack = WebApi::new("https://slack.com/api/", Duration::ZERO);
        for ok in [
            "https://files.slack.com/upload/v1/CwABAAAAXAoAAZnc",
            "https://FILES.slack.com/upload/v1/x",
            "https://files.slack.com:443/upload/v1/x",
            "https://files.slack-gov.com/upload/v1/x",
            // The configured host itself, on any port.
            "https://slack.com/upload/v1/x",
            "https://slack.com:8443/x",
        ] {
            assert!(slack.upload_host(ok).is_ok(), "{ok} refused");
        }
        for refused in [
            // Schemes: only https, and no http to Slack's hosts.
            "http://files.slack.com/upload/v1/x",
            "ftp://files.slack.com/x",
            "file:///etc/passwd",
            "//files.slack.com/x",
            "files.slack.com/upload",
            "",
            // User info, in every place a parser may take it from.
            "https://user@files.slack.com/x",
            "https://files.slack.com@169.254.169.254/x",
            "https://user:pw@files.slack.com/x",
            "https://files.slack.com\\@evil.example/x",
            // Other names, look-alikes and other ports.
            "https://evil.example/upload",
            "https://files.slack.com.evil.example/x",
            "https://files-slack.com/x",
            "https://slack.com.evil.example/x",
            "https://xfiles.slack.com/x",
            "https://files.slack.com./x",
            "https://files.slack.com:8443/x",
            "https://files.slack.com:22/x",
            "https://hooks.slack.com/services/T/B/x",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://localhost/x",
            // Link-local (the instance metadata service), IPv4 and IPv6, in every spelling.
            "https://169.254.169.254/latest/meta-data/",
            "https://169.254.169.254:443/latest/meta-data/",
            "https://[fd00:ec2::254]/latest/meta-data/",
            "https://[fe80::1]/x",
            "https://[::ffff:169.254.169.254]/x",
            "https://[::ffff:a9fe:a9fe]/x",
            "https://2852039166/latest/meta-data/",
            "https://0xa9fea9fe/x",
            "https://0251.0376.0251.0376/x",
            "https://169.254.43518/x",
            // Loopback.
            "https://127.0.0.1/x",
            "https://127.1/x",
            "https://2130706433/x",
            "https://0x7f000001/x",
            "https://0177.0.0.1/x",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[0:0:0:0:0:0:0:1]/x",
            "https://0.0.0.0/x",
            "https://[::]/x",
            // Private ranges, and a public address.
            "https://10.0.0.1/x",
            "https://172.16.0.1/x",
            "https://192.168.1.1/x",
            "https://100.64.0.1/x",
            "https://[fc00::1]/x",
            "https://[fd12:3456::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://167772161/x",
            "https://54.239.28.85/x",
        ] {
            let err = slack.upload_host(refused).err();
            let err = err.unwrap_or_else(|| panic!("{refused:?} followed"));
            assert_eq!(err.error_type(), "Slack.HostRefused", "{refused}");
        }
        // A test host as SLACK_API_URL: its host (any port, http on loopback) and nothing
        // else, not even the same address spelled another way.
        let local = WebApi::new("http://127.0.0.1:9001/api/", Duration::ZERO);
        assert_eq!(
            local.upload_host("http://127.0.0.1:9001/upload/F1").ok(),
            Some("127.0.0.1:9001")
        );
        assert!(local.upload_host("http://127.0.0.1:9555/upload/F1").is_ok());
        assert!(local
            .upload_host("https://files.slack.com/upload/v1/x")
            .is_ok());
        for refused in [
            "http://localhost:9001/upload/F1",
            "http://127.0.0.2:9001/upload/F1",
            "http://[::ffff:127.0.0.1]:9001/x",
            "http://2130706433:9001/x",
            "http://[::1]:9001/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://files.slack.com/upload/v1/x",
        ] {
            assert!(local.upload_host(refused).is_err(), "{refused} followed");
        }
        // A peer's host is shown cut and cleaned, never its path.
        let err = slack
            .upload_host("https://169.254.169.254/latest/meta-data/iam/security-credentials/")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("names 169.254.169.254,"), "{err}");
        assert!(!err.contains("meta-data"), "{err}");
    }

    #[test]
    fn the_base_ends_in_a_slash() {
        let api = WebApi::new("https://slack-gov.com/api", Duration::ZERO);
        assert_eq!(
            (api.base.as_str(), api.host.as_str()),
            ("https://slack-gov.com/api/", "slack-gov.com")
        );
    }
}
