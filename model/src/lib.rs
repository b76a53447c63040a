//! The reference model of Python's async exception rules: explicit, pure state machines.
//!
//! Modules mirror the catalogue's chapters (`specs/asyncio/*.toml`):
//!
//! | module | chapter | what |
//! |---|---|---|
//! | [`future`] | asyncio.futures | Future states, result/exception, done callbacks |
//! | [`task`] | asyncio.tasks | Task steps, wake-ups, outcomes |
//! | [`cancellation`] | asyncio.cancellation | cancel, uncancel, cancelling |
//! | [`timeouts`] | asyncio.timeouts | timeout(), Timeout, wait_for |
//! | [`composition`] | asyncio.composition | gather, shield, wait |
//! | [`taskgroups`] | asyncio.taskgroups | TaskGroup |
//! | [`runners`] | asyncio.runners | asyncio.run, SIGINT, shutdown |
//! | [`reporting`] | asyncio.reporting | the exception handler, never-retrieved reports |
//!
//! [`world`] holds the state and the event loop, [`coroutine`] the frames that run
//! scenario statements, [`scenario`] the input language and [`trace`] the output. State
//! is plain data; every transition cites its clause ids with [`cite!`], and those
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

pub mod cancellation;
pub mod composition;
pub mod coroutine;
pub mod exception;
pub mod executors;
pub mod future;
pub mod heapq;
pub mod profile;
pub mod reporting;
pub mod rloop;
pub mod runners;
pub mod scenario;
pub mod sockets;
pub mod streams;
pub mod task;
pub mod taskgroups;
pub mod timeouts;
pub mod trace;
pub mod uvloop;
pub mod value;
pub mod world;

pub use profile::{EventLoop, Profile, Python};
pub use runners::{run, run_world};
pub use scenario::Scenario;
pub use trace::Trace;

include!(concat!(env!("OUT_DIR"), "/implemented.rs"));
