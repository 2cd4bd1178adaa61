//! `METRIC_GRAPH`: the alarm's metric, as data for Slack. `sparkline` is a line of its
//! recent values for a card field (`GetMetricData`, fetched before the post, since it is
//! part of the message); `image` is also the graph as a PNG (`GetMetricWidgetImage`, after
//! the post), which delivery shares under the posted message in app mode. Never at the
//! alarm's expense: each is bounded in time, and a failure only leaves it out, with one
//! WARN.

pub mod sparkline;
pub mod widget;

use crate::alarm::event::Notification;
use crate::alarm::Alarm;
use crate::aws::cloudwatch::CloudWatch;
use crate::error::{AwsAnswer, Error, Service};
use crate::http::Deadline;
use crate::log::{self, Level};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The sparkline is fetched before the post: it may delay the alarm by this much at most.
const SPARKLINE_BUDGET: Duration = Duration::from_millis(1500);
/// The image and its three-step upload, after the post.
const IMAGE_BUDGET: Duration = Duration::from_secs(8);
/// Kept out of any graph's budget: for the post itself (before it) or for the records and
/// destinations still to deliver (after it). Below this plus a little, no graph is tried.
const RESERVE: Duration = Duration::from_secs(2);
const MIN_BUDGET: Duration = Duration::from_millis(500);
/// Periods in a sparkline: about as wide as a card's text.
const POINTS: u64 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Mode {
    #[default]
    Off,
    Sparkline,
    Image,
}

impl Mode {
    pub fn parse(value: &str) -> Option<Mode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Mode::Off),
            "sparkline" => Some(Mode::Sparkline),
            "image" => Some(Mode::Image),
            _ => None,
        }
    }
}

/// The alarm's graph, for its thread.
pub struct Image {
    pub png: Vec<u8>,
    pub title: String,
    /// What is left of the graph's time budget, for sharing it.
    pub deadline: Deadline,
}

pub struct Graphs {
    mode: Mode,
    cloudwatch: CloudWatch,
}

impl Graphs {
    pub fn new(mode: Mode, cloudwatch: CloudWatch) -> Graphs {
        Graphs { mode, cloudwatch }
    }

    /// The sparkline field's mrkdwn for an alarm, or `None` (off, nothing to draw, no time,
    /// CloudWatch failed: the last two logged).
    pub fn sparkline(
        &self,
        agent: &ureq::Agent,
        notification: &Notification,
        deadline: Deadline,
    ) -> Option<String> {
        let Notification::Alarm(alarm) = notification else {
            return None;
        };
        if self.mode == Mode::Off {
            return None;
        }
        let rule = widget::rule(alarm)
            .map_err(|why| log::debug(&"no sparkline").str("why", why).emit())
            .ok()?;
        let budget = budget(
            deadline,
            SPARKLINE_BUDGET,
            "no sparkline: too little time left",
        )?;
        let end = alarm.changed_epoch().unwrap_or_else(now);
        let (request, id) = widget::metric_data(rule, end, POINTS)?;
        let period = widget::period(rule);
        let start = end - (POINTS * period) as i64;
        let line = self
            .cloudwatch
            .metric_data(agent, budget, &request)
            .and_then(|answer| {
                let series = sparkline::series(&answer, &id);
                sparkline::line(
                    &series,
                    start,
                    period,
                    POINTS as usize,
                    rule.threshold.as_deref(),
                )
                .ok_or_else(no_datapoints)
            });
        line.map_err(|err| warn("no sparkline; the alarm is posted without it", &err))
            .ok()
    }

    /// With `image`: the alarm's graph, or `None` (off, nothing to draw, no time,
    /// CloudWatch failed: the last two logged). Only for a post this invocation made: a
    /// retried event whose message was there already gets no second graph.
    pub fn image(&self, agent: &ureq::Agent, alarm: &Alarm, deadline: Deadline) -> Option<Image> {
        if self.mode != Mode::Image {
            return None;
        }
        let widget = widget::widget(alarm).ok()?;
        let budget = budget(
            deadline,
            IMAGE_BUDGET,
            "no graph image: too little time left",
        )?;
        let image = self
            .cloudwatch
            .widget_image(agent, budget, &widget)
            .and_then(|png| {
                if png.starts_with(PNG_SIGNATURE) {
                    Ok(png)
                } else {
                    Err(not_png())
                }
            });
        match image {
            Ok(png) => Some(Image {
                png,
                title: format!("{} ({})", alarm.name, alarm.new_state),
                deadline: budget,
            }),
            Err(err) => {
                warn(IMAGE_LEFT_OUT, &err);
                None
            }
        }
    }
}

/// The WARN when the graph image could not be made or shared.
pub const IMAGE_LEFT_OUT: &str = "no graph image; the alarm was posted without it";

/// A deadline for one graph: at most `cap`, and never eating into [`RESERVE`]; `None`
/// (with a DEBUG line) when too little is left.
fn budget(deadline: Deadline, cap: Duration, skipped: &'static str) -> Option<Deadline> {
    let left = deadline.left();
    match left.checked_sub(RESERVE) {
        Some(spare) if spare >= MIN_BUDGET => Some(Deadline::after(spare.min(cap))),
        _ => {
            log::debug(&skipped)
                .num("leftMs", left.as_millis() as u64)
                .emit();
            None
        }
    }
}

/// Every PNG file starts so (PNG specification, 5.2): what is not a PNG is not shared as
/// `graph.png`, whatever CloudWatch (or whoever answers in its place) sent.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn not_png() -> Error {
    let answer = AwsAnswer {
        status: 200,
        code: "NotPng".to_string(),
        message: "GetMetricWidgetImage answered with something that is not a PNG".to_string(),
    };
    Error::aws(Service::CloudWatch, answer, false)
}

fn no_datapoints() -> Error {
    let answer = AwsAnswer {
        status: 200,
        code: "NoDatapoints".to_string(),
        message: "GetMetricData returned no datapoint for the alarm's metric in the window"
            .to_string(),
    };
    Error::aws(Service::CloudWatch, answer, false)
}

fn warn(what: &'static str, err: &Error) {
    log::line(Level::Warn, &what).error(err).emit();
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_words() {
        assert_eq!(Mode::parse("off"), Some(Mode::Off));
        assert_eq!(Mode::parse(" Sparkline "), Some(Mode::Sparkline));
        assert_eq!(Mode::parse("IMAGE"), Some(Mode::Image));
        assert_eq!(Mode::parse("png"), None);
    }

    #[test]
    fn a_graph_never_takes_the_reserve() {
        assert!(budget(
            Deadline::after(Duration::from_secs(2)),
            SPARKLINE_BUDGET,
            "x"
        )
        .is_none());
        let short = budget(
            Deadline::after(Duration::from_secs(3)),
            SPARKLINE_BUDGET,
            "x",
        );
        let left = short.expect("1 s to spare").left();
        assert!(
            left <= Duration::from_secs(1) && left > Duration::from_millis(900),
            "{left:?}"
        );
        let long = budget(
            Deadline::after(Duration::from_secs(60)),
            SPARKLINE_BUDGET,
            "x",
        );
        assert!(long.expect("budget").left() <= SPARKLINE_BUDGET);
    }
}
