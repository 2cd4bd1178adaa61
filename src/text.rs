//! Text from outside (a peer's answer, an alarm's words) made safe to show: one line,
//! printable, short, with nothing that changes how the text around it displays, and
//! without any credential this process holds.
//!
//! Credentials are registered once, where they are read (the secret, the environment), so
//! that no caller has to know which strings to hide: `sanitize` takes them out of a peer's
//! text before it is cut, and the two places every word leaves the process through, the log
//! line (`log.rs`) and the error message (`error.rs`, which the Runtime API also gets), take
//! them out of whatever a new code path forgot to sanitize.

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

/// Keeps text from a remote peer printable, short and free of our credentials before it
/// lands in an error message, a log line or an HTTP header.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    // Short printable ASCII without a credential (an alarm's name and state, most answers)
    // is kept as it is; a redaction may make it longer than `max_chars`, cut below.
    let plain = text.trim();
    if plain.len() <= max_chars && is_plain(plain) && matches!(redact(plain), Cow::Borrowed(_)) {
        return plain.to_string();
    }
    // Invisible characters go before the credentials are looked for, so that one inside a
    // token cannot hide it; and the credentials before the cut, so that none is left half
    // shown. A credential longer than the slack taken here is not registered.
    let shown: String = text
        .trim()
        .chars()
        .filter_map(printable)
        .take(max_chars.saturating_add(MAX_CREDENTIAL_BYTES))
        .collect();
    let mut out = match redact(&shown) {
        Cow::Borrowed(_) => shown,
        Cow::Owned(redacted) => redacted,
    };
    if let Some((cut, _)) = out.char_indices().nth(max_chars) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Printable ASCII only: text that [`printable`] leaves as it is, whole.
pub fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| (b' '..0x7f).contains(&b))
}

/// What a log line or an error message shows for `c`: a control character (a newline
/// among them) or a line or paragraph separator becomes a space, so that one line stays one
/// line; a character that only changes how the text around it displays is dropped.
pub fn printable(c: char) -> Option<char> {
    if is_invisible(c) {
        None
    } else if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
        Some(' ')
    } else {
        Some(c)
    }
}

/// Characters that show nothing themselves and change how the text around them displays:
/// with them an alarm name could display as another name, or hide words. Unicode's
/// Default_Ignorable_Code_Point (DerivedCoreProperties.txt, as of Unicode 14.0), which holds
/// every Bidi_Control (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), the zero-width
/// and invisible format characters, the variation selectors and the tags: every format
/// character (Cf) but those that show (U+0600-U+0605 and other prepended marks, Egyptian
/// hieroglyph controls); and the interlinear annotation controls U+FFF9-U+FFFB, which hide
/// the text they enclose.
pub fn is_invisible(c: char) -> bool {
    // Below U+00AD nothing is: ASCII and Latin-1 text pays one comparison.
    c >= '\u{AD}'
        && matches!(c,
            '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Shorter strings are never registered: hiding them would hide ordinary words.
const MIN_CREDENTIAL_CHARS: usize = 8;
/// Longer ones neither (an AWS session token is about 1 KB): `sanitize` looks this far
/// past its cut.
const MAX_CREDENTIAL_BYTES: usize = 4096;
/// Credentials kept: a secret with a hundred route webhooks registers some 400 strings.
/// Past this the oldest go first (a rotated secret's).
const MAX_CREDENTIALS: usize = 1024;

/// The credentials this process holds.
static CREDENTIALS: RwLock<Known> = RwLock::new(Known {
    list: Vec::new(),
    starts: Vec::new(),
    bits: [0; 64],
});

struct Known {
    /// Longest first (so that a webhook's whole path goes before its parts), each with when
    /// it was registered.
    list: Vec<(u64, Box<str>)>,
    /// The first eight bytes of each, sorted, and a bit for each of them hashed: text with no
    /// eight-byte window among them holds no credential. Every log line is checked against
    /// some thirty credentials: one pass over the line instead of thirty substring searches.
    /// A dropped credential's start stays: the starts only spare work, they never decide.
    starts: Vec<u64>,
    bits: [u64; 64],
}

impl Known {
    fn mark(&mut self, credential: &str) {
        let Some(start) = first_word(credential.as_bytes()) else {
            return;
        };
        if let Err(at) = self.starts.binary_search(&start) {
            self.starts.insert(at, start);
            let bit = slot(start);
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    fn may_hold(&self, text: &str) -> bool {
        text.as_bytes().windows(8).any(|window| {
            first_word(window).is_some_and(|start| {
                let bit = slot(start);
                // The bit first: a few instructions, and wrong one window in a hundred.
                self.bits[bit / 64] & (1 << (bit % 64)) != 0
                    && self.starts.binary_search(&start).is_ok()
            })
        })
    }
}

fn first_word(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// One of 4,096 bits, from a multiplicative hash's top twelve bits.
fn slot(word: u64) -> usize {
    (word.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize
}

/// Adds a credential that `redact` takes out of text from now on. Blank or short strings
/// are ignored.
pub fn register_credential(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_CREDENTIAL_CHARS || value.len() > MAX_CREDENTIAL_BYTES {
        return;
    }
    let mut known = CREDENTIALS.write().unwrap_or_else(PoisonError::into_inner);
    let known = &mut *known;
    let list = &mut known.list;
    if list.iter().any(|(_, held)| **held == *value) {
        return;
    }
    let next = list.iter().map(|(at, _)| at + 1).max().unwrap_or(0);
    if list.len() >= MAX_CREDENTIALS {
        if let Some(oldest) = (0..list.len()).min_by_key(|&i| list[i].0) {
            list.remove(oldest);
        }
    }
    let at = list.partition_point(|(_, held)| held.len() >= value.len());
    list.insert(at, (next, value.into()));
    known.mark(value);
}

/// `text` with every registered credential replaced by [`REDACTED`], wherever it appears.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = CREDENTIALS.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = Cow::Borrowed(text);
    if !known.may_hold(text) {
        return out;
    }
    for (_, credential) in known.list.iter() {
        if out.contains(&**credential) {
            out = Cow::Owned(out.replace(&**credential, REDACTED));
        }
    }
    out
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

    #[test]
    fn every_bidi_control_and_invisible_format_character_is_dropped() {
        let invisible = [
            '\u{AD}',
            '\u{34F}',
            '\u{61C}',
            '\u{115F}',
            '\u{1160}',
            '\u{17B4}',
            '\u{17B5}',
            '\u{180B}',
            '\u{180E}',
            '\u{180F}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2060}',
            '\u{2061}',
            '\u{2064}',
            '\u{2065}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{206A}',
            '\u{206F}',
            '\u{3164}',
            '\u{FE00}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{FFA0}',
            '\u{FFF0}',
            '\u{FFF9}',
            '\u{FFFB}',
            '\u{1BCA0}',
            '\u{1BCA3}',
            '\u{1D173}',
            '\u{1D17A}',
            '\u{E0000}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{E0100}',
            '\u{E01EF}',
            '\u{E0FFF}',
        ];
        for c in invisible {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
            assert_eq!(printable(c), None, "U+{:04X}", c as u32);
        }
        // Their neighbours, and what looks like them but shows, stay.
        let shown = [
            'a',
            'é',
            '\u{AC}',
            '\u{AE}',
            '\u{34E}',
            '\u{61B}',
            '\u{61D}',
            '\u{180A}',
            '\u{1810}',
            '\u{200A}',
            '\u{2010}',
            '\u{2027}',
            '\u{202F}',
            '\u{2070}',
            '→',
            '…',
            '▁',
            '₿',
            '\u{FDFF}',
            '\u{FE10}',
            '\u{FFFC}',
            '\u{FFFD}',
            '\u{1D172}',
            '\u{1D17B}',
            '\u{E1000}',
            '😀',
            '日',
        ];
        for c in shown {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
        // Line breaks that `char` does not call controls still keep a line one line.
        for c in ['\u{85}', '\u{2028}', '\u{2029}'] {
            assert_eq!(printable(c), Some(' '), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn credentials_are_redacted_wherever_they_appear() {
        register_credential("xoxb-test-TEXTRS-0001-credential");
        register_credential("/services/TTEXTRS01/BTEXTRS01/textrsWebhookSecret");
        register_credential("textrsWebhookSecret");
        let echoed = "invalid_auth: Bearer xoxb-test-TEXTRS-0001-credential (sent to \
                      https://hooks.example/services/TTEXTRS01/BTEXTRS01/textrsWebhookSecret)";
        assert_eq!(
            sanitize(echoed, 500),
            "invalid_auth: Bearer [redacted] (sent to https://hooks.example[redacted])"
        );
        // A part of a path, and a path JSON escaped: the long parts are registered too.
        assert_eq!(
            redact("\\/services\\/x\\/textrsWebhookSecret"),
            "\\/services\\/x\\/[redacted]"
        );
        // Invisible characters inside it do not hide it.
        assert_eq!(
            sanitize(
                "token xoxb-test-TEXTRS-\u{200B}0001-\u{FEFF}credential!",
                100
            ),
            "token [redacted]!"
        );
        // Short and plain, but longer than allowed once redacted: cut all the same.
        register_credential("ocho8888");
        assert_eq!(sanitize("x ocho8888", 10), "x [redacte…");
        // Cut after the redaction: never half a credential.
        let late = format!("{}xoxb-test-TEXTRS-0001-credential", "x".repeat(30));
        assert_eq!(sanitize(&late, 35), format!("{}[reda…", "x".repeat(30)));
        // Text without any is borrowed as it was.
        assert!(matches!(redact("ok"), Cow::Borrowed("ok")));
    }

    #[test]
    fn a_credential_is_found_at_every_place_in_a_line() {
        register_credential("xoxp-TEXTRS-everywhere");
        for before in 0..20 {
            for after in 0..10 {
                let line = format!(
                    "{}xoxp-TEXTRS-everywhere{}",
                    "é".repeat(before),
                    "~".repeat(after)
                );
                let shown = format!("{}[redacted]{}", "é".repeat(before), "~".repeat(after));
                assert_eq!(redact(&line), shown);
            }
        }
    }

    #[test]
    fn short_and_blank_strings_are_never_registered() {
        for short in ["", "   ", "a", "xoxb-1", "T0/B0", "seven77"] {
            register_credential(short);
        }
        assert_eq!(redact("a xoxb-1 T0/B0 seven77"), "a xoxb-1 T0/B0 seven77");
        register_credential("  eight888  ");
        assert_eq!(redact("eight888"), REDACTED);
    }
}
