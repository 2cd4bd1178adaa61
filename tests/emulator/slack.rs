//! Slack incoming-webhook recorder: every POST (any path) is recorded and answered with the next
//! queued `(status, body)`, or 200 `ok` when none is queued.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use super::{json_or_null, lock, respond, wait_for, Incoming, SlackPost};

const TEXT: (&str, &str) = ("Content-Type", "text/plain");

#[derive(Default)]
struct Inner {
    posts: Vec<SlackPost>,
    responses: VecDeque<(u16, String)>,
}

#[derive(Default)]
pub struct State {
    inner: Mutex<Inner>,
    cv: Condvar,
}

impl State {
    pub fn posts(&self) -> Vec<SlackPost> {
        lock(&self.inner).posts.clone()
    }

    pub fn respond_next(&self, status: u16, body: &str) {
        lock(&self.inner)
            .responses
            .push_back((status, body.to_string()));
    }

    pub fn wait_posts(&self, n: usize) -> Vec<SlackPost> {
        wait_for(
            &self.inner,
            &self.cv,
            |s| (s.posts.len() >= n).then(|| s.posts.clone()),
            |s| {
                format!(
                    "{n} POST(s) to the Slack webhook (received {})",
                    s.posts.len()
                )
            },
        )
    }

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        if incoming.method != "POST" {
            return respond(rq, 405, &[TEXT], "invalid_method");
        }
        let body = incoming.body_string();
        let post = SlackPost {
            path: incoming.url.clone(),
            content_type: incoming.header("Content-Type"),
            json: json_or_null(&body),
            body,
        };
        let (status, reply) = {
            let mut s = lock(&self.inner);
            s.posts.push(post);
            s.responses
                .pop_front()
                .unwrap_or_else(|| (200, "ok".to_string()))
        };
        self.cv.notify_all();
        respond(rq, status, &[TEXT], reply);
    }
}
