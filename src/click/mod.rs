//! A click on a button of one of our Slack messages, as it arrives through the function's
//! URL: the request read from the event, refused unless Slack signed it, then what was
//! clicked, as plain data. Nothing here answers Slack or acts on the click.

pub mod payload;
pub mod request;
pub mod response;
pub mod signature;

pub use payload::Click;
pub use request::Request;

/// Why a request is answered without being acted on: the HTTP status and a few words for
/// the log. The words are always our own, never the request's body, headers or the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub why: &'static str,
}

/// The largest body read, decoded. A click's payload carries the whole message back, URL
/// encoded: an alarm's post comes to a few KB, so this leaves room for the blocks to grow.
/// A text notification cut at `slack/message.rs`'s 39,000 characters can pass it, and a
/// click on one would be refused.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const TIMESTAMP: &str = "x-slack-request-timestamp";
const SIGNATURE: &str = "x-slack-signature";

/// The click in `request`, if Slack sent it. Checked in this order, each answered with its
/// own status: the path (404), the method (405), the body's size (413), Slack's signature
/// and its timestamp (401) and only then, once the body is Slack's word, what it says
/// (400). No byte of an unsigned body is read beyond the signature's HMAC.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
pub fn read(request: &Request, signing_secret: &[u8], now_secs: i64) -> Result<Click, Refused> {
    precheck(request)?;
    // verify refuses these too (a comma is neither a digit nor hex); said here in words
    // that tell a replayed or tampered request from a header sent twice.
    for name in [TIMESTAMP, SIGNATURE] {
        if request.is_repeated(name) {
            return Err(Refused {
                status: 401,
                why: "a Slack signature header was sent more than once",
            });
        }
    }
    signature::verify(
        signing_secret,
        request.header(TIMESTAMP),
        request.header(SIGNATURE),
        &request.body,
        now_secs,
    )?;
    payload::parse(&request.body).map_err(|not| Refused {
        status: 400,
        why: not.why(),
    })
}

/// What is refused without the signing secret: the path, the method, the size. The caller
/// runs it before fetching the secret, so that junk costs no Secrets Manager call.
pub fn precheck(request: &Request) -> Result<(), Refused> {
    if request.path != "/" {
        return Err(Refused {
            status: 404,
            why: "not the path Slack posts to",
        });
    }
    if request.method != "POST" {
        return Err(Refused {
            status: 405,
            why: "not a POST",
        });
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(Refused {
            status: 413,
            why: "the body is larger than a click's 64 KiB",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::hmac;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_767_225_600;
    const PAYLOAD: &str = r#"{"type":"block_actions","team":{"id":"T0123WXYZ"},"api_app_id":"A0456APP1","user":{"id":"U0123ABCD","username":"jane.doe"},"container":{"type":"message","message_ts":"1767225600.123456","channel_id":"C0789CHAN"},"channel":{"id":"C0789CHAN"},"message":{"ts":"1767225600.123456","text":"ALARM: cpu-high"},"response_url":"https://hooks.slack.com/actions/T0123WXYZ/1/x","actions":[{"type":"button","action_id":"ack","block_id":"b","value":"cpu-high","action_ts":"1767225612.345678"}]}"#;

    fn signature_for(timestamp: &str, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        let mut signed = format!("v0:{timestamp}:").into_bytes();
        signed.extend_from_slice(body);
        let tag = hmac::sign(&key, &signed);
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("v0={hex}")
    }

    fn form(payload: &str) -> Vec<u8> {
        let encoded: String =
            percent_encoding::utf8_percent_encode(payload, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        format!("payload={encoded}").into_bytes()
    }

    /// A request as Slack sends it, signed now.
    fn signed(body: Vec<u8>) -> Request {
        let timestamp = NOW.to_string();
        Request {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                (TIMESTAMP.into(), timestamp.clone()),
                (SIGNATURE.into(), signature_for(&timestamp, &body)),
                (
                    "user-agent".into(),
                    "Slackbot 1.0 (+https://api.slack.com/robots)".into(),
                ),
            ],
            body,
        }
    }

    fn set_header(request: &mut Request, name: &str, value: &str) {
        match request.headers.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_string(),
            None => request.headers.push((name.to_string(), value.to_string())),
        }
    }

    fn status(result: Result<Click, Refused>) -> u16 {
        match result {
            Ok(_) => 200,
            Err(refused) => refused.status,
        }
    }

    #[test]
    fn a_signed_click_is_read() {
        let click = read(&signed(form(PAYLOAD)), SECRET, NOW).expect("a click");
        assert_eq!(click.action_id, "ack");
        assert_eq!(click.value.as_deref(), Some("cpu-high"));
        assert_eq!(click.channel, "C0789CHAN");
        assert_eq!(click.message["text"], "ALARM: cpu-high");
    }

    #[test]
    fn a_click_read_from_a_whole_function_url_event() {
        let body = form(PAYLOAD);
        let timestamp = NOW.to_string();
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/x-www-form-urlencoded",
                "x-slack-request-timestamp": timestamp,
                "x-slack-signature": signature_for(&timestamp, &body),
            },
            "requestContext": {
                "http": { "method": "POST", "path": "/", "protocol": "HTTP/1.1" },
                "timeEpoch": 1767225600000u64
            },
            "body": base64_encode(&body),
            "isBase64Encoded": true
        })
        .to_string();
        assert!(request::is_function_url(event.as_bytes()));
        let request = match request::parse(event.as_bytes()) {
            Ok(request) => request,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(
            read(&request, SECRET, NOW).expect("a click").user,
            "U0123ABCD"
        );
    }

    /// Only for building test events: the product only decodes.
    fn base64_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut bits = [0u8; 3];
            bits[..chunk.len()].copy_from_slice(chunk);
            let n = u32::from_be_bytes([0, bits[0], bits[1], bits[2]]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn the_checks_come_in_their_order() {
        let good = signed(form(PAYLOAD));
        // Everything wrong at once: the path decides.
        let mut all_wrong = good.clone();
        all_wrong.path = "/admin".into();
        all_wrong.method = "GET".into();
        all_wrong.body = vec![b'x'; MAX_BODY_BYTES + 1];
        all_wrong.headers.clear();
        assert_eq!(status(read(&all_wrong, SECRET, NOW)), 404);
        all_wrong.path = "/".into();
        assert_eq!(status(read(&all_wrong, SECRET, NOW)), 405);
        all_wrong.method = "POST".into();
        assert_eq!(status(read(&all_wrong, SECRET, NOW)), 413);
        all_wrong.body = b"payload=not-json".to_vec();
        assert_eq!(status(read(&all_wrong, SECRET, NOW)), 401);
        // A body that is no click at all is not looked at before the signature holds.
        let unsigned = Request {
            headers: Vec::new(),
            ..signed(b"payload=%7B".to_vec())
        };
        assert_eq!(status(read(&unsigned, SECRET, NOW)), 401);
        // Signed, and not a click: now it is read.
        assert_eq!(
            status(read(&signed(b"payload=%7B".to_vec()), SECRET, NOW)),
            400
        );
        assert_eq!(status(read(&good, SECRET, NOW)), 200);
    }

    #[test]
    fn only_a_post_to_the_root() {
        for path in ["", "/x", "//", "/?", "/%2F", "/ "] {
            let mut request = signed(form(PAYLOAD));
            request.path = path.into();
            assert_eq!(status(read(&request, SECRET, NOW)), 404, "{path:?}");
        }
        for method in ["GET", "HEAD", "PUT", "OPTIONS", "post", "Post", ""] {
            let mut request = signed(form(PAYLOAD));
            request.method = method.into();
            assert_eq!(status(read(&request, SECRET, NOW)), 405, "{method:?}");
        }
    }

    #[test]
    fn the_decoded_body_is_measured() {
        // Up to the limit, a signed body is read; past it, not even its signature.
        let padding = |n: usize| {
            let mut body = form(PAYLOAD);
            body.extend_from_slice(b"&pad=");
            body.resize(n, b'x');
            body
        };
        assert_eq!(
            status(read(&signed(padding(MAX_BODY_BYTES)), SECRET, NOW)),
            200
        );
        assert_eq!(
            status(read(&signed(padding(MAX_BODY_BYTES + 1)), SECRET, NOW)),
            413
        );
        // The size is the decoded bytes': base64 for 64 KiB is a third longer and passes.
        let body = padding(MAX_BODY_BYTES);
        let event = serde_json::json!({
            "version": "2.0",
            "rawPath": "/",
            "headers": {},
            "requestContext": { "http": { "method": "POST" } },
            "body": base64_encode(&body),
            "isBase64Encoded": true
        })
        .to_string();
        let Ok(mut request) = request::parse(event.as_bytes()) else {
            panic!("a request")
        };
        assert!(base64_encode(&body).len() > MAX_BODY_BYTES);
        request.headers = signed(body).headers;
        assert_eq!(status(read(&request, SECRET, NOW)), 200);
    }

    #[test]
    fn signature_failures_are_401s() {
        let good = signed(form(PAYLOAD));
        let mut twice = good.clone();
        let signature = good.header(SIGNATURE).expect("signed").to_string();
        set_header(&mut twice, SIGNATURE, &format!("{signature},{signature}"));
        assert_eq!(
            read(&twice, SECRET, NOW),
            Err(Refused {
                status: 401,
                why: "a Slack signature header was sent more than once"
            })
        );
        let mut twice = good.clone();
        set_header(&mut twice, TIMESTAMP, &format!("{NOW},{NOW}"));
        assert_eq!(status(read(&twice, SECRET, NOW)), 401);
        let mut tampered = good.clone();
        tampered.body = form(&PAYLOAD.replace("cpu-high", "cpu-low"));
        assert_eq!(status(read(&tampered, SECRET, NOW)), 401);
        let mut unsigned = good.clone();
        unsigned.headers.retain(|(name, _)| name != SIGNATURE);
        assert_eq!(status(read(&unsigned, SECRET, NOW)), 401);
        assert_eq!(status(read(&good, SECRET, NOW + 301)), 401);
        assert_eq!(status(read(&good, SECRET, NOW - 301)), 401);
        assert_eq!(
            status(read(&good, b"another-secret-of-another-app", NOW)),
            401
        );
        assert_eq!(status(read(&good, b"", NOW)), 401);
        // Header names arrive in lower case, but any case is found.
        let mut cased = good.clone();
        for (name, _) in &mut cased.headers {
            *name = name.to_uppercase();
        }
        assert_eq!(status(read(&cased, SECRET, NOW)), 200);
    }

    #[test]
    fn refusals_never_repeat_the_request_or_the_secret() {
        let secret_text = std::str::from_utf8(SECRET).expect("text");
        let mut cases = Vec::new();
        let mut request = signed(form(&PAYLOAD.replace("block_actions", "view_submission")));
        cases.push(read(&request, SECRET, NOW));
        request.path = "/secret-path".into();
        cases.push(read(&request, SECRET, NOW));
        let mut request = signed(form(PAYLOAD));
        request.method = "DELETE".into();
        cases.push(read(&request, SECRET, NOW));
        let mut request = signed(form(PAYLOAD));
        set_header(&mut request, SIGNATURE, "v0=leaked-header-value");
        cases.push(read(&request, SECRET, NOW));
        cases.push(read(
            &signed(b"payload=%7B%22leaked%22".to_vec()),
            SECRET,
            NOW,
        ));
        for case in cases {
            let Err(refused) = case else {
                panic!("{case:?} was read")
            };
            for leak in [
                secret_text,
                "view_submission",
                "secret-path",
                "DELETE",
                "leaked",
                "T0123WXYZ",
                "Slackbot",
            ] {
                assert!(!refused.why.contains(leak), "{}", refused.why);
            }
        }
    }
}
