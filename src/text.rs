//! Text from outside (a peer's answer, an alarm's words) made safe to show: one line,
//! printable, short, and with nothing that changes how the text around it displays.

/// Keeps text from a remote peer printable and short before it lands in an error
/// message, a log line or an HTTP header.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.trim().chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        out.extend(printable(c));
    }
    out
}

/// What a log line or an error message shows for `c`: a control character (a newline
/// among them) becomes a space, so that one line stays one line; a character that only
/// changes how the text around it displays is dropped.
pub fn printable(c: char) -> Option<char> {
    if is_invisible(c) {
        None
    } else if c.is_control() {
        Some(' ')
    } else {
        Some(c)
    }
}

/// Zero-width marks and bidirectional embeddings, overrides and isolates: with them an
/// alarm name could display as another name.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_controls_and_cuts() {
        assert_eq!(sanitize(" a\nb\r\u{0}c ", 10), "a b  c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("ééé", 2), "éé…");
        assert_eq!(sanitize("cpu\u{202E}hgih\u{202C}\u{200B}", 20), "cpuhgih");
    }
}
