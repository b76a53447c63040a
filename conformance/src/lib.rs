//! The oracle side of asyncspec: clause coverage, model runs and (later) real runtimes.
//!
//! `coverage` joins the catalogue with what the code and tests show: which clauses the
//! model implements (its `cite!` calls), which a reviewed snapshot covers, and which a
//! live check against each real runtime covers.

pub mod adapter;
pub mod check;
pub mod coverage;
pub mod crossing;
pub mod fuzz;
pub mod generate;
pub mod oracle;
pub mod pool;
pub mod resources;
pub mod scenarios;

/// The threads, atomics and channels `pool` is written against: std's here; the
/// shuttle test puts shuttle's in their place.
mod sync {
    pub use std::sync::{atomic, mpsc};
    pub use std::thread;
}
