//! HTTP/1.1 as a client reads it (RFC 9112), over any byte stream: the Runtime API's
//! answers, framed by `Content-Length`, by chunks, or by the end of the connection.
//!
//! Written here rather than taken from the agent (`http/`) because the Runtime API is
//! plain HTTP on loopback, asked three times an invocation: ureq's request building,
//! middleware and header map cost some 50,000 instructions a request, this a few
//! thousand. Every Runtime API in use must work, not only our emulator: AWS's, the RIE
//! (Go's net/http, which chunks bodies beyond its buffer), cargo lambda's (hyper).

use std::io::{self, Read, Write};
use std::ops::Range;

/// Bytes read ahead of parsing; a head must fit (the agent's limit too, `http/mod.rs`).
const BUFFER: usize = 16 * 1024;
/// A chunk-size line or a trailer line longer than this is not one a server meant.
const MAX_LINE: usize = 4096;

/// Why an exchange failed.
#[derive(Debug)]
pub enum Error {
    /// The connection ended or broke before a byte of the answer: a kept-alive connection
    /// the server closed, so the request may be sent again on a fresh one.
    Dropped(io::Error),
    /// Reading or writing failed once the answer had begun.
    Io(io::Error),
    /// Not an HTTP/1.x answer that can be read.
    Malformed(&'static str),
    /// The body is longer than the caller accepts.
    TooLarge,
}

impl Error {
    /// Words safe for a log line (no peer's bytes), naming `host`.
    pub fn describe(&self, host: &str) -> String {
        match self {
            Error::Dropped(e) | Error::Io(e) => format!("network error with {host}: {}", e.kind()),
            Error::Malformed(why) => format!("the HTTP response from {host} is malformed: {why}"),
            Error::TooLarge => format!("the response from {host} is too large"),
        }
    }
}

/// How the body's end is found (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    /// Until the server closes the connection, which then cannot be reused.
    UntilClose,
}

/// A status line and its header fields; the body is read after it with [`Connection::body`].
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    /// The field lines as received, folded lines joined with spaces.
    lines: Vec<u8>,
    /// Name and value of each field, as offsets into `lines`; the value without its
    /// surrounding whitespace.
    fields: Vec<[usize; 4]>,
    framing: Framing,
    keep_alive: bool,
}

impl Head {
    /// The first field named `name` (any case), when its value is visible ASCII (tabs
    /// allowed), as the `http` crate's `HeaderValue::to_str` has it: a value in another
    /// encoding reads as absent, never as a guess.
    pub fn header(&self, name: &str) -> Option<&str> {
        let value = self.raw(name)?;
        let visible = value
            .iter()
            .all(|&b| (b' '..0x7f).contains(&b) || b == b'\t');
        std::str::from_utf8(value).ok().filter(|_| visible)
    }

    fn raw(&self, name: &str) -> Option<&[u8]> {
        self.fields.iter().find_map(|&[ns, ne, vs, ve]| {
            // Lengths first: most names differ in length, and the comparison is a call.
            (ne - ns == name.len() && self.lines[ns..ne].eq_ignore_ascii_case(name.as_bytes()))
                .then(|| &self.lines[vs..ve])
        })
    }
}

/// One connection's reading side: bytes read ahead, and whether the last answer left the
/// connection fit for another request.
pub struct Connection<S> {
    stream: S,
    buf: Box<[u8]>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    reusable: bool,
}

impl<S: Read + Write> Connection<S> {
    pub fn new(stream: S) -> Connection<S> {
        Connection {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            reusable: false,
        }
    }

    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The last answer was read whole, framed, with nothing after it, and the server did
    /// not say it closes.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Sends a request, head and body in one buffer.
    pub fn send(&mut self, request: &[u8]) -> Result<(), Error> {
        self.reusable = false;
        // Bytes nobody asked for belong to no answer of ours.
        if self.start != self.end {
            return Err(Error::Malformed("bytes arrived before the request"));
        }
        self.stream.write_all(request).map_err(|e| early(e, 0))
    }

    /// Reads the head of the answer, passing over interim (1xx) answers; `101` is returned,
    /// as nothing here switches protocols.
    pub fn head(&mut self) -> Result<Head, Error> {
        let mut received = 0;
        loop {
            let len = self.head_len(&mut received)?;
            let head = parse_head(&self.buf[self.start..self.start + len]);
            self.start += len;
            let head = head?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                return Ok(head);
            }
        }
    }

    /// Length of the head at `start`, its blank line included, reading until it is whole;
    /// empty lines before a status line are passed over.
    fn head_len(&mut self, received: &mut usize) -> Result<usize, Error> {
        let mut scanned = 0;
        loop {
            while self.start < self.end && scanned == 0 {
                match self.buf[self.start] {
                    b'\r' | b'\n' => self.start += 1,
                    _ => break,
                }
            }
            let unread = &self.buf[self.start..self.end];
            if let Some(len) = blank_line_end(unread, scanned) {
                return Ok(len);
            }
            scanned = unread.len().saturating_sub(3);
            if self.start > 0 {
                self.compact();
            }
            if self.end == self.buf.len() {
                return Err(Error::Malformed("the header section is larger than 16 KiB"));
            }
            match self.fill() {
                Ok(0) => return Err(early(io::ErrorKind::UnexpectedEof.into(), *received)),
                Ok(got) => *received += got,
                Err(e) => return Err(early(e, *received)),
            }
        }
    }

    /// Reads the body `head` announced, up to `limit` bytes; the connection stays usable
    /// only when it was read whole.
    pub fn body(&mut self, head: &Head, limit: usize) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        let framed = match head.framing {
            Framing::Empty => true,
            Framing::Length(n) if n > limit => return Err(Error::TooLarge),
            Framing::Length(n) => {
                body.reserve_exact(n);
                self.take(&mut body, n)?;
                true
            }
            Framing::Chunked => {
                self.chunks(&mut body, limit)?;
                true
            }
            Framing::UntilClose => {
                self.until_close(&mut body, limit)?;
                false
            }
        };
        self.reusable = framed && head.keep_alive && self.start == self.end;
        Ok(body)
    }

    /// `Transfer-Encoding: chunked`: sizes in hex, extensions after `;` ignored, trailer
    /// fields read and dropped.
    fn chunks(&mut self, body: &mut Vec<u8>, limit: usize) -> Result<(), Error> {
        loop {
            let line = self.line()?;
            let size = chunk_size(&self.buf[line.0..line.1])?;
            if size == 0 {
                break;
            }
            if size > limit - body.len() {
                return Err(Error::TooLarge);
            }
            self.take(body, size)?;
            let end = self.line()?;
            if end.0 != end.1 {
                return Err(Error::Malformed("a chunk longer than its size"));
            }
        }
        let mut trailers = 0;
        loop {
            let (from, to) = self.line()?;
            if from == to {
                return Ok(());
            }
            trailers += to - from;
            if trailers > BUFFER {
                return Err(Error::Malformed(
                    "the trailer section is larger than 16 KiB",
                ));
            }
        }
    }

    /// The next line's bounds in `buf`, without its line break (CRLF or a bare LF), consumed.
    fn line(&mut self) -> Result<(usize, usize), Error> {
        let mut scanned = 0;
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = memchr::memchr(b'\n', &unread[scanned..]) {
                let from = self.start;
                let mut to = from + scanned + at;
                self.start = to + 1;
                if to > from && self.buf[to - 1] == b'\r' {
                    to -= 1;
                }
                return Ok((from, to));
            }
            scanned = unread.len();
            if scanned > MAX_LINE {
                return Err(Error::Malformed("a chunk line longer than 4 KiB"));
            }
            self.compact();
            self.fill_some()?;
        }
    }

    /// Moves exactly `n` bytes of body into `body`.
    fn take(&mut self, body: &mut Vec<u8>, n: usize) -> Result<(), Error> {
        let buffered = n.min(self.end - self.start);
        body.extend_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        let rest = n - buffered;
        if rest == 0 {
            return Ok(());
        }
        // What is left goes straight into the body, not through the buffer, and into its
        // spare capacity: zeroing it first cost some 7,000 instructions for a 2 KB event.
        let rest = rest as u64;
        match (&mut self.stream).take(rest).read_to_end(body) {
            Ok(got) if got as u64 == rest => Ok(()),
            Ok(_) => Err(Error::Io(io::ErrorKind::UnexpectedEof.into())),
            Err(e) => Err(Error::Io(e)),
        }
    }

    /// The rest of the connection's bytes, up to `limit`.
    fn until_close(&mut self, body: &mut Vec<u8>, limit: usize) -> Result<(), Error> {
        loop {
            let unread = self.end - self.start;
            if unread > limit - body.len() {
                return Err(Error::TooLarge);
            }
            body.extend_from_slice(&self.buf[self.start..self.end]);
            self.start = 0;
            self.end = 0;
            if self.fill().map_err(Error::Io)? == 0 {
                return Ok(());
            }
        }
    }

    /// Moves the unread bytes to the front of the buffer.
    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    /// One read into the free end of the buffer; 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        let got = read(&mut self.stream, &mut self.buf[self.end..])?;
        self.end += got;
        Ok(got)
    }

    /// Like `fill`, where the stream's end cuts an answer short.
    fn fill_some(&mut self) -> Result<(), Error> {
        match self.fill() {
            Ok(0) => Err(Error::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Io(e)),
        }
    }
}

/// A read, retried when a signal interrupted it.
fn read(stream: &mut impl Read, into: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(into) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// A failure before `received` bytes of answer: with none, the request never reached a
/// server that is still listening, or it closed without answering.
fn early(e: io::Error, received: usize) -> Error {
    use io::ErrorKind as K;
    let broken = matches!(
        e.kind(),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
    );
    if received == 0 && broken {
        Error::Dropped(e)
    } else {
        Error::Io(e)
    }
}

/// Where the blank line that ends a head ends, searching from `from` (bytes before it were
/// searched already, up to the last three).
fn blank_line_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    // memchr: a head of Lambda's is some 600 bytes, searched a word at a time.
    while let Some(nl) = memchr::memchr(b'\n', &bytes[at..]) {
        let after = at + nl + 1;
        match bytes.get(after..) {
            Some([b'\n', ..]) => return Some(after + 1),
            Some([b'\r', b'\n', ..]) => return Some(after + 2),
            _ => at = after,
        }
    }
    None
}

/// The status line and field lines of `head` (its blank line included).
fn parse_head(head: &[u8]) -> Result<Head, Error> {
    let mut lines = head.to_vec();
    let (status_line, mut at) = line_at(&lines, 0);
    let (version, status) = status_line_parts(&lines[status_line])?;
    let mut fields: Vec<[usize; 4]> = Vec::with_capacity(12);
    while at < lines.len() {
        let (line, next) = line_at(&lines, at);
        at = next;
        if line.is_empty() {
            break;
        }
        // RFC 9112 section 5.2: a line starting with a space or tab continues the field
        // before it, the line break read as spaces; before any field, it is dropped.
        if matches!(lines[line.start], b' ' | b'\t') {
            let rest = trimmed(&lines, line);
            if let Some(field) = fields.last_mut().filter(|_| !rest.is_empty()) {
                lines[field[3]..rest.start].fill(b' ');
                field[3] = rest.end;
            }
            continue;
        }
        let colon = memchr::memchr(b':', &lines[line.clone()])
            .ok_or(Error::Malformed("a header line without a colon"))?;
        let name = trimmed(&lines, line.start..line.start + colon);
        if name.is_empty() {
            return Err(Error::Malformed("a header line without a name"));
        }
        let value = trimmed(&lines, line.start + colon + 1..line.end);
        fields.push([name.start, name.end, value.start, value.end]);
    }
    // What the fields say about the body and the connection (RFC 9112 sections 6 and 9.3),
    // in one pass; a Content-Length's fault counts only where it frames the body.
    let (mut close, mut keep) = (false, version >= 1);
    let (mut te, mut codings, mut first_chunked) = (false, 0, false);
    let mut length: Option<Result<Option<usize>, &'static str>> = None;
    for &[ns, ne, vs, ve] in &fields {
        let (name, value) = (&lines[ns..ne], &lines[vs..ve]);
        if name.eq_ignore_ascii_case(b"connection") {
            for token in elements(value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            te = true;
            for coding in elements(value) {
                first_chunked |= codings == 0 && coding.eq_ignore_ascii_case(b"chunked");
                codings += 1;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let mut seen = length.unwrap_or(Ok(None));
            for element in elements(value) {
                seen = match (seen, decimal(element)) {
                    (Ok(_), None) => Err("a Content-Length that is not a number"),
                    (Ok(Some(l)), Some(n)) if l != n => Err("two different Content-Length values"),
                    (Ok(_), Some(n)) => Ok(Some(n)),
                    (err, _) => err,
                };
            }
            length = Some(seen);
        }
    }
    let (framing, clear) = if (100..200).contains(&status) || status == 204 || status == 304 {
        (Framing::Empty, true)
    } else if te {
        if codings != 1 || !first_chunked {
            return Err(Error::Malformed("a transfer coding other than chunked"));
        }
        // Both framings at once is how responses are smuggled: read this one as chunked
        // (the RFC's rule), and trust nothing after it.
        (Framing::Chunked, length.is_none())
    } else {
        match length {
            None => (Framing::UntilClose, false),
            Some(Err(why)) => return Err(Error::Malformed(why)),
            Some(Ok(None)) => return Err(Error::Malformed("an empty Content-Length")),
            Some(Ok(Some(0))) => (Framing::Empty, true),
            Some(Ok(Some(n))) => (Framing::Length(n), true),
        }
    };
    Ok(Head {
        status,
        lines,
        fields,
        framing,
        keep_alive: keep && !close && clear,
    })
}

/// The comma-separated elements of a field's value, trimmed, empty ones left out.
fn elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|e| !e.is_empty())
}

/// The line starting at `from`, without its break (CRLF or LF), and where the next starts.
fn line_at(bytes: &[u8], from: usize) -> (Range<usize>, usize) {
    let (mut end, next) = match memchr::memchr(b'\n', &bytes[from..]) {
        Some(at) => (from + at, from + at + 1),
        None => (bytes.len(), bytes.len()),
    };
    if end > from && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    (from..end, next)
}

/// `range` of `bytes` without the spaces and tabs at either end.
fn trimmed(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let within = &bytes[range.clone()];
    let start = within.iter().position(|b| !ows(b)).unwrap_or(within.len());
    let end = within
        .iter()
        .rposition(|b| !ows(b))
        .map_or(start, |e| e + 1);
    range.start + start..range.start + end
}

/// `HTTP/1.x SSS reason` → (x, SSS); the reason phrase may be absent.
fn status_line_parts(line: &[u8]) -> Result<(u8, u16), Error> {
    let not_http = Error::Malformed("not an HTTP/1.x status line");
    let version = match line.get(..8) {
        Some([b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor]) if minor.is_ascii_digit() => {
            minor - b'0'
        }
        _ => return Err(not_http),
    };
    match line.get(8..) {
        Some([b' ', a, b, c, after @ ..])
            if [a, b, c].iter().all(|d| d.is_ascii_digit())
                && matches!(after.first(), None | Some(b' ')) =>
        {
            let status = [a, b, c]
                .iter()
                .fold(0u16, |n, &&d| n * 10 + u16::from(d - b'0'));
            Ok((version, status))
        }
        _ => Err(not_http),
    }
}

fn decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// `1a2b;name=value` → 0x1a2b: hex digits, then nothing or an extension after `;`.
fn chunk_size(line: &[u8]) -> Result<usize, Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let after = trim(&line[digits..]);
    if digits == 0 || !(after.is_empty() || after[0] == b';') {
        return Err(Error::Malformed("a chunk size that is not hex"));
    }
    // Beyond `usize` is beyond any limit.
    line[..digits]
        .iter()
        .try_fold(0usize, |n, &d| {
            let digit = (d as char).to_digit(16)? as usize;
            n.checked_mul(16)?.checked_add(digit)
        })
        .ok_or(Error::TooLarge)
}

/// Without the spaces and tabs around it.
fn trim(bytes: &[u8]) -> &[u8] {
    &bytes[trimmed(bytes, 0..bytes.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A stream that hands out its answer in the given pieces, one per read, and records
    /// what was written.
    struct Script {
        reads: VecDeque<io::Result<Vec<u8>>>,
        written: Vec<u8>,
    }

    impl Script {
        fn pieces(pieces: &[&[u8]]) -> Script {
            Script {
                reads: pieces.iter().map(|p| Ok(p.to_vec())).collect(),
                written: Vec::new(),
            }
        }

        /// The same bytes, one per read: every boundary falls everywhere once.
        fn bytewise(all: &[u8]) -> Script {
            Script {
                reads: all.iter().map(|b| Ok(vec![*b])).collect(),
                written: Vec::new(),
            }
        }
    }

    impl Read for Script {
        fn read(&mut self, into: &mut [u8]) -> io::Result<usize> {
            match self.reads.pop_front() {
                None => Ok(0),
                Some(Err(e)) => Err(e),
                Some(Ok(mut piece)) => {
                    let n = piece.len().min(into.len());
                    into[..n].copy_from_slice(&piece[..n]);
                    if n < piece.len() {
                        self.reads.push_front(Ok(piece.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    impl Write for Script {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn exchange(stream: Script, limit: usize) -> (Result<(Head, Vec<u8>), Error>, bool) {
        let mut conn = Connection::new(stream);
        let got = conn
            .send(b"GET / HTTP/1.1\r\n\r\n")
            .and_then(|()| conn.head())
            .and_then(|head| conn.body(&head, limit).map(|body| (head, body)));
        (got, conn.reusable())
    }

    /// The answer read whole, checked against the same bytes read one at a time.
    fn answer(bytes: &[u8]) -> (Head, Vec<u8>, bool) {
        let (whole, reusable) = exchange(Script::pieces(&[bytes]), 1 << 20);
        let (head, body) = whole.unwrap_or_else(|e| panic!("whole: {e:?}"));
        let (split, split_reusable) = exchange(Script::bytewise(bytes), 1 << 20);
        let (split_head, split_body) = split.unwrap_or_else(|e| panic!("bytewise: {e:?}"));
        assert_eq!(
            (split_head.status, &split_body, split_reusable),
            (head.status, &body, reusable)
        );
        (head, body, reusable)
    }

    fn malformed(bytes: &[u8]) -> &'static str {
        match exchange(Script::pieces(&[bytes]), 1 << 20).0 {
            Err(Error::Malformed(why)) => why,
            other => panic!("read: {:?}", other.map(|(h, b)| (h.status, b))),
        }
    }

    #[test]
    fn content_length_and_the_headers_lambda_sends() {
        let (head, body, reusable) = answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
              lambda-runtime-aws-request-id:  8476a536 \r\nLambda-Runtime-Deadline-Ms: 1795865891000\r\n\
              Content-Length: 7\r\n\r\n{\"a\":1}",
        );
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("Lambda-Runtime-Aws-Request-Id"),
            Some("8476a536")
        );
        assert_eq!(
            head.header("lambda-runtime-deadline-ms"),
            Some("1795865891000")
        );
        assert_eq!(head.header("lambda-runtime-trace-id"), None);
        assert_eq!(body, b"{\"a\":1}");
        assert!(reusable);
    }

    #[test]
    fn chunked_as_go_sends_it_with_extensions_and_trailers() {
        let (head, body, reusable) = answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n1;ext=\"a;b\"\r\n,\r\n6 ; x\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
        );
        assert_eq!(head.status, 200);
        assert_eq!(body, b"hello, world");
        assert!(reusable);
        let (_, upper, _) = answer(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
        );
        assert_eq!(upper, b"0123456789");
    }

    #[test]
    fn a_chunked_body_larger_than_the_buffer() {
        let chunk = vec![b'x'; 40_000];
        let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(&chunk);
        bytes.extend_from_slice(b"\r\n3\r\nend\r\n0\r\n\r\n");
        let (got, reusable) = exchange(Script::pieces(&[&bytes[..5000], &bytes[5000..]]), 1 << 20);
        let (_, body) = got.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(body.len(), 40_003);
        assert!(body.ends_with(b"xend"));
        assert!(reusable);
    }

    #[test]
    fn bare_line_feeds_and_interim_answers() {
        let (head, body, reusable) =
            answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\nContent-Length: 2\n\nok");
        assert_eq!(
            (head.status, body.as_slice(), reusable),
            (202, &b"ok"[..], true)
        );
    }

    #[test]
    fn no_body_where_the_status_says_so() {
        for (status, length) in [(204, "5"), (304, "5"), (204, "none")] {
            let bytes = format!("HTTP/1.1 {status} Nothing\r\nContent-Length: {length}\r\n\r\n");
            let (head, body, reusable) = answer(bytes.as_bytes());
            assert_eq!((head.status, body.len(), reusable), (status, 0, true));
        }
    }

    #[test]
    fn when_the_connection_cannot_carry_another_request() {
        let close =
            b"HTTP/1.1 202 Accepted\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
        assert!(!answer(close).2);
        let old = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert!(!answer(old).2);
        let old_kept = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok";
        assert!(answer(old_kept).2);
        let both = b"HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
        assert!(!answer(both).2);
        let (_, body, reusable) = answer(b"HTTP/1.1 200 OK\r\n\r\nuntil the end");
        assert_eq!((body.as_slice(), reusable), (&b"until the end"[..], false));
        let both =
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        assert_eq!(answer(both).1, b"ok");
        assert!(
            !answer(both).2,
            "both framings: nothing after it is trusted"
        );
        // Read in one piece with the answer; arriving later, the probe before reuse sees them.
        let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
        let (got, reusable) = exchange(Script::pieces(&[extra]), 1 << 20);
        assert!(got.is_ok() && !reusable, "bytes beyond the answer");
    }

    #[test]
    fn header_values_in_other_encodings_read_as_absent() {
        let (head, _, _) = answer(
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Trace-Id: Root=\xff\xfe\r\nX-Latin: caf\xe9\r\n\
              X-Utf8: caf\xc3\xa9\r\nX-Tab: a\tb\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(head.header("lambda-runtime-trace-id"), None);
        assert_eq!(head.header("x-latin"), None);
        assert_eq!(head.header("x-utf8"), None);
        assert_eq!(head.header("x-tab"), Some("a\tb"));
        assert_eq!(head.header("x-folded"), Some("one   two"));
        let (head, _, _) = answer(
            b"HTTP/1.1 200 OK\r\n dropped\r\nX-Folded: one \r\n\t \r\n two \r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(head.header("x-folded"), Some("one        two"));
    }

    #[test]
    fn the_first_of_repeated_fields() {
        let (head, _, _) =
            answer(b"HTTP/1.1 200 OK\r\nX-Id: a\r\nx-id: b\r\nContent-Length: 2, 2\r\n\r\nok");
        assert_eq!(head.header("x-id"), Some("a"));
    }

    #[test]
    fn limits() {
        let long = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
        assert!(matches!(
            exchange(Script::pieces(&[long]), 10).0,
            Err(Error::TooLarge)
        ));
        let (got, reusable) = exchange(Script::pieces(&[long]), 11);
        assert!(got.is_ok() && reusable);
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
        assert!(matches!(
            exchange(Script::pieces(&[chunked]), 10).0,
            Err(Error::TooLarge)
        ));
        let until_close = b"HTTP/1.1 200 OK\r\n\r\nhello world";
        assert!(matches!(
            exchange(Script::pieces(&[until_close]), 10).0,
            Err(Error::TooLarge)
        ));
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n";
        assert!(matches!(
            exchange(Script::pieces(&[huge]), usize::MAX).0,
            Err(Error::TooLarge)
        ));
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        while head.len() <= BUFFER {
            head.extend_from_slice(b"X-Filler: 0123456789abcdef0123456789abcdef\r\n");
        }
        assert_eq!(malformed(&head), "the header section is larger than 16 KiB");
    }

    #[test]
    fn bad_framing_is_malformed() {
        for (bytes, why) in [
            (&b"HTTP/2 200\r\n\r\n"[..], "not an HTTP/1.x status line"),
            (b"HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x status line"),
            (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line"),
            (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                "a header line without a colon",
            ),
            (
                b"HTTP/1.1 200 OK\r\n: x\r\n\r\n",
                "a header line without a name",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                "a Content-Length that is not a number",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
                "two different Content-Length values",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
                "an empty Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "a transfer coding other than chunked",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "a chunk size that is not hex",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 2\r\nok\r\n0\r\n\r\n",
                "a chunk size that is not hex",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n",
                "a chunk longer than its size",
            ),
        ] {
            assert_eq!(malformed(bytes), why, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn an_answer_cut_short() {
        for bytes in [
            &b"HTTP/1.1 200 OK\r\nContent-Le"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nok",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
        ] {
            match exchange(Script::pieces(&[bytes]), 1 << 20).0 {
                Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
                other => panic!("{:?}", other.map(|(h, _)| h.status)),
            }
        }
    }

    #[test]
    fn a_connection_gone_before_any_answer_is_dropped() {
        assert!(matches!(
            exchange(Script::pieces(&[]), 1 << 20).0,
            Err(Error::Dropped(_))
        ));
        let reset = Script {
            reads: VecDeque::from([Err(io::ErrorKind::ConnectionReset.into())]),
            written: Vec::new(),
        };
        assert!(matches!(exchange(reset, 1 << 20).0, Err(Error::Dropped(_))));
        let reset_later = Script {
            reads: VecDeque::from([
                Ok(b"HTTP/1.1 2".to_vec()),
                Err(io::ErrorKind::ConnectionReset.into()),
            ]),
            written: Vec::new(),
        };
        assert!(matches!(
            exchange(reset_later, 1 << 20).0,
            Err(Error::Io(_))
        ));
    }

    #[test]
    fn requests_leave_whole_and_in_turn() {
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
        let mut conn = Connection::new(Script::pieces(&[two, two]));
        for _ in 0..2 {
            conn.send(b"GET /next HTTP/1.1\r\n\r\n").expect("sent");
            let head = conn.head().expect("head");
            assert_eq!(conn.body(&head, 10).expect("body"), b"a");
            assert!(conn.reusable());
        }
        assert_eq!(
            conn.stream().written,
            b"GET /next HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"
        );
    }
}
