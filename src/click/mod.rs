//! A click on a button of one of our Slack messages, as it arrives through the function's
//! URL: the request read from the event, refused unless Slack signed it, then what was
//! clicked, as plain data. Nothing here answers Slack or acts on the click.

pub mod payload;
pub mod request;
pub mod response;
pub mod signature;

/// Why a request is answered without being acted on: the HTTP status and a few words for
/// the log. The words are always our own, never the request's body, headers or the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub why: &'static str,
}
