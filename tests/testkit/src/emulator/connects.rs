//! A TCP listener that only counts the connections made to it: the witness for "the
//! bootstrap did not connect there". A test hands the bootstrap a URL that reaches this
//! listener if it is followed (`localhost`, `2130706433`, `[::ffff:127.0.0.1]`: spellings
//! of 127.0.0.1 that are not the configured host) and checks the count afterwards.
//!
//! Each connection is counted, then closed at once: a bootstrap that did connect sees its
//! request fail only after the count went up, so the count is final when the invocation's
//! outcome arrives, without waiting for anything.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Connects {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Connects {
    /// Listens on 127.0.0.1 on a free port.
    pub fn start() -> Connects {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("connects: cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("connects: no local address: {e}"));
        let count = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = {
            let (count, stopping) = (Arc::clone(&count), Arc::clone(&stopping));
            std::thread::Builder::new()
                .name("emulator-connects".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        if stream.is_ok() {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        // Dropped here: the peer reads EOF.
                    }
                })
                .unwrap_or_else(|e| panic!("connects: cannot spawn the accept thread: {e}"))
        };
        Connects {
            addr,
            count,
            stopping,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for Connects {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept thread, which then sees `stopping` and ends.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            if accept.join().is_err() {
                eprintln!("connects: the accept thread panicked");
            }
        }
    }
}
