//! What an alarm watches, as CloudWatch's `MetricWidget` JSON (for `GetMetricWidgetImage`,
//! and for a user to paste into the console's graph source) and as a `GetMetricData`
//! request for its recent values. Pure: no clock, no network.

use crate::alarm::timestamp;
use crate::alarm::trigger::{stat_words, Metric, Rule, Trigger};
use crate::alarm::Alarm;
use crate::json::{Array, Object};
use serde_json::Number;

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
    let changed = alarm.changed_epoch();
    let (start, end) = match changed {
        // The change a little off the right edge, so that it is not lost in the frame.
        Some(at) => {
            let end = at + period.max(60) as i64;
            (iso(end - history as i64), iso(end))
        }
        // No readable time: relative to whenever the graph is drawn.
        None => (format!("-PT{history}S"), "-PT0H".to_string()),
    };
    let line = threshold_line(rule);
    // Keys in alphabetical order, here and below: the order serde_json wrote them in, which
    // the golden widgets (and graph sources users have pasted) keep.
    let mut w = Object::new();
    if changed.is_some() || line.is_some() {
        w.object("annotations", |a| {
            if let Some(line) = &line {
                a.array("horizontal", |h| h.object(|o| line.write(o)));
            }
            if let Some(at) = changed {
                a.array("vertical", |v| {
                    v.object(|o| {
                        o.string("label", &alarm.new_state);
                        o.string("value", &iso(at));
                    })
                });
            }
        });
    }
    w.string("end", &end);
    w.number("height", HEIGHT);
    w.array("metrics", |list| {
        for m in &rule.metrics {
            entry(list, m, period);
        }
    });
    w.number("period", period);
    if let Some(region) = &alarm.region {
        w.string("region", region);
    }
    w.bool("stacked", false);
    w.string("start", &start);
    if let Some(stat) = rule.subject().and_then(|m| m.stat.as_deref()) {
        w.string("stat", stat_words(stat));
    }
    w.string("timezone", "+0000");
    w.string("title", &alarm.name);
    w.string("view", "timeSeries");
    w.number("width", WIDTH);
    Ok(w.finish())
}

/// The threshold as a horizontal line, shaded on the side that fires.
struct Line<'r> {
    value: Number,
    threshold: &'r str,
    fill: Option<&'static str>,
}

impl Line<'_> {
    fn write(&self, o: &mut Object) {
        o.string("color", THRESHOLD_COLOR);
        if let Some(fill) = self.fill {
            o.string("fill", fill);
        }
        o.string("label", &format!("Threshold {}", self.threshold));
        o.number("value", self.value.clone());
    }
}

/// The threshold line; an anomaly band is drawn by its own expression instead.
fn threshold_line(rule: &Rule) -> Option<Line<'_>> {
    if rule.band.is_some() {
        return None;
    }
    let threshold = rule.threshold.as_deref()?;
    let value = number(threshold)?;
    let comparison = rule.comparison.as_deref().unwrap_or("");
    let fill = if comparison.starts_with("GreaterThan") {
        Some("above")
    } else if comparison.starts_with("LessThan") {
        Some("below")
    } else {
        None
    };
    Some(Line {
        value,
        threshold,
        fill,
    })
}

/// What a metric stands for: an expression, or a metric by namespace and name.
enum Series<'m> {
    Expression(&'m str),
    Metric { namespace: &'m str, name: &'m str },
}

fn series(m: &Metric) -> Option<Series<'_>> {
    match (&m.expression, &m.namespace, &m.name) {
        (Some(expression), _, _) => Some(Series::Expression(expression)),
        (None, Some(namespace), Some(name)) => Some(Series::Metric { namespace, name }),
        _ => None,
    }
}

/// A metric or expression as a widget's `metrics` entry; nothing for one that is neither.
fn entry(list: &mut Array, m: &Metric, period: u64) {
    let Some(series) = series(m) else { return };
    list.array(|entry| {
        if let Series::Metric { namespace, name } = series {
            entry.string(namespace);
            entry.string(name);
            for (key, value) in &m.dimensions {
                entry.string(key);
                entry.string(value);
            }
        }
        entry.object(|options| {
            if let Series::Expression(expression) = series {
                options.string("expression", expression);
            }
            if let Some(id) = m.id.as_deref().filter(|id| is_id(id)) {
                options.string("id", id);
            }
            if let Some(label) = &m.label {
                options.string("label", label);
            }
            if let Series::Metric { .. } = series {
                options.number("period", m.period.unwrap_or(period));
                options.string("stat", stat_words(m.stat.as_deref().unwrap_or("Average")));
            }
            if !m.returned {
                options.bool("visible", false);
            }
        });
    });
}

fn is_drawable(m: &Metric) -> bool {
    series(m).is_some()
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
fn number(text: &str) -> Option<Number> {
    let value = parse_number(text)?;
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Some((value as i64).into())
    } else {
        Number::from_f64(value)
    }
}

/// `2026-11-28T11:38:08Z`.
pub fn iso(epoch: i64) -> String {
    timestamp::iso(epoch)
}

/// A `GetMetricData` request for the alarm's subject (the series compared with the
/// threshold) over the `points` periods that end at `end`; the query id of that series.
pub fn metric_data(rule: &Rule, end: i64, points: u64) -> Option<(String, String)> {
    let subject = rule.subject()?;
    let period = period(rule);
    let mut subject_id = None;
    let mut request = Object::new();
    request.array("MetricDataQueries", |queries| {
        for (i, m) in rule.metrics.iter().enumerate() {
            let Some(series) = series(m).filter(|_| !rule.is_band(m)) else {
                continue;
            };
            let id = match m.id.as_deref().filter(|id| is_id(id)) {
                Some(id) => id.to_string(),
                None => format!("q{i}"),
            };
            let returned = std::ptr::eq(m, subject);
            queries.object(|query| {
                query.string("Id", &id);
                query.bool("ReturnData", returned);
                match series {
                    Series::Expression(expression) => query.string("Expression", expression),
                    Series::Metric { namespace, name } => query.object("MetricStat", |stat| {
                        stat.object("Metric", |metric| {
                            metric.string("Namespace", namespace);
                            metric.string("MetricName", name);
                            metric.array("Dimensions", |dimensions| {
                                for (name, value) in &m.dimensions {
                                    dimensions.object(|d| {
                                        d.string("Name", name);
                                        d.string("Value", value);
                                    });
                                }
                            });
                        });
                        stat.number("Period", m.period.unwrap_or(period));
                        stat.string("Stat", stat_words(m.stat.as_deref().unwrap_or("Average")));
                    }),
                }
            });
            if returned {
                subject_id = Some(id);
            }
        }
    });
    let start = end - (points * period) as i64;
    request.number("StartTime", start);
    request.number("EndTime", end);
    request.string("ScanBy", "TimestampAscending");
    Some((request.finish(), subject_id?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::event::{self, Notification};
    use serde_json::{json, Value};

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

    fn metric_data_of(rule: &Rule) -> (Value, String) {
        let (request, id) = metric_data(rule, 1_000_000, 24).expect("request");
        (serde_json::from_str(&request).expect("JSON"), id)
    }

    #[test]
    fn metric_data_returns_only_the_subject() {
        let a = alarm("cloudwatch-alarm-metric-math.json");
        let Ok(rule) = rule(&a) else { panic!() };
        let (request, id) = metric_data_of(rule);
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
        let (request, id) = metric_data_of(rule);
        assert_eq!(id, "m1");
        assert_eq!(
            request["MetricDataQueries"].as_array().map(Vec::len),
            Some(1)
        );
        let direct = alarm("lambda-alarm-action.json");
        let Ok(rule) = self::rule(&direct) else {
            panic!()
        };
        let (request, id) = metric_data_of(rule);
        assert_eq!(id, "q0");
        assert_eq!(
            request["MetricDataQueries"][0]["MetricStat"]["Stat"],
            "Average"
        );
    }
}
