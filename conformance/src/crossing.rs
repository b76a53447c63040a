//! The crossing: every statement that takes a variable, run on every kind of object a
//! program may hand it (futures in each state, tasks, gathering and shield futures,
//! concurrent futures, Timeout and TaskGroup objects, plain values, an exception, the
//! main task, an unbound name).
//!
//! Python decides what each pair does (the method, an `AttributeError`, a `TypeError`,
//! a deadlock); the model and a runtime must agree on every pair. `fuzz --generator
//! crossing` runs case K as pair K (the cases repeat after [`count`]), so the crossing
//! runs on every runtime the way the other generators do, and the crossing test runs
//! it whole against CPython.

use asyncspec_model::Scenario;
use serde_json::{json, Value as Json};

/// One kind of object: statements that bind `x` to it (run in `main`), or a block the
/// statement runs inside (`Timeout`, `TaskGroup`), or a name to use instead of `x`.
struct Kind {
    name: &'static str,
    setup: fn() -> Vec<Json>,
    /// Wrap the statement: `async with ... as x: <statement>`.
    wrap: Option<fn(Json) -> Json>,
    /// The variable the statement names (`x` unless the kind is a name of its own).
    var: &'static str,
}

fn kinds() -> Vec<Kind> {
    fn none() -> Vec<Json> {
        Vec::new()
    }
    fn assign(v: Json) -> Vec<Json> {
        vec![json!({"op": "assign", "var": "x", "value": v})]
    }
    vec![
        Kind {
            name: "pending_future",
            setup: || vec![json!({"op": "new_future", "var": "x"})],
            wrap: None,
            var: "x",
        },
        Kind {
            name: "done_future",
            setup: || {
                vec![
                    json!({"op": "new_future", "var": "x"}),
                    json!({"op": "set_result", "future": "x", "value": 1}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "failed_future",
            setup: || {
                vec![
                    json!({"op": "new_future", "var": "x"}),
                    json!({"op": "set_exception", "future": "x", "class": "KeyError", "args": ["k"]}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "pending_task",
            setup: || vec![json!({"op": "create_task", "coro": "slow", "var": "x"})],
            wrap: None,
            var: "x",
        },
        Kind {
            name: "done_task",
            setup: || {
                vec![
                    json!({"op": "create_task", "coro": "quick", "var": "x"}),
                    json!({"op": "checkpoint"}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "failed_task",
            setup: || {
                vec![
                    json!({"op": "create_task", "coro": "boom", "var": "x"}),
                    json!({"op": "checkpoint"}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "gathering_future",
            setup: || {
                vec![
                    json!({"op": "create_task", "coro": "slow", "var": "t"}),
                    json!({"op": "gather", "items": [{"var": "t"}], "future": "x", "await": false}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "shield_future",
            setup: || {
                vec![
                    json!({"op": "create_task", "coro": "slow", "var": "t"}),
                    json!({"op": "shield", "target": {"var": "t"}, "future": "x", "await": false}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "wrapped_future",
            setup: || {
                vec![
                    json!({"op": "new_concurrent_future", "var": "c"}),
                    json!({"op": "wrap_future", "cfuture": "c", "var": "x"}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "pending_concurrent_future",
            setup: || vec![json!({"op": "new_concurrent_future", "var": "x"})],
            wrap: None,
            var: "x",
        },
        Kind {
            name: "done_concurrent_future",
            setup: || {
                vec![
                    json!({"op": "new_concurrent_future", "var": "x"}),
                    json!({"op": "set_result", "future": "x", "value": 1}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "handle",
            setup: || {
                vec![
                    json!({"op": "call_soon", "var": "x", "callback": [{"op": "mark", "label": "callback"}]}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "timer_handle",
            setup: || {
                vec![
                    json!({"op": "call_later", "delay": 0.25, "var": "x", "callback": [{"op": "mark", "label": "callback"}]}),
                ]
            },
            wrap: None,
            var: "x",
        },
        Kind {
            name: "lock",
            setup: || vec![json!({"op": "sync_new", "kind": "lock", "var": "x"})],
            wrap: None,
            var: "x",
        },
        Kind {
            name: "queue",
            setup: || vec![json!({"op": "sync_new", "kind": "queue", "var": "x", "value": 1})],
            wrap: None,
            var: "x",
        },
        Kind {
            name: "timeout",
            setup: none,
            wrap: Some(|st| json!({"op": "timeout", "delay": 5, "var": "x", "body": [st]})),
            var: "x",
        },
        Kind {
            name: "task_group",
            setup: none,
            wrap: Some(|st| json!({"op": "task_group", "var": "x", "body": [st]})),
            var: "x",
        },
        Kind {
            name: "none",
            setup: || assign(Json::Null),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "bool",
            setup: || assign(json!(true)),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "int",
            setup: || assign(json!(42)),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "float",
            setup: || assign(json!(2.5)),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "str",
            setup: || assign(json!("it's")),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "bytes",
            setup: || assign(json!({"bytes": "ab"})),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "list",
            setup: || assign(json!([1, 2])),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "exception",
            setup: || assign(json!({"class": "ValueError", "args": ["v"]})),
            wrap: None,
            var: "x",
        },
        Kind {
            name: "main_task",
            setup: none,
            wrap: None,
            var: "main",
        },
        Kind {
            name: "unbound_name",
            setup: none,
            wrap: None,
            var: "nothere",
        },
    ]
}

/// Every statement that takes a variable, applied to `v`.
fn statements(v: &str) -> Vec<(&'static str, Json)> {
    vec![
        ("await", json!({"op": "await", "target": {"var": v}})),
        ("cancel", json!({"op": "cancel", "target": v})),
        (
            "cancel_msg",
            json!({"op": "cancel", "target": v, "msg": "m"}),
        ),
        (
            "cancel_int_msg",
            json!({"op": "cancel", "target": v, "msg": 7}),
        ),
        ("cancelling", json!({"op": "cancelling", "task": v})),
        ("uncancel", json!({"op": "uncancel", "task": v})),
        ("done", json!({"op": "query", "target": v, "what": "done"})),
        (
            "cancelled",
            json!({"op": "query", "target": v, "what": "cancelled"}),
        ),
        ("result", json!({"op": "result", "target": v})),
        ("exception", json!({"op": "exception", "target": v})),
        (
            "set_result",
            json!({"op": "set_result", "future": v, "value": 5}),
        ),
        (
            "set_exception",
            json!({"op": "set_exception", "future": v, "class": "ValueError", "args": ["e"]}),
        ),
        (
            "add_done_callback",
            json!({"op": "add_done_callback", "target": v, "callback": {"kind": "record"}}),
        ),
        ("gather", json!({"op": "gather", "items": [{"var": v}]})),
        (
            "gather_return_exceptions",
            json!({"op": "gather", "items": [{"var": v}], "return_exceptions": true}),
        ),
        (
            "gather_after_coroutine",
            json!({"op": "gather", "items": [{"coro": "quick"}, {"var": v}, {"coro": "quick"}]}),
        ),
        (
            "wait_for",
            json!({"op": "wait_for", "target": {"var": v}, "timeout": 1}),
        ),
        (
            "wait_for_no_timeout",
            json!({"op": "wait_for", "target": {"var": v}, "timeout": null}),
        ),
        (
            "wait_for_zero",
            json!({"op": "wait_for", "target": {"var": v}, "timeout": 0}),
        ),
        ("shield", json!({"op": "shield", "target": {"var": v}})),
        ("wait", json!({"op": "wait", "items": [v], "timeout": 1})),
        (
            "as_completed",
            json!({"op": "as_completed", "items": [v], "timeout": 1}),
        ),
        (
            "wrap_future",
            json!({"op": "wrap_future", "cfuture": v, "var": "w"}),
        ),
        (
            "reschedule",
            json!({"op": "reschedule", "cm": v, "delay": 2}),
        ),
        ("expired", json!({"op": "expired", "cm": v})),
        ("when", json!({"op": "when", "cm": v})),
        (
            "create_task",
            json!({"op": "group_task", "group": v, "coro": "quick"}),
        ),
        (
            "return",
            json!({"op": "await", "target": {"coro": "returns_x"}}),
        ),
        (
            "sync_call",
            json!({"op": "sync_call", "target": v, "method": "put_nowait", "arg": 1}),
        ),
        (
            "sync_await",
            json!({"op": "sync_await", "target": v, "method": "acquire"}),
        ),
        (
            "condition_over",
            json!({"op": "sync_new", "kind": "condition", "var": "c", "lock": v}),
        ),
    ]
}

/// How many pairs there are.
pub fn count() -> u64 {
    (kinds().len() * statements("x").len()) as u64
}

/// Pair `k` (modulo [`count`]): its name (`<kind>__<statement>`) and its scenario.
pub fn scenario(k: u64) -> Scenario {
    let kinds = kinds();
    let per_kind = statements("x").len() as u64;
    let k = k % count();
    let kind = &kinds[(k / per_kind) as usize];
    let (stmt_name, stmt) = statements(kind.var)
        .into_iter()
        .nth((k % per_kind) as usize)
        .expect("in range");
    let stmt = match kind.wrap {
        Some(wrap) => wrap(stmt),
        None => stmt,
    };
    let mut main = (kind.setup)();
    // The statement runs inside a try that catches everything, so what it raised and
    // what follows are both observed.
    main.push(json!({
        "op": "try",
        "body": [stmt],
        "handlers": [{"class": "BaseException", "as": "e", "body": [{"op": "mark", "label": "raised"}]}],
    }));
    main.push(json!({"op": "sleep", "delay": 0.5}));
    let text = json!({
        "name": format!("{}__{stmt_name}", kind.name),
        "description": "Crossing: one statement on one kind of object (conformance/src/crossing.rs).",
        "main": main,
        "coroutines": {
            "slow": [{"op": "sleep", "delay": 3}, {"op": "return", "value": "slow"}],
            "quick": [{"op": "return", "value": "quick"}],
            "boom": [{"op": "raise", "class": "RuntimeError", "args": ["boom"]}],
            "returns_x": [{"op": "return", "var": kind.var}],
        },
        "limits": {"steps_max": 2000, "horizon_secs": 30},
    });
    Scenario::from_json(&text.to_string()).expect("the crossing's scenarios are valid")
}
