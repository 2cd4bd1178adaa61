//! JSON written by hand: everything the bootstrap sends (the Slack payloads, the request
//! bodies to AWS and Slack, the Runtime API's error bodies, the CloudWatch widget), string
//! literals for them and for log lines, and JSON laid out for reading. What arrives is
//! read with serde_json.

use crate::bytes;
use serde_json::Number;
use std::fmt::Write;

/// A JSON object written key by key, in the order written. Deriving `Serialize` for these
/// shapes cost several KB of generic serialiser code; this costs a few hundred bytes.
/// Nested objects and arrays are written in place, by the closure given for them.
pub struct Object(String);

/// A JSON array written item by item, inside an [`Object`] or on its own.
pub struct Array(String);

impl Object {
    pub fn new() -> Object {
        Object(String::from("{"))
    }

    /// For an object about `bytes` long: grown once instead of doubling its way there.
    pub fn with_capacity(bytes: usize) -> Object {
        let mut text = String::with_capacity(bytes);
        text.push('{');
        Object(text)
    }

    fn key(&mut self, key: &str) {
        comma(&mut self.0);
        // Keys are ours (`text`, `blocks`, an attribute name): copied without the escape
        // scan, which a card's seventy keys paid in full.
        if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.0.push('"');
            self.0.push_str(key);
            self.0.push_str("\":");
        } else {
            quote(&mut self.0, key);
            self.0.push(':');
        }
    }

    pub fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        quote(&mut self.0, value);
    }

    /// Written as serde_json writes it: integers in full, floats as the shortest text that
    /// reads back as the same `f64`.
    pub fn number(&mut self, key: &str, value: impl Into<Number>) {
        self.key(key);
        // Writing to a String cannot fail.
        let _ = write!(self.0, "{}", value.into());
    }

    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.0.push_str(if value { "true" } else { "false" });
    }

    pub fn object(&mut self, key: &str, fill: impl FnOnce(&mut Object)) {
        self.key(key);
        self.0.push('{');
        fill(self);
        self.0.push('}');
    }

    pub fn array(&mut self, key: &str, fill: impl FnOnce(&mut Array)) {
        self.key(key);
        let mut array = Array(std::mem::take(&mut self.0));
        array.0.push('[');
        fill(&mut array);
        array.0.push(']');
        self.0 = array.0;
    }

    /// `json` must already be JSON.
    pub fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.0.push_str(json);
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

impl Array {
    pub fn new() -> Array {
        Array(String::from("["))
    }

    pub fn finish(mut self) -> String {
        self.0.push(']');
        self.0
    }

    pub fn string(&mut self, value: &str) {
        comma(&mut self.0);
        quote(&mut self.0, value);
    }

    pub fn object(&mut self, fill: impl FnOnce(&mut Object)) {
        comma(&mut self.0);
        let mut object = Object(std::mem::take(&mut self.0));
        object.0.push('{');
        fill(&mut object);
        object.0.push('}');
        self.0 = object.0;
    }

    pub fn array(&mut self, fill: impl FnOnce(&mut Array)) {
        comma(&mut self.0);
        self.0.push('[');
        fill(self);
        self.0.push(']');
    }
}

/// The comma before a member or item, unless it is the first of its object or array: every
/// value written ends in a quote, digit, letter, `}` or `]`, so only a container just
/// opened ends in `{` or `[`.
fn comma(out: &mut String) {
    if !matches!(out.as_bytes().last(), Some(b'{' | b'[')) {
        out.push(',');
    }
}

/// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
pub fn quote(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    escape(out, s);
    out.push('"');
}

/// The inside of a JSON string literal. Unescaped runs are copied whole: pushing char by
/// char made this a third of a warm invocation's instructions; and they are found eight
/// bytes at a time (a card is some 2 KB of text, nearly none of it escaped).
pub fn escape(out: &mut String, s: &str) {
    let text = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < text.len() {
        i = bytes::skip_words(text, i, |word| !may_need_escape(word));
        // The word that may hold one, or the last few bytes, one at a time.
        let end = text.len().min(i + 8);
        while i < end {
            let b = text[i];
            i += 1;
            let short = match b {
                b'"' => '"',
                b'\\' => '\\',
                b'\n' => 'n',
                b'\r' => 'r',
                b'\t' => 't',
                0..=0x1f => 'u',
                _ => continue,
            };
            // Only ASCII is escaped: `i - 1` and `run` fall between characters.
            out.push_str(&s[run..i - 1]);
            out.push('\\');
            out.push(short);
            if short == 'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            run = i;
        }
    }
    out.push_str(&s[run..]);
}

/// Whether any of eight bytes is a quote, a backslash or a control character. Exact
/// when false.
fn may_need_escape(word: u64) -> bool {
    bytes::below(word, 0x20) | bytes::has(word, b'"') | bytes::has(word, b'\\') != 0
}

/// JSON text laid out two spaces per level, keys in the publisher's order (a parsed map
/// would sort them). Only called on text that parsed as JSON; stops soon after `max_bytes`
/// so that deeply nested input cannot make it large.
pub fn indent(raw: &str, max_bytes: usize) -> String {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    let mut out = String::with_capacity(raw.len().min(max_bytes) + 64);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > max_bytes {
            break;
        }
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_valid_json_whatever_they_hold() {
        let nasty =
            "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} us \u{1f} cr \r del \u{7f} é 🙂 \u{2028}";
        let mut out = String::new();
        quote(&mut out, nasty);
        assert_eq!(serde_json::from_str::<String>(&out).expect("valid"), nasty);
        assert_eq!(
            out,
            "\"quote \\\" backslash \\\\ newline \\n tab \\t nul \\u0000 bell \\u0007 us \\u001f cr \\r del \u{7f} é 🙂 \u{2028}\""
        );
    }

    #[test]
    fn escapes_found_eight_bytes_at_a_time_are_every_one() {
        // Each character at each place within and across the eight-byte words.
        let mut odd: Vec<char> = (0..=0x7f).filter_map(char::from_u32).collect();
        odd.extend(['é', '🙂', '\u{2028}', '\u{80}', '\u{ff}']);
        for c in odd {
            for at in 0..20 {
                let text = format!("{}{c}{}", "a".repeat(at), "b".repeat(19 - at));
                let mut fast = String::new();
                escape(&mut fast, &text);
                let slow: String = text
                    .chars()
                    .map(|c| match c {
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\n' => "\\n".to_string(),
                        '\r' => "\\r".to_string(),
                        '\t' => "\\t".to_string(),
                        c if u32::from(c) < 0x20 => format!("\\u{:04x}", u32::from(c)),
                        c => c.to_string(),
                    })
                    .collect();
                assert_eq!(fast, slow, "{c:?} at {at}");
            }
        }
    }

    #[test]
    fn objects_keep_their_key_order() {
        let mut o = Object::new();
        o.string("b", "x");
        o.raw("a", "[1]");
        assert_eq!(o.finish(), r#"{"b":"x","a":[1]}"#);
        assert_eq!(Object::new().finish(), "{}");
    }

    #[test]
    fn nested_objects_and_arrays_are_written_in_place() {
        let mut o = Object::new();
        o.object("empty", |_| {});
        o.array("none", |_| {});
        o.object("n", |n| {
            n.bool("t", true);
            n.bool("f", false);
            n.object("in", |i| i.string("k", "v"));
        });
        o.array("a", |a| {
            a.string("s");
            a.object(|_| {});
            a.object(|i| {
                i.number("x", 1u32);
                i.array("y", |y| y.string("\""));
            });
            a.array(|_| {});
            a.array(|i| {
                i.array(|_| {});
                i.string("z");
            });
        });
        o.string("last", "");
        assert_eq!(
            o.finish(),
            r#"{"empty":{},"none":[],"n":{"t":true,"f":false,"in":{"k":"v"}},"a":["s",{},{"x":1,"y":["\""]},[],[[],"z"]],"last":""}"#
        );
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let floats = [
            0.1,
            -0.5,
            1.5,
            80.5,
            1e15,
            1.5e15,
            1e16,
            1e20,
            1e21,
            1e22,
            1e-5,
            1e-7,
            1.5e-7,
            123456.789,
            0.30000000000000004,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
        ];
        for f in floats {
            let Some(n) = Number::from_f64(f) else {
                panic!("{f} is finite")
            };
            let mut o = Object::new();
            o.number("v", n);
            assert_eq!(o.finish(), serde_json::json!({ "v": f }).to_string(), "{f}");
        }
        let mut o = Object::new();
        o.number("u", u64::MAX);
        o.number("i", i64::MIN);
        o.number("w", 800u32);
        assert_eq!(
            o.finish(),
            r#"{"u":18446744073709551615,"i":-9223372036854775808,"w":800}"#
        );
    }

    #[test]
    fn json_is_indented_in_its_own_key_order() {
        let raw = r#" {"z": 1, "a" :[1,{"b":"x, {y}: \"q\""}], "e": {}, "f": [ ]} "#;
        assert_eq!(
            indent(raw, 1000),
            "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {\n      \"b\": \"x, {y}: \\\"q\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}"
        );
        let deep = "[".repeat(100) + &"1,".repeat(10_000) + "1" + &"]".repeat(100);
        assert!(indent(&deep, 5000).len() < 5300);
    }
}
