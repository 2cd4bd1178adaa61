//! Text scanned eight bytes at a time, for the few bytes a scan stops at (a quote to
//! escape, an `&` for Slack): one word test instead of eight byte tests, where nearly
//! every byte is one to copy as it is. The classic bit tricks (Hacker's Delight 6-1).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at` as one word (in memory order: the first is the lowest), if
/// eight are left. Indexed one by one, and inlined: at opt-level "z" a sub-slice or a call
/// per word costs more than the test it makes.
#[inline(always)]
pub fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    if at.checked_add(8)? > bytes.len() {
        return None;
    }
    Some(u64::from_le_bytes([
        bytes[at],
        bytes[at + 1],
        bytes[at + 2],
        bytes[at + 3],
        bytes[at + 4],
        bytes[at + 5],
        bytes[at + 6],
        bytes[at + 7],
    ]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_byte_at_each_place() {
        for place in 0..8 {
            for b in 0..=255u8 {
                let mut eight = [b'a'; 8];
                eight[place] = b;
                let word = word_at(&eight, 0).expect("eight bytes");
                assert_eq!(below(word, 0x20) != 0, b < 0x20, "{b:#x} at {place}");
                assert_eq!(has(word, b'"') != 0, b == b'"', "{b:#x} at {place}");
                assert_eq!(has(word, b'&') != 0, b == b'&', "{b:#x} at {place}");
                assert_eq!(non_ascii(word) != 0, b >= 0x80, "{b:#x} at {place}");
            }
        }
        // Neighbours that borrow: 0x00 after 0x01, 0x22 after 0x23.
        let word = word_at(b"\x01\x00\x23\x22aaaa", 0).expect("eight bytes");
        assert!(below(word, 0x20) != 0 && has(word, b'"') != 0);
    }

    #[test]
    fn a_word_only_where_eight_bytes_are_left() {
        assert_eq!(
            word_at(b"abcdefgh", 0),
            Some(u64::from_le_bytes(*b"abcdefgh"))
        );
        assert_eq!(word_at(b"abcdefgh", 1), None);
        assert_eq!(word_at(b"abc", usize::MAX), None);
    }
}
