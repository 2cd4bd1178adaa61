//! An incident in words, for its parent message: `Firing for 2 h 5 min`,
//! `Resolved after 14 min`, `No data since <date>`.

use super::mrkdwn::escape;

/// The incident in words, for its parent: `Firing for 2 h 5 min`, `Resolved after 14 min`,
/// `No data since <date>`.
pub fn incident_words(state: &str, opened: i64, at: i64) -> String {
    let span = span((at - opened).max(0));
    match state {
        "ALARM" => format!("Firing for {span}"),
        "OK" => format!("Resolved after {span}"),
        "INSUFFICIENT_DATA" => {
            format!("No data since <!date^{at}^{{time}}|{at}>, firing {span} before")
        }
        other => format!("{} after {span}", escape(other)),
    }
}

/// `14 min`, `2 h 5 min`, `3 d 4 h`, `less than a minute`.
pub fn span(secs: i64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(30), "less than a minute");
        assert_eq!(span(14 * 60 + 5), "14 min");
        assert_eq!(span(2 * 3600 + 5 * 60), "2 h 5 min");
        assert_eq!(span(3600), "1 h");
        assert_eq!(span(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(span(86_400 + 60), "1 d");
    }

    #[test]
    fn incident_words_follow_the_state() {
        assert_eq!(incident_words("ALARM", 0, 7500), "Firing for 2 h 5 min");
        assert_eq!(
            incident_words("OK", 100, 100 + 14 * 60),
            "Resolved after 14 min"
        );
        assert_eq!(
            incident_words("INSUFFICIENT_DATA", 0, 600),
            "No data since <!date^600^{time}|600>, firing 10 min before"
        );
        assert_eq!(
            incident_words("ALARM", 500, 100),
            "Firing for less than a minute"
        );
    }
}
