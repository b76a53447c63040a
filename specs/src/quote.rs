//! Checking that seed quotes are verbatim in their documents (whitespace aside).
//!
//! The normalisation matches `../shared/tools/check-spec-quotes`: runs of whitespace,
//! curly quotes, dashes, pilcrows and reST double backquotes are folded on both sides.

use crate::load::Catalogue;
use std::path::Path;

/// A quote not found in its seed document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteProblem {
    /// Clause id.
    pub id: String,
    /// `file:line` of the clause.
    pub at: String,
    /// What is wrong.
    pub problem: String,
}

/// Fold the differences that do not change a quote's words.
pub fn normalise_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let replaced = s
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'")
        .replace(['\u{2013}', '\u{2014}'], "-")
        .replace(['\u{00b6}', '\u{00a0}'], " ")
        .replace('\u{2026}', "...")
        .replace("``", "")
        .replace('\\', "");
    let mut last_space = true;
    for c in replaced.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_string()
}

/// Check every seed-cited quote against the documents in `seeds_dir`.
pub fn verify_seed_quotes(catalogue: &Catalogue, seeds_dir: &Path) -> Vec<QuoteProblem> {
    let mut problems = Vec::new();
    let mut docs = std::collections::BTreeMap::new();
    for clause in &catalogue.clauses {
        let Some(seed) = clause.seed() else { continue };
        let at = format!("{}:{}", clause.file, clause.line);
        let doc = docs.entry(seed.to_string()).or_insert_with(|| {
            std::fs::read(seeds_dir.join(seed))
                .map(|b| normalise_quote(&String::from_utf8_lossy(&b)))
                .map_err(|e| e.to_string())
        });
        match doc {
            Err(e) => problems.push(QuoteProblem {
                id: clause.id.clone(),
                at,
                problem: format!("cannot read seed {seed}: {e}"),
            }),
            Ok(text) => {
                if !text.contains(&normalise_quote(&clause.quote)) {
                    problems.push(QuoteProblem {
                        id: clause.id.clone(),
                        at,
                        problem: format!("quote not found verbatim in {seed}: {:?}", clause.quote),
                    });
                }
            }
        }
    }
    problems
}

/// Check quotes that cite a CPython source file at a release tag
/// (`https://github.com/python/cpython/blob/vX.Y.Z/Lib/...`) against that release's
/// installed source under `$PYENV_ROOT/versions/X.Y.Z` (default `~/.pyenv`).
pub fn verify_cpython_source_quotes(catalogue: &Catalogue) -> Vec<QuoteProblem> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))
        .unwrap_or_else(|| std::path::PathBuf::from(".pyenv"));
    let mut problems = Vec::new();
    for clause in &catalogue.clauses {
        let Some(url) = clause.url() else { continue };
        let Some(rest) = url.strip_prefix("https://github.com/python/cpython/blob/v") else {
            continue;
        };
        let at = format!("{}:{}", clause.file, clause.line);
        let Some((version, lib_path)) = rest.split_once("/Lib/") else {
            problems.push(QuoteProblem {
                id: clause.id.clone(),
                at,
                problem: format!("CPython source URL without /Lib/: {url}"),
            });
            continue;
        };
        let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
        let path = root
            .join("versions")
            .join(version)
            .join("lib")
            .join(format!("python{minor}"))
            .join(lib_path);
        match std::fs::read_to_string(&path) {
            Err(e) => problems.push(QuoteProblem {
                id: clause.id.clone(),
                at,
                problem: format!("cannot read {}: {e}", path.display()),
            }),
            Ok(text) => {
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let quote = clause
                    .quote
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !text.contains(&quote) {
                    problems.push(QuoteProblem {
                        id: clause.id.clone(),
                        at,
                        problem: format!(
                            "quote not found in {}: {:?}",
                            path.display(),
                            clause.quote
                        ),
                    });
                }
            }
        }
    }
    problems
}
