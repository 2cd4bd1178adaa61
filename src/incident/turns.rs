//! A channel's posting turns, shared by every instance (issue 25): Slack shows about one
//! message per second per channel, and each instance pacing itself still lets four
//! instances post four a second. So with the incident table, an instance takes its turn in
//! an item of the channel's own (`pace|<channel>`) before it posts there: the turn is the
//! latest one taken plus the interval, or now if that has passed, and the write that takes
//! it is conditional on no later turn having been taken meanwhile.
//!
//! | attribute | |
//! |---|---|
//! | `alarm` (S, key) | `pace|` and the channel as the post names it |
//! | `at` (N) | the latest turn taken (epoch ms) |
//! | `expires` (N) | TTL: a day after it |

use super::store::Store;
use super::storm::{Update, Val};
use crate::aws::dynamodb::{self, Written};
use crate::error::Error;
use crate::http::Deadline;

const PREFIX: &str = "pace|";
/// Lost races before giving up: each one means another instance took a turn, so the
/// channel is busy and the alarm goes back to Lambda's retry rather than wait longer.
const ROUNDS: usize = 8;

/// Takes `channel`'s next turn, not before `earliest` and `interval` after the latest one
/// taken (epoch ms); `Invocation.Timeout` when it would come after `latest`, without taking
/// it: a turn taken and not used holds the channel up for nothing.
pub fn take(
    store: &Store,
    agent: &ureq::Agent,
    channel: &str,
    (earliest, interval, latest): (i64, i64, i64),
    deadline: Deadline,
) -> Result<i64, Error> {
    let mut turn = earliest;
    for _ in 0..ROUNDS {
        if turn > latest {
            break;
        }
        let take = Update {
            set: "SET #at = :turn, expires = :expires",
            condition: "attribute_not_exists(#at) OR #at <= :last",
            names: &[("#at", "at")],
            values: &[
                (":turn", Val::N(turn)),
                (":last", Val::N(turn - interval)),
                (":expires", Val::N(turn.div_euclid(1000) + 86_400)),
            ],
            all_new: false,
        };
        match take.write(store, agent, (PREFIX, channel), deadline)? {
            Written::Done(_) => return Ok(turn),
            Written::Refused(item) => {
                let taken = item.as_ref().and_then(|i| dynamodb::number(i, "at"));
                turn = turn.max(taken.map_or(turn, |t| t + interval));
            }
        }
    }
    Err(Error::Timeout(
        "take the channel's turn: other instances are posting there (Slack shows about one message per second per channel)",
    ))
}
