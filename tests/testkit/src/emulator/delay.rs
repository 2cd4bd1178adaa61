//! A TCP proxy on loopback that delays every byte by a one-way latency, so that round trips
//! can be counted without root (no `tc netem`). It sees only bytes, so TLS would pass through
//! it as well as plain HTTP.
//!
//! Loopback connects at once, while a real connect costs a round trip before the client can
//! send; so a client's bytes are forwarded no earlier than three one-way delays after the
//! connection was accepted (SYN, SYN-ACK, then the data itself). Bandwidth is unlimited.
//!
//! `idle_close` stands for a server's keep-alive limit: a connection on which the client
//! sent nothing for that long is closed (the client sees a FIN), as a server or load
//! balancer closes an idle connection.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The end of each delay is waited out awake: a sleep ends late by the timer slack and a
/// wake-up (a tenth of a millisecond or more on a busy machine, per leg), which a round trip
/// count would charge to the function.
const SPIN: Duration = Duration::from_micros(200);

pub struct DelayProxy {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    passages: Arc<Mutex<Vec<Passage>>>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// One chunk of bytes through the proxy: when it read them from their sender and when it
/// wrote them on, a one-way delay later. Between a request's chunk read and its answer's
/// chunk written on the same connection, the client was waiting for the peer.
#[derive(Clone, Copy, Debug)]
pub struct Passage {
    /// The number of the connection, in the order they were accepted.
    pub connection: usize,
    /// Client → server.
    pub upstream: bool,
    pub read: Instant,
    pub written: Instant,
}

impl DelayProxy {
    /// Forwards to `upstream`, each direction delayed by `one_way`.
    pub fn start(upstream: SocketAddr, one_way: Duration, idle_close: Option<Duration>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind delay proxy");
        socket2::SockRef::from(&listener)
            .set_tcp_nodelay(true)
            .expect("TCP_NODELAY on the delay proxy");
        let addr = listener.local_addr().expect("delay proxy address");
        let connections = Arc::new(AtomicUsize::new(0));
        let passages = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = std::thread::spawn({
            let (connections, stopping) = (Arc::clone(&connections), Arc::clone(&stopping));
            let passages = Arc::clone(&passages);
            move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let accepted = Instant::now();
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    let connection = connections.fetch_add(1, Ordering::SeqCst);
                    let _ = server.set_nodelay(true);
                    let first_byte = accepted + one_way * 3;
                    let log = |upstream| Log {
                        passages: Arc::clone(&passages),
                        connection,
                        upstream,
                    };
                    pipe(&client, &server, one_way, first_byte, idle_close, log(true));
                    pipe(&server, &client, one_way, accepted, None, log(false));
                }
            }
        });
        DelayProxy {
            addr,
            connections,
            passages,
            stopping,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far: a request that did not open one reused one.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The chunks read since `since`, once written on.
    pub fn passages_since(&self, since: Instant) -> Vec<Passage> {
        let passages = self.passages.lock().unwrap_or_else(PoisonError::into_inner);
        passages
            .iter()
            .filter(|p| p.read >= since)
            .copied()
            .collect()
    }
}

/// Where one direction of a connection notes its chunks.
struct Log {
    passages: Arc<Mutex<Vec<Passage>>>,
    connection: usize,
    upstream: bool,
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// `from` → `to`: a reader stamps each chunk with the time it may arrive, a writer sends it
/// then. The end of the stream travels the same way, as a shutdown of `to`'s write side.
fn pipe(
    from: &TcpStream,
    to: &TcpStream,
    one_way: Duration,
    not_before: Instant,
    idle_close: Option<Duration>,
    log: Log,
) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    let (send, receive) = mpsc::channel::<(Instant, Instant, Option<Vec<u8>>)>();
    std::thread::spawn(move || {
        let _ = from.set_read_timeout(idle_close);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let chunk = match from.read(&mut buf) {
                Ok(0) | Err(_) => None,
                Ok(n) => Some(buf[..n].to_vec()),
            };
            let read = Instant::now();
            let due = (read + one_way).max(not_before);
            let end = chunk.is_none();
            if send.send((read, due, chunk)).is_err() || end {
                break;
            }
        }
        // Closing on idle (a read timeout) also tells the sender's side at once.
        if idle_close.is_some() {
            let _ = from.shutdown(Shutdown::Both);
        }
    });
    std::thread::spawn(move || {
        for (read, due, chunk) in receive {
            // The simulated wire: each chunk waits out its latency.
            if let Some(wait) = due.checked_duration_since(Instant::now() + SPIN) {
                std::thread::sleep(wait);
            }
            while Instant::now() < due {
                std::thread::yield_now();
            }
            match chunk {
                Some(bytes) if to.write_all(&bytes).is_ok() => {
                    let passage = Passage {
                        connection: log.connection,
                        upstream: log.upstream,
                        read,
                        written: Instant::now(),
                    };
                    let mut passages = log.passages.lock().unwrap_or_else(PoisonError::into_inner);
                    passages.push(passage);
                }
                _ => {
                    let _ = to.shutdown(Shutdown::Write);
                    break;
                }
            }
        }
    });
}
