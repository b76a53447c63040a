//! The binary as CI runs it (issue 17): replay lines that reproduce the run, live
//! coverage only when asked, JSON that always comes, exit codes, bounded reports,
//! JUnit XML valid against a schema, shards whose union is the whole run, stopping
//! early, filters, saved regressions replayed first, the progress line and the recap.
//! Runs the bundled adapter on `python3`.

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

/// Every `replay: ...` line in `out` (the first command of each, before `   (or: `).
fn replay_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.trim_start().strip_prefix("replay: "))
        .map(|l| l.to_string())
        .collect()
}

/// Run a printed command line through the shell, with `asyncspec` meaning this build.
fn run_printed(line: &str) -> (Option<i32>, String) {
    let line = line
        .strip_prefix("asyncspec ")
        .expect("starts with asyncspec");
    let out = run_bounded(
        Command::new("sh").args(["-c", &format!("\"$0\" {line}"), binary()]),
        Duration::from_secs(300),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_printed_check_replay_line_reproduces_a_mutated_run() {
    // Before: the line left out --mutate (and --profile, --adapter, --delivery), so run
    // as printed it checked the real runtime and said ok.
    let scenario = bundled("asyncio/cancellation/cancel_sleeping_task.json");
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--mutate",
            "cancel-drops-message",
            "--profile",
            "cpython-3.11",
            "--adapter-timeout",
            "30",
            &scenario,
        ],
        120,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let lines = replay_lines(&out);
    assert!(!lines.is_empty(), "{out}");
    for line in &lines {
        assert!(line.contains("--mutate cancel-drops-message"), "{line}");
        assert!(line.contains("--profile cpython-3.11"), "{line}");
        assert!(line.contains("--adapter-timeout 30"), "{line}");
        let (code, again) = run_printed(line);
        assert_eq!(code, Some(1), "{line}: {again}");
        assert!(again.contains("DIVERGES"), "{again}");
        assert!(again.contains("CancelledError()"), "{again}");
    }
}

#[test]
fn the_printed_check_replay_line_keeps_the_adapter_command_and_delivery() {
    let dir = scratch("replay-adapter");
    // A wrapper around the bundled adapter, with the mutation applied by the wrapper's
    // arguments: the replay must go through the same command.
    let adapter_dir = format!("{}/adapters/python", env!("CARGO_MANIFEST_DIR"));
    // (--adapter is split on whitespace, so its path has none.)
    let plain = dir.join("adapter.sh");
    std::fs::write(
        &plain,
        format!("#!/bin/sh\nPYTHONPATH='{adapter_dir}' exec python3 -m asyncspec_adapter --mutate cancel-drops-message\n"),
    )
    .unwrap();
    let adapter = format!("sh {}", plain.display());
    let scenario = bundled("asyncio/cancellation/cancel_sleeping_task.json");
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--adapter",
            &adapter,
            "--delivery",
            "memory",
            &scenario,
        ],
        120,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let lines = replay_lines(&out);
    assert!(!lines.is_empty(), "{out}");
    for line in &lines {
        assert!(line.contains(&format!("--adapter '{adapter}'")), "{line}");
        assert!(line.contains("--delivery memory"), "{line}");
        let (code, again) = run_printed(line);
        assert_eq!(code, Some(1), "{line}: {again}");
    }
}

#[test]
fn the_printed_fuzz_replay_lines_reproduce_the_divergence() {
    let dir = scratch("replay-fuzz");
    let (code, out, err) = asyncspec(
        &[
            "fuzz",
            "--mutate",
            "cancel-drops-message",
            "--generator",
            "bound",
            "--cases",
            "400",
            "--seed",
            "1",
            "--jobs",
            "2",
            "--fail-fast",
            "--regressions",
            dir.to_str().unwrap(),
        ],
        600,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let line = out
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay: asyncspec replay "))
        .expect("a replay line")
        .to_string();
    let (file_form, seed_form) = line.split_once("   (or: ").expect("two forms");
    let seed_form = seed_form.trim_end_matches(')');
    for form in [
        format!("asyncspec replay {file_form}"),
        seed_form.to_string(),
    ] {
        assert!(form.contains("--mutate cancel-drops-message"), "{form}");
        let (code, again) = run_printed(&form);
        assert_eq!(code, Some(1), "{form}: {again}");
    }
    // The recap lists it too.
    let recap = out.split("failures (").nth(1).expect("a recap");
    assert!(
        recap.contains(&format!("replay: asyncspec replay {file_form}")),
        "{out}"
    );
}

#[test]
fn live_coverage_is_written_only_when_asked_and_never_for_a_mutated_runtime() {
    // Before: every check run rewrote the record; one mutation run dropped "live on
    // every runtime" from 214 clauses to 197.
    let dir = scratch("live");
    let live = dir.join("live");
    let scenario = bundled("asyncio/cancellation/cancel_sleeping_task.json");
    let run = |args: &[&str]| {
        let out = run_bounded(
            Command::new(binary())
                .args(args)
                .env("ASYNCSPEC_LIVE_DIR", &live),
            Duration::from_secs(120),
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _) = run(&["check", &scenario]);
    assert_eq!(code, Some(0));
    assert!(!live.exists(), "an ad-hoc run wrote live coverage");
    let (code, _) = run(&["check", "--mutate", "cancel-drops-message", &scenario]);
    assert_eq!(code, Some(1));
    assert!(!live.exists());
    let (code, err) = run(&[
        "check",
        "--record-live",
        "--mutate",
        "cancel-drops-message",
        &scenario,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("deliberately altered"), "{err}");
    assert!(!live.exists());
    let (code, err) = run(&[
        "check",
        "--record-live",
        "--profile",
        "cpython-3.13",
        &scenario,
    ]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&["check", "--record-live", &scenario]);
    assert_eq!(code, Some(0), "{err}");
    // Keyed by the runtime the adapter reported (python3 is CPython 3.11 here).
    let files: Vec<String> = std::fs::read_dir(&live)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let version = String::from_utf8(
        Command::new("python3")
            .args([
                "-c",
                "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(files, vec![format!("cpython-{}.json", version.trim())]);
}

#[test]
fn json_always_comes_with_the_error_in_it() {
    // Before: nothing on stdout for bad input or an adapter that cannot start.
    let (code, out, _) = asyncspec(&["check", "--format", "json", "/no/such/scenario.json"], 60);
    assert_eq!(code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("/no/such/scenario.json"),
        "{v}"
    );
    assert_eq!(v["exit_code"], 2);

    let scenario = bundled("asyncio/tasks/await_reraises.json");
    let (code, out, _) = asyncspec(
        &[
            "check",
            "--format",
            "json",
            "--adapter",
            "/no/such/adapter",
            &scenario,
        ],
        60,
    );
    assert_eq!(code, Some(3));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert!(
        v["error"].as_str().unwrap().contains("/no/such/adapter"),
        "{v}"
    );

    let (code, out, _) = asyncspec(&["fuzz", "--format", "json", "--impl", "bogus"], 60);
    assert_eq!(code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert!(v["error"].as_str().unwrap().contains("bogus"), "{v}");

    let (code, out, _) = asyncspec(
        &[
            "fuzz",
            "--format",
            "json",
            "--python",
            "/no/such/python",
            "--cases",
            "3",
        ],
        60,
    );
    assert_eq!(code, Some(3));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert!(
        v["error"].as_str().unwrap().contains("/no/such/python"),
        "{v}"
    );
}

#[test]
fn summaries_count_bad_inputs_and_keep_the_other_results() {
    let dir = scratch("bad-input");
    let bad = dir.join("broken.json");
    std::fs::write(&bad, "{\"main\": [{\"op\": \"sleep\"}]}").unwrap();
    let good = bundled("asyncio/tasks/await_reraises.json");
    let (code, out, _) = asyncspec(
        &["check", "--format", "json", bad.to_str().unwrap(), &good],
        120,
    );
    assert_eq!(code, Some(2), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bad_inputs"], 1, "{v}");
    assert_eq!(v["conforming"], 1, "{v}");
    let (_, text, _) = asyncspec(&["check", bad.to_str().unwrap(), &good], 120);
    assert!(text.contains("1 bad inputs"), "{text}");
    assert!(text.contains("broken.json"), "{text}");
}

#[test]
fn arguments_that_cannot_work_are_refused_with_exit_2_and_choices_are_listed() {
    for args in [
        &["check", "--impl", "bogus", "x.json"][..],
        &["fuzz", "--jobs", "0"],
        &["fuzz", "--cases", "0"],
        &["check", "--jobs", "0", "x.json"],
        &["check", "--shard", "3/2", "x.json"],
        &["fuzz", "--generator", "bogus"],
        &["check", "--profile", "cpython-2.7", "x.json"],
        &["check", "--delivery", "pigeon", "x.json"],
        &["fuzz", "--adapter-timeout", "0"],
    ] {
        let (code, out, err) = asyncspec(args, 30);
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
    }
    let (_, help, _) = asyncspec(&["fuzz", "--help"], 30);
    for listed in [
        "asyncio:",
        "uvloop:",
        "rloop:",
        "plain:",
        "bound:",
        "streams:",
        "sockets:",
        "cpython-3.12+uvloop",
        "cancel-drops-message",
    ] {
        assert!(help.contains(listed), "fuzz --help lacks {listed}");
    }
    let (_, help, _) = asyncspec(&["check", "--help"], 30);
    for listed in [
        "memory:",
        "socket:",
        "cpython-3.13+rloop",
        "Exit status: 0",
        "--junit",
        "--shard",
    ] {
        assert!(help.contains(listed), "check --help lacks {listed}");
    }
}

#[test]
fn a_long_divergence_prints_a_bounded_report_and_the_whole_one_on_request() {
    // Before: a divergence early in a 100,000-event trace printed both traces whole.
    let dir = scratch("bounded-report");
    let mut main = vec![
        json!({"op": "create_task", "coro": "sleeper", "var": "t"}),
        json!({"op": "sleep", "delay": 1}),
        json!({"op": "cancel", "target": "t", "msg": "stop"}),
        json!({"op": "try", "body": [{"op": "await", "target": {"var": "t"}}],
               "handlers": [{"class": "asyncio.CancelledError", "body": []}]}),
    ];
    main.extend((0..100_000).map(|i| json!({"op": "mark", "label": format!("m{i}")})));
    let path = write_scenario(
        &dir,
        "long",
        json!({"main": main, "coroutines": {"sleeper": [{"op": "sleep", "delay": 10}]},
               "limits": {"steps_max": 1_000_000}}),
    );
    let reports = dir.join("reports");
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--mutate",
            "cancel-drops-message",
            "--report-dir",
            reports.to_str().unwrap(),
            "--adapter-timeout",
            "120",
            &path,
        ],
        300,
    );
    assert_eq!(code, Some(1), "{}{err}", &out[..out.len().min(2000)]);
    assert!(out.len() < 20_000, "the report is {} bytes", out.len());
    assert!(out.contains("more model events"), "{out}");
    let whole: Vec<_> = std::fs::read_dir(&reports).unwrap().collect();
    assert_eq!(whole.len(), 1);
    let text = std::fs::read_to_string(whole[0].as_ref().unwrap().path()).unwrap();
    assert!(
        text.lines().count() > 100_000,
        "{} lines",
        text.lines().count()
    );
    let (_, json_out, _) = asyncspec(
        &[
            "check",
            "--format",
            "json",
            "--mutate",
            "cancel-drops-message",
            "--adapter-timeout",
            "120",
            &path,
        ],
        300,
    );
    assert!(
        json_out.len() < 60_000,
        "the JSON is {} bytes",
        json_out.len()
    );
}

/// Validate a JUnit file against the schema in tests/data with xmllint.
fn assert_valid_junit(path: &std::path::Path) {
    let schema = format!("{}/tests/data/junit.xsd", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", &schema])
        .arg(path)
        .output()
        .expect("xmllint (Debian package libxml2-utils; .ci/run installs it) validates JUnit XML");
    assert!(
        out.status.success(),
        "{} is not valid JUnit XML: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `<testcase name=...>`s of a JUnit file, each with its outcome element (or "pass").
fn junit_cases(path: &std::path::Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeSet::new();
    for chunk in text.split("<testcase ").skip(1) {
        let name = chunk
            .split_once("name=\"")
            .and_then(|(_, r)| r.split_once('"'))
            .map(|(n, _)| n.to_string())
            .unwrap();
        let kind = ["<failure", "<error", "<skipped"]
            .iter()
            .find(|k| chunk.split("</testcase>").next().unwrap().contains(*k))
            .map(|k| k.trim_start_matches('<').to_string())
            .unwrap_or_else(|| "pass".into());
        out.insert((name, kind));
    }
    out
}

#[test]
fn junit_from_check_is_valid_and_has_a_case_per_scenario_with_the_report_as_failure() {
    let dir = scratch("junit-check");
    let junit = dir.join("check.xml");
    let ok = bundled("asyncio/tasks/await_reraises.json");
    let broken = bundled("asyncio/cancellation/cancel_sleeping_task.json");
    let bad = dir.join("bad <&>.json");
    std::fs::write(&bad, "not json").unwrap();
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--mutate",
            "cancel-drops-message",
            "--junit",
            junit.to_str().unwrap(),
            &ok,
            &broken,
            bad.to_str().unwrap(),
        ],
        120,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert_valid_junit(&junit);
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 3, "{cases:?}");
    assert!(cases.contains(&(ok.clone(), "pass".into())), "{cases:?}");
    assert!(
        cases.contains(&(broken.clone(), "failure".into())),
        "{cases:?}"
    );
    let text = std::fs::read_to_string(&junit).unwrap();
    assert!(
        text.contains("first difference at observable event"),
        "{text}"
    );
    assert!(text.contains("replay: asyncspec check"), "{text}");
    assert!(text.contains("bad &lt;&amp;&gt;.json"), "{text}");
}

#[test]
fn junit_from_fuzz_is_valid_with_a_case_per_fuzz_case() {
    let dir = scratch("junit-fuzz");
    let junit = dir.join("fuzz.xml");
    let (code, out, err) = asyncspec(
        &[
            "fuzz",
            "--cases",
            "30",
            "--seed",
            "3",
            "--jobs",
            "2",
            "--regressions",
            dir.join("regressions").to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        300,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_valid_junit(&junit);
    assert_eq!(junit_cases(&junit).len(), 30);
}

#[test]
fn check_shards_are_disjoint_and_their_union_is_the_unsharded_run() {
    let dir = scratch("shard-check");
    let folder = bundled("asyncio/tasks");
    let whole = dir.join("whole.xml");
    let (code, _, err) = asyncspec(&["check", "--junit", whole.to_str().unwrap(), &folder], 300);
    assert_eq!(code, Some(0), "{err}");
    let mut union = BTreeSet::new();
    let mut total = 0;
    for k in 1..=3 {
        let part = dir.join(format!("part{k}.xml"));
        let shard = format!("{k}/3");
        let (code, _, err) = asyncspec(
            &[
                "check",
                "--shard",
                &shard,
                "--jobs",
                "2",
                "--junit",
                part.to_str().unwrap(),
                &folder,
            ],
            300,
        );
        assert_eq!(code, Some(0), "{err}");
        let cases = junit_cases(&part);
        assert!(!cases.is_empty());
        total += cases.len();
        union.extend(cases);
    }
    assert_eq!(total, union.len(), "shards overlap");
    assert_eq!(union, junit_cases(&whole));
}

#[test]
fn fuzz_shards_are_disjoint_and_their_union_is_the_unsharded_campaign() {
    let dir = scratch("shard-fuzz");
    let run = |shard: Option<&str>, name: &str| {
        let junit = dir.join(name);
        let regressions = dir.join("regressions");
        let mut args = vec![
            "fuzz",
            "--cases",
            "24",
            "--seed",
            "5",
            "--jobs",
            "2",
            "--regressions",
            regressions.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let (code, out, err) = asyncspec(&args.iter().map(|s| &**s).collect::<Vec<_>>(), 300);
        assert_eq!(code, Some(0), "{out}{err}");
        junit_cases(&junit)
    };
    let whole = run(None, "whole.xml");
    assert_eq!(whole.len(), 24);
    let parts: Vec<_> = ["1/3", "2/3", "3/3"]
        .iter()
        .enumerate()
        .map(|(i, s)| run(Some(s), &format!("part{i}.xml")))
        .collect();
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let union: BTreeSet<_> = parts.into_iter().flatten().collect();
    assert_eq!(total, union.len(), "shards overlap");
    assert_eq!(union, whole);
}

#[test]
fn fail_fast_stops_at_the_first_failure_and_the_rest_are_not_run() {
    let scenarios = [
        bundled("asyncio/cancellation/cancel_sleeping_task.json"),
        bundled("asyncio/tasks/await_reraises.json"),
        bundled("asyncio/tasks/nested_coroutines.json"),
    ];
    let mut args = vec![
        "check",
        "--mutate",
        "cancel-drops-message",
        "--fail-fast",
        "--format",
        "json",
    ];
    args.extend(scenarios.iter().map(String::as_str));
    let (code, out, _) = asyncspec(&args, 120);
    assert_eq!(code, Some(1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["divergences"], 1, "{v}");
    assert_eq!(v["not_run"].as_array().unwrap().len(), 2, "{v}");
}

#[test]
fn max_time_leaves_scenarios_unrun_and_the_run_does_not_pass() {
    let dir = scratch("max-time");
    // A fake adapter that takes 1.5 s per scenario and then reports an empty trace.
    let script = dir.join("slow.py");
    std::fs::write(
        &script,
        r#"
import json, sys, time
print(json.dumps({"hello": {"protocol": 1, "adapter": "slow", "runtime": "cpython-3.11.7 asyncio"}}), flush=True)
for line in sys.stdin:
    time.sleep(1.5)
    print(json.dumps({"id": json.loads(line)["id"], "done": {"elapsed_s": 1.5}}), flush=True)
"#,
    )
    .unwrap();
    let adapter = format!("python3 {}", script.display());
    let folder = bundled("asyncio/tasks");
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--adapter",
            &adapter,
            "--max-time",
            "1",
            "--format",
            "json",
            &folder,
        ],
        120,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["not_run"].as_array().unwrap().len() >= 8, "{v}");
}

#[test]
fn the_adapter_timeout_is_configurable() {
    let dir = scratch("adapter-timeout");
    let script = dir.join("hang.py");
    std::fs::write(
        &script,
        r#"
import json, sys, time
print(json.dumps({"hello": {"protocol": 1, "adapter": "hang", "runtime": "cpython-3.11.7 asyncio"}}), flush=True)
for line in sys.stdin:
    time.sleep(100)
"#,
    )
    .unwrap();
    let adapter = format!("python3 {}", script.display());
    let scenario = bundled("asyncio/tasks/await_reraises.json");
    let started = std::time::Instant::now();
    let (code, out, _) = asyncspec(
        &[
            "check",
            "--adapter",
            &adapter,
            "--adapter-timeout",
            "2",
            &scenario,
        ],
        60,
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("no closing record within 2s"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn filters_by_name_and_by_clause_pick_the_scenarios() {
    let folder = bundled("asyncio");
    let (code, out, _) = asyncspec(
        &[
            "check",
            "--filter",
            "await_reraises",
            "--format",
            "json",
            &folder,
        ],
        120,
    );
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cases"], 1, "{v}");
    let (code, out, _) = asyncspec(
        &[
            "check",
            "--clause",
            "asyncio.taskgroups",
            "--format",
            "json",
            "--jobs",
            "2",
            &folder,
        ],
        300,
    );
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = v["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{v}");
    for r in results {
        assert!(
            r["clauses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().starts_with("asyncio.taskgroups.")),
            "{r}"
        );
    }
}

#[test]
fn fuzz_replays_the_saved_regressions_before_new_cases() {
    let dir = scratch("saved-first");
    let regressions = dir.join("regressions");
    std::fs::create_dir_all(&regressions).unwrap();
    std::fs::copy(
        bundled("asyncio/cancellation/cancel_sleeping_task.json"),
        regressions.join("fuzz-9-1.json"),
    )
    .unwrap();
    let (code, out, err) = asyncspec(
        &[
            "fuzz",
            "--mutate",
            "cancel-drops-message",
            "--cases",
            "2",
            "--seed",
            "1",
            "--regressions",
            regressions.to_str().unwrap(),
        ],
        300,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let first = out.lines().next().unwrap_or("");
    assert!(first.starts_with("saved DIVERGES"), "{out}");
    assert!(
        out.contains("1 saved regressions replayed (1 failing)"),
        "{out}"
    );
    // And without the mutation the saved one conforms.
    let (code, out, err) = asyncspec(
        &[
            "fuzz",
            "--cases",
            "2",
            "--seed",
            "1",
            "--regressions",
            regressions.to_str().unwrap(),
        ],
        300,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("saved ok"), "{out}");
}

/// Run under a pseudo-terminal (util-linux `script`): what a person sees.
fn on_a_terminal(command: &str, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", command, "/dev/null"]);
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = run_bounded(&mut cmd, Duration::from_secs(120));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_gets_a_live_progress_line_colour_unless_no_color_and_a_recap() {
    let folder = bundled("asyncio/cancellation");
    let command = format!("{} check --mutate cancel-drops-message {folder}", binary());
    let seen = on_a_terminal(&command, false);
    assert!(seen.contains("\r\x1b[2K"), "no live line: {seen:?}");
    assert!(seen.contains(" scenarios, "), "{seen:?}");
    assert!(seen.contains("failing, "), "{seen:?}");
    assert!(seen.contains("\x1b[1;31mDIVERGES"), "no colour: {seen:?}");
    assert!(seen.contains("failures ("), "no recap: {seen:?}");
    let plain = on_a_terminal(&command, true);
    assert!(
        !plain.contains("\x1b[1;31m") && !plain.contains("\x1b[32m"),
        "NO_COLOR ignored"
    );
    // Not a terminal: no live line, no colour.
    let (_, piped, err) = asyncspec(&["check", "--mutate", "cancel-drops-message", &folder], 120);
    assert!(
        !piped.contains('\x1b') && !err.contains('\x1b'),
        "{piped}{err}"
    );
    assert!(piped.contains("failures ("), "{piped}");
}

#[test]
fn an_installed_binary_finds_its_catalogue_and_adapter_without_its_source_tree() {
    // Before: the binary found both only under the source tree it was built in.
    let dir = scratch("installed");
    let bin = dir.join("prefix/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let installed = bin.join("asyncspec");
    std::fs::copy(binary(), &installed).unwrap();
    let run = |args: &[&str], extra: &[(&str, &str)]| {
        let mut cmd = Command::new(&installed);
        cmd.args(args)
            .current_dir(&dir)
            .env("ASYNCSPEC_DATA", "embedded")
            .env("ASYNCSPEC_CACHE", dir.join("cache"))
            .env_remove("ASYNCSPEC_SPECS")
            .env_remove("ASYNCSPEC_ADAPTER_DIR");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = run_bounded(&mut cmd, Duration::from_secs(120));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let scenario = bundled("asyncio/tasks/await_reraises.json");
    let (code, out, err) = run(&["check", &scenario], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&["clauses", "--format", "json"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(list.as_array().unwrap().len() >= 200);
    // The overrides win.
    let (code, out, err) = run(
        &["check", &scenario],
        &[("ASYNCSPEC_ADAPTER_DIR", "/no/such/dir")],
    );
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(
        err.contains("No module named asyncspec_adapter"),
        "{out}{err}"
    );
}
