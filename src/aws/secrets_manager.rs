//! AWS Secrets Manager `GetSecretValue` over the awsJson1_1 protocol.

use super::{Client, Operation};
use crate::error::{Error, Service};
use crate::http::{retry, Deadline, Failure};
use crate::json::Object;
use serde::Deserialize;

const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The SigV4 signing name, and the first label of the regional endpoint.
pub const SERVICE: &str = crate::settings::SECRETS_MANAGER;

const GET_SECRET_VALUE: Operation = Operation {
    service: Service::SecretsManager,
    step: "fetch the secret from Secrets Manager",
    idempotent: true,
    answers: &[],
};

pub struct SecretsManager {
    client: Client,
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

impl SecretsManager {
    pub fn new(client: Client, secret_id: &str) -> SecretsManager {
        let mut body = Object::new();
        body.string("SecretId", secret_id);
        SecretsManager {
            client,
            body: body.finish(),
        }
    }

    /// The secret's `SecretString`, retrying throttling, 5xx and network errors.
    pub fn get_secret_string(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
    ) -> Result<String, Error> {
        retry(deadline, || {
            let (status, body) = self.client.call(
                agent,
                deadline,
                CONTENT_TYPE,
                TARGET,
                &self.body,
                &GET_SECRET_VALUE,
            )?;
            secret_string(status, &body).map_err(Failure::Final)
        })
    }
}

fn secret_string(status: u16, body: &str) -> Result<String, Error> {
    let answer: Answer = serde_json::from_str(body).map_err(|_| {
        Error::aws_unreachable(
            Service::SecretsManager,
            format!(
                "HTTP {status} with a body that is not GetSecretValue's JSON; check AWS_ENDPOINT_URL"
            ),
        )
    })?;
    match (answer.secret_string, answer.secret_binary) {
        (Some(s), _) => Ok(s),
        (None, Some(_)) => Err(Error::InvalidSecret(
            "it holds SecretBinary; store the Slack settings as a SecretString".to_string(),
        )),
        (None, None) => Err(Error::InvalidSecret("it has no SecretString".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_must_hold_a_secret_string() {
        assert_eq!(
            secret_string(200, r#"{"Name":"x","SecretString":"s"}"#).expect("string"),
            "s"
        );
        let binary = secret_string(200, r#"{"SecretBinary":"AAE="}"#).expect_err("binary");
        assert_eq!(binary.error_type(), "Secret.Invalid");
        let none = secret_string(200, r#"{"Name":"x"}"#).expect_err("none");
        assert_eq!(none.error_type(), "Secret.Invalid");
        let html = secret_string(200, "<html/>").expect_err("not json");
        assert_eq!(html.error_type(), "SecretsManager.Unreachable");
    }

    #[test]
    fn aws_codes_become_typed_errors() {
        let answer = crate::error::AwsAnswer {
            status: 400,
            code: "ResourceNotFoundException".into(),
            message: "not found".into(),
        };
        let err = Error::aws(GET_SECRET_VALUE.service, answer, false);
        assert_eq!(err.error_type(), "SecretsManager.ResourceNotFoundException");
        assert!(err
            .to_string()
            .ends_with("ResourceNotFoundException: not found"));
    }

    #[test]
    fn the_request_body_names_the_secret() {
        let client = Client {
            endpoint: super::super::Endpoint::regional(SERVICE, "us-east-1"),
            region: "us-east-1".into(),
            credentials: aws_credential_types::Credentials::new("A", "S", None, None, "t"),
            service: SERVICE,
        };
        let sm = SecretsManager::new(client, "slack/\"dev\"");
        assert_eq!(sm.body, r#"{"SecretId":"slack/\"dev\""}"#);
    }
}
