//! The reference of every environment variable the bootstrap reads: what
//! `bootstrap --help` prints, and what docs/configuration.md is checked against.

use std::fmt::Write as _;

/// One environment variable, as `bootstrap --help` and the README's table describe it.
struct Variable {
    names: &'static str,
    default: &'static str,
    does: &'static str,
    when_wrong: &'static str,
}

/// Every variable the bootstrap reads, in the order a user sets them up.
const VARIABLES: &[Variable] = &[
    Variable {
        names: "SecretId, SECRET_ID",
        default: "none (required)",
        does: "name or ARN of the Secrets Manager secret; its SecretString is \
               {\"SLACK_HOOK_URL\": \"https://hooks.slack.com/services/...\", \"SLACK_CHANNEL\": \"#alerts\"} \
               (channel optional) or just the webhook URL",
        when_wrong: "unset: init error; unknown or not allowed: every invocation fails with \
                     SecretsManager.ResourceNotFoundException or .AccessDeniedException",
    },
    Variable {
        names: "SLACK_API_URL",
        default: "https://slack.com/api/",
        does: "app mode (the secret holds SLACK_BOT_TOKEN): the Slack Web API base; \
               https://slack-gov.com/api/ for GovSlack",
        when_wrong: "not an https:// URL: init error",
    },
    Variable {
        names: "INCIDENT_TABLE",
        default: "none (threads off)",
        does: "app mode: a DynamoDB table (string partition key `alarm`, TTL on `expires`) in \
               which each alarm's open incident is kept, so that ALARM opens a thread, later \
               states reply in it and update its parent, and OK closes it",
        when_wrong: "not a table name: init error; unreachable or denied: a WARN, and the \
                     alarm is posted without a thread",
    },
    Variable {
        names: "METRIC_GRAPH",
        default: "off",
        does: "sparkline: a card field with the alarm's metric over its last 24 periods \
               (CloudWatch GetMetricData, before the post, at most 1.5 s); image: that, and in \
               app mode the alarm's graph as a PNG in the message's thread \
               (GetMetricWidgetImage, after the post). Each needs its IAM action",
        when_wrong: "another value: init error; denied, throttled, no data or too little time \
                     left: a WARN (or DEBUG), and the alarm is posted without it",
    },
    Variable {
        names: "MESSAGE_FORMAT",
        default: "card",
        does: "card: a coloured card under the one-line text; text: only the line \
               `<AlarmName> state is now <NewStateValue>: <NewStateReason>`",
        when_wrong: "another value: init error",
    },
    Variable {
        names: "SECRET_TTL_SECONDS",
        default: "300",
        does: "how long the secret is kept in memory between invocations; 0 fetches it every time",
        when_wrong: "not a whole number of seconds up to a year: init error",
    },
    Variable {
        names: "SECRET_MAX_STALE_SECONDS",
        default: "3600",
        does: "after the TTL, how much longer the cached secret is still used while refreshing it \
               fails transiently (throttling, 5xx, network); 0 never uses an expired secret",
        when_wrong: "not a whole number of seconds up to a year: init error",
    },
    Variable {
        names: "SLACK_PRECONNECT",
        default: "https://hooks.slack.com",
        does: "where the webhook is expected: when the secret is fetched (a cold start, then once \
               a TTL), a connection there is opened at the same time; off opens none",
        when_wrong: "not an https:// origin (scheme and host, no path; http:// only for a \
                     loopback test host) nor off: init error. Another host than the \
                     webhook's: the connection is unused",
    },
    Variable {
        names: "AWS_LAMBDA_LOG_FORMAT",
        default: "Text",
        does: "Text: one plain line per event; JSON: one JSON object per line with timestamp, \
               level, requestId, message and fields. Lambda sets it from the function's log format",
        when_wrong: "neither Text nor JSON: init error",
    },
    Variable {
        names: "AWS_LAMBDA_LOG_LEVEL",
        default: "INFO",
        does: "TRACE, DEBUG, INFO, WARN, ERROR or FATAL: lines below it are not written; DEBUG \
               adds each Slack payload (never the webhook URL). Lambda sets it with JSON logs",
        when_wrong: "another value: init error",
    },
    Variable {
        names: "AWS_REGION, AWS_DEFAULT_REGION",
        default: "set by Lambda",
        does: "region of Secrets Manager and of the request signature",
        when_wrong: "unset or not a region code: init error",
    },
    Variable {
        names: "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
        default: "set by Lambda",
        does: "the execution role's credentials, used to sign GetSecretValue",
        when_wrong: "key or secret unset: init error; wrong: every invocation fails with \
                     SecretsManager.UnrecognizedClientException or .InvalidSignatureException",
    },
    Variable {
        names: "AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL",
        default: "https://secretsmanager.{region}.amazonaws.com, https://dynamodb.{region}.amazonaws.com",
        does: "another Secrets Manager or DynamoDB endpoint (VPC endpoint, LocalStack, moto, the \
               test emulator); the service's own variable wins over AWS_ENDPOINT_URL. The \
               defaults end in .amazonaws.com.cn in China",
        when_wrong: "not an http:// or https:// URL: init error; unreachable: every invocation \
                     fails with SecretsManager.Unreachable",
    },
    Variable {
        names: "AWS_ENDPOINT_URL_CLOUDWATCH",
        default: "AWS_ENDPOINT_URL, else https://monitoring.{region}.amazonaws.com",
        does: "another CloudWatch endpoint, for METRIC_GRAPH (signed as `monitoring`)",
        when_wrong: "not an http:// or https:// URL: init error (whatever METRIC_GRAPH says); \
                     unreachable: a WARN, the alarm is posted without its graph",
    },
    Variable {
        names: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        default: "false",
        does: "true ignores the endpoint variables above",
        when_wrong: "neither true nor false: init error",
    },
    Variable {
        names: "AWS_LAMBDA_RUNTIME_API",
        default: "set by Lambda",
        does: "where the Runtime API is: host:port, optionally with a path prefix or as an \
               http:// URL (cargo lambda watch: http://[::]:9000/.rt/bootstrap)",
        when_wrong: "unset or malformed: bootstrap prints why and exits (there is no Runtime \
                     API to report to)",
    },
];

/// What `bootstrap --help` prints.
pub fn help() -> String {
    let mut out = format!(
        "alarm-to-slack {}: a Lambda custom runtime (provided.al2023)\n\
         that posts CloudWatch alarms from SNS to Slack.\n\n\
         Usage:\n  \
         bootstrap            serve the Lambda Runtime API (how Lambda starts it)\n  \
         bootstrap --help     print this reference\n  \
         bootstrap --version  print the version\n\n\
         Configuration: environment variables, read and checked once at start-up.\n\
         A wrong value stops the start with an init error that names the variable and the fix.\n",
        env!("CARGO_PKG_VERSION")
    );
    for v in VARIABLES {
        let _ = writeln!(out, "\n  {}", v.names);
        wrap(&mut out, &format!("Default: {}", v.default));
        wrap(&mut out, v.does);
        wrap(&mut out, &format!("When wrong: {}", v.when_wrong));
    }
    out
}

/// Appends `text` indented and cut at word boundaries to fit a terminal.
fn wrap(out: &mut String, text: &str) {
    const INDENT: &str = "      ";
    let mut width = 0;
    for word in text.split_whitespace() {
        if width > 0 && width + 1 + word.len() > 100 - INDENT.len() {
            out.push('\n');
            width = 0;
        }
        if width == 0 {
            out.push_str(INDENT);
        } else {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += word.len();
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the reference, one by one.
    fn documented() -> Vec<&'static str> {
        VARIABLES.iter().flat_map(|v| v.names.split(", ")).collect()
    }

    #[test]
    fn every_variable_read_is_in_the_reference() {
        // Every whole string literal in this file's code that looks like a variable name.
        let code = include_str!("config.rs");
        let code = &code[..code.find("#[cfg(test)]").unwrap_or(code.len())];
        let mut literals = Vec::new();
        let mut current: Option<String> = None;
        let mut chars = code.chars();
        while let Some(c) = chars.next() {
            match (&mut current, c) {
                (None, '"') => current = Some(String::new()),
                (Some(_), '"') => literals.extend(current.take()),
                (Some(s), '\\') => {
                    s.push('\\');
                    s.extend(chars.next());
                }
                (Some(s), c) => s.push(c),
                (None, _) => {}
            }
        }
        let read: Vec<&str> = literals
            .iter()
            .map(String::as_str)
            // `env!` names are read by the compiler, not at start-up.
            .filter(|s| !s.starts_with("CARGO_"))
            .filter(|s| {
                s.len() >= 5
                    && s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect();
        assert!(read.contains(&"SECRET_TTL_SECONDS") && read.contains(&"SecretId"));
        let documented = documented();
        for name in read {
            assert!(
                documented.contains(&name),
                "{name} is read but not in VARIABLES"
            );
        }
    }

    #[test]
    fn help_lists_every_variable() {
        let help = help();
        assert!(help.contains(env!("CARGO_PKG_VERSION")));
        assert!(help.lines().all(|l| l.chars().count() <= 100), "{help}");
        for name in documented() {
            assert!(help.contains(name), "{name}");
        }
    }
}
