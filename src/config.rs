//! Configuration, read once at start-up from the environment Lambda gives us.
//! Every problem names the variable and says how to fix it, because the only
//! place a user sees it is the init error of their first invocation.

//! Names, defaults and ranges come from the table in `settings.rs`; every variable is read
//! through it, so none can be read without being in `bootstrap --help`.

use crate::aws::{self, cloudwatch, dynamodb, endpoint, secrets_manager};
use crate::error::Error;
use crate::graph::Mode as GraphMode;
use crate::http::url::Url;
use crate::log::{self, Format, Level};
use crate::region;
use crate::settings::{self, Setting, Value};
use crate::slack::message::Format as MessageFormat;
use aws_credential_types::Credentials;
use std::time::Duration;

pub struct Config {
    pub secret_id: String,
    /// Secrets Manager: endpoint, region and credentials.
    pub secrets_manager: aws::Client,
    pub secret_ttl: Duration,
    pub secret_max_stale: Duration,
    pub message_format: MessageFormat,
    /// The Web API base for app mode, ending in `/`.
    pub slack_api_url: String,
    /// App mode's incident threads, when set: the DynamoDB table.
    pub incident_table: Option<String>,
    pub dynamodb: aws::Client,
    /// `METRIC_GRAPH`: the alarm's metric in Slack, and the CloudWatch it is read from.
    pub metric_graph: GraphMode,
    pub cloudwatch: aws::Client,
    /// `MUTE_CLOUDWATCH`: a Mute click also mutes the alarm's actions in CloudWatch.
    pub mute_cloudwatch: bool,
    /// `STORM_THRESHOLD` (0: off) and `STORM_WINDOW_SECONDS`.
    pub storm_threshold: u64,
    pub storm_window: Duration,
    /// `SLACK_PACE_MILLISECONDS`.
    pub slack_pace: Duration,
    /// Where to open a connection while the secret is fetched: the webhook's origin, guessed.
    pub slack_preconnect: Option<String>,
}

/// The Runtime API's base URL. Kept apart from [`Config`]: without it there is
/// nobody to report any other configuration problem to.
pub fn runtime_api(env: impl Fn(&str) -> Option<String>) -> Result<String, Error> {
    let setting = &settings::AWS_LAMBDA_RUNTIME_API;
    let (_, api) = setting.read(&env).ok_or_else(|| {
        Error::config(
            setting.name(),
            "is not set; bootstrap is a Lambda custom runtime: run it in Lambda or under a \
             Runtime API emulator (`make demo`); `bootstrap --help` lists its configuration",
        )
    })?;
    // Lambda and the RIE give `host:port`; cargo-lambda gives a URL with a path prefix,
    // `http://[::]:9000/.rt/bootstrap`.
    let api = api.trim_end_matches('/');
    // The runtime speaks HTTP to it itself (`runtime/wire.rs`), without TLS: Lambda, the RIE
    // and cargo lambda all serve it in plain text.
    if api.starts_with("https://") {
        return Err(Error::config(
            setting.name(),
            "is an https:// URL; the Runtime API is plain HTTP: give http:// or host:port",
        ));
    }
    let url = if api.starts_with("http://") {
        api.to_string()
    } else {
        format!("http://{api}")
    };
    match Url::parse(&url) {
        Some(parsed) if !parsed.rest.contains(['?', '#']) => Ok(format!("{url}/2018-06-01")),
        _ => Err(Error::config(
            setting.name(),
            "must be host:port with an optional path (127.0.0.1:9001, 127.0.0.1:9000/.rt), \
             or the same as an http:// URL",
        )),
    }
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
    let setting = &settings::AWS_LAMBDA_LOG_FORMAT;
    match or_default(env, setting) {
        v if v.eq_ignore_ascii_case("text") => Ok(Format::Text),
        v if v.eq_ignore_ascii_case("json") => Ok(Format::Json),
        _ => Err(Error::config(
            setting.name(),
            format!(
                "{}; set the function's log format (LoggingConfig.LogFormat) instead of the \
                 variable",
                setting.rule()
            ),
        )),
    }
}

fn log_level(env: &impl Fn(&str) -> Option<String>) -> Result<Level, Error> {
    let setting = &settings::AWS_LAMBDA_LOG_LEVEL;
    Level::parse(&or_default(env, setting))
        .ok_or_else(|| Error::config(setting.name(), setting.rule()))
}

impl Config {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        log_format(&env)?;
        log_level(&env)?;
        let (_, secret_id) = settings::SECRET_ID.read(&env).ok_or_else(|| {
            Error::config(
                settings::SECRET_ID.name(),
                "is not set; set it to the name or ARN of the Secrets Manager secret that \
                 holds SLACK_HOOK_URL and SLACK_CHANNEL",
            )
        })?;

        let (region_var, region) = settings::AWS_REGION.read(&env).ok_or_else(|| {
            Error::config(
                settings::AWS_REGION.name(),
                "is not set (nor AWS_DEFAULT_REGION); Lambda sets it, elsewhere set it to the \
                 secret's region, e.g. us-east-1",
            )
        })?;
        if !region::is_code(&region) {
            return Err(Error::config(
                region_var,
                "is not a region code; use one like us-east-1",
            ));
        }

        let message_format = message_format(&env)?;
        let credentials = credentials(&env)?;
        let endpoint =
            endpoint::configured(&env, &settings::AWS_ENDPOINT_URL_SECRETS_MANAGER, &region)?;
        let dynamodb_endpoint =
            endpoint::configured(&env, &settings::AWS_ENDPOINT_URL_DYNAMODB, &region)?;
        let cloudwatch_endpoint =
            endpoint::configured(&env, &settings::AWS_ENDPOINT_URL_CLOUDWATCH, &region)?;
        let graph = &settings::METRIC_GRAPH;
        let metric_graph = GraphMode::parse(&or_default(&env, graph))
            .ok_or_else(|| Error::config(graph.name(), graph.rule()))?;
        let slack_api_url = slack_api_url(&env)?;
        let incident_table = incident_table(&env)?;
        let mute = &settings::MUTE_CLOUDWATCH;
        let mute_cloudwatch = match or_default(&env, mute).to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(Error::config(mute.name(), mute.rule())),
        };

        let secret_ttl = seconds(&env, &settings::SECRET_TTL_SECONDS)?;
        let storm_threshold = count(&env, &settings::STORM_THRESHOLD)?;
        let storm_window = seconds(&env, &settings::STORM_WINDOW_SECONDS)?;
        let slack_pace = Duration::from_millis(count(&env, &settings::SLACK_PACE_MILLISECONDS)?);
        let secret_max_stale = seconds(&env, &settings::SECRET_MAX_STALE_SECONDS)?;

        let slack_preconnect = preconnect(&env)?;

        Ok(Config {
            secret_id,
            dynamodb: aws::Client {
                endpoint: dynamodb_endpoint,
                region: region.clone(),
                credentials: credentials.clone(),
                service: dynamodb::SERVICE,
            },
            cloudwatch: aws::Client {
                endpoint: cloudwatch_endpoint,
                region: region.clone(),
                credentials: credentials.clone(),
                service: cloudwatch::SERVICE,
            },
            metric_graph,
            mute_cloudwatch,
            storm_threshold,
            storm_window,
            slack_pace,
            slack_api_url,
            incident_table,
            secrets_manager: aws::Client {
                endpoint,
                region,
                credentials,
                service: secrets_manager::SERVICE,
            },
            secret_ttl,
            secret_max_stale,
            message_format,
            slack_preconnect,
        })
    }
}

/// `SLACK_PRECONNECT`: an origin (`https://host[:port]`, `http://` for loopback only), or
/// `off`. Its default is hooks.slack.com: every real incoming webhook is there, so a
/// connection can be opened while the secret that names it is being fetched.
fn preconnect(env: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, Error> {
    let setting = &settings::SLACK_PRECONNECT;
    let value = or_default(env, setting);
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match Url::parse(&value) {
        Some(url) if matches!(url.rest, "" | "/") && (url.https || url.is_loopback()) => {
            Ok(Some(value.trim_end_matches('/').to_string()))
        }
        _ => Err(Error::config(setting.name(), setting.rule())),
    }
}

/// Whole seconds within the table's range: a bound keeps `Instant` arithmetic from
/// overflowing.
fn seconds(
    env: &impl Fn(&str) -> Option<String>,
    setting: &'static Setting,
) -> Result<Duration, Error> {
    let Value::Seconds { default, max } = setting.value else {
        // Only a table mistake gets here; the unit tests read every setting of config.
        return Err(Error::config(
            setting.name(),
            "is not seconds in src/settings.rs",
        ));
    };
    match setting.read(env) {
        None => Ok(Duration::from_secs(default)),
        Some((_, v)) => match v.parse::<u64>() {
            Ok(secs) if secs <= max => Ok(Duration::from_secs(secs)),
            _ => Err(Error::config(setting.name(), setting.rule())),
        },
    }
}

fn count(env: &impl Fn(&str) -> Option<String>, setting: &'static Setting) -> Result<u64, Error> {
    let Value::Count { default, max } = setting.value else {
        return Err(Error::config(
            setting.name(),
            "is not a count in src/settings.rs",
        ));
    };
    match setting.read(env) {
        None => Ok(default),
        Some((_, v)) => match v.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Error::config(setting.name(), setting.rule())),
        },
    }
}

/// `MESSAGE_FORMAT`: `card` (the default) or `text`, the seed's one line.
pub fn message_format(env: &impl Fn(&str) -> Option<String>) -> Result<MessageFormat, Error> {
    let setting = &settings::MESSAGE_FORMAT;
    MessageFormat::parse(&or_default(env, setting))
        .ok_or_else(|| Error::config(setting.name(), setting.rule()))
}

fn credentials(env: &impl Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
    let required = |setting: &'static Setting| {
        setting.read(env).map(|(_, v)| v).ok_or_else(|| {
            Error::config(
                setting.name(),
                "is not set; Lambda sets it from the execution role, elsewhere export the \
                 credentials of a principal allowed secretsmanager:GetSecretValue (and the \
                 DynamoDB and CloudWatch actions INCIDENT_TABLE and METRIC_GRAPH need)",
            )
        })
    };
    let key = required(&settings::AWS_ACCESS_KEY_ID)?;
    let secret = required(&settings::AWS_SECRET_ACCESS_KEY)?;
    let token = settings::AWS_SESSION_TOKEN.read(env).map(|(_, v)| v);
    // Peers' answers are cleaned of them before they are logged or returned.
    for credential in [Some(&key), Some(&secret), token.as_ref()]
        .into_iter()
        .flatten()
    {
        crate::text::register_credential(credential);
    }
    Ok(Credentials::new(key, secret, token, None, "environment"))
}

/// `SLACK_API_URL`: the Web API base (`https://slack-gov.com/api/` for GovSlack).
fn slack_api_url(env: &impl Fn(&str) -> Option<String>) -> Result<String, Error> {
    let setting = &settings::SLACK_API_URL;
    let url = or_default(env, setting);
    match Url::parse(&url) {
        Some(parsed)
            if (parsed.https || parsed.is_loopback()) && !parsed.rest.contains(['?', '#']) =>
        {
            Ok(if url.ends_with('/') {
                url
            } else {
                format!("{url}/")
            })
        }
        _ => Err(Error::config(setting.name(), setting.rule())),
    }
}

/// `INCIDENT_TABLE`: DynamoDB's rule for table names, with the table's bounds.
fn incident_table(env: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, Error> {
    let setting = &settings::INCIDENT_TABLE;
    let Some((_, table)) = setting.read(env) else {
        return Ok(None);
    };
    let valid = match setting.value {
        Value::Name {
            min,
            max,
            punctuation,
            ..
        } => {
            (min..=max).contains(&table.len())
                && table
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || punctuation.contains(c))
        }
        _ => false,
    };
    if !valid {
        return Err(Error::config(
            setting.name(),
            format!(
                "must be the name of a DynamoDB table whose only key is the string partition \
                 key `alarm`: {}",
                settings::plain(&setting.accepts_text())
            ),
        ));
    }
    Ok(Some(table))
}

/// The value set, else the table's default.
fn or_default(env: &impl Fn(&str) -> Option<String>, setting: &Setting) -> String {
    match setting.read(env) {
        Some((_, value)) => value,
        None => setting.default_value().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::env_of;

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
        let sm = &c.secrets_manager;
        assert_eq!(
            (sm.region.as_str(), sm.service),
            ("eu-west-1", "secretsmanager")
        );
        assert_eq!(
            sm.endpoint.url,
            "https://secretsmanager.eu-west-1.amazonaws.com/"
        );
        assert_eq!(sm.endpoint.host, "secretsmanager.eu-west-1.amazonaws.com");
        assert_eq!(c.secret_ttl, Duration::from_secs(300));
        assert_eq!(c.secret_max_stale, Duration::from_secs(3600));
        assert_eq!(sm.credentials.session_token(), Some("TOKEN"));
        assert_eq!(
            c.dynamodb.endpoint.url,
            "https://dynamodb.eu-west-1.amazonaws.com/"
        );
        assert_eq!(c.slack_api_url, "https://slack.com/api/");
        assert_eq!(c.incident_table, None);
        assert_eq!(c.metric_graph, GraphMode::Off);
        assert_eq!(
            (c.cloudwatch.endpoint.url.as_str(), c.cloudwatch.service),
            ("https://monitoring.eu-west-1.amazonaws.com/", "monitoring")
        );
    }

    #[test]
    fn metric_graph_is_checked_and_cloudwatch_has_its_endpoint() {
        let c = Config::from_env(with(&[
            ("METRIC_GRAPH", "image"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:4566"),
        ]))
        .expect("valid");
        assert_eq!(c.metric_graph, GraphMode::Image);
        assert_eq!(c.cloudwatch.endpoint.url, "http://127.0.0.1:4566/");
        assert_eq!(c.dynamodb.endpoint.url, "http://127.0.0.1:5000/");
        let bad = Config::from_env(with(&[("METRIC_GRAPH", "png")]));
        assert!(matches!(
            bad,
            Err(Error::Config {
                var: "METRIC_GRAPH",
                ..
            })
        ));
    }

    #[test]
    fn the_preconnect_origin_is_hooks_slack_com_unless_set() {
        let c = Config::from_env(env_of(LAMBDA)).expect("valid config");
        assert_eq!(
            c.slack_preconnect.as_deref(),
            Some("https://hooks.slack.com")
        );
        let off = preconnect(&env_of(&[("SLACK_PRECONNECT", "OFF")])).expect("off");
        assert_eq!(off, None);
        let local = preconnect(&env_of(&[("SLACK_PRECONNECT", "http://127.0.0.1:9/")]));
        assert_eq!(
            local.expect("loopback").as_deref(),
            Some("http://127.0.0.1:9")
        );
        const BAD: [&[(&str, &str)]; 3] = [
            &[(
                "SLACK_PRECONNECT",
                "https://hooks.slack.com/services/T0/B0/X",
            )],
            &[("SLACK_PRECONNECT", "http://hooks.slack.com")],
            &[("SLACK_PRECONNECT", "hooks.slack.com")],
        ];
        for bad in BAD {
            let err = preconnect(&env_of(bad)).expect_err(bad[0].1);
            assert!(err.to_string().contains("SLACK_PRECONNECT"), "{err}");
        }
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
        for bad in [
            "https://localhost:9000/.rt",
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
        // The rest of the endpoint rules: src/aws/endpoint.rs.
        let off = Config::from_env(with(&[
            ("AWS_ENDPOINT_URL", "http://other:1"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "FALSE"),
        ]));
        assert_eq!(off.expect("valid").secrets_manager.endpoint.host, "other:1");
    }

    #[test]
    fn app_mode_settings_are_checked() {
        let c = Config::from_env(with(&[
            ("SLACK_API_URL", "https://slack-gov.com/api"),
            ("INCIDENT_TABLE", "alarm-incidents"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .expect("valid");
        assert_eq!(c.slack_api_url, "https://slack-gov.com/api/");
        assert_eq!(c.incident_table.as_deref(), Some("alarm-incidents"));
        assert_eq!(c.dynamodb.endpoint.url, "http://127.0.0.1:5000/");
        assert_eq!(c.dynamodb.service, "dynamodb");
        for (name, value) in [
            ("INCIDENT_TABLE", "no spaces allowed"),
            ("INCIDENT_TABLE", "ab"),
            ("SLACK_API_URL", "http://slack.com/api/"),
            ("SLACK_API_URL", "slack.com/api"),
        ] {
            let env = move |n: &str| {
                if n == name {
                    return Some(value.to_string());
                }
                LAMBDA
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            };
            assert!(
                matches!(Config::from_env(env), Err(Error::Config { var, .. }) if var == name),
                "{name}={value}"
            );
        }
    }

    /// Every name the configuration asks the environment for.
    fn asked(env: impl Fn(&str) -> Option<String>) -> Vec<String> {
        let names = std::cell::RefCell::new(Vec::new());
        let recording = |name: &str| {
            names.borrow_mut().push(name.to_string());
            env(name)
        };
        let _ = runtime_api(recording);
        let _ = logging(recording);
        let _ = Config::from_env(recording);
        names.into_inner()
    }

    #[test]
    fn every_variable_read_is_in_the_reference() {
        let mut read = asked(env_of(LAMBDA));
        // The alternative names are asked only when the first is unset.
        read.extend(asked(env_of(&[
            ("SECRET_ID", "x"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
        ])));
        assert!(
            read.iter().any(|n| n == "SECRET_TTL_SECONDS") && read.iter().any(|n| n == "SecretId")
        );
        let documented: Vec<&str> = settings::SETTINGS
            .iter()
            .filter(|s| s.place == settings::Place::Env)
            .flat_map(|s| s.names.iter().copied())
            .collect();
        for name in &read {
            assert!(
                documented.contains(&name.as_str()),
                "{name} is read but not in src/settings.rs"
            );
        }
        // And the other way: nothing in the reference that is never read.
        for name in documented {
            assert!(
                read.iter().any(|n| n == name),
                "{name} is in src/settings.rs but never read"
            );
        }
    }

    #[test]
    fn the_tables_words_are_what_the_parsers_accept() {
        use settings::{
            AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL,
            MESSAGE_FORMAT, METRIC_GRAPH,
        };
        let words = |s: &Setting| match s.value {
            Value::Word { words, .. } => words,
            _ => panic!("{} takes no words", s.name()),
        };
        for word in words(&METRIC_GRAPH) {
            assert!(GraphMode::parse(word).is_some(), "{word}");
        }
        for word in words(&MESSAGE_FORMAT) {
            assert!(MessageFormat::parse(word).is_some(), "{word}");
        }
        for word in words(&AWS_LAMBDA_LOG_LEVEL) {
            assert!(Level::parse(word).is_some(), "{word}");
        }
        for (setting, value) in [
            (&AWS_LAMBDA_LOG_FORMAT, "AWS_LAMBDA_LOG_FORMAT"),
            (
                &AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
            ),
            (&settings::MUTE_CLOUDWATCH, "MUTE_CLOUDWATCH"),
        ] {
            for word in words(setting) {
                let env = move |n: &str| {
                    if n == value {
                        return Some(word.to_string());
                    }
                    LAMBDA
                        .iter()
                        .find(|(k, _)| *k == n)
                        .map(|(_, v)| v.to_string())
                };
                assert!(Config::from_env(env).is_ok(), "{value}={word}");
            }
        }
        // The defaults the table names are the ones the code falls back to.
        assert_eq!(logging(env_of(&[])), log::Settings::default());
        assert_eq!(
            message_format(&env_of(&[])).expect("default"),
            MessageFormat::Card
        );
    }
}
