//! Which deliveries of a failed event were made, so that Lambda's retry of it posts only
//! what is missing.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// A hash that names an event (or a delivery of it) in memory, without keeping it.
pub fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The deliveries of events that failed elsewhere (another target, a later record), kept
/// in the warm instance: Lambda's retry of such an event posts only what is missing. A
/// success forgets them (an identical event is then a new one). Bounded: cleared when full.
#[derive(Default)]
pub struct Delivered(HashSet<u64>);

impl Delivered {
    const MAX: usize = 4096;

    /// Whether an earlier, failed attempt at `event` made this delivery (record, target).
    /// Nothing is hashed while no failed event is remembered: the common case.
    pub fn contains(&self, event: &[u8], delivery: (usize, u64)) -> bool {
        !self.0.is_empty()
            && self
                .0
                .contains(&fingerprint(&(fingerprint(&event), delivery)))
    }

    /// After an attempt at `event`: what it `reached` is remembered if it `failed` (Lambda
    /// retries it), and forgotten if it succeeded (it will not come back).
    pub fn settle(&mut self, event: &[u8], reached: &[(usize, u64)], failed: bool) {
        if reached.is_empty() || (!failed && self.0.is_empty()) {
            return;
        }
        let event = fingerprint(&event);
        let ids = reached
            .iter()
            .map(|delivery| fingerprint(&(event, *delivery)));
        if !failed {
            for id in ids {
                self.0.remove(&id);
            }
            return;
        }
        if self.0.len() + reached.len() > Self::MAX {
            self.0.clear();
        }
        self.0.extend(ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_event_remembers_what_it_reached_until_it_succeeds() {
        let mut delivered = Delivered::default();
        let event = b"{\"Records\":[]}".as_slice();
        assert!(!delivered.contains(event, (0, 1)));
        delivered.settle(event, &[(0, 1)], true);
        assert!(delivered.contains(event, (0, 1)));
        assert!(!delivered.contains(event, (0, 2)), "another target");
        assert!(!delivered.contains(b"{}", (0, 1)), "another event");
        delivered.settle(event, &[(0, 1), (0, 2)], false);
        assert!(!delivered.contains(event, (0, 1)), "forgotten on success");
    }

    #[test]
    fn it_stays_bounded() {
        let mut delivered = Delivered::default();
        for i in 0..(Delivered::MAX + 10) {
            delivered.settle(&i.to_le_bytes(), &[(0, 0)], true);
        }
        assert!(delivered.0.len() <= Delivered::MAX);
    }
}
