//! The answer a Function URL passes back to the client: the invocation's result, a JSON
//! object Lambda turns into the HTTP response. Posted to the Runtime API like any result.

use crate::json::Object;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// `{"statusCode":…,"headers":{"content-type":…},"body":"…","isBase64Encoded":false}`.
/// Lambda would take a result without `statusCode` for a 200 with the whole result as the
/// body: the status is always written, so that the shape decides nothing.
pub fn response(status: u16, content_type_json: bool, body: &str) -> String {
    let mut out = Object::new();
    out.number("statusCode", status);
    out.object("headers", |headers| {
        headers.string("content-type", if content_type_json { JSON } else { TEXT });
    });
    out.string("body", body);
    out.bool("isBase64Encoded", false);
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn a_plain_answer() {
        assert_eq!(
            response(200, false, ""),
            r#"{"statusCode":200,"headers":{"content-type":"text/plain; charset=utf-8"},"body":"","isBase64Encoded":false}"#
        );
        assert_eq!(
            response(401, false, "X-Slack-Signature does not match the request"),
            r#"{"statusCode":401,"headers":{"content-type":"text/plain; charset=utf-8"},"body":"X-Slack-Signature does not match the request","isBase64Encoded":false}"#
        );
    }

    #[test]
    fn a_json_body_is_carried_as_a_string() {
        let body = r#"{"response_type":"ephemeral","text":"Acknowledged by <@U0123ABCD>"}"#;
        let written = response(200, true, body);
        let read: Value = serde_json::from_str(&written).expect("JSON");
        assert_eq!(
            read,
            json!({
                "statusCode": 200,
                "headers": { "content-type": "application/json" },
                "body": body,
                "isBase64Encoded": false
            })
        );
        let inner: Value =
            serde_json::from_str(read["body"].as_str().expect("text")).expect("JSON");
        assert_eq!(inner["response_type"], "ephemeral");
    }

    #[test]
    fn any_body_stays_valid_json() {
        let nasty = "quote \" backslash \\ newline \n nul \u{0} 🙂 \u{2028} </script>";
        for status in [400u16, 404, 405, 413, 500] {
            let read: Value = serde_json::from_str(&response(status, false, nasty)).expect("JSON");
            assert_eq!(read["statusCode"], status);
            assert_eq!(read["body"], nasty);
        }
    }
}
