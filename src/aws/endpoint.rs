//! Where an AWS service is reached: the endpoint the environment names, else the
//! regional one of the region's partition.

use super::partition;
use crate::http::url::Url;

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
        let host = format!("{prefix}.{region}.{}", partition::dns_suffix(region));
        Endpoint {
            url: format!("https://{host}/"),
            host,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
