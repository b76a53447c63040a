//! The deterministic world around the model: one seed drives every choice.
//!
//! `seed` turns a 64-bit seed into a reproducible stream of choices (no global RNG, no
//! clock); `clock` is the virtual clock in nanoseconds. The model asks this crate for
//! nothing it could compute itself: only genuinely open choices (network chunking and
//! latency, which of several allowed orders to print) come from here.

pub mod clock;
pub mod seed;
