//! A file shared in a thread with the Web API's external upload flow (`files.upload` is
//! gone): `files.getUploadURLExternal`, the bytes POSTed to the URL it gives, then
//! `files.completeUploadExternal` into the channel and thread. Scope `files:write`.

use super::app::App;
use super::web_api::{form, Args};
use crate::error::Error;
use crate::http::url::Url;
use crate::http::{retry, Deadline, Failure, Peer};
use crate::json::Object;
use serde_json::Value;

const STEP: &str = "upload the graph to Slack";

/// Shares `png` in `thread` (channel ID, parent ts) under `title`.
pub fn share(
    app: &App,
    thread: (&str, &str),
    png: &[u8],
    title: &str,
    deadline: Deadline,
) -> Result<(), Error> {
    // An alarm's words, as plain text: no invisible characters, one line.
    let title = &crate::text::sanitize(title, 300);
    let length = png.len().to_string();
    let args = form(&[
        ("filename", "graph.png"),
        ("length", &length),
        ("alt_txt", title),
    ]);
    // Asking twice only leaves an unused file id behind: a read for retrying's sake.
    let answer = app.call(
        "files.getUploadURLExternal",
        Args::Form(&args),
        true,
        deadline,
    )?;
    let field = |key: &str| answer.get(key).and_then(Value::as_str);
    let (Some(url), Some(file_id)) = (field("upload_url"), field("file_id")) else {
        return Err(Error::SlackUnreachable(
            "files.getUploadURLExternal answered without upload_url and file_id".into(),
        ));
    };
    // A peer's word: followed to Slack's file hosts (or SLACK_API_URL's) only.
    app.api.upload_host(url)?;
    post_bytes(app.agent, url, png, deadline)?;
    let mut complete = Object::new();
    complete.array("files", |files| {
        files.object(|file| {
            file.string("id", file_id);
            file.string("title", title);
        })
    });
    complete.string("channel_id", thread.0);
    complete.string("thread_ts", thread.1);
    let complete = complete.finish();
    // Slack says to call it exactly once: not re-sent after a timeout.
    app.call(
        "files.completeUploadExternal",
        Args::Json(&complete),
        false,
        deadline,
    )
    .map(|_| ())
}

/// The bytes to the upload URL: HTTP 200 stored them, anything else refused them. Sending
/// them again before completion replaces them, so a failure is retried.
fn post_bytes(agent: &ureq::Agent, url: &str, png: &[u8], deadline: Deadline) -> Result<(), Error> {
    // The URL comes from an answer: it gets the file, so it must be Slack over TLS (or a
    // local test host), as SLACK_API_URL must.
    let host = match Url::parse(url) {
        Some(u) if u.https || u.is_loopback() => u.authority,
        _ => {
            return Err(Error::SlackUnreachable(
                "the upload URL Slack gave is not an https:// URL".into(),
            ))
        }
    };
    let peer = Peer {
        host,
        step: STEP,
        unreachable: &Error::SlackUnreachable,
        no_answer: &Error::SlackNoAnswer,
        idempotent: true,
    };
    retry(deadline, || {
        let response = deadline
            .bound(agent.post(url), STEP)
            .map_err(Failure::Final)?
            .header("Content-Type", "application/octet-stream")
            .send(png)
            .map_err(|e| peer.failure(&e, deadline))?;
        match response.status().as_u16() {
            200 => Ok(()),
            status => {
                let err = Error::SlackRejected {
                    status,
                    body: "the upload URL refused the graph".into(),
                };
                Err(if status >= 500 {
                    Failure::Backoff(err)
                } else {
                    Failure::Final(err)
                })
            }
        }
    })
}
