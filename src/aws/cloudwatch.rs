//! CloudWatch `GetMetricWidgetImage` and `GetMetricData` over the awsJson1_0 protocol
//! (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`): the alarm's graph and its recent
//! datapoints. Both are reads, so both are retried like any idempotent call.

use super::{Client, Operation};
use crate::base64;
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
/// Both mute-rule calls name the rule: sending one twice leaves the same rule.
const MUTE: Operation = Operation {
    service: Service::CloudWatch,
    step: "set the alarm's mute rule in CloudWatch",
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
            .and_then(|b64| base64::decode(b64.as_bytes()))
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

    /// `PutAlarmMuteRule`: mutes `alarm`'s actions from now (`at`, UTC, as
    /// `yyyy-MM-ddThh:mm`) for `hours`, under the rule `name` (created or replaced).
    pub fn mute(
        &self,
        agent: &ureq::Agent,
        deadline: Deadline,
        rule: &MuteRule,
    ) -> Result<(), Error> {
        let mut request = Object::new();
        request.string("Name", rule.name);
        request.string("Description", "muted from Slack by alarm-to-slack");
        request.object("Rule", |r| {
            r.object("Schedule", |s| {
                s.string("Expression", &format!("at({})", rule.at));
                s.string("Duration", &format!("PT{}H", rule.hours));
                s.string("Timezone", "UTC");
            })
        });
        request.object("MuteTargets", |t| {
            t.array("AlarmNames", |a| a.string(rule.alarm))
        });
        let target = format!("{TARGET}PutAlarmMuteRule");
        self.client
            .json(agent, deadline, &target, &request.finish(), &MUTE)
            .map(|_| ())
    }

    /// `DeleteAlarmMuteRule`: the rule `name` gone, if it was there.
    pub fn unmute(&self, agent: &ureq::Agent, deadline: Deadline, name: &str) -> Result<(), Error> {
        let mut request = Object::new();
        request.string("AlarmMuteRuleName", name);
        let target = format!("{TARGET}DeleteAlarmMuteRule");
        self.client
            .json(agent, deadline, &target, &request.finish(), &MUTE)
            .map(|_| ())
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

/// A mute rule as `PutAlarmMuteRule` takes it.
pub struct MuteRule<'a> {
    pub name: &'a str,
    pub alarm: &'a str,
    /// The start, UTC: `yyyy-MM-ddThh:mm`.
    pub at: &'a str,
    pub hours: i64,
}

fn not_cloudwatch(why: &str) -> Error {
    Error::aws_unreachable(Service::CloudWatch, why.to_string())
}
