//! Two calls at once on threads that outlive the invocation.
//!
//! A warm opening counts its channel's storm beside its claim, and with Slack's pace on every
//! transition takes its channel's turn beside it: two round trips made as one. A thread
//! started for each (`std::thread::scope`) maps a fresh stack, faults it in, then unmaps it
//! and joins, on the alarm's path every time: that was most of the bootstrap's kernel time in
//! a warm opening, and the second call left a few hundred microseconds after the first. Here
//! a helper thread, once started, waits for the next call; a call beside costs a wake-up.
//!
//! `aside` borrows from the caller's stack, and a helper lives longer than any borrow, so the
//! borrow's lifetime is erased to hand it over. That is sound for the one reason
//! `std::thread::scope` is: [`beside`] does not return, nor unwind past its frame, before the
//! helper has said it is done with `aside`.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// A caller's `aside`, its lifetime erased (see the module's note).
struct Work(*mut (dyn FnMut() + Send + 'static));

// SAFETY: the closure behind the pointer is `Send`, and only one thread uses it at a time:
// the helper, while `beside` waits for it.
unsafe impl Send for Work {}

/// A helper thread, and what it is doing: both sides wait on `changed` for the other's step.
struct Helper {
    slot: Mutex<Slot>,
    changed: Condvar,
}

enum Slot {
    Idle,
    Given(Work),
    Running,
    Done,
}

/// Helpers waiting for work. Usually one; two when a call beside makes a call beside of its
/// own (a cold start's claim, made beside the secret's fetch, counts beside itself).
static IDLE: Mutex<Vec<Arc<Helper>>> = Mutex::new(Vec::new());

/// Runs `aside` on a helper thread while `here` runs on this one, and returns `here`'s
/// answer once both are done. A panic in `aside` is the helper's alone (it is caught there,
/// and the helper goes on); without a helper (none could be started) they run one after the
/// other, `aside` first.
pub fn beside<T>(aside: &mut (dyn FnMut() + Send), here: impl FnOnce() -> T) -> T {
    let waiting = hand_over(aside);
    let answer = here();
    drop(waiting);
    answer
}

/// Gives `aside` to a helper, or runs it. Not generic, so that it is built once.
#[inline(never)]
fn hand_over(aside: &mut (dyn FnMut() + Send)) -> Waiting<'_> {
    let Some(helper) = idle_or_new() else {
        aside();
        return Waiting(None, PhantomData);
    };
    let pointer: *mut (dyn FnMut() + Send + '_) = aside;
    // SAFETY: only the lifetime changes (the same fat pointer). The helper uses it until it
    // says `Done`; `Waiting` waits for that when dropped and holds `aside`'s borrow until
    // then, and `beside`, the only caller, always drops it (on unwinding too).
    let work = Work(unsafe {
        std::mem::transmute::<*mut (dyn FnMut() + Send + '_), *mut (dyn FnMut() + Send + 'static)>(
            pointer,
        )
    });
    *lock(&helper.slot) = Slot::Given(work);
    helper.changed.notify_all();
    Waiting(Some(helper), PhantomData)
}

/// Waits for the helper to finish `aside`, also when `here` panics, then puts it back.
struct Waiting<'a>(Option<Arc<Helper>>, PhantomData<&'a mut ()>);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let Some(helper) = self.0.take() else { return };
        let mut slot = lock(&helper.slot);
        while !matches!(*slot, Slot::Done) {
            slot = helper
                .changed
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *slot = Slot::Idle;
        drop(slot);
        lock(&IDLE).push(helper);
    }
}

fn idle_or_new() -> Option<Arc<Helper>> {
    let idle = lock(&IDLE).pop();
    idle.or_else(start)
}

fn start() -> Option<Arc<Helper>> {
    let helper = Arc::new(Helper {
        slot: Mutex::new(Slot::Idle),
        changed: Condvar::new(),
    });
    let theirs = Arc::clone(&helper);
    std::thread::Builder::new()
        .name("beside".into())
        .spawn(move || serve(&theirs))
        .ok()?;
    Some(helper)
}

/// The helper's life: wait for work, run it, say so.
fn serve(helper: &Helper) -> ! {
    loop {
        let mut slot = lock(&helper.slot);
        let aside = loop {
            if let Slot::Given(_) = *slot {
                if let Slot::Given(Work(aside)) = std::mem::replace(&mut *slot, Slot::Running) {
                    break aside;
                }
            }
            slot = helper
                .changed
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        };
        drop(slot);
        // SAFETY: `beside` keeps `aside`'s borrow alive, and uses it no more, until `Done`.
        let aside = unsafe { &mut *aside };
        let _ = catch_unwind(AssertUnwindSafe(aside));
        *lock(&helper.slot) = Slot::Done;
        helper.changed.notify_all();
    }
}

/// Nothing here panics while holding a lock, but a poisoned one would still be consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn both_run_at_once_and_write_what_they_borrow() {
        // Each side waits for the other: this returns only if they overlap.
        let met = Barrier::new(2);
        let (mut left, mut right) = (0, 0);
        beside(
            &mut || {
                met.wait();
                left += 1;
            },
            || {
                met.wait();
                right += 1;
            },
        );
        assert_eq!((left, right), (1, 1));
    }

    #[test]
    fn a_helper_is_used_again() {
        // A thread's id is never reused: one thread per call would give 50 of them. Tests
        // running at the same time may take this test's helper, or lend theirs, but they
        // never hold more helpers than there are of them.
        let mut threads = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let mut aside = None;
            beside(&mut || aside = Some(std::thread::current().id()), || {});
            threads.insert(format!("{aside:?}"));
        }
        assert!(!threads.contains(&format!("{:?}", Some(std::thread::current().id()))));
        assert!(threads.len() < 10, "{} helpers for 50 calls", threads.len());
    }

    #[test]
    fn a_call_beside_can_make_its_own() {
        let (mut inner, mut outer, mut here) = (0, 0, 0);
        beside(
            &mut || {
                beside(&mut || inner += 1, || outer += 1);
            },
            || here += 1,
        );
        assert_eq!((inner, outer, here), (1, 1, 1));
    }

    #[test]
    fn a_panic_aside_stays_there_and_the_helper_goes_on() {
        let mut here = 0;
        beside(&mut || panic!("aside"), || here += 1);
        let mut after = 0;
        beside(&mut || after += 1, || here += 1);
        assert_eq!((here, after), (2, 1));
    }

    #[test]
    fn a_panic_here_waits_for_aside_before_unwinding() {
        let mut aside_done = false;
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            beside(&mut || aside_done = true, || panic!("here"));
        }));
        assert!(unwound.is_err());
        assert!(aside_done);
    }
}
