//! The oracle side of asyncspec: clause coverage, model runs and (later) real runtimes.
//!
//! `coverage` joins the catalogue with what the code and tests show: which clauses the
//! model implements (its `cite!` calls), which a reviewed snapshot covers, and which a
//! live check against each real runtime covers.

pub mod adapter;
pub mod check;
pub mod coverage;
pub mod fuzz;
pub mod generate;
pub mod oracle;
pub mod scenarios;
