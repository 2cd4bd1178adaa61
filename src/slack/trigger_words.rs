//! The trigger in words: `Average CPUUtilization &gt; 80 for 2 of 2 periods of 5 minutes`.
//! Every string returned here is mrkdwn: text from the alarm is escaped, expressions are
//! set as code.

use super::mrkdwn::escape;
use crate::alarm::trigger::{stat_words, Metric, Rule};

/// `Average CPUUtilization > 80 for 2 of 2 periods of 5 minutes`
pub fn words(rule: &Rule) -> String {
    let mut out = match rule.subject() {
        Some(metric) => subject(metric),
        None => "the metric".to_string(),
    };
    let threshold = rule.threshold.as_deref().map(|t| match &rule.unit {
        Some(unit) if unit != "None" => format!("{} {}", escape(t), escape(unit)),
        _ => escape(t),
    });
    let comparison = rule
        .comparison
        .as_deref()
        .map(|operator| comparison_words(operator).unwrap_or_else(|| (escape(operator), false)));
    let mut threshold_alone = None;
    match (comparison, threshold) {
        (Some((words, true)), _) => {
            out.push(' ');
            out.push_str(&words);
            if let Some(band) = band_words(rule) {
                out.push(' ');
                out.push_str(&band);
            }
        }
        (Some((words, false)), Some(threshold)) => {
            out.push(' ');
            out.push_str(&words);
            out.push(' ');
            out.push_str(&threshold);
        }
        (Some((words, false)), None) => {
            out.push(' ');
            out.push_str(&words);
            out.push_str(" the threshold");
        }
        (None, threshold) => threshold_alone = threshold,
    }
    let period = rule
        .period
        .or_else(|| rule.subject().and_then(|m| m.period));
    match (rule.evaluation_periods, period) {
        (Some(of), period) => {
            let fired = rule.datapoints_to_alarm.unwrap_or(of);
            if fired == 1 && of == 1 {
                out.push_str(" for 1 period");
            } else {
                out.push_str(&format!(" for {fired} of {of} periods"));
            }
            if let Some(period) = period {
                out.push_str(" of ");
                out.push_str(&duration(period));
            }
        }
        (None, Some(period)) => {
            out.push_str(" over ");
            out.push_str(&duration(period));
        }
        (None, None) => {}
    }
    if let Some(threshold) = threshold_alone {
        out.push_str(", threshold ");
        out.push_str(&threshold);
    }
    out
}

/// One line per metric the trigger does not already name:
/// `m1 = Sum 5XXError in AWS/ApiGateway (ApiName=shop)`.
pub fn metric_lines(rule: &Rule) -> Vec<String> {
    let subject = rule.subject();
    let several = rule.metrics.len() > 1;
    rule.metrics
        .iter()
        .filter(|m| {
            let shown_in_words = m.expression.is_some()
                && (subject.is_some_and(|s| std::ptr::eq(s, *m)) || rule.is_band(m));
            !shown_in_words
        })
        .map(|m| line(m, several))
        .collect()
}

fn band_words(rule: &Rule) -> Option<String> {
    let band = rule.metrics.iter().find(|m| rule.is_band(m));
    match band.and_then(|m| m.expression.as_deref()) {
        Some(expression) => Some(code(expression)),
        None => rule.band.as_deref().map(escape),
    }
}

/// How the trigger names it: `Average CPUUtilization`, or ``Error rate `100*(m1/m2)` ``.
fn subject(metric: &Metric) -> String {
    if let Some(expression) = &metric.expression {
        return match &metric.label {
            Some(label) => format!("{} {}", escape(label), code(expression)),
            None => code(expression),
        };
    }
    let name = metric
        .name
        .as_deref()
        .or(metric.label.as_deref())
        .or(metric.id.as_deref())
        .unwrap_or("metric");
    match &metric.stat {
        Some(stat) => format!("{} {}", escape(stat_words(stat)), escape(name)),
        None => escape(name),
    }
}

/// What it measures: `CPUUtilization in AWS/EC2 (InstanceId=i-1)`, prefixed with its
/// id (and statistic) when the alarm combines several metrics.
fn line(metric: &Metric, several: bool) -> String {
    let mut out = String::new();
    if several {
        if let Some(id) = &metric.id {
            out.push_str(&escape(id));
            out.push_str(" = ");
        }
    }
    if metric.expression.is_some() {
        out.push_str(&subject(metric));
        return out;
    }
    if several {
        if let Some(stat) = &metric.stat {
            out.push_str(&escape(stat_words(stat)));
            out.push(' ');
        }
    }
    out.push_str(&escape(metric.name.as_deref().unwrap_or("metric")));
    if let Some(namespace) = &metric.namespace {
        out.push_str(" in ");
        out.push_str(&escape(namespace));
    }
    if !metric.dimensions.is_empty() {
        let dimensions: Vec<String> = metric
            .dimensions
            .iter()
            .map(|(name, value)| format!("{}={}", escape(name), escape(value)))
            .collect();
        out.push_str(" (");
        out.push_str(&dimensions.join(", "));
        out.push(')');
    }
    out
}

/// The operator in words (mrkdwn), and whether it compares with an anomaly band;
/// `None` for an operator AWS adds later, which is then shown by its name.
fn comparison_words(operator: &str) -> Option<(String, bool)> {
    let (words, band) = match operator {
        "GreaterThanThreshold" => ("&gt;", false),
        "GreaterThanOrEqualToThreshold" => ("&gt;=", false),
        "LessThanThreshold" => ("&lt;", false),
        "LessThanOrEqualToThreshold" => ("&lt;=", false),
        "LessThanLowerOrGreaterThanUpperThreshold" => ("outside the band", true),
        "GreaterThanUpperThreshold" => ("above the band", true),
        "LessThanLowerThreshold" => ("below the band", true),
        _ => return None,
    };
    Some((words.to_string(), band))
}

/// `5 minutes`, `1 hour`, `90 seconds`.
fn duration(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

/// Expressions and rules as inline code: `*` and `_` in them are not mrkdwn.
pub fn code(text: &str) -> String {
    format!("`{}`", escape(text).replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Metric {
        Metric {
            namespace: Some("AWS/EC2".into()),
            name: Some("CPUUtilization".into()),
            stat: Some("AVERAGE".into()),
            dimensions: vec![("AutoScalingGroupName".into(), "api-asg".into())],
            returned: true,
            ..Metric::default()
        }
    }

    fn metric_rule() -> Rule {
        Rule {
            metrics: vec![cpu()],
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some("80".into()),
            period: Some(300),
            evaluation_periods: Some(2),
            datapoints_to_alarm: Some(2),
            ..Rule::default()
        }
    }

    #[test]
    fn metric_alarm_in_words() {
        let rule = metric_rule();
        assert_eq!(
            words(&rule),
            "Average CPUUtilization &gt; 80 for 2 of 2 periods of 5 minutes"
        );
        assert_eq!(
            metric_lines(&rule),
            ["CPUUtilization in AWS/EC2 (AutoScalingGroupName=api-asg)"]
        );
    }

    #[test]
    fn operators_units_and_windows() {
        let mut rule = Rule {
            comparison: Some("LessThanOrEqualToThreshold".into()),
            unit: Some("Milliseconds".into()),
            evaluation_periods: Some(5),
            datapoints_to_alarm: Some(3),
            period: Some(60),
            ..metric_rule()
        };
        assert_eq!(
            words(&rule),
            "Average CPUUtilization &lt;= 80 Milliseconds for 3 of 5 periods of 1 minute"
        );
        rule.evaluation_periods = Some(1);
        rule.datapoints_to_alarm = None;
        rule.unit = Some("None".into());
        rule.comparison = Some("GreaterThanOrEqualToThreshold".into());
        assert_eq!(
            words(&rule),
            "Average CPUUtilization &gt;= 80 for 1 period of 1 minute"
        );
        // What direct alarm actions carry: no operator, no evaluation count.
        rule.comparison = None;
        rule.evaluation_periods = None;
        assert_eq!(
            words(&rule),
            "Average CPUUtilization over 1 minute, threshold 80"
        );
        rule.comparison = Some("SomeFutureOperator".into());
        rule.threshold = None;
        assert_eq!(
            words(&rule),
            "Average CPUUtilization SomeFutureOperator the threshold over 1 minute"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration(10), "10 seconds");
        assert_eq!(duration(1), "1 second");
        assert_eq!(duration(90), "90 seconds");
        assert_eq!(duration(300), "5 minutes");
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(7200), "2 hours");
        assert_eq!(duration(86_400), "1 day");
        assert_eq!(duration(0), "0 seconds");
    }

    #[test]
    fn metric_math_names_the_expression_and_lists_its_inputs() {
        let input = |id: &str, name: &str| Metric {
            id: Some(id.into()),
            namespace: Some("AWS/ApiGateway".into()),
            name: Some(name.into()),
            stat: Some("Sum".into()),
            dimensions: vec![("ApiName".into(), "shop<&>".into())],
            period: Some(60),
            ..Metric::default()
        };
        let rule = Rule {
            metrics: vec![
                Metric {
                    id: Some("e1".into()),
                    expression: Some("100*(m1/m2)".into()),
                    label: Some("Error rate".into()),
                    returned: true,
                    ..Metric::default()
                },
                input("m1", "5XXError"),
                input("m2", "Count"),
            ],
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some("5".into()),
            evaluation_periods: Some(3),
            datapoints_to_alarm: Some(2),
            ..Rule::default()
        };
        assert_eq!(
            words(&rule),
            "Error rate `100*(m1/m2)` &gt; 5 for 2 of 3 periods"
        );
        assert_eq!(
            metric_lines(&rule),
            [
                "m1 = Sum 5XXError in AWS/ApiGateway (ApiName=shop&lt;&amp;&gt;)",
                "m2 = Sum Count in AWS/ApiGateway (ApiName=shop&lt;&amp;&gt;)"
            ]
        );
    }

    #[test]
    fn anomaly_band_is_named_by_its_expression() {
        let rule = Rule {
            metrics: vec![
                Metric {
                    id: Some("m1".into()),
                    stat: Some("Average".into()),
                    period: Some(300),
                    ..cpu()
                },
                Metric {
                    id: Some("ad1".into()),
                    expression: Some("ANOMALY_DETECTION_BAND(m1, 2)".into()),
                    returned: true,
                    ..Metric::default()
                },
            ],
            comparison: Some("LessThanLowerOrGreaterThanUpperThreshold".into()),
            band: Some("ad1".into()),
            evaluation_periods: Some(3),
            ..Rule::default()
        };
        assert_eq!(
            words(&rule),
            "Average CPUUtilization outside the band `ANOMALY_DETECTION_BAND(m1, 2)` for 3 of 3 periods of 5 minutes"
        );
        assert_eq!(
            metric_lines(&rule),
            ["m1 = Average CPUUtilization in AWS/EC2 (AutoScalingGroupName=api-asg)"]
        );
    }

    #[test]
    fn nothing_known_still_reads() {
        assert_eq!(words(&Rule::default()), "the metric");
        assert!(metric_lines(&Rule::default()).is_empty());
        assert_eq!(code("a`b<c"), "`a'b&lt;c`");
    }
}
