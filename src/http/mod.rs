//! The one HTTP agent, and HTTP errors rendered by us.
//!
//! ureq's own `Display` for an error can carry the request URL, and a Slack
//! webhook URL is a credential, so nothing here ever prints a URL.

mod connect;
mod deadline;
mod dns;
mod retry;
mod socket;
mod tls;
pub mod url;

pub use connect::Preconnect;
pub use deadline::Deadline;
pub use retry::{is_dropped, retry, Failure, Peer};
pub use socket::is_idle;

use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// Per connection and direction; also the largest response header section accepted.
const IO_BUFFER: usize = 16 * 1024;

/// How long an idle connection is kept for reuse. A server that closes one earlier says so
/// with a FIN (or TLS close_notify), which the liveness probe before each reuse sees at no
/// cost: Application Load Balancers close after 60 s by default
/// (docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html),
/// and some AWS APIs well before 90 s (aws/aws-sdk-go-v2#3423). What the probe cannot see is
/// a path that forgets the connection silently: a NAT gateway drops a flow idle for 350 s
/// and answers the next packet with a RST (docs.aws.amazon.com/vpc/latest/userguide/
/// nat-gateway-troubleshooting.html, quoted in aws/aws-sdk-js-v3#3624), as does Network
/// Firewall's default `TcpIdleTimeoutSeconds` of 350, and a Lambda function in a VPC reaches
/// Slack through one. Slack publishes no keep-alive limit for hooks.slack.com. So: just
/// under 350 s, where ureq's default of 15 s dropped every connection between alarms a
/// quarter of a minute apart.
const MAX_IDLE: Duration = Duration::from_secs(340);

/// The one agent, and the handle that opens connections ahead of need through it (aimed
/// at nowhere until its owner aims it).
pub fn agent() -> (ureq::Agent, Preconnect) {
    agent_trusting(RootCerts::WebPki)
}

/// The agent, trusting `roots`: the compiled-in Mozilla roots, or a test root.
fn agent_trusting(roots: RootCerts) -> (ureq::Agent, Preconnect) {
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
        .max_idle_age(MAX_IDLE)
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(roots)
                .unversioned_rustls_crypto_provider(Arc::new(tls::crypto()))
                .build(),
        )
        .build();
    let (connector, resolver, preconnect) = connect::parts(MAX_IDLE);
    (
        ureq::Agent::with_parts(config, connector, resolver),
        preconnect,
    )
}

/// A transport failure in words that are safe to log: the host it concerns (never a
/// URL, whose path can be a credential) and what went wrong.
pub fn describe(err: &ureq::Error, host: &str) -> String {
    use ureq::Error as E;
    match err {
        E::Timeout(_) => "timed out".to_string(),
        E::HostNotFound => format!("no address for {host} (DNS)"),
        E::ConnectionFailed => format!("cannot connect to {host}"),
        E::Io(e) => match rustls_error(e) {
            Some(tls) => tls_words(tls, host),
            // std's getaddrinfo failure has no ErrorKind of its own.
            None if e.to_string().starts_with("failed to lookup address") => {
                format!("no address for {host} (DNS)")
            }
            None => format!("network error with {host}: {}", e.kind()),
        },
        E::Rustls(tls) => tls_words(tls, host),
        E::Tls(why) => format!("TLS with {host} failed: {why}"),
        E::Protocol(_) => format!("the HTTP response from {host} is malformed"),
        E::BadUri(_) | E::Http(_) => "the URL is not valid".to_string(),
        E::RedirectFailed | E::TooManyRedirects => format!("{host} redirected"),
        E::BodyExceedsLimit(_) => format!("the response from {host} is too large"),
        E::StatusCode(status) => format!("HTTP {status}"),
        _ => "HTTP request failed".to_string(),
    }
}

/// rustls reports through the socket's reads and writes, as an `InvalidData` I/O error.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

fn tls_words(err: &rustls::Error, host: &str) -> String {
    match err {
        rustls::Error::InvalidCertificate(why) => {
            format!("certificate not trusted for {host}: {why:?}")
        }
        other => format!("TLS with {host} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_never_echoes_a_url() {
        let url = "https://hooks.slack.com/services/T1/B2/secret".to_string();
        let text = describe(&ureq::Error::BadUri(url), "hooks.slack.com");
        assert!(
            !text.contains("secret") && !text.contains("/services"),
            "{text}"
        );
    }

    #[test]
    fn tls_and_dns_failures_name_the_host_and_the_cause() {
        use rustls::CertificateError;
        use std::io::{Error as IoError, ErrorKind};
        let untrusted = ureq::Error::Io(IoError::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        ));
        assert_eq!(
            describe(&untrusted, "hooks.example.com"),
            "certificate not trusted for hooks.example.com: UnknownIssuer"
        );
        let dns = ureq::Error::Io(IoError::other(
            "failed to lookup address information: Name or service not known",
        ));
        assert_eq!(
            describe(&dns, "nowhere.invalid"),
            "no address for nowhere.invalid (DNS)"
        );
        let reset = ureq::Error::Io(IoError::from(ErrorKind::ConnectionReset));
        assert_eq!(
            describe(&reset, "127.0.0.1:9001"),
            "network error with 127.0.0.1:9001: connection reset"
        );
    }
}
