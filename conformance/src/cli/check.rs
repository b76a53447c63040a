//! `asyncspec check`: bundled or given scenarios against a real runtime, a verdict each.

use super::common::*;
use std::path::PathBuf;
use std::process::ExitCode;

#[allow(clippy::too_many_arguments)]
pub fn check(
    specs_dir: &std::path::Path,
    paths: &[PathBuf],
    delivery: Option<&str>,
    impl_: &str,
    python: &str,
    adapter: Option<&str>,
    mutate: Option<&str>,
    profile: Option<&str>,
    format: Format,
    per_clause: bool,
) -> ExitCode {
    use asyncspec_conformance::check::{self as chk, CaseOutcome, CaseResult, Checker};
    use asyncspec_conformance::oracle::Verdict;
    let files = match chk::collect_scenarios(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("asyncspec check: {e}");
            return ExitCode::from(2);
        }
    };
    let profile = match profile.map(asyncspec_model::Profile::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("asyncspec check: {e}");
            return ExitCode::from(2);
        }
    };
    let delivery = match delivery
        .map(asyncspec_model::scenario::DeliveryMode::parse)
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("asyncspec check: --delivery: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = adapter_spec(impl_, python, adapter, mutate);
    let mut checker = match Checker::new(spec, profile) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("asyncspec check: {e}");
            return ExitCode::from(3);
        }
    };
    let runtime_name = match (impl_, checker.profile()) {
        ("asyncio", Ok(p)) => p.name().to_string(),
        (other, _) => other.to_string(),
    };
    let mut results = Vec::new();
    let mut bad_input = false;
    for (i, file) in files.iter().enumerate() {
        let name = file.display().to_string();
        let result = match asyncspec_conformance::scenarios::load(file) {
            Ok(mut s) => {
                if let Some(d) = delivery.filter(|_| !s.streams.is_empty()) {
                    s.delivery = d;
                }
                checker.check(&name, &s)
            }
            Err(problem) => CaseResult {
                scenario: name.clone(),
                outcome: CaseOutcome::BadInput { problem },
                clauses: Vec::new(),
                model_s: 0.0,
                adapter_s: 0.0,
            },
        };
        if format == Format::Text {
            let word = match &result.outcome {
                CaseOutcome::Checked {
                    verdict: Verdict::Conforms { .. },
                } => "ok".to_string(),
                CaseOutcome::Checked {
                    verdict: Verdict::Diverges(_),
                } => "DIVERGES".to_string(),
                CaseOutcome::Checked {
                    verdict: Verdict::Known { .. },
                } => "known".to_string(),
                CaseOutcome::Checked {
                    verdict: Verdict::Inconclusive { reason },
                } => format!("inconclusive ({reason})"),
                CaseOutcome::AdapterFailure { .. } => "ADAPTER FAILURE".to_string(),
                CaseOutcome::BadInput { .. } => "BAD INPUT".to_string(),
            };
            outln!("[{}/{}] {word:<14} {name}", i + 1, files.len());
            match &result.outcome {
                CaseOutcome::Checked {
                    verdict: Verdict::Diverges(d),
                } => {
                    out!("{}", indent(&d.report()));
                    outln!("    replay: asyncspec check --impl {impl_} --python {python} {name}");
                }
                CaseOutcome::Checked {
                    verdict:
                        Verdict::Known {
                            clauses,
                            documented,
                        },
                } => {
                    outln!(
                        "    known divergence ({}): asyncio's rules part at event #{}: {} instead of {}",
                        clauses.join(", "),
                        documented.index,
                        documented.actual.as_deref().unwrap_or("(end of trace)").trim(),
                        documented.expected.as_deref().unwrap_or("(end of trace)").trim()
                    );
                }
                CaseOutcome::AdapterFailure { failure } => out!("{}", indent(failure)),
                CaseOutcome::BadInput { problem } => out!("{}", indent(problem)),
                _ => {}
            }
        }
        if matches!(result.outcome, CaseOutcome::BadInput { .. }) {
            bad_input = true;
        }
        results.push(result);
    }
    // Which documented clauses each loop clause contradicts, to attribute known
    // divergences to clauses.
    let contradicted: std::collections::BTreeMap<String, Vec<String>> =
        match asyncspec_specs::load_catalogue(specs_dir) {
            Ok(c) => c
                .clauses
                .iter()
                .filter(|cl| !cl.contradicted_by.is_empty())
                .map(|cl| (cl.id.clone(), cl.contradicted_by.clone()))
                .collect(),
            Err(errors) => {
                eprintln!(
                    "asyncspec check: the catalogue at {} has {} problem(s) (see `asyncspec clauses --verify`); known divergences are not attributed to clauses",
                    specs_dir.display(),
                    errors.len()
                );
                Default::default()
            }
        };
    let verdicts = chk::clause_verdicts(&results, &contradicted);
    if let Err(e) = chk::record_live(&runtime_name, &verdicts) {
        eprintln!("asyncspec check: could not record live coverage: {e}");
    }
    let count = |f: &dyn Fn(&CaseOutcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    let conforming = count(&|o| {
        matches!(
            o,
            CaseOutcome::Checked {
                verdict: Verdict::Conforms { .. }
            }
        )
    });
    let diverging = count(&|o| {
        matches!(
            o,
            CaseOutcome::Checked {
                verdict: Verdict::Diverges(_)
            }
        )
    });
    let inconclusive = count(&|o| {
        matches!(
            o,
            CaseOutcome::Checked {
                verdict: Verdict::Inconclusive { .. }
            }
        )
    });
    let known = count(&|o| {
        matches!(
            o,
            CaseOutcome::Checked {
                verdict: Verdict::Known { .. }
            }
        )
    });
    let failures = count(&|o| matches!(o, CaseOutcome::AdapterFailure { .. }));
    let clause_known = verdicts
        .values()
        .filter(|v| **v == "known divergence")
        .count();
    let clause_ok = verdicts.values().filter(|v| **v == "conforming").count();
    let clause_bad = verdicts.values().filter(|v| **v == "divergence").count();
    match format {
        Format::Json => {
            let body = serde_json::json!({
                "runtime": checker.runtime,
                "cases": results.len(),
                "conforming": conforming,
                "divergences": diverging,
                "known_divergences": known,
                "inconclusive": inconclusive,
                "adapter_failures": failures,
                "clauses": verdicts,
                "results": results,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
        }
        Format::Text => {
            if per_clause {
                for (id, word) in &verdicts {
                    outln!("{word:<16} {id}");
                }
            }
            outln!(
                "{runtime_name} ({}): {} scenarios, {conforming} conforming, {known} known divergences, {diverging} diverging, {inconclusive} inconclusive, {failures} adapter failures; clauses: {clause_ok} conforming, {clause_known} known divergences, {clause_bad} diverging",
                checker.runtime,
                results.len()
            );
        }
    }
    let decided = conforming + known + diverging;
    if diverging > 0 {
        ExitCode::from(1)
    } else if decided == 0 && inconclusive > 0 && !bad_input && failures == 0 {
        // Nothing was held against the model: that is not a pass.
        eprintln!("asyncspec check: no scenario was decided ({inconclusive} inconclusive): nothing passed");
        ExitCode::from(1)
    } else if bad_input {
        ExitCode::from(2)
    } else if failures > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
