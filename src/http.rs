//! The one HTTP agent with its TLS set-up, the invocation's deadline, and HTTP
//! errors rendered by us.
//!
//! ureq's own `Display` for an error can carry the request URL, and a Slack
//! webhook URL is a credential, so nothing here ever prints a URL.

use crate::error::Error;
use rustls::crypto::{ring as suites, CryptoProvider, KeyProvider, SecureRandom};
use rustls::crypto::{GetRandomFailed, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use webpki::ring as sig;

/// Time kept back from every deadline so that a failure can still be reported
/// to the Runtime API before Lambda stops the sandbox.
const SAFETY_MARGIN: Duration = Duration::from_millis(200);
/// Below this, a network call has no real chance; fail fast instead.
const MIN_BUDGET: Duration = Duration::from_millis(20);
/// One attempt may not eat the whole invocation: leave room to try again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call for 5xx answers and network errors (the AWS SDKs' standard mode).
const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// Per connection and direction; also the largest response header section accepted.
const IO_BUFFER: usize = 16 * 1024;
/// How long a host's addresses are used before DNS is asked again.
const DNS_TTL: Duration = Duration::from_secs(30);
/// Hosts remembered: the Runtime API, Secrets Manager and the webhook, with room to spare.
const DNS_HOSTS: usize = 8;

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
                .unversioned_rustls_crypto_provider(Arc::new(crypto()))
                .build(),
        )
        .build();
    ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        RecentAddrs::<DefaultResolver>::default(),
    )
}

/// Reuses a host's resolved addresses for [`DNS_TTL`].
///
/// ureq resolves the host before it looks for a pooled connection, and when the
/// request has a timeout it resolves on a new thread: without this every warm
/// Slack post would pay a thread and a DNS round trip for a connection it
/// already holds. Failures are not remembered.
#[derive(Debug, Default)]
struct RecentAddrs<R> {
    inner: R,
    seen: Mutex<Vec<(String, Instant, ResolvedSocketAddrs)>>,
}

impl<R: Resolver> Resolver for RecentAddrs<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let key = format!("{scheme}://{authority}");
        self.lookup(key, Instant::now(), || {
            self.inner.resolve(uri, config, timeout)
        })
    }
}

impl<R> RecentAddrs<R> {
    fn lookup(
        &self,
        key: String,
        now: Instant,
        resolve: impl FnOnce() -> Result<ResolvedSocketAddrs, ureq::Error>,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let fresh = |at: Instant| now.saturating_duration_since(at) < DNS_TTL;
        {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, _, addrs)) = seen.iter().find(|(k, at, _)| *k == key && fresh(*at)) {
                return Ok(addrs.clone());
            }
        }
        // Not under the lock: a lookup can take as long as the request's timeout.
        let addrs = resolve()?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|(k, at, _)| *k != key && fresh(*at));
        if seen.len() >= DNS_HOSTS {
            seen.remove(0);
        }
        seen.push((key, now, addrs.clone()));
        Ok(addrs)
    }
}

/// The TLS algorithms we offer: what AWS service endpoints and hooks.slack.com
/// negotiate, and nothing the binary would carry for nobody.
///
/// - Versions: TLS 1.3 and 1.2. AWS endpoints require at least 1.2; Slack's
///   published list for its API and webhooks names only TLS 1.2 suites.
/// - Ciphers: AES-GCM only. TLS 1.3 makes TLS_AES_128_GCM_SHA256 mandatory
///   (RFC 8446 §9.1); for 1.2 Slack publishes ECDHE-RSA-AES128/256-GCM.
///   ChaCha20-Poly1305 only helps CPUs without AES instructions, and Lambda's
///   x86_64 and Graviton CPUs all have them.
/// - Key exchange: X25519, then P-256 (the group TLS 1.3 makes mandatory).
/// - Certificates: RSA (PKCS#1 and PSS) and ECDSA P-256/P-384: what public CAs,
///   Amazon Trust Services among them, sign with. No Ed25519: no public CA issues it.
/// - No client certificates, so no private-key code.
fn crypto() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            suites::cipher_suite::TLS13_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS13_AES_256_GCM_SHA384,
            suites::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            suites::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![suites::kx_group::X25519, suites::kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &Random,
        key_provider: &NoClientKeys,
    }
}

static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        sig::ECDSA_P256_SHA256,
        sig::ECDSA_P256_SHA384,
        sig::ECDSA_P384_SHA256,
        sig::ECDSA_P384_SHA384,
        sig::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        sig::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        sig::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        sig::RSA_PKCS1_2048_8192_SHA256,
        sig::RSA_PKCS1_2048_8192_SHA384,
        sig::RSA_PKCS1_2048_8192_SHA512,
    ],
    mapping: &[
        // In TLS 1.2 the scheme does not fix the curve; in TLS 1.3 it does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[sig::ECDSA_P384_SHA384, sig::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[sig::ECDSA_P256_SHA256, sig::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[sig::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[sig::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[sig::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[sig::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[sig::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[sig::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// The operating system's CSPRNG (getrandom), through ring.
#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| GetRandomFailed)
    }
}

/// We never present a client certificate; refusing keys keeps RSA/ECDSA
/// signing code out of the binary.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "client certificates are not supported".into(),
        ))
    }
}

/// When Lambda will stop this invocation.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    /// From `Lambda-Runtime-Deadline-Ms` (Unix epoch milliseconds), onto the
    /// monotonic clock so that later arithmetic cannot be fooled by clock steps.
    pub fn from_epoch_ms(deadline_ms: u64) -> Deadline {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Deadline(Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
    }

    #[cfg(test)]
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d)
    }

    /// The time a step may take, or `None` when too little is left for it.
    pub fn budget(&self) -> Option<Duration> {
        let left = self
            .0
            .saturating_duration_since(Instant::now())
            .saturating_sub(SAFETY_MARGIN);
        (left >= MIN_BUDGET).then_some(left)
    }

    /// Waits `wait` when that still leaves time for another attempt; `false` when it does not.
    pub fn sleep(&self, wait: Duration) -> bool {
        match self.budget() {
            Some(left) if left >= wait.saturating_add(MIN_BUDGET) => {
                std::thread::sleep(wait);
                true
            }
            _ => false,
        }
    }

    /// A request builder whose timeouts stop at this deadline, with room to retry.
    pub fn bound<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        step: &'static str,
    ) -> Result<ureq::RequestBuilder<B>, Error> {
        let left = self.budget().ok_or(Error::Timeout(step))?;
        Ok(request
            .config()
            .timeout_global(Some(left.min(ATTEMPT_TIMEOUT)))
            .timeout_connect(Some(left.min(CONNECT_TIMEOUT)))
            .build())
    }
}

/// What a failed attempt asks of [`retry`].
pub enum Failure {
    /// Trying again cannot help.
    Final(Error),
    /// Transient: try again after an exponential, jittered backoff.
    Backoff(Error),
    /// The peer named when to come back (HTTP 429 `Retry-After`).
    After(Duration, Error),
    /// The connection died before any answer: probably a pooled one the peer
    /// closed while Lambda froze us. One immediate retry on a fresh connection.
    Dropped(Error),
}

/// Runs `attempt` until it succeeds, a failure is final, [`MAX_ATTEMPTS`]
/// transient failures happened, or the deadline leaves no time to wait.
/// The error returned is the last real one, so the user sees the cause.
pub fn retry<T>(
    deadline: Deadline,
    mut attempt: impl FnMut() -> Result<T, Failure>,
) -> Result<T, Error> {
    // A thin generic shell: the loop below is compiled once, not once per caller.
    let mut value = None;
    let last = retry_loop(deadline, &mut || match attempt() {
        Ok(v) => {
            value = Some(v);
            None
        }
        Err(failure) => Some(failure),
    });
    value.ok_or(last)
}

/// The loop of [`retry`]; `attempt` returns `None` on success. The error is meaningful
/// only when no attempt succeeded.
fn retry_loop(deadline: Deadline, attempt: &mut dyn FnMut() -> Option<Failure>) -> Error {
    let mut failures = 0;
    let mut reconnected = false;
    loop {
        let Some(failure) = attempt() else {
            // Success: `retry` returns the value and drops this.
            return Error::Timeout("retry");
        };
        let wait = match &failure {
            Failure::Final(_) => return failure.into_error(),
            // 429s are not failures of ours: only the deadline bounds them.
            Failure::After(wait, _) => (*wait).max(backoff(failures)),
            Failure::Dropped(_) if !reconnected => {
                reconnected = true;
                failures += 1;
                Duration::ZERO
            }
            Failure::Backoff(_) | Failure::Dropped(_) => {
                failures += 1;
                backoff(failures)
            }
        };
        let err = failure.into_error();
        if failures >= MAX_ATTEMPTS || !deadline.sleep(wait) {
            return err;
        }
    }
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Final(e)
            | Failure::Backoff(e)
            | Failure::After(_, e)
            | Failure::Dropped(e) => e,
        }
    }
}

/// "Full jitter": a random wait up to an exponentially growing cap, so that
/// many sandboxes failing together do not retry together.
fn backoff(failures: u32) -> Duration {
    let cap = BACKOFF_BASE
        .saturating_mul(1 << failures.min(8))
        .min(BACKOFF_CAP);
    let random = RandomState::new().build_hasher().finish();
    Duration::from_nanos(random % (cap.as_nanos() as u64 + 1))
}

/// Sorts a transport error for [`retry`]; `unreachable` wraps the safe description.
pub fn transport_failure(
    err: &ureq::Error,
    deadline: Deadline,
    step: &'static str,
    unreachable: fn(String) -> Error,
) -> Failure {
    use std::io::ErrorKind as K;
    let timed_out = matches!(err, ureq::Error::Timeout(_))
        || matches!(err, ureq::Error::Io(e) if e.kind() == K::TimedOut);
    let dropped = matches!(err, ureq::Error::Io(e) if matches!(
        e.kind(),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
    ));
    if timed_out && deadline.budget().is_none() {
        Failure::Final(Error::Timeout(step))
    } else if dropped {
        Failure::Dropped(unreachable(describe(err)))
    } else {
        Failure::Backoff(unreachable(describe(err)))
    }
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
    fn budget_keeps_a_margin_and_refuses_when_short() {
        let far = Deadline::after(Duration::from_secs(10))
            .budget()
            .expect("time left");
        assert!(far <= Duration::from_secs(10) - SAFETY_MARGIN);
        assert!(far > Duration::from_secs(9));
        assert!(Deadline::after(SAFETY_MARGIN).budget().is_none());
        assert!(Deadline::from_epoch_ms(0).budget().is_none());
    }

    mod tls {
        //! Handshakes of our CryptoProvider, in memory, against rustls servers set up like
        //! the endpoints we talk to. Certificates: tests/tls/ (test roots, valid until 2126).
        use super::super::crypto;
        use rustls::crypto::ring::{cipher_suite as cs, default_provider, kx_group};
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use rustls::version::{TLS12, TLS13};
        use rustls::{CipherSuite, NamedGroup, ProtocolVersion, SupportedProtocolVersion};
        use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};
        use rustls::{ServerConnection, SupportedCipherSuite};
        use std::sync::Arc;

        const RSA_ROOT: &[u8] = include_bytes!("../tests/tls/rsa-ca.pem");
        const RSA_LEAF: &[u8] = include_bytes!("../tests/tls/rsa-leaf.pem");
        const RSA_KEY: &[u8] = include_bytes!("../tests/tls/rsa-leaf.key");
        const ECDSA_ROOT: &[u8] = include_bytes!("../tests/tls/ecdsa-ca.pem");
        const ECDSA_LEAF: &[u8] = include_bytes!("../tests/tls/ecdsa-leaf.pem");
        const ECDSA_KEY: &[u8] = include_bytes!("../tests/tls/ecdsa-leaf.key");

        static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&TLS13];
        static TLS12_ONLY: &[&SupportedProtocolVersion] = &[&TLS12];

        struct Server {
            leaf: &'static [u8],
            key: &'static [u8],
            versions: &'static [&'static SupportedProtocolVersion],
            suites: Vec<SupportedCipherSuite>,
            groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
        }

        impl Server {
            /// A TLS 1.3 and 1.2 server with every algorithm ring offers.
            fn modern(leaf: &'static [u8], key: &'static [u8]) -> Server {
                let all = default_provider();
                Server {
                    leaf,
                    key,
                    versions: rustls::ALL_VERSIONS,
                    suites: all.cipher_suites,
                    groups: all.kx_groups,
                }
            }
        }

        /// The client is configured as ureq configures it (all versions) with our
        /// provider; only the roots differ. Returns what was negotiated.
        fn handshake(
            server: Server,
        ) -> Result<(ProtocolVersion, CipherSuite, NamedGroup), rustls::Error> {
            let mut roots = RootCertStore::empty();
            for pem in [RSA_ROOT, ECDSA_ROOT] {
                roots
                    .add(CertificateDer::from_pem_slice(pem).expect("root"))
                    .expect("root added");
            }
            let client_config = ClientConfig::builder_with_provider(Arc::new(crypto()))
                .with_protocol_versions(rustls::ALL_VERSIONS)?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let mut server_provider = default_provider();
            server_provider.cipher_suites = server.suites;
            server_provider.kx_groups = server.groups;
            let server_config = ServerConfig::builder_with_provider(Arc::new(server_provider))
                .with_protocol_versions(server.versions)?
                .with_no_client_auth()
                .with_single_cert(
                    vec![CertificateDer::from_pem_slice(server.leaf).expect("leaf")],
                    PrivateKeyDer::from_pem_slice(server.key).expect("key"),
                )?;
            let name = "localhost".try_into().expect("name");
            let mut client =
                Connection::Client(ClientConnection::new(Arc::new(client_config), name)?);
            let mut server = Connection::Server(ServerConnection::new(Arc::new(server_config))?);
            for _ in 0..10 {
                if !client.is_handshaking() && !server.is_handshaking() {
                    let version = client.protocol_version().expect("version");
                    let suite = client.negotiated_cipher_suite().expect("suite").suite();
                    let group = client.negotiated_key_exchange_group().expect("kx").name();
                    return Ok((version, suite, group));
                }
                // Whichever side fails first says why; its peer would only see the alert.
                transfer(&mut client, &mut server)?;
                transfer(&mut server, &mut client)?;
            }
            panic!("the handshake did not finish");
        }

        /// Moves every pending TLS record from one side to the other.
        fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
            let mut wire = Vec::new();
            while from.wants_write() {
                from.write_tls(&mut wire).expect("write to a Vec");
            }
            let mut rest = &wire[..];
            while !rest.is_empty() {
                to.read_tls(&mut rest).expect("read from a slice");
                to.process_new_packets()?;
            }
            Ok(())
        }

        #[test]
        fn tls13_with_an_rsa_certificate_like_aws() {
            let got = handshake(Server::modern(RSA_LEAF, RSA_KEY)).expect("handshake");
            assert_eq!(
                got,
                (
                    ProtocolVersion::TLSv1_3,
                    CipherSuite::TLS13_AES_128_GCM_SHA256,
                    NamedGroup::X25519
                )
            );
        }

        #[test]
        fn tls12_with_the_suites_slack_publishes() {
            for suite in [
                cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            ] {
                let server = Server {
                    versions: TLS12_ONLY,
                    suites: vec![suite],
                    ..Server::modern(RSA_LEAF, RSA_KEY)
                };
                let (version, got, _) = handshake(server).expect("handshake");
                assert_eq!((version, got), (ProtocolVersion::TLSv1_2, suite.suite()));
            }
        }

        #[test]
        fn a_server_without_x25519_gets_p256_after_a_retry() {
            let server = Server {
                groups: vec![kx_group::SECP256R1],
                ..Server::modern(RSA_LEAF, RSA_KEY)
            };
            let (_, _, group) = handshake(server).expect("handshake");
            assert_eq!(group, NamedGroup::secp256r1);
        }

        #[test]
        fn ecdsa_p256_leaf_under_a_p384_root() {
            for versions in [TLS13_ONLY, TLS12_ONLY] {
                let server = Server {
                    versions,
                    ..Server::modern(ECDSA_LEAF, ECDSA_KEY)
                };
                let (version, _, _) = handshake(server).expect("handshake");
                assert_eq!(version, versions[0].version);
            }
        }

        #[test]
        fn chacha20_and_p384_only_servers_are_refused() {
            // What we left out, so that the trim cannot be undone by accident.
            let chacha = Server {
                suites: vec![cs::TLS13_CHACHA20_POLY1305_SHA256],
                versions: TLS13_ONLY,
                ..Server::modern(RSA_LEAF, RSA_KEY)
            };
            assert!(handshake(chacha).is_err());
            let p384 = Server {
                groups: vec![kx_group::SECP384R1],
                ..Server::modern(RSA_LEAF, RSA_KEY)
            };
            assert!(handshake(p384).is_err());
        }
    }

    #[test]
    fn addresses_are_reused_for_a_while_and_failures_are_not() {
        let dns = RecentAddrs::<DefaultResolver>::default();
        let calls = std::cell::Cell::new(0);
        let resolve = |ip: [u8; 4]| {
            calls.set(calls.get() + 1);
            let mut addrs = DefaultResolver::default().empty();
            addrs.push((ip, 443).into());
            Ok(addrs)
        };
        let t0 = Instant::now();
        let key = || "https://hooks.slack.com".to_string();
        let ip = |addrs: ResolvedSocketAddrs| addrs[0].ip().to_string();
        let first = dns.lookup(key(), t0, || resolve([10, 0, 0, 1]));
        let soon = dns.lookup(key(), t0 + DNS_TTL / 2, || resolve([10, 0, 0, 2]));
        assert_eq!(ip(first.expect("ok")), "10.0.0.1");
        assert_eq!(ip(soon.expect("ok")), "10.0.0.1");
        assert_eq!(calls.get(), 1);

        let other = dns.lookup("https://example.com".into(), t0, || resolve([10, 0, 0, 3]));
        assert_eq!(ip(other.expect("ok")), "10.0.0.3");
        let later = dns.lookup(key(), t0 + DNS_TTL, || resolve([10, 0, 0, 4]));
        assert_eq!(ip(later.expect("ok")), "10.0.0.4");
        assert_eq!(calls.get(), 3);

        let failing = || Err(ureq::Error::HostNotFound);
        let t1 = t0 + DNS_TTL * 3;
        assert!(dns.lookup(key(), t1, failing).is_err());
        assert!(dns.lookup(key(), t1, failing).is_err());
        assert!(dns.lookup(key(), t1, || resolve([10, 0, 0, 5])).is_ok());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for failures in 0..20 {
            let cap = BACKOFF_BASE
                .saturating_mul(1 << failures.min(8))
                .min(BACKOFF_CAP);
            assert!(backoff(failures) <= cap);
        }
    }

    #[test]
    fn retry_stops_at_three_transient_failures() {
        let deadline = Deadline::after(Duration::from_secs(60));
        let mut calls = 0;
        let result: Result<(), Error> = retry(deadline, || {
            calls += 1;
            Err(Failure::Backoff(Error::SlackUnreachable("down".into())))
        });
        assert!(matches!(result, Err(Error::SlackUnreachable(_))));
        assert_eq!(calls, MAX_ATTEMPTS);
    }

    #[test]
    fn retry_reconnects_once_then_counts_drops_as_failures() {
        let deadline = Deadline::after(Duration::from_secs(60));
        let mut calls = 0;
        let result = retry(deadline, || {
            calls += 1;
            if calls < 3 {
                Err(Failure::Dropped(Error::SlackUnreachable("reset".into())))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.expect("third call succeeds"), 3);
    }

    #[test]
    fn retry_gives_up_when_the_wait_does_not_fit() {
        let deadline = Deadline::after(Duration::from_secs(2));
        let mut calls = 0;
        let result: Result<(), Error> = retry(deadline, || {
            calls += 1;
            Err(Failure::After(
                Duration::from_secs(30),
                Error::SlackRateLimited {
                    retry_after_secs: 30,
                },
            ))
        });
        assert!(matches!(result, Err(Error::SlackRateLimited { .. })));
        assert_eq!(calls, 1);
        let final_error: Result<(), Error> = retry(deadline, || {
            Err(Failure::Final(Error::InvalidSecret("x".into())))
        });
        assert!(matches!(final_error, Err(Error::InvalidSecret(_))));
    }

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
