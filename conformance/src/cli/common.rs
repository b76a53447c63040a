//! What the subcommands share: printing to a pipe that may close, the runtime options,
//! the output format, loading the catalogue, and making the adapter.

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

/// How to reach the runtime under test (shared by check, fuzz and replay).
#[derive(clap::Args, Clone)]
pub struct RuntimeArgs {
    /// The runtime's event loop: asyncio, uvloop or rloop.
    #[arg(long = "impl", default_value = "asyncio")]
    pub impl_: String,
    /// The Python interpreter for the bundled adapter.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Run this adapter command instead of the bundled Python adapter.
    #[arg(long)]
    pub adapter: Option<String>,
    /// Model profile (default: from the runtime the adapter reports).
    #[arg(long)]
    pub profile: Option<String>,
    /// Deliberately alter the runtime (gather-cancels-siblings, cancel-drops-message),
    /// to prove the oracle catches it; or the adapter (loopback-never-delivers), to
    /// prove its own failure is reported as such (exit 3).
    #[arg(long)]
    pub mutate: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// For programs (CI).
    Json,
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
        ExitCode::from(2)
    })
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

pub fn adapter_spec(
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
