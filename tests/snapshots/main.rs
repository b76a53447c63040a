//! Snapshot traces: every scenario under `tests/scenarios/` run on the model under every
//! CPython profile, written in the trace's text form with clause ids.
//!
//! Each snapshot was reviewed against the rules its events cite. A profile whose trace
//! differs from the others is shown separately, so version differences stand out.
//! Update with `cargo insta review` after reading the diff against the cited clauses.

use asyncspec_model::{EventLoop, Profile, Scenario};
use asyncspec_tests::{repo_root, scenario_files};

/// Every CPython on every loop: scenarios under `loops/` show where loops differ.
fn all_loops() -> Vec<Profile> {
    Profile::ALL
        .into_iter()
        .flat_map(|p| [EventLoop::Asyncio, EventLoop::Uvloop, EventLoop::Rloop].map(|l| p.on(l)))
        .collect()
}

fn render(scenario: &Scenario, profiles: &[Profile]) -> String {
    let mut groups: Vec<(Vec<String>, String)> = Vec::new();
    for &profile in profiles {
        let text = match asyncspec_model::run(scenario, profile, &[]) {
            Ok(trace) => trace.to_text(true),
            Err(e) => format!("error: {e}\n"),
        };
        match groups.iter_mut().find(|(_, t)| *t == text) {
            Some((names, _)) => names.push(profile.name()),
            None => groups.push((vec![profile.name()], text)),
        }
    }
    let mut out = String::new();
    if !scenario.description.is_empty() {
        out.push_str(&format!("# {}\n", scenario.description));
    }
    for (names, text) in groups {
        out.push_str(&format!("== {}\n{text}", names.join(", ")));
    }
    out
}

#[test]
fn scenario_traces_match_reviewed_snapshots() {
    let root = repo_root().join("tests/scenarios");
    let files = scenario_files(&root);
    assert!(!files.is_empty(), "no scenarios under {}", root.display());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("traces");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for file in files {
            let text = std::fs::read_to_string(&file).expect("scenario is readable");
            let scenario =
                Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let rel = file.strip_prefix(&root).expect("under the root");
            let name = rel
                .with_extension("")
                .to_string_lossy()
                .replace(['/', '\\'], "__");
            let profiles = if rel.starts_with("loops") {
                all_loops()
            } else {
                Profile::ALL.to_vec()
            };
            insta::assert_snapshot!(name, render(&scenario, &profiles));
        }
    });
}

#[test]
fn same_scenario_same_trace_hash() {
    let root = repo_root().join("tests/scenarios");
    for file in scenario_files(&root) {
        let text = std::fs::read_to_string(&file).expect("readable");
        let scenario = Scenario::from_json(&text).expect("valid");
        for profile in all_loops() {
            let a = asyncspec_model::run(&scenario, profile, &[]).expect("runs");
            let b = asyncspec_model::run(&scenario, profile, &[]).expect("runs");
            assert_eq!(
                a.hash64(),
                b.hash64(),
                "{} under {profile} is not deterministic",
                file.display()
            );
        }
    }
}
