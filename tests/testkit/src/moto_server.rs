//! moto_server as a test service: start it on a free port, switch its IAM checks off and on,
//! make fixtures with signed requests (IAM and STS query protocol, awsJson1_1 services), and read
//! what it received from its recorder. One server answers every service; moto picks the service
//! and region from the SigV4 credential scope, so each request is signed with the real service
//! name. Shared by the test crates that need real AWS APIs (Secrets Manager now, DynamoDB and
//! CloudWatch later).
//!
//! Signing uses the emulator's own SigV4 code (`emulator::sigv4`), not the bootstrap's
//! aws-sigv4: moto recomputes every signature with botocore, so the fixtures also cross-check
//! that code.

use crate::emulator::{sigv4, Bootstrap};
use crate::tools::{self, http, Answer};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// A key pair, with the session token of temporary (`ASIA…`) credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credentials {
    /// Any key: moto checks nothing while auth is off (`reset_auth("inf")`).
    pub fn fixture() -> Credentials {
        Credentials {
            access_key_id: "AKIAFIXTUREFIXTURE00".to_string(),
            secret_access_key: "fixture-secret-key".to_string(),
            session_token: None,
        }
    }
}

/// One request moto recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Value,
    /// The request body, as text.
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_object().and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        })
    }
}

/// A running moto_server; dropping it stops it.
pub struct Moto {
    pub port: u16,
    process: Bootstrap,
    recording: PathBuf,
}

impl Moto {
    /// Starts the documented `moto_server -H 127.0.0.1 -p 0` and waits until it answers
    /// `POST /moto-api/reset`.
    pub fn start() -> Moto {
        Moto::launch(Command::new(tools::moto_server()))
    }

    /// The same server with its requests served one at a time (see serial.py): for tests of
    /// concurrent writers, which moto's threaded DynamoDB does not apply atomically.
    pub fn start_serial() -> Moto {
        let python = tools::moto_server().with_file_name("python3");
        let mut command = Command::new(python);
        command.arg(tools::root().join("tests/testkit/moto_serial.py"));
        Moto::launch(command)
    }

    fn launch(mut command: Command) -> Moto {
        let words = tools::doc_command("moto_server", "-p 0");
        let recording = recording_path();
        command
            .args(&words[1..])
            .env("MOTO_RECORDER_FILEPATH", &recording)
            // No region or keys from the developer's shell: fixtures sign their own.
            .env_remove("AWS_PROFILE")
            .env_remove("INITIAL_NO_AUTH_ACTION_COUNT");
        let mut process = Bootstrap::spawn_command(command);
        let line = process.wait_output("Running on http://127.0.0.1:");
        let port = line
            .split("Running on http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u16>().ok()
            })
            .unwrap_or_else(|| panic!("no port in moto_server's output:\n{line}"));
        assert!(
            tools::wait_port(port, &mut process),
            "moto_server exited\n{}\n{}",
            process.stdout(),
            process.stderr()
        );
        let moto = Moto {
            port,
            process,
            recording,
        };
        moto.reset();
        moto
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_*`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// moto_server's own output so far.
    pub fn output(&self) -> String {
        format!("{}{}", self.process.stdout(), self.process.stderr())
    }

    /// `POST /moto-api/{path}` with a plain-text body (a form-encoded one makes moto fail).
    pub fn api(&self, path: &str, body: &str) -> Answer {
        let answer = http(
            "POST",
            &format!("{}/moto-api/{path}", self.url()),
            &[("Content-Type".to_string(), "text/plain".to_string())],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 200, "moto-api/{path}: {}", answer.body);
        answer
    }

    /// Wipes all state, IAM included (not the auth setting).
    pub fn reset(&self) {
        self.api("reset", "");
    }

    /// `inf`: nothing is checked; `0`: every service request from now on is checked.
    pub fn reset_auth(&self, count: &str) {
        self.api("reset-auth", count);
    }

    /// Empties the request log and records every request from now on.
    pub fn start_recording(&self) {
        self.api("recorder/reset-recording", "");
        self.api("recorder/start-recording", "");
    }

    /// The requests recorded since `start_recording` (moto writes one before answering it).
    pub fn recorded(&self) -> Vec<Recorded> {
        let answer = http(
            "GET",
            &format!("{}/moto-api/recorder/download-recording", self.url()),
            &[],
            b"",
        );
        assert_eq!(answer.status, 200, "download-recording: {}", answer.body);
        answer
            .body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("recording line {line:?}: {e}"));
                let raw = v["body"].as_str().unwrap_or("");
                let body = if v["body_encoded"] == true {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(raw)
                        .unwrap_or_else(|e| panic!("recorded body {raw:?}: {e}"));
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    raw.to_string()
                };
                Recorded {
                    method: v["method"].as_str().unwrap_or("").to_string(),
                    url: v["url"].as_str().unwrap_or("").to_string(),
                    headers: v["headers"].clone(),
                    body,
                }
            })
            .collect()
    }

    /// Recorded requests with this `X-Amz-Target` (e.g. `secretsmanager.GetSecretValue`).
    pub fn recorded_target(&self, target: &str) -> Vec<Recorded> {
        self.recorded()
            .into_iter()
            .filter(|r| r.header("X-Amz-Target") == Some(target))
            .collect()
    }

    /// moto with the incident table `table`, and a role allowed `actions` on `*` (moto
    /// checks DynamoDB calls against `*`: a table ARN in a policy is denied there), assumed.
    /// Served one request at a time: DynamoDB applies a conditional write atomically, moto's
    /// threaded server does not (two racing claims both succeeded there). Auth is still off:
    /// `reset_auth("0")` turns IAM checks on once the bootstrap is set up.
    pub fn with_incident_table(table: &str, actions: &[&str]) -> (Moto, Credentials) {
        let moto = Moto::start_serial();
        moto.reset_auth("inf");
        moto.reset();
        moto.create_incident_table(table);
        let role = moto.create_role("alarm-to-slack", &allow(actions, "*"));
        let creds = moto.assume_role(&role);
        (moto, creds)
    }

    /// Creates the incident table the bootstrap's `INCIDENT_TABLE` names (string key
    /// `alarm`, on demand), as the fixture principal.
    pub fn create_incident_table(&self, table: &str) {
        let request = serde_json::json!({"TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "alarm", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "alarm", "KeyType": "HASH"}]});
        let created = self.signed(
            &Credentials::fixture(),
            "dynamodb",
            "application/x-amz-json-1.0",
            &[("X-Amz-Target", "DynamoDB_20120810.CreateTable")],
            request.to_string().as_bytes(),
        );
        assert_eq!(created.status, 200, "{}", created.body);
    }

    /// The item of `table` whose `alarm` key is `key`, read strongly consistent (`Null` when
    /// there is none).
    pub fn incident_item(&self, creds: &Credentials, table: &str, key: &str) -> Value {
        let answer = self.signed(
            creds,
            "dynamodb",
            "application/x-amz-json-1.0",
            &[("X-Amz-Target", "DynamoDB_20120810.GetItem")],
            json!({"TableName": table, "Key": {"alarm": {"S": key}}, "ConsistentRead": true})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).expect("GetItem answer");
        body["Item"].clone()
    }

    /// `POST /` signed for `service` with exactly the headers sent: host, content-type,
    /// x-amz-date, the extra ones (e.g. x-amz-target) and the session token if any.
    pub fn signed(
        &self,
        creds: &Credentials,
        service: &str,
        content_type: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let amz_date = sigv4::format_amz_date(now_secs());
        let mut headers: Vec<(String, String)> = vec![
            ("Content-Type".to_string(), content_type.to_string()),
            ("X-Amz-Date".to_string(), amz_date.clone()),
        ];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if let Some(token) = &creds.session_token {
            headers.push(("X-Amz-Security-Token".to_string(), token.clone()));
        }
        // ureq sends this Host itself; it is signed, not added twice.
        let mut to_sign = headers.clone();
        to_sign.push(("Host".to_string(), format!("127.0.0.1:{}", self.port)));
        let names: Vec<String> = to_sign.iter().map(|(k, _)| k.to_lowercase()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let request = sigv4::Request {
            method: "POST",
            target: "/",
            headers: &to_sign,
            body,
        };
        let authorization = sigv4::authorization_header(
            &request,
            &creds.access_key_id,
            &creds.secret_access_key,
            REGION,
            service,
            &amz_date,
            &names,
        )
        .unwrap_or_else(|e| panic!("signing a {service} request: {e}"));
        headers.push(("Authorization".to_string(), authorization));
        http("POST", &format!("{}/", self.url()), &headers, body)
    }

    /// A query-protocol call (IAM, STS): form-encoded parameters, XML answer.
    pub fn query(&self, creds: &Credentials, service: &str, params: &[(&str, &str)]) -> Answer {
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.signed(
            creds,
            service,
            "application/x-www-form-urlencoded; charset=utf-8",
            &[],
            body.as_bytes(),
        )
    }

    /// An awsJson1_1 call (Secrets Manager): `X-Amz-Target: {prefix}.{action}`.
    pub fn json(&self, creds: &Credentials, service: &str, target: &str, body: &Value) -> Answer {
        self.signed(
            creds,
            service,
            "application/x-amz-json-1.1",
            &[("X-Amz-Target", target)],
            body.to_string().as_bytes(),
        )
    }

    /// A role that the account may assume, with one inline policy; returns its ARN.
    pub fn create_role(&self, name: &str, policy: &Value) -> String {
        let creds = Credentials::fixture();
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
        let created = self.query(
            &creds,
            "iam",
            &[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("AssumeRolePolicyDocument", &trust.to_string()),
            ],
        );
        assert_eq!(created.status, 200, "CreateRole: {}", created.body);
        let arn = xml_element(&created.body, "Arn")
            .unwrap_or_else(|| panic!("CreateRole: no Arn in {}", created.body));
        let put = self.query(
            &creds,
            "iam",
            &[
                ("Action", "PutRolePolicy"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("PolicyName", "fixture"),
                ("PolicyDocument", &policy.to_string()),
            ],
        );
        assert_eq!(put.status, 200, "PutRolePolicy: {}", put.body);
        arn
    }

    /// STS AssumeRole: temporary `ASIA…` credentials with a session token.
    pub fn assume_role(&self, role_arn: &str) -> Credentials {
        let answer = self.query(
            &Credentials::fixture(),
            "sts",
            &[
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", role_arn),
                ("RoleSessionName", "alarm-to-slack-test"),
            ],
        );
        assert_eq!(answer.status, 200, "AssumeRole: {}", answer.body);
        let field = |name: &str| {
            xml_element(&answer.body, name)
                .unwrap_or_else(|| panic!("AssumeRole: no {name} in {}", answer.body))
        };
        let creds = Credentials {
            access_key_id: field("AccessKeyId"),
            secret_access_key: field("SecretAccessKey"),
            session_token: Some(field("SessionToken")),
        };
        assert!(
            creds.access_key_id.starts_with("ASIA"),
            "{}",
            creds.access_key_id
        );
        creds
    }

    /// Secrets Manager CreateSecret; returns the secret's ARN.
    pub fn create_secret(&self, name: &str, secret_string: &str) -> String {
        let answer = self.json(
            &Credentials::fixture(),
            "secretsmanager",
            "secretsmanager.CreateSecret",
            &json!({"Name": name, "SecretString": secret_string}),
        );
        assert_eq!(answer.status, 200, "CreateSecret: {}", answer.body);
        let v: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("CreateSecret answer {}: {e}", answer.body));
        v["ARN"]
            .as_str()
            .unwrap_or_else(|| panic!("CreateSecret: no ARN in {}", answer.body))
            .to_string()
    }
}

/// An IAM policy document allowing `actions` on `resource`.
pub fn allow(actions: &[&str], resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}
    ]})
}

/// A fresh file for moto's recorder under the system's temporary directory.
fn recording_path() -> PathBuf {
    let dir = std::env::temp_dir();
    dir.join(format!(
        "moto-recording-{}-{}",
        std::process::id(),
        crate::emulator::new_request_id()
    ))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// application/x-www-form-urlencoded value: RFC 3986 unreserved bytes kept, the rest `%XX`.
pub fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of the first `<name>…</name>` (no entities in the values moto sends here).
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..start + len].trim().to_string())
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.process.kill();
        let _ = std::fs::remove_file(&self.recording);
    }
}
