//! Configuration, read once at start-up from the environment Lambda gives us.
//! Every problem names the variable and says how to fix it, because the only
//! place a user sees it is the init error of their first invocation.

use crate::error::Error;
use crate::log::{self, Format, Level};
use crate::message::Format as MessageFormat;
use aws_credential_types::Credentials;
use std::fmt::Write as _;
use std::time::Duration;

const DEFAULT_SECRET_TTL: u64 = 300;
const DEFAULT_SECRET_MAX_STALE: u64 = 3600;

pub struct Config {
    pub secret_id: String,
    pub region: String,
    pub credentials: Credentials,
    pub endpoint: Endpoint,
    pub secret_ttl: Duration,
    pub secret_max_stale: Duration,
    pub message_format: MessageFormat,
}

/// Where Secrets Manager is reached. `host` is sent and signed as the `Host` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub url: String,
    pub host: String,
}

/// The Runtime API's base URL. Kept apart from [`Config`]: without it there is
/// nobody to report any other configuration problem to.
pub fn runtime_api(env: impl Fn(&str) -> Option<String>) -> Result<String, Error> {
    let api = var(&env, "AWS_LAMBDA_RUNTIME_API").ok_or_else(|| {
        Error::config(
            "AWS_LAMBDA_RUNTIME_API",
            "is not set; bootstrap is a Lambda custom runtime: run it in Lambda or under a \
             Runtime API emulator (`make demo`); `bootstrap --help` lists its configuration",
        )
    })?;
    // Lambda and the RIE give `host:port`; cargo-lambda gives a URL with a path prefix,
    // `http://[::]:9000/.rt/bootstrap`.
    let api = api.trim_end_matches('/');
    let (scheme, rest) = api.split_once("://").unwrap_or(("http", api));
    let authority = rest.split('/').next().unwrap_or_default();
    // `[::1]` has no port; `127.0.0.1:9001` and `[::]:9000` have one, all digits.
    let port = if authority.ends_with(']') {
        None
    } else {
        authority.rsplit_once(':').map(|(_, port)| port)
    };
    let valid = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.starts_with(':')
        && !authority.contains('@')
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(Error::config(
            "AWS_LAMBDA_RUNTIME_API",
            "must be host:port with an optional path (127.0.0.1:9001, 127.0.0.1:9000/.rt), \
             or the same as an http:// URL",
        ));
    }
    Ok(format!("{scheme}://{rest}/2018-06-01"))
}

/// The logger's settings. A wrong value falls back to its default here and is reported
/// by [`Config::from_env`], so that even that init error is logged as asked.
pub fn logging(env: impl Fn(&str) -> Option<String>) -> log::Settings {
    log::Settings {
        format: log_format(&env).unwrap_or_default(),
        level: log_level(&env).unwrap_or_default(),
    }
}

/// Lambda sets it from the function's logging configuration: `Text` or `JSON`.
fn log_format(env: &impl Fn(&str) -> Option<String>) -> Result<Format, Error> {
    match var(env, "AWS_LAMBDA_LOG_FORMAT") {
        None => Ok(Format::Text),
        Some(v) if v.eq_ignore_ascii_case("text") => Ok(Format::Text),
        Some(v) if v.eq_ignore_ascii_case("json") => Ok(Format::Json),
        Some(_) => Err(Error::config(
            "AWS_LAMBDA_LOG_FORMAT",
            "must be Text or JSON; set the function's log format (LoggingConfig.LogFormat) \
             instead of the variable",
        )),
    }
}

fn log_level(env: &impl Fn(&str) -> Option<String>) -> Result<Level, Error> {
    match var(env, "AWS_LAMBDA_LOG_LEVEL") {
        None => Ok(Level::Info),
        Some(v) => Level::parse(&v).ok_or_else(|| {
            Error::config(
                "AWS_LAMBDA_LOG_LEVEL",
                "must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL; default INFO",
            )
        }),
    }
}

impl Config {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        log_format(&env)?;
        log_level(&env)?;
        let secret_id = var(&env, "SecretId")
            .or_else(|| var(&env, "SECRET_ID"))
            .ok_or_else(|| {
                Error::config(
                    "SecretId",
                    "is not set; set it to the name or ARN of the Secrets Manager secret that \
                     holds SLACK_HOOK_URL and SLACK_CHANNEL",
                )
            })?;

        let (region_var, region) = match var(&env, "AWS_REGION") {
            Some(r) => ("AWS_REGION", r),
            None => (
                "AWS_DEFAULT_REGION",
                var(&env, "AWS_DEFAULT_REGION").ok_or_else(|| {
                    Error::config(
                        "AWS_REGION",
                        "is not set (nor AWS_DEFAULT_REGION); Lambda sets it, elsewhere set it \
                         to the secret's region, e.g. us-east-1",
                    )
                })?,
            ),
        };
        if !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Error::config(
                region_var,
                "is not a region code; use one like us-east-1",
            ));
        }

        let message_format = message_format(&env)?;
        let credentials = credentials(&env)?;
        let endpoint = endpoint(&env, &region)?;

        let secret_ttl = seconds(
            &env,
            "SECRET_TTL_SECONDS",
            DEFAULT_SECRET_TTL,
            "must be a whole number of seconds (0 disables the cache); default 300",
        )?;
        let secret_max_stale = seconds(
            &env,
            "SECRET_MAX_STALE_SECONDS",
            DEFAULT_SECRET_MAX_STALE,
            "must be a whole number of seconds (0 never serves an expired secret); default 3600",
        )?;

        Ok(Config {
            secret_id,
            region,
            credentials,
            endpoint,
            secret_ttl,
            secret_max_stale,
            message_format,
        })
    }
}

fn seconds(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    rule: &str,
) -> Result<Duration, Error> {
    match var(env, name) {
        None => Ok(Duration::from_secs(default)),
        // A year bounds the value so that Instant arithmetic cannot overflow.
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs <= 366 * 24 * 3600 => Ok(Duration::from_secs(secs)),
            _ => Err(Error::config(name, rule)),
        },
    }
}

/// `MESSAGE_FORMAT`: `card` (the default) or `text`, the seed's one line.
pub fn message_format(env: &impl Fn(&str) -> Option<String>) -> Result<MessageFormat, Error> {
    match var(env, "MESSAGE_FORMAT") {
        None => Ok(MessageFormat::Card),
        Some(value) => MessageFormat::parse(&value).ok_or_else(|| {
            Error::config(
                "MESSAGE_FORMAT",
                "must be `card` (the default: a coloured card) or `text` (one line)",
            )
        }),
    }
}

fn credentials(env: &impl Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
    let missing = |name: &'static str| {
        Error::config(
            name,
            "is not set; Lambda sets it from the execution role, elsewhere export the \
             credentials of a principal allowed secretsmanager:GetSecretValue",
        )
    };
    let key = var(env, "AWS_ACCESS_KEY_ID").ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
    let secret =
        var(env, "AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
    let token = var(env, "AWS_SESSION_TOKEN");
    Ok(Credentials::new(key, secret, token, None, "environment"))
}

fn endpoint(env: &impl Fn(&str) -> Option<String>, region: &str) -> Result<Endpoint, Error> {
    let ignore = match var(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(Error::config(
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                "must be true or false; default false",
            ))
        }
    };
    let configured = if ignore {
        None
    } else {
        ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]
            .into_iter()
            .find_map(|name| var(env, name).map(|v| (name, v)))
    };
    match configured {
        Some((name, url)) => parse_endpoint(&url).ok_or_else(|| {
            Error::config(
                name,
                "must be an http:// or https:// URL such as https://secretsmanager.us-east-1.amazonaws.com",
            )
        }),
        None => {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            let host = format!("secretsmanager.{region}.{suffix}");
            Ok(Endpoint {
                url: format!("https://{host}/"),
                host,
            })
        }
    }
}

fn parse_endpoint(url: &str) -> Option<Endpoint> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let valid = !authority.is_empty()
        && !authority.contains('@')
        && !path.contains(['?', '#'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then(|| Endpoint {
        url: format!("{}{}{}", &url[..url.len() - rest.len()], authority, path),
        host: authority.to_ascii_lowercase(),
    })
}

/// An empty variable counts as unset: the Lambda console makes them easily.
fn var(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// One environment variable, as `bootstrap --help` and the README's table describe it.
pub struct Variable {
    pub names: &'static str,
    pub default: &'static str,
    pub does: &'static str,
    pub when_wrong: &'static str,
}

/// Every variable the bootstrap reads, in the order a user sets them up.
pub const VARIABLES: &[Variable] = &[
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
        does: "after the TTL, how much longer the cached secret is still used while refreshing it                fails transiently (throttling, 5xx, network); 0 never uses an expired secret",
        when_wrong: "not a whole number of seconds up to a year: init error",
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
        names: "AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL",
        default: "https://secretsmanager.{region}.amazonaws.com",
        does: "another Secrets Manager endpoint (VPC endpoint, LocalStack, the test emulator); \
               the first of the two that is set wins. The default ends in .amazonaws.com.cn in China",
        when_wrong: "not an http:// or https:// URL: init error; unreachable: every invocation \
                     fails with SecretsManager.Unreachable",
    },
    Variable {
        names: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        default: "false",
        does: "true ignores the two endpoint variables above",
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

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    const LAMBDA: &[(&str, &str)] = &[
        ("SecretId", "slack/dev"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("AWS_SESSION_TOKEN", "TOKEN"),
    ];

    #[test]
    fn lambda_environment_gives_defaults() {
        let c = Config::from_env(env_of(LAMBDA)).expect("valid config");
        assert_eq!(c.secret_id, "slack/dev");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(
            c.endpoint.url,
            "https://secretsmanager.eu-west-1.amazonaws.com/"
        );
        assert_eq!(c.endpoint.host, "secretsmanager.eu-west-1.amazonaws.com");
        assert_eq!(c.secret_ttl, Duration::from_secs(300));
        assert_eq!(c.secret_max_stale, Duration::from_secs(3600));
        assert_eq!(c.credentials.session_token(), Some("TOKEN"));
    }

    #[test]
    fn china_regions_use_their_own_domain() {
        let e = endpoint(&env_of(&[]), "cn-north-1").expect("endpoint");
        assert_eq!(e.host, "secretsmanager.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn missing_secret_id_names_the_variable() {
        let err = Config::from_env(env_of(&[("AWS_REGION", "us-east-1")]))
            .err()
            .expect("error");
        assert!(err
            .to_string()
            .starts_with("environment variable SecretId: is not set"));
        let alt = Config::from_env(env_of(&[
            ("SECRET_ID", "x"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
        ]));
        assert_eq!(alt.expect("SECRET_ID accepted").secret_id, "x");
    }

    #[test]
    fn bad_ttl_and_region_are_reported() {
        let ttl = Config::from_env(env_of(&[
            ("SecretId", "x"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("SECRET_TTL_SECONDS", "5m"),
        ]));
        assert!(matches!(
            ttl,
            Err(Error::Config {
                var: "SECRET_TTL_SECONDS",
                ..
            })
        ));
        let region = Config::from_env(env_of(&[("SecretId", "x"), ("AWS_REGION", "US East")]));
        assert!(matches!(
            region,
            Err(Error::Config {
                var: "AWS_REGION",
                ..
            })
        ));
    }

    #[test]
    fn message_format_defaults_to_card_and_is_checked() {
        assert_eq!(
            message_format(&env_of(&[])).expect("default"),
            MessageFormat::Card
        );
        let text = message_format(&env_of(&[("MESSAGE_FORMAT", "text")]));
        assert_eq!(text.expect("text"), MessageFormat::Text);
        let mut env = LAMBDA.to_vec();
        env.push(("MESSAGE_FORMAT", "blocks"));
        let env: &'static [(&str, &str)] = env.leak();
        assert!(matches!(
            Config::from_env(env_of(env)),
            Err(Error::Config {
                var: "MESSAGE_FORMAT",
                ..
            })
        ));
    }

    #[test]
    fn endpoint_overrides_in_order() {
        let e = endpoint(
            &env_of(&[
                ("AWS_ENDPOINT_URL", "http://other:1"),
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:4566"),
            ]),
            "us-east-1",
        )
        .expect("endpoint");
        assert_eq!(
            e,
            Endpoint {
                url: "http://127.0.0.1:4566/".into(),
                host: "127.0.0.1:4566".into()
            }
        );
        let ignored = endpoint(
            &env_of(&[
                ("AWS_ENDPOINT_URL", "http://other:1"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ]),
            "us-east-1",
        )
        .expect("endpoint");
        assert_eq!(ignored.host, "secretsmanager.us-east-1.amazonaws.com");
        let bad = endpoint(
            &env_of(&[("AWS_ENDPOINT_URL", "localhost:4566")]),
            "us-east-1",
        );
        assert!(matches!(
            bad,
            Err(Error::Config {
                var: "AWS_ENDPOINT_URL",
                ..
            })
        ));
    }

    #[test]
    fn runtime_api_keeps_a_path_prefix() {
        let base = runtime_api(env_of(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9000/.rt/")]));
        assert_eq!(base.expect("base"), "http://127.0.0.1:9000/.rt/2018-06-01");
        assert!(runtime_api(env_of(&[])).is_err());
    }

    #[test]
    fn runtime_api_as_cargo_lambda_sets_it() {
        let base = runtime_api(env_of(&[(
            "AWS_LAMBDA_RUNTIME_API",
            "http://[::]:9000/.rt/bootstrap",
        )]));
        assert_eq!(
            base.expect("base"),
            "http://[::]:9000/.rt/bootstrap/2018-06-01"
        );
        let tls = runtime_api(env_of(&[(
            "AWS_LAMBDA_RUNTIME_API",
            "https://localhost:9000/.rt",
        )]));
        assert_eq!(tls.expect("base"), "https://localhost:9000/.rt/2018-06-01");
        for bad in [
            "ftp://127.0.0.1:9001",
            "http://",
            "http:///x",
            "127.0.0.1 9001",
            "http://http://a",
        ] {
            let err = runtime_api(|name: &str| {
                (name == "AWS_LAMBDA_RUNTIME_API").then(|| bad.to_string())
            });
            assert!(
                matches!(
                    err,
                    Err(Error::Config {
                        var: "AWS_LAMBDA_RUNTIME_API",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    fn with(extra: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            extra
                .iter()
                .chain(LAMBDA)
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn log_settings_default_to_text_at_info() {
        assert_eq!(logging(env_of(&[])), log::Settings::default());
        assert_eq!(
            logging(env_of(&[
                ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                ("AWS_LAMBDA_LOG_LEVEL", "debug"),
            ])),
            log::Settings {
                format: Format::Json,
                level: Level::Debug
            }
        );
        assert!(Config::from_env(with(&[
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
            ("AWS_LAMBDA_LOG_LEVEL", "FATAL"),
        ]))
        .is_ok());
    }

    #[test]
    fn bad_log_settings_are_init_errors_that_name_them() {
        for (env, name) in [
            (
                with(&[("AWS_LAMBDA_LOG_LEVEL", "VERBOSE")]),
                "AWS_LAMBDA_LOG_LEVEL",
            ),
            (
                with(&[("AWS_LAMBDA_LOG_FORMAT", "yaml")]),
                "AWS_LAMBDA_LOG_FORMAT",
            ),
        ] {
            let err = Config::from_env(&env).err().expect("error");
            assert!(matches!(err, Error::Config { var, .. } if var == name));
            // The logger still starts, with the defaults, to log that very error.
            assert_eq!(logging(&env).level, Level::Info);
        }
        // A valid format is kept even when the level is wrong.
        let half = logging(with(&[
            ("AWS_LAMBDA_LOG_FORMAT", "json"),
            ("AWS_LAMBDA_LOG_LEVEL", "loud"),
        ]));
        assert_eq!(half.format, Format::Json);
        let message = Config::from_env(with(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]))
            .err()
            .expect("error")
            .to_string();
        assert!(
            message.contains("TRACE, DEBUG, INFO, WARN, ERROR, FATAL"),
            "{message}"
        );
    }

    #[test]
    fn ignore_endpoint_flag_is_true_or_false() {
        let bad = Config::from_env(with(&[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes")]));
        assert!(matches!(
            bad,
            Err(Error::Config {
                var: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                ..
            })
        ));
        let off = endpoint(
            &env_of(&[
                ("AWS_ENDPOINT_URL", "http://other:1"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "FALSE"),
            ]),
            "us-east-1",
        );
        assert_eq!(off.expect("endpoint").host, "other:1");
    }

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
