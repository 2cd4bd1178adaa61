//! A storm message's words (issue 25): how many new incidents since when, by state and by
//! namespace; each incident replies in its thread. Brought up to date as its members change.

use super::mrkdwn::escape;
use crate::incident::storm::Summary;

/// Namespaces listed by name; the rest are counted together.
const NAMESPACES: usize = 8;

/// The storm message's mrkdwn; `mention` (a route's) is said once, here, not per alarm.
pub fn text(summary: &Summary, mention: Option<&str>) -> String {
    let since = summary.since.div_euclid(1000);
    let mut text = format!(
        ":zap: *Alarm storm*: {} new incidents in this channel since <!date^{since}^{{time}}|{since}>; each one is in this thread.",
        summary.n
    );
    let states: Vec<String> = summary
        .by_state
        .iter()
        .map(|(state, n)| format!("{}: {n}", escape(state)))
        .collect();
    if !states.is_empty() {
        text.push_str(&format!("\nNow: {}", states.join(" · ")));
    }
    let mut namespaces: Vec<String> = summary
        .by_namespace
        .iter()
        .take(NAMESPACES)
        .map(|(ns, n)| match ns.as_str() {
            "" => format!("other: {n}"),
            ns => format!("{}: {n}", escape(ns)),
        })
        .collect();
    let rest: usize = summary
        .by_namespace
        .iter()
        .skip(NAMESPACES)
        .map(|(_, n)| n)
        .sum();
    if rest > 0 {
        namespaces.push(format!("and {rest} more"));
    }
    if !namespaces.is_empty() {
        text.push_str(&format!("\nBy namespace: {}", namespaces.join(" · ")));
    }
    if let Some(mention) = mention {
        text.push('\n');
        text.push_str(mention);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_reads_by_state_and_namespace_with_its_mention_once() {
        let summary = Summary {
            since: 1_796_000_000_000,
            n: 12,
            by_state: vec![("ALARM".into(), 9), ("OK".into(), 3)],
            by_namespace: vec![("AWS/EC2".into(), 8), ("".into(), 4)],
        };
        let text = text(&summary, Some("<!subteam^S0PAY>"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            ":zap: *Alarm storm*: 12 new incidents in this channel since <!date^1796000000^{time}|1796000000>; each one is in this thread."
        );
        assert_eq!(lines[1], "Now: ALARM: 9 · OK: 3");
        assert_eq!(lines[2], "By namespace: AWS/EC2: 8 · other: 4");
        assert_eq!(lines[3], "<!subteam^S0PAY>");
    }
}
