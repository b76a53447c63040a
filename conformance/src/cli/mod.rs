//! The subcommands, one module each; `common` holds what they share.

#[macro_use]
pub mod common;
pub mod check;
pub mod clauses;
pub mod fuzz;
pub mod junit;
pub mod progress;
pub mod replay;
pub mod run;
