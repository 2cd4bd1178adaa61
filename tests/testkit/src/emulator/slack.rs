//! Slack incoming-webhook recorder: every POST (any path) is recorded and answered with the next
//! queued `(status, body)`, or 200 `ok` when none is queued.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::{json_or_null, lock, respond, wait_for, Incoming, SlackPost};

const TEXT: (&str, &str) = ("Content-Type", "text/plain");

#[derive(Default)]
struct Inner {
    posts: Vec<SlackPost>,
    responses: VecDeque<Answer>,
    limit: Option<RateLimit>,
}

struct Answer {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

/// A token bucket like Slack's "about one message per second, short bursts allowed".
struct RateLimit {
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// `None` when a token was taken, else the whole seconds until one is available.
    fn take(&mut self, now: Instant) -> Option<u64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some((((1.0 - self.tokens) / self.per_second).ceil() as u64).max(1))
        }
    }
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

    pub fn respond_next(&self, status: u16, body: &str, headers: &[(&str, &str)]) {
        lock(&self.inner).responses.push_back(Answer {
            status,
            body: body.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
    }

    /// From now on, answer 429 with `Retry-After` beyond `burst` posts at `per_second`.
    pub fn rate_limit(&self, burst: u32, per_second: f64) {
        lock(&self.inner).limit = Some(RateLimit {
            burst: f64::from(burst),
            per_second,
            tokens: f64::from(burst),
            last: Instant::now(),
        });
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
        let mut post = SlackPost {
            path: incoming.url.clone(),
            content_type: incoming.header("Content-Type"),
            headers: incoming.headers.clone(),
            json: json_or_null(&body),
            body,
            status: 200,
        };
        let answer = {
            let mut s = lock(&self.inner);
            let limited = s.limit.as_mut().and_then(|l| l.take(Instant::now()));
            let answer = match (s.responses.pop_front(), limited) {
                (Some(answer), _) => answer,
                (None, Some(wait)) => Answer {
                    status: 429,
                    body: "rate_limited".to_string(),
                    headers: vec![("Retry-After".to_string(), wait.to_string())],
                },
                (None, None) => Answer {
                    status: 200,
                    body: "ok".to_string(),
                    headers: Vec::new(),
                },
            };
            post.status = answer.status;
            s.posts.push(post);
            answer
        };
        self.cv.notify_all();
        let mut headers = vec![TEXT];
        headers.extend(answer.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        respond(rq, answer.status, &headers, answer.body);
    }
}
