//! `asyncspec`: the command line of the clause catalogue, the model and the oracle.
//!
//! Exit status: 0 success, 1 a check found a problem (divergence, failed verification,
//! nothing decided), 2 bad input (malformed spec, scenario or arguments), 3 an adapter
//! failed. With `--format json` stdout always carries one JSON document, errors included.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[macro_use]
mod cli;

use cli::common::{Format, RuntimeArgs};

/// Where exceptions go in Python's async runtimes: an executable reference model and
/// conformance oracle.
///
/// The catalogue (`specs/`) lists every documented exception rule as a clause with a
/// stable id. Start with `asyncspec clauses` to see them and what covers each.
#[derive(Parser)]
#[command(name = "asyncspec", version, propagate_version = true)]
struct Cli {
    /// The catalogue folder (default: this build's `specs/` while it exists, else the
    /// catalogue built into the binary; or set ASYNCSPEC_SPECS).
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
        #[arg(long, value_name = "STATUS", value_parser = clap::builder::PossibleValuesParser::new(
            ["implemented", "unimplemented", "snapshot", "no-snapshot", "not-live", "todo"]))]
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
        #[arg(long, default_value = "cpython-3.13",
              value_parser = clap::builder::PossibleValuesParser::new(cli::common::PROFILES))]
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
    /// Case K of seed S is always the same scenario. The regressions saved under
    /// --regressions are replayed first. Every new divergence is shrunk to a minimal
    /// scenario, saved under --regressions with its seed and case, and printed with the
    /// command that replays it. Progress: a live line on a terminal, else a line on
    /// stderr every 100 cases. At the end, a recap of every failure with its replay line.
    ///
    /// Exit status: 0 clean; 1 a divergence (new or saved), or nothing decided (every
    /// case inconclusive); 2 bad input (arguments); 3 an adapter failure. With --format
    /// json stdout is always one JSON document, with "error" and "exit_code" in it.
    ///
    /// Examples:
    ///   asyncspec fuzz --impl asyncio --cases 2000 --seed 1 --jobs 2
    ///   asyncspec fuzz --python ~/.pyenv/versions/3.12.1/bin/python --format json
    ///   asyncspec fuzz --generator streams --cases 1500 --seed 1   (reads over the simulated network)
    ///   asyncspec fuzz --generator sockets --cases 1500 --seed 1   (the same, over loopback TCP)
    ///   asyncspec fuzz --impl uvloop --python VENV/bin/python --cases 1500 --seed 1
    ///   asyncspec fuzz --cases 4000 --shard 2/4 --junit fuzz.xml   (one of four CI runners)
    ///   asyncspec fuzz --cases 100000 --max-time 600 --fail-fast   (a ten-minute campaign)
    ///
    /// uvloop and rloop must be installed for --python; their traces are held to their own
    /// loop's rules, and runs those allow but asyncio's do not count as known divergences.
    #[command(verbatim_doc_comment)]
    Fuzz(cli::fuzz::FuzzArgs),
    /// Replay a saved scenario, or case K of seed S, on the model and the runtime.
    ///
    /// Exit status: 0 conforms (or a known divergence), 1 diverges or inconclusive,
    /// 2 bad input, 3 adapter failure.
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
        /// The generator that run used.
        #[arg(long, value_enum, default_value_t = cli::fuzz::GeneratorArg::Plain)]
        generator: cli::fuzz::GeneratorArg,
        /// The runtime under test.
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Check scenarios against a real runtime: each trace must be one the model allows.
    ///
    /// Runs every scenario (files, or folders of .json files) on the runtime through an
    /// adapter process, holds its trace against the model under the runtime's profile,
    /// and prints a verdict per scenario and per clause, a recap of every failure with
    /// the command that replays it, then a one-line summary.
    ///
    /// Examples:
    ///   asyncspec check --impl asyncio tests/scenarios
    ///   asyncspec check --python ~/.pyenv/versions/3.13.0/bin/python tests/scenarios/asyncio/taskgroups
    ///   asyncspec check --adapter "micropython my_adapter.py" s.json --profile cpython-3.13
    ///   asyncspec check --impl rloop --python VENV/bin/python tests/scenarios/loops
    ///   asyncspec check --delivery socket tests/scenarios/asyncio/streams   (over loopback TCP)
    ///   asyncspec check --jobs 2 --shard 1/4 --junit results.xml tests/scenarios   (one of four CI runners)
    ///   asyncspec check --clause asyncio.taskgroups --fail-fast tests/scenarios
    ///
    /// Verdicts: ok (the model allows the trace), known (the runtime's own loop rules allow
    /// it, asyncio's do not: a catalogued divergence), DIVERGES (neither: a failure),
    /// inconclusive (the model cannot decide: not a pass), ADAPTER FAILURE, BAD INPUT.
    ///
    /// Exit status: 0 every scenario run conformed (known divergences included) and at
    /// least one was decided; 1 a divergence, or nothing decided (all inconclusive), or
    /// scenarios left unrun by --fail-fast/--max-fail/--max-time; 2 bad input (arguments,
    /// a scenario; the others' results are kept); 3 an adapter failure (could not start,
    /// crashed, hung, garbage; the others' results are kept). With --format json stdout
    /// is always one JSON document, with "error" and "exit_code" in it.
    #[command(verbatim_doc_comment)]
    Check(cli::check::CheckArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    let specs_dir = cli
        .specs
        .clone()
        .unwrap_or_else(asyncspec_conformance::resources::specs_dir);
    match cli.command {
        Command::Clauses {
            format,
            chapter,
            status,
            verify,
            seeds,
        } => cli::clauses::clauses(&specs_dir, format, chapter, status, verify, &seeds),
        Command::Run {
            scenario,
            profile,
            seed,
            choices,
            format,
            clauses,
        } => cli::run::run(
            &scenario,
            &profile,
            seed.as_deref(),
            choices,
            format,
            clauses,
        ),
        Command::Fuzz(args) => cli::fuzz::fuzz_cmd(&args),
        Command::Replay {
            file,
            seed,
            case,
            generator,
            runtime,
        } => cli::replay::replay(file, seed.as_deref(), case, generator, &runtime),
        Command::Check(args) => cli::check::check(&specs_dir, &args),
    }
}

/// A command line clap refused (exit 2; help and version exit 0). Under `--format json`
/// stdout gets the JSON error document too, so a CI parser never reads an empty file.
fn argument_error(e: clap::Error) -> ExitCode {
    let code = e.exit_code();
    let _ = e.print();
    let argv: Vec<String> = std::env::args().collect();
    let json = argv
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || argv.iter().any(|a| a == "--format=json");
    if json && code != 0 {
        let command = argv.get(1).map(String::as_str).unwrap_or("");
        let message = e.render().to_string();
        let first = message
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        outln!("{}", cli::common::error_json(command, 2, first));
    }
    ExitCode::from(code.clamp(0, 255) as u8)
}
