//! A route's `flap_seconds`: an `OK` soon after this instance posted the alarm's `ALARM`
//! becomes a one-line note instead of a second card.

use super::delivered::fingerprint;
use crate::alarm::event::Notification;

/// When this instance last posted each alarm's `ALARM`, for a route's `flap_seconds`.
#[derive(Default)]
pub struct Flaps(Vec<(u64, i64)>);

impl Flaps {
    const MAX: usize = 256;

    /// A one-line note instead of the card, for an `OK` that follows this alarm's `ALARM`
    /// within `within` seconds.
    pub fn note(&self, notification: &Notification, within: Option<u64>) -> Option<String> {
        let (Notification::Alarm(alarm), Some(within)) = (notification, within) else {
            return None;
        };
        if alarm.new_state != "OK" {
            return None;
        }
        let key = fingerprint(&alarm.key());
        let at = alarm.changed_epoch()?;
        let (_, fired) = self.0.iter().rev().find(|(k, _)| *k == key)?;
        let after = at - fired;
        (0..=within as i64)
            .contains(&after)
            .then(|| format!("(a flap: back to OK {after} s after the ALARM)"))
    }

    pub fn saw(&mut self, notification: &Notification) {
        if let Notification::Alarm(alarm) = notification {
            if let ("ALARM", Some(at)) = (alarm.new_state.as_str(), alarm.changed_epoch()) {
                if self.0.len() >= Self::MAX {
                    self.0.remove(0);
                }
                self.0.push((fingerprint(&alarm.key()), at));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::Alarm;

    fn alarm(state: &str, at: &str) -> Notification {
        Notification::Alarm(Box::new(Alarm {
            name: "cpu".into(),
            new_state: state.into(),
            changed_at: Some(at.into()),
            ..Alarm::default()
        }))
    }

    #[test]
    fn an_ok_soon_after_its_alarm_is_a_note() {
        let mut flaps = Flaps::default();
        let ok = alarm("OK", "2026-11-30T10:01:00.000+0000");
        assert_eq!(flaps.note(&ok, Some(120)), None, "no ALARM seen yet");
        flaps.saw(&alarm("ALARM", "2026-11-30T10:00:00.000+0000"));
        assert_eq!(
            flaps.note(&ok, Some(120)).as_deref(),
            Some("(a flap: back to OK 60 s after the ALARM)")
        );
        assert_eq!(flaps.note(&ok, Some(30)), None, "outside the window");
        assert_eq!(flaps.note(&ok, None), None, "the route has no window");
        let late = alarm("OK", "2026-11-30T09:59:00.000+0000");
        assert_eq!(flaps.note(&late, Some(120)), None, "before the ALARM");
    }
}
