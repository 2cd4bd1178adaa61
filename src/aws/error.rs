//! An AWS error answer, as the JSON protocols write it (`__type` or `X-Amzn-ErrorType`)
//! and as emulators and proxies write auth errors (the query protocol's XML), and which
//! codes are worth another try.

use crate::error::{AwsAnswer, Error, Service};
use crate::http::Failure;
use crate::text::sanitize;
use serde::Deserialize;

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// What a non-2xx answer (`parsed` by [`parse`]) of `service` asks of the retry loop; an
/// answer without an AWS code (a proxy, a wrong URL) counts as the service unreachable.
pub fn failure(status: u16, parsed: Option<AwsAnswer>, service: Service) -> Failure {
    match parsed {
        Some(answer) => {
            let transient = is_transient(answer.status, &answer.code);
            let err = Error::aws(service, answer, transient);
            if transient {
                Failure::Backoff(err)
            } else {
                Failure::Final(err)
            }
        }
        None => {
            let err = Error::aws_unreachable(
                service,
                format!("HTTP {status} without an AWS error code; check AWS_ENDPOINT_URL"),
            );
            // Only a gateway's 5xx is worth another try.
            if is_gateway_error(status) {
                Failure::Backoff(err)
            } else {
                Failure::Final(err)
            }
        }
    }
}

/// The code from `X-Amzn-ErrorType` or the body, which may be namespaced
/// (`com.amazonaws…#Code`) or suffixed (`Code:http://…`).
pub fn parse(status: u16, header_code: Option<&str>, body: &str) -> Option<AwsAnswer> {
    let mut parsed: Option<Body> = serde_json::from_str(body).ok();
    if parsed.is_none() && body.trim_start().starts_with('<') {
        parsed = Some(Body {
            kind: xml_element(body, "Code").map(str::to_string),
            message: xml_element(body, "Message").map(str::to_string),
        });
    }
    let code = header_code
        .or_else(|| parsed.as_ref().and_then(|p| p.kind.as_deref()))
        .map(|c| {
            let c = c.split(':').next().unwrap_or(c);
            c.rsplit('#').next().unwrap_or(c)
        })
        .filter(|c| !c.trim().is_empty())?;
    Some(AwsAnswer {
        status,
        code: sanitize_code(code),
        message: parsed
            .and_then(|p| p.message)
            .map(|m| sanitize(&m, 300))
            .unwrap_or_default(),
    })
}

fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find('<')?;
    Some(xml[start..start + len].trim())
}

/// An AWS error code becomes part of a header value: keep only what a code is made of.
fn sanitize_code(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(64)
        .collect();
    if code.is_empty() {
        "UnknownError".to_string()
    } else {
        code
    }
}

fn is_gateway_error(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// One rule, for the retry within a call and for serving a stale secret: a gateway's
/// 5xx, or a code the AWS SDKs' standard retry mode treats as throttling or transient.
fn is_transient(status: u16, code: &str) -> bool {
    is_gateway_error(status)
        || code.starts_with("RequestTimeout")
        || matches!(
            code,
            "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "RequestThrottledException"
                | "TooManyRequestsException"
                | "ProvisionedThroughputExceededException"
                | "TransactionInProgressException"
                | "RequestLimitExceeded"
                | "BandwidthLimitExceeded"
                | "LimitExceededException"
                | "RequestThrottled"
                | "SlowDown"
                | "PriorRequestNotComplete"
                | "EC2ThrottledException"
                | "InternalServiceError"
                | "InternalFailure"
                | "ServiceUnavailable"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(status: u16, header: Option<&str>, body: &str) -> Option<(String, String)> {
        parse(status, header, body).map(|e| (e.code, e.message))
    }

    #[test]
    fn codes_are_cut_to_the_code() {
        assert_eq!(
            code(
                400,
                None,
                r#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"not found"}"#
            ),
            Some(("ResourceNotFoundException".into(), "not found".into()))
        );
        let header = code(
            403,
            Some("AccessDeniedException:http://internal.amazon.com/"),
            "",
        );
        assert_eq!(
            header.map(|c| c.0).as_deref(),
            Some("AccessDeniedException")
        );
        assert_eq!(code(502, None, "<html>Bad Gateway</html>"), None);
        let xml = code(
            403,
            None,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
             <Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
        );
        let (xml_code, message) = xml.expect("xml");
        assert_eq!(xml_code, "InvalidClientTokenId");
        assert!(message.contains("security token"));
    }

    #[test]
    fn codes_keep_header_safe_chars() {
        assert_eq!(sanitize_code("Throttling\r\nX: y"), "ThrottlingXy");
        assert_eq!(sanitize_code("\n"), "UnknownError");
    }

    #[test]
    fn transient_is_5xx_or_a_throttling_code() {
        assert!(is_transient(503, "ServiceUnavailableException"));
        assert!(is_transient(400, "ThrottlingException"));
        assert!(is_transient(400, "RequestTimeoutException"));
        assert!(!is_transient(400, "AccessDeniedException"));
        assert!(!is_transient(501, "NotImplemented"));
    }

    #[test]
    fn answers_without_a_code_retry_only_at_gateways() {
        let sm = Service::SecretsManager;
        let unreachable = |f: Failure| match f {
            Failure::Backoff(Error::Aws(e)) => (true, e.answer.is_none(), e.transient),
            Failure::Final(Error::Aws(e)) => (false, e.answer.is_none(), e.transient),
            _ => panic!("not an AWS error"),
        };
        assert_eq!(
            unreachable(failure(502, parse(502, None, "<html/>"), sm)),
            (true, true, true)
        );
        assert_eq!(
            unreachable(failure(404, parse(404, None, ""), sm)),
            (false, true, true)
        );
        let throttled = failure(400, parse(400, Some("ThrottlingException"), ""), sm);
        assert_eq!(unreachable(throttled), (true, false, true));
        let denied = failure(400, parse(400, Some("AccessDeniedException"), ""), sm);
        assert_eq!(unreachable(denied), (false, false, false));
    }
}
