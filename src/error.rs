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
    /// An AWS service (Secrets Manager, DynamoDB, CloudWatch) answered with an error code, or
    /// could not be reached. The incident store and the graph failing are only ever logged:
    /// neither costs an alarm.
    Aws(Aws),
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
    /// A Slack answer named a host we do not send to (an upload URL off Slack's file hosts):
    /// nothing was sent, not even a DNS lookup.
    HostRefused(String),
    /// Too little of the invocation's time is left to do the next step safely.
    Timeout(&'static str),
    /// The Runtime API broke its protocol for one invocation (e.g. no deadline header).
    InvalidInvocation(String),
}

impl Error {
    /// Worth trying again within this invocation: the peer may answer differently in a moment.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::SlackUnreachable(_) | Error::Timeout(_) => true,
            // The AWS layer sorted it when it read the answer: one rule for the retry
            // within a call and for serving a stale secret.
            Error::Aws(aws) => aws.transient,
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
            // The code is the peer's word: it goes out in a header and the Runtime API's
            // body, where no credential may.
            Error::Aws(aws) => {
                let error_type = format!("{}.{}", aws.service.name(), aws.code());
                return crate::text::redact(&error_type).into_owned();
            }
            Error::InvalidSecret(_) => "Secret.Invalid",
            Error::SlackRejected { .. } => "Slack.Rejected",
            Error::SlackUnreachable(_) => "Slack.Unreachable",
            Error::SlackNoAnswer(_) => "Slack.NoAnswer",
            Error::SlackRateLimited { .. } => "Slack.RateLimited",
            Error::WebhookRevoked { .. } => "Slack.WebhookRevoked",
            Error::TokenRevoked { .. } => "Slack.TokenRevoked",
            Error::SlackChannel { .. } => "Slack.ChannelUnavailable",
            Error::HostRefused(_) => "Slack.HostRefused",
            Error::Timeout(_) => "Invocation.Timeout",
            Error::InvalidInvocation(_) => "Runtime.InvalidInvocation",
        };
        fixed.to_string()
    }
}

/// Every error message is written through this, for the log and the Runtime API alike: a
/// credential in a peer's text that reached the message unsanitized is taken out here.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = Words(self).to_string();
        f.write_str(&crate::text::redact(&words))
    }
}

/// The message as written, before redaction.
struct Words<'a>(&'a Error);

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Config { var, problem } => write!(f, "environment variable {var}: {problem}"),
            Error::InvalidEvent(why) => write!(f, "the event is not one this function handles: {why}"),
            Error::Aws(aws) => {
                write!(f, "{} failed: ", aws.service.call_words())?;
                match &aws.answer {
                    Some(answer) => {
                        write!(f, "{}", answer.code)?;
                        if !answer.message.is_empty() {
                            write!(f, ": {}", answer.message)?;
                        }
                        Ok(())
                    }
                    None => f.write_str(&aws.why),
                }
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
            Error::HostRefused(why) => write!(f, "not followed: {why}"),
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

/// The AWS services this function calls, as their errors are named.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Service {
    SecretsManager,
    DynamoDb,
    CloudWatch,
}

impl Service {
    /// The `errorType` prefix.
    pub fn name(self) -> &'static str {
        match self {
            Service::SecretsManager => "SecretsManager",
            Service::DynamoDb => "DynamoDB",
            Service::CloudWatch => "CloudWatch",
        }
    }

    /// How a failure of it starts in words.
    fn call_words(self) -> &'static str {
        match self {
            Service::SecretsManager => "Secrets Manager GetSecretValue",
            Service::DynamoDb => "DynamoDB",
            Service::CloudWatch => "CloudWatch",
        }
    }
}

/// What went wrong with one AWS call.
#[derive(Debug)]
pub struct Aws {
    pub service: Service,
    /// The service's error answer; `None` when it could not be reached or did not speak
    /// its protocol (then `why` says what happened).
    pub answer: Option<AwsAnswer>,
    pub why: String,
    /// Worth another try: decided where the answer was read.
    pub transient: bool,
}

/// An error answer with an AWS error code (`ResourceNotFoundException`, …).
#[derive(Debug)]
pub struct AwsAnswer {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Aws {
    /// The `errorType` reason: the AWS code, or `Unreachable`.
    pub fn code(&self) -> &str {
        self.answer
            .as_ref()
            .map_or("Unreachable", |a| a.code.as_str())
    }
}

impl Error {
    /// The service answered with an error code.
    pub fn aws(service: Service, answer: AwsAnswer, transient: bool) -> Error {
        Error::Aws(Aws {
            service,
            answer: Some(answer),
            why: String::new(),
            transient,
        })
    }

    /// The service could not be reached, or did not answer in its protocol.
    pub fn aws_unreachable(service: Service, why: String) -> Error {
        Error::Aws(Aws {
            service,
            answer: None,
            why,
            transient: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_category_dot_reason() {
        let answer = AwsAnswer {
            status: 400,
            code: "AccessDeniedException".into(),
            message: String::new(),
        };
        let e = Error::aws(Service::SecretsManager, answer, false);
        assert_eq!(e.error_type(), "SecretsManager.AccessDeniedException");
        assert_eq!(
            e.to_string(),
            "Secrets Manager GetSecretValue failed: AccessDeniedException"
        );
        let down = Error::aws_unreachable(Service::DynamoDb, "timed out".into());
        assert_eq!(down.error_type(), "DynamoDB.Unreachable");
        assert_eq!(down.to_string(), "DynamoDB failed: timed out");
        assert!(down.is_transient());
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
    fn a_credential_in_any_message_is_redacted() {
        crate::text::register_credential("xoxb-error-rs-credential");
        let echoed = Error::SlackRejected {
            status: 200,
            body: "invalid_auth xoxb-error-rs-credential".into(),
        };
        assert_eq!(
            echoed.to_string(),
            "Slack refused the message: HTTP 200 invalid_auth [redacted]"
        );
        let answer = AwsAnswer {
            status: 400,
            code: "xoxb-error-rs-credential".into(),
            message: String::new(),
        };
        let coded = Error::aws(Service::SecretsManager, answer, false);
        assert_eq!(coded.error_type(), "SecretsManager.[redacted]");
        let config = Error::config("X", "xoxb-error-rs-credential is wrong");
        assert_eq!(
            config.to_string(),
            "environment variable X: [redacted] is wrong"
        );
    }
}
