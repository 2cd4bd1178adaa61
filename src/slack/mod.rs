//! Slack: the message we build and the ways it is delivered.

pub mod message;
pub mod mrkdwn;
pub mod webhook;
