//! The `sync` generator: programs whose tasks share asyncio's synchronization primitives
//! and queues (`sync_new`, `sync_call`, `sync_await`), mixed with the statements that
//! race them: tasks, cancellation, sleeps, timeouts, `wait_for` and `gather`.
//!
//! Every program starts by making one object of each class under a fixed name (their
//! parameters drawn), so most calls reach a live object; a few calls pick a method the
//! object's class lacks (AttributeError) or a variable of another kind. Queue items are
//! small ints, and now and then a string, which a PriorityQueue cannot order among ints.

use super::{coro_name, pick, COROUTINES, TASK_VARS};
use asyncspec_model::scenario::{
    Handler, Limits, Scenario, Stmt, SyncAwaitMethod, SyncKind, SyncMethod, Target, SCENARIO_FORMAT,
};
use asyncspec_model::value::Value;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Lock-likes: `acquire()`, `release()`, `locked()`.
const LOCKS: &[&str] = &["l0", "c0", "s0", "b0"];
/// `wait()`.
const WAITABLE: &[&str] = &["e0", "c0", "r0"];
/// Queues.
const QUEUES: &[&str] = &["q0", "p0", "k0"];
/// Every object, for calls that may not fit.
const ALL: &[&str] = &["l0", "c0", "s0", "b0", "e0", "r0", "q0", "p0", "k0", "t0"];
const CAUGHT: &[&str] = &[
    "asyncio.CancelledError",
    "RuntimeError",
    "ValueError",
    "TimeoutError",
    "Exception",
    "asyncio.QueueEmpty",
    "asyncio.QueueFull",
    "asyncio.BrokenBarrierError",
];

fn item() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => (0i64..4).prop_map(Value::Int),
        1 => Just(Value::Str("x".into())),
    ]
    .boxed()
}

fn call(target: String, method: SyncMethod, arg: Option<Value>) -> Stmt {
    Stmt::SyncCall {
        target,
        method,
        arg,
        var: None,
    }
}

fn wait(target: String, method: SyncAwaitMethod, arg: Option<Value>) -> Stmt {
    Stmt::SyncAwait {
        target,
        method,
        arg,
        var: None,
    }
}

/// One statement of coroutine `owner` (`None` for main).
fn leaf(owner: Option<usize>) -> BoxedStrategy<Stmt> {
    let later = owner.map_or(0, |o| o + 1);
    let mut options: Vec<(u32, BoxedStrategy<Stmt>)> = vec![
        (
            5,
            pick(LOCKS)
                .prop_map(|t| wait(t, SyncAwaitMethod::Acquire, None))
                .boxed(),
        ),
        (
            4,
            pick(LOCKS)
                .prop_map(|t| call(t, SyncMethod::Release, None))
                .boxed(),
        ),
        (
            1,
            pick(LOCKS)
                .prop_map(|t| call(t, SyncMethod::Locked, None))
                .boxed(),
        ),
        (
            3,
            pick(WAITABLE)
                .prop_map(|t| wait(t, SyncAwaitMethod::Wait, None))
                .boxed(),
        ),
        (
            2,
            prop::sample::select(&[SyncMethod::Set, SyncMethod::Clear, SyncMethod::IsSet][..])
                .prop_map(|m| call("e0".into(), m, None))
                .boxed(),
        ),
        (
            2,
            prop_oneof![
                Just(call("c0".into(), SyncMethod::Notify, None)),
                Just(call("c0".into(), SyncMethod::Notify, Some(Value::Int(2)))),
                Just(call("c0".into(), SyncMethod::NotifyAll, None)),
            ]
            .boxed(),
        ),
        (
            3,
            (pick(QUEUES), item())
                .prop_map(|(t, i)| wait(t, SyncAwaitMethod::Put, Some(i)))
                .boxed(),
        ),
        (
            3,
            pick(QUEUES)
                .prop_map(|t| wait(t, SyncAwaitMethod::Get, None))
                .boxed(),
        ),
        (
            1,
            pick(QUEUES)
                .prop_map(|t| wait(t, SyncAwaitMethod::Join, None))
                .boxed(),
        ),
        (
            2,
            (pick(QUEUES), item())
                .prop_map(|(t, i)| call(t, SyncMethod::PutNowait, Some(i)))
                .boxed(),
        ),
        (
            2,
            (
                pick(QUEUES),
                prop::sample::select(
                    &[
                        SyncMethod::GetNowait,
                        SyncMethod::TaskDone,
                        SyncMethod::TaskDone,
                        SyncMethod::Qsize,
                        SyncMethod::Full,
                    ][..],
                ),
            )
                .prop_map(|(t, m)| call(t, m, None))
                .boxed(),
        ),
        (
            1,
            (pick(QUEUES), prop::option::of(any::<bool>()))
                .prop_map(|(t, imm)| call(t, SyncMethod::Shutdown, imm.map(Value::Bool)))
                .boxed(),
        ),
        (
            1,
            prop::sample::select(&[SyncAwaitMethod::Reset, SyncAwaitMethod::Abort][..])
                .prop_map(|m| wait("r0".into(), m, None))
                .boxed(),
        ),
        (
            1,
            prop::sample::select(&[SyncMethod::NWaiting, SyncMethod::Broken][..])
                .prop_map(|m| call("r0".into(), m, None))
                .boxed(),
        ),
        // A method the object may not have, or a variable of another kind.
        (
            1,
            (
                pick(ALL),
                prop::sample::select(
                    &[SyncMethod::Set, SyncMethod::Release, SyncMethod::GetNowait][..],
                ),
            )
                .prop_map(|(t, m)| call(t, m, None))
                .boxed(),
        ),
        (
            1,
            (
                pick(ALL),
                prop::sample::select(&[SyncAwaitMethod::Acquire, SyncAwaitMethod::Wait][..]),
            )
                .prop_map(|(t, m)| wait(t, m, None))
                .boxed(),
        ),
        (
            3,
            prop::sample::select(&[0.0, 0.0, 0.5, 1.0][..])
                .prop_map(|delay| Stmt::Sleep {
                    delay,
                    result: Value::None,
                    var: None,
                })
                .boxed(),
        ),
        (
            3,
            pick(TASK_VARS)
                .prop_map(|target| Stmt::Cancel { target, msg: None })
                .boxed(),
        ),
        (
            1,
            Just(Stmt::Raise {
                class: "ValueError".into(),
                args: vec![Value::Str("x".into())],
                var: None,
                cause: None,
            })
            .boxed(),
        ),
    ];
    if owner.is_none() {
        // Only main awaits tasks: tasks awaiting one another can form a cycle, which
        // cancel() follows until RecursionError (inconclusive, not what this is about).
        options.push((
            1,
            pick(TASK_VARS)
                .prop_map(|v| Stmt::Await {
                    target: Target::Var(v),
                    var: None,
                })
                .boxed(),
        ));
        options.push((
            1,
            prop::collection::vec(pick(TASK_VARS).prop_map(Target::Var), 1..3)
                .prop_map(|items| Stmt::Gather {
                    items,
                    return_exceptions: true,
                    var: None,
                    future: None,
                    await_: true,
                })
                .boxed(),
        ));
    }
    if later < COROUTINES {
        let coro = (later..COROUTINES).prop_map(coro_name);
        options.push((
            4,
            (coro.clone(), pick(TASK_VARS))
                .prop_map(|(coro, var)| Stmt::CreateTask {
                    coro,
                    var: Some(var),
                    name: None,
                })
                .boxed(),
        ));
        options.push((
            2,
            (coro, prop::sample::select(&[0.0, 0.5, 1.0][..]))
                .prop_map(|(c, t)| Stmt::WaitFor {
                    target: Target::Coro(c),
                    timeout: Some(t),
                    var: None,
                })
                .boxed(),
        ));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

fn block(
    owner: Option<usize>,
    depth: u32,
    len: std::ops::Range<usize>,
) -> BoxedStrategy<Rc<[Stmt]>> {
    let one = if depth == 0 {
        leaf(owner)
    } else {
        let handler =
            (pick(CAUGHT), block(owner, depth - 1, 0..2)).prop_map(|(class, body)| Handler {
                class,
                name: None,
                body,
            });
        prop_oneof![
            6 => leaf(owner),
            // `acquire(); try: ... finally: release()`, the documented pattern.
            2 => (pick(LOCKS), block(owner, depth - 1, 1..3)).prop_map(|(l, body)| {
                let mut with: Vec<Stmt> = vec![wait(l.clone(), SyncAwaitMethod::Acquire, None)];
                with.push(Stmt::Try {
                    body,
                    handlers: Vec::new(),
                    orelse: None,
                    finally: Some(Rc::from(vec![call(l, SyncMethod::Release, None)])),
                });
                Stmt::Try { body: Rc::from(with), handlers: Vec::new(), orelse: None, finally: None }
            }),
            // A condition's idioms: wait or notify while holding its lock.
            2 => (prop_oneof![
                    Just(wait("c0".into(), SyncAwaitMethod::Wait, None)),
                    Just(call("c0".into(), SyncMethod::Notify, None)),
                    Just(call("c0".into(), SyncMethod::NotifyAll, None)),
                ], block(owner, depth - 1, 0..2))
                .prop_map(|(first, rest)| {
                    let mut body = vec![first];
                    body.extend(rest.iter().cloned());
                    let with = vec![
                        wait("c0".into(), SyncAwaitMethod::Acquire, None),
                        Stmt::Try {
                            body: Rc::from(body),
                            handlers: Vec::new(),
                            orelse: None,
                            finally: Some(Rc::from(vec![call("c0".into(), SyncMethod::Release, None)])),
                        },
                    ];
                    Stmt::Try { body: Rc::from(with), handlers: Vec::new(), orelse: None, finally: None }
                }),
            // Wake a waiter, then cancel a task before it runs: the woken waiter that is
            // cancelled must pass its wake-up on (or not).
            2 => (prop_oneof![
                    pick(LOCKS).prop_map(|t| call(t, SyncMethod::Release, None)),
                    (pick(QUEUES), item()).prop_map(|(t, i)| call(t, SyncMethod::PutNowait, Some(i))),
                    pick(QUEUES).prop_map(|t| call(t, SyncMethod::GetNowait, None)),
                    Just(call("e0".into(), SyncMethod::Set, None)),
                ], pick(TASK_VARS))
                .prop_map(|(wake, target)| Stmt::Try {
                    body: Rc::from(vec![wake, Stmt::Cancel { target, msg: None }]),
                    handlers: Vec::new(),
                    orelse: None,
                    finally: None,
                }),
            2 => (block(owner, depth - 1, 1..3), prop::collection::vec(handler, 1..3))
                .prop_map(|(body, handlers)| Stmt::Try { body, handlers, orelse: None, finally: None }),
            1 => (prop_oneof![Just(0.5), Just(1.0)], block(owner, depth - 1, 1..3))
                .prop_map(|(d, body)| Stmt::Timeout { delay: Some(d), at: None, var: None, body }),
        ]
        .boxed()
    };
    prop::collection::vec(one, len).prop_map(Rc::from).boxed()
}

/// `var = asyncio.<kind>(value)`.
fn new(kind: SyncKind, var: &str, value: Option<i64>) -> Stmt {
    Stmt::SyncNew {
        kind,
        var: var.into(),
        value,
        lock: None,
    }
}

/// A whole scenario of the `sync` generator.
pub fn scenario() -> BoxedStrategy<Scenario> {
    let coroutines: Vec<BoxedStrategy<Rc<[Stmt]>>> =
        (0..COROUTINES).map(|i| block(Some(i), 1, 1..5)).collect();
    let parameters = (0i64..3, 2i64..4, 0i64..3, 0i64..2);
    (block(None, 2, 2..8), coroutines, parameters, 0usize..4)
        .prop_map(|(body, bodies, (sem, parties, maxsize, pmax), started)| {
            let mut main = vec![
                new(SyncKind::Lock, "l0", None),
                new(SyncKind::Condition, "c0", None),
                new(SyncKind::Semaphore, "s0", Some(sem)),
                new(SyncKind::BoundedSemaphore, "b0", Some(1)),
                new(SyncKind::Event, "e0", None),
                new(SyncKind::Barrier, "r0", Some(parties)),
                new(SyncKind::Queue, "q0", Some(maxsize)),
                new(SyncKind::PriorityQueue, "p0", Some(pmax)),
                new(SyncKind::LifoQueue, "k0", Some(1)),
            ];
            // Most programs start some tasks first, so that they contend.
            for (k, var) in TASK_VARS.iter().enumerate().take(started) {
                main.push(Stmt::CreateTask {
                    coro: coro_name(k),
                    var: Some(var.to_string()),
                    name: None,
                });
            }
            main.extend(body.iter().cloned());
            Scenario {
                prelude: Vec::new(),
                streams: Default::default(),
                name: "generated".into(),
                description: String::new(),
                format: SCENARIO_FORMAT,
                debug: false,
                exceptions: BTreeMap::new(),
                main: Rc::from(main),
                coroutines: bodies
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| (coro_name(i), b))
                    .collect(),
                interrupts: Vec::new(),
                delivery: Default::default(),
                limits: Limits {
                    steps_max: 20_000,
                    horizon_secs: 1_000.0,
                },
            }
        })
        .boxed()
}
