//! Text from outside (a peer's answer, an alarm's words) made safe to show: one line,
//! printable, short, and with nothing that changes how the text around it displays. The
//! one set of invisible characters for every renderer: logs, errors, mrkdwn, file titles.

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
}
