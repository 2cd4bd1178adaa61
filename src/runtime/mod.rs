//! The invocation loop: a plain blocking loop over the Runtime API, one invocation
//! at a time, as Lambda runs them.

mod client;
mod invocation;
mod wire;

pub use client::{Fatal, Next, RuntimeApi};
pub use invocation::Invocation;

use crate::error::Error;
use crate::log;

/// Serves invocations until the Runtime API fails; returns why it stopped.
pub fn run(
    api: &mut RuntimeApi,
    mut handle: impl FnMut(&Invocation) -> Result<String, Error>,
) -> Fatal {
    loop {
        let sent = match api.next_event() {
            Ok(Next::Event(invocation)) => match handle(&invocation) {
                Ok(body) => api.response(&invocation.request_id, body),
                Err(err) => api.error(&invocation.request_id, &err),
            },
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
