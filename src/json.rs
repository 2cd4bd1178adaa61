//! JSON written by hand where serde would cost more binary than it saves: the Slack
//! payload's few flat objects, string literals for them and for log lines, and JSON
//! laid out for reading.

/// A JSON object written key by key, in the order written. Deriving `Serialize` for these
/// three flat shapes cost several KB of generic serialiser code; this costs a few hundred bytes.
pub struct Object(String);

impl Object {
    pub fn new() -> Object {
        Object(String::from("{"))
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        quote(&mut self.0, key);
        self.0.push(':');
    }

    pub fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        quote(&mut self.0, value);
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

/// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
pub fn quote(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    escape(out, s);
    out.push('"');
}

/// The inside of a JSON string literal. Unescaped runs are copied whole: pushing char by
/// char made this a third of a warm invocation's instructions.
pub fn escape(out: &mut String, s: &str) {
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0..=0x1f => 'u',
            _ => continue,
        };
        out.push_str(&s[run..i]);
        out.push('\\');
        out.push(short);
        if short == 'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
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
    fn objects_keep_their_key_order() {
        let mut o = Object::new();
        o.string("b", "x");
        o.raw("a", "[1]");
        assert_eq!(o.finish(), r#"{"b":"x","a":[1]}"#);
        assert_eq!(Object::new().finish(), "{}");
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
