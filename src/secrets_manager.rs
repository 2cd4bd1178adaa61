//! AWS Secrets Manager `GetSecretValue` over the awsJson1_1 protocol, signed
//! with SigV4 by hand: the whole AWS SDK would cost megabytes and milliseconds
//! for this one call.

use crate::config::{Config, Endpoint};
use crate::error::{sanitize, sanitize_code, Error};
use crate::http::{retry, transport_failure, Deadline, Failure};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde::Deserialize;
use std::time::SystemTime;

const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub struct SecretsManager {
    endpoint: Endpoint,
    region: String,
    credentials: Credentials,
    /// The request body never changes: `{"SecretId":"…"}`.
    body: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
    #[serde(rename = "SecretBinary")]
    secret_binary: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AwsError {
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

impl SecretsManager {
    pub fn new(config: &Config) -> SecretsManager {
        SecretsManager {
            endpoint: config.endpoint.clone(),
            region: config.region.clone(),
            credentials: config.credentials.clone(),
            body: serde_json::json!({ "SecretId": config.secret_id }).to_string(),
        }
    }

    /// The secret's `SecretString`, retrying throttling, 5xx and network errors.
    pub fn get_secret_string(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
    ) -> Result<String, Error> {
        retry(deadline, || self.attempt(agent, deadline))
    }

    fn attempt(&self, agent: &ureq::Agent, deadline: Deadline) -> Result<String, Failure> {
        const STEP: &str = "fetch the secret from Secrets Manager";
        let unreachable = Error::SecretsManagerUnreachable;
        // Signed per attempt: the signature covers the time.
        let signed = self.sign(SystemTime::now()).map_err(Failure::Final)?;
        let mut request = deadline
            .bound(agent.post(&self.endpoint.url), STEP)
            .map_err(Failure::Final)?
            .header("host", &self.endpoint.host)
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-target", TARGET);
        for (name, value) in &signed {
            request = request.header(*name, value);
        }
        let mut response = request
            .send(self.body.as_str())
            .map_err(|e| transport_failure(&e, deadline, STEP, unreachable))?;

        let status = response.status().as_u16();
        let header_code = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| transport_failure(&e, deadline, STEP, unreachable))?;

        if (200..300).contains(&status) {
            return secret_string(status, &body).map_err(Failure::Final);
        }
        let err = aws_error(status, header_code.as_deref(), &body);
        let transient = match &err {
            Error::SecretsManager { .. } => err.is_transient(),
            // No AWS error code: only a gateway's 5xx is worth another try.
            _ => matches!(status, 500 | 502 | 503 | 504),
        };
        Err(if transient {
            Failure::Backoff(err)
        } else {
            Failure::Final(err)
        })
    }

    /// The headers SigV4 adds: `authorization`, `x-amz-date` and, with a session
    /// token, `x-amz-security-token`. Signed over exactly the headers we send.
    fn sign(&self, time: SystemTime) -> Result<Vec<(&'static str, String)>, Error> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("secretsmanager")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::SecretsManagerUnreachable(format!("cannot sign the request: {e}")))?
            .into();
        let headers = [
            ("host", self.endpoint.host.as_str()),
            ("content-type", CONTENT_TYPE),
            ("x-amz-target", TARGET),
        ];
        let request = SignableRequest::new(
            "POST",
            self.endpoint.url.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(self.body.as_bytes()),
        )
        .and_then(|request| sign(request, &params))
        .map_err(|e| Error::SecretsManagerUnreachable(format!("cannot sign the request: {e}")))?;
        let (instructions, _signature) = request.into_parts();
        let (headers, _params) = instructions.into_parts();
        Ok(headers
            .into_iter()
            .map(|h| (h.name(), h.value().to_string()))
            .collect())
    }
}

fn secret_string(status: u16, body: &str) -> Result<String, Error> {
    let answer: Answer = serde_json::from_str(body).map_err(|_| {
        Error::SecretsManagerUnreachable(format!(
            "HTTP {status} with a body that is not GetSecretValue's JSON; check AWS_ENDPOINT_URL"
        ))
    })?;
    match (answer.secret_string, answer.secret_binary) {
        (Some(s), _) => Ok(s),
        (None, Some(_)) => Err(Error::InvalidSecret(
            "it holds SecretBinary; store the Slack settings as a SecretString".to_string(),
        )),
        (None, None) => Err(Error::InvalidSecret("it has no SecretString".to_string())),
    }
}

/// An AWS error answer: the code from `X-Amzn-ErrorType` or `__type`, which may
/// be namespaced (`com.amazonaws…#Code`) or suffixed (`Code:http://…`).
/// Some emulators and proxies answer auth errors in the query protocol's XML.
fn aws_error(status: u16, header_code: Option<&str>, body: &str) -> Error {
    let mut parsed: Option<AwsError> = serde_json::from_str(body).ok();
    if parsed.is_none() && body.trim_start().starts_with('<') {
        parsed = Some(AwsError {
            kind: xml_element(body, "Code").map(str::to_string),
            message: xml_element(body, "Message").map(str::to_string),
        });
    }
    let raw_code = header_code
        .or_else(|| parsed.as_ref().and_then(|p| p.kind.as_deref()))
        .map(|c| {
            let c = c.split(':').next().unwrap_or(c);
            c.rsplit('#').next().unwrap_or(c)
        })
        .filter(|c| !c.trim().is_empty());
    match raw_code {
        Some(code) => Error::SecretsManager {
            status,
            code: sanitize_code(code),
            message: parsed
                .and_then(|p| p.message)
                .map(|m| sanitize(&m, 300))
                .unwrap_or_default(),
        },
        None => Error::SecretsManagerUnreachable(format!(
            "HTTP {status} without an AWS error code; check AWS_ENDPOINT_URL"
        )),
    }
}

fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find('<')?;
    Some(xml[start..start + len].trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn client(token: Option<&str>) -> SecretsManager {
        SecretsManager {
            endpoint: Endpoint {
                url: "https://secretsmanager.us-east-1.amazonaws.com/".into(),
                host: "secretsmanager.us-east-1.amazonaws.com".into(),
            },
            region: "us-east-1".into(),
            credentials: Credentials::new("AKID", "SECRET", token.map(str::to_string), None, "t"),
            body: r#"{"SecretId":"slack/dev"}"#.into(),
        }
    }

    #[test]
    fn signs_target_content_type_host_and_token() {
        let time = UNIX_EPOCH + Duration::from_secs(1_795_824_000); // 2026-11-28T00:00:00Z
        let headers = client(Some("TOKEN")).sign(time).expect("signed");
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-amz-date"), Some("20261128T000000Z"));
        assert_eq!(get("x-amz-security-token"), Some("TOKEN"));
        let auth = get("authorization").expect("authorization");
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature="
        ), "{auth}");
        let unsigned = client(None).sign(time).expect("signed");
        assert!(unsigned.iter().all(|(k, _)| *k != "x-amz-security-token"));
    }

    #[test]
    fn error_codes_are_cut_to_the_code() {
        let e = aws_error(
            400,
            None,
            r#"{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"not found"}"#,
        );
        assert_eq!(e.error_type(), "SecretsManager.ResourceNotFoundException");
        assert!(e
            .to_string()
            .ends_with("ResourceNotFoundException: not found"));
        let h = aws_error(
            403,
            Some("AccessDeniedException:http://internal.amazon.com/"),
            "",
        );
        assert_eq!(h.error_type(), "SecretsManager.AccessDeniedException");
        let html = aws_error(502, None, "<html>Bad Gateway</html>");
        assert_eq!(html.error_type(), "SecretsManager.Unreachable");
        let xml = aws_error(
            403,
            None,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
             <Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
        );
        assert_eq!(xml.error_type(), "SecretsManager.InvalidClientTokenId");
        assert!(xml.to_string().contains("security token"));
    }
}
