//! The one check of a URL we are given: the Runtime API's address, an AWS endpoint and
//! a Slack webhook all go through it. Parsing is `http::Uri`'s, which ureq parses every
//! request URL with anyway.

use ureq::http::Uri;

/// An absolute `http://` or `https://` URL without user info, split where we need it.
#[derive(Debug, PartialEq)]
pub struct Url<'a> {
    pub https: bool,
    /// `host` or `host:port`, as written.
    pub authority: &'a str,
    /// Everything after the authority: path, query and fragment, as written (may be empty).
    pub rest: &'a str,
}

impl<'a> Url<'a> {
    pub fn parse(url: &'a str) -> Option<Url<'a>> {
        let (https, after) = if let Some(after) = url.strip_prefix("https://") {
            (true, after)
        } else {
            (false, url.strip_prefix("http://")?)
        };
        // `Uri` takes no fragment, and a webhook or endpoint has no use for one.
        let (without_fragment, _) = url.split_once('#').unwrap_or((url, ""));
        let uri: Uri = without_fragment.parse().ok()?;
        let parsed = uri.authority()?.as_str();
        let authority = after.get(..parsed.len()).filter(|a| *a == parsed)?;
        let port_ok = match authority.rsplit_once(':') {
            // `[::1]` has no port; `[::1]:80` and `host:80` have one, all digits.
            Some((host, port)) if !authority.ends_with(']') => {
                !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
            }
            _ => true,
        };
        let valid = !authority.is_empty()
            && !authority.contains('@')
            && port_ok
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then(|| Url {
            https,
            authority,
            rest: &after[authority.len()..],
        })
    }

    /// The host without port or brackets.
    pub fn host(&self) -> &'a str {
        match self.authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.authority.split(':').next().unwrap_or(""),
        }
    }

    /// `localhost`, `127.x.x.x` or `[::1]`: where plain http is acceptable.
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host.eq_ignore_ascii_case("localhost")
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Length of `scheme://authority`: the only part of a credential URL safe to show.
    pub fn origin_len(&self) -> usize {
        let scheme = if self.https { "https://" } else { "http://" };
        scheme.len() + self.authority.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_authority_and_rest() {
        let u = Url::parse("https://hooks.slack.com/services/T/B/x?y#z").expect("url");
        assert_eq!(
            u,
            Url {
                https: true,
                authority: "hooks.slack.com",
                rest: "/services/T/B/x?y#z"
            }
        );
        assert_eq!(u.origin_len(), "https://hooks.slack.com".len());
        let v6 = Url::parse("http://[::]:9000/.rt/bootstrap").expect("v6");
        assert_eq!(
            (v6.authority, v6.rest, v6.host()),
            ("[::]:9000", "/.rt/bootstrap", "::")
        );
        let bare = Url::parse("http://127.0.0.1:4566").expect("no path");
        assert_eq!((bare.authority, bare.rest), ("127.0.0.1:4566", ""));
    }

    #[test]
    fn refuses_what_is_not_a_plain_http_url() {
        for bad in [
            "",
            "ftp://a/b",
            "localhost:4566",
            "http://",
            "http:///x",
            "http://http://a",
            "http://user:pw@host/x",
            "http://host:/x",
            "http://host:8o/x",
            "http://:80/x",
            "https://hooks.slack.com/a b",
            "https://hooks.slack.com/a\u{7}",
        ] {
            assert_eq!(Url::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:80/x",
        ] {
            assert!(Url::parse(ok).expect(ok).is_loopback(), "{ok}");
        }
        let evil = Url::parse("http://127.0.0.1.evil.com/x").expect("url");
        assert!(!evil.is_loopback());
    }
}
