//! The HTTP request inside a Function URL event (API Gateway's payload format 2.0): method,
//! path, headers and the body's bytes. Nothing in it is trusted yet: the caller checks
//! Slack's signature over the body before reading any of it.

use super::Refused;
use crate::base64;
use crate::error::Error;
use serde_json::Value;

/// One HTTP request, as the function's URL received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// As sent (`rawPath`), not decoded.
    pub path: String,
    /// Names in lower case, as Function URLs give them; a header sent several times is one
    /// entry, its values joined with commas.
    pub headers: Vec<(String, String)>,
    /// The bytes the client sent: a base64 body is decoded, so that a signature over it can
    /// be checked.
    pub body: Vec<u8>,
}

/// Why a Function URL event gives no request to check.
#[derive(Debug)]
pub enum Unreadable {
    /// Not an event Lambda writes for a Function URL: reported like any other bad event.
    Event(Error),
    /// A request whose body Lambda says is base64 and is not: answered, since the client
    /// is waiting (400).
    Body(Refused),
}

impl Request {
    /// The value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the header `name` holds a comma. For a header whose value never holds one
    /// (Slack's timestamp and signature) that means it was sent more than once: a Function
    /// URL joins the values of a repeated header with commas.
    pub fn is_repeated(&self, name: &str) -> bool {
        self.header(name).is_some_and(|value| value.contains(','))
    }
}

/// Whether `event` may be a Function URL event: it has a `requestContext` key. Cheap, on the
/// raw bytes, so that an alarm pays nothing for the check: in an SNS or EventBridge event the
/// words can only appear as a key (a value is never followed by a colon) or escaped inside a
/// string. `parse` decides.
pub fn is_function_url(event: &[u8]) -> bool {
    const KEY: &[u8] = b"\"requestContext\"";
    // Found by its `q`, as an SQS batch is (`alarm/sqs.rs`).
    let mut rest = event;
    while let Some(at) = crate::bytes::find(rest, KEY, 3) {
        // `get`, not indexing: no panic's location and call kept for bounds that hold.
        rest = rest.get(at + KEY.len()..).unwrap_or_default();
        let after = rest
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if after == Some(&b':') {
            return true;
        }
    }
    false
}

/// The request in a Function URL event.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
pub fn parse(event: &[u8]) -> Result<Request, Unreadable> {
    let event: Value = serde_json::from_slice(event)
        .map_err(|_| invalid("a Function URL event that is not a JSON object"))?;
    if event.get("version").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(
            "a request without `version` 2.0: not a Function URL event",
        ));
    }
    let http = event.get("requestContext").and_then(|c| c.get("http"));
    let method = http
        .and_then(|h| h.get("method"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("a Function URL event without `requestContext.http.method`"))?;
    let path = event
        .get("rawPath")
        .or_else(|| http.and_then(|h| h.get("path")))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("a Function URL event without `rawPath`"))?;
    let headers = headers(event.get("headers"))?;
    let body = match event.get("body") {
        None | Some(Value::Null) => "",
        Some(Value::String(body)) => body.as_str(),
        Some(_) => return Err(invalid("a Function URL event whose `body` is not text")),
    };
    let encoded = match event.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(encoded)) => *encoded,
        Some(_) => {
            return Err(invalid(
                "a Function URL event whose `isBase64Encoded` is not true or false",
            ))
        }
    };
    let body = if encoded {
        base64::decode(body.as_bytes()).ok_or(Unreadable::Body(Refused {
            status: 400,
            why: "the body is not the base64 the Function URL says it is",
        }))?
    } else {
        body.as_bytes().to_vec()
    };
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body,
    })
}

/// `headers` with lower-case names. Two names that differ only in case are one header,
/// joined as a Function URL joins a repeated one, so that the repetition still shows.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn headers(headers: Option<&Value>) -> Result<Vec<(String, String)>, Unreadable> {
    let map = match headers {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(invalid(
                "a Function URL event whose `headers` is not an object",
            ))
        }
    };
    let mut out: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (name, value) in map {
        let value = value
            .as_str()
            .ok_or_else(|| invalid("a Function URL event with a header that is not text"))?;
        let name = name.to_ascii_lowercase();
        match out.iter_mut().find(|(known, _)| *known == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => out.push((name, value.to_string())),
        }
    }
    Ok(out)
}

fn invalid(why: &str) -> Unreadable {
    Unreadable::Event(Error::InvalidEvent(why.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A click as a Function URL hands it over: Slack's form post, base64-encoded.
    const CLICK: &str = r#"{
      "version": "2.0",
      "routeKey": "$default",
      "rawPath": "/",
      "rawQueryString": "",
      "headers": {
        "content-length": "47",
        "x-amzn-tls-version": "TLSv1.3",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        "x-forwarded-for": "192.0.2.10",
        "accept": "application/json,*/*",
        "x-slack-signature": "v0=0d5f0a9d4d2f3b9a9c6a1f5c1b0e8d7a6c5b4a39281706f5e4d3c2b1a0998877",
        "x-slack-request-timestamp": "1767225600",
        "content-type": "application/x-www-form-urlencoded",
        "host": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "accept-encoding": "gzip,deflate"
      },
      "requestContext": {
        "accountId": "anonymous",
        "apiId": "abcdefghijklmnopqrstuvwxyz012345",
        "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
        "domainPrefix": "abcdefghijklmnopqrstuvwxyz012345",
        "http": {
          "method": "POST",
          "path": "/",
          "protocol": "HTTP/1.1",
          "sourceIp": "192.0.2.10",
          "userAgent": "Slackbot 1.0 (+https://api.slack.com/robots)"
        },
        "requestId": "4f1e1a8c-0c5e-4a57-9d43-2f8f2e0b6a11",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 1767225600000
      },
      "body": "cGF5bG9hZD0lN0IlMjJ0eXBlJTIyJTNBJTIyYmxvY2tfYWN0aW9ucyUyMiU3RA==",
      "isBase64Encoded": true
    }"#;

    fn with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut event: Value = serde_json::from_str(CLICK).expect("the test event");
        change(&mut event);
        event.to_string().into_bytes()
    }

    fn event_error(result: Result<Request, Unreadable>) -> String {
        match result {
            Err(Unreadable::Event(e)) => {
                assert_eq!(e.error_type(), "Event.Invalid");
                e.to_string()
            }
            other => panic!("not an event error: {other:?}"),
        }
    }

    #[test]
    fn a_click_is_read_with_its_body_decoded() {
        assert!(is_function_url(CLICK.as_bytes()));
        let request = parse(CLICK.as_bytes()).expect("a request");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/");
        assert_eq!(
            request.body,
            b"payload=%7B%22type%22%3A%22block_actions%22%7D"
        );
        assert_eq!(request.headers.len(), 12);
        assert_eq!(
            request.header("x-slack-request-timestamp"),
            Some("1767225600")
        );
        assert_eq!(
            request.header("X-Slack-Request-Timestamp"),
            Some("1767225600")
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.header("x-slack-retry-num"), None);
        assert!(!request.is_repeated("x-slack-signature"));
        assert!(!request.is_repeated("x-slack-retry-num"));
    }

    #[test]
    fn a_text_body_is_taken_as_it_is_and_a_missing_one_is_empty() {
        let text = with(|e| {
            e["body"] = "payload=%7B%7D".into();
            e["isBase64Encoded"] = false.into();
        });
        assert_eq!(parse(&text).expect("a request").body, b"payload=%7B%7D");
        // Not decoded when Lambda does not say it is base64, even if it could be.
        let looks_encoded = with(|e| {
            e["body"] = "TWFu".into();
            e["isBase64Encoded"] = false.into();
        });
        assert_eq!(parse(&looks_encoded).expect("a request").body, b"TWFu");
        for absent in [
            with(|e| {
                e.as_object_mut().map(|o| o.remove("body"));
                e["isBase64Encoded"] = false.into();
            }),
            with(|e| e["body"] = Value::Null),
            with(|e| {
                e.as_object_mut().map(|o| o.remove("isBase64Encoded"));
                e["body"] = "".into();
            }),
        ] {
            assert_eq!(parse(&absent).expect("a request").body, b"");
        }
        let get = with(|e| {
            e["requestContext"]["http"]["method"] = "GET".into();
            e["rawPath"] = "/favicon.ico".into();
            e.as_object_mut().map(|o| o.remove("headers"));
        });
        let request = parse(&get).expect("a request");
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/favicon.ico")
        );
        assert!(request.headers.is_empty());
    }

    #[test]
    fn a_body_that_is_not_the_base64_it_claims_is_a_400() {
        for body in [
            "payload=%7B%7D",
            "cGF5bG9hZD0",
            "cGF5 bG9h",
            "cGF5bG9hZD0lN0IlN0Q=\n",
        ] {
            match parse(&with(|e| e["body"] = body.into())) {
                Err(Unreadable::Body(refused)) => {
                    assert_eq!(refused.status, 400);
                    assert!(!refused.why.contains(body));
                }
                other => panic!("{body:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_repeated_header_shows() {
        let twice = with(|e| {
            e["headers"]["x-slack-signature"] = "v0=aa,v0=bb".into();
        });
        let request = parse(&twice).expect("a request");
        assert!(request.is_repeated("x-slack-signature"));
        assert!(request.is_repeated("X-Slack-Signature"));
        assert!(!request.is_repeated("x-slack-request-timestamp"));
        // Two spellings of one name are one header: the repetition is not lost.
        let cased = with(|e| {
            e["headers"]["X-Slack-Request-Timestamp"] = "1767225000".into();
        });
        let request = parse(&cased).expect("a request");
        assert_eq!(request.headers.len(), 12);
        assert!(request.is_repeated("x-slack-request-timestamp"));
        assert_eq!(
            request.header("x-slack-request-timestamp"),
            Some("1767225000,1767225600")
        );
    }

    #[test]
    fn an_event_lambda_would_not_write_is_invalid() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"[]".to_vec(), "`version` 2.0"),
            (b"{\"requestContext\":".to_vec(), "not a JSON object"),
            (with(|e| e["version"] = "1.0".into()), "`version` 2.0"),
            (with(|e| e["version"] = 2.0.into()), "`version` 2.0"),
            (
                with(|e| {
                    e.as_object_mut().map(|o| o.remove("version"));
                }),
                "`version` 2.0",
            ),
            (
                with(|e| {
                    e["requestContext"]["http"]
                        .as_object_mut()
                        .map(|o| o.remove("method"));
                }),
                "requestContext.http.method",
            ),
            (
                with(|e| e["requestContext"]["http"]["method"] = "".into()),
                "requestContext.http.method",
            ),
            (
                with(|e| e["requestContext"] = "POST".into()),
                "requestContext.http.method",
            ),
            (
                with(|e| {
                    e.as_object_mut().map(|o| o.remove("rawPath"));
                    e["requestContext"]["http"]
                        .as_object_mut()
                        .map(|o| o.remove("path"));
                }),
                "`rawPath`",
            ),
            (with(|e| e["headers"] = "x".into()), "`headers`"),
            (
                with(|e| e["headers"]["x-slack-signature"] = 1.into()),
                "header",
            ),
            (with(|e| e["body"] = serde_json::json!({})), "`body`"),
            (
                with(|e| e["isBase64Encoded"] = "true".into()),
                "`isBase64Encoded`",
            ),
        ];
        for (event, words) in cases {
            let why = event_error(parse(&event));
            assert!(why.contains(words), "{why}");
            // Our own words only: nothing of the request.
            for leak in ["v0=", "cGF5", "Slackbot", "192.0.2.10"] {
                assert!(!why.contains(leak), "{why}");
            }
        }
    }

    #[test]
    fn the_path_falls_back_to_the_http_context() {
        let event = with(|e| {
            e.as_object_mut().map(|o| o.remove("rawPath"));
            e["requestContext"]["http"]["path"] = "/slack".into();
        });
        assert_eq!(parse(&event).expect("a request").path, "/slack");
    }

    #[test]
    fn alarms_are_not_taken_for_function_url_events() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let mut seen = 0;
        for entry in std::fs::read_dir(root).expect("events/") {
            let path = entry.expect("an entry").path();
            let event = std::fs::read(&path).expect("an event");
            assert!(!is_function_url(&event), "{}", path.display());
            seen += 1;
        }
        assert!(seen > 5);
        // Inside an SNS message the key is escaped; as a value it has no colon after it.
        for event in [
            &br#"{"Records":[{"Sns":{"Message":"{\"requestContext\":{}}"}}]}"#[..],
            br#"{"detail":{"alarmName":"requestContext","state":{"value":"ALARM"}}}"#,
            br#"{"a":["requestContext" , 1]}"#,
            br#"requestContext:"#,
            b"",
        ] {
            assert!(
                !is_function_url(event),
                "{}",
                String::from_utf8_lossy(event)
            );
        }
        for event in [
            &br#"{"requestContext":{}}"#[..],
            br#"{"x":"requestContext","requestContext" :{}}"#,
            b"{\"requestContext\"\n\t: {}}",
        ] {
            assert!(is_function_url(event), "{}", String::from_utf8_lossy(event));
        }
    }
}
