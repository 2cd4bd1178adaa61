//! Signed calls to AWS services over their JSON protocols, by hand: the whole AWS SDK
//! would cost megabytes and milliseconds for the few calls we make. What every call
//! shares lives here; each service has a file of its own.

pub mod cloudwatch;
pub mod dynamodb;
pub mod endpoint;
mod error;
pub mod secrets_manager;
mod sign;

pub use endpoint::Endpoint;

use crate::error::{Error, Service};
use crate::http::{retry, Deadline, Failure, Peer};
use aws_credential_types::Credentials;
use serde_json::Value;
use std::time::SystemTime;

/// The awsJson1_0 protocol's content type (DynamoDB, CloudWatch); Secrets Manager speaks 1.1.
pub const JSON_1_0: &str = "application/x-amz-json-1.0";

/// One service as this function calls it: where, in which region, as whom.
#[derive(Clone)]
pub struct Client {
    pub endpoint: Endpoint,
    pub region: String,
    pub credentials: Credentials,
    /// The SigV4 signing name: `secretsmanager`, `dynamodb`, `monitoring`.
    pub service: &'static str,
}

/// One operation: which service's errors it raises, what it is for, and whether it may be
/// sent twice.
pub struct Operation {
    pub service: Service,
    pub step: &'static str,
    pub idempotent: bool,
    /// Error codes that are answers, not failures (`ConditionalCheckFailedException`):
    /// their body is returned like a success's.
    pub answers: &'static [&'static str],
}

impl Operation {
    fn unreachable(&self, why: String) -> Error {
        Error::aws_unreachable(self.service, why)
    }
}

impl Client {
    /// One signed attempt of a JSON-protocol call (`X-Amz-Target: {target}`): the body of
    /// a 2xx answer, or what the failure asks of the retry loop.
    pub fn call(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        content_type: &str,
        target: &str,
        body: &str,
        op: &Operation,
    ) -> Result<(u16, String), Failure> {
        let sent = [
            ("host", self.endpoint.host.as_str()),
            ("content-type", content_type),
            ("x-amz-target", target),
        ];
        // Signed per attempt: the signature covers the time.
        let signed = sign::headers(
            &self.credentials,
            &self.region,
            self.service,
            &self.endpoint.url,
            &sent,
            body.as_bytes(),
            SystemTime::now(),
        )
        .map_err(|why| Failure::Final(op.unreachable(why)))?;
        let mut request = deadline
            .bound(agent.post(&self.endpoint.url), op.step)
            .map_err(Failure::Final)?;
        for (name, value) in sent {
            request = request.header(name, value);
        }
        for (name, value) in &signed {
            request = request.header(*name, value);
        }
        let unreachable = |why| op.unreachable(why);
        let peer = Peer {
            host: &self.endpoint.host,
            step: op.step,
            unreachable: &unreachable,
            no_answer: &unreachable,
            idempotent: op.idempotent,
        };
        let fail = |e: ureq::Error| peer.failure(&e, deadline);
        let mut response = request.send(body).map_err(fail)?;
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
            .map_err(fail)?;
        if (200..300).contains(&status) {
            return Ok((status, body));
        }
        let parsed = error::parse(status, header_code.as_deref(), &body);
        if parsed
            .as_ref()
            .is_some_and(|e| op.answers.contains(&e.code.as_str()))
        {
            return Ok((status, body));
        }
        Err(error::failure(status, parsed, op.service))
    }

    /// An awsJson1_0 call (DynamoDB, CloudWatch) with its retries: the answer as JSON.
    /// `target` is the whole `X-Amz-Target` (`DynamoDB_20120810.GetItem`).
    pub fn json(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        target: &str,
        request: &str,
        op: &Operation,
    ) -> Result<Value, Error> {
        retry(deadline, || {
            let (_, answer) = self.call(agent, deadline, JSON_1_0, target, request, op)?;
            serde_json::from_str(&answer).map_err(|_| {
                Failure::Final(op.unreachable(format!(
                    "the answer is not {}'s JSON; check {}",
                    op.service.name(),
                    endpoint_variable(op.service)
                )))
            })
        })
    }
}

/// The variable that overrides `service`'s endpoint, for error messages that point at it.
fn endpoint_variable(service: Service) -> &'static str {
    match service {
        Service::SecretsManager => "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        Service::DynamoDb => "AWS_ENDPOINT_URL_DYNAMODB",
        Service::CloudWatch => "AWS_ENDPOINT_URL_CLOUDWATCH",
    }
}
