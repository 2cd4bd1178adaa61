//! Log lines on stdout, where Lambda collects them into CloudWatch Logs.
//!
//! Two formats, those of Lambda's advanced logging controls: plain text by default, and
//! with `AWS_LAMBDA_LOG_FORMAT=JSON` one JSON object per line (`timestamp`, `level`,
//! `requestId`, `message`, then the line's fields), which Logs Insights queries by field.
//! A line below `AWS_LAMBDA_LOG_LEVEL` is dropped before any of it is formatted.
//!
//! A line is built where it happens and written by `emit`:
//! `log::line(Level::Info, &"invocation done").str("alarm", name).num("durationMs", ms).emit()`.
//! A failed write to stdout is ignored: logging must never stop an alarm.

use crate::error::Error;
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The name Lambda uses, in `AWS_LAMBDA_LOG_LEVEL` and in a JSON line's `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(name))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub format: Format,
    pub level: Level,
}

// Set once at start-up; atomics keep `enabled` a single load on the hot path.
static MIN_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicBool = AtomicBool::new(false);
/// The invocation being served: every line written meanwhile carries its id.
static REQUEST_ID: Mutex<String> = Mutex::new(String::new());

pub fn init(settings: Settings) {
    MIN_LEVEL.store(settings.level as u8, Ordering::Relaxed);
    JSON.store(settings.format == Format::Json, Ordering::Relaxed);
}

/// Whether a line at `level` would be written: ask before building anything costly for one.
fn enabled(level: Level) -> bool {
    level as u8 >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Marks the start (`Some`) or the end (`None`) of an invocation.
pub fn set_request_id(id: Option<&str>) {
    let mut current = REQUEST_ID.lock().unwrap_or_else(PoisonError::into_inner);
    current.clear();
    current.push_str(id.unwrap_or(""));
}

/// A line at `level`; `debug`, `error` and `fatal` below are its common shorthands.
pub fn line<'a>(level: Level, message: &'a dyn fmt::Display) -> Line<'a> {
    Line {
        level,
        message,
        fields: Vec::new(),
        enabled: enabled(level),
    }
}

pub fn debug<'a>(message: &'a dyn fmt::Display) -> Line<'a> {
    line(Level::Debug, message)
}

pub fn error<'a>(message: &'a dyn fmt::Display) -> Line<'a> {
    line(Level::Error, message)
}

pub fn fatal<'a>(message: &'a dyn fmt::Display) -> Line<'a> {
    line(Level::Fatal, message)
}

/// One log line being built. Fields given `None` are left out, so optional facts
/// need no `if` at the call site.
#[must_use = "a log line is only written by `emit`"]
pub struct Line<'a> {
    level: Level,
    message: &'a dyn fmt::Display,
    fields: Vec<(&'static str, Value<'a>)>,
    enabled: bool,
}

enum Value<'a> {
    /// Free text (an alarm name, an error message): always quoted in text lines.
    Text(Cow<'a, str>),
    /// A value from a fixed vocabulary (`ok`, `hit`, an errorType): bare in text lines.
    Word(Cow<'a, str>),
    Number(u64),
}

impl<'a> Line<'a> {
    fn field(mut self, key: &'static str, value: Option<Value<'a>>) -> Self {
        if let (true, Some(value)) = (self.enabled, value) {
            self.fields.push((key, value));
        }
        self
    }

    pub fn str(self, key: &'static str, value: impl Into<Option<&'a str>>) -> Self {
        let value = value.into().map(|v| Value::Text(Cow::Borrowed(v)));
        self.field(key, value)
    }

    pub fn word(self, key: &'static str, value: impl Into<Option<&'a str>>) -> Self {
        let value = value.into().map(|v| Value::Word(Cow::Borrowed(v)));
        self.field(key, value)
    }

    pub fn num(self, key: &'static str, value: impl Into<Option<u64>>) -> Self {
        let value = value.into().map(Value::Number);
        self.field(key, value)
    }

    /// `errorType` and `errorMessage`, named as in the Runtime API's error body.
    pub fn error(self, err: &Error) -> Self {
        if !self.enabled {
            return self;
        }
        let error_type = Value::Word(Cow::Owned(err.error_type()));
        let message = Value::Text(Cow::Owned(err.to_string()));
        self.field("errorType", Some(error_type))
            .field("errorMessage", Some(message))
    }

    pub fn emit(self) {
        if !self.enabled {
            return;
        }
        let format = if JSON.load(Ordering::Relaxed) {
            Format::Json
        } else {
            Format::Text
        };
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let text = {
            let id = REQUEST_ID.lock().unwrap_or_else(PoisonError::into_inner);
            self.render(format, &id, now_ms)
        };
        // One write per line, so that lines never interleave.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn render(&self, format: Format, request_id: &str, now_ms: u64) -> String {
        let mut out = String::with_capacity(160);
        match format {
            Format::Text => {
                out.push_str(self.level.as_str());
                if !request_id.is_empty() {
                    out.push(' ');
                    let _ = OneLine(&mut out).write_str(request_id);
                }
                out.push(' ');
                let _ = write!(OneLine(&mut out), "{}", self.message);
                for (key, value) in &self.fields {
                    // Pushed, not formatted: this line is written on every invocation.
                    out.push(' ');
                    out.push_str(key);
                    out.push('=');
                    match value {
                        Value::Number(n) => number(&mut out, *n),
                        Value::Word(w) if is_bare(w) => out.push_str(w),
                        Value::Text(s) | Value::Word(s) => crate::json::quote(&mut out, s),
                    }
                }
            }
            Format::Json => {
                out.push_str("{\"timestamp\":\"");
                timestamp(&mut out, now_ms);
                let _ = write!(out, "\",\"level\":\"{}\"", self.level.as_str());
                if !request_id.is_empty() {
                    out.push_str(",\"requestId\":");
                    quoted(&mut out, format_args!("{request_id}"));
                }
                out.push_str(",\"message\":");
                quoted(&mut out, format_args!("{}", self.message));
                for (key, value) in &self.fields {
                    out.push_str(",\"");
                    out.push_str(key);
                    out.push_str("\":");
                    match value {
                        Value::Number(n) => number(&mut out, *n),
                        Value::Text(s) | Value::Word(s) => crate::json::quote(&mut out, s),
                    }
                }
                out.push('}');
            }
        }
        out.push('\n');
        // The last door out: a credential in a field that no caller sanitized stops here.
        match crate::text::redact(&out) {
            Cow::Borrowed(_) => out,
            Cow::Owned(redacted) => redacted,
        }
    }
}

/// `n` in decimal, without `core::fmt`: every line has a few.
fn number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// A word that needs no quotes in a `key=value` text line.
fn is_bare(word: &str) -> bool {
    !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'))
}

/// Writes `text` as a JSON string literal; text lines quote the same way.
fn quoted(out: &mut String, text: fmt::Arguments<'_>) {
    out.push('"');
    let _ = Escaped(out).write_fmt(text);
    out.push('"');
}

/// Escapes what a JSON string literal may not hold as is.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::json::escape(self.0, s);
        Ok(())
    }
}

/// Keeps a text line one line: control characters (newlines) become spaces.
struct OneLine<'a>(&'a mut String);

impl fmt::Write for OneLine<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Most text (a request id, the line's message) is printable ASCII: copied whole.
        if crate::text::is_plain(s) {
            self.0.push_str(s);
        } else {
            self.0.extend(s.chars().filter_map(crate::text::printable));
        }
        Ok(())
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-28T11:38:08.171Z`.
fn timestamp(out: &mut String, epoch_ms: u64) {
    let at = time::OffsetDateTime::from_unix_timestamp((epoch_ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        epoch_ms % 1000
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn render(line: Line<'_>, format: Format) -> String {
        line.render(format, "8476a536-e9f4", 1_764_329_888_171)
    }

    /// A line that is written whatever the global level: tests run in parallel,
    /// and one of them changes that level.
    fn built<'a>(level: Level, message: &'a dyn fmt::Display) -> Line<'a> {
        Line {
            enabled: true,
            ..line(level, message)
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 200, 4_294_967_296, u64::MAX] {
            let mut out = String::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_millis() {
        let at = |ms| {
            let mut s = String::new();
            timestamp(&mut s, ms);
            s
        };
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(951_868_799_999), "2000-02-29T23:59:59.999Z");
        assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_764_329_888_171), "2025-11-28T11:38:08.171Z");
        assert_eq!(at(1_735_689_599_000), "2024-12-31T23:59:59.000Z");
    }

    #[test]
    fn text_line_quotes_free_text_and_keeps_one_line() {
        let line = built(Level::Info, &"invocation\ndone")
            .num("posted", 1)
            .str("alarm", "cpu \"high\"")
            .str("missing", None)
            .word("secretCache", "hit")
            .word("odd", "two words");
        assert_eq!(
            render(line, Format::Text),
            "INFO 8476a536-e9f4 invocation done posted=1 alarm=\"cpu \\\"high\\\"\" secretCache=hit odd=\"two words\"\n"
        );
        let plain = built(Level::Warn, &"started").render(Format::Text, "", 0);
        assert_eq!(plain, "WARN started\n");
    }

    #[test]
    fn json_line_is_one_object_with_the_fields() {
        let err = Error::SlackRejected {
            status: 404,
            body: "no_service".into(),
        };
        let line = built(Level::Error, &"invocation failed")
            .str("alarm", "a\u{1}b\\")
            .num("slackStatus", 404)
            .error(&err);
        let text = render(line, Format::Json);
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["timestamp"], "2025-11-28T11:38:08.171Z");
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["requestId"], "8476a536-e9f4");
        assert_eq!(v["message"], "invocation failed");
        assert_eq!(v["alarm"], "a\u{1}b\\");
        assert_eq!(v["slackStatus"], 404);
        assert_eq!(v["errorType"], "Slack.Rejected");
        assert_eq!(
            v["errorMessage"],
            "Slack refused the message: HTTP 404 no_service"
        );
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 8);
    }

    /// Formats itself only when asked, and counts how often it was.
    struct Counted<'a>(&'a Cell<u32>);

    impl fmt::Display for Counted<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str("formatted")
        }
    }

    #[test]
    fn filtered_lines_are_never_formatted() {
        // The only test that touches the global settings; others render directly.
        init(Settings {
            format: Format::Text,
            level: Level::Error,
        });
        let count = Cell::new(0);
        assert!(!enabled(Level::Warn) && enabled(Level::Error) && enabled(Level::Fatal));
        let counted = Counted(&count);
        let skipped = line(Level::Info, &counted).error(&Error::Timeout("post to Slack"));
        assert!(skipped.fields.is_empty());
        skipped.emit();
        debug(&Counted(&count)).emit();
        assert_eq!(count.get(), 0);
        init(Settings::default());
        assert!(enabled(Level::Info) && !enabled(Level::Debug));
    }

    #[test]
    fn level_names_parse_in_any_case() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.as_str()), Some(level));
            assert_eq!(Level::parse(&level.as_str().to_lowercase()), Some(level));
        }
        assert_eq!(Level::parse("VERBOSE"), None);
        assert!(Level::Trace < Level::Debug && Level::Error < Level::Fatal);
    }

    #[test]
    fn a_credential_in_any_field_is_redacted() {
        crate::text::register_credential("xoxb-log-rs-credential");
        for format in [Format::Text, Format::Json] {
            let line = built(Level::Warn, &"echo xoxb-log-rs-credential")
                .str("why", "Bearer xoxb-log-rs-credential")
                .word("w", "xoxb-log-rs-credential");
            let text = render(line, format);
            assert!(!text.contains("xoxb-log-rs-credential"), "{text}");
            assert_eq!(text.matches("[redacted]").count(), 3, "{text}");
        }
    }
}
