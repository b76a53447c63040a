//! The runtime-neutral core: the scenario language a test is written in, Python values
//! and exceptions as data, the trace a run writes, and the profile that names which
//! runtime a run reproduces. Nothing here knows how a scheduler works.

pub mod exception;
pub mod heapq;
pub mod profile;
pub mod scenario;
pub mod trace;
pub mod value;
