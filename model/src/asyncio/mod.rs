//! CPython's asyncio (3.11, 3.12, 3.13), transcribed from `Lib/asyncio/`: one file per
//! chapter of `specs/asyncio/`, over [`world`] (the event loop, `_run_once`, and the
//! arenas of futures, tasks, timers) and [`coroutine`] (a task's frames, which interpret
//! the scenario's statements).

pub mod cancellation;
pub mod chaining;
pub mod composition;
pub mod coroutine;
pub mod future;
pub mod handles;
pub mod locks;
pub mod objects;
pub mod queues;
pub mod reporting;
pub mod runners;
pub mod sockets;
pub mod streams;
pub mod task;
pub mod taskgroups;
pub mod timeouts;
pub mod world;
