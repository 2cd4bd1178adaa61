//! Every setting the bootstrap reads, each defined once: the environment variables and the
//! secret's keys, with their names, default, accepted values and help. `config.rs` reads the
//! environment through this table and takes defaults and ranges from it, `bootstrap --help`
//! prints it (`help.rs`), and tests/docs.rs renders docs/configuration.md's tables from it.
//! Plain `const` data, so that the reference costs the bootstrap its text and no code.
//!
//! Text is written for both readers: `code` in backticks, which `--help` drops.

/// Each AWS service's endpoint prefix, which is also its SigV4 signing name: part of the
/// default of its endpoint setting below, and what `aws/` signs with.
pub const SECRETS_MANAGER: &str = "secretsmanager";
pub const DYNAMODB: &str = "dynamodb";
pub const CLOUDWATCH: &str = "monitoring";

/// One setting, under one or more names.
pub struct Setting {
    /// The names it is read under; the first one set wins (`SecretId`, then `SECRET_ID`).
    pub names: &'static [&'static str],
    pub place: Place,
    pub value: Value,
    pub does: &'static str,
    /// What a wrong or failing value leads to; empty for the secret's keys, which all fail
    /// the same way (`Secret.Invalid`).
    pub when_wrong: &'static str,
    /// A page of docs/ that says more (`metric-graph.md`, `operations.md#logs`), or empty.
    pub see: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    /// An environment variable, read once at start-up.
    Env,
    /// A key of the secret's JSON object, read with the secret.
    Secret,
}

/// What a setting accepts, and what it is when unset.
pub enum Value {
    /// Must be set; the rule says to what.
    Required(&'static str),
    /// Lambda sets it; elsewhere whoever starts the bootstrap does.
    Lambda(&'static str),
    /// One of `words`, in any case; unset is `default`.
    Word {
        words: &'static [&'static str],
        default: &'static str,
    },
    /// Whole seconds up to `max`; unset is `default`.
    Seconds { default: u64, max: u64 },
    /// A whole number up to `max`; unset is `default`.
    Count { default: u64, max: u64 },
    /// Text such as a URL, following `rule`; unset is `default`.
    Text {
        default: &'static str,
        rule: &'static str,
    },
    /// `min` to `max` ASCII letters, digits and `punctuation`; unset is `unset` (a feature off).
    Name {
        min: usize,
        max: usize,
        punctuation: &'static str,
        unset: &'static str,
    },
    /// An AWS endpoint URL. Unset: `AWS_ENDPOINT_URL`, else the regional endpoint of the
    /// service whose DNS prefix this is (`None` for `AWS_ENDPOINT_URL` itself).
    Endpoint(Option<&'static str>),
    /// A key of the secret: what its absence means, and what it must be.
    Key {
        unset: &'static str,
        rule: &'static str,
    },
}

/// A year (366 days): seconds beyond it could overflow `Instant` arithmetic.
const YEAR: u64 = 366 * 24 * 3600;

pub const SECRET_ID: Setting = Setting {
    names: &["SecretId", "SECRET_ID"],
    place: Place::Env,
    value: Value::Required("the name or ARN of a Secrets Manager secret"),
    does: "the secret that holds the Slack settings: a JSON object with the keys below, or just \
           the webhook URL",
    when_wrong: "unset: init error. Unknown or not allowed: every invocation fails with \
                 `SecretsManager.ResourceNotFoundException` or \
                 `SecretsManager.AccessDeniedException`",
    see: "configuration.md#the-secret",
};

pub const MESSAGE_FORMAT: Setting = Setting {
    names: &["MESSAGE_FORMAT"],
    place: Place::Env,
    value: Value::Word {
        words: &["card", "text"],
        default: "card",
    },
    does: "`card`: a coloured card under the one-line text; `text`: only the line \
           `<AlarmName> state is now <NewStateValue>: <NewStateReason>`. `bootstrap render` \
           reads it too (and no other setting)",
    when_wrong: "init error",
    see: "messages.md",
};

pub const SECRET_TTL_SECONDS: Setting = Setting {
    names: &["SECRET_TTL_SECONDS"],
    place: Place::Env,
    value: Value::Seconds {
        default: 300,
        max: YEAR,
    },
    does: "how long the secret is kept in memory between invocations; `0` fetches it every time",
    when_wrong: "init error",
    see: "",
};

pub const SECRET_MAX_STALE_SECONDS: Setting = Setting {
    names: &["SECRET_MAX_STALE_SECONDS"],
    place: Place::Env,
    value: Value::Seconds {
        default: 3600,
        max: YEAR,
    },
    does: "after the TTL, how much longer the cached secret is still used while refreshing it \
           fails transiently (throttling, 5xx, network); `0` never uses an expired secret",
    when_wrong: "init error",
    see: "",
};

pub const INCIDENT_TABLE: Setting = Setting {
    names: &["INCIDENT_TABLE"],
    place: Place::Env,
    value: Value::Name {
        min: 3,
        max: 255,
        punctuation: "_-.",
        unset: "threads off",
    },
    does: "app mode: the DynamoDB table (only key: the string partition key `alarm`; TTL on \
           `expires`) that keeps each alarm's open incident, so that `ALARM` opens a thread, \
           later states reply in it and update its parent, and `OK` closes it. Webhook mode \
           ignores it",
    when_wrong: "not a table name: init error. The store failing (unreachable, throttled, \
                 denied, no such table): a `WARN` with its `errorType`, and the alarm is posted \
                 without a thread; the invocation still succeeds",
    see: "app-mode.md",
};

pub const METRIC_GRAPH: Setting = Setting {
    names: &["METRIC_GRAPH"],
    place: Place::Env,
    value: Value::Word {
        words: &["off", "sparkline", "image"],
        default: "off",
    },
    does: "`sparkline`: a card field with the alarm's metric over its last 24 periods \
           (`GetMetricData`, before the post, 1.5 s at most); `image`: that, and in app mode the \
           alarm's graph as a PNG in the message's thread (`GetMetricWidgetImage`, after the \
           post). Each needs its IAM action",
    when_wrong: "init error. Denied, throttled, no data or too little time left: a `WARN` (or \
                 `DEBUG`), and the alarm is posted without it",
    see: "metric-graph.md",
};

pub const MUTE_CLOUDWATCH: Setting = Setting {
    names: &["MUTE_CLOUDWATCH"],
    place: Place::Env,
    value: Value::Word {
        words: &["true", "false"],
        default: "false",
    },
    does: "buttons: `true` makes a Mute for 1, 4 or 24 h also an alarm mute rule in CloudWatch \
           (`PutAlarmMuteRule`; Unmute deletes it with `DeleteAlarmMuteRule`), which stops the \
           alarm's actions everywhere, this function's notifications included. A mute until OK \
           makes none: the OK that ends it would not come",
    when_wrong: "init error. Denied or failed: a `WARN`, and the mute in Slack stands",
    see: "app-mode.md",
};

pub const SLACK_PACE_MILLISECONDS: Setting = Setting {
    names: &["SLACK_PACE_MILLISECONDS"],
    place: Place::Env,
    value: Value::Count {
        default: 1000,
        max: 60_000,
    },
    does: "the least time between two posts of this process to one channel (or webhook), and \
           after a 429 its `Retry-After` for every later post there: Slack documents about one \
           message per second per channel and may not show what exceeds a burst; `0` posts \
           without waiting",
    when_wrong: "init error. A turn that does not fit the time left: `Invocation.Timeout` before \
                 anything is sent, and Lambda retries",
    see: "operations.md",
};

pub const STORM_THRESHOLD: Setting = Setting {
    names: &["STORM_THRESHOLD"],
    place: Place::Env,
    value: Value::Count {
        default: 5,
        max: 1000,
    },
    does: "app mode with `INCIDENT_TABLE`: once more new incidents than this open in one channel \
           within `STORM_WINDOW_SECONDS`, the later ones reply under one storm message instead \
           of opening parents of their own; `0` turns storm grouping off",
    when_wrong: "init error. The store failing: a `WARN`, and the alarm opens its own parent",
    see: "operations.md",
};

pub const STORM_WINDOW_SECONDS: Setting = Setting {
    names: &["STORM_WINDOW_SECONDS"],
    place: Place::Env,
    value: Value::Seconds {
        default: 60,
        max: 3600,
    },
    does: "how long a storm's count of new incidents per channel runs before it starts over",
    when_wrong: "init error",
    see: "operations.md",
};

pub const SLACK_API_URL: Setting = Setting {
    names: &["SLACK_API_URL"],
    place: Place::Env,
    value: Value::Text {
        default: "https://slack.com/api/",
        rule: "an `https://` URL without query or fragment (`http://` only for a loopback \
               host: `localhost`, `127.x.x.x`, `[::1]`); a missing final `/` is added",
    },
    does: "app mode: the Slack Web API base; `https://slack-gov.com/api/` for GovSlack",
    when_wrong: "init error",
    see: "app-mode.md",
};

pub const SLACK_PRECONNECT: Setting = Setting {
    names: &["SLACK_PRECONNECT"],
    place: Place::Env,
    value: Value::Text {
        default: "https://hooks.slack.com",
        rule: "an `https://` origin, scheme and host with no path (`http://` only for a \
               loopback host), or `off`",
    },
    does: "where the webhook is expected: whenever the secret is fetched (a cold start, then \
           once a TTL), a connection there is opened at the same time, so that the post does not \
           wait for its own connect; `off` opens none",
    when_wrong: "init error. Another host than the webhook's: the connection is unused",
    see: "performance.md#round-trips",
};

pub const AWS_LAMBDA_LOG_FORMAT: Setting = Setting {
    names: &["AWS_LAMBDA_LOG_FORMAT"],
    place: Place::Env,
    value: Value::Word {
        words: &["Text", "JSON"],
        default: "Text",
    },
    does: "`Text`: one plain line per event; `JSON`: one JSON object per line with timestamp, \
           level, requestId, message and fields. Lambda sets it from the function's log format",
    when_wrong: "init error",
    see: "operations.md#logs",
};

pub const AWS_LAMBDA_LOG_LEVEL: Setting = Setting {
    names: &["AWS_LAMBDA_LOG_LEVEL"],
    place: Place::Env,
    value: Value::Word {
        words: &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
        default: "INFO",
    },
    does: "lines below it are neither formatted nor written; `DEBUG` adds each Slack payload \
           (never the webhook URL). Lambda sets it with JSON logs",
    when_wrong: "init error",
    see: "operations.md#logs",
};

pub const AWS_REGION: Setting = Setting {
    names: &["AWS_REGION", "AWS_DEFAULT_REGION"],
    place: Place::Env,
    value: Value::Lambda("a region code such as `us-east-1`"),
    does: "the region of Secrets Manager, of DynamoDB (`INCIDENT_TABLE`) and of CloudWatch \
           (`METRIC_GRAPH`), and of the requests' signatures",
    when_wrong: "unset or not a region code: init error",
    see: "",
};

pub const AWS_ACCESS_KEY_ID: Setting = Setting {
    names: &["AWS_ACCESS_KEY_ID"],
    place: Place::Env,
    value: Value::Lambda("an access key ID"),
    does: "with the next two, the execution role's credentials, which sign every call: \
           `GetSecretValue`, DynamoDB's `GetItem` and `UpdateItem` (`INCIDENT_TABLE`), \
           CloudWatch's `GetMetricData` and `GetMetricWidgetImage` (`METRIC_GRAPH`)",
    when_wrong: "unset: init error. Wrong: every invocation fails with \
                 `SecretsManager.UnrecognizedClientException` or \
                 `SecretsManager.InvalidSignatureException`",
    see: "",
};

pub const AWS_SECRET_ACCESS_KEY: Setting = Setting {
    names: &["AWS_SECRET_ACCESS_KEY"],
    place: Place::Env,
    value: Value::Lambda("the secret key of that access key"),
    does: "the credentials' secret key",
    when_wrong: "as `AWS_ACCESS_KEY_ID`",
    see: "",
};

pub const AWS_SESSION_TOKEN: Setting = Setting {
    names: &["AWS_SESSION_TOKEN"],
    place: Place::Env,
    value: Value::Lambda("the session token of temporary credentials; none for long-term keys"),
    does: "the credentials' session token",
    when_wrong: "wrong or expired: as a wrong `AWS_ACCESS_KEY_ID`",
    see: "",
};

pub const AWS_ENDPOINT_URL_SECRETS_MANAGER: Setting = Setting {
    names: &["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
    place: Place::Env,
    value: Value::Endpoint(Some(SECRETS_MANAGER)),
    does: "another Secrets Manager endpoint (a VPC endpoint, LocalStack, moto, the test emulator)",
    when_wrong: "init error. Unreachable: every invocation fails with \
                 `SecretsManager.Unreachable`",
    see: "",
};

pub const AWS_ENDPOINT_URL_DYNAMODB: Setting = Setting {
    names: &["AWS_ENDPOINT_URL_DYNAMODB"],
    place: Place::Env,
    value: Value::Endpoint(Some(DYNAMODB)),
    does: "another DynamoDB endpoint, for `INCIDENT_TABLE`",
    when_wrong: "init error (whatever `INCIDENT_TABLE` says). Unreachable: a `WARN`, and the \
                 alarm is posted without a thread",
    see: "",
};

pub const AWS_ENDPOINT_URL_CLOUDWATCH: Setting = Setting {
    names: &["AWS_ENDPOINT_URL_CLOUDWATCH"],
    place: Place::Env,
    value: Value::Endpoint(Some(CLOUDWATCH)),
    does: "another CloudWatch endpoint, for `METRIC_GRAPH` (signed as `monitoring`)",
    when_wrong: "init error (whatever `METRIC_GRAPH` says). Unreachable: a `WARN`, and the \
                 alarm is posted without its graph",
    see: "",
};

pub const AWS_ENDPOINT_URL: Setting = Setting {
    names: &["AWS_ENDPOINT_URL"],
    place: Place::Env,
    value: Value::Endpoint(None),
    does: "the endpoint of each of the three services above whose own variable is unset. The \
           regional endpoints end in `.amazonaws.com.cn` in China",
    when_wrong: "init error. Unreachable: as for that service's own variable",
    see: "",
};

pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: Setting = Setting {
    names: &["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"],
    place: Place::Env,
    value: Value::Word {
        words: &["true", "false"],
        default: "false",
    },
    does: "`true` ignores the four endpoint variables above",
    when_wrong: "init error",
    see: "",
};

pub const AWS_LAMBDA_RUNTIME_API: Setting = Setting {
    names: &["AWS_LAMBDA_RUNTIME_API"],
    place: Place::Env,
    value: Value::Lambda(
        "`host:port`, optionally with a path prefix, or the same as an `http://` URL (the \
         Runtime API is plain HTTP); no query or fragment",
    ),
    does: "where the Runtime API is (`cargo lambda watch` sets `http://[::]:9000/.rt/bootstrap`)",
    when_wrong: "unset or malformed: the bootstrap logs why and exits, as there is no Runtime \
                 API to report to",
    see: "",
};

pub const SLACK_HOOK_URL: Setting = Setting {
    names: &["SLACK_HOOK_URL"],
    place: Place::Secret,
    value: Value::Key {
        unset: "required in webhook mode, unless `ROUTES` name a webhook for every alarm",
        rule: "an `https://` URL (`http://` only for a loopback host)",
    },
    does: "webhook mode: the Slack incoming webhook",
    when_wrong: "",
    see: "",
};

pub const SLACK_BOT_TOKEN: Setting = Setting {
    names: &["SLACK_BOT_TOKEN"],
    place: Place::Secret,
    value: Value::Key {
        unset: "none: webhook mode",
        rule: "a bot token, `xoxb-…`",
    },
    does: "app mode: the app's bot token; the Web API is used instead of the webhook (it wins \
           when both are there)",
    when_wrong: "",
    see: "app-mode.md",
};

pub const SLACK_CHANNEL: Setting = Setting {
    names: &["SLACK_CHANNEL"],
    place: Place::Secret,
    value: Value::Key {
        unset: "app mode: required, unless `ROUTES` name a channel for every alarm; webhook \
                mode: the webhook's own channel",
        rule: "a string: in app mode best the channel's ID (`C0123ABCD`), as threads, updates \
               and the history lookup take IDs only; `#alerts` for a webhook",
    },
    does: "where messages go by default. In webhook mode only legacy custom-integration \
           webhooks honour it; app webhooks post to their own channel",
    when_wrong: "",
    see: "",
};

pub const SLACK_USERNAME: Setting = Setting {
    names: &["SLACK_USERNAME"],
    place: Place::Secret,
    value: Value::Key {
        unset: "none",
        rule: "a string, e.g. `CloudWatch`",
    },
    does: "the sender's name, sent as `username`: legacy webhooks honour it, app webhooks do \
           not; app mode needs the `chat:write.customize` scope",
    when_wrong: "",
    see: "",
};

pub const SLACK_ICON_EMOJI: Setting = Setting {
    names: &["SLACK_ICON_EMOJI"],
    place: Place::Secret,
    value: Value::Key {
        unset: "none",
        rule: "a string, e.g. `:rotating_light:`",
    },
    does: "the sender's icon, sent as `icon_emoji`; honoured as `SLACK_USERNAME` is",
    when_wrong: "",
    see: "",
};

pub const SLACK_SIGNING_SECRET: Setting = Setting {
    names: &["SLACK_SIGNING_SECRET"],
    place: Place::Secret,
    value: Value::Key {
        unset: "none: no buttons",
        rule: "the app's signing secret (Basic Information page), 32 hex digits",
    },
    does: "app mode with `INCIDENT_TABLE`: turns on the parents' Acknowledge, Mute, Resolve and \
           Runbook buttons, and verifies each click's `X-Slack-Signature` with it",
    when_wrong: "",
    see: "app-mode.md",
};

pub const SLACK_TEAM_ID: Setting = Setting {
    names: &["SLACK_TEAM_ID"],
    place: Place::Secret,
    value: Value::Key {
        unset: "asked of `auth.test` once per token",
        rule: "the workspace ID, `T0123ABCD`",
    },
    does: "buttons: only clicks from this workspace are served",
    when_wrong: "",
    see: "app-mode.md",
};

pub const SLACK_APP_ID: Setting = Setting {
    names: &["SLACK_APP_ID"],
    place: Place::Secret,
    value: Value::Key {
        unset: "asked of `auth.test` once per token (checked when it says)",
        rule: "the app ID, `A0123ABCD`",
    },
    does: "buttons: only clicks sent for this app are served",
    when_wrong: "",
    see: "app-mode.md",
};

pub const ROUTES: Setting = Setting {
    names: &["ROUTES"],
    place: Place::Secret,
    value: Value::Key {
        unset: "none: every alarm goes to the default target",
        rule: "a list of route objects",
    },
    does: "which alarm goes to which channel (app mode) or webhook (webhook mode), and whom it \
           mentions; an alarm no route matches goes to the default target",
    when_wrong: "",
    see: "routing.md",
};

/// Every setting, in the order a user sets them up: the environment, then the secret.
pub const SETTINGS: &[Setting] = &[
    SECRET_ID,
    MESSAGE_FORMAT,
    SECRET_TTL_SECONDS,
    SECRET_MAX_STALE_SECONDS,
    INCIDENT_TABLE,
    METRIC_GRAPH,
    MUTE_CLOUDWATCH,
    STORM_THRESHOLD,
    STORM_WINDOW_SECONDS,
    SLACK_PACE_MILLISECONDS,
    SLACK_API_URL,
    SLACK_PRECONNECT,
    AWS_LAMBDA_LOG_FORMAT,
    AWS_LAMBDA_LOG_LEVEL,
    AWS_REGION,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER,
    AWS_ENDPOINT_URL_DYNAMODB,
    AWS_ENDPOINT_URL_CLOUDWATCH,
    AWS_ENDPOINT_URL,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
    AWS_LAMBDA_RUNTIME_API,
    SLACK_HOOK_URL,
    SLACK_BOT_TOKEN,
    SLACK_CHANNEL,
    SLACK_USERNAME,
    SLACK_ICON_EMOJI,
    SLACK_SIGNING_SECRET,
    SLACK_TEAM_ID,
    SLACK_APP_ID,
    ROUTES,
];

impl Setting {
    /// The name errors report: the first.
    pub const fn name(&self) -> &'static str {
        self.names[0]
    }

    /// The first of its names that is set, and its value, trimmed. An empty variable counts
    /// as unset: the Lambda console makes them easily.
    pub fn read(&self, env: &impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
        self.names.iter().find_map(|&name| {
            let value = env(name)?.trim().to_string();
            (!value.is_empty()).then_some((name, value))
        })
    }

    /// The value when unset, as a user would write it; `None` when unset is not a value.
    pub fn default_value(&self) -> Option<&'static str> {
        match self.value {
            Value::Word { default, .. } | Value::Text { default, .. } => Some(default),
            _ => None,
        }
    }

    /// What unset means, as `--help` and the docs say it.
    pub fn default_text(&self) -> String {
        match self.value {
            Value::Required(_) => "required".to_string(),
            Value::Lambda(_) => "set by Lambda".to_string(),
            Value::Word { default, .. } | Value::Text { default, .. } => format!("`{default}`"),
            Value::Seconds { default, .. } | Value::Count { default, .. } => {
                format!("`{default}`")
            }
            Value::Name { unset, .. } => format!("none ({unset})"),
            Value::Endpoint(Some(prefix)) => format!(
                "`{}`, else `https://{prefix}.{{region}}.amazonaws.com`",
                AWS_ENDPOINT_URL.name()
            ),
            Value::Endpoint(None) => "none: each service's regional endpoint".to_string(),
            Value::Key { unset, .. } => unset.to_string(),
        }
    }

    /// What a value may be, as `--help`, the docs and the init errors say it.
    pub fn accepts_text(&self) -> String {
        match self.value {
            Value::Required(rule)
            | Value::Lambda(rule)
            | Value::Text { rule, .. }
            | Value::Key { rule, .. } => rule.to_string(),
            Value::Word { words, .. } => {
                let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                match quoted.split_last() {
                    Some((last, [first])) => format!("{first} or {last}, in any case"),
                    _ => format!("one of {}, in any case", quoted.join(", ")),
                }
            }
            Value::Seconds { max, .. } if max >= 86_400 => format!(
                "a whole number of seconds, `0` to `{max}` ({} days)",
                max / 86_400
            ),
            Value::Seconds { max, .. } => format!("a whole number of seconds, `0` to `{max}`"),
            Value::Count { max, .. } => format!("a whole number, `0` to `{max}`"),
            Value::Name {
                min,
                max,
                punctuation,
                ..
            } => {
                let mut out = format!("{min} to {max} of `a-z`, `A-Z`, `0-9`");
                for c in punctuation.chars() {
                    out.push_str(&format!(", `{c}`"));
                }
                out
            }
            Value::Endpoint(_) => {
                "an `http://` or `https://` URL, with a path at most (no query or fragment)"
                    .to_string()
            }
        }
    }

    /// The init error's words for a value that breaks the rule: `must be …; default …`.
    pub fn rule(&self) -> String {
        plain(&format!(
            "must be {}; default {}",
            self.accepts_text(),
            self.default_text()
        ))
    }
}

/// `text` without its backticks, for a terminal or a log line.
pub fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// An environment of fixed variables, for the tests of whatever reads these settings.
#[cfg(test)]
pub fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_setting_is_complete() {
        let mut seen = Vec::new();
        for s in SETTINGS {
            assert!(!s.names.is_empty() && !s.does.is_empty());
            assert_eq!(
                s.when_wrong.is_empty(),
                s.place == Place::Secret,
                "{}: only the secret's keys leave when_wrong to Secret.Invalid",
                s.name()
            );
            for name in s.names {
                assert!(!seen.contains(name), "{name} twice");
                seen.push(name);
            }
            if let Value::Word { words, default } = s.value {
                assert!(words.contains(&default), "{}", s.name());
            }
            // A backtick left open would run into the next words in the docs.
            for text in [s.does, s.when_wrong, &s.accepts_text(), &s.default_text()] {
                assert_eq!(text.matches('`').count() % 2, 0, "{}: {text}", s.name());
            }
        }
    }

    #[test]
    fn words_and_ranges_are_rendered_as_errors_say_them() {
        assert_eq!(
            AWS_LAMBDA_LOG_LEVEL.rule(),
            "must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, in any case; default INFO"
        );
        assert_eq!(
            MESSAGE_FORMAT.accepts_text(),
            "`card` or `text`, in any case"
        );
        assert_eq!(
            SECRET_TTL_SECONDS.rule(),
            "must be a whole number of seconds, 0 to 31622400 (366 days); default 300"
        );
        assert_eq!(
            AWS_ENDPOINT_URL_CLOUDWATCH.default_text(),
            "`AWS_ENDPOINT_URL`, else `https://monitoring.{region}.amazonaws.com`"
        );
        assert_eq!(
            INCIDENT_TABLE.accepts_text(),
            "3 to 255 of `a-z`, `A-Z`, `0-9`, `_`, `-`, `.`"
        );
    }

    #[test]
    fn read_takes_the_first_name_set_and_ignores_empty_ones() {
        let env = |name: &str| match name {
            "SecretId" => Some("  ".to_string()),
            "SECRET_ID" => Some(" slack/dev ".to_string()),
            _ => None,
        };
        assert_eq!(
            SECRET_ID.read(&env),
            Some(("SECRET_ID", "slack/dev".to_string()))
        );
        assert_eq!(MESSAGE_FORMAT.read(&env), None);
        assert_eq!(MESSAGE_FORMAT.default_value(), Some("card"));
        assert_eq!(SECRET_TTL_SECONDS.default_value(), None);
    }
}
