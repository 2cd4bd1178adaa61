//! Lambda Runtime API (2018-06-01) stand-in: `/runtime/invocation/next` (long poll),
//! `/runtime/invocation/{id}/response`, `/runtime/invocation/{id}/error`, `/runtime/init/error`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{
    json_or_null, lock, now_ms, respond, wait_for, wait_for_timeout, Incoming, Invocation, Outcome,
    Posted, Settled,
};

const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPTED: &str = r#"{"status":"OK"}"#;

struct Queued {
    inv: Invocation,
    /// Compute `Lambda-Runtime-Deadline-Ms` at delivery from `State::deadline_ms`.
    auto_deadline: bool,
    /// The id outcomes are recorded under (the header value, or a made-up one when omitted).
    id: String,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Queued>,
    fail_next: VecDeque<u16>,
    /// Statuses for the next `/response` POSTs; the outcome is still recorded.
    fail_response: VecDeque<u16>,
    next_calls: usize,
    /// Request ids handed out by `/next` and not yet answered.
    in_flight: HashSet<String>,
    outcomes: HashMap<String, Outcome>,
    /// The `arrival` of each outcome's POST.
    arrivals: HashMap<String, u64>,
    /// When each event was handed out (its `GET /next` about to be answered) and which
    /// `GET /next` that was (`next_calls` then), for timing an invocation as the function
    /// sees it: the queue's wait before it is not the function's.
    handed_out: HashMap<String, (Instant, usize)>,
    /// When each outcome's POST had been read whole.
    outcome_times: HashMap<String, Instant>,
    init_errors: Vec<Posted>,
    bodies: Vec<String>,
    shutdown: bool,
    runtime_exited: bool,
}

impl Inner {
    fn summary(&self) -> String {
        let mut answered: Vec<&String> = self.outcomes.keys().collect();
        answered.sort();
        format!(
            "GET /next calls so far: {}; answered ids: {answered:?}; in flight: {:?}; \
             init errors: {}; still queued: {}",
            self.next_calls,
            self.in_flight,
            self.init_errors.len(),
            self.queue.len()
        )
    }
}

pub struct State {
    prefix: String,
    deadline_ms: u64,
    inner: Mutex<Inner>,
    cv: Condvar,
}

impl State {
    pub fn new(prefix: String, deadline_ms: u64) -> State {
        State {
            prefix,
            deadline_ms,
            inner: Mutex::new(Inner::default()),
            cv: Condvar::new(),
        }
    }

    pub fn push(&self, inv: Invocation, auto_deadline: bool, id: String) {
        lock(&self.inner).queue.push_back(Queued {
            inv,
            auto_deadline,
            id,
        });
        self.cv.notify_all();
    }

    pub fn fail_response_with(&self, status: u16) {
        lock(&self.inner).fail_response.push_back(status);
    }

    pub fn fail_next_with(&self, status: u16) {
        lock(&self.inner).fail_next.push_back(status);
        self.cv.notify_all();
    }

    pub fn next_calls(&self) -> usize {
        lock(&self.inner).next_calls
    }

    pub fn bodies(&self) -> Vec<String> {
        lock(&self.inner).bodies.clone()
    }

    pub fn shutdown(&self) {
        lock(&self.inner).shutdown = true;
        self.cv.notify_all();
    }

    pub fn mark_runtime_exited(&self) {
        lock(&self.inner).runtime_exited = true;
        self.cv.notify_all();
    }

    pub fn wait_next_calls(&self, n: usize) {
        wait_for(
            &self.inner,
            &self.cv,
            |s| (s.next_calls >= n).then_some(()),
            |s| format!("{n} GET /runtime/invocation/next call(s) ({})", s.summary()),
        )
    }

    pub fn wait_outcome(&self, id: &str) -> Outcome {
        wait_for(
            &self.inner,
            &self.cv,
            |s| s.outcomes.get(id).cloned(),
            |s| {
                format!(
                    "the runtime to POST /response or /error for request id {id} ({})",
                    s.summary()
                )
            },
        )
    }

    pub fn outcome_arrival(&self, id: &str) -> Option<u64> {
        lock(&self.inner).arrivals.get(id).copied()
    }

    pub fn handed_out(&self, id: &str) -> Option<(Instant, usize)> {
        lock(&self.inner).handed_out.get(id).copied()
    }

    pub fn outcome_time(&self, id: &str) -> Option<Instant> {
        lock(&self.inner).outcome_times.get(id).copied()
    }

    pub fn wait_init_error(&self) -> Posted {
        wait_for(
            &self.inner,
            &self.cv,
            |s| s.init_errors.first().cloned(),
            |s| format!("the runtime to POST /runtime/init/error ({})", s.summary()),
        )
    }

    pub fn wait_settled(&self, id: &str, timeout: Duration) -> Settled {
        wait_for_timeout(&self.inner, &self.cv, timeout, |s| {
            if let Some(outcome) = s.outcomes.get(id) {
                Some(Settled::Outcome(outcome.clone()))
            } else if let Some(posted) = s.init_errors.first() {
                Some(Settled::InitError(posted.clone()))
            } else if s.runtime_exited {
                Some(Settled::RuntimeExited)
            } else {
                None
            }
        })
        .unwrap_or(Settled::TimedOut)
    }

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        let received = Instant::now();
        let arrival = super::arrival();
        if incoming.method == "POST" {
            lock(&self.inner).bodies.push(incoming.body_string());
        }
        let route = incoming
            .path()
            .strip_prefix(self.prefix.as_str())
            .and_then(|p| p.strip_prefix("/2018-06-01"));
        let Some(route) = route else {
            return not_found(rq);
        };
        match (incoming.method.as_str(), route) {
            ("GET", "/runtime/invocation/next") => self.next(rq),
            ("POST", "/runtime/init/error") => {
                lock(&self.inner).init_errors.push(posted(&incoming));
                self.cv.notify_all();
                respond(rq, 202, &[JSON], ACCEPTED);
            }
            ("POST", r) => {
                let Some(tail) = r.strip_prefix("/runtime/invocation/") else {
                    return not_found(rq);
                };
                if let Some(id) = tail.strip_suffix("/response") {
                    let outcome = Outcome::Response(incoming.body_string());
                    self.record_outcome(rq, id, outcome, (arrival, received));
                } else if let Some(id) = tail.strip_suffix("/error") {
                    let outcome = Outcome::Error(posted(&incoming));
                    self.record_outcome(rq, id, outcome, (arrival, received));
                } else {
                    not_found(rq);
                }
            }
            _ => not_found(rq),
        }
    }

    fn record_outcome(
        &self,
        rq: tiny_http::Request,
        raw_id: &str,
        outcome: Outcome,
        (arrival, received): (u64, Instant),
    ) {
        // Request ids travel in the path; a runtime may percent-encode them.
        let id = super::sigv4::percent_decode(raw_id);
        let mut s = lock(&self.inner);
        if s.in_flight.remove(&id) {
            let injected = match outcome {
                Outcome::Response(_) => s.fail_response.pop_front(),
                Outcome::Error(_) => None,
            };
            s.arrivals.insert(id.clone(), arrival);
            s.outcome_times.insert(id.clone(), received);
            s.outcomes.insert(id, outcome);
            drop(s);
            self.cv.notify_all();
            match injected {
                Some(status) => {
                    let body = format!(
                        r#"{{"errorMessage":"emulated /response failure with status {status}","errorType":"Emulator.InjectedFailure"}}"#
                    );
                    respond(rq, status, &[JSON], body)
                }
                None => respond(rq, 202, &[JSON], ACCEPTED),
            }
        } else if s.outcomes.contains_key(&id) {
            drop(s);
            let body = r#"{"errorMessage":"Invalid state transition: this request id was already answered","errorType":"InvalidStateTransition"}"#;
            respond(rq, 400, &[JSON], body);
        } else {
            drop(s);
            let body = r#"{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}"#;
            respond(rq, 400, &[JSON], body);
        }
    }

    /// Long poll: counts the call, then blocks until an event, a queued failure status, or
    /// shutdown. No timeout here on purpose: a real runtime may idle for hours.
    fn next(&self, rq: tiny_http::Request) {
        let mut s = lock(&self.inner);
        s.next_calls += 1;
        self.cv.notify_all();
        loop {
            if s.shutdown {
                drop(s);
                let body =
                    r#"{"errorMessage":"emulator shutting down","errorType":"ServiceException"}"#;
                return respond(rq, 500, &[JSON], body);
            }
            if let Some(status) = s.fail_next.pop_front() {
                drop(s);
                return if status == 204 || status == 304 || status < 200 {
                    respond(rq, status, &[], Vec::new())
                } else {
                    let body = format!(
                        r#"{{"errorMessage":"emulated failure with status {status}","errorType":"Emulator.InjectedFailure"}}"#
                    );
                    respond(rq, status, &[JSON], body)
                };
            }
            if let Some(q) = s.queue.pop_front() {
                if q.inv.request_id.is_some() {
                    s.in_flight.insert(q.id.clone());
                }
                // Before the answer is written: the function cannot have it any earlier.
                let handed = (Instant::now(), s.next_calls);
                s.handed_out.insert(q.id.clone(), handed);
                drop(s);
                return self.deliver(rq, q);
            }
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn deliver(&self, rq: tiny_http::Request, q: Queued) {
        let deadline = if q.auto_deadline {
            Some((now_ms() + self.deadline_ms).to_string())
        } else {
            q.inv.deadline_ms.clone()
        };
        let inv = &q.inv;
        let mut headers: Vec<(&str, &str)> = vec![JSON];
        let optional = [
            ("Lambda-Runtime-Aws-Request-Id", &inv.request_id),
            ("Lambda-Runtime-Deadline-Ms", &deadline),
            ("Lambda-Runtime-Invoked-Function-Arn", &inv.function_arn),
            ("Lambda-Runtime-Trace-Id", &inv.trace_id),
        ];
        for (name, value) in &optional {
            if let Some(value) = value {
                headers.push((name, value.as_str()));
            }
        }
        respond(rq, 200, &headers, inv.body.clone());
    }
}

fn posted(incoming: &Incoming) -> Posted {
    let body = incoming.body_string();
    Posted {
        error_type_header: incoming.header("Lambda-Runtime-Function-Error-Type"),
        json: json_or_null(&body),
        body,
    }
}

fn not_found(rq: tiny_http::Request) {
    respond(
        rq,
        404,
        &[JSON],
        r#"{"errorMessage":"not found","errorType":"NotFound"}"#,
    );
}
