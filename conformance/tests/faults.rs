//! Faults that made the oracle lie or hang (issue 17), each held here: a scenario that
//! damages the adapter process, loops that never end, super-linear model runs, the
//! adapter's own recursion. Runs the real runtime (`python3`) through the bundled
//! adapter; every run is time-bounded, so a regression fails instead of hanging.

mod common;

use common::*;
use serde_json::json;

/// A coroutine that creates a task of itself and awaits it: each task waits on the
/// next, until the step limit stops the run with thousands of them chained.
fn self_spawning() -> serde_json::Value {
    json!({
        "main": [{"op": "await", "target": {"coro": "c"}}],
        "coroutines": {"c": [
            {"op": "create_task", "coro": "c", "var": "t"},
            {"op": "await", "target": {"var": "t"}}
        ]}
    })
}

#[test]
fn a_run_stopped_at_the_step_limit_does_not_poison_the_scenarios_after_it() {
    // Before: the chain the stopped run left recursed at every later collection, and
    // each later scenario on that adapter process reported RecursionError (diverging).
    let dir = scratch("poison");
    let first = bundled("asyncio/tasks/await_reraises.json");
    let poison = write_scenario(&dir, "b_self_spawning", self_spawning());
    let later: Vec<String> = [
        "asyncio/tasks/nested_coroutines.json",
        "asyncio/tasks/task_result_states.json",
        "asyncio/tasks/base_exception_stored.json",
        "asyncio/tasks/try_else_and_return_in_finally.json",
    ]
    .iter()
    .map(|s| bundled(s))
    .collect();
    let mut args = vec!["check", first.as_str(), poison.as_str()];
    args.extend(later.iter().map(String::as_str));
    let (code, out, err) = asyncspec(&args, 120);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("inconclusive (steps_max"), "{out}");
    assert!(!out.contains("DIVERGES"), "{out}");
    assert!(!out.contains("RecursionError"), "{out}");
    assert!(out.contains("5 conforming"), "{out}");
}

/// `asyncio.sleep(1e8)` with the horizon at 1e9 s: at 1e8 `now + 1e-9 == now`, so the
/// timer is never popped and asyncio's loop turns with nothing to run.
fn unreachable_timer() -> serde_json::Value {
    json!({"main": [{"op": "sleep", "delay": 1e8}], "limits": {"horizon_secs": 1e9}})
}

#[test]
fn a_timer_the_float_clock_cannot_reach_ends_the_model_run_at_a_limit() {
    let dir = scratch("unreachable-timer-model");
    let path = write_scenario(&dir, "sleep_1e8", unreachable_timer());
    for profile in [
        "cpython-3.11",
        "cpython-3.13",
        "cpython-3.12+uvloop",
        "cpython-3.12+rloop",
    ] {
        let (code, out, err) = asyncspec(&["run", &path, "--profile", profile], 60);
        assert_eq!(code, Some(0), "{profile}: {err}");
        assert!(
            out.contains("asyncio.run()") || out.contains("limit: "),
            "{profile}: {out}"
        );
        if !profile.contains('+') {
            assert!(
                out.contains("limit: steps_max 100000 reached: as many loop turns ran no callback"),
                "{profile}: {out}"
            );
        }
    }
}

#[test]
fn a_timer_the_float_clock_cannot_reach_is_inconclusive_live_not_an_adapter_hang() {
    // Before: the model never returned; the adapter turned its loop for ever and was
    // killed after 20 s as hung.
    let dir = scratch("unreachable-timer-live");
    let path = write_scenario(&dir, "sleep_1e8", unreachable_timer());
    let (code, out, err) = asyncspec(&["check", &path], 60);
    assert!(
        out.contains("inconclusive (steps_max 100000 reached"),
        "{out}{err}"
    );
    assert!(!out.contains("ADAPTER FAILURE"), "{out}");
    // Nothing was decided: the run does not pass.
    assert_eq!(code, Some(1), "{out}{err}");
}

#[test]
fn a_hundred_thousand_pending_tasks_run_in_linear_time() {
    // Every task is still sleeping when main returns, so shutdown cancels and gathers
    // them all. Before: pending citations were scanned on every event, the gather
    // copied its children on every child's callback, and the shutdown's set order
    // removed from the front of a Vec: 232 s in a release build (2.7 s after).
    let dir = scratch("many-tasks");
    let n = 100_000;
    let mut main: Vec<serde_json::Value> = (0..n)
        .map(|_| json!({"op": "create_task", "coro": "c"}))
        .collect();
    main.push(json!({"op": "sleep", "delay": 1}));
    let path = write_scenario(
        &dir,
        "pending_100k",
        json!({
            "main": main,
            "coroutines": {"c": [{"op": "sleep", "delay": 10}]},
            "limits": {"steps_max": 10_000_000}
        }),
    );
    let (code, out, err) = asyncspec(&["run", &path, "--profile", "cpython-3.12"], 120);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.trim_end().ends_with("asyncio.run() -> None"),
        "{}",
        &out[out.len().saturating_sub(500)..]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_await_chain_as_deep_as_plain_cpython_goes_conforms() {
    // Before: the adapter's interpreter nests four Python frames per `await coro()`, so
    // a chain 250 deep failed with the adapter's own RecursionError (plain CPython
    // manages 900, cancellation thrown through the whole chain included).
    let dir = scratch("await-chain");
    let plain = write_scenario(
        &dir,
        "chain_250",
        json!({
            "main": [{"op": "await", "target": {"coro": "c0"}}],
            "coroutines": await_chain(250, json!([{"op": "return", "value": 1}]))
        }),
    );
    let cancelled = write_scenario(
        &dir,
        "cancelled_chain_900",
        json!({
            "main": [
                {"op": "create_task", "coro": "c0", "var": "t"},
                {"op": "sleep", "delay": 1},
                {"op": "cancel", "target": "t"},
                {"op": "try", "body": [{"op": "await", "target": {"var": "t"}}],
                 "handlers": [{"class": "asyncio.CancelledError", "body": [{"op": "mark", "label": "cancelled"}]}]}
            ],
            "coroutines": await_chain(900, json!([{"op": "sleep", "delay": 5}]))
        }),
    );
    let (code, out, err) = asyncspec(&["check", &plain, &cancelled], 120);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("2 conforming"), "{out}");
}
