//! Per-clause coverage, computed from the code and the tests, never kept by hand.

use asyncspec_specs::{Catalogue, Clause};
use serde::Serialize;
use std::collections::BTreeMap;

include!(concat!(env!("OUT_DIR"), "/snapshot_clauses.rs"));

/// Runtimes the oracle can run live (an adapter exists or is planned for them).
pub const LIVE_RUNTIMES: &[&str] = &[
    "cpython-3.11",
    "cpython-3.12",
    "cpython-3.13",
    "uvloop",
    "rloop",
    "anyio-asyncio",
    "anyio-trio",
];

/// One clause with its coverage.
#[derive(Clone, Debug, Serialize)]
pub struct ClauseStatus {
    /// Clause id.
    pub id: String,
    /// Chapter (file) it belongs to.
    pub chapter: String,
    /// Seed file name, when cited from a seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// URL, when cited from a public document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Runtimes the clause holds for.
    pub runtimes: Vec<String>,
    /// One-line outcome.
    pub outcome: String,
    /// A model transition cites it.
    pub implemented: bool,
    /// A reviewed snapshot trace shows it.
    pub snapshot: bool,
    /// Per runtime the clause holds for and the oracle can run: a live check covers it.
    pub live: BTreeMap<String, bool>,
    /// Clause ids that state what runtimes do where this one's document says otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contradicted_by: Vec<String>,
}

/// Where live coverage comes from: clause id to the runtimes a live check covered.
pub type LiveCoverage = BTreeMap<String, Vec<String>>;

/// Join the catalogue with the model's citations, the snapshots and live coverage.
pub fn clause_statuses(catalogue: &Catalogue, live: &LiveCoverage) -> Vec<ClauseStatus> {
    catalogue
        .clauses
        .iter()
        .map(|c| status_of(c, live))
        .collect()
}

fn status_of(clause: &Clause, live: &LiveCoverage) -> ClauseStatus {
    let covered = live.get(&clause.id);
    let live = clause
        .runtimes
        .iter()
        .filter(|r| LIVE_RUNTIMES.contains(&r.as_str()))
        .map(|r| (r.clone(), covered.is_some_and(|rs| rs.contains(r))))
        .collect();
    ClauseStatus {
        id: clause.id.clone(),
        chapter: clause.chapter.clone(),
        seed: clause.seed().map(str::to_string),
        url: clause.url().map(str::to_string),
        runtimes: clause.runtimes.clone(),
        outcome: clause.outcome.summary(),
        implemented: asyncspec_model::IMPLEMENTED_CLAUSES
            .binary_search(&clause.id.as_str())
            .is_ok(),
        snapshot: SNAPSHOT_CLAUSES.binary_search(&clause.id.as_str()).is_ok(),
        live,
        contradicted_by: clause.contradicted_by.clone(),
    }
}

/// Cited ids that name no clause in the catalogue (a typo in the model or a snapshot).
pub fn unknown_citations(catalogue: &Catalogue) -> Vec<String> {
    asyncspec_model::IMPLEMENTED_CLAUSES
        .iter()
        .filter(|id| catalogue.get(id).is_none())
        .map(|id| id.to_string())
        .collect()
}

/// A filter over statuses, as `--status` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// The model cites it.
    Implemented,
    /// The model does not cite it.
    Unimplemented,
    /// A snapshot covers it.
    Snapshot,
    /// No snapshot covers it.
    NoSnapshot,
    /// Some live runtime is not covered.
    NotLive,
    /// Not implemented, or not snapshot-covered: work left.
    Todo,
}

impl StatusFilter {
    /// Parse the `--status` word.
    pub fn parse(word: &str) -> Result<Self, String> {
        Ok(match word {
            "implemented" => Self::Implemented,
            "unimplemented" => Self::Unimplemented,
            "snapshot" => Self::Snapshot,
            "no-snapshot" => Self::NoSnapshot,
            "not-live" => Self::NotLive,
            "todo" => Self::Todo,
            other => {
                return Err(format!(
                    "unknown status {other:?}; one of: implemented, unimplemented, snapshot, \
                     no-snapshot, not-live, todo"
                ))
            }
        })
    }

    /// Does this status pass the filter?
    pub fn keeps(self, s: &ClauseStatus) -> bool {
        match self {
            Self::Implemented => s.implemented,
            Self::Unimplemented => !s.implemented,
            Self::Snapshot => s.snapshot,
            Self::NoSnapshot => !s.snapshot,
            Self::NotLive => s.live.values().any(|covered| !covered),
            // A clause no runtime follows (a document's disputed claim) is not work left:
            // it is shown by its contradicting clause and by the oracle's mutation tests.
            Self::Todo => !s.runtimes.is_empty() && (!s.implemented || !s.snapshot),
        }
    }
}
