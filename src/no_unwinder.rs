//! Stand-ins for the C unwinder (LLVM's libunwind) that the prebuilt std links on musl.
//!
//! With `panic = "abort"` nothing ever unwinds, and the Makefile already drops the
//! unwind tables, so the unwinder could only ever answer "end of stack". Still, std's
//! landing pads, personality routine and backtrace printer name its entry points, and
//! that drags in all of libunwind with its DWARF interpreter (about 50 KiB of machine
//! code) and keeps std's backtrace symbolizer reachable (about 170 KiB more). Defined
//! here, the linker never takes libunwind from its archive, and LTO sees that the
//! backtrace walk visits no frame, so the symbolizer goes too. Should std start to need
//! another entry point, the link fails (the archive member then defines it twice)
//! instead of silently shipping something else.
//!
//! What changes: nothing a user sees. A panic still prints its message; the backtrace
//! that `RUST_BACKTRACE=1` asks for was already empty (no unwind tables) and still is.
//! Built only where it applies: musl with `panic = "abort"` (the release `bootstrap`);
//! tests and host builds keep the real unwinder.

use std::ffi::{c_int, c_void};

/// `_URC_END_OF_STACK`: the walk is over.
const END_OF_STACK: c_int = 5;

/// The backtrace walk: there is no frame we could describe.
#[no_mangle]
pub extern "C" fn _Unwind_Backtrace(
    _trace: extern "C" fn(*mut c_void, *mut c_void) -> c_int,
    _argument: *mut c_void,
) -> c_int {
    END_OF_STACK
}

/// Only a landing pad calls this, and with `panic = "abort"` no landing pad runs.
#[no_mangle]
pub extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
    std::process::abort()
}

// What a personality routine or a backtrace callback asks of an unwind context. Neither
// ever runs (nothing unwinds, and the walk above visits no frame), so no context exists.

#[no_mangle]
pub extern "C" fn _Unwind_GetIP(_context: *mut c_void) -> usize {
    0
}

#[no_mangle]
pub extern "C" fn _Unwind_GetIPInfo(_context: *mut c_void, _before_insn: *mut c_int) -> usize {
    0
}

#[no_mangle]
pub extern "C" fn _Unwind_SetIP(_context: *mut c_void, _value: usize) {}

#[no_mangle]
pub extern "C" fn _Unwind_SetGR(_context: *mut c_void, _index: c_int, _value: usize) {}

#[no_mangle]
pub extern "C" fn _Unwind_GetLanguageSpecificData(_context: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn _Unwind_GetRegionStart(_context: *mut c_void) -> usize {
    0
}

#[no_mangle]
pub extern "C" fn _Unwind_GetTextRelBase(_context: *mut c_void) -> usize {
    0
}

#[no_mangle]
pub extern "C" fn _Unwind_GetDataRelBase(_context: *mut c_void) -> usize {
    0
}
