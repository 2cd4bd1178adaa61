//! A metric's recent values as one line of block characters, for a card field that works
//! in every Slack mode (a webhook cannot carry an image): `▁▂▂▃▅▇█ 93.4 > 80`.

use serde_json::Value;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A period without a datapoint: CloudWatch leaves it out of the answer.
const GAP: char = '·';

/// The series `id` of a `GetMetricData` answer as `(epoch seconds, value)` pairs.
pub fn series(answer: &Value, id: &str) -> Vec<(i64, f64)> {
    let result = answer
        .get("MetricDataResults")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r.get("Id").and_then(Value::as_str) == Some(id));
    let list = |key: &str| {
        result
            .and_then(|r| r.get(key))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    list("Timestamps")
        .iter()
        .zip(list("Values"))
        .filter_map(|(t, v)| Some((t.as_f64()? as i64, v.as_f64().filter(|v| v.is_finite())?)))
        .collect()
}

/// The field's mrkdwn: one character per period from `start` (`points` of them), the last
/// value, and how it compares with the threshold. `None` without a datapoint.
pub fn line(
    series: &[(i64, f64)],
    start: i64,
    period: u64,
    points: usize,
    threshold: Option<&str>,
) -> Option<String> {
    let mut slots: Vec<Option<f64>> = vec![None; points];
    for &(at, value) in series {
        let slot = (at - start).div_euclid(period.max(1) as i64);
        if let Some(s) = usize::try_from(slot).ok().and_then(|i| slots.get_mut(i)) {
            *s = Some(value);
        }
    }
    let values = || slots.iter().flatten().copied();
    let last = values().last()?;
    let (low, high) = values().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    // Leading periods before the metric existed say nothing: left out.
    let first = slots.iter().position(Option::is_some).unwrap_or(0);
    let mut out: String = slots[first..]
        .iter()
        .map(|slot| match slot {
            None => GAP,
            // A flat series sits in the middle rather than looking like zero.
            Some(_) if high - low <= f64::EPSILON * high.abs().max(1.0) => BARS[3],
            Some(v) => BARS[(((v - low) / (high - low)) * 7.0).round() as usize],
        })
        .collect();
    out.push(' ');
    out.push_str(&short(last));
    let limit = threshold.and_then(|t| Some((t, super::widget::parse_number(t)?)));
    if let Some((text, limit)) = limit {
        let sign = if last > limit {
            ">"
        } else if last < limit {
            "<"
        } else {
            "="
        };
        out.push_str(&format!(" {sign} {text}"));
    }
    Some(out)
}

/// A value with three or so significant digits: `93.4`, `7.14`, `1234`, `0.0123`.
fn short(value: f64) -> String {
    let decimals = match value.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 4,
    };
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    // serde_json writes floats with the shortest exact digits (ryu), already in the binary.
    let text = Value::from(rounded).to_string();
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_bars_and_the_last_is_compared() {
        let series: Vec<(i64, f64)> = [10.0, 20.0, 30.0, 45.0, 60.0, 80.0, 93.4]
            .iter()
            .enumerate()
            .map(|(i, v)| (1000 + 300 * i as i64, *v))
            .collect();
        assert_eq!(
            line(&series, 1000, 300, 7, Some("80")).as_deref(),
            Some("▁▂▃▄▅▇█ 93.4 > 80")
        );
        assert_eq!(
            line(&series[..5], 1000, 300, 7, Some("80")).as_deref(),
            Some("▁▂▄▆█·· 60 < 80")
        );
        assert_eq!(
            line(&series, 1000, 300, 7, None).as_deref(),
            Some("▁▂▃▄▅▇█ 93.4")
        );
    }

    #[test]
    fn gaps_flat_lines_and_nothing() {
        let series = [(1600, 5.0), (2200, 5.0)];
        assert_eq!(
            line(&series, 1000, 300, 5, Some("5")).as_deref(),
            Some("▄·▄ 5 = 5")
        );
        assert_eq!(line(&[], 1000, 300, 5, Some("5")), None);
        // Outside the window: ignored.
        assert_eq!(line(&[(0, 1.0), (99_999, 2.0)], 1000, 300, 5, None), None);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short(93.4), "93.4");
        assert_eq!(short(7.142857142857143), "7.14");
        assert_eq!(short(1234.56), "1235");
        assert_eq!(short(80.0), "80");
        assert_eq!(short(0.012345), "0.0123");
        assert_eq!(short(-12.34), "-12.3");
    }

    #[test]
    fn the_series_is_read_by_id() {
        let answer = json!({"MetricDataResults": [
            {"Id": "other", "Timestamps": [1], "Values": [1.0]},
            {"Id": "rate", "Timestamps": [1000, 1300.0, 1600], "Values": [1, 2.5, "x"]}
        ]});
        assert_eq!(series(&answer, "rate"), [(1000, 1.0), (1300, 2.5)]);
        assert!(series(&answer, "none").is_empty());
        assert!(series(&json!({"x": 1}), "rate").is_empty());
    }
}
