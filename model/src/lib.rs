//! The reference model of Python's async exception rules: explicit, pure state machines.
//!
//! Chapters mirror `specs/`: futures, tasks, cancellation, timeouts, composition,
//! task groups, runners and the loop's reporting. State is plain data (cloneable,
//! comparable); every transition is a function that cites the clause ids it implements
//! with `cite!`, and those citations are what `asyncspec clauses` reports as implemented.
//! No I/O, clock, randomness or hash-map iteration happens in this crate.

/// Cite a clause id at the point a transition implements it.
///
/// Expands to the id itself (`&'static str`); the build script collects every cited id.
#[macro_export]
macro_rules! cite {
    ($id:literal) => {
        $id
    };
}

include!(concat!(env!("OUT_DIR"), "/implemented.rs"));
