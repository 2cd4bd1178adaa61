//! The invocation loop: a plain blocking loop over the Runtime API, one invocation
//! at a time, as Lambda runs them.

mod client;
mod invocation;
mod wire;

pub use client::{Fatal, Next, RuntimeApi};
pub use invocation::Invocation;

use crate::error::Error;
use crate::log;

/// Serves invocations until the Runtime API fails; returns why it stopped. `handle` may
/// answer before it is done (`answer`): Lambda passes a response on as soon as it is
/// posted, and the sandbox runs on until the next `GET /next`, so work that must not keep
/// the caller waiting (a Slack click, answered within 3 s) is done after it. Once answered,
/// what the handler returns is only logged.
pub fn run(
    api: &mut RuntimeApi,
    mut handle: impl FnMut(&Invocation, &mut dyn FnMut(String)) -> Result<String, Error>,
) -> Fatal {
    loop {
        let sent = match api.next_event() {
            Ok(Next::Event(invocation)) => {
                let mut early = None;
                let result = handle(&invocation, &mut |body| {
                    if early.is_none() {
                        early = Some(api.response(&invocation.request_id, body));
                    }
                });
                match (early, result) {
                    (Some(sent), _) => sent,
                    (None, Ok(body)) => api.response(&invocation.request_id, body),
                    (None, Err(err)) => api.error(&invocation.request_id, &err),
                }
            }
            Ok(Next::Invalid { request_id, error }) => {
                log::error(&"invocation failed")
                    .word("outcome", "error")
                    .error(&error)
                    .emit();
                api.error(&request_id, &error)
            }
            Ok(Next::Nothing) => Ok(()),
            Err(fatal) => Err(fatal),
        };
        if let Err(fatal) = sent {
            return fatal;
        }
    }
}
