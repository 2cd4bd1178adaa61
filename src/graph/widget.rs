//! What an alarm watches, as CloudWatch's `MetricWidget` JSON (for `GetMetricWidgetImage`,
//! and for a user to paste into the console's graph source) and as a `GetMetricData`
//! request for its recent values. Pure: no clock, no network.

use crate::alarm::timestamp;
use crate::alarm::trigger::{stat_words, Metric, Rule, Trigger};
use crate::alarm::Alarm;
use serde_json::{json, Map, Value};

/// Readable in Slack's preview and in the console (the API allows 1–2000 px).
const WIDTH: u32 = 800;
const HEIGHT: u32 = 400;
/// The graph shows this many evaluation windows before the change, within the bounds below:
/// enough history to see what "normal" was, never so much that the change is a sliver.
const HISTORY_WINDOWS: u64 = 20;
const MIN_HISTORY_SECS: u64 = 3600;
const MAX_HISTORY_SECS: u64 = 86_400;
/// CloudWatch's own default period.
const DEFAULT_PERIOD: u64 = 300;
/// Red, as the console draws an alarm's threshold.
const THRESHOLD_COLOR: &str = "#d62728";

/// The threshold rule of an alarm that has a graph, or why it has none.
pub fn rule(alarm: &Alarm) -> Result<&Rule, &'static str> {
    match &alarm.trigger {
        Trigger::Threshold(rule) if rule.metrics.iter().any(is_drawable) => Ok(rule),
        Trigger::Threshold(_) => Err("the alarm's trigger names no metric"),
        // Its graph would be the triggering child's: another API call (DescribeAlarms) away.
        Trigger::Composite { .. } => Err(
            "a composite alarm watches other alarms, not a metric; the triggering child's graph would need its configuration (another API call), so none is drawn",
        ),
        Trigger::None => Err("the event carries no trigger"),
    }
}

/// The period the alarm evaluates, in seconds.
pub fn period(rule: &Rule) -> u64 {
    rule.period
        .or_else(|| rule.subject().and_then(|m| m.period))
        .unwrap_or(DEFAULT_PERIOD)
        .max(1)
}

/// How much history the graph shows: 20 evaluation windows, between 1 h and 24 h.
fn history(rule: &Rule) -> u64 {
    let windows = rule.evaluation_periods.unwrap_or(1).clamp(1, 10_000);
    period(rule)
        .saturating_mul(windows)
        .saturating_mul(HISTORY_WINDOWS)
        .clamp(MIN_HISTORY_SECS, MAX_HISTORY_SECS)
}

/// The `MetricWidget` JSON of an alarm with a metric trigger, or why it has none.
pub fn widget(alarm: &Alarm) -> Result<String, &'static str> {
    let rule = rule(alarm)?;
    let period = period(rule);
    let history = history(rule);
    let mut w = Map::new();
    let metrics: Vec<Value> = rule
        .metrics
        .iter()
        .filter_map(|m| entry(m, period))
        .collect();
    w.insert("metrics".into(), metrics.into());
    w.insert("view".into(), "timeSeries".into());
    w.insert("stacked".into(), false.into());
    w.insert("title".into(), alarm.name.clone().into());
    if let Some(region) = &alarm.region {
        w.insert("region".into(), region.clone().into());
    }
    w.insert("period".into(), period.into());
    if let Some(stat) = rule.subject().and_then(|m| m.stat.as_deref()) {
        w.insert("stat".into(), stat_words(stat).into());
    }
    let mut annotations = Map::new();
    match alarm.changed_epoch() {
        Some(at) => {
            // The change a little off the right edge, so that it is not lost in the frame.
            let end = at + period.max(60) as i64;
            w.insert("start".into(), iso(end - history as i64).into());
            w.insert("end".into(), iso(end).into());
            let mark = json!({"value": iso(at), "label": alarm.new_state});
            annotations.insert("vertical".into(), json!([mark]));
        }
        // No readable time: relative to whenever the graph is drawn.
        None => {
            w.insert("start".into(), format!("-PT{history}S").into());
            w.insert("end".into(), "-PT0H".into());
        }
    }
    if let Some(line) = threshold_line(rule) {
        annotations.insert("horizontal".into(), json!([line]));
    }
    if !annotations.is_empty() {
        w.insert("annotations".into(), annotations.into());
    }
    w.insert("timezone".into(), "+0000".into());
    w.insert("width".into(), WIDTH.into());
    w.insert("height".into(), HEIGHT.into());
    Ok(Value::Object(w).to_string())
}

/// The threshold as a horizontal line, shaded on the side that fires. An anomaly band is
/// drawn by its own expression instead.
fn threshold_line(rule: &Rule) -> Option<Value> {
    if rule.band.is_some() {
        return None;
    }
    let text = rule.threshold.as_deref()?;
    let value = number(text)?;
    let comparison = rule.comparison.as_deref().unwrap_or("");
    let mut line =
        json!({"value": value, "label": format!("Threshold {text}"), "color": THRESHOLD_COLOR});
    if comparison.starts_with("GreaterThan") {
        line["fill"] = "above".into();
    } else if comparison.starts_with("LessThan") {
        line["fill"] = "below".into();
    }
    Some(line)
}

/// A metric or expression as a widget's `metrics` entry.
fn entry(m: &Metric, period: u64) -> Option<Value> {
    let mut options = Map::new();
    if let Some(id) = m.id.as_deref().filter(|id| is_id(id)) {
        options.insert("id".into(), id.into());
    }
    if let Some(label) = &m.label {
        options.insert("label".into(), label.clone().into());
    }
    if !m.returned {
        options.insert("visible".into(), false.into());
    }
    if let Some(expression) = &m.expression {
        options.insert("expression".into(), expression.clone().into());
        return Some(json!([options]));
    }
    let (namespace, name) = (m.namespace.as_deref()?, m.name.as_deref()?);
    options.insert(
        "stat".into(),
        stat_words(m.stat.as_deref().unwrap_or("Average")).into(),
    );
    options.insert("period".into(), m.period.unwrap_or(period).into());
    let mut entry: Vec<Value> = vec![namespace.into(), name.into()];
    for (key, value) in &m.dimensions {
        entry.push(key.clone().into());
        entry.push(value.clone().into());
    }
    entry.push(options.into());
    Some(entry.into())
}

fn is_drawable(m: &Metric) -> bool {
    m.expression.is_some() || (m.namespace.is_some() && m.name.is_some())
}

/// CloudWatch's rule for ids: a lowercase letter, then letters, digits and `_`.
fn is_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A threshold (or any number the alarm sent as text) as an `f64`. serde_json's reader, not
/// `str::parse`: core's float parser would add about 10 KB to the binary for this alone.
pub fn parse_number(text: &str) -> Option<f64> {
    serde_json::from_str::<f64>(text.trim())
        .ok()
        .filter(|v| v.is_finite())
}

/// A threshold as a JSON number: whole numbers without `.0`.
fn number(text: &str) -> Option<Value> {
    let value = parse_number(text)?;
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Some((value as i64).into())
    } else {
        serde_json::Number::from_f64(value).map(Value::Number)
    }
}

/// `2026-11-28T11:38:08Z`.
pub fn iso(epoch: i64) -> String {
    timestamp::iso(epoch)
}

/// A `GetMetricData` request for the alarm's subject (the series compared with the
/// threshold) over the `points` periods that end at `end`; the query id of that series.
pub fn metric_data(rule: &Rule, end: i64, points: u64) -> Option<(Value, String)> {
    let subject = rule.subject()?;
    let period = period(rule);
    let mut subject_id = None;
    let mut queries = Vec::new();
    for (i, m) in rule.metrics.iter().enumerate() {
        if rule.is_band(m) || !is_drawable(m) {
            continue;
        }
        let id = match m.id.as_deref().filter(|id| is_id(id)) {
            Some(id) => id.to_string(),
            None => format!("q{i}"),
        };
        let returned = std::ptr::eq(m, subject);
        if returned {
            subject_id = Some(id.clone());
        }
        let mut query = json!({"Id": id, "ReturnData": returned});
        match &m.expression {
            Some(expression) => query["Expression"] = expression.clone().into(),
            None => {
                let dimensions: Vec<Value> = m
                    .dimensions
                    .iter()
                    .map(|(name, value)| json!({"Name": name, "Value": value}))
                    .collect();
                query["MetricStat"] = json!({
                    "Metric": {"Namespace": m.namespace, "MetricName": m.name, "Dimensions": dimensions},
                    "Period": m.period.unwrap_or(period),
                    "Stat": stat_words(m.stat.as_deref().unwrap_or("Average")),
                });
            }
        }
        queries.push(query);
    }
    let start = end - (points * period) as i64;
    let request = json!({
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    });
    Some((request, subject_id?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::event::{self, Notification};

    fn alarm(file: &str) -> Alarm {
        let body = std::fs::read(format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        match event::parse(&body).map(|mut n| n.remove(0)) {
            Ok(Notification::Alarm(alarm)) => *alarm,
            _ => panic!("{file} holds no alarm"),
        }
    }

    fn widget_of(file: &str) -> Value {
        let text = widget(&alarm(file)).unwrap_or_else(|why| panic!("{file}: {why}"));
        serde_json::from_str(&text).expect("JSON")
    }

    #[test]
    fn a_metric_alarm_shows_its_metric_threshold_and_change() {
        let w = widget_of("cloudwatch-alarm.json");
        assert_eq!(
            w["metrics"],
            json!([["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "api-asg",
                {"stat": "Average", "period": 300}]])
        );
        assert_eq!(
            w["annotations"]["horizontal"],
            json!([{"value": 80, "label": "Threshold 80", "color": "#d62728", "fill": "above"}])
        );
        assert_eq!(
            w["annotations"]["vertical"],
            json!([{"value": "2026-11-28T11:38:08Z", "label": "ALARM"}])
        );
        // 2 periods of 5 min, 20 times: 3 h 20 min, ending one period after the change.
        assert_eq!(
            (w["start"].as_str(), w["end"].as_str()),
            (Some("2026-11-28T08:23:08Z"), Some("2026-11-28T11:43:08Z"))
        );
        assert_eq!(
            (&w["timezone"], &w["width"], &w["height"]),
            (&json!("+0000"), &json!(800), &json!(400))
        );
        assert_eq!(w["region"], "us-east-1");
    }

    #[test]
    fn a_percentile_is_kept_as_its_stat() {
        let w = widget_of("cloudwatch-alarm-insufficient-data.json");
        let options = w["metrics"][0].as_array().and_then(|e| e.last()).cloned();
        assert_eq!(options.expect("options")["stat"], "p99");
        assert_eq!(w["stat"], "p99");
    }

    #[test]
    fn metric_math_draws_the_expression_over_hidden_inputs() {
        let w = widget_of("cloudwatch-alarm-metric-math.json");
        let metrics = w["metrics"].as_array().expect("metrics");
        assert_eq!(
            metrics[0],
            json!([{"expression": "100 * errors / requests", "id": "rate", "label": "5XX rate (%)"}])
        );
        assert_eq!(
            metrics[1],
            json!(["AWS/ApiGateway", "5XXError", "ApiName", "shop-api",
                {"id": "errors", "stat": "Sum", "period": 60, "visible": false}])
        );
        assert_eq!(metrics.len(), 3);
        // 3 periods of a minute, 20 times, is less than the hour shown at least.
        assert_eq!(w["start"], "2026-11-28T10:39:08Z");
    }

    #[test]
    fn an_anomaly_alarm_draws_its_band_and_no_threshold_line() {
        let w = widget_of("cloudwatch-alarm-anomaly-detection.json");
        assert_eq!(
            w["metrics"][1],
            json!([{"expression": "ANOMALY_DETECTION_BAND(m1, 2)", "id": "ad1", "label": "OrdersPlaced (expected)"}])
        );
        assert!(w["annotations"].get("horizontal").is_none(), "{w}");
        assert_eq!(w["annotations"]["vertical"][0]["label"], "ALARM");
    }

    #[test]
    fn long_windows_stop_at_a_day_and_unknown_times_are_relative() {
        let mut rule = Rule {
            period: Some(3600),
            evaluation_periods: Some(24),
            ..Rule::default()
        };
        assert_eq!(history(&rule), 86_400);
        rule.period = Some(10);
        rule.evaluation_periods = None;
        assert_eq!(history(&rule), 3600);
        let w = widget_of("cloudwatch-alarm-odd-types.json");
        assert_eq!(
            (&w["start"], &w["end"]),
            (&json!("-PT6000S"), &json!("-PT0H"))
        );
        assert_eq!(w["annotations"]["horizontal"][0]["value"], 1000);
        assert!(w["annotations"].get("vertical").is_none());
    }

    #[test]
    fn composite_alarms_and_text_have_no_graph() {
        let why = widget(&alarm("cloudwatch-alarm-composite.json")).expect_err("no graph");
        assert!(why.contains("composite"), "{why}");
    }

    #[test]
    fn ids_that_cloudwatch_refuses_are_left_out() {
        let w = widget_of("lambda-alarm-action.json");
        assert_eq!(
            w["metrics"],
            json!([["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "api-asg",
                {"stat": "Average", "period": 300}]])
        );
        assert!(is_id("m1") && is_id("errors_2"));
        assert!(!is_id("8b3c0e4a") && !is_id("M1") && !is_id("a-b") && !is_id(""));
    }

    #[test]
    fn metric_data_returns_only_the_subject() {
        let a = alarm("cloudwatch-alarm-metric-math.json");
        let Ok(rule) = rule(&a) else { panic!() };
        let (request, id) = metric_data(rule, 1_000_000, 24).expect("request");
        assert_eq!(id, "rate");
        assert_eq!(
            (request["StartTime"].as_i64(), request["EndTime"].as_i64()),
            (Some(1_000_000 - 24 * 60), Some(1_000_000))
        );
        let queries = request["MetricDataQueries"].as_array().expect("queries");
        assert_eq!(
            queries[0],
            json!({"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": true})
        );
        assert_eq!(
            queries[2],
            json!({"Id": "requests", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/ApiGateway",
                "MetricName": "Count", "Dimensions": [{"Name": "ApiName", "Value": "shop-api"}]}, "Period": 60, "Stat": "Sum"}})
        );
        let anomaly = alarm("cloudwatch-alarm-anomaly-detection.json");
        let Ok(rule) = self::rule(&anomaly) else {
            panic!()
        };
        let (request, id) = metric_data(rule, 1_000_000, 24).expect("request");
        assert_eq!(id, "m1");
        assert_eq!(
            request["MetricDataQueries"].as_array().map(Vec::len),
            Some(1)
        );
        let direct = alarm("lambda-alarm-action.json");
        let Ok(rule) = self::rule(&direct) else {
            panic!()
        };
        let (request, id) = metric_data(rule, 1_000_000, 24).expect("request");
        assert_eq!(id, "q0");
        assert_eq!(
            request["MetricDataQueries"][0]["MetricStat"]["Stat"],
            "Average"
        );
    }
}
