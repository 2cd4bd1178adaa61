//! The one HTTP agent, and HTTP errors rendered by us.
//!
//! ureq's own `Display` for an error can carry the request URL, and a Slack
//! webhook URL is a credential, so nothing here ever prints a URL.

mod deadline;
mod dns;
mod retry;
mod tls;
pub mod url;

pub use deadline::Deadline;
pub use retry::{retry, transport_failure, Failure};

use std::sync::Arc;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::DefaultConnector;

/// Per connection and direction; also the largest response header section accepted.
const IO_BUFFER: usize = 16 * 1024;

pub fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        // Non-2xx answers carry the reason (Slack's `no_service`, AWS's `__type`): read them.
        .http_status_as_error(false)
        // A webhook or AWS endpoint that redirects is misconfigured; say so rather than follow.
        .max_redirects(0)
        .user_agent(concat!("alarm-to-slack/", env!("CARGO_PKG_VERSION")))
        // ureq zero-fills a 128 KiB input and a 128 KiB output buffer for every
        // connection. Our requests are a few KiB and the answers' headers well under
        // 16 KiB (bodies stream through), so smaller buffers save start-up work and RSS.
        .input_buffer_size(IO_BUFFER)
        .output_buffer_size(IO_BUFFER)
        .max_response_header_size(IO_BUFFER)
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(RootCerts::WebPki)
                .unversioned_rustls_crypto_provider(Arc::new(tls::crypto()))
                .build(),
        )
        .build();
    ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        dns::RecentAddrs::<DefaultResolver>::default(),
    )
}

/// A transport failure in words that are safe to log: no URL, no body.
pub fn describe(err: &ureq::Error) -> String {
    use ureq::Error as E;
    match err {
        E::Timeout(_) => "timed out".to_string(),
        E::HostNotFound => "host not found (DNS)".to_string(),
        E::ConnectionFailed => "connection failed".to_string(),
        E::Io(e) => format!("network error: {}", e.kind()),
        E::Tls(why) => format!("TLS error: {why}"),
        E::Rustls(e) => format!("TLS error: {e}"),
        E::Protocol(_) => "the server's HTTP response is malformed".to_string(),
        E::BadUri(_) | E::Http(_) => "the URL is not valid".to_string(),
        E::RedirectFailed | E::TooManyRedirects => "the server redirected".to_string(),
        E::BodyExceedsLimit(_) => "the response is too large".to_string(),
        E::StatusCode(status) => format!("HTTP {status}"),
        _ => "HTTP request failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_never_echoes_a_url() {
        let url = "https://hooks.slack.com/services/T1/B2/secret".to_string();
        let text = describe(&ureq::Error::BadUri(url));
        assert!(
            !text.contains("secret") && !text.contains("hooks"),
            "{text}"
        );
    }
}
