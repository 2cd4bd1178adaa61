//! Real tools in the loop: where the pinned PyPI tools are (`make tools`), free ports, waiting
//! for a port, a small HTTP client for fixtures, and the command lines documented in
//! `docs/local-testing.md` (the tests run those very lines, so the page cannot drift).

use crate::emulator::{Bootstrap, SAFETY_TIMEOUT};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The repository: two levels above this crate (tests/testkit).
pub fn root() -> &'static Path {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.parent().and_then(Path::parent).unwrap_or(kit)
}

/// The tool named by the environment variable `var` (`make test` sets it), else the one `make
/// tools` installed at `target/venv-services/bin/{name}`. Missing: the test fails and says how
/// to install it (never a silent skip).
pub fn tool(var: &str, name: &str) -> PathBuf {
    let how = format!(
        "`make tools` installs it into target/venv-services (pinned versions: Makefile), or set \
         {var}=/path/to/{name}"
    );
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "{var}={} does not exist: {how}",
                path.display()
            );
            path
        }
        None => {
            let path = root().join("target/venv-services/bin").join(name);
            assert!(path.is_file(), "{name} is not installed: {how}");
            path
        }
    }
}

pub fn moto_server() -> PathBuf {
    tool("MOTO_SERVER", "moto_server")
}

pub fn cargo_lambda() -> PathBuf {
    tool("CARGO_LAMBDA", "cargo-lambda")
}

/// A port that was free a moment ago on 127.0.0.1 (for tools that cannot bind port 0 and
/// report it: cargo-lambda takes `--invoke-port 0` as "the default, 9000").
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .port()
}

/// Polls (bounded by the safety timeout) until 127.0.0.1:`port` accepts a connection. Returns
/// false as soon as `process` has exited (say, the port was taken after all).
pub fn wait_port(port: u16, process: &mut Bootstrap) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + SAFETY_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if process.try_status().is_some() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "127.0.0.1:{port} did not accept connections within {} s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            SAFETY_TIMEOUT.as_secs(),
            process.stdout(),
            process.stderr()
        );
        // A poll interval, not a synchronisation: the loop ends on the condition.
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP answer: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// One plain-HTTP request to a loopback test service; any status is an answer.
pub fn http(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(SAFETY_TIMEOUT))
        .build()
        .into();
    let request = ureq::http::Request::builder().method(method).uri(url);
    let request = headers
        .iter()
        .fold(request, |r, (name, value)| r.header(name, value))
        .body(body.to_vec())
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut response = agent
        .run(request)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{method} {url}: reading the answer: {e}"));
    Answer { status, body }
}

/// The page whose commands the tool tests run.
pub const LOCAL_TESTING_DOC: &str = "docs/local-testing.md";

/// Every line of a fenced code block in `docs/local-testing.md` that starts with `prefix`,
/// split into words (single quotes group, as in sh; a trailing `# comment` is dropped).
pub fn doc_commands(prefix: &str) -> Vec<Vec<String>> {
    let path = root().join(LOCAL_TESTING_DOC);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut in_code = false;
    let mut commands = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if in_code && line.trim_start().starts_with(prefix) {
            commands.push(shell_words(line));
        }
    }
    commands
}

/// The one documented command starting with `prefix` that also contains `needle`.
pub fn doc_command(prefix: &str, needle: &str) -> Vec<String> {
    let matching: Vec<Vec<String>> = doc_commands(prefix)
        .into_iter()
        .filter(|words| words.join(" ").contains(needle))
        .collect();
    match &matching[..] {
        [one] => one.clone(),
        _ => panic!(
            "{LOCAL_TESTING_DOC}: expected exactly one command `{prefix} …` containing {needle:?} \
             in a code block, found {matching:?}"
        ),
    }
}

/// Words of one sh command line: whitespace separates, '…' quotes literally, `#` at the start of
/// a word begins a comment.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            '#' if !quoted && word.is_none() => break,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote in {line:?}");
    words.extend(word);
    words
}

/// `words` with the value after `flag` replaced by `value` (the flag must be there).
pub fn with_flag(words: &[String], flag: &str, value: &str) -> Vec<String> {
    let at = words
        .iter()
        .position(|w| w == flag)
        .unwrap_or_else(|| panic!("{flag} missing in {words:?}"));
    let mut words = words.to_vec();
    assert!(at + 1 < words.len(), "{flag} has no value in {words:?}");
    words[at + 1] = value.to_string();
    words
}

#[test]
fn shell_words_split_like_sh() {
    assert_eq!(
        shell_words(r#"  cargo lambda invoke --data-ascii '{"hello": 1}' -P 9000  # note"#),
        [
            "cargo",
            "lambda",
            "invoke",
            "--data-ascii",
            r#"{"hello": 1}"#,
            "-P",
            "9000"
        ]
    );
    assert_eq!(shell_words("a '' b"), ["a", "", "b"]);
}
