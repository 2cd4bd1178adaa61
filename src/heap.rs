//! The global allocator of the musl build: musl's own, with small freed blocks kept for
//! reuse instead of going back to it.
//!
//! musl's allocator (mallocng) returns a group of blocks to the kernel as soon as all of
//! them are free, and maps it again for the next allocation of that size: a warm invocation,
//! which allocates and frees the same few kilobytes each time, cost 6 to 10 `mmap`/`munmap`
//! pairs. Here a freed block of up to [`LARGEST`] bytes goes on a free list for its size
//! class, up to [`LIST_BYTES`] per class, and the next allocation of that class takes it
//! back without calling musl at all. Blocks are what musl allocated for the class size,
//! so they are never larger than the peak a class reached; and the classes are 4 to a
//! power of two, so a block wastes at most a quarter of its size.
//!
//! Measured against musl's allocator alone (`make bench`, x86_64, 2026-12-02), per warm
//! invocation: 29 -> 10.6 syscalls (18.8 `mmap`/`munmap` -> 0), 0.26 -> 0.15 ms CPU, 591,000
//! -> 510,000 instructions; for +4,096 bytes of `bootstrap`, +2,199 of zip, +50 KiB peak RSS.
//!
//! Every `unsafe` here rests on three invariants, kept by `alloc`, `dealloc` and `realloc`:
//! 1. a pointer handed out for a layout of class `(i, bytes)` is a block `System` allocated
//!    with `block(bytes)` (16-aligned, `bytes` long); any other layout's pointer is `System`'s
//!    block for exactly that layout. `class` is a pure function of the layout and a block is
//!    always freed with the layout it was allocated (or reallocated) with, so a block always
//!    goes back where it came from;
//! 2. a block is in exactly one place: handed out to one owner, or once on list `i`;
//! 3. the lists are only read or written with `lock` held, and `List::len` counts its blocks.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};

/// The largest block kept; larger ones are rare and go straight to musl.
const LARGEST: usize = 64 * 1024;
/// Bytes of free blocks kept per class (at least one block).
const LIST_BYTES: usize = 64 * 1024;
/// musl aligns every block to 16 bytes; a stricter alignment goes straight to musl.
const ALIGN: usize = 16;
const SMALLEST: usize = 16;
/// Classes: 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, … 64 KiB.
const CLASSES: usize = 4 * (LARGEST.trailing_zeros() - SMALLEST.trailing_zeros()) as usize + 1;

pub struct Recycling {
    lock: AtomicBool,
    lists: UnsafeCell<[List; CLASSES]>,
}

#[derive(Clone, Copy)]
struct List {
    head: Option<NonNull<Free>>,
    len: usize,
}

/// A free block's first bytes: the next free block of its class.
struct Free {
    next: Option<NonNull<Free>>,
}

// SAFETY: the only state shared between threads is `lists` (and the free blocks it points
// to, which belong to no thread), and `with_lists` hands it out only while holding `lock`,
// taken with Acquire and released with Release: one thread at a time, and each sees every
// write of the one before, including a block's contents written before it was freed.
unsafe impl Sync for Recycling {}

impl Recycling {
    pub const fn new() -> Recycling {
        Recycling {
            lock: AtomicBool::new(false),
            lists: UnsafeCell::new([List { head: None, len: 0 }; CLASSES]),
        }
    }

    /// Runs `f` on the free lists, alone. The critical sections are a few instructions,
    /// so a spin lock; it must not allocate, which rules out most others. `f` must neither
    /// allocate nor panic: as the global allocator, a panic's message would be allocated
    /// with the lock still held, and spin on it forever.
    fn with_lists<R>(&self, f: impl FnOnce(&mut [List; CLASSES]) -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // Released when this returns, or when `f` panics in a test (the release build aborts
        // on panic), so that the test fails instead of every other thread spinning forever.
        let _unlock = Unlock(&self.lock);
        // SAFETY: `lock` is held from the swap above until `_unlock` is dropped, after `f`
        // returned, and every access to `lists` goes through here, so this is the only
        // reference to them while it lives (`f` cannot keep it: the borrow ends with the call).
        f(unsafe { &mut *self.lists.get() })
    }
}

struct Unlock<'a>(&'a AtomicBool);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Default for Recycling {
    fn default() -> Recycling {
        Recycling::new()
    }
}

/// Gives every kept block back to `System`. The global allocator is a `static` and never
/// dropped; this is for other instances (the tests), so that nothing they kept leaks.
impl Drop for Recycling {
    fn drop(&mut self) {
        for (index, list) in self.lists.get_mut().iter_mut().enumerate() {
            let layout = block(class_size(index));
            // `len` blocks, not until the end: the same by invariant 3, and a test that
            // broke it fails instead of following a cycle forever.
            for _ in 0..list.len {
                let Some(head) = list.head else { break };
                // SAFETY: a block on a list holds the `Free` that `dealloc` wrote when it put
                // it there (invariant 2: no one else has written to it since).
                list.head = unsafe { head.as_ref().next };
                // SAFETY: off the list now, the block is no one's (invariant 2), and a block
                // on list `index` was allocated by `System` with this layout (invariant 1).
                unsafe { System.dealloc(head.as_ptr().cast(), layout) };
            }
            list.len = 0;
        }
    }
}

/// The class of a layout and its block size, or `None` for what goes straight to musl.
/// Inlined: a call (its result passed through memory, at opt-level z) cost about 50
/// instructions, for each of some 900 allocations, frees and reallocations an invocation.
#[inline(always)]
fn class(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(SMALLEST);
    if size > LARGEST || layout.align() > ALIGN {
        return None;
    }
    // Four classes between consecutive powers of two: the power below, plus quarters.
    // Shifts, not a division: this runs for every allocation and every free.
    let power = usize::BITS - 1 - size.leading_zeros(); // size >= 2^power >= 16
    let shift = power - 2; // a quarter of 2^power
    let steps = (size - (1 << power) + (1 << shift) - 1) >> shift; // 0..=4
    let index = 4 * (power - SMALLEST.trailing_zeros()) as usize + steps;
    Some((index, (1 << power) + (steps << shift)))
}

/// The block size of class `index`: what `class` returns with it.
fn class_size(index: usize) -> usize {
    let power = index / 4 + SMALLEST.trailing_zeros() as usize;
    (1 << power) + ((index % 4) << (power - 2))
}

/// The layout a class's blocks are allocated with.
fn block(bytes: usize) -> Layout {
    match Layout::from_size_align(bytes, ALIGN) {
        Ok(layout) => layout,
        // Class sizes are at most 64 KiB and ALIGN a power of two: never. Not a fallback
        // layout, which would hand out a block smaller than the class; not a panic, which
        // allocates.
        Err(_) => std::process::abort(),
    }
}

// SAFETY: `GlobalAlloc`'s contract holds by the invariants above: a block handed out is
// 16-aligned and at least `bytes >= layout.size()` long when the layout has a class (its
// alignment is at most 16), else `System`'s block for the layout; no block is handed out
// twice; `dealloc` and `realloc` give a block back where it came from; nothing here panics
// (no unwinding) or allocates while holding the lock.
unsafe impl GlobalAlloc for Recycling {
    /// Safety (the caller's, `GlobalAlloc::alloc`): `layout` has a non-zero size.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((index, bytes)) = class(layout) else {
            // SAFETY: the caller's non-zero layout, passed on unchanged; the block is then
            // `System`'s for this layout (invariant 1).
            return unsafe { System.alloc(layout) };
        };
        let reused = self.with_lists(|lists| {
            let list = lists.get_mut(index)?;
            let head = list.head?;
            // SAFETY: a block on list `index` holds the `Free` that `dealloc` wrote there,
            // 16-aligned, and nothing else refers to it (invariant 2).
            list.head = unsafe { head.as_ref().next };
            list.len -= 1;
            Some(head.cast::<u8>().as_ptr())
        });
        match reused {
            // Off the list, the block is the caller's alone; `bytes` long (invariant 1).
            Some(p) => p,
            // SAFETY: `block(bytes)` is a valid layout with a non-zero size (>= 16).
            None => unsafe { System.alloc(block(bytes)) },
        }
    }

    /// Safety (the caller's, `GlobalAlloc::dealloc`): `ptr` came from this allocator with
    /// `layout`, and is not used after this.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((index, bytes)) = class(layout) else {
            // SAFETY: a layout without a class: `ptr` is `System`'s block for exactly this
            // layout (invariant 1), and the caller gives it up.
            return unsafe { System.dealloc(ptr, layout) };
        };
        let Some(free) = NonNull::new(ptr.cast::<Free>()) else {
            return;
        };
        let kept = self.with_lists(|lists| {
            let Some(list) = lists.get_mut(index) else {
                return false;
            };
            if list.len > 0 && (list.len + 1) * bytes > LIST_BYTES {
                return false;
            }
            // SAFETY: the caller gave the block up, so it is ours to write; it is a
            // `block(bytes)` block (invariant 1): 16-aligned and at least 16 bytes, room and
            // alignment for a `Free`.
            unsafe { free.as_ptr().write(Free { next: list.head }) };
            list.head = Some(free);
            list.len += 1;
            true
        });
        if !kept {
            // SAFETY: `System` allocated it with the class's layout (invariant 1); the caller
            // gave it up and it went on no list.
            unsafe { System.dealloc(ptr, block(bytes)) }
        }
    }

    /// Safety (the caller's, `GlobalAlloc::alloc_zeroed`): `layout` has a non-zero size.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class(layout).is_none() {
            // SAFETY: the caller's non-zero layout, unchanged; musl's calloc skips zeroing
            // fresh pages. The block is `System`'s for this layout, as `alloc` would give.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: the caller's non-zero layout.
        let p = unsafe { self.alloc(layout) };
        if !p.is_null() {
            // SAFETY: `alloc` returned a block of at least `layout.size()` bytes, ours alone.
            unsafe { p.write_bytes(0, layout.size()) };
        }
        p
    }

    /// Safety (the caller's, `GlobalAlloc::realloc`): `ptr` came from this allocator with
    /// `layout`; `new_size` is non-zero and, rounded up to `layout.align()`, at most
    /// `isize::MAX`.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `layout.align()` is a power of two, and the caller guarantees that
        // `new_size` rounded up to it does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            // The block already has room: a Vec growing within its class does not move.
            // Invariant 1 holds for `new_layout`: the same class, so the same block layout.
            (Some((old, _)), Some((new, _))) if old == new => ptr,
            // SAFETY: both without a class, so `ptr` is `System`'s block for `layout`
            // (invariant 1), and what `System` returns is its block for `new_layout`.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: `new_layout` is valid (above) with a non-zero size.
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    // SAFETY: `ptr` is valid for reads of `layout.size()` bytes (the caller's
                    // block) and `new` for writes of `new_size` (just allocated); they do not
                    // overlap, since `ptr` is still handed out and so on no list (invariant 2).
                    unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
                    // SAFETY: the caller's block with its layout, no longer used: on success
                    // `realloc` takes it over.
                    unsafe { self.dealloc(ptr, layout) };
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::{Barrier, Mutex};

    #[test]
    fn classes_cover_every_size_with_at_most_a_quarter_wasted() {
        let mut last = (0, 0);
        // Every size; under Miri, which is about a thousand times slower, every seventh.
        for size in (1..=LARGEST).step_by(if cfg!(miri) { 7 } else { 1 }) {
            let layout = Layout::from_size_align(size, 8).expect("layout");
            let (index, bytes) = class(layout).expect("a class");
            assert!(
                bytes >= size && bytes.is_multiple_of(4),
                "{size} -> {bytes}"
            );
            assert!(
                size <= SMALLEST || (bytes - size) * 4 <= bytes,
                "{size} -> {bytes}"
            );
            assert!(
                index >= last.0 && index < CLASSES,
                "{size} -> class {index}"
            );
            assert!(index > last.0 || bytes == last.1 || last == (0, 0));
            assert_eq!(class_size(index), bytes, "class {index}");
            last = (index, bytes);
        }
        assert_eq!(last.0, CLASSES - 1);
        assert!(class(Layout::from_size_align(LARGEST + 1, 8).expect("big")).is_none());
        assert!(class(Layout::from_size_align(64, 64).expect("aligned")).is_none());
    }

    #[test]
    fn a_freed_block_is_handed_out_again_and_lists_are_bounded() {
        let heap = Recycling::new();
        let layout = Layout::from_size_align(3000, 8).expect("layout");
        let a = alloc(&heap, layout);
        assert!((a as usize).is_multiple_of(ALIGN));
        // SAFETY: `a` is a live block of 3000 bytes, ours alone.
        unsafe { a.write_bytes(7, 3000) };
        free(&heap, a, layout);
        let b = alloc(&heap, Layout::from_size_align(2900, 8).expect("same class"));
        assert_eq!(a, b, "the free block of the class comes back");
        let blocks: Vec<*mut u8> = (0..100).map(|_| alloc(&heap, layout)).collect();
        for &p in &blocks {
            free(&heap, p, layout);
        }
        let kept = heap.with_lists(|lists| lists[class(layout).expect("class").0].len);
        assert!(kept * 3072 <= LIST_BYTES && kept > 1, "{kept} kept");
        free(&heap, b, layout);
        check_lists(&heap);
    }

    #[test]
    fn realloc_keeps_the_bytes_and_stays_put_within_a_class() {
        let heap = Recycling::new();
        let layout = Layout::from_size_align(100, 1).expect("layout");
        let p = alloc(&heap, layout);
        // SAFETY: `p` is a live block of 100 bytes, ours alone.
        let bytes = unsafe { std::slice::from_raw_parts_mut(p, 100) };
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let same = realloc(&heap, p, layout, 110);
        assert_eq!(same, p, "100 and 110 share the 112-byte class");
        let moved = realloc(
            &heap,
            same,
            Layout::from_size_align(110, 1).expect("l"),
            5000,
        );
        let big = realloc(
            &heap,
            moved,
            Layout::from_size_align(5000, 1).expect("l"),
            200_000,
        );
        // SAFETY: `big` is a live block of 200,000 bytes whose first 100 were copied over.
        let bytes = unsafe { std::slice::from_raw_parts(big, 100) };
        for (i, &b) in bytes.iter().enumerate() {
            assert_eq!(b, i as u8);
        }
        free(&heap, big, Layout::from_size_align(200_000, 1).expect("l"));
        check_lists(&heap);
    }

    /// Threads allocating, reallocating (growing and shrinking, within a class and across,
    /// beyond `LARGEST`, aligned beyond 16) and freeing through one `Recycling`, some blocks
    /// freed by another thread than the one that allocated them. Every block carries a
    /// pattern of its own, checked before each realloc and free: a block handed out twice,
    /// or written by the allocator while handed out, fails the test.
    #[test]
    fn threads_allocating_reallocating_and_freeing_never_share_or_corrupt_a_block() {
        let (threads, steps, slots) = if cfg!(miri) {
            (4, 150, 8)
        } else {
            (6, 20_000, 48)
        };
        let heap = Recycling::new();
        // Blocks in transit from one thread to another (its allocator is the host's).
        let handed: Mutex<Vec<Live>> = Mutex::new(Vec::new());
        let start = Barrier::new(threads);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let (heap, handed, start) = (&heap, &handed, &start);
                scope.spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (thread as u64 + 1) << 32);
                    let mut tags = (thread as u64 + 1) << 48;
                    let mut live: Vec<Option<Live>> = (0..slots).map(|_| None).collect();
                    start.wait();
                    for _ in 0..steps {
                        let r = rng.next();
                        let slot = &mut live[(r % slots as u64) as usize];
                        tags += 1;
                        *slot = match slot.take() {
                            None if r >> 8 & 7 == 0 => handed.lock().expect("lock").pop(),
                            None => Some(Live::new(
                                heap,
                                random_layout(&mut rng),
                                tags,
                                r >> 12 & 7 == 0,
                            )),
                            Some(block) => match r >> 8 & 7 {
                                0..=3 => {
                                    let size = random_size(&mut rng, block.layout.size());
                                    Some(block.realloc(heap, size, tags))
                                }
                                4..=6 => {
                                    block.free(heap);
                                    None
                                }
                                _ => {
                                    handed.lock().expect("lock").push(block);
                                    None
                                }
                            },
                        };
                    }
                    for block in live.into_iter().flatten() {
                        block.free(heap);
                    }
                });
            }
        });
        for block in handed.into_inner().expect("lock") {
            block.free(&heap);
        }
        check_lists(&heap);
    }

    /// A block handed out by the allocator under test, with the tag its pattern is made of.
    struct Live {
        ptr: *mut u8,
        layout: Layout,
        tag: u64,
    }

    // SAFETY: a `Live` is the only owner of its block (a block handed out twice is what the
    // test looks for, and fails on), and the block is only reached through it: sending the
    // `Live` to another thread moves all access to the block there.
    unsafe impl Send for Live {}

    impl Live {
        fn new(heap: &Recycling, layout: Layout, tag: u64, zeroed: bool) -> Live {
            let p = if zeroed {
                // SAFETY: `random_layout` never makes a zero size.
                let p = unsafe { heap.alloc_zeroed(layout) };
                assert!(!p.is_null(), "alloc_zeroed({layout:?}) failed");
                // SAFETY: a live block of `layout.size()` bytes, ours alone, and initialised
                // (zeroed).
                let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
                assert!(bytes.iter().all(|&b| b == 0), "alloc_zeroed: not zeroed");
                p
            } else {
                alloc(heap, layout)
            };
            let block = Live {
                ptr: p,
                layout,
                tag,
            };
            block.stamp();
            block
        }

        /// The block's bytes: its tag (little-endian) in the first and last 8, a byte of the
        /// tag in between; truncated when the block is shorter.
        fn stamp(&self) {
            assert!(
                self.ptr.addr().is_multiple_of(self.layout.align()),
                "{:?} is not aligned for {:?}",
                self.ptr,
                self.layout
            );
            let size = self.layout.size();
            // SAFETY: a live block of `size` bytes, ours alone.
            let bytes = unsafe { std::slice::from_raw_parts_mut(self.ptr, size) };
            bytes.fill(fill(self.tag));
            let tag = self.tag.to_le_bytes();
            let head = size.min(8);
            bytes[..head].copy_from_slice(&tag[..head]);
            if size >= 16 {
                bytes[size - 8..].copy_from_slice(&tag);
            }
        }

        /// Checks the first `len` bytes against the pattern `stamp` wrote.
        fn check(&self, len: usize) {
            let size = self.layout.size();
            // SAFETY: a live block of `size >= len` bytes, ours alone, all written by `stamp`.
            let bytes = unsafe { std::slice::from_raw_parts(self.ptr, len.min(size)) };
            let tag = self.tag.to_le_bytes();
            let expected = |i: usize| match i {
                0..8 => tag[i],
                _ if size >= 16 && i >= size - 8 => tag[i - (size - 8)],
                _ => fill(self.tag),
            };
            // The middle is one byte repeated: it equals itself shifted by one (a memcmp,
            // which keeps this fast in debug builds and under Miri).
            let len = bytes.len();
            let tail = if size >= 16 { size - 8 } else { size };
            let middle = &bytes[len.min(8)..len.min(tail).max(len.min(8))];
            let same = middle.len() < 2 || middle[1..] == middle[..middle.len() - 1];
            let first = middle.first().is_none_or(|&b| b == fill(self.tag));
            let ends = (0..len.min(8))
                .chain(tail.min(len)..len)
                .all(|i| bytes[i] == expected(i));
            assert!(
                same && first && ends,
                "block {:?} ({:?}, tag {:#x}) was overwritten: handed out twice or corrupted",
                self.ptr,
                self.layout,
                self.tag
            );
        }

        fn realloc(self, heap: &Recycling, new_size: usize, tag: u64) -> Live {
            self.check(self.layout.size());
            let p = realloc(heap, self.ptr, self.layout, new_size);
            let moved = Live {
                ptr: p,
                layout: Layout::from_size_align(new_size, self.layout.align()).expect("layout"),
                tag: self.tag,
            };
            // What realloc kept: the old pattern, as long as both blocks are.
            let kept = Live {
                layout: self.layout,
                ..moved
            };
            kept.check(new_size);
            let block = Live { tag, ..moved };
            block.stamp();
            block
        }

        fn free(self, heap: &Recycling) {
            self.check(self.layout.size());
            free(heap, self.ptr, self.layout);
        }
    }

    fn fill(tag: u64) -> u8 {
        (tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
    }

    /// xorshift64*: deterministic, seeded per thread.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Mostly small sizes, as a program allocates; some up to `LARGEST`, some around it and
    /// some beyond it; sometimes within `old`'s class.
    fn random_size(rng: &mut Rng, old: usize) -> usize {
        // Miri checks every byte written and read: smaller blocks there.
        let spread = if cfg!(miri) { 4096 } else { LARGEST };
        let r = rng.next();
        let n = (r >> 8) as usize;
        match r % 16 {
            0..=7 => 1 + n % 256,
            8..=10 => 1 + n % spread,
            11 => LARGEST - 32 + n % 64,
            12 => LARGEST + 1 + n % (2 * spread),
            _ => (old + n % 9).saturating_sub(4).max(1),
        }
    }

    fn random_layout(rng: &mut Rng) -> Layout {
        let align = match rng.next() % 16 {
            0..=5 => 1,
            6..=9 => 8,
            10..=12 => 16,
            13 => 32,
            14 => 64,
            _ => 4096,
        };
        let size = random_size(rng, 64);
        Layout::from_size_align(size, align).expect("layout")
    }

    fn alloc(heap: &Recycling, layout: Layout) -> *mut u8 {
        assert!(layout.size() > 0);
        // SAFETY: a non-zero size, checked above.
        let p = unsafe { heap.alloc(layout) };
        assert!(!p.is_null(), "alloc({layout:?}) failed");
        p
    }

    fn realloc(heap: &Recycling, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        assert!(new_size > 0 && new_size < isize::MAX as usize / 2);
        // SAFETY: the callers pass a block `heap` handed out for `layout` and use only the
        // result afterwards; `new_size` is non-zero and far from overflowing.
        let new = unsafe { heap.realloc(p, layout, new_size) };
        assert!(!new.is_null(), "realloc({layout:?}, {new_size}) failed");
        new
    }

    fn free(heap: &Recycling, p: *mut u8, layout: Layout) {
        // SAFETY: the callers pass a block `heap` handed out for `layout`, and do not use it
        // afterwards.
        unsafe { heap.dealloc(p, layout) }
    }

    /// Invariants 2 and 3: every list's length is its number of blocks, within its bound; no
    /// block is on two lists or twice on one; every block is 16-aligned.
    fn check_lists(heap: &Recycling) {
        heap.with_lists(|lists| {
            let mut seen = HashSet::new();
            for (index, list) in lists.iter().enumerate() {
                let mut len = 0;
                let mut next = list.head;
                while let Some(block) = next {
                    assert!(len < list.len, "class {index}: more blocks than its length");
                    assert!(
                        seen.insert(block.as_ptr() as usize),
                        "a block twice on the lists"
                    );
                    assert!((block.as_ptr() as usize).is_multiple_of(ALIGN));
                    len += 1;
                    // SAFETY: a block on a list holds the `Free` `dealloc` wrote there.
                    next = unsafe { block.as_ref().next };
                }
                assert_eq!(len, list.len, "class {index}");
                assert!(
                    len <= 1 || len * class_size(index) <= LIST_BYTES,
                    "class {index}"
                );
            }
        });
    }
}
