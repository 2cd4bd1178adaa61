//! How the agent connects: a CONNECT proxy when one is configured (as ureq's default
//! chain), our [`Socket`], rustls over it; and one connection opened ahead of need.
//!
//! ureq's pool only takes connections back after a request, so there is no way to put
//! one in without sending something (a `HEAD /` to hooks.slack.com would be a request
//! Slack logs, and answers with an error page). Instead the connector itself holds the
//! spare: [`Preconnect::open`] opens it on a thread of its own (DNS, TCP and TLS), and the
//! first request for that origin that finds the pool empty gets it, waiting for it if it
//! is still being opened. A spare nobody asks for is simply dropped later.

use super::dns::RecentAddrs;
use super::socket::Socket;
use crate::log;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, Resolver};
use ureq::unversioned::transport::time::{Duration as UreqDuration, Instant as UreqInstant};
use ureq::unversioned::transport::{
    ChainedConnector, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers,
    NextTimeout, RustlsConnector, Transport,
};

/// How long a speculative connection may take, DNS to TLS, like a request's connect.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

type Chain =
    ChainedConnector<(), ChainedConnector<(), ConnectProxyConnector, Tcp>, RustlsConnector>;

/// The agent's connector; [`Preconnect`] shares its state.
#[derive(Debug)]
pub(super) struct Connect(Arc<Shared>);

#[derive(Debug)]
pub(super) struct Shared {
    chain: Chain,
    resolver: Arc<RecentAddrs<DefaultResolver>>,
    spares: Mutex<Vec<(String, Spare)>>,
    changed: Condvar,
    /// A spare older than this is not handed out, as the pool would not keep it.
    max_idle: Duration,
}

/// Connections opened ahead of need, by origin; few, as there are few origins.
const SPARES: usize = 4;

enum Spare {
    Opening,
    Open(Box<dyn Transport>, Instant),
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Spare::Opening => "Opening",
            Spare::Open(..) => "Open",
        })
    }
}

/// The agent's resolver: the same addresses the spare was opened with.
#[derive(Debug)]
pub(super) struct Resolve(Arc<RecentAddrs<DefaultResolver>>);

impl Resolver for Resolve {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout)
    }
}

/// The connector and resolver for one agent, and the handle that opens connections ahead
/// of need through that connector.
pub(super) fn parts(max_idle: Duration) -> (Connect, Resolve, Preconnect) {
    let resolver = Arc::new(RecentAddrs::default());
    let shared = Arc::new(Shared {
        chain: ConnectProxyConnector::default()
            .chain(Tcp)
            .chain(RustlsConnector::default()),
        resolver: Arc::clone(&resolver),
        spares: Mutex::new(Vec::new()),
        changed: Condvar::new(),
        max_idle,
    });
    let preconnect = Preconnect {
        shared: Arc::clone(&shared),
        origins: Vec::new(),
    };
    (Connect(shared), Resolve(resolver), preconnect)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connector for Connect {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let started = Instant::now();
        if let Some(spare) = self.0.take(details) {
            return Ok(Some(spare));
        }
        let boxed = |t| Box::new(t) as Box<dyn Transport>;
        let waited = started.elapsed();
        if waited < Duration::from_millis(1) || details.timeout.after.is_not_happening() {
            return Ok(self.0.chain.connect(details, chained)?.map(boxed));
        }
        // The time spent waiting for a spare that failed comes off this connect's own:
        // the attempt's timeout bounds both together.
        let left = details.timeout.after.saturating_sub(waited);
        if left.is_zero() {
            return Err(ureq::Error::Timeout(details.timeout.reason));
        }
        let rest = ConnectionDetails {
            addrs: details.addrs.clone(),
            now: UreqInstant::now(),
            timeout: NextTimeout {
                after: UreqDuration::Exact(left),
                ..details.timeout
            },
            current_time: Arc::clone(&details.current_time),
            run_connector: Arc::clone(&details.run_connector),
            register_shutdown: Arc::clone(&details.register_shutdown),
            ..*details
        };
        Ok(self.0.chain.connect(&rest, chained)?.map(boxed))
    }
}

impl Shared {
    /// The spare for this origin: at once when it is open, after it is when it is being
    /// opened (bounded by the request's connect timeout), else none.
    fn take(&self, details: &ConnectionDetails) -> Option<Box<dyn Transport>> {
        let wanted = origin(details.uri)?;
        let wait = details.timeout.not_zero().map_or(OPEN_TIMEOUT, |t| *t);
        // Waits while one is being opened and none is open yet.
        let opening = |spares: &mut Vec<(String, Spare)>| {
            let mine = || spares.iter().filter(|(o, _)| *o == wanted);
            mine().any(|(_, s)| matches!(s, Spare::Opening))
                && !mine().any(|(_, s)| matches!(s, Spare::Open(..)))
        };
        let spares = lock(&self.spares);
        let (mut spares, _) = self
            .changed
            .wait_timeout_while(spares, wait, opening)
            .unwrap_or_else(PoisonError::into_inner);
        let i = spares
            .iter()
            .position(|(o, s)| *o == wanted && matches!(s, Spare::Open(..)))?;
        let (_, Spare::Open(mut transport, opened)) = spares.swap_remove(i) else {
            return None;
        };
        (opened.elapsed() < self.max_idle && transport.is_open()).then_some(transport)
    }

    /// Opens a connection to `origin` on a thread of its own and keeps it as a spare, unless
    /// `n` are kept or being opened there already.
    pub(super) fn preconnect(self: Arc<Self>, config: &Config, origin_url: &str, n: usize) {
        let Ok(uri) = origin_url.parse::<Uri>() else {
            return;
        };
        let Some(wanted) = origin(&uri) else { return };
        if config.proxy().is_some() {
            return;
        }
        {
            let mut spares = lock(&self.spares);
            if spares.iter().filter(|(o, _)| *o == wanted).count() >= n {
                return;
            }
            if spares.len() >= SPARES {
                spares.remove(0);
            }
            spares.push((wanted.clone(), Spare::Opening));
        }
        let config = config.clone();
        let shared = Arc::clone(&self);
        let key = wanted.clone();
        let settle = move |shared: &Shared, opened: Option<Box<dyn Transport>>| {
            let mut spares = lock(&shared.spares);
            let i = spares
                .iter()
                .position(|(o, s)| *o == wanted && matches!(s, Spare::Opening));
            match (i, opened) {
                (Some(i), Some(t)) => spares[i].1 = Spare::Open(t, Instant::now()),
                (Some(i), None) => drop(spares.remove(i)),
                (None, _) => {}
            }
            drop(spares);
            shared.changed.notify_all();
        };
        let spawned = std::thread::Builder::new()
            .name("preconnect".into())
            .spawn(move || {
                let opened = shared.open(&uri, &config).map_err(|e| {
                    // Not a failure of the invocation: its request connects by itself.
                    let host = uri.host().unwrap_or_default();
                    let why = super::describe(&e, host);
                    log::debug(&"cannot open a connection ahead of need")
                        .word("host", host)
                        .str("why", why.as_str())
                        .emit();
                });
                settle(&shared, opened.ok());
            });
        if spawned.is_err() {
            // The thread, and the `settle` it would have run, never started.
            let mut spares = lock(&self.spares);
            spares.retain(|(o, s)| !(*o == key && matches!(s, Spare::Opening)));
            drop(spares);
            self.changed.notify_all();
        }
    }

    fn open(&self, uri: &Uri, config: &Config) -> Result<Box<dyn Transport>, ureq::Error> {
        let now = UreqInstant::now();
        let timeout = NextTimeout {
            after: UreqDuration::from(OPEN_TIMEOUT),
            reason: ureq::Timeout::Connect,
            ..NextTimeout::default()
        };
        let addrs = self.resolver.resolve(uri, config, timeout)?;
        let details = ConnectionDetails {
            uri,
            addrs,
            config,
            request_level: false,
            resolver: &*self.resolver,
            now,
            timeout,
            current_time: Arc::new(UreqInstant::now),
            // Only a CONNECT proxy runs the chain again, and there is none (see above).
            run_connector: Arc::new(|_| Err(ureq::Error::ConnectionFailed)),
            // Nothing shuts the agent down: the process ends instead.
            register_shutdown: Arc::new(|_| Ok(())),
        };
        self.chain
            .connect(&details, None)?
            .map(|t| Box::new(t) as Box<dyn Transport>)
            .ok_or(ureq::Error::ConnectionFailed)
    }
}

/// `scheme://authority`, what ureq's pool keys a connection by (no proxy here).
fn origin(uri: &Uri) -> Option<String> {
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

/// Opens a connection ahead of need through one agent's connector: owned by whoever knows
/// where the next request will probably go (the handler: the webhook's origin, guessed).
#[derive(Clone, Debug)]
pub struct Preconnect {
    shared: Arc<Shared>,
    origins: Vec<String>,
}

impl Preconnect {
    /// The same handle aimed at `origins` (such as `https://hooks.slack.com`), or at
    /// nowhere.
    pub fn to(self, origins: impl IntoIterator<Item = String>) -> Preconnect {
        Preconnect {
            origins: origins.into_iter().collect(),
            ..self
        }
    }

    /// Opens a connection to each origin, each on a thread of its own, for `agent`'s next
    /// request there (`agent` must be the one built with this handle); an origin named
    /// twice gets two, for two requests at once. Nothing for an origin with as many open or
    /// opening already.
    pub fn open(&self, agent: &ureq::Agent) {
        for (i, origin) in self.origins.iter().enumerate() {
            let n = 1 + self.origins[..i].iter().filter(|o| *o == origin).count();
            Arc::clone(&self.shared).preconnect(agent.config(), origin, n);
        }
    }
}

/// [`Socket`] as a link of ureq's connector chain.
#[derive(Debug)]
pub(super) struct Tcp;

impl<In: Transport> Connector<In> for Tcp {
    type Out = Either<In, Socket>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(proxied) = chained {
            return Ok(Some(Either::A(proxied)));
        }
        let config = details.config;
        let socket = Socket::connect(
            &details.addrs,
            details.timeout,
            config.no_delay(),
            LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
        )?;
        (details.register_shutdown)(socket.shutdown_handle())?;
        Ok(Some(Either::B(socket)))
    }
}

#[cfg(test)]
mod tests {
    //! Our socket under rustls and the spare, against a TLS server on loopback whose
    //! certificate chains to the test root in tests/tls/.
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use ureq::tls::{Certificate, RootCerts};

    const ROOT: &[u8] = include_bytes!("../../tests/tls/rsa-ca.pem");
    const LEAF: &[u8] = include_bytes!("../../tests/tls/rsa-leaf.pem");
    const KEY: &[u8] = include_bytes!("../../tests/tls/rsa-leaf.key");

    /// Answers `ok` to every request on every connection; counts the connections.
    fn server() -> (String, Arc<AtomicUsize>) {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(LEAF).expect("leaf")],
            PrivateKeyDer::from_pem_slice(KEY).expect("key"),
        )
        .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let config = Arc::clone(&config);
                std::thread::spawn(move || {
                    let tls = rustls::ServerConnection::new(config).expect("connection");
                    let mut tls = BufReader::new(rustls::StreamOwned::new(tls, stream));
                    let mut line = String::new();
                    while tls.read_line(&mut line).is_ok_and(|n| n > 0) {
                        if line == "\r\n" {
                            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                            if tls.get_mut().write_all(answer).is_err() {
                                break;
                            }
                        }
                        line.clear();
                    }
                });
            }
        });
        (format!("https://localhost:{port}"), connections)
    }

    fn agent() -> (ureq::Agent, Preconnect) {
        let root = Certificate::from_pem(ROOT).expect("test root");
        super::super::agent_trusting(RootCerts::Specific(Arc::new(vec![root])))
    }

    fn get(agent: &ureq::Agent, url: &str) -> String {
        let mut response = agent.get(url).call().expect("answer");
        response.body_mut().read_to_string().expect("body")
    }

    #[test]
    fn tls_over_our_socket_reuses_the_connection() {
        let (origin, connections) = server();
        let (agent, _) = agent();
        assert_eq!(get(&agent, &format!("{origin}/a")), "ok");
        assert_eq!(get(&agent, &format!("{origin}/b")), "ok");
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_preconnected_connection_serves_the_first_request() {
        let (origin, connections) = server();
        let (agent, spare) = agent();
        spare.to(Some(origin.clone())).open(&agent);
        assert_eq!(get(&agent, &format!("{origin}/services/T0/B0/X")), "ok");
        assert_eq!(get(&agent, &format!("{origin}/services/T0/B0/X")), "ok");
        assert_eq!(connections.load(Ordering::SeqCst), 1, "the spare was used");
    }

    #[test]
    fn an_origin_named_twice_gets_two_spares_and_no_more() {
        let (origin, _) = server();
        let (agent, spare) = agent();
        let spare = spare.to([origin.clone(), origin.clone()]);
        let mine = |spare: &Preconnect| {
            let spares = lock(&spare.shared.spares);
            spares.iter().filter(|(o, _)| *o == origin).count()
        };
        spare.open(&agent);
        assert_eq!(mine(&spare), 2);
        spare.open(&agent);
        assert_eq!(mine(&spare), 2, "open or opening already");
        // Both serve requests.
        assert_eq!(get(&agent, &format!("{origin}/a")), "ok");
        assert_eq!(get(&agent, &format!("{origin}/b")), "ok");
    }

    #[test]
    fn a_spare_for_another_origin_is_left_alone() {
        let (origin, connections) = server();
        let (elsewhere, spare_connections) = server();
        let (agent, spare) = agent();
        spare.clone().to(Some(elsewhere)).open(&agent);
        assert_eq!(get(&agent, &format!("{origin}/x")), "ok");
        assert_eq!(connections.load(Ordering::SeqCst), 1);
        // Nowhere to connect: the spare fails quietly and the request reports its own error.
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let nowhere = format!(
            "https://localhost:{}",
            closed.local_addr().expect("a").port()
        );
        drop(closed);
        spare.to(Some(nowhere.clone())).open(&agent);
        assert!(agent.get(&format!("{nowhere}/x")).call().is_err());
        assert!(spare_connections.load(Ordering::SeqCst) <= 1);
    }
}
