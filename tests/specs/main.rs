//! The catalogue loads, covers every seed, quotes its sources verbatim, and rejects
//! malformed files with the file, the line and the problem.

use asyncspec_specs::{
    load_catalogue, load_str, verify_cpython_source_quotes, verify_seed_quotes, SEEDS,
};
use asyncspec_tests::{repo_root, seeds_dir};

fn catalogue() -> asyncspec_specs::Catalogue {
    match load_catalogue(&repo_root().join("specs")) {
        Ok(c) => c,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("the catalogue does not load:\n{}", lines.join("\n"));
        }
    }
}

#[test]
fn catalogue_loads_without_problems() {
    let cat = catalogue();
    assert!(
        cat.clauses.len() >= 200,
        "only {} clauses",
        cat.clauses.len()
    );
}

#[test]
fn every_seed_document_is_cited() {
    let cat = catalogue();
    for (seed, _) in SEEDS {
        let n = cat
            .clauses
            .iter()
            .filter(|c| c.seed() == Some(seed))
            .count();
        assert!(n > 0, "no clause cites seed {seed}");
    }
}

#[test]
fn every_seed_quote_is_verbatim() {
    let cat = catalogue();
    let problems = verify_seed_quotes(&cat, &seeds_dir());
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}: {}", p.at, p.id, p.problem))
        .collect();
    assert!(problems.is_empty(), "{}", lines.join("\n"));
}

#[test]
fn every_cpython_source_quote_is_verbatim_in_that_release() {
    let cat = catalogue();
    let problems = verify_cpython_source_quotes(&cat);
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}: {}", p.at, p.id, p.problem))
        .collect();
    assert!(problems.is_empty(), "{}", lines.join("\n"));
}

#[test]
fn contradicted_clauses_name_real_clauses_that_hold_somewhere() {
    let cat = catalogue();
    for clause in cat.clauses.iter().filter(|c| !c.contradicted_by.is_empty()) {
        for other in &clause.contradicted_by {
            let o = cat.get(other).expect("validated by the loader");
            assert!(
                !o.runtimes.is_empty(),
                "{} is contradicted by {other}, which holds nowhere",
                clause.id
            );
        }
    }
}

const GOOD: &str = r#"
[[clause]]
id = "asyncio.futures.result.pending_invalid_state"
url = "https://docs.python.org/3/library/asyncio-future.html"
quote = "If the Future's result isn't yet available, this method raises a InvalidStateError exception."
api = "Future.result()"
when = "pending"
outcome = { kind = "raises", class = "asyncio.InvalidStateError" }
runtimes = ["cpython-3.11"]
"#;

const HIERARCHY: &str = r#"
builtin_classes = ["Exception"]
[[clause]]
id = "exceptions.asyncio.invalid_state_error.class"
seed = "000_6026512c3219adcd.txt"
quote = "Invalid internal state of Task or Future."
api = "asyncio.InvalidStateError"
when = "always"
outcome = { kind = "class", class = "asyncio.InvalidStateError", bases = ["Exception"] }
runtimes = ["cpython-3.11"]
"#;

fn errors_of(file: &str, text: &str) -> Vec<String> {
    match load_str(&[("exceptions.toml", HIERARCHY), (file, text)]) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn well_formed_file_loads() {
    assert_eq!(
        errors_of("asyncio/futures.toml", GOOD),
        Vec::<String>::new()
    );
}

#[test]
fn unknown_field_is_reported_with_file_and_line() {
    let text = GOOD.replace("api = ", "apy = \"x\"\napi = ");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("asyncio/futures.toml:"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("unknown field `apy`"), "{}", errors[0]);
    // The line is the bad field's own line.
    assert!(
        errors[0].starts_with("asyncio/futures.toml:6:"),
        "{}",
        errors[0]
    );
}

#[test]
fn duplicate_id_names_the_first_definition() {
    let text = format!("{GOOD}\n{GOOD}");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("asyncio/futures.toml:13:"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("duplicate id (first defined at asyncio/futures.toml:3)"),
        "{}",
        errors[0]
    );
}

#[test]
fn missing_quote_is_an_error() {
    let text = GOOD.replace("quote = \"If the Future's result isn't yet available, this method raises a InvalidStateError exception.\"\n", "");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("asyncio/futures.toml:3:"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("missing quote"), "{}", errors[0]);
}

#[test]
fn unknown_exception_class_is_an_error() {
    let text = GOOD.replace(
        "asyncio.InvalidStateError\" }",
        "asyncio.InvalidStatError\" }",
    );
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("asyncio/futures.toml:3:"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("unknown exception class \"asyncio.InvalidStatError\""),
        "{}",
        errors[0]
    );
}

#[test]
fn unknown_runtime_and_bad_chapter_prefix_are_errors() {
    let text = GOOD
        .replace("\"cpython-3.11\"", "\"cpython-2.7\"")
        .replace("id = \"asyncio.futures.", "id = \"asyncio.tasks.");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown runtime \"cpython-2.7\"")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("must start with its chapter `asyncio.futures.`")),
        "{errors:?}"
    );
}

#[test]
fn broken_toml_reports_the_line_and_other_files_still_load() {
    let errors = errors_of("asyncio/futures.toml", "[[clause]]\nid = \"unterminated\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("asyncio/futures.toml:2:"),
        "{}",
        errors[0]
    );
}

#[test]
fn unknown_outcome_kind_is_an_error() {
    let text = GOOD.replace("kind = \"raises\"", "kind = \"explodes\"");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("explodes"), "{}", errors[0]);
}

#[test]
fn both_seed_and_url_is_an_error() {
    let text = GOOD.replace("url = ", "seed = \"000_6026512c3219adcd.txt\"\nurl = ");
    let errors = errors_of("asyncio/futures.toml", &text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("both `seed` and `url`"), "{}", errors[0]);
}
