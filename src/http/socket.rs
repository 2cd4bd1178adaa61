//! Our TCP transport for ureq: the same socket as ureq's own, with fewer system calls.
//!
//! ureq's `TcpTransport` costs a warm invocation 12 `ioctl`s and 6 `recvfrom`s for liveness
//! probes (non-blocking on, read one byte, blocking off; before and after each request),
//! a `sendto` for a request's head and another for its body, and a `setsockopt` whenever
//! the timeout moved by a nanosecond. Here:
//!
//! - a probe is one `recv(MSG_PEEK | MSG_DONTWAIT)`, and only before a connection is
//!   reused: ureq also probes right after the answer was read, when nothing can have
//!   changed that the probe before the next use would not see;
//! - what ureq sends is held until it waits for the answer, then leaves in one write,
//!   first tried without blocking, so that a write timeout is only set when the socket's
//!   buffer is full;
//! - the read timeout is set when it differs from the socket's by more than
//!   [`TIMEOUT_SLACK`]: within one request it shrinks by microseconds between reads.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Weak};
use std::time::Duration;
use ureq::unversioned::transport::{Buffers, LazyBuffers, NextTimeout, ShutdownHandle, Transport};

/// A socket read may end this much later than the deadline ureq asked for. Linux already
/// rounds a receive timeout up by far more (see `Deadline::attempt`).
const TIMEOUT_SLACK: Duration = Duration::from_millis(2);

pub struct Socket {
    /// Shared (weakly) with ureq's shutdown handle, as its own transport does.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// Bytes ureq handed over that are not sent yet.
    unsent: Vec<u8>,
    /// The socket's `SO_RCVTIMEO` and `SO_SNDTIMEO` as last set.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Data moved since the last probe: the next probe is the one after an answer.
    used: bool,
}

impl Socket {
    pub fn connect(
        addrs: &[SocketAddr],
        timeout: NextTimeout,
        no_delay: bool,
        buffers: LazyBuffers,
    ) -> Result<Socket, ureq::Error> {
        let mut last = None;
        for addr in addrs {
            let attempt = match timeout.not_zero() {
                Some(limit) => TcpStream::connect_timeout(addr, *limit),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(stream) => {
                    if no_delay {
                        stream.set_nodelay(true)?;
                    }
                    return Ok(Socket {
                        stream: Arc::new(stream),
                        buffers,
                        unsent: Vec::new(),
                        read_timeout: None,
                        write_timeout: None,
                        used: false,
                    });
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    last = Some(ureq::Error::Timeout(ureq::Timeout::Connect));
                }
                Err(e) => last = Some(e.into()),
            }
        }
        Err(last.unwrap_or(ureq::Error::HostNotFound))
    }

    pub fn shutdown_handle(&self) -> Weak<dyn ShutdownHandle> {
        Arc::downgrade(&self.stream) as Weak<dyn ShutdownHandle>
    }

    /// Sends what is held: without blocking first, then with the write timeout.
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.unsent.is_empty() {
            return Ok(());
        }
        let sent = match send_now(&self.stream, &self.unsent) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e.into()),
        };
        if sent < self.unsent.len() {
            let wanted = limit(timeout.for_write())?;
            if wanted != self.write_timeout {
                self.stream.set_write_timeout(wanted)?;
                self.write_timeout = wanted;
            }
            (&*self.stream)
                .write_all(&self.unsent[sent..])
                .map_err(|e| timed_out(e, ureq::Timeout::SendBody))?;
        }
        self.unsent.clear();
        Ok(())
    }

    fn set_read_timeout(&mut self, wanted: Option<Duration>) -> io::Result<()> {
        let close_enough = match (self.read_timeout, wanted) {
            (None, None) => true,
            (Some(now), Some(wanted)) => now >= wanted && now - wanted <= TIMEOUT_SLACK,
            _ => false,
        };
        if !close_enough {
            self.stream.set_read_timeout(wanted)?;
            self.read_timeout = wanted;
        }
        Ok(())
    }
}

impl Transport for Socket {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        limit(timeout.for_write())?;
        let output = self.buffers.output();
        let capacity = output.len();
        self.unsent.extend_from_slice(&output[..amount]);
        self.used = true;
        // After a request ureq waits for its answer, which flushes; a body larger than
        // the buffer leaves as it comes.
        if self.unsent.len() >= capacity {
            self.flush(timeout)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush(timeout)?;
        let timeout = timeout.for_read();
        self.set_read_timeout(limit(timeout)?)?;
        self.used = true;
        let input = self.buffers.input_append_buf();
        let read = loop {
            match (&*self.stream).read(input) {
                // No signal handler of ours interrupts a read; retry as for a spurious wakeup.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let amount = read.map_err(|e| timed_out(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        if std::mem::take(&mut self.used) {
            return true;
        }
        is_idle(&self.stream)
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").finish_non_exhaustive()
    }
}

/// The socket timeout for what is left of `timeout`. A socket timeout of zero means none
/// at all, so an expired one is a timeout now, before any I/O.
fn limit(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|t| *t))
}

/// A socket timeout is `WouldBlock` or `TimedOut`; ureq names the phase it cut.
fn timed_out(e: io::Error, phase: ureq::Timeout) -> ureq::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ureq::Error::Timeout(phase),
        _ => e.into(),
    }
}

/// Whether a kept-alive connection can carry a request, at the cost of one system call:
/// open means nothing to read yet, not a byte (the peer has nothing to say between
/// requests) and not the end of the stream.
pub fn is_idle(stream: &TcpStream) -> bool {
    matches!(peek(stream), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

fn peek(stream: &TcpStream) -> io::Result<usize> {
    let mut byte = 0u8;
    // SAFETY: recv writes at most one byte, into `byte`, which outlives the call.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&raw mut byte).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// `send` that never blocks: as much as the socket's buffer takes now.
fn send_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: send reads at most `bytes.len()` bytes from `bytes`, which outlives the call.
    let n = unsafe {
        libc::send(
            stream.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use ureq::unversioned::transport::time::Duration as Timeout;

    fn pair() -> (Socket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let timeout = NextTimeout {
            after: Timeout::from_secs(5),
            ..NextTimeout::default()
        };
        let socket =
            Socket::connect(&[addr], timeout, true, LazyBuffers::new(1024, 1024)).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        (socket, server)
    }

    fn seconds(s: u64) -> NextTimeout {
        NextTimeout {
            after: Timeout::from_secs(s),
            ..NextTimeout::default()
        }
    }

    #[test]
    fn head_and_body_leave_together_when_the_answer_is_awaited() {
        let (mut socket, mut server) = pair();
        socket.buffers().output()[..5].copy_from_slice(b"HEAD ");
        socket.transmit_output(5, seconds(5)).expect("held");
        socket.buffers().output()[..4].copy_from_slice(b"body");
        socket.transmit_output(4, seconds(5)).expect("held");
        server
            .set_nonblocking(true)
            .expect("non-blocking test server");
        let mut got = [0u8; 16];
        assert!(
            server.read(&mut got).is_err(),
            "nothing sent before the read"
        );
        server.set_nonblocking(false).expect("blocking again");
        server.write_all(b"ok").expect("answer");
        assert!(socket.await_input(seconds(5)).expect("answer read"));
        assert_eq!(socket.buffers().input(), b"ok");
        let n = server.read(&mut got).expect("request");
        assert_eq!(&got[..n], b"HEAD body");
    }

    #[test]
    fn a_probe_sees_the_peer_close_and_unasked_bytes() {
        let (mut socket, mut server) = pair();
        assert!(socket.is_open(), "an idle connection is open");
        server.write_all(b"x").expect("stray byte");
        server.flush().expect("flush");
        // The byte may take a moment on loopback; the read below waits for it.
        let mut first = [0u8; 1];
        assert_eq!(socket.stream.peek(&mut first).expect("peek"), 1);
        assert!(!socket.is_open(), "bytes nobody asked for");
        let (mut socket, server) = pair();
        drop(server);
        socket
            .stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        assert_eq!(socket.stream.peek(&mut first).expect("eof"), 0);
        assert!(!socket.is_open(), "closed by the peer");
    }

    #[test]
    fn the_probe_right_after_an_answer_is_skipped() {
        let (mut socket, mut server) = pair();
        server.write_all(b"answer").expect("answer");
        socket.await_input(seconds(5)).expect("read");
        drop(server);
        assert!(socket.is_open(), "just used: not probed");
        let mut byte = [0u8; 1];
        assert_eq!(socket.stream.peek(&mut byte).expect("eof"), 0);
        assert!(!socket.is_open(), "the next probe looks");
    }

    #[test]
    fn an_expired_deadline_is_a_timeout_before_any_io() {
        let (mut socket, _server) = pair();
        let expired = NextTimeout {
            after: Timeout::from_secs(0),
            reason: ureq::Timeout::RecvResponse,
            ..NextTimeout::default()
        };
        assert!(matches!(
            socket.await_input(expired),
            Err(ureq::Error::Timeout(ureq::Timeout::RecvResponse))
        ));
    }

    #[test]
    fn a_silent_peer_times_the_read_out() {
        let (mut socket, _server) = pair();
        let short = NextTimeout {
            after: Timeout::from_millis(50),
            reason: ureq::Timeout::RecvResponse,
            ..NextTimeout::default()
        };
        assert!(matches!(
            socket.await_input(short),
            Err(ureq::Error::Timeout(ureq::Timeout::RecvResponse))
        ));
        assert_eq!(socket.read_timeout, Some(Duration::from_millis(50)));
    }
}
