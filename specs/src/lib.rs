//! The clause catalogue: every documented exception rule, as data.
//!
//! A *clause* is one rule from one source document (a seed in `../shared/seeds/`, or a
//! public document cited by URL): the API it is about, the condition, the outcome and
//! the runtimes it holds for. The TOML files beside this crate (`specs/**/*.toml`) are
//! the catalogue; this crate loads them, validates them (every problem is reported with
//! its file and line) and hands the model, the oracle and the tests one [`Catalogue`].
//!
//! Chapters are the files: `specs/asyncio/streams.toml` is chapter `asyncio.streams`,
//! and every clause id in it starts with `asyncio.streams.`.

mod clause;
mod load;
mod quote;

pub use clause::{Citation, Clause, Outcome, RUNTIMES, SEEDS};
pub use load::{load_catalogue, load_str, Catalogue, SpecError};
pub use quote::{normalise_quote, verify_cpython_source_quotes, verify_seed_quotes, QuoteProblem};

/// The folder holding the catalogue in this repository (`<workspace>/specs`).
pub fn default_specs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}
