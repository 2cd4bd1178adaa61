//! Slack's mrkdwn text: escaping what we did not write, and cutting to a length.

/// Slack treats `&`, `<` and `>` as control characters in any text we did not write.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    // Byte-wise with whole unescaped runs copied: these are ASCII and never inside a
    // multi-byte character, so every slice boundary is a char boundary.
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        out.push_str(&text[run..i]);
        out.push_str(entity);
        run = i + 1;
    }
    out.push_str(&text[run..]);
    out
}

/// Escaped text of at most `max_chars` characters; a cut shows as a final `…` and never
/// splits an `&amp;`-style entity (every `&` in escaped text starts one).
pub fn cut(mut text: String, max_chars: usize) -> String {
    if text.chars().nth(max_chars).is_none() {
        return text;
    }
    let mut end = text
        .char_indices()
        .nth(max_chars.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    if let Some(amp) = text[..end].rfind('&') {
        if !text[amp..end].contains(';') {
            end = amp;
        }
    }
    text.truncate(end);
    text.push('…');
    text
}

/// `escape` then `cut`.
pub fn escape_cut(text: &str, max_chars: usize) -> String {
    cut(escape(text), max_chars)
}

/// JSON text laid out two spaces per level, keys in the publisher's order (a parsed map
/// would sort them). Only called on text that parsed as JSON; stops soon after `max_bytes`
/// so that deeply nested input cannot make it large.
pub fn indent_json(raw: &str, max_bytes: usize) -> String {
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
    fn escapes_the_three_control_characters() {
        assert_eq!(escape("a<b>&c *d*"), "a&lt;b&gt;&amp;c *d*");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn cut_is_visible_and_counts_characters() {
        assert_eq!(cut("abcdef".into(), 6), "abcdef");
        assert_eq!(cut("abcdefg".into(), 6), "abcde…");
        assert_eq!(cut("ééééééé".into(), 3), "éé…");
        assert_eq!(cut(String::new(), 3), "");
        let long = cut("x".repeat(50_000), 39_000);
        assert_eq!(long.chars().count(), 39_000);
        assert!(long.ends_with("x…"));
    }

    #[test]
    fn cut_never_splits_an_entity() {
        // Cutting at 6 would leave `ab&am`: the whole entity goes instead.
        assert_eq!(escape_cut("ab&cdefgh", 6), "ab…");
        assert_eq!(escape_cut("a<bcdefgh", 8), "a&lt;bc…");
        assert_eq!(escape_cut("<<<<", 7), "&lt;…");
    }

    #[test]
    fn json_is_indented_in_its_own_key_order() {
        let raw = r#" {"z": 1, "a" :[1,{"b":"x, {y}: \"q\""}], "e": {}, "f": [ ]} "#;
        assert_eq!(
            indent_json(raw, 1000),
            "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {\n      \"b\": \"x, {y}: \\\"q\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}"
        );
        let deep = "[".repeat(100) + &"1,".repeat(10_000) + "1" + &"]".repeat(100);
        assert!(indent_json(&deep, 5000).len() < 5300);
    }
}
