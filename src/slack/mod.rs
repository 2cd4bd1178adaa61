//! Slack: what the secret says, the message we build, and the two ways it is delivered
//! (an incoming webhook, or the Web API in app mode).

pub mod app;
pub mod controls;
pub mod digest;
pub mod incident_words;
pub mod message;
pub mod mrkdwn;
pub mod pace;
pub mod routes;
pub mod secret;
pub mod storm;
pub mod trigger_words;
pub mod upload;
pub mod web_api;
pub mod webhook;

use crate::error::Error;
use crate::http::Failure;
use std::time::Duration;

/// A 429's `Retry-After` in seconds, if it is a number.
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Slack is rate limiting: wait what it asks, within the deadline (the retry loop decides).
/// Without a usable `Retry-After`, one second is Slack's documented pace.
fn rate_limited(retry_after: Option<u64>) -> Failure {
    let secs = retry_after.unwrap_or(1).min(900);
    Failure::After(
        Duration::from_secs(secs),
        Error::SlackRateLimited {
            retry_after_secs: secs,
        },
    )
}
