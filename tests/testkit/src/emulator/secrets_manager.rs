//! AWS Secrets Manager stand-in: `GetSecretValue` only (awsJson1_1), every request checked with
//! the independent SigV4 verifier in `sigv4.rs` against the one key pair the emulator knows.

use std::sync::Mutex;

use super::{json_or_null, lock, respond, sigv4, Incoming, Options, SecretRequest};

const AMZ_JSON: &str = "application/x-amz-json-1.1";
const ACCOUNT: &str = "123456789012";
const SERVICE: &str = "secretsmanager";
/// Largest accepted difference between `X-Amz-Date` and the local clock, as AWS does.
const MAX_SKEW_SECS: i64 = 15 * 60;

struct Inner {
    secret_string: String,
    /// Bumped by `set_secret_string`, so a rotation shows as a new VersionId.
    version: u64,
    requests: Vec<SecretRequest>,
    /// Raw answers that replace the next responses (FIFO), whatever the request.
    canned: std::collections::VecDeque<Canned>,
}

/// An answer chosen by a test: `(status, content type, body)`.
pub type Canned = (u16, String, String);

pub struct State {
    options: Options,
    inner: Mutex<Inner>,
}

/// A rejection: HTTP 400 with `{"__type": kind, "message": message}`.
struct Reject {
    kind: &'static str,
    message: String,
}

fn reject(kind: &'static str, message: impl Into<String>) -> Reject {
    Reject {
        kind,
        message: message.into(),
    }
}

impl State {
    pub fn new(options: Options, secret_string: String) -> State {
        State {
            options,
            inner: Mutex::new(Inner {
                secret_string,
                version: 1,
                requests: Vec::new(),
                canned: Default::default(),
            }),
        }
    }

    pub fn set_secret_string(&self, s: &str) {
        let mut inner = lock(&self.inner);
        inner.secret_string = s.to_string();
        inner.version += 1;
    }

    pub fn respond_next(&self, status: u16, content_type: &str, body: &str) {
        lock(&self.inner)
            .canned
            .push_back((status, content_type.to_string(), body.to_string()));
    }

    pub fn requests(&self) -> Vec<SecretRequest> {
        lock(&self.inner).requests.clone()
    }

    fn arn(&self) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{ACCOUNT}:secret:{}-AbCdEf",
            self.options.region, self.options.secret_id
        )
    }

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        let mut record = SecretRequest {
            target: incoming.header("X-Amz-Target"),
            content_type: incoming.header("Content-Type"),
            body: incoming.body_string(),
            signature_ok: false,
            reason: None,
            token_signed: false,
        };
        let result = self.authenticate(&incoming, &mut record).and_then(|()| {
            record.signature_ok = true;
            self.get_secret_value(&incoming)
        });
        let request_id = super::new_request_id();
        let canned = lock(&self.inner).canned.pop_front();
        if let Some((status, content_type, body)) = canned {
            record.reason = Some(format!("canned answer HTTP {status}"));
            lock(&self.inner).requests.push(record);
            return respond(rq, status, &[("Content-Type", &content_type)], body);
        }
        match result {
            Ok(body) => {
                lock(&self.inner).requests.push(record);
                respond(
                    rq,
                    200,
                    &[
                        ("Content-Type", AMZ_JSON),
                        ("x-amzn-RequestId", &request_id),
                    ],
                    body,
                );
            }
            Err(r) => {
                record.reason = Some(format!("{}: {}", r.kind, r.message));
                lock(&self.inner).requests.push(record);
                let body =
                    serde_json::json!({ "__type": r.kind, "message": r.message }).to_string();
                respond(
                    rq,
                    400,
                    &[
                        ("Content-Type", AMZ_JSON),
                        ("x-amzn-RequestId", &request_id),
                    ],
                    body,
                );
            }
        }
    }

    /// The SigV4 checks, in the order AWS reports them.
    fn authenticate(&self, rq: &Incoming, record: &mut SecretRequest) -> Result<(), Reject> {
        let o = &self.options;
        let Some(header) = rq.header("Authorization") else {
            return Err(reject(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ));
        };
        let auth = sigv4::parse_authorization(&header)
            .map_err(|e| reject("IncompleteSignatureException", e))?;
        let token_header = rq.header("X-Amz-Security-Token");
        record.token_signed = token_header.is_some()
            && auth
                .signed_headers
                .iter()
                .any(|h| h == "x-amz-security-token");

        if auth.access_key_id != o.access_key_id {
            return Err(reject(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
        if let Some(expected) = &o.session_token {
            if token_header.as_deref() != Some(expected.as_str()) || !record.token_signed {
                return Err(reject(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ));
            }
        }
        let Some(amz_date) = rq.header("X-Amz-Date") else {
            return Err(reject(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ));
        };
        let signed_at = sigv4::parse_amz_date(&amz_date)
            .map_err(|e| reject("IncompleteSignatureException", e))?;
        if auth.date != amz_date[..8] {
            return Err(reject(
                "InvalidSignatureException",
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
                    auth.date,
                    &amz_date[..8]
                ),
            ));
        }
        if auth.region != o.region {
            return Err(reject(
                "InvalidSignatureException",
                format!(
                    "Credential should be scoped to a valid region, not '{}'. Expected '{}'.",
                    auth.region, o.region
                ),
            ));
        }
        if auth.service != SERVICE || auth.terminator != "aws4_request" {
            return Err(reject(
                "InvalidSignatureException",
                format!(
                    "Credential should be scoped to correct service: '{SERVICE}', with terminator 'aws4_request'; got '{}/{}'.",
                    auth.service, auth.terminator
                ),
            ));
        }
        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.iter().any(|h| h == required) {
                return Err(reject(
                    "InvalidSignatureException",
                    format!("'{required}' must be a 'SignedHeader' in the AWS Authorization."),
                ));
            }
        }
        let now = (super::now_ms() / 1000) as i64;
        if (now - signed_at).abs() > MAX_SKEW_SECS {
            return Err(reject(
                "InvalidSignatureException",
                format!(
                    "Signature expired: {amz_date} is now earlier or later than {} ({} +/- 15 min.)",
                    sigv4::format_amz_date(now - MAX_SKEW_SECS),
                    sigv4::format_amz_date(now)
                ),
            ));
        }
        sigv4::verify(&rq.signable(), &auth, &amz_date, &o.secret_access_key)
            .map_err(|e| reject("InvalidSignatureException", e))
    }

    fn get_secret_value(&self, rq: &Incoming) -> Result<String, Reject> {
        if rq.method != "POST"
            || rq.header("X-Amz-Target").as_deref() != Some("secretsmanager.GetSecretValue")
        {
            return Err(reject(
                "UnknownOperationException",
                "The stand-in serves only POST with X-Amz-Target: secretsmanager.GetSecretValue",
            ));
        }
        let content_type = rq.header("Content-Type").unwrap_or_default();
        if content_type.split(';').next().map(str::trim) != Some(AMZ_JSON) {
            return Err(reject(
                "SerializationException",
                format!("Content-Type must be {AMZ_JSON}, got {content_type:?}"),
            ));
        }
        let json = json_or_null(&rq.body_string());
        if !json.is_object() {
            return Err(reject(
                "SerializationException",
                "The request body is not a JSON object",
            ));
        }
        let Some(secret_id) = json.get("SecretId").and_then(|v| v.as_str()) else {
            return Err(reject(
                "ValidationException",
                "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
            ));
        };
        let arn = self.arn();
        if secret_id != self.options.secret_id && secret_id != arn {
            return Err(reject(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            ));
        }
        if let Some(stage) = json.get("VersionStage").and_then(|v| v.as_str()) {
            if stage != "AWSCURRENT" {
                return Err(reject(
                    "ResourceNotFoundException",
                    format!("Secrets Manager can't find the specified secret value for staging label: {stage}"),
                ));
            }
        }
        let inner = lock(&self.inner);
        let version_id = format!("00000000-0000-4000-8000-{:012x}", inner.version);
        if let Some(wanted) = json.get("VersionId").and_then(|v| v.as_str()) {
            if wanted != version_id {
                return Err(reject(
                    "ResourceNotFoundException",
                    format!("Secrets Manager can't find the specified secret value for VersionId: {wanted}"),
                ));
            }
        }
        Ok(serde_json::json!({
            "ARN": arn,
            "Name": self.options.secret_id,
            "VersionId": version_id,
            "SecretString": inner.secret_string,
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1.7e9,
        })
        .to_string())
    }
}
