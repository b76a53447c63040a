//! `asyncspec replay`: one saved scenario or fuzz case, again, on the model and the runtime.

use super::common::*;
use std::path::PathBuf;
use std::process::ExitCode;

#[allow(clippy::too_many_arguments)]
pub fn replay(
    file: Option<PathBuf>,
    seed: Option<&str>,
    case: Option<u64>,
    generator: &str,
    runtime: &RuntimeArgs,
) -> ExitCode {
    let (impl_, python, adapter, profile) = (
        runtime.impl_.as_str(),
        runtime.python.as_str(),
        runtime.adapter.as_deref(),
        runtime.profile.as_deref(),
    );
    use asyncspec_conformance::check::{CaseOutcome, Checker};
    use asyncspec_conformance::oracle::Verdict;
    let scenario = match (file, seed, case) {
        (Some(f), _, _) => match asyncspec_conformance::scenarios::load(&f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("asyncspec replay: {e}");
                return ExitCode::from(2);
            }
        },
        (None, Some(seed), Some(case)) => match asyncspec_sim::seed::parse_seed(seed) {
            Ok(seed) => match asyncspec_conformance::generate::Generator::parse(generator) {
                Ok(g) => asyncspec_conformance::generate::case_tree(seed, case, g).current(),
                Err(e) => {
                    eprintln!("asyncspec replay: {e}");
                    return ExitCode::from(2);
                }
            },
            Err(e) => {
                eprintln!("asyncspec replay: {e}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("asyncspec replay: give a scenario file, or --seed and --case");
            return ExitCode::from(2);
        }
    };
    let profile = match profile.map(asyncspec_model::Profile::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("asyncspec replay: {e}");
            return ExitCode::from(2);
        }
    };
    let mut checker = match Checker::new(
        adapter_spec(impl_, python, adapter, runtime.mutate.as_deref()),
        profile,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("asyncspec replay: {e}");
            return ExitCode::from(3);
        }
    };
    outln!("scenario {} on {}:", scenario.name, checker.runtime);
    outln!("{}", serde_json::to_string(&scenario).unwrap_or_default());
    let result = checker.check(&scenario.name, &scenario);
    match result.outcome {
        CaseOutcome::Checked {
            verdict: Verdict::Conforms { allowed },
        } => {
            outln!("conforms ({allowed} allowed traces)");
            ExitCode::SUCCESS
        }
        CaseOutcome::Checked {
            verdict:
                Verdict::Known {
                    clauses,
                    documented,
                },
        } => {
            outln!(
                "known divergence: the runtime's loop rules ({}) allow it; asyncio's do not:",
                clauses.join(", ")
            );
            out!("{}", indent(&documented.report()));
            ExitCode::SUCCESS
        }
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(d),
        } => {
            out!("{}", d.report());
            ExitCode::from(1)
        }
        CaseOutcome::Checked {
            verdict: Verdict::Inconclusive { reason },
        } => {
            outln!("inconclusive: {reason}");
            ExitCode::SUCCESS
        }
        CaseOutcome::AdapterFailure { failure } => {
            outln!("adapter failure: {failure}");
            ExitCode::from(3)
        }
        CaseOutcome::InternalError { problem } => {
            outln!("{problem}");
            ExitCode::from(4)
        }
        CaseOutcome::BadInput { problem } => {
            outln!("bad input: {problem}");
            ExitCode::from(2)
        }
    }
}
