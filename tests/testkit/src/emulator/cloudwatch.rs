//! CloudWatch stand-in for `METRIC_GRAPH` and `MUTE_CLOUDWATCH` (moto implements neither
//! `GetMetricWidgetImage` nor the alarm mute rules): `GetMetricWidgetImage`, `GetMetricData`,
//! `PutAlarmMuteRule` and `DeleteAlarmMuteRule` over awsJson1_0, every request checked with
//! the emulator's own SigV4 verifier (`sigv4.rs`) for the signing name `monitoring`.
//!
//! Facts it follows: /work/shared/reference/cloudwatch-api.md. The widget is checked as the
//! API documents it (JSON in a string, 1–100 `metrics`, width and height 1–2000); an error is
//! HTTP 400 with `__type` `…#Code` and `x-amzn-query-error: Code;Sender`, as a query-compatible
//! service answers over JSON.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::{json_or_null, lock, respond, sigv4, Incoming, Options};

const AMZ_JSON: &str = "application/x-amz-json-1.0";
const SERVICE: &str = "monitoring";
const TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";

/// A 1×1 PNG: 70 bytes, so that its base64 ends in padding.
pub const PNG: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// One request, recorded after it was handled.
#[derive(Debug, Clone, PartialEq)]
pub struct CwCall {
    /// The operation, from `X-Amz-Target` without its prefix.
    pub operation: String,
    pub signature_ok: bool,
    /// The request body as JSON (`Null` when it is not JSON).
    pub request: Value,
    /// `GetMetricWidgetImage`: the `MetricWidget` string parsed.
    pub widget: Value,
    pub status: u16,
    /// The error code answered, if any.
    pub error: Option<String>,
}

struct Inner {
    calls: Vec<CwCall>,
    /// Values of the series `GetMetricData` returns, oldest first, one per period from the
    /// request's start; `None` is a period without a datapoint.
    values: Vec<Option<f64>>,
    /// Errors for the next requests (FIFO), whatever the operation: `(status, code)`.
    faults: VecDeque<(u16, String)>,
    /// What `GetMetricWidgetImage` answers (base64-encoded): [`PNG`] unless a test says.
    image: Vec<u8>,
    /// `PutAlarmMuteRule`'s rules by name, as requested.
    mute_rules: BTreeMap<String, Value>,
}

pub struct CloudWatch {
    options: Options,
    inner: Mutex<Inner>,
}

impl CloudWatch {
    pub fn new(options: Options) -> CloudWatch {
        // A metric climbing through a threshold of 80.
        let values = [
            41.0, 42.5, 40.1, 43.0, 44.2, 41.9, 45.3, 47.0, 46.2, 48.8, 50.1, 52.4, 55.0, 57.3,
            60.2, 63.9, 66.0, 70.4, 74.8, 78.1, 81.5, 85.2, 91.2, 93.4,
        ];
        CloudWatch {
            options,
            inner: Mutex::new(Inner {
                calls: Vec::new(),
                values: values.into_iter().map(Some).collect(),
                faults: VecDeque::new(),
                image: PNG.to_vec(),
                mute_rules: BTreeMap::new(),
            }),
        }
    }

    pub fn calls(&self) -> Vec<CwCall> {
        lock(&self.inner).calls.clone()
    }

    /// The series `GetMetricData` answers from now on.
    pub fn set_values(&self, values: &[Option<f64>]) {
        lock(&self.inner).values = values.to_vec();
    }

    /// The bytes `GetMetricWidgetImage` answers with from now on (a PNG or not).
    pub fn set_image(&self, bytes: &[u8]) {
        lock(&self.inner).image = bytes.to_vec();
    }

    /// The next request answers HTTP `status` with error `code` (`AccessDenied`, `Throttling`).
    pub fn fail_next(&self, status: u16, code: &str) {
        lock(&self.inner)
            .faults
            .push_back((status, code.to_string()));
    }

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        let request = json_or_null(&incoming.body_string());
        let operation = incoming
            .header("X-Amz-Target")
            .and_then(|t| t.strip_prefix(TARGET_PREFIX).map(str::to_string))
            .unwrap_or_default();
        let mut call = CwCall {
            operation: operation.clone(),
            signature_ok: false,
            request: request.clone(),
            widget: Value::Null,
            status: 200,
            error: None,
        };
        let fault = lock(&self.inner).faults.pop_front();
        let result = self
            .authenticate(&incoming)
            .and_then(|()| {
                call.signature_ok = true;
                match fault {
                    Some((status, code)) => Err((status, code, "injected fault".to_string())),
                    None => Ok(()),
                }
            })
            .and_then(|()| match operation.as_str() {
                "GetMetricWidgetImage" => self.widget_image(&request, &mut call),
                "GetMetricData" => self.metric_data(&request),
                "PutAlarmMuteRule" => self.put_mute_rule(&request),
                "DeleteAlarmMuteRule" => self.delete_mute_rule(&request),
                _ => Err((
                    400,
                    "UnknownOperationException".into(),
                    format!("the stand-in does not serve {operation:?}"),
                )),
            });
        let request_id = super::new_request_id();
        match result {
            Ok(body) => {
                lock(&self.inner).calls.push(call);
                respond(
                    rq,
                    200,
                    &[
                        ("Content-Type", AMZ_JSON),
                        ("x-amzn-RequestId", &request_id),
                    ],
                    body.to_string(),
                );
            }
            Err((status, code, message)) => {
                call.status = status;
                call.error = Some(code.clone());
                lock(&self.inner).calls.push(call);
                let body = json!({
                    "__type": format!("com.amazonaws.cloudwatch#{code}"),
                    "message": message,
                });
                let query_error = format!("{code};Sender");
                respond(
                    rq,
                    status,
                    &[
                        ("Content-Type", AMZ_JSON),
                        ("x-amzn-RequestId", &request_id),
                        ("x-amzn-query-error", &query_error),
                    ],
                    body.to_string(),
                );
            }
        }
    }

    /// The SigV4 checks that matter here: key, token, scope (service `monitoring`), signature.
    fn authenticate(&self, rq: &Incoming) -> Result<(), (u16, String, String)> {
        let o = &self.options;
        let deny = |code: &str, why: String| Err((400, code.to_string(), why));
        let header = rq.header("Authorization").unwrap_or_default();
        let auth = match sigv4::parse_authorization(&header) {
            Ok(auth) => auth,
            Err(e) => return deny("IncompleteSignature", e),
        };
        if auth.access_key_id != o.access_key_id
            || rq.header("X-Amz-Security-Token") != o.session_token
            || (o.session_token.is_some()
                && !auth
                    .signed_headers
                    .iter()
                    .any(|h| h == "x-amz-security-token"))
        {
            return deny("InvalidClientTokenId", "unknown key or token".into());
        }
        if auth.service != SERVICE || auth.region != o.region {
            return deny(
                "SignatureDoesNotMatch",
                format!(
                    "Credential should be scoped to {}/{SERVICE}, not {}/{}",
                    o.region, auth.region, auth.service
                ),
            );
        }
        let amz_date = rq.header("X-Amz-Date").unwrap_or_default();
        if let Err(e) = sigv4::verify(&rq.signable(), &auth, &amz_date, &o.secret_access_key) {
            return deny("SignatureDoesNotMatch", e);
        }
        if rq.header("Content-Type").as_deref() != Some(AMZ_JSON) {
            return deny(
                "SerializationException",
                format!("Content-Type must be {AMZ_JSON}"),
            );
        }
        Ok(())
    }

    fn widget_image(
        &self,
        request: &Value,
        call: &mut CwCall,
    ) -> Result<Value, (u16, String, String)> {
        let invalid = |why: &str| Err((400, "InvalidParameterValue".to_string(), why.to_string()));
        let Some(text) = request["MetricWidget"].as_str() else {
            return invalid("MetricWidget must be a string of JSON");
        };
        let widget = json_or_null(text);
        call.widget = widget.clone();
        let metrics = widget["metrics"].as_array().map_or(0, Vec::len);
        if !(1..=100).contains(&metrics) {
            return invalid("the widget needs 1 to 100 metrics");
        }
        for side in ["width", "height"] {
            if !widget[side]
                .as_u64()
                .is_some_and(|px| (1..=2000).contains(&px))
            {
                return invalid("width and height must be 1 to 2000");
            }
        }
        if request["OutputFormat"] != "png" {
            return invalid("OutputFormat must be png");
        }
        Ok(json!({"MetricWidgetImage": base64(&lock(&self.inner).image)}))
    }

    /// The alarm mute rules stored, by name: what `PutAlarmMuteRule` was given.
    pub fn mute_rules(&self) -> BTreeMap<String, Value> {
        lock(&self.inner).mute_rules.clone()
    }

    /// `PutAlarmMuteRule` as the CloudWatch model has it: `Name` (1–255), `Rule.Schedule`
    /// with `Expression` (`at(yyyy-MM-ddThh:mm)` or `cron(…)`, 1–256) and `Duration` (ISO
    /// 8601, `PT1M` to `P15D`) required, `Timezone` optional, `MuteTargets.AlarmNames` (at
    /// most 100). Choice: the stricter reading where the model only bounds lengths (the
    /// expression and duration forms its documentation gives are the only ones taken).
    fn put_mute_rule(&self, request: &Value) -> Result<Value, (u16, String, String)> {
        let invalid = |why: &str| (400, "ValidationError".to_string(), why.to_string());
        let name = request["Name"].as_str().unwrap_or("");
        if name.is_empty() || name.len() > 255 {
            return Err(invalid("Name must be 1 to 255 characters"));
        }
        let schedule = &request["Rule"]["Schedule"];
        let expression = schedule["Expression"].as_str().unwrap_or("");
        let at_form = expression
            .strip_prefix("at(")
            .and_then(|e| e.strip_suffix(')'))
            .is_some_and(|t| {
                t.len() == 16
                    && t.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        10 => b == b'T',
                        13 => b == b':',
                        _ => b.is_ascii_digit(),
                    })
            });
        if !(at_form || expression.starts_with("cron(")) || expression.len() > 256 {
            return Err(invalid(
                "Rule.Schedule.Expression must be at(yyyy-MM-ddThh:mm) or cron(...)",
            ));
        }
        let duration = schedule["Duration"].as_str().unwrap_or("");
        let hours = duration
            .strip_prefix("PT")
            .and_then(|d| d.strip_suffix('H'))
            .and_then(|h| h.parse::<u32>().ok());
        if !hours.is_some_and(|h| (1..=360).contains(&h)) {
            return Err(invalid(
                "Rule.Schedule.Duration must be an ISO 8601 duration from PT1M to P15D",
            ));
        }
        let alarms = request["MuteTargets"]["AlarmNames"].as_array();
        if !alarms.is_some_and(|a| {
            a.len() <= 100
                && a.iter()
                    .all(|n| n.as_str().is_some_and(|n| !n.is_empty() && n.len() <= 255))
        }) {
            return Err(invalid(
                "MuteTargets.AlarmNames must list 0 to 100 alarm names",
            ));
        }
        lock(&self.inner)
            .mute_rules
            .insert(name.to_string(), request.clone());
        Ok(json!({}))
    }

    /// `DeleteAlarmMuteRule` (`AlarmMuteRuleName`): `ResourceNotFoundException` for a rule
    /// that is not there.
    fn delete_mute_rule(&self, request: &Value) -> Result<Value, (u16, String, String)> {
        let name = request["AlarmMuteRuleName"].as_str().unwrap_or("");
        match lock(&self.inner).mute_rules.remove(name) {
            Some(_) => Ok(json!({})),
            None => Err((
                404,
                "ResourceNotFoundException".into(),
                "no such alarm mute rule".into(),
            )),
        }
    }

    fn metric_data(&self, request: &Value) -> Result<Value, (u16, String, String)> {
        let invalid = |why: &str| Err((400, "InvalidParameterValue".to_string(), why.to_string()));
        let queries = request["MetricDataQueries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (Some(start), Some(end)) = (request["StartTime"].as_i64(), request["EndTime"].as_i64())
        else {
            return invalid("StartTime and EndTime are epoch seconds");
        };
        let returned: Vec<&Value> = queries
            .iter()
            .filter(|q| q["ReturnData"] != false)
            .collect();
        let [query] = returned[..] else {
            return invalid("the stand-in answers exactly one query with ReturnData");
        };
        // The period of the returned series: its own, else the first metric's.
        let period = query["MetricStat"]["Period"]
            .as_i64()
            .or_else(|| {
                queries
                    .iter()
                    .find_map(|q| q["MetricStat"]["Period"].as_i64())
            })
            .filter(|p| *p > 0)
            .unwrap_or(60);
        if start >= end {
            return invalid("StartTime must be before EndTime");
        }
        let values = lock(&self.inner).values.clone();
        let slots = ((end - start) / period) as usize;
        // The newest values fill the window's last periods, as if the series ended with it.
        let skip = values.len().saturating_sub(slots);
        let offset = slots.saturating_sub(values.len());
        let (mut timestamps, mut data) = (Vec::new(), Vec::new());
        for (i, v) in values.iter().skip(skip).enumerate() {
            if let Some(v) = v {
                timestamps.push(start + (offset + i) as i64 * period);
                data.push(*v);
            }
        }
        Ok(
            json!({"MetricDataResults": [{"Id": query["Id"], "Label": query["Id"],
            "Timestamps": timestamps, "Values": data, "StatusCode": "Complete"}], "Messages": []}),
        )
    }
}

/// Standard base64 with padding, as awsJson carries blobs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
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
