//! A TLS server whose certificate chains to our test root (tests/tls/), which no
//! public root trusts: what a bootstrap meets behind a TLS-inspecting proxy or at a
//! host that is not the one it thinks. It counts connections and the requests that
//! got through a handshake (there should be none).

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const LEAF: &[u8] = include_bytes!("../../../tls/rsa-leaf.pem");
const KEY: &[u8] = include_bytes!("../../../tls/rsa-leaf.key");

pub struct UntrustedTls {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl UntrustedTls {
    pub fn start() -> UntrustedTls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(LEAF).expect("leaf")],
                PrivateKeyDer::from_pem_slice(KEY).expect("key"),
            )
            .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tls server");
        let addr = listener.local_addr().expect("tls server address");
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = std::thread::spawn({
            let (connections, requests, stopping) =
                (connections.clone(), requests.clone(), stopping.clone());
            move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let Ok(tls) = rustls::ServerConnection::new(config.clone()) else {
                        continue;
                    };
                    let mut tls = rustls::StreamOwned::new(tls, stream);
                    let mut byte = [0u8; 1];
                    // Only a client that accepted the certificate gets to send a byte.
                    if matches!(tls.read(&mut byte), Ok(1)) {
                        requests.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
        UntrustedTls {
            addr,
            connections,
            requests,
            stopping,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for UntrustedTls {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}
