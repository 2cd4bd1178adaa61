//! The one error type. Each variant is an `errorType` that Lambda shows in the
//! console, in CloudWatch Logs and on the `Errors` metric, so the names are
//! part of the product: `Category.Reason`, as the Runtime API asks.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// An environment variable is missing or malformed. Reported on `/runtime/init/error`.
    Config { var: &'static str, problem: String },
    /// The event cannot be read as an SNS notification; retrying will not help.
    InvalidEvent(String),
    /// Secrets Manager answered with an AWS error code (`ResourceNotFoundException`, …).
    SecretsManager {
        status: u16,
        code: String,
        message: String,
    },
    /// Secrets Manager could not be reached, or answered something that is not its protocol.
    SecretsManagerUnreachable(String),
    /// The secret exists but does not hold a usable Slack webhook.
    InvalidSecret(String),
    /// Slack answered with a non-2xx status.
    SlackRejected { status: u16, body: String },
    /// Slack could not be reached.
    SlackUnreachable(String),
    /// A post was sent and no answer came: it may have arrived, so it is not sent again.
    SlackNoAnswer(String),
    /// Slack kept answering 429 and its `Retry-After` does not fit in the time left.
    SlackRateLimited { retry_after_secs: u64 },
    /// Slack says the webhook is gone, and the secret holds no newer one.
    WebhookRevoked { status: u16, body: String },
    /// The Web API refuses the bot token (`invalid_auth`, `token_revoked`, …), and the
    /// secret holds no other.
    TokenRevoked { code: String },
    /// The Web API cannot post to the channel: unknown, archived, or the app is not in it.
    SlackChannel { code: String },
    /// DynamoDB answered with an AWS error code. Only ever logged: the thread store failing
    /// never costs an alarm.
    DynamoDb {
        status: u16,
        code: String,
        message: String,
    },
    /// DynamoDB could not be reached, or answered something that is not its protocol.
    DynamoDbUnreachable(String),
    /// CloudWatch answered with an AWS error code (`AccessDenied`, `Throttling`, …), or had
    /// no datapoints (`NoDatapoints`, ours). Only ever logged: a graph never costs an alarm.
    CloudWatch {
        status: u16,
        code: String,
        message: String,
    },
    /// CloudWatch could not be reached, or answered something that is not its protocol.
    CloudWatchUnreachable(String),
    /// Too little of the invocation's time is left to do the next step safely.
    Timeout(&'static str),
    /// The Runtime API broke its protocol for one invocation (e.g. no deadline header).
    InvalidInvocation(String),
}

impl Error {
    /// Worth trying again within this invocation: the peer may answer differently in a moment.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::SecretsManagerUnreachable(_)
            | Error::SlackUnreachable(_)
            | Error::DynamoDbUnreachable(_)
            | Error::CloudWatchUnreachable(_)
            | Error::Timeout(_) => true,
            // One rule for the retry within a call and for serving a stale secret.
            Error::SecretsManager { status, code, .. }
            | Error::DynamoDb { status, code, .. }
            | Error::CloudWatch { status, code, .. } => crate::aws::is_transient(*status, code),
            Error::SlackRejected { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub fn config(var: &'static str, problem: impl Into<String>) -> Error {
        Error::Config {
            var,
            problem: problem.into(),
        }
    }

    /// The `errorType` for the Runtime API and the `Lambda-Runtime-Function-Error-Type` header.
    pub fn error_type(&self) -> String {
        let fixed = match self {
            Error::Config { .. } => "Config.InvalidEnvironment",
            Error::InvalidEvent(_) => "Event.Invalid",
            Error::SecretsManager { code, .. } => return format!("SecretsManager.{code}"),
            Error::SecretsManagerUnreachable(_) => "SecretsManager.Unreachable",
            Error::InvalidSecret(_) => "Secret.Invalid",
            Error::SlackRejected { .. } => "Slack.Rejected",
            Error::SlackUnreachable(_) => "Slack.Unreachable",
            Error::SlackNoAnswer(_) => "Slack.NoAnswer",
            Error::SlackRateLimited { .. } => "Slack.RateLimited",
            Error::WebhookRevoked { .. } => "Slack.WebhookRevoked",
            Error::TokenRevoked { .. } => "Slack.TokenRevoked",
            Error::SlackChannel { .. } => "Slack.ChannelUnavailable",
            Error::DynamoDb { code, .. } => return format!("DynamoDB.{code}"),
            Error::DynamoDbUnreachable(_) => "DynamoDB.Unreachable",
            Error::CloudWatch { code, .. } => return format!("CloudWatch.{code}"),
            Error::CloudWatchUnreachable(_) => "CloudWatch.Unreachable",
            Error::Timeout(_) => "Invocation.Timeout",
            Error::InvalidInvocation(_) => "Runtime.InvalidInvocation",
        };
        fixed.to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { var, problem } => write!(f, "environment variable {var}: {problem}"),
            Error::InvalidEvent(why) => write!(f, "the event is not one this function handles: {why}"),
            Error::SecretsManager { code, message, .. } => {
                write!(f, "Secrets Manager GetSecretValue failed: {code}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::SecretsManagerUnreachable(why) => {
                write!(f, "Secrets Manager GetSecretValue failed: {why}")
            }
            Error::InvalidSecret(why) => write!(f, "the secret is not usable: {why}"),
            Error::SlackRejected { status, body } => {
                write!(f, "Slack refused the message: HTTP {status}")?;
                if !body.is_empty() {
                    write!(f, " {body}")?;
                }
                Ok(())
            }
            Error::SlackUnreachable(why) => write!(f, "could not post to Slack: {why}"),
            Error::SlackNoAnswer(why) => write!(f, "Slack did not answer the post: {why}"),
            Error::SlackRateLimited { retry_after_secs } => write!(
                f,
                "Slack is rate limiting this webhook (Retry-After {retry_after_secs} s, longer than the time left); Lambda will retry the alarm"
            ),
            Error::WebhookRevoked { status, body } => write!(
                f,
                "Slack says the webhook is revoked or gone (HTTP {status} {body}); create a new incoming webhook and store its URL in the secret's SLACK_HOOK_URL"
            ),
            Error::TokenRevoked { code } => write!(
                f,
                "Slack refuses the bot token ({code}); reinstall the app and store its new bot token in the secret's SLACK_BOT_TOKEN"
            ),
            Error::SlackChannel { code } => write!(
                f,
                "Slack cannot post to the channel ({code}); invite the app to it (/invite @app), or set the secret's SLACK_CHANNEL to a channel ID the app can post to"
            ),
            Error::DynamoDb { code, message, .. } => {
                write!(f, "DynamoDB failed: {code}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::DynamoDbUnreachable(why) => write!(f, "DynamoDB failed: {why}"),
            Error::CloudWatch { code, message, .. } => {
                write!(f, "CloudWatch failed: {code}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::CloudWatchUnreachable(why) => write!(f, "CloudWatch failed: {why}"),
            Error::Timeout(step) => {
                write!(
                    f,
                    "not enough time left in the invocation to {step}; raise the function timeout"
                )
            }
            Error::InvalidInvocation(why) => write!(f, "Runtime API protocol error: {why}"),
        }
    }
}

/// Keeps text from a remote peer printable and short before it lands in an error
/// message, a log line or an HTTP header.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.trim().chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        out.extend(printable(c));
    }
    out
}

/// What a log line or an error message shows for `c`: a control character (a newline
/// among them) becomes a space, so that one line stays one line; a character that only
/// changes how the text around it displays is dropped.
pub fn printable(c: char) -> Option<char> {
    if is_invisible(c) {
        None
    } else if c.is_control() {
        Some(' ')
    } else {
        Some(c)
    }
}

/// Zero-width marks and bidirectional embeddings, overrides and isolates: with them an
/// alarm name could display as another name.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_category_dot_reason() {
        let e = Error::SecretsManager {
            status: 400,
            code: "AccessDeniedException".into(),
            message: String::new(),
        };
        assert_eq!(e.error_type(), "SecretsManager.AccessDeniedException");
        assert_eq!(
            Error::config("SecretId", "missing").error_type(),
            "Config.InvalidEnvironment"
        );
        assert_eq!(
            Error::SlackRejected {
                status: 404,
                body: "no_service".into()
            }
            .to_string(),
            "Slack refused the message: HTTP 404 no_service"
        );
    }

    #[test]
    fn sanitize_strips_controls_and_cuts() {
        assert_eq!(sanitize(" a\nb\r\u{0}c ", 10), "a b  c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("ééé", 2), "éé…");
        assert_eq!(sanitize("cpu\u{202E}hgih\u{202C}\u{200B}", 20), "cpuhgih");
    }
}
