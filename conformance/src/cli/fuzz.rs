//! `asyncspec fuzz`: the saved regressions first (as Hypothesis replays its database),
//! then generated scenarios against a real runtime, divergences shrunk and saved; split
//! across CI runners (`--shard`), bounded in failures and time, with JUnit XML, JSON, a
//! live progress line and a recap of every failure with its replay line.

use super::common::*;
use super::junit::{JunitCase, JunitOutcome};
use super::progress::{paint, ColorChoice, Progress};
use asyncspec_conformance::check::{CaseOutcome, Checker};
use asyncspec_conformance::oracle::Verdict;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Which scenarios `fuzz` generates.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum GeneratorArg {
    /// Programs of tasks, awaits, cancellation, gather, timeouts, task groups.
    Plain,
    /// The same, starting with some variables bound.
    Bound,
    /// Reads of two streams fed by the simulated network, with faults.
    Streams,
    /// The streams cases, delivered over real loopback TCP connections.
    Sockets,
    /// Tasks sharing locks, events, conditions, semaphores, a barrier and queues.
    Sync,
    /// Not random: case K is pair K of the crossing (every statement that takes a
    /// variable, on every kind of object); the cases repeat after the last pair.
    Crossing,
}

impl GeneratorArg {
    /// The generator.
    pub fn generator(self) -> asyncspec_conformance::generate::Generator {
        use asyncspec_conformance::generate::Generator;
        match self {
            GeneratorArg::Plain => Generator::Plain,
            GeneratorArg::Bound => Generator::Bound,
            GeneratorArg::Streams => Generator::Streams,
            GeneratorArg::Sockets => Generator::Sockets,
            GeneratorArg::Sync => Generator::Sync,
            GeneratorArg::Crossing => Generator::Crossing,
        }
    }
}

/// `asyncspec fuzz`'s options.
#[derive(clap::Args, Debug)]
pub struct FuzzArgs {
    /// The runtime under test.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// How many cases (case numbers 0..N; with --shard, this runner's part of them).
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub cases: u64,
    /// Seed (decimal or 0x-hex).
    #[arg(long, default_value = "1")]
    pub seed: String,
    /// Parallel workers, one adapter process each.
    #[arg(long, default_value_t = 2, value_parser = positive)]
    pub jobs: u64,
    /// Where shrunk divergences are saved; the saved ones are replayed first.
    #[arg(long, default_value = "conformance/regressions")]
    pub regressions: PathBuf,
    /// Do not replay the saved regressions before the new cases.
    #[arg(long)]
    pub no_replay_saved: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Scenario generator.
    #[arg(long, value_enum, default_value_t = GeneratorArg::Plain)]
    pub generator: GeneratorArg,
    /// Run only part K of N of the campaign (cases K-1, K-1+N, ...; saved regressions
    /// likewise), so N CI runners share it: the shards' union is the whole campaign.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Stop at the first failure (divergence or adapter failure).
    #[arg(long, conflicts_with = "max_fail")]
    pub fail_fast: bool,
    /// Stop after N failures (cases under way finish).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_fail: Option<u64>,
    /// Start no case after this many seconds: a time-boxed campaign (the cases run are
    /// reported; those not run do not fail it).
    #[arg(long, value_name = "SECS", value_parser = positive)]
    pub max_time: Option<u64>,
    /// Also write the results as JUnit XML to FILE (one test case per case run).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Colour verdict words (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The saved regressions this run replays (this shard's part of them).
fn saved_regressions(args: &FuzzArgs) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.regressions)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| args.shard.is_none_or(|s| s.keeps(*i as u64)))
        .map(|(_, f)| f)
        .collect()
}

pub fn fuzz_cmd(args: &FuzzArgs) -> ExitCode {
    let format = args.format;
    let started = Instant::now();
    let seed = match asyncspec_sim::seed::parse_seed(&args.seed) {
        Ok(s) => s,
        Err(e) => return fail(format, "fuzz", EXIT_BAD_INPUT, &e),
    };
    let colour = super::progress::colour_on(args.color);
    let runtime_words = args.runtime.replay_words();
    let check_replay = |file: &str| {
        let mut w = vec!["asyncspec".to_string(), "check".to_string()];
        w.extend(runtime_words.clone());
        w.push(file.to_string());
        command_line(&w)
    };

    // The saved regressions, first.
    let mut junit_cases: Vec<JunitCase> = Vec::new();
    let mut saved_failures: Vec<(String, String, String)> = Vec::new();
    let mut saved_json: Vec<serde_json::Value> = Vec::new();
    let saved = if args.no_replay_saved {
        Vec::new()
    } else {
        saved_regressions(args)
    };
    if !saved.is_empty() {
        let mut checker = match Checker::new(args.runtime.spec(), args.runtime.profile()) {
            Ok(c) => c,
            Err(e) => return fail(format, "fuzz", EXIT_ADAPTER, &e.to_string()),
        };
        for file in &saved {
            let name = file.display().to_string();
            let outcome = match asyncspec_conformance::scenarios::load(file) {
                Ok(s) => checker.check(&name, &s).outcome,
                Err(problem) => CaseOutcome::BadInput { problem },
            };
            let (word, failure) = match &outcome {
                CaseOutcome::Checked {
                    verdict: Verdict::Conforms { .. },
                } => ("ok", None),
                CaseOutcome::Checked {
                    verdict: Verdict::Known { .. },
                } => ("known", None),
                CaseOutcome::Checked {
                    verdict: Verdict::Inconclusive { .. },
                } => ("inconclusive", None),
                CaseOutcome::Checked {
                    verdict: Verdict::Diverges(d),
                } => ("DIVERGES", Some(d.report())),
                CaseOutcome::AdapterFailure { failure } => {
                    ("ADAPTER FAILURE", Some(failure.clone()))
                }
                CaseOutcome::BadInput { problem } => ("BAD INPUT", Some(problem.clone())),
                CaseOutcome::InternalError { problem } => ("INTERNAL ERROR", Some(problem.clone())),
            };
            if format == Format::Text {
                outln!("saved {} {name}", paint(word, colour, 14));
                if let Some(f) = &failure {
                    out!("{}", indent(f));
                    outln!("    replay: {}", check_replay(&name));
                }
            }
            junit_cases.push(JunitCase {
                name: name.clone(),
                time_s: 0.0,
                outcome: match (&failure, word) {
                    (Some(f), "DIVERGES") => {
                        JunitOutcome::Failure("saved regression diverges".into(), f.clone())
                    }
                    (Some(f), _) => JunitOutcome::Error(word.to_lowercase(), f.clone()),
                    (None, "inconclusive") => JunitOutcome::Skipped("inconclusive".into()),
                    (None, _) => JunitOutcome::Pass,
                },
                replay: failure.as_ref().map(|_| check_replay(&name)),
            });
            saved_json.push(serde_json::json!({"file": name, "verdict": word}));
            if let Some(f) = failure {
                saved_failures.push((name.clone(), word.to_string(), f));
            }
            if args.fail_fast && !saved_failures.is_empty() {
                break;
            }
        }
    }

    let failures_max = if args.fail_fast {
        Some(1)
    } else {
        args.max_fail
    };
    let generator = args.generator.generator();
    let cfg = asyncspec_conformance::fuzz::FuzzConfig {
        generator,
        spec: args.runtime.spec(),
        profile: args.runtime.profile(),
        seed,
        cases: args.cases,
        jobs: args.jobs as usize,
        regressions: args.regressions.clone(),
        progress: !std::io::IsTerminal::is_terminal(&std::io::stderr()),
        shard: args.shard.map(|s| (s.k, s.n)),
        failures_max: failures_max.map(|m| m.saturating_sub(saved_failures.len() as u64).max(1)),
        deadline: args.max_time.map(|s| started + Duration::from_secs(s)),
    };
    let fuzz_replay = |saved: &std::path::Path, seed: u64, case: u64| {
        let mut file = vec![
            "asyncspec".to_string(),
            "replay".to_string(),
            saved.display().to_string(),
        ];
        file.extend(runtime_words.clone());
        let mut generated = vec![
            "asyncspec".to_string(),
            "replay".to_string(),
            "--seed".to_string(),
            seed.to_string(),
            "--case".to_string(),
            case.to_string(),
            "--generator".to_string(),
            generator.word().to_string(),
        ];
        generated.extend(runtime_words.clone());
        format!(
            "{}   (or: {})",
            command_line(&file),
            command_line(&generated)
        )
    };
    let mut progress = Progress::new(cfg.planned(), "cases", format == Format::Text);
    let stopped_early_by_failures = !saved_failures.is_empty() && args.fail_fast;
    let summary = if stopped_early_by_failures {
        asyncspec_conformance::fuzz::FuzzSummary {
            not_run: cfg.planned(),
            ..Default::default()
        }
    } else {
        let mut observe = |s: &asyncspec_conformance::fuzz::FuzzSummary| {
            progress.draw(s.cases, s.divergences + s.adapter_failures, false)
        };
        match asyncspec_conformance::fuzz::fuzz(&cfg, &fuzz_replay, &mut observe) {
            Ok(s) => s,
            Err(e) => return fail(format, "fuzz", EXIT_ADAPTER, &e),
        }
    };
    progress.clear();
    drop(progress);
    let found_by_case: std::collections::BTreeMap<u64, &asyncspec_conformance::fuzz::Found> =
        summary.found.iter().map(|f| (f.case, f)).collect();
    let failure_by_case: std::collections::BTreeMap<u64, &String> =
        summary.failures.iter().map(|(c, f)| (*c, f)).collect();
    let mut records = summary.records.clone();
    records.sort_by_key(|r| r.case);
    for r in &records {
        junit_cases.push(JunitCase {
            name: format!("seed {seed} case {}", r.case),
            time_s: r.seconds,
            outcome: match r.word {
                "DIVERGES" => match found_by_case.get(&r.case) {
                    Some(f) => JunitOutcome::Failure(
                        format!(
                            "diverges (shrunk to {} statements, saved to {})",
                            f.statements, f.saved
                        ),
                        f.report.clone(),
                    ),
                    None => JunitOutcome::Failure("diverges".into(), String::new()),
                },
                "ADAPTER FAILURE" => JunitOutcome::Error(
                    "adapter failure".into(),
                    failure_by_case
                        .get(&r.case)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                ),
                "inconclusive" => JunitOutcome::Skipped(format!(
                    "inconclusive: {}",
                    r.reason.as_deref().unwrap_or("")
                )),
                _ => JunitOutcome::Pass,
            },
            replay: found_by_case.get(&r.case).map(|f| f.replay.clone()),
        });
    }
    let decided = summary.conforming + summary.known_divergences + summary.divergences;
    let saved_diverging = saved_failures
        .iter()
        .filter(|(_, w, _)| w == "DIVERGES")
        .count();
    let saved_other = saved_failures.len() - saved_diverging;
    let (code, why) = if summary.internal_errors > 0 {
        (EXIT_INTERNAL, None)
    } else if summary.divergences > 0 || saved_diverging > 0 {
        (EXIT_FAILED, None)
    } else if summary.adapter_failures > 0 || saved_other > 0 {
        (EXIT_ADAPTER, None)
    } else if decided == 0 && summary.cases > 0 {
        (
            EXIT_FAILED,
            Some(format!(
                "no case was decided ({} inconclusive): nothing passed",
                summary.inconclusive
            )),
        )
    } else {
        (EXIT_OK, None)
    };
    if let Some(path) = &args.junit {
        let suite = format!(
            "asyncspec fuzz {} seed {seed} {}",
            summary.runtime,
            generator.word()
        );
        if let Err(e) =
            super::junit::write(path, &suite, &junit_cases, started.elapsed().as_secs_f64())
        {
            return fail(format, "fuzz", EXIT_BAD_INPUT, &format!("--junit: {e}"));
        }
    }
    match format {
        Format::Json => {
            let mut body = serde_json::to_value(&summary).unwrap_or_default();
            body["command"] = "fuzz".into();
            body["error"] = why.clone().into();
            body["exit_code"] = code.into();
            body["seed"] = seed.into();
            body["generator"] = generator.word().into();
            body["shard"] = args.shard.map(|s| s.to_string()).into();
            body["saved_regressions"] = saved_json.into();
            outln!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
        }
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
            for (case, failure) in &summary.failures {
                outln!("adapter failure in case {case}:");
                out!("{}", indent(failure));
            }
            for (case, problem) in &summary.internal_error_cases {
                outln!("internal error in case {case}:");
                out!("{}", indent(problem));
            }
            let recap = saved_failures.len()
                + summary.found.len()
                + summary.failures.len()
                + summary.internal_error_cases.len();
            if recap > 0 {
                outln!("failures ({recap}):");
                for (name, word, _) in &saved_failures {
                    outln!("  {} saved {name}", paint(word, colour, 14));
                    outln!("      replay: {}", check_replay(name));
                }
                for f in &summary.found {
                    outln!("  {} case {}", paint("DIVERGES", colour, 14), f.case);
                    outln!("      replay: {}", f.replay);
                }
                let failed_cases = summary
                    .failures
                    .iter()
                    .map(|(case, _)| (*case, "ADAPTER FAILURE"))
                    .chain(
                        summary
                            .internal_error_cases
                            .iter()
                            .map(|(case, _)| (*case, "INTERNAL ERROR")),
                    );
                for (case, word) in failed_cases {
                    let mut w = vec![
                        "asyncspec".to_string(),
                        "replay".to_string(),
                        "--seed".to_string(),
                        seed.to_string(),
                        "--case".to_string(),
                        case.to_string(),
                        "--generator".to_string(),
                        generator.word().to_string(),
                    ];
                    w.extend(runtime_words.clone());
                    outln!("  {} case {case}", paint(word, colour, 14));
                    outln!("      replay: {}", command_line(&w));
                }
            }
            let shard = args
                .shard
                .map(|s| format!(" (shard {s})"))
                .unwrap_or_default();
            let saved_note = if saved.is_empty() {
                String::new()
            } else {
                format!(
                    "{} saved regressions replayed ({} failing); ",
                    saved_json.len(),
                    saved_failures.len()
                )
            };
            outln!(
                "{}{shard}: {saved_note}{} cases, {} conforming, {} divergences, {} known divergences, {} unreproducible, {} inconclusive, {} adapter failures, {} internal errors, {} not run; {:.1} scenarios/s; model {:.2}s, adapter {:.2}s",
                summary.runtime,
                summary.cases,
                summary.conforming,
                summary.divergences,
                summary.known_divergences,
                summary.unreproducible,
                summary.inconclusive,
                summary.adapter_failures,
                summary.internal_errors,
                summary.not_run,
                summary.scenarios_per_second,
                summary.model_seconds,
                summary.adapter_seconds
            );
            if let Some(why) = &why {
                eprintln!("asyncspec fuzz: {why}");
            }
        }
    }
    ExitCode::from(code)
}
