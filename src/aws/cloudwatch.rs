//! CloudWatch `GetMetricWidgetImage` and `GetMetricData` over the awsJson1_0 protocol
//! (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`): the alarm's graph and its recent
//! datapoints. Both are reads, so both are retried like any idempotent call.

use super::{Client, Operation};
use crate::error::{Error, Service};
use crate::http::Deadline;
use crate::json::Object;
use serde_json::Value;

/// The SigV4 signing name, and the first label of the regional endpoint.
pub const SERVICE: &str = crate::settings::CLOUDWATCH;
const TARGET: &str = "GraniteServiceVersion20100801.";

const READ: Operation = Operation {
    service: Service::CloudWatch,
    step: "read the alarm's metric from CloudWatch",
    idempotent: true,
    answers: &[],
};

pub struct CloudWatch {
    client: Client,
}

impl CloudWatch {
    pub fn new(client: Client) -> CloudWatch {
        CloudWatch { client }
    }

    /// `GetMetricWidgetImage`: the PNG of `widget` (MetricWidget JSON).
    pub fn widget_image(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        widget: &str,
    ) -> Result<Vec<u8>, Error> {
        let mut request = Object::new();
        request.string("MetricWidget", widget);
        request.string("OutputFormat", "png");
        let answer = self.call(agent, deadline, "GetMetricWidgetImage", &request.finish())?;
        answer
            .get("MetricWidgetImage")
            .and_then(Value::as_str)
            .and_then(|b64| base64_decode(b64.as_bytes()))
            .filter(|png| !png.is_empty())
            .ok_or_else(|| not_cloudwatch("no base64 MetricWidgetImage in the answer"))
    }

    /// `GetMetricData` with `request` (`MetricDataQueries`, times): the answer as JSON.
    pub fn metric_data(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        request: &str,
    ) -> Result<Value, Error> {
        self.call(agent, deadline, "GetMetricData", request)
    }

    fn call(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        action: &str,
        request: &str,
    ) -> Result<Value, Error> {
        let target = format!("{TARGET}{action}");
        self.client.json(agent, deadline, &target, request, &READ)
    }
}

fn not_cloudwatch(why: &str) -> Error {
    Error::aws_unreachable(Service::CloudWatch, why.to_string())
}

/// Standard base64 with padding, as JSON carries blobs; `None` for anything else. Twenty
/// lines of our own: the `base64` crate's engine costs more binary for this one use.
fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, chunk) in text.chunks(4).enumerate() {
        let last = i + 1 == text.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut bits = 0u32;
        for &c in &chunk[..4 - pad] {
            bits = bits << 6 | sextet(c)?;
        }
        bits <<= 6 * pad as u32;
        out.extend_from_slice(&bits.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_json_blobs_carry_it() {
        assert_eq!(base64_decode(b"").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode(b"TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(base64_decode(b"TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(base64_decode(b"TQ==").as_deref(), Some(&b"M"[..]));
        assert_eq!(
            base64_decode(b"iVBORw0KGgo=").as_deref(),
            Some(&b"\x89PNG\r\n\x1a\n"[..])
        );
        for bad in [
            &b"TWF"[..],
            b"TQ=a",
            b"T===",
            b"TQ==TWFu",
            b"TW\nu",
            b"TW-u",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
    }
}
