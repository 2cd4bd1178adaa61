//! A storm message's words (issue 25): how many new incidents since when, by state and by
//! namespace; each incident replies in its thread. Brought up to date as its members change.

use super::mrkdwn::escape;
use crate::incident::storm::Summary;

/// Namespaces listed by name; the rest are counted together.
const NAMESPACES: usize = 8;

/// The storm message's mrkdwn; `mention` (a route's) is said once, here, not per alarm.
pub fn text(summary: &Summary, mention: Option<&str>) -> String {
    let since = summary.since.div_euclid(1000).to_string();
    let mut text = String::from(":zap: *Alarm storm*: ");
    text.push_str(&summary.n.to_string());
    text.push_str(" new incidents in this channel since <!date^");
    text.push_str(&since);
    text.push_str("^{time}|");
    text.push_str(&since);
    text.push_str(">; each one is in this thread.");
    counts(&mut text, "\nNow: ", &summary.by_state, None);
    counts(
        &mut text,
        "\nBy namespace: ",
        &summary.by_namespace,
        Some(NAMESPACES),
    );
    if let Some(mention) = mention {
        text.push('\n');
        text.push_str(mention);
    }
    text
}

/// `head` and `name: count · …`, nothing when there are none. Namespaces (`listed`) show
/// the first few by name, an empty one as `other`, the rest as one count; states show all.
/// One function for both lists, written in place: a `format!` per item and a `join` per
/// list cost some 300 bytes more.
fn counts(text: &mut String, head: &str, counts: &[(String, usize)], listed: Option<usize>) {
    let shown = listed.unwrap_or(usize::MAX);
    for (i, (name, n)) in counts.iter().take(shown).enumerate() {
        text.push_str(if i == 0 { head } else { " · " });
        match name.as_str() {
            "" if listed.is_some() => text.push_str("other"),
            name => text.push_str(&escape(name)),
        }
        text.push_str(": ");
        text.push_str(&n.to_string());
    }
    let rest: usize = counts.iter().skip(shown).map(|(_, n)| n).sum();
    if rest > 0 {
        text.push_str(" · and ");
        text.push_str(&rest.to_string());
        text.push_str(" more");
    }
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

    #[test]
    fn namespaces_past_the_first_eight_are_counted_together() {
        let summary = Summary {
            since: 1_000,
            n: 12,
            by_state: vec![("".into(), 12)],
            by_namespace: (0..10).map(|i| (format!("N{i}"), 1 + i % 2)).collect(),
        };
        let text = text(&summary, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "Now: : 12");
        assert_eq!(
            lines[2],
            "By namespace: N0: 1 · N1: 2 · N2: 1 · N3: 2 · N4: 1 · N5: 2 · N6: 1 · N7: 2 · and 3 more"
        );
    }
}
