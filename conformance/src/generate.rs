//! Scenario generation: proptest strategies that reach every statement kind the model
//! runs, for property tests now and the oracle's `fuzz` later.
//!
//! Generated programs are small and well-formed: coroutines `c0..c3` may await only
//! coroutines with a higher index (no recursion), variables come from fixed pools
//! (`t0..t3` tasks, `f0..f1` futures, `cm0` timeouts, `g0` groups), and the limits are
//! tight. Anything the program does wrong at run time (an unbound variable, a bare
//! `raise` outside `except`) is itself a Python-visible exception, so it is kept.

use asyncspec_model::scenario::{
    CallbackSpec, Handler, Limits, Query, ReturnWhen, Scenario, Stmt, Target, SCENARIO_FORMAT,
};
use asyncspec_model::value::Value;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::rc::Rc;

mod sync;

/// Coroutine functions besides `main`.
pub const COROUTINES: usize = 4;
const TASK_VARS: &[&str] = &["t0", "t1", "t2", "t3"];
const FUTURE_VARS: &[&str] = &["f0", "f1"];
const DELAYS: &[f64] = &[0.0, 0.5, 1.0, 2.0, 3.0];
const RAISED: &[&str] = &[
    "ValueError",
    "KeyError",
    "RuntimeError",
    "asyncio.CancelledError",
];
const CAUGHT: &[&str] = &[
    "Exception",
    "ValueError",
    "asyncio.CancelledError",
    "BaseException",
    "TimeoutError",
    "ExceptionGroup",
];

fn coro_name(i: usize) -> String {
    format!("c{i}")
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_string)
}

fn delay() -> impl Strategy<Value = f64> {
    prop::sample::select(DELAYS)
}

fn opt_timeout() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(0.0)),
        Just(Some(0.5)),
        Just(Some(2.0))
    ]
}

/// Something to await from coroutine `owner` (`None` for main): a later coroutine or a variable.
fn target(owner: Option<usize>) -> BoxedStrategy<Target> {
    let first = owner.map_or(0, |i| i + 1);
    let var = prop_oneof![pick(TASK_VARS), pick(FUTURE_VARS)].prop_map(Target::Var);
    if first >= COROUTINES {
        var.boxed()
    } else {
        prop_oneof![
            (first..COROUTINES).prop_map(|k| Target::Coro(coro_name(k))),
            var
        ]
        .boxed()
    }
}

fn leaf(owner: Option<usize>) -> BoxedStrategy<Stmt> {
    let any_coro = (0..COROUTINES).prop_map(coro_name);
    prop_oneof![
        3 => delay().prop_map(|d| Stmt::Sleep { delay: d, result: Value::None, var: None }),
        1 => Just(Stmt::Checkpoint),
        3 => (any_coro.clone(), pick(TASK_VARS)).prop_map(|(coro, var)| Stmt::CreateTask { coro, var: Some(var), name: None }),
        3 => target(owner).prop_map(|target| Stmt::Await { target, var: None }),
        2 => (prop_oneof![pick(TASK_VARS), pick(FUTURE_VARS)], prop::option::of(Just("why".to_string())))
            .prop_map(|(target, msg)| Stmt::Cancel {
                target,
                msg: msg.map(Value::Str),
            }),
        1 => pick(TASK_VARS).prop_map(|task| Stmt::Cancelling { task }),
        1 => pick(TASK_VARS).prop_map(|task| Stmt::Uncancel { task }),
        2 => pick(RAISED).prop_map(|class| Stmt::Raise { class, args: vec![Value::Str("x".into())], var: None, cause: None }),
        1 => Just(Stmt::Reraise),
        1 => (0i64..3).prop_map(|v| Stmt::Return { value: Value::Int(v), var: None }),
        2 => (prop::collection::vec(target(owner), 1..3), any::<bool>())
            .prop_map(|(items, return_exceptions)| Stmt::Gather { items, return_exceptions, var: None, future: None, await_: true }),
        2 => (target(owner), opt_timeout()).prop_map(|(target, timeout)| Stmt::WaitFor { target, timeout, var: None }),
        1 => target(owner).prop_map(|target| Stmt::Shield { target, var: None, future: None, await_: true }),
        1 => pick(FUTURE_VARS).prop_map(|var| Stmt::NewFuture { var }),
        1 => (pick(FUTURE_VARS), 0i64..3).prop_map(|(future, v)| Stmt::SetResult { future, value: Value::Int(v) }),
        1 => pick(FUTURE_VARS).prop_map(|future| Stmt::SetException { future, class: "ValueError".into(), args: vec![] }),
        1 => (prop::collection::vec(pick(TASK_VARS), 0..3), prop::option::of(Just(1.0)),
              prop_oneof![Just(ReturnWhen::AllCompleted), Just(ReturnWhen::FirstCompleted), Just(ReturnWhen::FirstException)])
            .prop_map(|(items, timeout, return_when)| Stmt::Wait { items, timeout, return_when, coros: Vec::new() }),
        1 => (prop::collection::vec(pick(TASK_VARS), 0..3), prop::option::of(Just(1.0)))
            .prop_map(|(items, timeout)| Stmt::AsCompleted { items, timeout }),
        1 => (pick(TASK_VARS), prop_oneof![Just(Query::Done), Just(Query::Cancelled)]).prop_map(|(target, what)| Stmt::Query { target, what }),
        1 => pick(TASK_VARS).prop_map(|target| Stmt::Result { target, var: None }),
        1 => pick(TASK_VARS).prop_map(|target| Stmt::Exception { target }),
        1 => pick(TASK_VARS).prop_map(|target| Stmt::AddDoneCallback { target, callback: CallbackSpec::Record }),
        1 => (0..COROUTINES).prop_map(|k| Stmt::CallUnawaited { coro: coro_name(k) }),
        1 => Just(Stmt::Block { seconds: 0.2 }),
        1 => Just(Stmt::Mark { label: "m".into() }),
        1 => (any_coro, pick(TASK_VARS)).prop_map(|(coro, var)| Stmt::GroupTask { group: "g0".into(), coro, var: Some(var) }),
    ]
    .boxed()
}

fn block(
    owner: Option<usize>,
    depth: u32,
    len: std::ops::Range<usize>,
) -> BoxedStrategy<Rc<[Stmt]>> {
    prop::collection::vec(stmt(owner, depth), len)
        .prop_map(Rc::from)
        .boxed()
}

fn stmt(owner: Option<usize>, depth: u32) -> BoxedStrategy<Stmt> {
    if depth == 0 {
        return leaf(owner);
    }
    let handler = (pick(CAUGHT), block(owner, depth - 1, 0..3)).prop_map(|(class, body)| Handler {
        class,
        name: None,
        body,
    });
    prop_oneof![
        6 => leaf(owner),
        2 => (block(owner, depth - 1, 1..4), prop::collection::vec(handler, 0..3),
              prop::option::of(block(owner, depth - 1, 1..2)), prop::option::of(block(owner, depth - 1, 1..3)))
            .prop_map(|(body, handlers, orelse, finally)| Stmt::Try { body, handlers, orelse, finally }),
        1 => (prop_oneof![Just(None), Just(Some(0.5)), Just(Some(1.0)), Just(Some(3.0))], block(owner, depth - 1, 1..4))
            .prop_map(|(delay, body)| Stmt::Timeout { delay, at: None, var: Some("cm0".into()), body }),
        1 => block(owner, depth - 1, 1..4).prop_map(|body| Stmt::TaskGroup { var: "g0".into(), body }),
    ]
    .boxed()
}

/// How generated programs start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// No prelude: variables are bound only by the program itself.
    Plain,
    /// Most programs start by binding some variables (futures f0, f1; tasks t0, t1), so
    /// they get past their first lookup: finds more, and finds mutations the plain
    /// generator rarely reaches.
    Bound,
    /// Programs that read two streams fed by the simulated network (chunking,
    /// latency, stalls, EOF, reset or neither), with tasks, cancels and timeouts
    /// around the reads.
    Streams,
    /// The same programs as `streams` (case for case), their deliveries sent over
    /// real loopback sockets (`"delivery": "socket"`).
    Sockets,
    /// Not random: case K is pair K of the crossing (every statement on every kind of
    /// object, `crate::crossing`), whatever the seed.
    Crossing,
    /// Programs whose tasks share locks, events, conditions, semaphores, a barrier and
    /// queues (`generate/sync.rs`).
    Sync,
}

impl Generator {
    /// Parse `plain` / `bound` / `streams` / `sockets` / `sync`.
    pub fn parse(word: &str) -> Result<Generator, String> {
        match word {
            "plain" => Ok(Generator::Plain),
            "bound" => Ok(Generator::Bound),
            "streams" => Ok(Generator::Streams),
            "sockets" => Ok(Generator::Sockets),
            "crossing" => Ok(Generator::Crossing),
            "sync" => Ok(Generator::Sync),
            other => Err(format!(
                "unknown generator {other:?} (plain, bound, streams, sockets, sync or crossing)"
            )),
        }
    }

    /// Its name on the command line.
    pub fn word(self) -> &'static str {
        match self {
            Generator::Plain => "plain",
            Generator::Bound => "bound",
            Generator::Streams => "streams",
            Generator::Sockets => "sockets",
            Generator::Crossing => "crossing",
            Generator::Sync => "sync",
        }
    }
}

/// A whole scenario from the plain generator.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_from(Generator::Plain)
}

/// A whole scenario.
pub fn scenario_from(generator: Generator) -> BoxedStrategy<Scenario> {
    let preludes = match generator {
        Generator::Plain => 0usize..1,
        Generator::Bound => 0usize..3,
        Generator::Streams => return stream_scenario().boxed(),
        Generator::Sync => return sync::scenario(),
        Generator::Sockets => {
            return stream_scenario()
                .prop_map(|mut s| {
                    s.delivery = asyncspec_model::scenario::DeliveryMode::Socket;
                    s
                })
                .boxed()
        }
        // Case-indexed, not drawn (see `case_tree`); as a strategy, the pairs in turn.
        Generator::Crossing => {
            return (0..crate::crossing::count())
                .prop_map(crate::crossing::scenario)
                .boxed()
        }
    };
    let coroutines: Vec<BoxedStrategy<Rc<[Stmt]>>> =
        (0..COROUTINES).map(|i| block(Some(i), 1, 1..5)).collect();
    (block(None, 2, 1..7), coroutines, any::<bool>(), preludes)
        .prop_map(|(body, bodies, debug, prelude)| {
            // Most statements name a variable: a prelude binds some, so that programs get
            // past their first lookup and reach the interesting interleavings.
            let mut main: Vec<Stmt> = Vec::new();
            if prelude > 0 {
                main.push(Stmt::NewFuture { var: "f0".into() });
                main.push(Stmt::CreateTask {
                    coro: coro_name(0),
                    var: Some("t0".into()),
                    name: None,
                });
            }
            if prelude > 1 {
                main.push(Stmt::NewFuture { var: "f1".into() });
                main.push(Stmt::CreateTask {
                    coro: coro_name(1),
                    var: Some("t1".into()),
                    name: None,
                });
            }
            main.extend(body.iter().cloned());
            let main: Rc<[Stmt]> = Rc::from(main);
            let coroutines: BTreeMap<String, Rc<[Stmt]>> = bodies
                .into_iter()
                .enumerate()
                .map(|(i, b)| (coro_name(i), b))
                .collect();
            Scenario {
                prelude: Vec::new(),
                streams: Default::default(),
                name: "generated".into(),
                description: String::new(),
                format: SCENARIO_FORMAT,
                debug,
                exceptions: BTreeMap::new(),
                main,
                coroutines,
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

const READERS: &[&str] = &["r", "s"];
const STREAM_CAUGHT: &[&str] = &[
    "asyncio.IncompleteReadError",
    "asyncio.LimitOverrunError",
    "ValueError",
    "ConnectionResetError",
    "RuntimeError",
    "asyncio.CancelledError",
    "TimeoutError",
    "Exception",
];

/// A read, or one of the plain statements around reads.
fn stream_leaf(owner: Option<usize>) -> BoxedStrategy<Stmt> {
    let reader = || pick(READERS);
    let later = owner.map_or(0, |o| o + 1);
    let mut options: Vec<(u32, BoxedStrategy<Stmt>)> = vec![
        (
            3,
            (reader(), -1i64..8)
                .prop_map(|(reader, n)| Stmt::Read {
                    reader,
                    n,
                    var: None,
                })
                .boxed(),
        ),
        (
            3,
            (reader(), -1i64..8)
                .prop_map(|(reader, n)| Stmt::ReadExactly {
                    reader,
                    n,
                    var: None,
                })
                .boxed(),
        ),
        (
            2,
            (reader(), prop::sample::select(&["\n", "ab", ""][..]))
                .prop_map(|(reader, sep)| Stmt::ReadUntil {
                    reader,
                    separator: sep.to_string(),
                    var: None,
                })
                .boxed(),
        ),
        (
            2,
            reader()
                .prop_map(|reader| Stmt::ReadLine { reader, var: None })
                .boxed(),
        ),
        (
            1,
            reader().prop_map(|reader| Stmt::AtEof { reader }).boxed(),
        ),
        // The write side, on connection `s`.
        (
            2,
            prop::sample::select(&["xy", "abcdef"][..])
                .prop_map(|data| Stmt::Write {
                    stream: "s".into(),
                    data: data.into(),
                })
                .boxed(),
        ),
        (2, Just(Stmt::Drain { stream: "s".into() }).boxed()),
        (1, Just(Stmt::Close { stream: "s".into() }).boxed()),
        (1, Just(Stmt::WaitClosed { stream: "s".into() }).boxed()),
        (
            1,
            Just(Stmt::Sendfile {
                stream: "s".into(),
                data: "file".into(),
            })
            .boxed(),
        ),
        (
            1,
            prop::sample::select(&[0.0, 0.01, 0.05, 0.2][..])
                .prop_map(|delay| Stmt::Sleep {
                    delay,
                    result: Value::None,
                    var: None,
                })
                .boxed(),
        ),
        (
            2,
            pick(TASK_VARS)
                .prop_map(|target| Stmt::Cancel { target, msg: None })
                .boxed(),
        ),
        (
            2,
            pick(TASK_VARS)
                .prop_map(|v| Stmt::Await {
                    target: Target::Var(v),
                    var: None,
                })
                .boxed(),
        ),
    ];
    if later < COROUTINES {
        let coro = (later..COROUTINES).prop_map(coro_name);
        options.push((
            3,
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
            (coro, prop::sample::select(&[0.0, 0.02, 0.1][..]))
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

fn stream_block(
    owner: Option<usize>,
    depth: u32,
    len: std::ops::Range<usize>,
) -> BoxedStrategy<Rc<[Stmt]>> {
    let one = if depth == 0 {
        stream_leaf(owner)
    } else {
        let handler = (pick(STREAM_CAUGHT), stream_block(owner, depth - 1, 0..2)).prop_map(
            |(class, body)| Handler {
                class,
                name: None,
                body,
            },
        );
        prop_oneof![
            4 => stream_leaf(owner),
            2 => (stream_block(owner, depth - 1, 1..3), prop::collection::vec(handler, 1..3))
                .prop_map(|(body, handlers)| Stmt::Try { body, handlers, orelse: None, finally: None }),
        ]
        .boxed()
    };
    prop::collection::vec(one, len).prop_map(Rc::from).boxed()
}

/// One reader's network: a short message in up to three writes, a link, maybe a
/// stall, and how it ends (EOF, reset, or still open).
fn network() -> impl Strategy<Value = asyncspec_model::scenario::StreamSpec> {
    use asyncspec_sim::network::End;
    let message = prop::collection::vec(prop::sample::select(b"ab\n".to_vec()), 0..24);
    (
        message,
        1usize..4,
        0u64..60,
        1usize..6,
        prop::option::of((0u64..80, 1u64..150)),
        prop::sample::select(vec![End::Eof, End::Reset, End::Open]),
        prop::sample::select(vec![4usize, 65536]),
        any::<u64>(),
    )
        .prop_map(
            |(message, parts, latency, max_chunk, stall, end, limit, seed)| {
                let (link, stall) = link_and_stall(latency, max_chunk, stall);
                let deliveries = peer_schedule(&message, parts, &link, stall, end, seed);
                stream_spec(&deliveries, limit)
            },
        )
}

/// The link and stall the generators draw: latency 0 to `latency_max_ms`, chunks of at
/// most `max_chunk` bytes, and a stall of `len` ms from `from` ms (`(from, len)`).
pub fn link_and_stall(
    latency_max_ms: u64,
    max_chunk: usize,
    stall: Option<(u64, u64)>,
) -> (
    asyncspec_sim::network::Link,
    Option<asyncspec_sim::network::Stall>,
) {
    use asyncspec_sim::network::{Link, Stall};
    let link = Link {
        latency_min_ms: 0,
        latency_max_ms,
        max_chunk,
    };
    let stall = stall.map(|(from, len)| Stall {
        from_ms: from,
        until_ms: from + len,
    });
    (link, stall)
}

/// What a reader receives when a peer sends `message` in `parts` writes 20 ms apart
/// over `link`, with an optional stall, ending as `end`.
pub fn peer_schedule(
    message: &[u8],
    parts: usize,
    link: &asyncspec_sim::network::Link,
    stall: Option<asyncspec_sim::network::Stall>,
    end: asyncspec_sim::network::End,
    seed: u64,
) -> Vec<asyncspec_sim::network::Delivery> {
    use asyncspec_sim::network::{schedule, Write};
    let size = message.len().div_ceil(parts.max(1)).max(1);
    let writes: Vec<Write> = message
        .chunks(size)
        .enumerate()
        .map(|(i, c)| Write {
            at_ms: 20 * i as u64,
            data: c.to_vec(),
        })
        .collect();
    let stalls: Vec<_> = stall.into_iter().collect();
    let mut choices = asyncspec_sim::seed::Choices::new(seed);
    schedule(&mut choices, link, &writes, &stalls, end)
}

/// The write side of connection `s`: small or default buffer limits, and when the
/// peer takes bytes.
fn writer() -> impl Strategy<Value = asyncspec_model::scenario::WriterSpec> {
    (
        prop::sample::select(vec![4usize, 65536]),
        prop::collection::vec((0u64..200, 1usize..6), 0..4),
    )
        .prop_map(|(high_water, mut takes)| {
            takes.sort();
            asyncspec_model::scenario::WriterSpec {
                high_water,
                low_water: None,
                consumed: takes
                    .into_iter()
                    .map(|(ms, bytes)| asyncspec_model::scenario::Consume {
                        at: ms as f64 / 1000.0,
                        bytes,
                    })
                    .collect(),
            }
        })
}

/// A scenario of the streams generator: reader `r`, and connection `s` (a reader and
/// its writer).
fn stream_scenario() -> impl Strategy<Value = Scenario> {
    let coroutines: Vec<BoxedStrategy<Rc<[Stmt]>>> = (0..COROUTINES)
        .map(|i| stream_block(Some(i), 1, 1..4))
        .collect();
    let connection = (network(), writer()).prop_map(|(mut s, w)| {
        s.writer = Some(w);
        s
    });
    (
        stream_block(None, 1, 1..7),
        coroutines,
        network(),
        connection,
    )
        .prop_map(|(main, bodies, r, s)| Scenario {
            prelude: Vec::new(),
            streams: [("r".to_string(), r), ("s".to_string(), s)]
                .into_iter()
                .collect(),
            name: "generated".into(),
            description: String::new(),
            format: SCENARIO_FORMAT,
            debug: false,
            exceptions: BTreeMap::new(),
            main,
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
        })
}

/// The same `n` scenarios for a seed, every time (for benchmarks and fixed-seed runs).
pub fn fixed_set(seed: u64, n: usize) -> Vec<Scenario> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = scenario();
    (0..n)
        .map(|i| {
            let mut s = strategy
                .new_tree(&mut runner)
                .expect("the strategy always generates")
                .current();
            s.name = format!("generated-{seed}-{i}");
            s
        })
        .collect()
}

/// The value tree of case `case` of a fuzz run with `seed`: the scenario is its
/// `current()`, and it shrinks with `simplify()` / `complicate()`.
pub fn case_tree(
    seed: u64,
    case: u64,
    generator: Generator,
) -> Box<dyn proptest::strategy::ValueTree<Value = Scenario>> {
    use proptest::strategy::Strategy;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    if generator == Generator::Crossing {
        let mut runner = TestRunner::deterministic();
        let tree = proptest::strategy::Just(crate::crossing::scenario(case))
            .new_tree(&mut runner)
            .expect("Just always generates");
        return Box::new(tree);
    }
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&case.to_le_bytes());
    bytes[16] = 0xA5;
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let tree = scenario_from(generator)
        .prop_map(move |mut s| {
            s.name = format!("fuzz-{seed}-{case}");
            s
        })
        .new_tree(&mut runner)
        .expect("the strategy always generates");
    Box::new(tree)
}

/// A reader's part of a scenario from the simulated network's schedule (times in
/// whole milliseconds become seconds; bytes become Latin-1 text).
pub fn stream_spec(
    deliveries: &[asyncspec_sim::network::Delivery],
    limit: usize,
) -> asyncspec_model::scenario::StreamSpec {
    use asyncspec_model::scenario::{ArrivalKind, Delivery};
    use asyncspec_sim::network::Arrival;
    let deliveries = deliveries
        .iter()
        .map(|d| {
            let at = d.at_ms as f64 / 1000.0;
            match &d.what {
                Arrival::Data(bytes) => Delivery {
                    at,
                    kind: ArrivalKind::Data,
                    data: Some(bytes.iter().map(|&b| b as char).collect()),
                },
                Arrival::Eof => Delivery {
                    at,
                    kind: ArrivalKind::Eof,
                    data: None,
                },
                Arrival::Reset => Delivery {
                    at,
                    kind: ArrivalKind::Reset,
                    data: None,
                },
            }
        })
        .collect();
    asyncspec_model::scenario::StreamSpec {
        limit,
        deliveries,
        writer: None,
    }
}
