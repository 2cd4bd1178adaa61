//! What makes an alarm fire: the metric rule or the composite rule, as plain data (the
//! words for it are Slack's: `slack/trigger_words.rs`).

#[derive(Debug, PartialEq, Default)]
pub enum Trigger {
    #[default]
    None,
    /// A metric, a metric-math expression or an anomaly band compared with a threshold.
    Threshold(Rule),
    /// A composite alarm: a rule over other alarms, and the children that made it fire.
    Composite {
        rule: Option<String>,
        children: Vec<Child>,
    },
}

#[derive(Debug, PartialEq, Default)]
pub struct Rule {
    /// One entry for a plain metric alarm; the whole `Metrics` list for math and anomaly alarms.
    pub metrics: Vec<Metric>,
    /// `GreaterThanThreshold`, …, `LessThanLowerOrGreaterThanUpperThreshold`.
    pub comparison: Option<String>,
    pub threshold: Option<String>,
    /// The id of the anomaly band (`ThresholdMetricId`) the metric is compared with.
    pub band: Option<String>,
    pub unit: Option<String>,
    pub period: Option<u64>,
    pub evaluation_periods: Option<u64>,
    pub datapoints_to_alarm: Option<u64>,
}

#[derive(Debug, PartialEq, Default)]
pub struct Metric {
    pub id: Option<String>,
    pub label: Option<String>,
    pub expression: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub stat: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub period: Option<u64>,
    pub returned: bool,
}

#[derive(Debug, PartialEq)]
pub struct Child {
    /// An alarm ARN as sent; shown as the alarm's name when it is one.
    pub arn: String,
    pub state: Option<String>,
}

impl Rule {
    /// The metric the threshold applies to: the one whose data the alarm returns,
    /// other than the anomaly band.
    pub fn subject(&self) -> Option<&Metric> {
        let candidates = || self.metrics.iter().filter(|m| !self.is_band(m));
        candidates()
            .find(|m| m.returned)
            .or_else(|| candidates().next())
    }

    pub fn is_band(&self, metric: &Metric) -> bool {
        self.band.is_some() && metric.id == self.band
    }
}

/// SNS spells statistics `AVERAGE`, `SAMPLE_COUNT`; the console and the API `Average`, `SampleCount`.
pub fn stat_words(stat: &str) -> &str {
    match stat {
        "AVERAGE" => "Average",
        "SUM" => "Sum",
        "SAMPLE_COUNT" => "SampleCount",
        "MINIMUM" => "Minimum",
        "MAXIMUM" => "Maximum",
        other => other,
    }
}
