//! Configuration, read once at start-up from the environment Lambda gives us.
//! Every problem names the variable and says how to fix it, because the only
//! place a user sees it is the init error of their first invocation.

use crate::aws::{self, cloudwatch, dynamodb, partition, secrets_manager, Endpoint};
use crate::error::Error;
use crate::graph::Mode as GraphMode;
use crate::http::url::Url;
use crate::log::{self, Format, Level};
use crate::slack::message::Format as MessageFormat;
use aws_credential_types::Credentials;
use std::time::Duration;

const DEFAULT_SECRET_TTL: u64 = 300;
const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api/";
const DEFAULT_SECRET_MAX_STALE: u64 = 3600;

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
    /// Where to open a connection while the secret is fetched: the webhook's origin, guessed.
    pub slack_preconnect: Option<String>,
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
    let url = if api.starts_with("http://") || api.starts_with("https://") {
        api.to_string()
    } else {
        format!("http://{api}")
    };
    match Url::parse(&url) {
        Some(parsed) if !parsed.rest.contains(['?', '#']) => Ok(format!("{url}/2018-06-01")),
        _ => Err(Error::config(
            "AWS_LAMBDA_RUNTIME_API",
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
        if !partition::is_code(&region) {
            return Err(Error::config(
                region_var,
                "is not a region code; use one like us-east-1",
            ));
        }

        let message_format = message_format(&env)?;
        let credentials = credentials(&env)?;
        let endpoint = endpoint(
            &env,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            secrets_manager::SERVICE,
            &region,
        )?;
        let dynamodb_endpoint = self::endpoint(
            &env,
            "AWS_ENDPOINT_URL_DYNAMODB",
            dynamodb::SERVICE,
            &region,
        )?;
        let cloudwatch_endpoint = self::endpoint(
            &env,
            "AWS_ENDPOINT_URL_CLOUDWATCH",
            cloudwatch::SERVICE,
            &region,
        )?;
        let metric_graph = match var(&env, "METRIC_GRAPH") {
            None => GraphMode::Off,
            Some(value) => GraphMode::parse(&value).ok_or_else(|| {
                Error::config(
                    "METRIC_GRAPH",
                    "must be off (the default), sparkline (a card field with the metric's \
                     recent values) or image (also the graph as a PNG, in app mode)",
                )
            })?,
        };
        let slack_api_url = slack_api_url(&env)?;
        let incident_table = match var(&env, "INCIDENT_TABLE") {
            None => None,
            Some(table) if is_table_name(&table) => Some(table),
            Some(_) => {
                return Err(Error::config(
                    "INCIDENT_TABLE",
                    "must be a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _ - .) whose only \
                     key is the string partition key `alarm`",
                ))
            }
        };

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

/// Every real incoming webhook is on hooks.slack.com, so a connection there can be opened
/// while the secret that names it is being fetched.
const DEFAULT_PRECONNECT: &str = "https://hooks.slack.com";

/// `SLACK_PRECONNECT`: an origin (`https://host[:port]`, `http://` for loopback only), or
/// `off`.
fn preconnect(env: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, Error> {
    let value = var(env, "SLACK_PRECONNECT").unwrap_or_else(|| DEFAULT_PRECONNECT.to_string());
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match Url::parse(&value) {
        Some(url) if matches!(url.rest, "" | "/") && (url.https || url.is_loopback()) => {
            Ok(Some(value.trim_end_matches('/').to_string()))
        }
        _ => Err(Error::config(
            "SLACK_PRECONNECT",
            "must be an origin such as https://hooks.slack.com (scheme and host, no path), \
             or off",
        )),
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
    let url = var(env, "SLACK_API_URL").unwrap_or_else(|| DEFAULT_SLACK_API_URL.to_string());
    match Url::parse(&url) {
        Some(parsed) if (parsed.https || parsed.is_loopback()) && !parsed.rest.contains(['?', '#']) => {
            Ok(if url.ends_with('/') { url } else { format!("{url}/") })
        }
        _ => Err(Error::config(
            "SLACK_API_URL",
            "must be an https:// URL such as https://slack.com/api/ (http:// only for a local test host)",
        )),
    }
}

/// DynamoDB's rule for table names.
fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A service's endpoint as the AWS SDKs find it: `AWS_ENDPOINT_URL_<SERVICE>`, then
/// `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`; else the regional one.
fn endpoint(
    env: &impl Fn(&str) -> Option<String>,
    service_var: &'static str,
    service: &str,
    region: &str,
) -> Result<Endpoint, Error> {
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
        [service_var, "AWS_ENDPOINT_URL"]
            .into_iter()
            .find_map(|name| var(env, name).map(|v| (name, v)))
    };
    match configured {
        Some((name, url)) => Endpoint::parse(&url).ok_or_else(|| {
            Error::config(
                name,
                format!(
                    "must be an http:// or https:// URL such as {}",
                    Endpoint::regional(service, "us-east-1")
                        .url
                        .trim_end_matches('/')
                ),
            )
        }),
        None => Ok(Endpoint::regional(service, region)),
    }
}

/// An empty variable counts as unset: the Lambda console makes them easily.
fn var(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
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

    fn sm_endpoint(env: &impl Fn(&str) -> Option<String>, region: &str) -> Result<Endpoint, Error> {
        endpoint(
            env,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            "secretsmanager",
            region,
        )
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
    fn china_regions_use_their_own_domain() {
        let e = sm_endpoint(&env_of(&[]), "cn-north-1").expect("endpoint");
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
        let e = sm_endpoint(
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
        let ignored = sm_endpoint(
            &env_of(&[
                ("AWS_ENDPOINT_URL", "http://other:1"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ]),
            "us-east-1",
        )
        .expect("endpoint");
        assert_eq!(ignored.host, "secretsmanager.us-east-1.amazonaws.com");
        let bad = sm_endpoint(
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
        let off = sm_endpoint(
            &env_of(&[
                ("AWS_ENDPOINT_URL", "http://other:1"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "FALSE"),
            ]),
            "us-east-1",
        );
        assert_eq!(off.expect("endpoint").host, "other:1");
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
}
