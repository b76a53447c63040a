//! The deterministic world around the model: one seed drives every choice.
//!
//! `seed` turns a 64-bit seed into a reproducible stream of choices (no global RNG, no
//! clock); `clock` is the virtual clock in nanoseconds; `network` turns what a peer
//! sends into a delivery schedule (chunking, latency, stalls, EOF or reset). The model asks this crate for
//! nothing it could compute itself: only genuinely open choices (network chunking and
//! latency, which of several allowed orders to print) come from here.

pub mod clock;
pub mod network;
pub mod seed;
