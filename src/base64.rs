//! Standard base64 with padding (RFC 4648, section 4), decoding only: the blobs AWS answers
//! carry in JSON (CloudWatch's graph) and the bodies a Function URL hands over. Our own
//! twenty lines: the `base64` crate's engine costs more binary than these two uses.

/// The bytes `text` encodes; `None` for anything but padded standard base64 (no line breaks,
/// no URL-safe alphabet, padding only at the end).
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, chunk) in text.chunks(4).enumerate() {
        let last = i + 1 == text.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut bits = 0u32;
        for &c in &chunk[..4 - pad] {
            bits = bits << 6 | sextet(c)?;
        }
        bits <<= 6 * pad as u32;
        out.extend_from_slice(&bits.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_standard_base64_is_decoded() {
        assert_eq!(decode(b"").as_deref(), Some(&b""[..]));
        assert_eq!(decode(b"TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode(b"TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode(b"TQ==").as_deref(), Some(&b"M"[..]));
        assert_eq!(
            decode(b"iVBORw0KGgo=").as_deref(),
            Some(&b"\x89PNG\r\n\x1a\n"[..])
        );
        // A form post as a Function URL passes it on.
        assert_eq!(
            decode(b"cGF5bG9hZD0lN0IlN0Q=").as_deref(),
            Some(&b"payload=%7B%7D"[..])
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            &b"TWF"[..],
            b"TQ=a",
            b"T===",
            b"TQ==TWFu",
            b"TW\nu",
            b"TW-u",
            b"TW_u",
            b"TWFu ",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
