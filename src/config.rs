//! Configuration, read once at start-up from the environment Lambda gives us.
//! Every problem names the variable and says how to fix it, because the only
//! place a user sees it is the init error of their first invocation.

use crate::error::Error;
use crate::message::Format;
use aws_credential_types::Credentials;
use std::time::Duration;

const DEFAULT_SECRET_TTL: u64 = 300;

pub struct Config {
    pub secret_id: String,
    pub region: String,
    pub credentials: Credentials,
    pub endpoint: Endpoint,
    pub secret_ttl: Duration,
    pub message_format: Format,
}

/// Where Secrets Manager is reached. `host` is sent and signed as the `Host` header.
#[derive(Debug, PartialEq)]
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
             Runtime API emulator (`make demo`)",
        )
    })?;
    // Emulators such as cargo-lambda serve the API under a path prefix: `127.0.0.1:9000/.rt`.
    let api = api.trim_end_matches('/');
    if api.contains("://") || api.chars().any(char::is_whitespace) {
        return Err(Error::config(
            "AWS_LAMBDA_RUNTIME_API",
            "must be host:port with an optional path, without a scheme",
        ));
    }
    Ok(format!("http://{api}/2018-06-01"))
}

impl Config {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
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

        let secret_ttl = match var(&env, "SECRET_TTL_SECONDS") {
            None => DEFAULT_SECRET_TTL,
            Some(v) => v.parse::<u64>().map_err(|_| {
                Error::config(
                    "SECRET_TTL_SECONDS",
                    "must be a whole number of seconds (0 disables the cache); default 300",
                )
            })?,
        };

        Ok(Config {
            secret_id,
            region,
            credentials,
            endpoint,
            secret_ttl: Duration::from_secs(secret_ttl),
            message_format,
        })
    }
}

/// `MESSAGE_FORMAT`: `card` (the default) or `text`, the seed's one line.
pub fn message_format(env: &impl Fn(&str) -> Option<String>) -> Result<Format, Error> {
    match var(env, "MESSAGE_FORMAT") {
        None => Ok(Format::Card),
        Some(value) => Format::parse(&value).ok_or_else(|| {
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
    let ignore = var(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
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
        assert_eq!(message_format(&env_of(&[])).expect("default"), Format::Card);
        let text = message_format(&env_of(&[("MESSAGE_FORMAT", "text")]));
        assert_eq!(text.expect("text"), Format::Text);
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
}
