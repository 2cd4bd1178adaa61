//! The test kit: what every end-to-end test crate and the measuring programs share. Each
//! crate takes what it needs; nothing here is compiled into `bootstrap`.

pub mod common;
pub mod emulator;
pub mod moto_server;
pub mod tools;
