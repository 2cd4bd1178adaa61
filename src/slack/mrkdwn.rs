//! Slack's mrkdwn text: escaping what we did not write, cutting to a length, and dates.

use crate::alarm::timestamp::epoch_seconds;
use crate::text::is_invisible;

/// Slack treats `&`, `<` and `>` as control characters in any text we did not write; and
/// characters that only change how the text around them displays (`text::is_invisible`)
/// are dropped, so that an alarm name cannot display as another one.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    let mut i = 0;
    // Bytes, not chars: the characters replaced are ASCII, and an invisible one is U+00AD or
    // above, so it starts with a byte of 0xC2 or more; only those are decoded. Decoding every
    // character cost about 60 instructions each, a tenth of a warm invocation's.
    let bytes = text.as_bytes();
    while i < bytes.len() {
        i = crate::bytes::skip_words(bytes, i, |word| !may_need_escape(word));
        // The word that may hold one, or the last few bytes, one at a time.
        let end = bytes.len().min(i + 8);
        while i < end {
            let (entity, len) = match bytes[i] {
                b'&' => ("&amp;", 1),
                b'<' => ("&lt;", 1),
                b'>' => ("&gt;", 1),
                0xC2.. => match text.get(i..).and_then(|rest| rest.chars().next()) {
                    Some(c) if is_invisible(c) => ("", c.len_utf8()),
                    _ => {
                        i += 1;
                        continue;
                    }
                },
                _ => {
                    i += 1;
                    continue;
                }
            };
            out.push_str(&text[run..i]);
            out.push_str(entity);
            i += len;
            run = i;
        }
    }
    out.push_str(&text[run..]);
    out
}

/// Whether any of eight bytes is `&`, `<`, `>` or not ASCII (maybe invisible). Exact
/// when false.
fn may_need_escape(word: u64) -> bool {
    use crate::bytes::{has, non_ascii};
    has(word, b'&') | has(word, b'<') | has(word, b'>') | non_ascii(word) != 0
}

/// Escaped text of at most `max_chars` characters; a cut shows as a final `…` and never
/// splits an `&amp;`-style entity (every `&` in escaped text starts one).
pub fn cut(mut text: String, max_chars: usize) -> String {
    // No more bytes than `max_chars` is no more characters: most text is not counted.
    if text.len() <= max_chars || text.chars().nth(max_chars).is_none() {
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

/// A Slack date token: each reader sees the time in their own time zone; clients that
/// cannot format it show the timestamp as CloudWatch sent it. Text we cannot read is
/// shown as it came.
pub fn date(s: &str) -> String {
    let plain = escape(s.trim());
    match epoch_seconds(s) {
        Some(epoch) => format!("<!date^{epoch}^{{date_short_pretty}} {{time}}|{plain}>"),
        None => plain,
    }
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
    fn escapes_found_eight_bytes_at_a_time_are_every_one() {
        let reference = |text: &str| -> String {
            text.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    c if !c.is_ascii() && is_invisible(c) => String::new(),
                    c => c.to_string(),
                })
                .collect()
        };
        for c in [
            '&', '<', '>', '*', '\u{200B}', '\u{202E}', '\u{AD}', 'é', '→', '🙂',
        ] {
            for at in 0..20 {
                let text = format!("{}{c}{}", "a".repeat(at), "b".repeat(19 - at));
                assert_eq!(escape(&text), reference(&text), "{c:?} at {at}");
                let twice = format!("{text}{c}{text}");
                assert_eq!(escape(&twice), reference(&twice), "{c:?} at {at}");
            }
        }
    }

    #[test]
    fn invisible_characters_are_dropped() {
        // U+202E would show `prod-db-hgih` as `prod-db-high`.
        assert_eq!(escape("prod-db-\u{202E}hgih\u{202C}"), "prod-db-hgih");
        assert_eq!(escape("a\u{200B}b\u{2066}c\u{2069}&\u{200F}"), "abc&amp;");
        // Those the issue found passing through, one of each other kind, and a tag run
        // spelling a hidden word.
        assert_eq!(
            escape("a\u{61C}b\u{180E}c\u{2060}d\u{FEFF}e\u{AD}f\u{FE0F}g\u{E0068}\u{E0069}h"),
            "abcdefgh"
        );
        // What shows stays, whatever bytes it starts with: → … ▁ ₿ 日 😀.
        assert_eq!(escape("OK → ALARM … ▁ ₿ 日 😀"), "OK → ALARM … ▁ ₿ 日 😀");
    }

    #[test]
    fn escaping_bytes_drops_the_same_characters_as_decoding_each() {
        let per_char = |text: &str| -> String {
            text.chars()
                .filter(|&c| !is_invisible(c))
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    c => c.to_string(),
                })
                .collect()
        };
        // Every character up to U+FFFF, and the planes the invisible ones above it are in.
        let text: String = (0..=0x1_FFFF)
            .chain(0xE_0000..=0xE_1000)
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(escape(&text), per_char(&text));
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
    fn slack_token_with_plain_fallback() {
        assert_eq!(
            date("2026-11-28T11:38:08.123+0000"),
            "<!date^1795865888^{date_short_pretty} {time}|2026-11-28T11:38:08.123+0000>"
        );
        assert_eq!(date("<soon>"), "&lt;soon&gt;");
    }
}
