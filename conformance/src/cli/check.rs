//! `asyncspec check`: bundled or given scenarios against a real runtime, a verdict each,
//! in parallel (`--jobs`), split across CI runners (`--shard`), bounded in failures and
//! time, with JUnit XML, JSON, a live progress line and a recap of every failure.

use super::common::*;
use super::junit::{JunitCase, JunitOutcome};
use super::progress::{paint, ColorChoice, Progress};
use asyncspec_conformance::check::{self as chk, CaseOutcome, CaseResult, Checker};
use asyncspec_conformance::oracle::Verdict;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How `check` streams are carried.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum Delivery {
    /// The simulated transport, in memory.
    Memory,
    /// Real loopback TCP connections.
    Socket,
}

/// `asyncspec check`'s options.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files or folders.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// The runtime under test.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print a verdict line per clause.
    #[arg(long)]
    pub per_clause: bool,
    /// Carry every scenario's streams this way (default: as each scenario says).
    #[arg(long, value_enum)]
    pub delivery: Option<Delivery>,
    /// Scenarios checked at once, one adapter process each.
    #[arg(long, default_value_t = 1, value_parser = positive)]
    pub jobs: u64,
    /// Check only part K of N of the scenarios (sorted; every N-th from the K-th), so N
    /// CI runners share one suite: the shards' union is the whole run.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Only scenarios whose path or name contains this text (repeatable: any of them).
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Only scenarios whose model trace cites this clause id, or a clause under it
    /// (`asyncio.tasks` takes every asyncio.tasks.* clause; repeatable: any of them).
    #[arg(long, value_name = "ID")]
    pub clause: Vec<String>,
    /// Stop at the first failure (divergence, adapter failure, bad input).
    #[arg(long, conflicts_with = "max_fail")]
    pub fail_fast: bool,
    /// Stop after N failures (scenarios under way finish; the rest count as not run).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_fail: Option<u64>,
    /// Start no scenario after this many seconds (the rest count as not run, and the
    /// run does not pass).
    #[arg(long, value_name = "SECS", value_parser = positive)]
    pub max_time: Option<u64>,
    /// Also write the results as JUnit XML to FILE (one test case per scenario).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Record which clauses conformed live, for `asyncspec clauses` (CI does; ad-hoc
    /// runs leave the record alone). Refused for a mutated runtime or a --profile
    /// other than the runtime's own.
    #[arg(long)]
    pub record_live: bool,
    /// Write each divergence's whole report to DIR (printed reports show the first
    /// difference with context; the rest is counted).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Colour verdict words (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// A worker's message.
enum Msg {
    Runtime(String),
    StartFailed(String),
    Done(usize, Box<CaseResult>),
}

/// One scenario's verdict word.
fn word(outcome: &CaseOutcome) -> String {
    match outcome {
        CaseOutcome::Checked {
            verdict: Verdict::Conforms { .. },
        } => "ok".into(),
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(_),
        } => "DIVERGES".into(),
        CaseOutcome::Checked {
            verdict: Verdict::Known { .. },
        } => "known".into(),
        CaseOutcome::Checked {
            verdict: Verdict::Inconclusive { reason },
        } => format!("inconclusive ({reason})"),
        CaseOutcome::AdapterFailure { .. } => "ADAPTER FAILURE".into(),
        CaseOutcome::BadInput { .. } => "BAD INPUT".into(),
        CaseOutcome::InternalError { .. } => "INTERNAL ERROR".into(),
    }
}

/// Is this a failure (counted by --max-fail, listed in the recap)?
fn is_failure(outcome: &CaseOutcome) -> bool {
    matches!(
        outcome,
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(_)
        } | CaseOutcome::AdapterFailure { .. }
            | CaseOutcome::BadInput { .. }
            | CaseOutcome::InternalError { .. }
    )
}

/// The details printed under a scenario's verdict line.
fn details(outcome: &CaseOutcome) -> String {
    match outcome {
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(d),
        } => indent(&d.report()),
        CaseOutcome::Checked {
            verdict:
                Verdict::Known {
                    clauses,
                    documented,
                },
        } => format!(
            "    known divergence ({}): asyncio's rules part {}\n",
            clauses.join(", "),
            documented.headline()
        ),
        CaseOutcome::AdapterFailure { failure } => indent(failure),
        CaseOutcome::BadInput { problem } => indent(problem),
        CaseOutcome::InternalError { problem } => indent(problem),
        _ => String::new(),
    }
}

pub fn check(specs_dir: &std::path::Path, args: &CheckArgs) -> ExitCode {
    let format = args.format;
    let started = Instant::now();
    let files = match chk::collect_scenarios(&args.scenarios) {
        Ok(f) => f,
        Err(e) => return fail(format, "check", EXIT_BAD_INPUT, &e),
    };
    // Name filter, then the shard: both from the sorted list alone, so shards of the
    // same arguments are disjoint and add up to the whole.
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| {
            args.filter.is_empty() || {
                let shown = f.display().to_string();
                args.filter.iter().any(|t| shown.contains(t.as_str()))
            }
        })
        .collect();
    if files.is_empty() {
        return fail(
            format,
            "check",
            EXIT_BAD_INPUT,
            "no scenario matches --filter",
        );
    }
    let whole = files.len();
    let files: Vec<PathBuf> = files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| args.shard.is_none_or(|s| s.keeps(*i as u64)))
        .map(|(_, f)| f)
        .collect();
    if files.is_empty() {
        // More shards than scenarios: this runner's part is empty, which is no failure.
        let note = format!(
            "shard {} of {whole} scenarios is empty",
            args.shard.map(|s| s.to_string()).unwrap_or_default()
        );
        eprintln!("asyncspec check: {note}");
        if format == Format::Json {
            outln!(
                "{}",
                serde_json::json!({"command": "check", "error": null, "exit_code": 0, "cases": 0, "note": note})
            );
        }
        return ExitCode::SUCCESS;
    }
    let delivery = args.delivery.map(|d| match d {
        Delivery::Memory => asyncspec_model::scenario::DeliveryMode::Memory,
        Delivery::Socket => asyncspec_model::scenario::DeliveryMode::Socket,
    });
    let mut spec = args.runtime.spec();
    spec.scenario_timeout = Duration::from_secs(args.runtime.adapter_timeout);
    let profile = args.runtime.profile();
    let stop = AtomicBool::new(false);
    let deadline = args.max_time.map(|s| started + Duration::from_secs(s));
    let max_fail = if args.fail_fast {
        Some(1)
    } else {
        args.max_fail
    };
    let colour = super::progress::colour_on(args.color);
    let mut progress = Progress::new(files.len() as u64, "scenarios", format == Format::Text);
    let replay = |file: &str| -> String {
        let mut w = vec!["asyncspec".to_string(), "check".to_string()];
        w.extend(args.runtime.replay_words());
        if let Some(d) = args.delivery {
            w.push("--delivery".into());
            w.push(format!("{d:?}").to_lowercase());
        }
        w.push(file.to_string());
        command_line(&w)
    };

    let mut results: Vec<Option<CaseResult>> = (0..files.len()).map(|_| None).collect();
    let mut runtime: Option<String> = None;
    let mut start_failures: Vec<String> = Vec::new();
    let mut printed = 0usize;
    let mut failing = 0u64;
    let mut done = 0u64;
    let failures_seen = std::sync::atomic::AtomicU64::new(0);
    let work = |w: &asyncspec_conformance::pool::Worker<'_, Msg>| {
        let mut checker = match Checker::new(spec.clone(), profile) {
            Ok(c) => c,
            Err(e) => {
                w.send(Msg::StartFailed(e.to_string()));
                return;
            }
        };
        checker.report_dir = args.report_dir.clone();
        w.send(Msg::Runtime(checker.runtime.clone()));
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                w.stop();
            }
            let Some(i) = w.take() else { break };
            let file = &files[i as usize];
            let name = file.display().to_string();
            let result = match asyncspec_conformance::scenarios::load(file) {
                Ok(mut s) => {
                    if let Some(d) = delivery.filter(|_| !s.streams.is_empty()) {
                        s.delivery = d;
                    }
                    if !args.clause.is_empty() && !cites_any(&s, &checker, &args.clause) {
                        None
                    } else {
                        Some(checker.check(&name, &s))
                    }
                }
                Err(problem) => Some(CaseResult {
                    scenario: name.clone(),
                    outcome: CaseOutcome::BadInput { problem },
                    clauses: Vec::new(),
                    model_s: 0.0,
                    adapter_s: 0.0,
                    report_file: None,
                }),
            };
            if result.as_ref().is_some_and(|r| is_failure(&r.outcome)) {
                // Counted here, before this worker takes another case, so --fail-fast
                // stops at once (the sink sees it only later).
                let n = failures_seen.fetch_add(1, Ordering::SeqCst) + 1;
                if max_fail.is_some_and(|m| n >= m) {
                    w.stop();
                }
            }
            match result {
                Some(r) => w.send(Msg::Done(i as usize, Box::new(r))),
                // Filtered out by --clause: a placeholder keeps the ordered output going.
                None => w.send(Msg::Done(i as usize, Box::new(filtered_out(&name)))),
            }
        }
    };
    let sink = |msg: Msg| match msg {
        Msg::Runtime(r) => {
            runtime.get_or_insert(r);
        }
        Msg::StartFailed(e) => start_failures.push(e),
        Msg::Done(i, r) => {
            done += 1;
            if is_failure(&r.outcome) {
                failing += 1;
            }
            results[i] = Some(*r);
            // Print in file order, as soon as every earlier scenario is done.
            if format == Format::Text {
                progress.clear();
                while printed < results.len() {
                    let Some(r) = &results[printed] else { break };
                    if !is_filtered_out(r) {
                        outln!(
                            "[{}/{}] {} {}",
                            printed + 1,
                            results.len(),
                            paint(&word(&r.outcome), colour, 14),
                            r.scenario
                        );
                        out!("{}", details(&r.outcome));
                        if is_failure(&r.outcome) {
                            outln!("    replay: {}", replay(&r.scenario));
                        }
                    }
                    printed += 1;
                }
                progress.draw(done, failing, false);
            }
        }
    };
    asyncspec_conformance::pool::run_stoppable(
        args.jobs as usize,
        files.len() as u64,
        &stop,
        work,
        sink,
    );
    progress.clear();
    let Some(runtime) = runtime else {
        // No adapter ever started.
        let why = start_failures
            .first()
            .cloned()
            .unwrap_or_else(|| "no adapter was started".into());
        if files.is_empty() {
            return fail(
                format,
                "check",
                EXIT_BAD_INPUT,
                "no scenario to check (after --filter and --shard)",
            );
        }
        return fail(format, "check", EXIT_ADAPTER, &why);
    };
    // Scenarios not run (stopped by --fail-fast, --max-fail or --max-time), printed
    // where the ordered output stopped.
    let not_run: Vec<String> = files
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_none())
        .map(|(f, _)| f.display().to_string())
        .collect();
    let results: Vec<CaseResult> = results
        .into_iter()
        .flatten()
        .filter(|r| !is_filtered_out(r))
        .collect();
    if format == Format::Text {
        for name in &not_run {
            outln!("[-] {} {name}", paint("not run", colour, 14));
        }
    }

    let contradicted = contradicted_by(specs_dir);
    let verdicts = chk::clause_verdicts(&results, &contradicted);
    let resolved_profile = profile
        .map(Ok)
        .unwrap_or_else(|| chk::profile_for_runtime(&runtime));
    if args.record_live {
        if let Err(e) = record_live(&runtime, profile, &verdicts) {
            return fail(
                format,
                "check",
                EXIT_BAD_INPUT,
                &format!("--record-live: {e}"),
            );
        }
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
    let bad_inputs = count(&|o| matches!(o, CaseOutcome::BadInput { .. }));
    let internal = count(&|o| matches!(o, CaseOutcome::InternalError { .. }));
    let clause_known = verdicts
        .values()
        .filter(|v| **v == "known divergence")
        .count();
    let clause_ok = verdicts.values().filter(|v| **v == "conforming").count();
    let clause_bad = verdicts.values().filter(|v| **v == "divergence").count();
    let decided = conforming + known + diverging;
    let (code, why) = if internal > 0 {
        (EXIT_INTERNAL, None)
    } else if diverging > 0 {
        (EXIT_FAILED, None)
    } else if bad_inputs > 0 {
        (EXIT_BAD_INPUT, None)
    } else if failures > 0 {
        (EXIT_ADAPTER, None)
    } else if !not_run.is_empty() {
        (
            EXIT_FAILED,
            Some(format!("{} scenarios were not run", not_run.len())),
        )
    } else if decided == 0 {
        (
            EXIT_FAILED,
            Some(format!(
                "no scenario was decided ({inconclusive} inconclusive): nothing passed"
            )),
        )
    } else {
        (EXIT_OK, None)
    };
    let runtime_name = match (args.runtime.impl_, &resolved_profile) {
        (Impl::Asyncio, Ok(p)) => p.name().to_string(),
        (other, _) => other.word().to_string(),
    };
    if let Some(path) = &args.junit {
        let cases: Vec<JunitCase> = results
            .iter()
            .map(|r| junit_case(r, &replay))
            .chain(not_run.iter().map(|n| JunitCase {
                name: n.clone(),
                time_s: 0.0,
                outcome: JunitOutcome::Skipped("not run (stopped early)".into()),
                replay: None,
            }))
            .collect();
        let suite = format!("asyncspec check {runtime}");
        if let Err(e) = super::junit::write(path, &suite, &cases, started.elapsed().as_secs_f64()) {
            return fail(format, "check", EXIT_BAD_INPUT, &format!("--junit: {e}"));
        }
    }
    match format {
        Format::Json => {
            let results: Vec<serde_json::Value> = results
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    if is_failure(&r.outcome) {
                        v["replay"] = replay(&r.scenario).into();
                    }
                    v
                })
                .collect();
            let body = serde_json::json!({
                "command": "check",
                "error": why,
                "exit_code": code,
                "runtime": runtime,
                "shard": args.shard.map(|s| s.to_string()),
                "cases": results.len() + not_run.len(),
                "conforming": conforming,
                "divergences": diverging,
                "known_divergences": known,
                "inconclusive": inconclusive,
                "adapter_failures": failures,
                "bad_inputs": bad_inputs,
                "internal_errors": internal,
                "not_run": not_run,
                "seconds": started.elapsed().as_secs_f64(),
                "clauses": verdicts,
                "results": results,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
        }
        Format::Text => {
            if args.per_clause {
                for (id, word) in &verdicts {
                    outln!("{word:<16} {id}");
                }
            }
            let failed: Vec<&CaseResult> =
                results.iter().filter(|r| is_failure(&r.outcome)).collect();
            if !failed.is_empty() {
                outln!("failures ({}):", failed.len());
                for r in failed {
                    outln!("  {} {}", paint(&word(&r.outcome), colour, 14), r.scenario);
                    outln!("      replay: {}", replay(&r.scenario));
                }
            }
            let shard = args
                .shard
                .map(|s| format!(" (shard {s})"))
                .unwrap_or_default();
            outln!(
                "{runtime_name} ({runtime}){shard}: {} scenarios, {conforming} conforming, {known} known divergences, {diverging} diverging, {inconclusive} inconclusive, {failures} adapter failures, {bad_inputs} bad inputs, {internal} internal errors, {} not run; clauses: {clause_ok} conforming, {clause_known} known divergences, {clause_bad} diverging; {:.1}s",
                results.len() + not_run.len(),
                not_run.len(),
                started.elapsed().as_secs_f64()
            );
            if let Some(why) = &why {
                eprintln!("asyncspec check: {why}");
            }
        }
    }
    ExitCode::from(code)
}

/// A placeholder result for a scenario --clause left out.
fn filtered_out(name: &str) -> CaseResult {
    CaseResult {
        scenario: name.to_string(),
        outcome: CaseOutcome::BadInput {
            problem: FILTERED_OUT.into(),
        },
        clauses: Vec::new(),
        model_s: 0.0,
        adapter_s: 0.0,
        report_file: None,
    }
}

const FILTERED_OUT: &str = "\u{0}filtered out";

fn is_filtered_out(r: &CaseResult) -> bool {
    matches!(&r.outcome, CaseOutcome::BadInput { problem } if problem == FILTERED_OUT)
}

/// Does the scenario's model trace (under the checker's profile) cite one of `ids`, or
/// a clause under one of them?
fn cites_any(s: &asyncspec_model::Scenario, checker: &Checker, ids: &[String]) -> bool {
    let Ok(profile) = checker.profile() else {
        return true;
    };
    let Ok(trace) = asyncspec_model::run(s, profile, &[]) else {
        return true;
    };
    trace.events.iter().flat_map(|e| e.clauses.iter()).any(|c| {
        ids.iter()
            .any(|id| *c == id.as_str() || c.starts_with(&format!("{id}.")))
    })
}

/// Which documented clauses each loop clause contradicts, to attribute known
/// divergences to clauses.
fn contradicted_by(specs_dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
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
    }
}

/// Record live coverage under the runtime the adapter reported (`cpython-3.12`,
/// `uvloop`, `rloop`), refusing runs that are not that runtime as it is.
fn record_live(
    runtime: &str,
    profile: Option<asyncspec_model::Profile>,
    verdicts: &std::collections::BTreeMap<String, &'static str>,
) -> Result<(), String> {
    if runtime.contains("mutated:") {
        return Err(format!(
            "the runtime is deliberately altered ({runtime}); its results are not the runtime's"
        ));
    }
    let own = chk::profile_for_runtime(runtime)?;
    if let Some(p) = profile.filter(|p| *p != own) {
        return Err(format!(
            "checked under --profile {} but the runtime is {runtime} ({})",
            p.name(),
            own.name()
        ));
    }
    let key = match own.event_loop {
        asyncspec_model::EventLoop::Asyncio => own.name(),
        asyncspec_model::EventLoop::Uvloop => "uvloop".to_string(),
        asyncspec_model::EventLoop::Rloop => "rloop".to_string(),
    };
    chk::record_live(&key, verdicts).map_err(|e| format!("could not write it: {e}"))
}

fn junit_case(r: &CaseResult, replay: &dyn Fn(&str) -> String) -> JunitCase {
    let outcome = match &r.outcome {
        CaseOutcome::Checked {
            verdict: Verdict::Conforms { .. },
        } => JunitOutcome::Pass,
        CaseOutcome::Checked {
            verdict: Verdict::Known { .. },
        } => JunitOutcome::PassWithNote(details(&r.outcome)),
        CaseOutcome::Checked {
            verdict: Verdict::Diverges(d),
        } => JunitOutcome::Failure(
            format!("diverges at observable event #{}", d.index),
            d.report(),
        ),
        CaseOutcome::Checked {
            verdict: Verdict::Inconclusive { reason },
        } => JunitOutcome::Skipped(format!("inconclusive: {reason}")),
        CaseOutcome::AdapterFailure { failure } => {
            JunitOutcome::Error("adapter failure".into(), failure.clone())
        }
        CaseOutcome::BadInput { problem } => {
            JunitOutcome::Error("bad input".into(), problem.clone())
        }
        CaseOutcome::InternalError { problem } => {
            JunitOutcome::Error("internal error in asyncspec".into(), problem.clone())
        }
    };
    JunitCase {
        name: r.scenario.clone(),
        time_s: r.model_s + r.adapter_s,
        replay: is_failure(&r.outcome).then(|| replay(&r.scenario)),
        outcome,
    }
}
