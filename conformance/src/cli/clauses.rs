//! `asyncspec clauses`: the catalogue with each clause's coverage, and its verification.

use super::common::*;
use asyncspec_conformance::coverage::{self, ClauseStatus, StatusFilter};
use std::process::ExitCode;

pub fn clauses(
    specs_dir: &std::path::Path,
    format: Format,
    chapter: Option<String>,
    status: Option<String>,
    verify: bool,
    seeds: &std::path::Path,
) -> ExitCode {
    let catalogue = match load(specs_dir) {
        Ok(c) => c,
        Err(code) => {
            if format == Format::Json {
                let message = format!(
                    "the catalogue at {} has problems (see stderr)",
                    specs_dir.display()
                );
                outln!("{}", error_json("clauses", EXIT_BAD_INPUT, &message));
            }
            return code;
        }
    };
    let filter = match status.as_deref().map(StatusFilter::parse).transpose() {
        Ok(f) => f,
        Err(e) => return fail(format, "clauses", EXIT_BAD_INPUT, &e),
    };
    let mut failed = false;
    for id in coverage::unknown_citations(&catalogue) {
        eprintln!("asyncspec: the model cites {id:?}, which is not in the catalogue");
        failed = true;
    }
    if verify {
        let problems = asyncspec_specs::verify_seed_quotes(&catalogue, seeds);
        let sources = asyncspec_specs::verify_cpython_source_quotes(&catalogue);
        for p in problems.iter().chain(&sources) {
            eprintln!("{}: {}: {}", p.at, p.id, p.problem);
        }
        failed |= !problems.is_empty() || !sources.is_empty();
    }
    let live = asyncspec_conformance::check::read_live();
    let statuses: Vec<ClauseStatus> = coverage::clause_statuses(&catalogue, &live)
        .into_iter()
        .filter(|s| match &chapter {
            Some(c) => s.chapter == *c || s.chapter.starts_with(&format!("{c}.")),
            None => true,
        })
        .filter(|s| filter.is_none_or(|f| f.keeps(s)))
        .collect();
    match format {
        Format::Json => match serde_json::to_string_pretty(&statuses) {
            Ok(text) => outln!("{text}"),
            Err(e) => {
                eprintln!("asyncspec: cannot encode JSON: {e}");
                return ExitCode::from(1);
            }
        },
        Format::Text => print_table(&statuses),
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(statuses: &[ClauseStatus]) {
    let width = statuses
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    outln!("{:width$}  M S L  {:26}  runtimes", "id", "source");
    for s in statuses {
        let mark = |b: bool| if b { 'x' } else { '.' };
        let live_all = !s.live.is_empty() && s.live.values().all(|c| *c);
        let source = match (&s.seed, &s.url) {
            (Some(seed), _) => seed.clone(),
            (None, Some(url)) => url
                .trim_start_matches("https://")
                .split('/')
                .next()
                .unwrap_or("")
                .to_string(),
            (None, None) => String::new(),
        };
        let runtimes = if s.runtimes.is_empty() {
            format!("(none; contradicted by {})", s.contradicted_by.join(", "))
        } else {
            s.runtimes.join(",")
        };
        outln!(
            "{:width$}  {} {} {}  {:26}  {}",
            s.id,
            mark(s.implemented),
            mark(s.snapshot),
            mark(live_all),
            source,
            runtimes
        );
    }
    let total = statuses.len();
    let implemented = statuses.iter().filter(|s| s.implemented).count();
    let snapshot = statuses.iter().filter(|s| s.snapshot).count();
    let live = statuses
        .iter()
        .filter(|s| !s.live.is_empty() && s.live.values().all(|c| *c))
        .count();
    outln!(
        "{total} clauses: {implemented} implemented, {snapshot} snapshot-covered, {live} live-checked on every runtime"
    );
}
