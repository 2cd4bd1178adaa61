//! SigV4 with `aws-sigv4`: the headers a request needs to be accepted.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

/// `authorization`, `x-amz-date` and, with a session token, `x-amz-security-token`,
/// for a POST of `body` to `url` with exactly `headers` (which must include `host`).
pub fn headers(
    credentials: &Credentials,
    region: &str,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, String> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .and_then(|request| sign(request, &params))
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _signature) = request.into_parts();
    let (headers, _params) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name(), h.value().to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn signs_every_header_given_and_the_token() {
        let time = UNIX_EPOCH + Duration::from_secs(1_795_824_000); // 2026-11-28T00:00:00Z
        let sign = |token: Option<&str>| {
            let credentials =
                Credentials::new("AKID", "SECRET", token.map(str::to_string), None, "t");
            let sent = [
                ("host", "secretsmanager.us-east-1.amazonaws.com"),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ];
            let url = "https://secretsmanager.us-east-1.amazonaws.com/";
            headers(
                &credentials,
                "us-east-1",
                "secretsmanager",
                url,
                &sent,
                b"{}",
                time,
            )
            .expect("signed")
        };
        let signed = sign(Some("TOKEN"));
        let get = |n: &str| {
            signed
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
        assert!(sign(None).iter().all(|(k, _)| *k != "x-amz-security-token"));
    }
}
