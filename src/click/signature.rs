//! Slack's request signing: `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256, keyed with
//! the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{body as sent}`. Anyone can
//! reach a Function URL; only Slack knows the secret.

use super::Refused;
use ring::hmac;

/// How far the signed timestamp may be from our clock, either way: Slack's own limit. A
/// request recorded and sent again later is refused once this has passed.
pub const MAX_SKEW_SECS: u64 = 300;

const PREFIX: &str = "v0=";
/// The signed text's start.
const VERSION: &[u8] = b"v0:";
/// A SHA-256 tag in hex.
const HEX_DIGITS: usize = 64;

/// `Ok` when `signature` is Slack's for `body` at `timestamp`, and `timestamp` within
/// [`MAX_SKEW_SECS`] of `now_secs`. Strict about the form: a header sent twice arrives
/// joined with a comma and fails it.
pub fn verify(
    signing_secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), Refused> {
    // Anyone can compute an HMAC under an empty key: no secret must mean no request.
    if signing_secret.is_empty() {
        return Err(refused("no signing secret to check the signature with"));
    }
    let timestamp = timestamp.ok_or(refused("no X-Slack-Request-Timestamp header"))?;
    let signature = signature.ok_or(refused("no X-Slack-Signature header"))?;
    let sent_at = seconds(timestamp).ok_or(refused(
        "X-Slack-Request-Timestamp is not a number of seconds",
    ))?;
    if sent_at.abs_diff(now_secs) > MAX_SKEW_SECS {
        return Err(refused(
            "X-Slack-Request-Timestamp is more than 5 minutes from now",
        ));
    }
    let tag = signature
        .strip_prefix(PREFIX)
        .and_then(tag)
        .ok_or(refused("X-Slack-Signature is not v0= and 64 hex digits"))?;
    // The timestamp is signed as its text, exactly as sent.
    let mut signed = Vec::with_capacity(VERSION.len() + timestamp.len() + 1 + body.len());
    signed.extend_from_slice(VERSION);
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b':');
    signed.extend_from_slice(body);
    let key = hmac::Key::new(hmac::HMAC_SHA256, signing_secret);
    // ring compares in constant time: how much of a guess matched must not show in the
    // time the answer takes.
    hmac::verify(&key, &signed, &tag)
        .map_err(|_| refused("X-Slack-Signature does not match the request"))
}

fn refused(why: &'static str) -> Refused {
    Refused { status: 401, why }
}

/// Unix seconds written as digits only: `str::parse` would also take a sign.
fn seconds(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// 64 lower-case hex digits → 32 bytes. Slack writes lower case, and its own SDKs compare
/// the text as it is: one spelling of a signature, not two.
fn tag(hex: &str) -> Option<[u8; HEX_DIGITS / 2]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let hex = hex.as_bytes();
    if hex.len() != HEX_DIGITS {
        return None;
    }
    let mut out = [0u8; HEX_DIGITS / 2];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of Slack's "Verifying requests from Slack": a slash command's body.
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const NOW: i64 = 1531420618;

    fn check(timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), Refused> {
        verify(SECRET, Some(timestamp), Some(signature), body, now)
    }

    /// Our own vectors: what Slack would send, signed here.
    fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let mut signed = format!("v0:{timestamp}:").into_bytes();
        signed.extend_from_slice(body);
        let hex: String = hmac::sign(&key, &signed)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("v0={hex}")
    }

    #[test]
    fn slacks_documented_example_passes() {
        assert_eq!(check(TIMESTAMP, SIGNATURE, BODY, NOW), Ok(()));
        assert_eq!(sign(SECRET, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_fails() {
        let mismatch = Err(refused("X-Slack-Signature does not match the request"));
        let mut tampered = BODY.to_vec();
        tampered[BODY.len() - 1] ^= 1;
        assert_eq!(check(TIMESTAMP, SIGNATURE, &tampered, NOW), mismatch);
        assert_eq!(
            check(TIMESTAMP, SIGNATURE, &BODY[..BODY.len() - 1], NOW),
            mismatch
        );
        let mut longer = BODY.to_vec();
        longer.extend_from_slice(b"&text=more");
        assert_eq!(check(TIMESTAMP, SIGNATURE, &longer, NOW), mismatch);
        assert_eq!(check("1531420619", SIGNATURE, BODY, NOW), mismatch);
        // The same number written otherwise is another signed text.
        assert_eq!(check("01531420618", SIGNATURE, BODY, NOW), mismatch);
        assert_eq!(
            verify(
                b"8f742231b10e8888abcd99yyyzzz85a6",
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY,
                NOW
            ),
            mismatch
        );
        let mut flipped = SIGNATURE.to_string();
        flipped.replace_range(10..11, "0");
        assert_ne!(flipped, SIGNATURE);
        assert_eq!(check(TIMESTAMP, &flipped, BODY, NOW), mismatch);
    }

    #[test]
    fn a_timestamp_five_minutes_away_is_the_last_one_taken() {
        let stale = Err(refused(
            "X-Slack-Request-Timestamp is more than 5 minutes from now",
        ));
        for skew in [-300, -1, 0, 1, 300] {
            assert_eq!(
                check(TIMESTAMP, SIGNATURE, BODY, NOW + skew),
                Ok(()),
                "{skew}"
            );
        }
        for skew in [-301, 301, -86_400, i64::MAX - NOW] {
            assert_eq!(
                check(TIMESTAMP, SIGNATURE, BODY, NOW + skew),
                stale,
                "{skew}"
            );
        }
        assert_eq!(check(TIMESTAMP, SIGNATURE, BODY, i64::MIN), stale);
        // Signed for then, sent now: replayed.
        let now = 1_767_225_600;
        let old = (now - 301).to_string();
        let body = b"payload=%7B%7D";
        assert_eq!(
            verify(
                SECRET,
                Some(&old),
                Some(&sign(SECRET, &old, body)),
                body,
                now
            ),
            stale
        );
        let ahead = (now + 301).to_string();
        assert_eq!(
            verify(
                SECRET,
                Some(&ahead),
                Some(&sign(SECRET, &ahead, body)),
                body,
                now
            ),
            stale
        );
    }

    #[test]
    fn a_timestamp_that_is_not_digits_fails() {
        let not_seconds = Err(refused(
            "X-Slack-Request-Timestamp is not a number of seconds",
        ));
        for timestamp in [
            "",
            " 1531420618",
            "1531420618 ",
            "+1531420618",
            "-1531420618",
            "1531420618.0",
            "1.5e9",
            "0x5B47A1CA",
            "1531420618,1531420618",
            "99999999999999999999",
            "１５３１４２０６１８",
        ] {
            assert_eq!(
                check(timestamp, SIGNATURE, BODY, NOW),
                not_seconds,
                "{timestamp:?}"
            );
        }
    }

    #[test]
    fn a_signature_not_written_as_slack_writes_it_fails() {
        let malformed = Err(refused("X-Slack-Signature is not v0= and 64 hex digits"));
        let hex = &SIGNATURE[3..];
        for signature in [
            String::new(),
            hex.to_string(),
            format!("v1={hex}"),
            format!("V0={hex}"),
            format!("v0:{hex}"),
            format!("v0= {hex}"),
            format!("v0={hex} "),
            format!("v0={}", hex.to_uppercase()),
            format!("v0={}", &hex[..63]),
            format!("v0={hex}0"),
            format!("v0={}g", &hex[..63]),
            "v0=".to_string(),
            // Sent twice: a Function URL joins the two with a comma.
            format!("{SIGNATURE},{SIGNATURE}"),
            format!("{SIGNATURE}, {SIGNATURE}"),
        ] {
            assert_eq!(
                check(TIMESTAMP, &signature, BODY, NOW),
                malformed,
                "{signature:?}"
            );
        }
        // A timestamp sent twice is not a number either.
        assert!(check("1531420618,1531420618", SIGNATURE, BODY, NOW).is_err());
    }

    #[test]
    fn missing_headers_and_a_missing_secret_fail() {
        assert_eq!(
            verify(SECRET, None, Some(SIGNATURE), BODY, NOW),
            Err(refused("no X-Slack-Request-Timestamp header"))
        );
        assert_eq!(
            verify(SECRET, Some(TIMESTAMP), None, BODY, NOW),
            Err(refused("no X-Slack-Signature header"))
        );
        let unkeyed = sign(b"", TIMESTAMP, BODY);
        assert_eq!(
            verify(b"", Some(TIMESTAMP), Some(&unkeyed), BODY, NOW),
            Err(refused("no signing secret to check the signature with"))
        );
    }

    #[test]
    fn an_empty_body_is_signed_like_any_other() {
        let signature = sign(SECRET, TIMESTAMP, b"");
        assert_eq!(check(TIMESTAMP, &signature, b"", NOW), Ok(()));
        assert!(check(TIMESTAMP, &signature, b" ", NOW).is_err());
        assert!(check(TIMESTAMP, SIGNATURE, b"", NOW).is_err());
    }

    #[test]
    fn every_refusal_is_a_401_in_our_own_words() {
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let cases = [
            verify(SECRET, None, None, BODY, NOW),
            check(TIMESTAMP, "v0=xoxb-not-a-signature", BODY, NOW),
            check("later", SIGNATURE, BODY, NOW),
            check(TIMESTAMP, SIGNATURE, b"payload=secret-words", NOW),
        ];
        for case in cases {
            let Err(refusal) = case else {
                panic!("{case:?} passed")
            };
            assert_eq!(refusal.status, 401);
            for leak in [secret, "xoxb", "later", "secret-words", "a2114d57"] {
                assert!(!refusal.why.contains(leak), "{}", refusal.why);
            }
        }
    }
}
