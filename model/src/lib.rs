//! The reference model of Python's async exception rules: explicit, pure state machines.
//!
//! Folders are runtimes and files are chapters, mirroring the catalogue (`specs/`): the
//! rule with clause id `asyncio.streams.readexactly.eof_before_n` is in
//! `asyncio/streams.rs`, `uvloop.loop.*` in `loops/uvloop.rs`.
//!
//! | folder | what |
//! |---|---|
//! | [`core`] | runtime-neutral: the scenario language, values, exceptions and their hierarchy, the trace, Python's `heapq`, the profile (which runtime is reproduced) |
//! | [`asyncio`] | CPython's asyncio: the event loop and object arenas ([`asyncio::world`]), the frames that interpret statements ([`asyncio::coroutine`]), and one file per chapter (`future`, `task`, `cancellation`, `timeouts`, `composition`, `taskgroups`, `runners`, `reporting`, `streams`, `sockets`, `locks`, `queues`) |
//! | [`loops`] | what uvloop and rloop do differently from asyncio's loop |
//! | [`concurrent`] | `concurrent.futures` (`specs/concurrent_futures.toml`) |
//!
//! Today the statement interpreter is asyncio's (`impl World`); when a second scheduler
//! arrives (trio, MicroPython) the interface a frame needs from its runtime moves into
//! `core`. State is plain data; every transition cites its clause ids with [`cite!`], and those
//! citations are what `asyncspec clauses` reports as implemented. No I/O, clock,
//! randomness or hash-map iteration happens in this crate.

/// Cite a clause id at the point a transition implements it.
///
/// Expands to the id itself (`&'static str`); the build script collects every cited id.
#[macro_export]
macro_rules! cite {
    ($id:literal) => {
        $id
    };
}

pub mod asyncio;
pub mod concurrent;
pub mod core;
pub mod loops;

// The scenario language, values and the trace are what other crates use most.
pub use crate::asyncio::runners::{run, run_world, RunError};
pub use crate::asyncio::world;
pub use crate::core::profile::{EventLoop, Profile, Python};
pub use crate::core::scenario::Scenario;
pub use crate::core::trace::Trace;
pub use crate::core::{exception, profile, scenario, trace, value};

include!(concat!(env!("OUT_DIR"), "/implemented.rs"));
