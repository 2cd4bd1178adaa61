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

use std::alloc::{GlobalAlloc, Layout, System};
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
    lists: std::cell::UnsafeCell<[List; CLASSES]>,
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

// SAFETY: the lists are only touched under `lock`.
unsafe impl Sync for Recycling {}

impl Recycling {
    pub const fn new() -> Recycling {
        Recycling {
            lock: AtomicBool::new(false),
            lists: std::cell::UnsafeCell::new([List { head: None, len: 0 }; CLASSES]),
        }
    }

    /// Runs `f` on the free lists, alone. The critical sections are a few instructions,
    /// so a spin lock; it must not allocate, which rules out most others.
    fn with_lists<R>(&self, f: impl FnOnce(&mut [List; CLASSES]) -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let result = f(unsafe { &mut *self.lists.get() });
        self.lock.store(false, Ordering::Release);
        result
    }
}

impl Default for Recycling {
    fn default() -> Recycling {
        Recycling::new()
    }
}

/// The class of a layout and its block size, or `None` for what goes straight to musl.
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

fn block(bytes: usize) -> Layout {
    // Class sizes are multiples of 4 up to 64 KiB, with 16-byte alignment: always valid.
    Layout::from_size_align(bytes, ALIGN).unwrap_or(Layout::new::<u128>())
}

unsafe impl GlobalAlloc for Recycling {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((index, bytes)) = class(layout) else {
            // SAFETY: the caller's layout, passed on unchanged.
            return unsafe { System.alloc(layout) };
        };
        let reused = self.with_lists(|lists| {
            let list = &mut lists[index];
            let head = list.head?;
            // SAFETY: every block on a list is a free block of this class, written by
            // `dealloc`, and nothing else refers to it.
            list.head = unsafe { head.as_ref().next };
            list.len -= 1;
            Some(head.cast::<u8>().as_ptr())
        });
        match reused {
            Some(p) => p,
            // SAFETY: a valid, non-zero layout.
            None => unsafe { System.alloc(block(bytes)) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((index, bytes)) = class(layout) else {
            // SAFETY: allocated by `System` with this layout (see `alloc`).
            return unsafe { System.dealloc(ptr, layout) };
        };
        let Some(free) = NonNull::new(ptr.cast::<Free>()) else {
            return;
        };
        let kept = self.with_lists(|lists| {
            let list = &mut lists[index];
            if list.len > 0 && (list.len + 1) * bytes > LIST_BYTES {
                return false;
            }
            // SAFETY: the block is ours now, at least 16 bytes and 16-aligned.
            unsafe { free.as_ptr().write(Free { next: list.head }) };
            list.head = Some(free);
            list.len += 1;
            true
        });
        if !kept {
            // SAFETY: allocated by `System` with the class's layout.
            unsafe { System.dealloc(ptr, block(bytes)) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class(layout).is_none() {
            // SAFETY: the caller's layout; musl's calloc skips zeroing fresh pages.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: a valid layout; the block is at least `layout.size()` bytes.
        unsafe {
            let p = self.alloc(layout);
            if !p.is_null() {
                p.write_bytes(0, layout.size());
            }
            p
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for `new_size` with this alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            // The block already has room: a Vec growing within its class does not move.
            (Some((old, _)), Some((new, _))) if old == new => ptr,
            // SAFETY: both outside the classes, so `System`'s own block, resized by it.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a valid layout; the old block is valid for `layout.size()` bytes.
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_size_with_at_most_a_quarter_wasted() {
        let mut last = (0, 0);
        for size in 1..=LARGEST {
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
        unsafe {
            let a = heap.alloc(layout);
            assert!(!a.is_null() && (a as usize).is_multiple_of(ALIGN));
            a.write_bytes(7, 3000);
            heap.dealloc(a, layout);
            let b = heap.alloc(Layout::from_size_align(2900, 8).expect("same class"));
            assert_eq!(a, b, "the free block of the class comes back");
            let blocks: Vec<*mut u8> = (0..100).map(|_| heap.alloc(layout)).collect();
            for &p in &blocks {
                heap.dealloc(p, layout);
            }
            let kept = heap.with_lists(|lists| lists[class(layout).expect("class").0].len);
            assert!(kept * 3072 <= LIST_BYTES && kept > 1, "{kept} kept");
            heap.dealloc(b, layout);
        }
    }

    #[test]
    fn realloc_keeps_the_bytes_and_stays_put_within_a_class() {
        let heap = Recycling::new();
        let layout = Layout::from_size_align(100, 1).expect("layout");
        unsafe {
            let p = heap.alloc(layout);
            for i in 0..100 {
                p.add(i).write(i as u8);
            }
            let same = heap.realloc(p, layout, 110);
            assert_eq!(same, p, "100 and 110 share the 112-byte class");
            let moved = heap.realloc(same, Layout::from_size_align(110, 1).expect("l"), 5000);
            let big = heap.realloc(moved, Layout::from_size_align(5000, 1).expect("l"), 200_000);
            for i in 0..100 {
                assert_eq!(big.add(i).read(), i as u8);
            }
            heap.dealloc(big, Layout::from_size_align(200_000, 1).expect("l"));
        }
    }
}
