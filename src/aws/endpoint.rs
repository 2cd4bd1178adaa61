//! Where an AWS service is reached: the endpoint the environment names, else the
//! regional one of the region's partition.

use crate::error::Error;
use crate::http::url::Url;
use crate::region;
use crate::settings::{self, Setting, Value};

/// `host` is sent and signed as the `Host` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub url: String,
    pub host: String,
}

impl Endpoint {
    /// A configured endpoint URL (`AWS_ENDPOINT_URL…`): http or https, a path at most.
    pub fn parse(url: &str) -> Option<Endpoint> {
        let parsed = Url::parse(url)?;
        if parsed.rest.contains(['?', '#']) {
            return None;
        }
        let path = if parsed.rest.is_empty() {
            "/"
        } else {
            parsed.rest
        };
        Some(Endpoint {
            url: format!("{}{path}", &url[..parsed.origin_len()]),
            host: parsed.authority.to_ascii_lowercase(),
        })
    }

    /// `https://{prefix}.{region}.amazonaws.com/`, or `.amazonaws.com.cn` in China.
    pub fn regional(prefix: &str, region: &str) -> Endpoint {
        let host = format!("{prefix}.{region}.{}", region::dns_suffix(region));
        Endpoint {
            url: format!("https://{host}/"),
            host,
        }
    }
}

/// A service's endpoint as the AWS SDKs find it: its own variable (`service`, such as
/// `AWS_ENDPOINT_URL_DYNAMODB`), then `AWS_ENDPOINT_URL`, unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`; else the regional one.
pub fn configured(
    env: &impl Fn(&str) -> Option<String>,
    service: &'static Setting,
    region: &str,
) -> Result<Endpoint, Error> {
    let Value::Endpoint(Some(prefix)) = service.value else {
        // Only a table mistake gets here; the unit tests read every endpoint setting.
        return Err(Error::config(
            service.name(),
            "is not a service endpoint in src/settings.rs",
        ));
    };
    let ignore = &settings::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    let ignore = match ignore.read(env) {
        None => false,
        Some((_, v)) if v.eq_ignore_ascii_case("true") => true,
        Some((_, v)) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(Error::config(ignore.name(), ignore.rule())),
    };
    let configured = if ignore {
        None
    } else {
        service
            .read(env)
            .or_else(|| settings::AWS_ENDPOINT_URL.read(env))
    };
    match configured {
        Some((name, url)) => Endpoint::parse(&url).ok_or_else(|| {
            Error::config(
                name,
                format!(
                    "must be an http:// or https:// URL such as {}",
                    Endpoint::regional(prefix, "us-east-1")
                        .url
                        .trim_end_matches('/')
                ),
            )
        }),
        None => Ok(Endpoint::regional(prefix, region)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::env_of;

    fn sm_endpoint(env: &impl Fn(&str) -> Option<String>, region: &str) -> Result<Endpoint, Error> {
        configured(env, &settings::AWS_ENDPOINT_URL_SECRETS_MANAGER, region)
    }

    #[test]
    fn china_regions_use_their_own_domain() {
        let e = sm_endpoint(&env_of(&[]), "cn-north-1").expect("endpoint");
        assert_eq!(e.host, "secretsmanager.cn-north-1.amazonaws.com.cn");
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
    fn ignore_endpoint_flag_is_true_or_false() {
        let bad = sm_endpoint(
            &env_of(&[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes")]),
            "us-east-1",
        );
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
    fn every_service_endpoint_setting_has_a_regional_default() {
        for s in settings::SETTINGS {
            if let Value::Endpoint(Some(_)) = s.value {
                let e = configured(&env_of(&[]), s, "eu-west-1")
                    .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
                assert!(e.url.ends_with(".eu-west-1.amazonaws.com/"), "{}", e.url);
            }
        }
    }

    #[test]
    fn configured_urls_keep_their_path() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:4566"),
            Some(Endpoint {
                url: "http://127.0.0.1:4566/".into(),
                host: "127.0.0.1:4566".into()
            })
        );
        let vpce = Endpoint::parse("https://VPCE-1.secretsmanager.us-east-1.vpce.amazonaws.com/x/")
            .expect("endpoint");
        assert_eq!(
            vpce.host,
            "vpce-1.secretsmanager.us-east-1.vpce.amazonaws.com"
        );
        assert!(vpce.url.ends_with(".com/x/"));
        for bad in ["localhost:4566", "http://a/?x=1", "http://a/#f", "ftp://a/"] {
            assert_eq!(Endpoint::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn regional_endpoints_follow_the_partition() {
        let e = Endpoint::regional("secretsmanager", "cn-north-1");
        assert_eq!(e.host, "secretsmanager.cn-north-1.amazonaws.com.cn");
        assert_eq!(e.url, "https://secretsmanager.cn-north-1.amazonaws.com.cn/");
        let e = Endpoint::regional("secretsmanager", "eu-west-1");
        assert_eq!(e.url, "https://secretsmanager.eu-west-1.amazonaws.com/");
    }
}
