//! `asyncspec replay`: one saved scenario or fuzz case, again, on the model and the runtime.

use super::common::*;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn replay(
    file: Option<PathBuf>,
    seed: Option<&str>,
    case: Option<u64>,
    generator: super::fuzz::GeneratorArg,
    runtime: &RuntimeArgs,
) -> ExitCode {
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
            Ok(seed) => {
                asyncspec_conformance::generate::case_tree(seed, case, generator.generator())
                    .current()
            }
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
    let mut checker = match Checker::new(runtime.spec(), runtime.profile()) {
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
            // Not decided: not a pass.
            ExitCode::from(1)
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
