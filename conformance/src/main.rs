//! `asyncspec`: the command line of the clause catalogue, the model and the oracle.
//!
//! Exit status: 0 success, 1 a check found a problem (divergence, failed verification),
//! 2 bad input (malformed spec, scenario or arguments), 3 an adapter failed.

use asyncspec_conformance::coverage::{self, ClauseStatus, StatusFilter};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Print to stdout; a closed pipe (`asyncspec ... | head`) ends the program quietly
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `out!` with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// Where exceptions go in Python's async runtimes: an executable reference model and
/// conformance oracle.
///
/// The catalogue (`specs/`) lists every documented exception rule as a clause with a
/// stable id. Start with `asyncspec clauses` to see them and what covers each.
#[derive(Parser)]
#[command(name = "asyncspec", version, propagate_version = true)]
struct Cli {
    /// The catalogue folder (default: this build's `specs/`; or set ASYNCSPEC_SPECS).
    #[arg(long, global = true, env = "ASYNCSPEC_SPECS", value_name = "DIR")]
    specs: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the clause catalogue and, per clause, what covers it.
    ///
    /// Columns: id, source (seed file or URL host), runtimes, and three coverage marks:
    /// M = the model implements it (a transition cites it), S = a reviewed snapshot trace
    /// shows it, L = live checks cover it on every runtime it holds for.
    ///
    /// Examples:
    ///   asyncspec clauses --chapter asyncio.streams
    ///   asyncspec clauses --status todo --format json
    ///   asyncspec clauses --verify --seeds ../shared/seeds
    #[command(verbatim_doc_comment)]
    Clauses {
        /// Output format: a table for people, JSON for CI.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only clauses of this chapter, or of chapters under it (`asyncio` takes all asyncio.*).
        #[arg(long, value_name = "CHAPTER")]
        chapter: Option<String>,
        /// Only clauses with this status: implemented, unimplemented, snapshot,
        /// no-snapshot, not-live, todo (not implemented or not snapshot-covered).
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Also check every seed quote is verbatim in its document and every quote of a
        /// CPython source file is verbatim in that version's installed source.
        #[arg(long)]
        verify: bool,
        /// Folder of the seed documents, for --verify.
        #[arg(long, value_name = "DIR", default_value = "../shared/seeds")]
        seeds: PathBuf,
    },
    /// Run a scenario on the model and print its trace.
    ///
    /// The trace has one line per event: virtual time, task, what happened. Lines marked
    /// `~` are the model's bookkeeping (not observable in a real runtime). Choice points
    /// (orders the documents leave undefined, such as which remaining task is cancelled
    /// first at shutdown) take their canonical option unless --seed or --choices says
    /// otherwise.
    ///
    /// Examples:
    ///   asyncspec run tests/scenarios/asyncio/tasks/await_reraises.json
    ///   asyncspec run s.json --profile cpython-3.11 --clauses
    ///   asyncspec run s.json --format json --seed 7
    #[command(verbatim_doc_comment)]
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// The runtime profile to reproduce.
        #[arg(long, default_value = "cpython-3.13")]
        profile: String,
        /// Seed for the choice points (decimal or 0x-hex).
        #[arg(long)]
        seed: Option<String>,
        /// Explicit answers for the choice points, comma-separated (overrides --seed).
        #[arg(long, value_delimiter = ',')]
        choices: Vec<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Show the clause ids each event implements.
        #[arg(long)]
        clauses: bool,
    },
    /// Generate scenarios, check each against a real runtime, shrink what diverges.
    ///
    /// Case K of seed S is always the same scenario. Every divergence is shrunk to a
    /// minimal scenario, saved under --regressions with its seed and case, and printed
    /// with the command that replays it. Progress goes to stderr every 100 cases. Exit
    /// status: 0 clean, 1 divergence, 2 bad input, 3 adapter failure.
    ///
    /// Examples:
    ///   asyncspec fuzz --impl asyncio --cases 2000 --seed 1 --jobs 2
    ///   asyncspec fuzz --python ~/.pyenv/versions/3.12.1/bin/python --format json
    ///   asyncspec fuzz --generator streams --cases 1500 --seed 1   (reads over the simulated network)
    ///   asyncspec fuzz --generator sockets --cases 1500 --seed 1   (the same, over loopback TCP)
    ///   asyncspec fuzz --impl uvloop --python VENV/bin/python --cases 1500 --seed 1
    ///
    /// uvloop and rloop must be installed for --python; their traces are held to their own
    /// loop's rules, and runs those allow but asyncio's do not count as known divergences.
    #[command(verbatim_doc_comment)]
    Fuzz {
        /// The runtime under test.
        #[command(flatten)]
        runtime: RuntimeArgs,
        /// How many cases.
        #[arg(long, default_value_t = 1000)]
        cases: u64,
        /// Seed (decimal or 0x-hex).
        #[arg(long, default_value = "1")]
        seed: String,
        /// Parallel workers, one adapter process each.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Where shrunk divergences are saved.
        #[arg(long, default_value = "conformance/regressions")]
        regressions: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Scenario generator: plain; bound (programs start with some variables bound);
        /// streams (reads of two streams fed by the simulated network, with faults);
        /// sockets (streams' cases, delivered over real loopback TCP connections).
        #[arg(long, default_value = "plain")]
        generator: String,
    },
    /// Replay a saved scenario, or case K of seed S, on the model and the runtime.
    ///
    /// Examples:
    ///   asyncspec replay conformance/regressions/fuzz-1-17.json
    ///   asyncspec replay --seed 1 --case 17 --python ~/.pyenv/versions/3.13.0/bin/python
    #[command(verbatim_doc_comment)]
    Replay {
        /// A scenario file (omit with --seed and --case).
        file: Option<PathBuf>,
        /// Seed of the fuzz run.
        #[arg(long, requires = "case")]
        seed: Option<String>,
        /// Case number in that run.
        #[arg(long, requires = "seed")]
        case: Option<u64>,
        /// The generator that run used (plain, bound, streams or sockets).
        #[arg(long, default_value = "plain")]
        generator: String,
        /// The runtime under test.
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Check scenarios against a real runtime: each trace must be one the model allows.
    ///
    /// Runs every scenario (files, or folders of .json files) on the runtime through an
    /// adapter process, holds its trace against the model under the runtime's profile,
    /// and prints a verdict per scenario and per clause, then a one-line summary. A
    /// divergence shows the first differing event, the clauses involved and both traces
    /// side by side. Exit status: 0 conforming (known divergences included), 1 divergence,
    /// 2 bad input, 3 adapter failure.
    ///
    /// Examples:
    ///   asyncspec check --impl asyncio tests/scenarios
    ///   asyncspec check --python ~/.pyenv/versions/3.13.0/bin/python tests/scenarios/asyncio/taskgroups
    ///   asyncspec check --adapter "micropython my_adapter.py" s.json --profile cpython-3.13
    ///   asyncspec check --impl rloop --python VENV/bin/python tests/scenarios/loops
    ///   asyncspec check --delivery socket tests/scenarios/asyncio/streams   (over loopback TCP)
    ///
    /// Verdicts: ok (the model allows the trace), known (the runtime's own loop rules allow
    /// it, asyncio's do not: a catalogued divergence), DIVERGES (neither: a failure).
    #[command(verbatim_doc_comment)]
    Check {
        /// Scenario files or folders.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// The runtime under test.
        #[command(flatten)]
        runtime: RuntimeArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print a verdict line per clause.
        #[arg(long)]
        per_clause: bool,
        /// Carry every scenario's streams this way: memory (the simulated transport)
        /// or socket (real loopback TCP); default: as each scenario says.
        #[arg(long)]
        delivery: Option<String>,
    },
}

/// How to reach the runtime under test (shared by check, fuzz and replay).
#[derive(clap::Args, Clone)]
struct RuntimeArgs {
    /// The runtime's event loop: asyncio, uvloop or rloop.
    #[arg(long = "impl", default_value = "asyncio")]
    impl_: String,
    /// The Python interpreter for the bundled adapter.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Run this adapter command instead of the bundled Python adapter.
    #[arg(long)]
    adapter: Option<String>,
    /// Model profile (default: from the runtime the adapter reports).
    #[arg(long)]
    profile: Option<String>,
    /// Deliberately alter the runtime (gather-cancels-siblings, cancel-drops-message),
    /// to prove the oracle catches it; or the adapter (loopback-never-delivers), to
    /// prove its own failure is reported as such (exit 3).
    #[arg(long)]
    mutate: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let specs_dir = cli
        .specs
        .clone()
        .unwrap_or_else(asyncspec_specs::default_specs_dir);
    match cli.command {
        Command::Clauses {
            format,
            chapter,
            status,
            verify,
            seeds,
        } => clauses(&specs_dir, format, chapter, status, verify, &seeds),
        Command::Run {
            scenario,
            profile,
            seed,
            choices,
            format,
            clauses,
        } => run(
            &scenario,
            &profile,
            seed.as_deref(),
            choices,
            format,
            clauses,
        ),
        Command::Fuzz {
            runtime,
            cases,
            seed,
            jobs,
            regressions,
            format,
            generator,
        } => fuzz_cmd(
            &runtime.impl_,
            &runtime.python,
            runtime.adapter.as_deref(),
            runtime.mutate.as_deref(),
            &generator,
            runtime.profile.as_deref(),
            cases,
            &seed,
            jobs,
            &regressions,
            format,
        ),
        Command::Replay {
            file,
            seed,
            case,
            generator,
            runtime,
        } => replay(file, seed.as_deref(), case, &generator, &runtime),
        Command::Check {
            scenarios,
            runtime,
            format,
            per_clause,
            delivery,
        } => check(
            &specs_dir,
            &scenarios,
            delivery.as_deref(),
            &runtime.impl_,
            &runtime.python,
            runtime.adapter.as_deref(),
            runtime.mutate.as_deref(),
            runtime.profile.as_deref(),
            format,
            per_clause,
        ),
    }
}

fn run(
    path: &std::path::Path,
    profile: &str,
    seed: Option<&str>,
    choices: Vec<usize>,
    format: Format,
    with_clauses: bool,
) -> ExitCode {
    let profile = match asyncspec_model::Profile::parse(profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("asyncspec run: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match asyncspec_conformance::scenarios::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("asyncspec run: {e}");
            return ExitCode::from(2);
        }
    };
    let script = match (choices.is_empty(), seed) {
        (false, _) => choices,
        (true, Some(seed)) => match asyncspec_sim::seed::parse_seed(seed) {
            Ok(s) => asyncspec_conformance::scenarios::choice_script(s),
            Err(e) => {
                eprintln!("asyncspec run: {e}");
                return ExitCode::from(2);
            }
        },
        (true, None) => Vec::new(),
    };
    match asyncspec_model::run(&scenario, profile, &script) {
        Ok(trace) => {
            match format {
                Format::Text => out!("{}", trace.to_text(with_clauses)),
                Format::Json => match serde_json::to_string_pretty(&trace) {
                    Ok(t) => outln!("{t}"),
                    Err(e) => {
                        eprintln!("asyncspec run: cannot encode JSON: {e}");
                        return ExitCode::from(1);
                    }
                },
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("asyncspec run: {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

fn load(specs_dir: &std::path::Path) -> Result<asyncspec_specs::Catalogue, ExitCode> {
    asyncspec_specs::load_catalogue(specs_dir).map_err(|errors| {
        for e in &errors {
            eprintln!("{}/{e}", specs_dir.display());
        }
        eprintln!(
            "asyncspec: {} problem(s) in the catalogue at {}",
            errors.len(),
            specs_dir.display()
        );
        ExitCode::from(2)
    })
}

fn clauses(
    specs_dir: &std::path::Path,
    format: Format,
    chapter: Option<String>,
    status: Option<String>,
    verify: bool,
    seeds: &std::path::Path,
) -> ExitCode {
    let catalogue = match load(specs_dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let filter = match status.as_deref().map(StatusFilter::parse).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("asyncspec clauses: {e}");
            return ExitCode::from(2);
        }
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

#[allow(clippy::too_many_arguments)]
fn check(
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
    if diverging > 0 {
        ExitCode::from(1)
    } else if bad_input {
        ExitCode::from(2)
    } else if failures > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn adapter_spec(
    impl_: &str,
    python: &str,
    adapter: Option<&str>,
    mutate: Option<&str>,
) -> asyncspec_conformance::adapter::AdapterSpec {
    let spec = match adapter {
        Some(cmd) => asyncspec_conformance::adapter::AdapterSpec::command(cmd),
        None => asyncspec_conformance::adapter::AdapterSpec::python(python, impl_),
    };
    match mutate {
        Some(m) => spec.mutated(m),
        None => spec,
    }
}

#[allow(clippy::too_many_arguments)]
fn fuzz_cmd(
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
            for (case, failure) in &summary.failures {
                outln!("adapter failure in case {case}:");
                out!("{}", indent(failure));
            }
            outln!(
                "{}: {} cases, {} conforming, {} divergences, {} known divergences, {} unreproducible, {} inconclusive, {} adapter failures; {:.1} scenarios/s; model {:.2}s, adapter {:.2}s",
                summary.runtime,
                summary.cases,
                summary.conforming,
                summary.divergences,
                summary.known_divergences,
                summary.unreproducible,
                summary.inconclusive,
                summary.adapter_failures,
                summary.scenarios_per_second,
                summary.model_seconds,
                summary.adapter_seconds
            );
        }
    }
    if summary.divergences > 0 {
        ExitCode::from(1)
    } else if summary.adapter_failures > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

#[allow(clippy::too_many_arguments)]
fn replay(
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
        CaseOutcome::BadInput { problem } => {
            outln!("bad input: {problem}");
            ExitCode::from(2)
        }
    }
}
