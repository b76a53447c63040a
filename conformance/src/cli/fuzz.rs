//! `asyncspec fuzz`: generated scenarios against a real runtime, divergences shrunk and saved.

use super::common::*;
use std::process::ExitCode;

#[allow(clippy::too_many_arguments)]
pub fn fuzz_cmd(
    impl_: &str,
    python: &str,
    adapter: Option<&str>,
    mutate: Option<&str>,
    generator: &str,
    profile: Option<&str>,
    cases: u64,
    seed: &str,
    jobs: usize,
    regressions: &std::path::Path,
    format: Format,
) -> ExitCode {
    let seed = match asyncspec_sim::seed::parse_seed(seed) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("asyncspec fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let profile = match profile.map(asyncspec_model::Profile::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("asyncspec fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let generator = match asyncspec_conformance::generate::Generator::parse(generator) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("asyncspec fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = asyncspec_conformance::fuzz::FuzzConfig {
        generator,
        spec: adapter_spec(impl_, python, adapter, mutate),
        profile,
        seed,
        cases,
        jobs,
        regressions: regressions.to_path_buf(),
        progress: true,
    };
    let gen_word = generator.word();
    let hint = move |saved: &std::path::Path, seed: u64, case: u64| {
        format!(
            "asyncspec replay {} --impl {impl_} --python {python}   (or: asyncspec replay --seed {seed} --case {case} --generator {gen_word} --impl {impl_} --python {python})",
            saved.display()
        )
    };
    let summary = match asyncspec_conformance::fuzz::fuzz(&cfg, &hint) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("asyncspec fuzz: {e}");
            return ExitCode::from(3);
        }
    };
    match format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        ),
        Format::Text => {
            for f in &summary.found {
                outln!(
                    "divergence in case {} (shrunk to {} statements), saved to {}",
                    f.case,
                    f.statements,
                    f.saved
                );
                out!("{}", indent(&f.report));
                outln!("    replay: {}", f.replay);
            }
            for (case, saved, report) in &summary.unreproducible_cases {
                outln!("case {case} diverged once and conformed when run again (saved to {saved}); the first report:");
                out!("{}", indent(report));
            }
            for (case, problem) in &summary.internal_error_cases {
                outln!("internal error in case {case}:");
                out!("{}", indent(problem));
                outln!(
                    "    replay: asyncspec replay --seed {seed} --case {case} --generator {gen_word} --impl {impl_} --python {python}"
                );
            }
            for (case, failure) in &summary.failures {
                outln!("adapter failure in case {case}:");
                out!("{}", indent(failure));
            }
            outln!(
                "{}: {} cases, {} conforming, {} divergences, {} known divergences, {} unreproducible, {} inconclusive, {} adapter failures, {} internal errors; {:.1} scenarios/s; model {:.2}s, adapter {:.2}s",
                summary.runtime,
                summary.cases,
                summary.conforming,
                summary.divergences,
                summary.known_divergences,
                summary.unreproducible,
                summary.inconclusive,
                summary.adapter_failures,
                summary.internal_errors,
                summary.scenarios_per_second,
                summary.model_seconds,
                summary.adapter_seconds
            );
        }
    }
    if summary.internal_errors > 0 {
        ExitCode::from(4)
    } else if summary.divergences > 0 {
        ExitCode::from(1)
    } else if summary.adapter_failures > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
