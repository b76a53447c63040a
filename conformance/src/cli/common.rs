//! What the subcommands share: printing to a pipe that may close, the runtime options
//! (and the command line that reproduces them), the output format, errors that reach a
//! JSON reader too, sharding, loading the catalogue, and making the adapter.

use clap::ValueEnum;
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

/// Exit status: everything checked conformed (known divergences included).
pub const EXIT_OK: u8 = 0;
/// Exit status: a divergence, a failed verification, or nothing decided.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad input (arguments, a scenario, the catalogue).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status: the adapter failed (could not start, crashed, hung, garbage).
pub const EXIT_ADAPTER: u8 = 3;
/// Exit status: the model itself broke on a scenario (a bug in asyncspec, never a
/// verdict on the runtime); every other result is kept.
pub const EXIT_INTERNAL: u8 = 4;

/// The event loops the bundled adapter runs.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Impl {
    /// CPython's own asyncio (SelectorEventLoop).
    Asyncio,
    /// uvloop (must be installed for --python).
    Uvloop,
    /// rloop (must be installed for --python).
    Rloop,
}

impl Impl {
    /// Its word on the command line and for the adapter.
    pub fn word(self) -> &'static str {
        match self {
            Impl::Asyncio => "asyncio",
            Impl::Uvloop => "uvloop",
            Impl::Rloop => "rloop",
        }
    }
}

/// Every model profile name `--profile` takes.
pub const PROFILES: [&str; 9] = [
    "cpython-3.11",
    "cpython-3.12",
    "cpython-3.13",
    "cpython-3.11+uvloop",
    "cpython-3.12+uvloop",
    "cpython-3.13+uvloop",
    "cpython-3.11+rloop",
    "cpython-3.12+rloop",
    "cpython-3.13+rloop",
];

/// The bundled adapter's deliberate alterations (`--mutate`).
pub const MUTATIONS: [&str; 3] = [
    "gather-cancels-siblings",
    "cancel-drops-message",
    "loopback-never-delivers",
];

/// Default seconds a scenario may take on the adapter before it counts as hung.
pub const ADAPTER_TIMEOUT_SECS: u64 = 20;

/// How to reach the runtime under test (shared by check, fuzz and replay).
#[derive(clap::Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// The runtime's event loop.
    #[arg(long = "impl", value_enum, default_value_t = Impl::Asyncio)]
    pub impl_: Impl,
    /// The Python interpreter for the bundled adapter.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Run this adapter command instead of the bundled Python adapter (split on
    /// whitespace; see the adapter protocol in docs/DESIGN.md).
    #[arg(long)]
    pub adapter: Option<String>,
    /// Model profile (default: from the runtime the adapter reports).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(PROFILES))]
    pub profile: Option<String>,
    /// Deliberately alter the runtime (gather-cancels-siblings, cancel-drops-message),
    /// to prove the oracle catches it; or the adapter (loopback-never-delivers), to
    /// prove its own failure is reported as such (exit 3).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(MUTATIONS))]
    pub mutate: Option<String>,
    /// Seconds one scenario may take on the adapter before it counts as hung (its
    /// process group is then killed and a fresh adapter started).
    #[arg(long, value_name = "SECS", default_value_t = ADAPTER_TIMEOUT_SECS,
          value_parser = positive)]
    pub adapter_timeout: u64,
}

impl RuntimeArgs {
    /// The adapter these options describe.
    pub fn spec(&self) -> asyncspec_conformance::adapter::AdapterSpec {
        let spec = match &self.adapter {
            Some(cmd) => asyncspec_conformance::adapter::AdapterSpec::command(cmd),
            None => {
                asyncspec_conformance::adapter::AdapterSpec::python(&self.python, self.impl_.word())
            }
        };
        let mut spec = match &self.mutate {
            Some(m) => spec.mutated(m),
            None => spec,
        };
        spec.scenario_timeout = std::time::Duration::from_secs(self.adapter_timeout);
        spec
    }

    /// The model profile asked for, if any.
    pub fn profile(&self) -> Option<asyncspec_model::Profile> {
        // The parser admits only names from PROFILES, each a valid profile (tested).
        self.profile
            .as_deref()
            .and_then(|p| asyncspec_model::Profile::parse(p).ok())
    }

    /// The options that reproduce this runtime, as command-line words.
    pub fn replay_words(&self) -> Vec<String> {
        let mut w = Vec::new();
        match &self.adapter {
            Some(cmd) => w.extend(["--adapter".to_string(), cmd.clone()]),
            None => w.extend([
                "--impl".to_string(),
                self.impl_.word().to_string(),
                "--python".to_string(),
                self.python.clone(),
            ]),
        }
        if let Some(p) = &self.profile {
            w.extend(["--profile".to_string(), p.clone()]);
        }
        if let Some(m) = &self.mutate {
            w.extend(["--mutate".to_string(), m.clone()]);
        }
        if self.adapter_timeout != ADAPTER_TIMEOUT_SECS {
            w.extend([
                "--adapter-timeout".to_string(),
                self.adapter_timeout.to_string(),
            ]);
        }
        w
    }
}

/// A count or a number of seconds: a whole number, at least 1 (0 would mean a run
/// that checks nothing, or never waits).
pub fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// Quote a word for a POSIX shell (only when it needs it).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command line a shell runs as these words.
pub fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// For programs (CI): always one JSON document on stdout, errors included.
    Json,
}

/// Stop with `code`: the message goes to stderr and, for `--format json`, a JSON
/// document with the error goes to stdout, so a CI parser never reads an empty file.
pub fn fail(format: Format, command: &str, code: u8, message: &str) -> ExitCode {
    eprintln!("asyncspec {command}: {message}");
    if format == Format::Json {
        outln!("{}", error_json(command, code, message));
    }
    ExitCode::from(code)
}

/// The JSON document for an error.
pub fn error_json(command: &str, code: u8, message: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "command": command,
        "error": message,
        "exit_code": code,
    }))
    .unwrap_or_default()
}

/// One runner's part of a run split across N runners (`--shard K/N`): the cases whose
/// index is K-1 modulo N. The shards of 1..N are disjoint and together are the whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub k: u64,
    /// How many shards.
    pub n: u64,
}

impl Shard {
    /// Does case `index` (0-based) belong to this shard?
    pub fn keeps(self, index: u64) -> bool {
        index % self.n == self.k - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Parse `K/N` (1 <= K <= N).
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?} is not K/N (say 2/4: the second of four shards)"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("{k:?} is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 <= K <= N"));
    }
    Ok(Shard { k, n })
}

pub fn load(specs_dir: &std::path::Path) -> Result<asyncspec_specs::Catalogue, ExitCode> {
    asyncspec_specs::load_catalogue(specs_dir).map_err(|errors| {
        for e in &errors {
            eprintln!("{}/{e}", specs_dir.display());
        }
        eprintln!(
            "asyncspec: {} problem(s) in the catalogue at {}",
            errors.len(),
            specs_dir.display()
        );
        ExitCode::from(EXIT_BAD_INPUT)
    })
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_choice_is_a_model_profile() {
        for p in PROFILES {
            assert_eq!(
                asyncspec_model::Profile::parse(p).map(|p| p.name()),
                Ok(p.to_string())
            );
        }
    }

    #[test]
    fn shards_are_disjoint_and_cover_every_case() {
        let n = 3;
        for case in 0..20u64 {
            let owners = (1..=n).filter(|&k| Shard { k, n }.keeps(case)).count();
            assert_eq!(owners, 1, "case {case}");
        }
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("2").is_err());
        assert_eq!(parse_shard("2/3"), Ok(Shard { k: 2, n: 3 }));
    }

    #[test]
    fn quoted_words_survive_a_shell() {
        assert_eq!(shell_quote("python3"), "python3");
        assert_eq!(shell_quote("sh my adapter"), "'sh my adapter'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
