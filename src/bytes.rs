//! Text scanned eight bytes at a time, for the few bytes a scan stops at (a quote to
//! escape, an `&` for Slack): one word test instead of eight byte tests, where nearly
//! every byte is one to copy as it is. The classic bit tricks (Hacker's Delight 6-1).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Where a scan from `at` stops: past every whole word of eight bytes (in memory order,
/// the first byte the lowest) that `plain` finds plain, at the first that it does not or
/// at the last few bytes. Whole words of one slice: at opt-level "z" a sub-slice is a
/// function call and eight single-byte loads are eight bounds checks.
#[inline(always)]
pub fn skip_words(bytes: &[u8], at: usize, plain: impl Fn(u64) -> bool) -> usize {
    let mut end = at;
    for chunk in bytes.get(at..).unwrap_or_default().chunks_exact(8) {
        match <[u8; 8]>::try_from(chunk) {
            Ok(word) if plain(u64::from_le_bytes(word)) => end += 8,
            _ => break,
        }
    }
    end
}

/// Non-zero when a byte of `word` is below `n` (at most 0x80); zero when none is.
#[inline(always)]
pub fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH
}

/// Non-zero when a byte of `word` is `b`; zero when none is.
#[inline(always)]
pub fn has(word: u64, b: u8) -> u64 {
    below(word ^ (ONES * u64::from(b)), 1)
}

/// Non-zero when a byte of `word` is 0x80 or above (not ASCII); zero when none is.
#[inline(always)]
pub fn non_ascii(word: u64) -> u64 {
    word & HIGH
}

/// Where `needle` first occurs in `haystack`, found by its byte at `rare`: one that the text
/// around seldom holds, which memchr finds with vector instructions. memchr's own substring
/// search (`memmem`) would add 3.5 KB to the zip.
pub fn find(haystack: &[u8], needle: &[u8], rare: usize) -> Option<usize> {
    let byte = *needle.get(rare)?;
    let mut from = rare;
    while let Some(i) = memchr::memchr(byte, haystack.get(from..)?) {
        let at = from + i - rare;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from += i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_byte_at_each_place() {
        for place in 0..8 {
            for b in 0..=255u8 {
                let mut eight = [b'a'; 8];
                eight[place] = b;
                let word = u64::from_le_bytes(eight);
                assert_eq!(below(word, 0x20) != 0, b < 0x20, "{b:#x} at {place}");
                assert_eq!(has(word, b'"') != 0, b == b'"', "{b:#x} at {place}");
                assert_eq!(has(word, b'&') != 0, b == b'&', "{b:#x} at {place}");
                assert_eq!(non_ascii(word) != 0, b >= 0x80, "{b:#x} at {place}");
            }
        }
        // Neighbours that borrow: 0x00 after 0x01, 0x22 after 0x23.
        let word = u64::from_le_bytes(*b"\x01\x00\x23\x22aaaa");
        assert!(below(word, 0x20) != 0 && has(word, b'"') != 0);
    }

    #[test]
    fn find_is_the_first_occurrence_wherever_the_rare_byte_is() {
        let needle = b"\"aws:sqs\"";
        for rare in 0..needle.len() {
            assert_eq!(find(b"\"aws:sqs\"", needle, rare), Some(0));
            assert_eq!(
                find(b"qs \"aws:sqq \"aws:sqs\" \"aws:sqs\"", needle, rare),
                Some(12)
            );
            assert_eq!(find(b"\"aws:sqs", needle, rare), None);
            assert_eq!(find(b"", needle, rare), None);
        }
        assert_eq!(find(b"abc", needle, 99), None);
    }

    #[test]
    fn a_scan_stops_at_the_first_word_not_plain_or_the_tail() {
        let no_x = |w: u64| has(w, b'x') == 0;
        assert_eq!(skip_words(b"abcdefghijklmnop", 0, no_x), 16);
        assert_eq!(skip_words(b"abcdefghijklmnopqr", 0, no_x), 16);
        assert_eq!(skip_words(b"abcdefghijkxmnopqr", 0, no_x), 8);
        assert_eq!(skip_words(b"abcdefghijkxmnopqr", 3, no_x), 11);
        assert_eq!(skip_words(b"abcdefghijkxmnopqrstuvwxyz", 4, no_x), 4);
        assert_eq!(skip_words(b"abcdefghijkxmnopqr", 12, no_x), 12);
        assert_eq!(skip_words(b"abc", 7, no_x), 7);
    }
}
