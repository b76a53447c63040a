//! `asyncspec fuzz`: generated scenarios checked against a real runtime, in parallel;
//! every divergence is shrunk to a minimal scenario, saved with its seed and case, and
//! printed with the command that replays it.

use crate::adapter::AdapterSpec;
use crate::check::{CaseOutcome, Checker};
use crate::generate;
use crate::oracle::Verdict;
use asyncspec_model::{Profile, Scenario};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Most candidate scenarios tried while shrinking one divergence.
pub const SHRINK_STEPS_MAX: usize = 400;

/// One fuzz run's settings.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    /// The adapter.
    pub spec: AdapterSpec,
    /// Model profile override.
    pub profile: Option<Profile>,
    /// Seed.
    pub seed: u64,
    /// Cases.
    pub cases: u64,
    /// Parallel workers (one adapter each).
    pub jobs: usize,
    /// Where shrunk divergences are saved.
    pub regressions: PathBuf,
    /// Print progress to stderr.
    pub progress: bool,
    /// Which generator.
    pub generator: generate::Generator,
    /// Only cases `k-1, k-1+n, k-1+2n, ...` below `cases` (shard k of n, 1-based).
    pub shard: Option<(u64, u64)>,
    /// Stop taking cases after this many failures (divergences, adapter failures).
    pub failures_max: Option<u64>,
    /// Take no case after this instant.
    pub deadline: Option<Instant>,
}

impl FuzzConfig {
    /// How many cases this run (this shard) takes.
    pub fn planned(&self) -> u64 {
        match self.shard {
            Some((k, n)) => self.cases.saturating_sub(k - 1).div_ceil(n),
            None => self.cases,
        }
    }

    /// The case number of this run's `i`-th case.
    pub fn case_number(&self, i: u64) -> u64 {
        match self.shard {
            Some((k, n)) => (k - 1) + i * n,
            None => i,
        }
    }
}

/// One case's verdict word and seconds (for JUnit and the progress line).
#[derive(Clone, Debug)]
pub struct CaseRecord {
    /// Case number.
    pub case: u64,
    /// ok, known, DIVERGES, inconclusive, unreproducible, ADAPTER FAILURE.
    pub word: &'static str,
    /// Seconds in the model and the adapter.
    pub seconds: f64,
    /// Why, for inconclusive cases.
    pub reason: Option<String>,
}

/// A divergence found, shrunk and saved.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// Case number.
    pub case: u64,
    /// File the minimal scenario was saved to.
    pub saved: String,
    /// Statements in the minimal scenario.
    pub statements: usize,
    /// The divergence report of the minimal scenario.
    pub report: String,
    /// The command that replays it.
    pub replay: String,
}

/// What a fuzz run found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FuzzSummary {
    /// The runtime the adapter reported.
    pub runtime: String,
    /// Cases run.
    pub cases: u64,
    /// Conforming cases.
    pub conforming: u64,
    /// Diverging cases (shrunk and saved).
    pub divergences: u64,
    /// Cases the runtime's own loop rules allow and the documented rules do not
    /// (see `Verdict::Known`); not failures.
    pub known_divergences: u64,
    /// For the known divergences: how many cases went through each loop clause.
    pub known_clauses: std::collections::BTreeMap<String, u64>,
    /// Cases whose runtime trace diverged once and conformed when run again on the
    /// same adapter: runtime nondeterminism the model does not explain yet. Reported,
    /// saved, and not counted as divergences.
    pub unreproducible: u64,
    /// Cases the model could not decide (step limit, recursion).
    pub inconclusive: u64,
    /// Cases the adapter failed on (crash, hang, garbage).
    pub adapter_failures: u64,
    /// Cases the model failed on (a bug in asyncspec, reported with its case).
    pub internal_errors: u64,
    /// Those cases and what broke.
    pub internal_error_cases: Vec<(u64, String)>,
    /// Cases per second, wall clock.
    pub scenarios_per_second: f64,
    /// Seconds in the model (all workers).
    pub model_seconds: f64,
    /// Seconds waiting on adapters (all workers).
    pub adapter_seconds: f64,
    /// Each divergence.
    pub found: Vec<Found>,
    /// Each adapter failure: case and what was seen.
    pub failures: Vec<(u64, String)>,
    /// Each unreproducible divergence: case, saved file, the first report.
    pub unreproducible_cases: Vec<(u64, String, String)>,
    /// Cases planned but not run (the run was stopped: failures_max, deadline).
    pub not_run: u64,
    /// Every case run, in the order they finished.
    #[serde(skip)]
    pub records: Vec<CaseRecord>,
}

/// Count statements in a scenario (the size a shrink minimises).
pub fn statements(s: &Scenario) -> usize {
    s.statement_count()
}

enum Msg {
    Done {
        case: u64,
        outcome: CaseOutcome,
        model_s: f64,
        adapter_s: f64,
    },
    Found(Found),
    Unreproducible {
        case: u64,
        report: String,
        saved: String,
    },
    Runtime(String),
    Fatal(String),
}

fn diverges(checker: &mut Checker, s: &Scenario) -> Option<String> {
    match checker.check(&s.name, s).outcome {
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(d),
        } => Some(d.report()),
        _ => None,
    }
}

/// Shrink a diverging case: keep simplifying while the divergence stays.
fn shrink(
    checker: &mut Checker,
    seed: u64,
    case: u64,
    generator: generate::Generator,
) -> (Scenario, String) {
    let mut tree = generate::case_tree(seed, case, generator);
    let mut best = tree.current();
    let mut report = diverges(checker, &best).unwrap_or_default();
    let mut steps = 0;
    if !tree.simplify() {
        return (best, report);
    }
    loop {
        steps += 1;
        if steps > SHRINK_STEPS_MAX {
            break;
        }
        let candidate = tree.current();
        let still = diverges(checker, &candidate);
        let next = match still {
            Some(r) => {
                best = candidate;
                report = r;
                tree.simplify()
            }
            None => tree.complicate(),
        };
        if !next {
            break;
        }
    }
    (best, report)
}

fn save(dir: &Path, seed: u64, case: u64, s: &Scenario, runtime: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut s = s.clone();
    s.name = format!("fuzz-{seed}-{case}");
    s.description = format!("Shrunk from fuzz case {case} of seed {seed}; diverged on {runtime}.");
    let path = dir.join(format!("fuzz-{seed}-{case}.json"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&s).unwrap_or_default() + "\n",
    )?;
    Ok(path)
}

/// Run a fuzz campaign.
pub fn fuzz(
    cfg: &FuzzConfig,
    replay_hint: &(dyn Fn(&Path, u64, u64) -> String + Sync),
    observe: &mut dyn FnMut(&FuzzSummary),
) -> Result<FuzzSummary, String> {
    let started = Instant::now();
    let mut summary = FuzzSummary::default();
    let mut fatal = None;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let failures = std::sync::atomic::AtomicU64::new(0);
    let work = |pool: &crate::pool::Worker<'_, Msg>| {
        let mut checker = match Checker::new(cfg.spec.clone(), cfg.profile) {
            Ok(c) => c,
            Err(e) => {
                pool.send(Msg::Fatal(e.to_string()));
                return;
            }
        };
        pool.send(Msg::Runtime(checker.runtime.clone()));
        loop {
            if cfg.deadline.is_some_and(|d| Instant::now() >= d) {
                pool.stop();
            }
            let Some(i) = pool.take() else { break };
            for msg in check_case(cfg, replay_hint, &mut checker, cfg.case_number(i)) {
                if let Msg::Done { outcome, .. } = &msg {
                    let failed = matches!(
                        outcome,
                        CaseOutcome::Checked {
                            verdict: Verdict::Diverges(_)
                        } | CaseOutcome::AdapterFailure { .. }
                            | CaseOutcome::BadInput { .. }
                    );
                    // Counted before this worker takes another case (--fail-fast).
                    if failed
                        && cfg.failures_max.is_some_and(|m| {
                            failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= m
                        })
                    {
                        pool.stop();
                    }
                }
                pool.send(msg);
            }
        }
    };
    crate::pool::run_stoppable(cfg.jobs, cfg.planned(), &stop, work, |msg| {
        let done = matches!(msg, Msg::Done { .. });
        collect(msg, cfg, started, &mut summary, &mut fatal);
        if done {
            observe(&summary);
        }
    });
    summary.not_run = cfg.planned().saturating_sub(summary.cases);
    if let Some(e) = fatal {
        if summary.cases == 0 {
            return Err(e);
        }
    }
    summary.found.sort_by_key(|f| f.case);
    summary.failures.sort_by_key(|f| f.0);
    summary.scenarios_per_second = summary.cases as f64 / started.elapsed().as_secs_f64().max(1e-9);
    Ok(summary)
}

/// Check one generated case: its verdict, and on a divergence the shrunk, saved case
/// (or, if it does not diverge again, a note that it is unreproducible).
fn check_case(
    cfg: &FuzzConfig,
    replay_hint: &(dyn Fn(&Path, u64, u64) -> String + Sync),
    checker: &mut Checker,
    case: u64,
) -> Vec<Msg> {
    let mut msgs = Vec::new();
    let scenario = generate::case_tree(cfg.seed, case, cfg.generator).current();
    let mut r = checker.check(&scenario.name, &scenario);
    if let CaseOutcome::Checked {
        verdict: Verdict::Diverges(d),
    } = &r.outcome
    {
        if diverges(checker, &scenario).is_none() {
            let saved = save(
                &cfg.regressions.join("unreproducible"),
                cfg.seed,
                case,
                &scenario,
                &checker.runtime,
            )
            .map(|p| p.display().to_string())
            .unwrap_or_else(|e| format!("(not saved: {e})"));
            msgs.push(Msg::Unreproducible {
                case,
                report: d.report(),
                saved,
            });
            r.outcome = CaseOutcome::Checked {
                verdict: Verdict::Inconclusive {
                    reason: "diverged once, conformed when run again".into(),
                },
            };
        } else {
            let (minimal, report) = shrink(checker, cfg.seed, case, cfg.generator);
            let saved = save(&cfg.regressions, cfg.seed, case, &minimal, &checker.runtime)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("(not saved: {e})"));
            msgs.push(Msg::Found(Found {
                case,
                statements: statements(&minimal),
                report,
                replay: replay_hint(Path::new(&saved), cfg.seed, case),
                saved,
            }));
        }
    }
    msgs.push(Msg::Done {
        case,
        outcome: r.outcome,
        model_s: r.model_s,
        adapter_s: r.adapter_s,
    });
    msgs
}

/// Take one worker message into the summary (on the calling thread).
fn collect(
    msg: Msg,
    cfg: &FuzzConfig,
    started: Instant,
    summary: &mut FuzzSummary,
    fatal: &mut Option<String>,
) {
    {
        match msg {
            Msg::Runtime(r) => summary.runtime = r,
            Msg::Fatal(e) => *fatal = Some(e),
            Msg::Found(f) => summary.found.push(f),
            Msg::Unreproducible {
                case,
                report,
                saved,
            } => {
                summary.unreproducible += 1;
                summary.unreproducible_cases.push((case, saved, report));
            }
            Msg::Done {
                case,
                outcome,
                model_s,
                adapter_s,
            } => {
                summary.cases += 1;
                summary.model_seconds += model_s;
                summary.adapter_seconds += adapter_s;
                let (word, reason) = match &outcome {
                    CaseOutcome::Checked {
                        verdict: Verdict::Conforms { .. },
                    } => ("ok", None),
                    CaseOutcome::Checked {
                        verdict: Verdict::Known { .. },
                    } => ("known", None),
                    CaseOutcome::Checked {
                        verdict: Verdict::Diverges(_),
                    } => ("DIVERGES", None),
                    CaseOutcome::Checked {
                        verdict: Verdict::Inconclusive { reason },
                    } => ("inconclusive", Some(reason.clone())),
                    CaseOutcome::AdapterFailure { .. } | CaseOutcome::BadInput { .. } => {
                        ("ADAPTER FAILURE", None)
                    }
                    CaseOutcome::InternalError { problem } => {
                        ("INTERNAL ERROR", Some(problem.clone()))
                    }
                };
                summary.records.push(CaseRecord {
                    case,
                    word,
                    seconds: model_s + adapter_s,
                    reason,
                });
                match outcome {
                    CaseOutcome::Checked {
                        verdict: Verdict::Conforms { .. },
                    } => summary.conforming += 1,
                    CaseOutcome::Checked {
                        verdict: Verdict::Known { clauses, .. },
                    } => {
                        summary.known_divergences += 1;
                        for c in clauses {
                            *summary.known_clauses.entry(c).or_default() += 1;
                        }
                    }
                    CaseOutcome::Checked {
                        verdict: Verdict::Diverges(_),
                    } => summary.divergences += 1,
                    CaseOutcome::Checked {
                        verdict: Verdict::Inconclusive { .. },
                    } => summary.inconclusive += 1,
                    CaseOutcome::AdapterFailure { failure } => {
                        summary.adapter_failures += 1;
                        summary.failures.push((case, failure));
                    }
                    CaseOutcome::BadInput { problem } => {
                        summary.adapter_failures += 1;
                        summary.failures.push((case, problem));
                    }
                    CaseOutcome::InternalError { problem } => {
                        summary.internal_errors += 1;
                        summary.internal_error_cases.push((case, problem));
                    }
                }
                if cfg.progress && summary.cases.is_multiple_of(100) {
                    eprintln!(
                        "fuzz: {}/{} cases, {} divergences, {} adapter failures, {:.0}/s",
                        summary.cases,
                        cfg.planned(),
                        summary.divergences,
                        summary.adapter_failures,
                        summary.cases as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
}
