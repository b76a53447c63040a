//! `asyncspec run`: a scenario on the model alone, its trace printed.

use super::common::*;
use std::process::ExitCode;

pub fn run(
    path: &std::path::Path,
    profile: &str,
    seed: Option<&str>,
    choices: Vec<usize>,
    format: Format,
    with_clauses: bool,
) -> ExitCode {
    let profile = match asyncspec_model::Profile::parse(profile) {
        Ok(p) => p,
        Err(e) => return fail(format, "run", EXIT_BAD_INPUT, &e),
    };
    let scenario = match asyncspec_conformance::scenarios::load(path) {
        Ok(s) => s,
        Err(e) => return fail(format, "run", EXIT_BAD_INPUT, &e),
    };
    let script = match (choices.is_empty(), seed) {
        (false, _) => choices,
        (true, Some(seed)) => match asyncspec_sim::seed::parse_seed(seed) {
            Ok(s) => asyncspec_conformance::scenarios::choice_script(s),
            Err(e) => return fail(format, "run", EXIT_BAD_INPUT, &e),
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
        Err(e) => fail(
            format,
            "run",
            EXIT_BAD_INPUT,
            &format!("{}: {e}", path.display()),
        ),
    }
}
