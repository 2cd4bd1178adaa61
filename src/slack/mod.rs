//! Slack: what the secret says, the message we build, and the two ways it is delivered
//! (an incoming webhook, or the Web API in app mode).

pub mod app;
pub mod message;
pub mod mrkdwn;
pub mod routes;
pub mod secret;
pub mod upload;
pub mod web_api;
pub mod webhook;
