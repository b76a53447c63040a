//! The scenario language: a small async program, written as JSON, that the model and a
//! real runtime (through an adapter) both run.
//!
//! A scenario names its coroutines; each is a list of statements (`op`). Statements map
//! one-to-one onto Python: `{"op": "sleep", "delay": 1}` is `await asyncio.sleep(1)`,
//! `{"op": "try", ...}` is `try`/`except`/`else`/`finally`. New runtimes and chapters add
//! statements; nothing here is asyncio-only by construction. Format version:
//! [`SCENARIO_FORMAT`].

use crate::core::exception::Hierarchy;
use crate::core::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The scenario format this model reads. Bump on incompatible change.
pub const SCENARIO_FORMAT: u32 = 1;

/// A statement list (shared, so frames can point into it cheaply).
pub type Block = Rc<[Stmt]>;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports and snapshot names.
    pub name: String,
    /// What it shows, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Scenario format version; must be [`SCENARIO_FORMAT`].
    #[serde(default = "default_format")]
    pub format: u32,
    /// Run with asyncio debug mode on (`asyncio.run(main(), debug=True)`).
    #[serde(default)]
    pub debug: bool,
    /// Extra exception classes: name to base (`{"MyError": "ValueError"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exceptions: BTreeMap<String, String>,
    /// Statements run before `asyncio.run`, with no event loop running, each on its
    /// own (an exception is recorded and the next one runs): `create_task` and `mark`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prelude: Vec<Stmt>,
    /// The main coroutine's body (`asyncio.run(main())`).
    pub main: Block,
    /// Other coroutine functions by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub coroutines: BTreeMap<String, Block>,
    /// Stream readers by name, each fed by its delivery schedule (the simulated
    /// network's output: what arrives when).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub streams: BTreeMap<String, StreamSpec>,
    /// How the streams' deliveries reach the readers: handed over in memory at their
    /// times (default), or sent over real loopback sockets.
    #[serde(default, skip_serializing_if = "DeliveryMode::is_memory")]
    pub delivery: DeliveryMode,
    /// KeyboardInterrupts delivered from outside (SIGINT) at virtual times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interrupts: Vec<Interrupt>,
    /// Bounds on the run.
    #[serde(default)]
    pub limits: Limits,
}

fn default_format() -> u32 {
    SCENARIO_FORMAT
}

/// How a scenario's streams are carried (`"delivery"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// A simulated transport: each delivery is handed to the reader's protocol at its
    /// virtual time (`feed_data`, `feed_eof`, `connection_lost(exc)`), the peer takes
    /// written bytes at its scheduled times. Deterministic.
    #[default]
    Memory,
    /// Every stream is a real loopback TCP connection: the peer sends each delivery at
    /// its time (data, FIN, RST) and the loop's own socket transport reads it; how
    /// the kernel splits the bytes between reads is the runtime's, so the model allows
    /// every split. The peer never reads: written bytes stay in its socket buffers.
    Socket,
}

impl DeliveryMode {
    /// The default, left out of scenario files.
    pub fn is_memory(&self) -> bool {
        *self == DeliveryMode::Memory
    }

    /// `memory` / `socket`.
    pub fn parse(word: &str) -> Result<DeliveryMode, String> {
        match word {
            "memory" => Ok(DeliveryMode::Memory),
            "socket" => Ok(DeliveryMode::Socket),
            other => Err(format!("unknown delivery {other:?} (memory or socket)")),
        }
    }
}

/// A `StreamReader(limit=limit)` and what the network delivers to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// The reader's buffer limit (`asyncio.streams._DEFAULT_LIMIT` is 64 KiB).
    #[serde(default = "default_stream_limit")]
    pub limit: usize,
    /// Deliveries in time order.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    /// A whole connection (`StreamReaderProtocol`, a simulated transport and a
    /// `StreamWriter` named like the reader): writes, flow control, close. Without it
    /// the reader is fed directly and a reset is `reader.set_exception`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<WriterSpec>,
}

/// The write side of a connection: the transport's buffer limits and when the peer
/// takes bytes out of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterSpec {
    /// Above this many buffered bytes the transport pauses the protocol (64 KiB).
    #[serde(default = "default_high_water")]
    pub high_water: usize,
    /// At or below this many it resumes it (default: high_water / 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_water: Option<usize>,
    /// The peer reads `bytes` at `at`, in time order.
    #[serde(default)]
    pub consumed: Vec<Consume>,
}

fn default_high_water() -> usize {
    65536
}

impl Default for WriterSpec {
    fn default() -> Self {
        WriterSpec {
            high_water: default_high_water(),
            low_water: None,
            consumed: Vec::new(),
        }
    }
}

/// The peer takes bytes from the transport's buffer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consume {
    /// Virtual time in seconds.
    #[serde(with = "crate::core::value::number")]
    pub at: f64,
    /// How many bytes.
    pub bytes: usize,
}

fn default_stream_limit() -> usize {
    65536
}

/// One delivery at a virtual time: `{"at": 0.1, "kind": "data", "data": "abc"}`,
/// `{"at": 0.2, "kind": "eof"}`, `{"at": 0.3, "kind": "reset"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Virtual time in seconds.
    #[serde(with = "crate::core::value::number")]
    pub at: f64,
    /// What arrives.
    pub kind: ArrivalKind,
    /// The bytes of a `data` delivery (one char per byte, Latin-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// The kind of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalKind {
    /// Bytes.
    Data,
    /// End of stream.
    Eof,
    /// Connection reset.
    Reset,
}

impl Delivery {
    /// What it brings.
    pub fn arrival(&self) -> Arrival {
        match self.kind {
            ArrivalKind::Data => Arrival::Data {
                data: self.data.clone().unwrap_or_default(),
            },
            ArrivalKind::Eof => Arrival::Eof,
            ArrivalKind::Reset => Arrival::Reset,
        }
    }
}

/// What a delivery brings.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    /// Bytes (one char per byte, Latin-1): `feed_data`.
    Data {
        /// The bytes.
        data: String,
    },
    /// The peer closed its side: `feed_eof`.
    Eof,
    /// The connection was reset: `set_exception(ConnectionResetError(...))`.
    Reset,
}

/// A SIGINT at a virtual time, as the user pressing Ctrl-C.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interrupt {
    /// Virtual time in seconds.
    #[serde(with = "crate::core::value::number")]
    pub at: f64,
}

/// Explicit bounds: a run that reaches one ends with a `limit` outcome, never a hang.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most loop callbacks and statements executed.
    #[serde(default = "default_steps_max")]
    pub steps_max: u64,
    /// Latest virtual time, in seconds.
    #[serde(default = "default_horizon_secs", with = "crate::core::value::number")]
    pub horizon_secs: f64,
}

fn default_steps_max() -> u64 {
    100_000
}
fn default_horizon_secs() -> f64 {
    3600.0
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            steps_max: default_steps_max(),
            horizon_secs: default_horizon_secs(),
        }
    }
}

/// Something to await.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// A fresh call of a coroutine function: `await child()`.
    Coro(String),
    /// A task or future held in a variable: `await t`.
    Var(String),
}

/// What `add_done_callback` registers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CallbackSpec {
    /// Record that it ran, with the future's outcome (read with `cancelled()`,
    /// `exception()`, `result()`: an exception is thereby retrieved).
    Record,
    /// Raise an exception from the callback.
    Raise {
        /// Class.
        class: String,
        /// Arguments.
        #[serde(default)]
        args: Vec<Value>,
    },
}

/// The loop's exception handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerSpec {
    /// `loop.set_exception_handler(None)`: the default handler logs.
    Default,
    /// A custom handler that records the context and returns.
    Record,
    /// A custom handler that raises RuntimeError.
    Raise,
    /// Not callable (`loop.set_exception_handler(42)`): TypeError.
    Invalid,
}

/// `asyncio.wait(..., return_when=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnWhen {
    /// Any done.
    FirstCompleted,
    /// Any raised.
    FirstException,
    /// All done.
    #[default]
    AllCompleted,
}

/// An `except` clause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handler {
    /// The class it catches (subclasses too). `BaseException` catches all.
    pub class: String,
    /// `except C as name`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "as")]
    pub name: Option<String>,
    /// Handler body.
    pub body: Block,
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stmt {
    /// `[var =] await asyncio.sleep(delay[, result])`.
    Sleep {
        /// Seconds.
        #[serde(with = "crate::core::value::number")]
        delay: f64,
        /// Value returned.
        #[serde(default, skip_serializing_if = "is_none_value")]
        result: Value,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `await asyncio.sleep(0)`: let other tasks run.
    Checkpoint,
    /// `var = asyncio.create_task(coro(), name=...)`.
    CreateTask {
        /// Coroutine function.
        coro: String,
        /// Variable to bind (also the task's name unless `name` is given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
        /// Task name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// `[var =] await target`.
    Await {
        /// What to await.
        target: Target,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `target.cancel(msg)`; the returned bool is recorded. The message may be any
    /// value (`CancelledError(msg)` carries it as is).
    Cancel {
        /// Task or future variable.
        target: String,
        /// Cancel message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg: Option<Value>,
    },
    /// `task.cancelling()`; the count is recorded.
    Cancelling {
        /// Task variable (`main` for the main task).
        task: String,
    },
    /// `task.uncancel()`; the count is recorded.
    Uncancel {
        /// Task variable.
        task: String,
    },
    /// `target.done()` / `target.cancelled()`, recorded.
    Query {
        /// Task or future variable.
        target: String,
        /// `done` or `cancelled`.
        what: Query,
    },
    /// `target.result()`; the value or the exception raised is recorded.
    Result {
        /// Task or future variable.
        target: String,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `target.exception()`; recorded like `result`.
    Exception {
        /// Task or future variable.
        target: String,
    },
    /// `raise Class(*args)`.
    Raise {
        /// Class (`raise Class(*args)`); empty with `var`.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        class: String,
        /// Arguments.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<Value>,
        /// `raise var`: the exception object a variable holds (`except E as var`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
        /// `raise ... from cause`.
        #[serde(default, rename = "from", skip_serializing_if = "Option::is_none")]
        cause: Option<RaiseFrom>,
    },
    /// Bare `raise` inside an `except` body.
    Reraise,
    /// `return value`.
    Return {
        /// Value.
        #[serde(default, skip_serializing_if = "is_none_value")]
        value: Value,
        /// `return var` instead: what the variable holds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `var = value` (a value as JSON writes it; `{"class": C, "args": [...]}` is an
    /// exception instance, `C(*args)`).
    Assign {
        /// Variable.
        var: String,
        /// Value.
        value: Value,
    },
    /// `try`/`except`/`else`/`finally`.
    Try {
        /// The `try` body.
        body: Block,
        /// `except` clauses, first match wins.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        handlers: Vec<Handler>,
        /// The `else` body.
        #[serde(default, rename = "else", skip_serializing_if = "is_empty_block")]
        orelse: Option<Block>,
        /// The `finally` body.
        #[serde(default, skip_serializing_if = "is_empty_block")]
        finally: Option<Block>,
    },
    /// `[var =] await asyncio.gather(*items, return_exceptions=...)`.
    Gather {
        /// Awaitables.
        items: Vec<Target>,
        /// `return_exceptions`.
        #[serde(default)]
        return_exceptions: bool,
        /// Variable to bind (the result list).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
        /// Variable to bind the gathering future to before awaiting it
        /// (`g = asyncio.gather(...); await g`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        future: Option<String>,
        /// False: only `future = asyncio.gather(...)`, held for later (await, cancel,
        /// query); needs `future`.
        #[serde(default = "yes", rename = "await", skip_serializing_if = "is_true")]
        await_: bool,
    },
    /// `[var =] await asyncio.wait_for(target, timeout)`.
    WaitFor {
        /// What to wait for.
        target: Target,
        /// Seconds, or null for none.
        #[serde(default, with = "crate::core::value::number_opt")]
        timeout: Option<f64>,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `async with asyncio.timeout(delay) [as var]:` (or `timeout_at(at)` when `at` is given).
    Timeout {
        /// Seconds from now, or null for no deadline.
        #[serde(default, with = "crate::core::value::number_opt")]
        delay: Option<f64>,
        /// Absolute loop time instead of `delay`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::core::value::number_opt"
        )]
        at: Option<f64>,
        /// Variable holding the Timeout object.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
        /// The block.
        body: Block,
    },
    /// `cm.reschedule(loop.time() + delay)` (null delay: `reschedule(None)`).
    Reschedule {
        /// The Timeout variable.
        cm: String,
        /// Seconds from now.
        #[serde(default, with = "crate::core::value::number_opt")]
        delay: Option<f64>,
    },
    /// `cm.expired()`, recorded.
    Expired {
        /// The Timeout variable.
        cm: String,
    },
    /// `cm.when()`, recorded (the deadline as a float, or None).
    When {
        /// The Timeout variable.
        cm: String,
    },
    /// `[var =] await asyncio.shield(target)`.
    Shield {
        /// What to shield.
        target: Target,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
        /// Variable to bind the outer future to (`s = asyncio.shield(t)`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        future: Option<String>,
        /// False: only `future = asyncio.shield(...)`, held for later; needs `future`.
        #[serde(default = "yes", rename = "await", skip_serializing_if = "is_true")]
        await_: bool,
    },
    /// `async with asyncio.TaskGroup() as var:`.
    TaskGroup {
        /// The group's variable.
        var: String,
        /// The block.
        body: Block,
    },
    /// `var = group.create_task(coro(), name=...)`.
    GroupTask {
        /// The group's variable.
        group: String,
        /// Coroutine function.
        coro: String,
        /// Variable to bind (also the task's name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `done, pending = await asyncio.wait(items, timeout=..., return_when=...)`.
    Wait {
        /// Task or future variables.
        items: Vec<String>,
        /// Seconds.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::core::value::number_opt"
        )]
        timeout: Option<f64>,
        /// When to return.
        #[serde(default)]
        return_when: ReturnWhen,
        /// Coroutine functions whose coroutine objects are passed too (`c()` in the
        /// list), which 3.11+ forbids.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        coros: Vec<String>,
    },
    /// `for f in asyncio.as_completed(items, timeout=...): await f` (each outcome recorded).
    AsCompleted {
        /// Task or future variables.
        items: Vec<String>,
        /// Seconds.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::core::value::number_opt"
        )]
        timeout: Option<f64>,
    },
    /// `var = loop.create_future()`.
    NewFuture {
        /// Variable to bind.
        var: String,
    },
    /// `fut.set_result(value)`.
    SetResult {
        /// Future variable.
        future: String,
        /// Value.
        #[serde(default)]
        value: Value,
    },
    /// `fut.set_exception(Class(*args))`.
    SetException {
        /// Future variable.
        future: String,
        /// Class.
        class: String,
        /// Arguments.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<Value>,
    },
    /// `target.add_done_callback(cb)`.
    AddDoneCallback {
        /// Task or future variable.
        target: String,
        /// The callback.
        callback: CallbackSpec,
    },
    /// `coro()` called and dropped without awaiting.
    CallUnawaited {
        /// Coroutine function.
        coro: String,
    },
    /// Blocking work that holds the loop (`time.sleep(seconds)`).
    Block {
        /// Seconds.
        #[serde(with = "crate::core::value::number")]
        seconds: f64,
    },
    /// `loop.set_exception_handler(...)`.
    SetExceptionHandler {
        /// Which handler.
        handler: HandlerSpec,
    },
    /// `var = await reader.read(n)` (n = -1: until EOF).
    Read {
        /// The reader.
        reader: String,
        /// Byte count, or -1.
        n: i64,
        /// Variable for the result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `var = await reader.readexactly(n)`.
    #[serde(rename = "readexactly")]
    ReadExactly {
        /// The reader.
        reader: String,
        /// Byte count.
        n: i64,
        /// Variable for the result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `var = await reader.readuntil(separator)`.
    #[serde(rename = "readuntil")]
    ReadUntil {
        /// The reader.
        reader: String,
        /// The separator (Latin-1 chars).
        separator: String,
        /// Variable for the result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `var = await reader.readline()`.
    #[serde(rename = "readline")]
    ReadLine {
        /// The reader.
        reader: String,
        /// Variable for the result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `reader.at_eof()`.
    AtEof {
        /// The reader.
        reader: String,
    },
    /// `writer.write(data)` on the connection named like its reader.
    Write {
        /// The connection.
        stream: String,
        /// The bytes (Latin-1 chars).
        data: String,
    },
    /// `await writer.drain()`.
    Drain {
        /// The connection.
        stream: String,
    },
    /// `writer.close()`.
    Close {
        /// The connection.
        stream: String,
    },
    /// `await writer.wait_closed()`.
    WaitClosed {
        /// The connection.
        stream: String,
    },
    /// `await loop.sendfile(writer.transport, io.BytesIO(data), fallback=False)`: a
    /// file object that is not a regular file, so no native sendfile.
    Sendfile {
        /// The connection.
        stream: String,
        /// The file's bytes (Latin-1 chars).
        data: String,
    },
    /// `[var =] loop.call_soon(callback)`: the callback is a function of synchronous
    /// statements the loop runs as a handle (no task: nothing in it may await; what it
    /// raises goes to the exception handler, KeyboardInterrupt and SystemExit out of
    /// the loop).
    CallSoon {
        /// The callback's statements.
        callback: Block,
        /// Variable for the `Handle`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `[var =] loop.call_later(delay, callback)`.
    CallLater {
        /// Seconds.
        #[serde(with = "crate::core::value::number")]
        delay: f64,
        /// The callback's statements.
        callback: Block,
        /// Variable for the `TimerHandle`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `[var =] loop.call_at(at, callback)` (absolute loop time).
    CallAt {
        /// Loop time.
        #[serde(with = "crate::core::value::number")]
        at: f64,
        /// The callback's statements.
        callback: Block,
        /// Variable for the `TimerHandle`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    // asyncio's synchronization primitives and queues (model/src/asyncio/locks.rs,
    // queues.rs): one constructor, one synchronous call, one awaited call.
    /// `var = asyncio.Lock()`, `Event()`, `Condition(lock)`, `Semaphore(value)`,
    /// `BoundedSemaphore(value)`, `Barrier(value)`, `Queue(value)`,
    /// `PriorityQueue(value)` or `LifoQueue(value)`. A constructor that raises
    /// (`Semaphore(-1)`, `Barrier(0)`) is recorded as a call.
    SyncNew {
        /// Which class.
        kind: SyncKind,
        /// Variable to bind.
        var: String,
        /// A semaphore's initial value (default 1), a barrier's parties (required), a
        /// queue's maxsize (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<i64>,
        /// A condition's lock: the variable of a Lock (or of anything with `locked`,
        /// `acquire` and `release`, as Python takes it); default a new Lock.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lock: Option<String>,
    },
    /// `[var =] target.method(arg)`, a synchronous method or property of a primitive or
    /// queue (`l.release()`, `q.put_nowait(1)`, `c.notify(2)`, `q.shutdown(immediate=True)`,
    /// `b.n_waiting`); recorded as a call.
    SyncCall {
        /// The primitive's or queue's variable.
        target: String,
        /// Which method.
        method: SyncMethod,
        /// The argument: `put_nowait`'s item, `notify`'s n (an int), `shutdown`'s
        /// immediate (a bool); none for the others.
        #[serde(
            default,
            deserialize_with = "present_value",
            skip_serializing_if = "Option::is_none"
        )]
        arg: Option<Value>,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `[var =] await target.method(arg)`: `acquire()`, `wait()`, `put(item)`, `get()`,
    /// `join()`, `reset()`, `abort()`; recorded as a resume.
    SyncAwait {
        /// The primitive's or queue's variable.
        target: String,
        /// Which coroutine method.
        method: SyncAwaitMethod,
        /// `put`'s item; none for the others.
        #[serde(
            default,
            deserialize_with = "present_value",
            skip_serializing_if = "Option::is_none"
        )]
        arg: Option<Value>,
        /// Variable to bind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        var: Option<String>,
    },
    /// `var = concurrent.futures.Future()`.
    NewConcurrentFuture {
        /// Variable.
        var: String,
    },
    /// `var = asyncio.wrap_future(cfuture)`.
    WrapFuture {
        /// The concurrent future's variable.
        cfuture: String,
        /// Variable for the asyncio future.
        var: String,
    },
    /// `loop.set_task_factory(asyncio.eager_task_factory)` (3.12+; on 3.11 the name
    /// does not exist).
    SetEagerTaskFactory,
    /// `loop.call_exception_handler({'message': message})`.
    CallExceptionHandler {
        /// The context's message.
        message: String,
    },
    /// `asyncio.run(coro())` called from inside the running loop.
    NestedRun {
        /// Coroutine function.
        coro: String,
    },
    /// `await BadAwaitable()`, whose `__await__` yields 42 (not a future): the task
    /// throws RuntimeError into it on its next step.
    BadYield,
    /// A label in the trace.
    Mark {
        /// Label.
        label: String,
    },
}

/// What `raise ... from` names: `"none"` (`from None`), a variable (`{"var": "e"}`), or a
/// new exception (`{"class": "KeyError", "args": ["k"]}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum RaiseFrom {
    /// `from None`, spelled `"none"`.
    None(FromNone),
    /// `from var`.
    Var {
        /// The variable.
        var: String,
    },
    /// `from Class(*args)`.
    New {
        /// Class.
        class: String,
        /// Arguments.
        #[serde(default)]
        args: Vec<Value>,
    },
}

/// The word `"none"` of `"from": "none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromNone {
    /// `from None`.
    None,
}

/// The class a `sync_new` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// `asyncio.Lock`.
    Lock,
    /// `asyncio.Event`.
    Event,
    /// `asyncio.Condition`.
    Condition,
    /// `asyncio.Semaphore`.
    Semaphore,
    /// `asyncio.BoundedSemaphore`.
    BoundedSemaphore,
    /// `asyncio.Barrier` (3.11+).
    Barrier,
    /// `asyncio.Queue`.
    Queue,
    /// `asyncio.PriorityQueue`.
    PriorityQueue,
    /// `asyncio.LifoQueue`.
    LifoQueue,
}

impl SyncKind {
    /// The class's name (`type(obj).__name__`).
    pub fn class_name(self) -> &'static str {
        match self {
            SyncKind::Lock => "Lock",
            SyncKind::Event => "Event",
            SyncKind::Condition => "Condition",
            SyncKind::Semaphore => "Semaphore",
            SyncKind::BoundedSemaphore => "BoundedSemaphore",
            SyncKind::Barrier => "Barrier",
            SyncKind::Queue => "Queue",
            SyncKind::PriorityQueue => "PriorityQueue",
            SyncKind::LifoQueue => "LifoQueue",
        }
    }
}

/// A synchronous method or property (`sync_call`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMethod {
    /// `locked()` (Lock, Condition, Semaphore).
    Locked,
    /// `release()` (Lock, Condition, Semaphore).
    Release,
    /// `is_set()` (Event).
    IsSet,
    /// `set()` (Event).
    Set,
    /// `clear()` (Event).
    Clear,
    /// `notify(n)` (Condition).
    Notify,
    /// `notify_all()` (Condition).
    NotifyAll,
    /// `qsize()` (queues).
    Qsize,
    /// `empty()` (queues).
    Empty,
    /// `full()` (queues).
    Full,
    /// `maxsize`, a property (queues).
    Maxsize,
    /// `put_nowait(item)` (queues).
    PutNowait,
    /// `get_nowait()` (queues).
    GetNowait,
    /// `task_done()` (queues).
    TaskDone,
    /// `shutdown(immediate)` (queues, 3.13).
    Shutdown,
    /// `parties`, a property (Barrier).
    Parties,
    /// `n_waiting`, a property (Barrier).
    NWaiting,
    /// `broken`, a property (Barrier).
    Broken,
}

impl SyncMethod {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            SyncMethod::Locked => "locked",
            SyncMethod::Release => "release",
            SyncMethod::IsSet => "is_set",
            SyncMethod::Set => "set",
            SyncMethod::Clear => "clear",
            SyncMethod::Notify => "notify",
            SyncMethod::NotifyAll => "notify_all",
            SyncMethod::Qsize => "qsize",
            SyncMethod::Empty => "empty",
            SyncMethod::Full => "full",
            SyncMethod::Maxsize => "maxsize",
            SyncMethod::PutNowait => "put_nowait",
            SyncMethod::GetNowait => "get_nowait",
            SyncMethod::TaskDone => "task_done",
            SyncMethod::Shutdown => "shutdown",
            SyncMethod::Parties => "parties",
            SyncMethod::NWaiting => "n_waiting",
            SyncMethod::Broken => "broken",
        }
    }

    /// A property, read without a call (`b.n_waiting`).
    pub fn is_property(self) -> bool {
        matches!(
            self,
            SyncMethod::Maxsize | SyncMethod::Parties | SyncMethod::NWaiting | SyncMethod::Broken
        )
    }
}

/// A coroutine method (`sync_await`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAwaitMethod {
    /// `acquire()` (Lock, Condition, Semaphore).
    Acquire,
    /// `wait()` (Event, Condition, Barrier).
    Wait,
    /// `put(item)` (queues).
    Put,
    /// `get()` (queues).
    Get,
    /// `join()` (queues).
    Join,
    /// `reset()` (Barrier).
    Reset,
    /// `abort()` (Barrier).
    Abort,
}

impl SyncAwaitMethod {
    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            SyncAwaitMethod::Acquire => "acquire",
            SyncAwaitMethod::Wait => "wait",
            SyncAwaitMethod::Put => "put",
            SyncAwaitMethod::Get => "get",
            SyncAwaitMethod::Join => "join",
            SyncAwaitMethod::Reset => "reset",
            SyncAwaitMethod::Abort => "abort",
        }
    }
}

/// A field that, when present, holds a value, `null` (Python's None) included.
fn present_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// What is wrong with a `sync_new` / `sync_call` / `sync_await` that its shape decides
/// (which arguments a method takes); what the objects are is only known at run time.
fn sync_problems(stmt: &Stmt, here: &dyn std::fmt::Display, problems: &mut Vec<String>) {
    match stmt {
        Stmt::SyncNew {
            kind, value, lock, ..
        } => {
            let takes_value =
                !matches!(kind, SyncKind::Lock | SyncKind::Event | SyncKind::Condition);
            if value.is_some() && !takes_value {
                problems.push(format!("{here}: {} takes no `value`", kind.class_name()));
            }
            if value.is_none() && *kind == SyncKind::Barrier {
                problems.push(format!("{here}: Barrier needs a `value` (its parties)"));
            }
            if lock.is_some() && *kind != SyncKind::Condition {
                problems.push(format!("{here}: only a Condition takes a `lock`"));
            }
        }
        Stmt::SyncCall { method, arg, .. } => {
            let ok = match (method, arg) {
                (SyncMethod::PutNowait, Some(_)) => true,
                (SyncMethod::PutNowait, None) => false,
                (SyncMethod::Notify, None | Some(Value::Int(_))) => true,
                (SyncMethod::Shutdown, None | Some(Value::Bool(_))) => true,
                (_, None) => true,
                _ => false,
            };
            if !ok {
                problems.push(format!(
                    "{here}: {}: put_nowait takes its item as `arg`, notify an int, shutdown a bool, the others none",
                    method.name()
                ));
            }
        }
        Stmt::SyncAwait { method, arg, .. }
            if (*method == SyncAwaitMethod::Put) != arg.is_some() =>
        {
            problems.push(format!(
                "{here}: {}: put takes its item as `arg`, the others none",
                method.name()
            ));
        }
        _ => {}
    }
}

/// `done()` or `cancelled()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    /// `done()`.
    Done,
    /// `cancelled()`.
    Cancelled,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_none_value(v: &Value) -> bool {
    *v == Value::None
}

fn is_empty_block(b: &Option<Block>) -> bool {
    b.as_ref().is_none_or(|b| b.is_empty())
}

impl Stmt {
    /// Does running it suspend (an await, an `async with`, or one inside a `try`)?
    pub fn awaits(&self) -> bool {
        match self {
            Stmt::Sleep { .. }
            | Stmt::Checkpoint
            | Stmt::Await { .. }
            | Stmt::WaitFor { .. }
            | Stmt::Timeout { .. }
            | Stmt::TaskGroup { .. }
            | Stmt::Wait { .. }
            | Stmt::AsCompleted { .. }
            | Stmt::Read { .. }
            | Stmt::ReadExactly { .. }
            | Stmt::ReadUntil { .. }
            | Stmt::ReadLine { .. }
            | Stmt::Drain { .. }
            | Stmt::WaitClosed { .. }
            | Stmt::Sendfile { .. }
            | Stmt::BadYield => true,
            Stmt::Gather { await_, .. } | Stmt::Shield { await_, .. } => *await_,
            Stmt::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                body.iter().any(Stmt::awaits)
                    || handlers.iter().any(|h| h.body.iter().any(Stmt::awaits))
                    || orelse.iter().flat_map(|b| b.iter()).any(Stmt::awaits)
                    || finally.iter().flat_map(|b| b.iter()).any(Stmt::awaits)
            }
            _ => false,
        }
    }
}

impl Scenario {
    /// Parse and validate a scenario from JSON text. Errors say where (`line:column`).
    pub fn from_json(text: &str) -> Result<Scenario, String> {
        let s: Scenario = serde_json::from_str(text).map_err(|e| json_problem(&e))?;
        s.validate()?;
        Ok(s)
    }

    /// The body of a coroutine function by name (`main` is the main coroutine).
    pub fn coroutine(&self, name: &str) -> Option<&Block> {
        if name == "main" {
            Some(&self.main)
        } else {
            self.coroutines.get(name)
        }
    }

    /// How many statements the scenario has, nested bodies included.
    pub fn statement_count(&self) -> usize {
        fn count(b: &[Stmt]) -> usize {
            b.iter()
                .map(|st| {
                    1 + match st {
                        Stmt::Try {
                            body,
                            handlers,
                            orelse,
                            finally,
                        } => {
                            count(body)
                                + handlers.iter().map(|h| count(&h.body)).sum::<usize>()
                                + orelse.as_ref().map_or(0, |b| count(b))
                                + finally.as_ref().map_or(0, |b| count(b))
                        }
                        Stmt::Timeout { body, .. } | Stmt::TaskGroup { body, .. } => count(body),
                        Stmt::CallSoon { callback, .. }
                        | Stmt::CallLater { callback, .. }
                        | Stmt::CallAt { callback, .. } => count(callback),
                        _ => 0,
                    }
                })
                .sum()
        }
        count(&self.main) + self.coroutines.values().map(|b| count(b)).sum::<usize>()
    }

    /// Check what can be checked before running: format, classes, coroutine names, limits.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != SCENARIO_FORMAT {
            return Err(format!(
                "scenario format {} is not supported (this model reads format {SCENARIO_FORMAT})",
                self.format
            ));
        }
        let hierarchy = Hierarchy::with_user_classes(&self.exceptions)?;
        if self.limits.steps_max == 0
            || !self.limits.horizon_secs.is_finite()
            || self.limits.horizon_secs <= 0.0
        {
            return Err("limits must be positive (and the horizon finite)".into());
        }
        for i in &self.interrupts {
            if !i.at.is_finite() || i.at < 0.0 {
                return Err(format!(
                    "interrupt time {} must be a finite time >= 0",
                    i.at
                ));
            }
        }
        let mut problems = Vec::new();
        for (name, spec) in &self.streams {
            if spec.limit == 0 {
                problems.push(format!("streams.{name}: limit must be > 0"));
            }
            let mut last = 0.0;
            let mut ended = false;
            for (i, d) in spec.deliveries.iter().enumerate() {
                let here = format!("streams.{name}.deliveries[{i}]");
                if !d.at.is_finite() || d.at < last {
                    problems.push(format!("{here}: times must be finite, >= 0 and in order"));
                }
                last = d.at;
                if (d.kind == ArrivalKind::Data) != d.data.is_some() {
                    problems.push(format!(
                        "{here}: a data delivery has `data`; eof and reset have none"
                    ));
                }
                match &d.arrival() {
                    Arrival::Data { data } => {
                        if crate::core::value::bytes_of(data).is_none() {
                            problems
                                .push(format!("{here}: data must be bytes (chars up to U+00FF)"));
                        }
                        if ended {
                            problems
                                .push(format!("{here}: data after eof (feed_data after feed_eof)"));
                        }
                    }
                    Arrival::Eof => ended = true,
                    Arrival::Reset => {}
                }
            }
        }
        for (i, st) in self.prelude.iter().enumerate() {
            match st {
                Stmt::CreateTask { coro, .. } if self.coroutine(coro).is_none() => {
                    problems.push(format!("prelude[{i}]: unknown coroutine {coro:?}"))
                }
                Stmt::CreateTask { .. } | Stmt::Mark { .. } => {}
                _ => problems.push(format!(
                    "prelude[{i}]: only create_task and mark can run before asyncio.run"
                )),
            }
        }
        self.validate_block("main", &self.main, &hierarchy, &mut problems);
        for (name, body) in &self.coroutines {
            if name == "main" {
                problems
                    .push("a coroutine may not be named `main`; that is the `main` field".into());
            }
            self.validate_block(name, body, &hierarchy, &mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn validate_block(&self, at: &str, block: &Block, h: &Hierarchy, problems: &mut Vec<String>) {
        for (i, stmt) in block.iter().enumerate() {
            // Formatted only when a problem is reported (validation runs on every run).
            let here = At(at, i);
            let coro_exists = |name: &str, problems: &mut Vec<String>| {
                if self.coroutine(name).is_none() {
                    problems.push(format!("{here}: unknown coroutine {name:?}"));
                }
            };
            let class_known = |class: &str, problems: &mut Vec<String>| {
                if !h.is_known(class) {
                    problems.push(format!(
                        "{here}: unknown exception class {class:?} (declare it under \"exceptions\")"
                    ));
                }
            };
            // A time argument may be infinite (`asyncio.sleep(float('inf'))` sleeps for
            // ever; a timeout of inf never expires) but not nan: asyncio's loop would run
            // a nan timer at once and uvloop raises ValueError, which is not modelled.
            let time_ok = |d: Option<f64>, problems: &mut Vec<String>| {
                if d.is_some_and(f64::is_nan) {
                    problems.push(format!(
                        "{here}: a nan time is not supported (asyncio runs a nan timer at once, uvloop raises ValueError; neither is modelled)"
                    ));
                }
            };
            if let Stmt::Gather {
                future: None,
                await_: false,
                ..
            }
            | Stmt::Shield {
                future: None,
                await_: false,
                ..
            } = stmt
            {
                problems.push(format!(
                    "{here}: \"await\": false holds the future in a variable: give \"future\""
                ));
            }
            match stmt {
                Stmt::Read { reader, .. }
                | Stmt::ReadExactly { reader, .. }
                | Stmt::ReadLine { reader, .. }
                | Stmt::AtEof { reader }
                    if !self.streams.contains_key(reader) =>
                {
                    problems.push(format!(
                        "{here}: unknown stream reader {reader:?} (declare it under \"streams\")"
                    ));
                }
                Stmt::Write { stream, .. }
                | Stmt::Drain { stream }
                | Stmt::Close { stream }
                | Stmt::WaitClosed { stream }
                | Stmt::Sendfile { stream, .. }
                    if self.streams.get(stream).is_none_or(|s| s.writer.is_none()) =>
                {
                    problems.push(format!("{here}: {stream:?} is not a connection (declare it under \"streams\" with a \"writer\")"));
                }
                Stmt::ReadUntil {
                    reader, separator, ..
                } => {
                    if !self.streams.contains_key(reader) {
                        problems.push(format!("{here}: unknown stream reader {reader:?} (declare it under \"streams\")"));
                    }
                    if crate::core::value::bytes_of(separator).is_none() {
                        problems.push(format!(
                            "{here}: separator must be bytes (chars up to U+00FF)"
                        ));
                    }
                }
                Stmt::SyncNew { .. } | Stmt::SyncCall { .. } | Stmt::SyncAwait { .. } => {
                    sync_problems(stmt, &here, problems)
                }
                Stmt::Sleep { delay, .. } => time_ok(Some(*delay), problems),
                Stmt::Reschedule { delay, .. } => time_ok(*delay, problems),
                Stmt::AsCompleted { timeout, .. } => time_ok(*timeout, problems),
                Stmt::Block { seconds } if !seconds.is_finite() || *seconds < 0.0 => {
                    problems.push(format!("{here}: block seconds must be finite and >= 0"));
                }
                Stmt::CreateTask { coro, .. }
                | Stmt::GroupTask { coro, .. }
                | Stmt::NestedRun { coro }
                | Stmt::CallUnawaited { coro } => coro_exists(coro, problems),
                Stmt::Wait { coros, timeout, .. } => {
                    time_ok(*timeout, problems);
                    coros.iter().for_each(|c| coro_exists(c, problems))
                }
                Stmt::WaitFor {
                    target, timeout, ..
                } => {
                    time_ok(*timeout, problems);
                    if let Target::Coro(c) = target {
                        coro_exists(c, problems);
                    }
                }
                Stmt::Await { target, .. } | Stmt::Shield { target, .. } => {
                    if let Target::Coro(c) = target {
                        coro_exists(c, problems);
                    }
                }
                Stmt::Gather { items, .. } => {
                    for t in items {
                        if let Target::Coro(c) = t {
                            coro_exists(c, problems);
                        }
                    }
                }
                Stmt::Raise {
                    class, var, cause, ..
                } => {
                    if class.is_empty() == var.is_none() {
                        problems.push(format!(
                            "{here}: raise names a \"class\" or a \"var\", one of them"
                        ));
                    } else if !class.is_empty() {
                        class_known(class, problems);
                    }
                    if let Some(RaiseFrom::New { class, .. }) = cause {
                        class_known(class, problems);
                    }
                }
                Stmt::SetException { class, .. } => class_known(class, problems),
                Stmt::AddDoneCallback {
                    callback: CallbackSpec::Raise { class, .. },
                    ..
                } => class_known(class, problems),
                Stmt::Try {
                    body,
                    handlers,
                    orelse,
                    finally,
                } => {
                    self.validate_block(&format!("{here}.try"), body, h, problems);
                    for (k, handler) in handlers.iter().enumerate() {
                        class_known(&handler.class, problems);
                        self.validate_block(
                            &format!("{here}.except[{k}]"),
                            &handler.body,
                            h,
                            problems,
                        );
                    }
                    if let Some(b) = orelse {
                        self.validate_block(&format!("{here}.else"), b, h, problems);
                    }
                    if let Some(b) = finally {
                        self.validate_block(&format!("{here}.finally"), b, h, problems);
                    }
                }
                Stmt::Timeout {
                    body, delay, at, ..
                } => {
                    time_ok(*delay, problems);
                    time_ok(*at, problems);
                    if delay.is_some() && at.is_some() {
                        problems.push(format!("{here}: give `delay` or `at`, not both"));
                    }
                    self.validate_block(&format!("{here}.timeout"), body, h, problems);
                }
                Stmt::TaskGroup { body, .. } => {
                    self.validate_block(&format!("{here}.task_group"), body, h, problems)
                }
                Stmt::CallSoon { callback, .. }
                | Stmt::CallLater { callback, .. }
                | Stmt::CallAt { callback, .. } => {
                    if let Stmt::CallLater { delay: t, .. } | Stmt::CallAt { at: t, .. } = stmt {
                        time_ok(Some(*t), problems);
                    }
                    let at = format!("{here}.callback");
                    if let Some(k) = callback.iter().position(Stmt::awaits) {
                        problems.push(format!(
                            "{at}[{k}]: a callback runs outside any task and cannot await"
                        ));
                    }
                    self.validate_block(&at, callback, h, problems)
                }
                _ => {}
            }
        }
    }
}

/// `line L column C: what`, once (serde_json's own text ends with the place too).
pub fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let what = text.strip_suffix(&suffix).unwrap_or(&text);
    format!("line {} column {}: {what}", e.line(), e.column())
}

/// `main[3]`: where a statement is, for problem messages.
struct At<'a>(&'a str, usize);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_error_names_its_place_once_and_the_shapes_allowed() {
        let e = Scenario::from_json(
            r#"{"name": "x", "main": [{"op": "set_result", "future": "f", "value": {"y": 1}}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.matches("line 1 column").count(), 1, "{e}");
        assert!(e.contains("{\"bytes\": ...}"), "{e}");
    }

    #[test]
    fn floats_and_spelled_infinities_are_values_and_times() {
        let s = Scenario::from_json(
            r#"{"name": "x", "main": [{"op": "sleep", "delay": {"float": "inf"}, "result": 2.5}]}"#,
        )
        .unwrap();
        assert!(
            matches!(&s.main[0], Stmt::Sleep { delay, result: Value::Float(_), .. } if delay.is_infinite())
        );
        let e = Scenario::from_json(
            r#"{"name": "x", "main": [{"op": "sleep", "delay": {"float": "nan"}}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("main[0]: a nan time is not supported"), "{e}");
    }
}
