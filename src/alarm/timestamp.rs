//! CloudWatch's timestamps (`2026-11-28T11:38:08.123+0000`; EventBridge writes `…Z`) read
//! by hand: a format-description parser would cost more binary than these few lines;
//! the calendar is the `time` crate's.

/// Now, in milliseconds since the Unix epoch: what the incident store and the clicks record.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Seconds since the Unix epoch, or `None` for anything that is not such a timestamp.
pub fn epoch_seconds(s: &str) -> Option<i64> {
    epoch_millis(s).map(|ms| ms.div_euclid(1000))
}

/// Milliseconds since the Unix epoch (digits past the third are cut): what orders two
/// transitions of one alarm that happened in the same second.
pub fn epoch_millis(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |at: usize, len: usize| -> Option<i64> {
        b.get(at..at + len)?.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| b.get(at) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let mut scale = 100;
        while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            millis += i64::from(d - b'0') * scale;
            scale /= 10;
            at += 1;
        }
    }
    let offset = match b.get(at) {
        None => 0,
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let hours = num(at + 1, 2)?;
            let mut minutes_at = at + 3;
            if b.get(minutes_at) == Some(&b':') {
                minutes_at += 1;
            }
            let minutes = num(minutes_at, 2)?;
            if minutes_at + 2 != b.len() {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        Some(_) => return None,
    };
    let month = time::Month::try_from(month as u8).ok()?;
    let date = time::Date::from_calendar_date(year as i32, month, day as u8).ok()?;
    let midnight = date.midnight().assume_utc().unix_timestamp();
    Some((midnight + hour * 3600 + minute * 60 + second - offset) * 1000 + millis)
}

/// `2026-11-28T11:38:08Z`, the form CloudWatch's widget JSON takes; the epoch for a time
/// `time` cannot represent.
pub fn iso(epoch: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_is_the_inverse() {
        assert_eq!(iso(1_795_865_888), "2026-11-28T11:38:08Z");
        assert_eq!(epoch_seconds(&iso(1_709_164_800)), Some(1_709_164_800));
        assert_eq!(iso(i64::MAX), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn cloudwatch_and_eventbridge_forms() {
        // 2026-11-28T11:38:08Z, checked with `date -u -d 2026-11-28T11:38:08Z +%s`.
        let expected = 1_795_865_888;
        for s in [
            "2026-11-28T11:38:08.123+0000",
            "2026-11-28T11:38:08Z",
            "2026-11-28T11:38:08",
            " 2026-11-28T12:38:08.5+01:00 ",
            "2026-11-28T06:38:08-0500",
        ] {
            assert_eq!(epoch_seconds(s), Some(expected), "{s}");
        }
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(epoch_seconds("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(epoch_seconds("1969-12-31T23:59:59.5Z"), Some(-1));
    }

    #[test]
    fn milliseconds_order_transitions_within_a_second() {
        let second = 1_795_865_888_000;
        assert_eq!(
            epoch_millis("2026-11-28T11:38:08.123+0000"),
            Some(second + 123)
        );
        assert_eq!(epoch_millis("2026-11-28T11:38:08.5Z"), Some(second + 500));
        assert_eq!(
            epoch_millis("2026-11-28T11:38:08.123456Z"),
            Some(second + 123)
        );
        assert_eq!(epoch_millis("2026-11-28T11:38:08Z"), Some(second));
    }

    #[test]
    fn anything_else_is_none() {
        for s in [
            "",
            "yesterday",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T11:38:08+0",
            "2026-11-28T11:38:08Zjunk",
            "2026-11-28T11:38:08.123+0000x",
            "２０２６-11-28T11:38:08Z",
            "+026-11-28T11:38:08Z",
        ] {
            assert_eq!(epoch_seconds(s), None, "{s:?}");
        }
    }
}
