//! Shared fixtures for asyncspec's test suites: where the repository's folders are.

use std::path::{Path, PathBuf};

/// The repository root (the workspace folder).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The seed documents, beside the repository as CI lays them out (`../shared/seeds`).
pub fn seeds_dir() -> PathBuf {
    repo_root().join("../shared/seeds")
}

/// Every `*.json` scenario below `dir`, sorted by path (the oracle's own collector).
pub fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    asyncspec_conformance::check::collect_scenarios(&[dir.to_path_buf()]).unwrap_or_default()
}
