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
