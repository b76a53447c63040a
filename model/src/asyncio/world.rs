//! The world: every object of a run (futures, tasks, exceptions, timers), the event
//! loop's queues, the virtual clock and the trace being written.
//!
//! The loop transcribes CPython's `BaseEventLoop._run_once` (Lib/asyncio/base_events.py):
//! cancelled-timer cleanup, the select timeout that advances the virtual clock, moving
//! due timers (`when < now + clock_resolution`) to the ready queue, then running exactly
//! the callbacks that were ready when the iteration began. Times are `f64`, computed with
//! the same float operations Python uses, so ties and roundings match.

use crate::asyncio::coroutine::Frame;
use crate::core::exception::{ExcId, ExcObj, ExcView, Hierarchy};
use crate::core::heapq;
use crate::core::profile::{EventLoop, Profile};
use crate::core::scenario::{CallbackSpec, HandlerSpec, Scenario};
use crate::core::trace::{Event, EventKind, Outcome};
use crate::core::value::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `time.get_clock_info('monotonic').resolution` on Linux, which `_run_once` adds to
/// `now` when deciding which timers are due.
pub const CLOCK_RESOLUTION: f64 = 1e-9;
/// `base_events.MAXIMUM_SELECT_TIMEOUT`: the longest single clock advance.
pub const MAXIMUM_SELECT_TIMEOUT: f64 = 24.0 * 3600.0;
/// `BaseEventLoop.slow_callback_duration` default (debug mode's "slow" threshold).
pub const SLOW_CALLBACK_DURATION: f64 = 0.1;
/// `_MIN_SCHEDULED_TIMER_HANDLES` and `_MIN_CANCELLED_TIMER_HANDLES_FRACTION`.
const MIN_SCHEDULED_TIMER_HANDLES: usize = 100;
const MIN_CANCELLED_TIMER_HANDLES_FRACTION: f64 = 0.5;

/// Index of a future (tasks are futures too, as in asyncio).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FutId(pub u32);

/// Index of a timer handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u32);

/// Index of a Timeout context manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CmId(pub u32);

/// Index of a TaskGroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TgId(pub u32);

/// A future's state (`_PENDING`, `_CANCELLED`, `_FINISHED`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FutState {
    /// Not done.
    Pending,
    /// Cancelled.
    Cancelled,
    /// Finished with a result.
    Result(Value),
    /// Finished with an exception.
    Exception(ExcId),
}

/// What a done callback does when the loop runs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Callback {
    /// `Task.__wakeup(fut)`.
    Wakeup(FutId),
    /// `gather`'s `_done_callback` for the gathering future.
    GatherChild(FutId),
    /// `shield`'s `_inner_done_callback` (outer future).
    ShieldInner(FutId),
    /// `shield`'s `_outer_done_callback` (inner future).
    ShieldOuter(FutId),
    /// `functools.partial(_release_waiter, waiter)`.
    ReleaseWaiter(FutId),
    /// `_wait`'s `_on_completion` (state index).
    WaitCompletion(usize),
    /// `as_completed`'s `_on_completion` (state index).
    AsCompletedCompletion(usize),
    /// `TaskGroup._on_task_done`.
    TaskGroupDone(TgId),
    /// `_run_until_complete_cb`: stop the loop.
    RunUntilComplete,
    /// A scenario's `add_done_callback`.
    User(CallbackSpec, String),
    /// `_chain_future`'s `_call_check_cancel` (wrap_future): cancel the source.
    CheckCancel(crate::concurrent::future::CFutId),
}

/// What the loop runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Handle {
    /// `Task.__step(exc)`.
    Step(FutId, Option<ExcId>),
    /// A done callback, called with the future.
    Done(Callback, FutId),
    /// A timer's callback (or a `call_soon` of one), identified so it can be cancelled.
    Timer(TimerId),
    /// `call_soon_threadsafe(lambda: None)` in the SIGINT handler: wakes the loop.
    Noop,
    /// uvloop's queued `Loop._stop` (its `stop()` is a callback).
    UvStop,
    /// `_chain_future`'s `_set_state(destination, source)`, queued with
    /// `call_soon_threadsafe` when a concurrent future finishes.
    CopyState(FutId, crate::concurrent::future::CFutId),
}

/// A timer's callback.
#[derive(Clone, Debug, PartialEq)]
pub enum TimerAction {
    /// `futures._set_result_unless_cancelled(fut, result)` (asyncio.sleep).
    SetResultUnlessCancelled(FutId, Value),
    /// `Timeout._on_timeout`.
    TimeoutFire(CmId),
    /// `_release_waiter(waiter)` (wait_for 3.11, wait).
    ReleaseWaiter(FutId),
    /// `_wait`'s timeout: release the waiter.
    WaitTimeout(FutId),
    /// `as_completed`'s `_on_timeout` (state index).
    AsCompletedTimeout(usize),
    /// The SIGINT from a scenario's interrupt.
    Sigint,
    /// The network's delivery `index` to the named reader.
    Deliver(String, usize),
    /// The peer takes bytes from the named connection's buffer (schedule index).
    Consume(String, usize),
    /// `_call_connection_lost(exc)`: after `close()` of an empty transport (None), or
    /// the socket transport's `_force_close(exc)`.
    ConnectionLost(String, Option<ExcId>),
    /// The socket transport's registered reader, `_read_ready` (socket delivery).
    ReadReady(String),
    /// A scenario's callback (`call_soon` / `call_later` / `call_at`).
    Callback(crate::core::scenario::Block),
}

/// A timer handle: `TimerHandle(when, callback)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Timer {
    /// Loop time it is due.
    pub when: f64,
    /// What it does.
    pub action: TimerAction,
    /// `handle.cancel()` was called.
    pub cancelled: bool,
    /// It is in the heap (`_scheduled`).
    pub scheduled: bool,
    /// Made by `call_at` / `call_later` (a `TimerHandle`), not `call_soon` (a `Handle`).
    pub scheduled_at_creation: bool,
}

/// A task's own state beyond its future.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskState {
    /// The coroutine: a stack of frames, innermost last.
    pub frames: Vec<Frame>,
    /// `_fut_waiter`.
    pub fut_waiter: Option<FutId>,
    /// `_must_cancel`.
    pub must_cancel: bool,
    /// `_num_cancels_requested`.
    pub num_cancels_requested: u32,
    /// `_cancel_message`.
    pub cancel_message: Option<Value>,
    /// Whether the coroutine has started (its first step ran).
    pub started: bool,
    /// A bookkeeping task (shutdown helpers) whose frames record no events.
    pub internal: bool,
}

/// What kind of future-like object it is.
#[derive(Clone, Debug, PartialEq)]
pub enum FutKind {
    /// `loop.create_future()`.
    Plain,
    /// An `asyncio.Task`.
    Task(Box<TaskState>),
    /// `gather`'s `_GatheringFuture`.
    Gathering {
        /// Children in argument order.
        children: Vec<FutId>,
        /// Distinct children (`nfuts`).
        distinct: usize,
        /// `nfinished`.
        finished: usize,
        /// `return_exceptions`.
        return_exceptions: bool,
        /// `_cancel_requested`.
        cancel_requested: bool,
    },
    /// `shield`'s outer future, with its inner.
    ShieldOuter(FutId),
}

/// One future (or task).
#[derive(Clone, Debug, PartialEq)]
pub struct Fut {
    /// Name shown in traces (task name or variable).
    pub name: String,
    /// State.
    pub state: FutState,
    /// `_callbacks`, in order.
    pub callbacks: Vec<Callback>,
    /// `__log_traceback`: an exception is set and nobody retrieved it.
    pub log_traceback: bool,
    /// `_asyncio_future_blocking` left set: the task awaited itself, and its step
    /// rejected that before clearing the flag.
    pub blocking_left_set: bool,
    /// `_cancel_message`.
    pub cancel_message: Option<Value>,
    /// `_cancelled_exc`: the CancelledError to hand out once.
    pub cancelled_exc: Option<ExcId>,
    /// Future, task, gathering future...
    pub kind: FutKind,
    /// How often its exception was looked at (`result()`, `exception()`, an await).
    pub retrievals: u32,
    /// How often it was reported as never retrieved.
    pub reports: u32,
    /// A `cancel()` after it finished cleared its log flag without retrieving anything.
    pub silenced: bool,
    /// The traceback's tasks when the exception was set (restored by `result()`).
    pub exc_tb_tasks: Vec<FutId>,
}

/// A Timeout context manager (`asyncio.timeouts.Timeout`).
#[derive(Clone, Debug, PartialEq)]
pub struct TimeoutCm {
    /// `_state`.
    pub state: TimeoutState,
    /// `_when`.
    pub when: Option<f64>,
    /// `_timeout_handler`.
    pub handler: Option<TimerId>,
    /// `_task`.
    pub task: Option<FutId>,
    /// `_cancelling`.
    pub cancelling: u32,
}

/// `asyncio.timeouts._State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutState {
    /// Created, not entered.
    Created,
    /// Inside the block.
    Entered,
    /// Deadline passed, cancel sent.
    Expiring,
    /// Exited after expiring.
    Expired,
    /// Exited normally.
    Exited,
}

/// A TaskGroup (`asyncio.taskgroups.TaskGroup`).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskGroupState {
    /// `_entered`.
    pub entered: bool,
    /// `_exiting`.
    pub exiting: bool,
    /// `_aborting`.
    pub aborting: bool,
    /// `_parent_task`.
    pub parent: FutId,
    /// `_parent_cancel_requested`.
    pub parent_cancel_requested: bool,
    /// `_tasks` (a set in Python: iteration order is not defined).
    pub tasks: BTreeSet<FutId>,
    /// `_errors`.
    pub errors: Vec<ExcId>,
    /// `_base_error`.
    pub base_error: Option<ExcId>,
    /// `_on_completed_fut`.
    pub on_completed: Option<FutId>,
}

/// `asyncio.wait`'s shared state (`counter`, `waiter`, `timeout_handle`).
#[derive(Clone, Debug, PartialEq)]
pub struct WaitState {
    /// Remaining count.
    pub counter: usize,
    /// The waiter future.
    pub waiter: FutId,
    /// The timeout handle.
    pub timeout: Option<TimerId>,
    /// `return_when`.
    pub return_when: crate::core::scenario::ReturnWhen,
}

/// `asyncio.as_completed()`'s shared state: `todo`, the `done` queue (None is the
/// timeout's sentinel), the queue's getters and the timeout handle.
#[derive(Clone, Debug, PartialEq)]
pub struct AsCompletedState {
    /// Futures not yet done (`todo`); emptied by the timeout.
    pub todo: Vec<FutId>,
    /// The `Queue` of finished futures.
    pub queue: std::collections::VecDeque<Option<FutId>>,
    /// `Queue._getters`.
    pub getters: std::collections::VecDeque<FutId>,
    /// Iterations left (`len(todo)` at the start).
    pub left: usize,
    /// The timeout handle.
    pub timeout: Option<TimerId>,
    /// The statement as Python code, for the trace.
    pub label: String,
}

/// What a scenario variable holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Obj {
    /// A task or future.
    Fut(FutId),
    /// A Timeout object.
    Timeout(CmId),
    /// A TaskGroup.
    Group(TgId),
    /// A plain value.
    Value(Value),
    /// A `concurrent.futures.Future`.
    CFut(crate::concurrent::future::CFutId),
    /// A loop handle (`Handle` from `call_soon`, `TimerHandle` from `call_later`).
    Handle(TimerId),
    /// An exception object (`except E as e`, or assigned), kept by identity so `raise e`
    /// raises that very object.
    Exc(ExcId),
    /// A synchronization primitive or queue (`asyncio/locks.rs`, `asyncio/queues.rs`).
    Sync(crate::asyncio::locks::SyncId),
}

/// How `run_forever` ended early: a BaseException escaped a callback.
pub type Escaped = ExcId;

/// Everything of one run.
#[derive(Clone, Debug)]
pub struct World {
    /// The profile reproduced.
    pub profile: Profile,
    /// The scenario.
    pub scenario: std::rc::Rc<Scenario>,
    /// The class hierarchy.
    pub hierarchy: Hierarchy,
    /// `loop.time()`.
    pub now: f64,
    /// The virtual monotonic clock in nanoseconds, for the native loops (uvloop and
    /// rloop keep integer time; `now` is derived from it in their unit).
    pub clock_ns: i64,
    /// uvloop's loop state.
    pub uv: crate::loops::uvloop::UvState,
    /// `_ready`.
    pub ready: VecDeque<Handle>,
    /// `_scheduled` (a heap of timer ids ordered by `when`).
    pub scheduled: Vec<TimerId>,
    /// `_timer_cancelled_count`.
    pub timer_cancelled_count: usize,
    /// `_stopping`.
    pub stopping: bool,
    /// All timers ever made.
    pub timers: Vec<Timer>,
    /// All futures and tasks.
    pub futures: Vec<Fut>,
    /// All exceptions.
    pub excs: Vec<ExcObj>,
    /// Timeout objects.
    pub timeouts: Vec<TimeoutCm>,
    /// Stream readers by name.
    pub readers: BTreeMap<String, crate::asyncio::streams::ReaderState>,
    /// Connections' write sides, by the reader's name.
    pub writers: BTreeMap<String, crate::asyncio::streams::WriterState>,
    /// rloop's `tick_last`: the clock (microseconds) at its last poll.
    pub rloop_last_poll_us: i64,
    /// Connections' socket transports (socket delivery only), by the reader's name.
    pub sockets: BTreeMap<String, crate::asyncio::sockets::SocketState>,
    /// `concurrent.futures.Future` objects.
    pub cfutures: Vec<crate::concurrent::future::CFut>,
    /// Task groups.
    pub groups: Vec<TaskGroupState>,
    /// `asyncio.wait` states.
    pub waits: Vec<WaitState>,
    /// `asyncio.as_completed` states.
    pub as_completed: Vec<AsCompletedState>,
    /// Locks, events, conditions, semaphores, barriers and queues.
    pub syncs: Vec<crate::asyncio::locks::SyncObj>,
    /// The scenario's variables.
    pub vars: BTreeMap<String, Obj>,
    /// The loop's exception handler.
    pub handler: HandlerSpec,
    /// Debug mode.
    pub debug: bool,
    /// The task whose step is running.
    pub current: Option<FutId>,
    /// The main task.
    pub main: Option<FutId>,
    /// `Runner._interrupt_count`.
    pub interrupt_count: u32,
    /// Runner.run's SIGINT handler is installed (only while the main task runs).
    pub sigint_installed: bool,
    /// Tasks created so far (for default names).
    pub tasks_created: u32,
    /// How many tasks were given each name.
    pub task_names: BTreeMap<String, u32>,
    /// Per task (None: a callback run by the loop), the exceptions its `except` bodies
    /// are handling, innermost last: a
    /// bare `raise` re-raises the last one, even from a coroutine awaited inside the
    /// handler (Python's exception state follows the await chain, not the frame).
    pub handling: BTreeMap<Option<FutId>, Vec<ExcId>>,
    /// The exception `Runner.run` raised, while `Runner.__exit__` shuts the loop down:
    /// the thread is handling it, so a bare `raise` in a task with no handled exception
    /// of its own re-raises it.
    pub runner_exit_handling: Option<ExcId>,
    /// `loop.set_task_factory(asyncio.eager_task_factory)` was called.
    pub eager_tasks: bool,
    /// `loop.is_running()`.
    pub loop_running: bool,
    /// Callbacks and statements executed.
    pub steps: u64,
    /// Loop turns that ran no callback. They are bounded by `steps_max` too: at a
    /// virtual time near 1e8 s a due timer can be unreachable (`now + 1e-9 == now`, so
    /// `when >= end_time` for ever) and the loop would turn without end; see
    /// [`World::charge_turn`].
    pub idle_turns: u64,
    /// Nesting of `cancel()` calls (a task awaiting a gather that contains itself makes
    /// CPython recurse until RecursionError; the model stops with a limit instead).
    pub cancel_depth: u32,
    /// Eager first steps running inside one another (a bound: see `spawn_task`).
    pub eager_depth: u32,
    /// A limit was reached: the run stops.
    pub limit: Option<String>,
    /// The trace being written.
    pub events: Vec<Event>,
    /// Clause ids cited by transitions and not yet on an event, with the task that
    /// was running when they were cited (so they land on that task's next event).
    pending_clauses: PendingClauses,
    /// Scripted answers for choice points, taken modulo the number of options
    /// (missing: 0, the canonical choice).
    pub choice_script: Vec<usize>,
    /// Choice points met: how many options each had.
    pub choices_met: Vec<usize>,
    /// For each choice point, how many events had been written when it was met.
    pub choice_events: Vec<usize>,
}

impl World {
    /// A fresh world for `scenario` under `profile`.
    pub fn new(
        scenario: std::rc::Rc<Scenario>,
        profile: Profile,
        choice_script: Vec<usize>,
    ) -> Result<World, String> {
        let hierarchy = Hierarchy::with_user_classes(&scenario.exceptions)?;
        let debug = scenario.debug;
        let readers = scenario
            .streams
            .iter()
            .map(|(name, spec)| {
                let state = crate::asyncio::streams::ReaderState {
                    limit: spec.limit,
                    ..Default::default()
                };
                (name.clone(), state)
            })
            .collect();
        Ok(World {
            profile,
            scenario,
            hierarchy,
            now: 0.0,
            clock_ns: 0,
            uv: Default::default(),
            ready: VecDeque::new(),
            scheduled: Vec::new(),
            timer_cancelled_count: 0,
            stopping: false,
            timers: Vec::new(),
            futures: Vec::new(),
            excs: Vec::new(),
            timeouts: Vec::new(),
            cfutures: Vec::new(),
            readers,
            writers: BTreeMap::new(),
            sockets: BTreeMap::new(),
            rloop_last_poll_us: 0,
            groups: Vec::new(),
            waits: Vec::new(),
            as_completed: Vec::new(),
            syncs: Vec::new(),
            vars: BTreeMap::new(),
            handler: HandlerSpec::Default,
            debug,
            current: None,
            main: None,
            interrupt_count: 0,
            sigint_installed: false,
            tasks_created: 0,
            task_names: BTreeMap::new(),
            handling: BTreeMap::new(),
            runner_exit_handling: None,
            eager_tasks: false,
            loop_running: false,
            steps: 0,
            idle_turns: 0,
            cancel_depth: 0,
            eager_depth: 0,
            limit: None,
            events: Vec::new(),
            pending_clauses: PendingClauses::default(),
            choice_script,
            choices_met: Vec::new(),
            choice_events: Vec::new(),
        })
    }

    // ----- the trace -------------------------------------------------------------------

    /// Note that the transition under way implements `id` (use with `cite!`).
    pub fn cite(&mut self, id: &'static str) {
        let owner = self
            .current
            .map(|t| (t, self.futures[t.0 as usize].name.as_str()));
        self.pending_clauses.cite(owner, id);
    }

    /// Write an event for the current task, carrying the clauses cited since the last one.
    pub fn emit(&mut self, kind: EventKind) {
        self.emit_for(self.current_name(), kind);
    }

    /// Rename a future (a task's eager first step runs under its default name); the
    /// clauses it cited so far follow it to its new name. Returns the old name.
    pub fn rename_future(&mut self, t: FutId, name: String) -> String {
        let old = std::mem::replace(&mut self.futures[t.0 as usize].name, name);
        self.pending_clauses
            .renamed(t, &old, &self.futures[t.0 as usize].name);
        old
    }

    /// The running task's name (`None` between tasks).
    pub fn current_name(&self) -> Option<String> {
        self.current
            .map(|t| self.futures[t.0 as usize].name.clone())
    }

    /// Write an event attributed to a named task (or the loop). It carries the clauses
    /// cited while that task (or, for loop events, anything) was running; the run's last
    /// event takes whatever is left.
    pub fn emit_for(&mut self, task: Option<String>, kind: EventKind) {
        let last = matches!(kind, EventKind::Finished { .. } | EventKind::Limit { .. });
        let clauses = match task.as_deref() {
            Some(name) if !last => self.pending_clauses.take_for(name),
            _ => self.pending_clauses.take_all(),
        };
        self.events.push(Event {
            time: self.now,
            task,
            kind,
            clauses,
        });
    }

    // ----- objects ---------------------------------------------------------------------

    /// Make an exception instance.
    pub fn new_exc(&mut self, class: &str, args: Vec<Value>) -> ExcId {
        let class = self.hierarchy.canonical(class).to_string();
        self.excs.push(ExcObj {
            class,
            args,
            cause: None,
            context: None,
            suppress_context: false,
            group: Vec::new(),
            attrs: Default::default(),
            tb_tasks: Vec::new(),
            holds: Vec::new(),
        });
        ExcId(self.excs.len() as u32 - 1)
    }

    /// `Class(*args)` as a scenario writes it: the instance, or (Err) the TypeError the
    /// call raised. A class inherits its constructor from the stream errors when it
    /// derives from them (`core::exception::construct`).
    pub fn call_exc_class(&mut self, class: &str, args: &[Value]) -> Result<ExcId, ExcId> {
        let constructor = ["asyncio.IncompleteReadError", "asyncio.LimitOverrunError"]
            .into_iter()
            .find(|base| self.hierarchy.is_subclass(class, base))
            .unwrap_or(class);
        match crate::core::exception::construct(constructor, args) {
            Ok((args, attrs)) => {
                let e = self.new_exc(class, args);
                self.excs[e.0 as usize].attrs = attrs;
                Ok(e)
            }
            Err(message) => Err(self.new_exc("TypeError", vec![Value::Str(message)])),
        }
    }

    /// An exception as traces show it.
    pub fn exc_view(&self, e: ExcId) -> ExcView {
        self.exc_view_within(e, crate::core::exception::VIEW_DEPTH_MAX)
    }

    /// The view, following chains and group members `depth` levels down.
    fn exc_view_within(&self, e: ExcId, depth: u32) -> ExcView {
        let obj = &self.excs[e.0 as usize];
        let linked = |link: Option<ExcId>| {
            link.filter(|_| depth > 0)
                .map(|l| Box::new(self.exc_view_within(l, depth - 1)))
        };
        ExcView {
            class: obj.class.clone(),
            args: obj.args.clone(),
            group: if depth > 0 {
                obj.group
                    .iter()
                    .map(|g| self.exc_view_within(*g, depth - 1))
                    .collect()
            } else {
                Vec::new()
            },
            attrs: obj.attrs.clone(),
            cause: linked(obj.cause),
            // Kept in the model, left out of views for now: an exception a suspended
            // coroutine receives is thrown into it (a cancellation; a future's exception,
            // by Task.__wakeup), and CPython chains a thrown exception at every coroutine
            // frame it passes that is handling one. The bundled adapter runs a scenario
            // coroutine as several Python frames, so what it sees of __context__ is not
            // what the program's one frame sees (docs/DESIGN.md, "Exception chains").
            context: None,
            suppress_context: obj.suppress_context,
        }
    }

    /// `isinstance(e, class)`.
    pub fn exc_is(&self, e: ExcId, class: &str) -> bool {
        self.hierarchy
            .is_subclass(&self.excs[e.0 as usize].class, class)
    }

    /// An outcome for the trace.
    pub fn outcome_of(&self, r: &Result<Value, ExcId>) -> Outcome {
        match r {
            Ok(v) => Outcome::Value { value: v.clone() },
            Err(e) => Outcome::Raised {
                exc: self.exc_view(*e),
            },
        }
    }

    /// A new plain future (`loop.create_future()`).
    pub fn new_future(&mut self, name: &str) -> FutId {
        self.futures.push(Fut {
            name: name.to_string(),
            state: FutState::Pending,
            callbacks: Vec::new(),
            log_traceback: false,
            blocking_left_set: false,
            cancel_message: None,
            cancelled_exc: None,
            kind: FutKind::Plain,
            retrievals: 0,
            reports: 0,
            silenced: false,
            exc_tb_tasks: Vec::new(),
        });
        FutId(self.futures.len() as u32 - 1)
    }

    /// The future with this id.
    pub fn fut(&self, f: FutId) -> &Fut {
        &self.futures[f.0 as usize]
    }

    /// The future with this id, mutably.
    pub fn fut_mut(&mut self, f: FutId) -> &mut Fut {
        &mut self.futures[f.0 as usize]
    }

    /// Is it a task?
    pub fn is_task(&self, f: FutId) -> bool {
        matches!(self.fut(f).kind, FutKind::Task(_))
    }

    /// The task state of a task.
    pub fn task(&self, t: FutId) -> &TaskState {
        match &self.fut(t).kind {
            FutKind::Task(ts) => ts,
            _ => panic!("model invariant: {t:?} is not a task"),
        }
    }

    /// The task state of a task, mutably.
    pub fn task_mut(&mut self, t: FutId) -> &mut TaskState {
        match &mut self.fut_mut(t).kind {
            FutKind::Task(ts) => ts,
            _ => panic!("model invariant: {t:?} is not a task"),
        }
    }

    /// `fut.done()`.
    pub fn done(&self, f: FutId) -> bool {
        !matches!(self.fut(f).state, FutState::Pending)
    }

    /// `fut.cancelled()`.
    pub fn cancelled(&self, f: FutId) -> bool {
        matches!(self.fut(f).state, FutState::Cancelled)
    }

    // ----- scheduling ------------------------------------------------------------------

    /// `loop.call_soon(...)`.
    pub fn call_soon(&mut self, h: Handle) {
        self.ready.push_back(h);
        // uvloop's `_call_soon_handle` starts the idle handle that runs the queue.
        self.uv.idle_active = true;
    }

    /// `loop.time()`. On uvloop it also refreshes libuv's cached time.
    pub fn loop_time(&mut self) -> f64 {
        if self.profile.event_loop == EventLoop::Uvloop {
            self.uv_update_time();
        }
        self.now
    }

    /// Blocking work: time passes inside a callback.
    pub fn advance_blocking(&mut self, seconds: f64) {
        match self.profile.event_loop {
            EventLoop::Asyncio => self.now += seconds,
            EventLoop::Uvloop | EventLoop::Rloop => {
                self.clock_ns += (seconds * 1e9).round() as i64;
                self.sync_native_now();
            }
        }
    }

    /// `loop.time()` of a native loop: its clock in whole units (uvloop milliseconds,
    /// rloop microseconds), as a float of seconds.
    pub(crate) fn sync_native_now(&mut self) {
        self.now = match self.profile.event_loop {
            EventLoop::Asyncio => self.now,
            EventLoop::Uvloop => (self.clock_ns / 1_000_000) as f64 / 1000.0,
            EventLoop::Rloop => (self.clock_ns / 1000) as f64 / 1_000_000.0,
        };
    }

    /// `loop.call_at(when, ...)`.
    pub fn call_at(&mut self, when: f64, action: TimerAction) -> TimerId {
        match self.profile.event_loop {
            EventLoop::Asyncio => self.push_timer(when, action),
            // uvloop's call_at is `call_later(when - self.time(), ...)`.
            EventLoop::Uvloop => {
                let now = self.loop_time();
                self.uv_call_later(when - now, action)
            }
            EventLoop::Rloop => self.rloop_call_at(when, action),
        }
    }

    /// `loop.call_later(delay, ...)`: `call_at(self.time() + delay, ...)` on asyncio.
    pub fn call_later(&mut self, delay: f64, action: TimerAction) -> TimerId {
        match self.profile.event_loop {
            EventLoop::Asyncio => {
                self.cite(crate::cite!("asyncio.runners.call_later.from_current_time"));
                self.push_timer(self.now + delay, action)
            }
            EventLoop::Uvloop => self.uv_call_later(delay, action),
            EventLoop::Rloop => self.rloop_call_later(delay, action),
        }
    }

    /// Whether timer `a` pops before `b` in this loop's heap.
    fn timer_lt(&self, a: TimerId, b: TimerId) -> bool {
        match self.profile.event_loop {
            EventLoop::Uvloop => self.uv_timer_lt(a, b),
            EventLoop::Asyncio | EventLoop::Rloop => {
                self.timers[a.0 as usize].when < self.timers[b.0 as usize].when
            }
        }
    }

    /// Put a new timer in the heap (`heappush(self._scheduled, timer)`).
    pub(crate) fn push_timer(&mut self, when: f64, action: TimerAction) -> TimerId {
        self.timers.push(Timer {
            when,
            action,
            cancelled: false,
            scheduled: true,
            scheduled_at_creation: true,
        });
        let id = TimerId(self.timers.len() as u32 - 1);
        let mut heap = std::mem::take(&mut self.scheduled);
        heapq::push(&mut heap, id, |a, b| self.timer_lt(*a, *b));
        self.scheduled = heap;
        id
    }

    /// Take the first timer off the heap (`heappop(self._scheduled)`).
    pub(crate) fn pop_timer(&mut self) -> Option<TimerId> {
        let mut heap = std::mem::take(&mut self.scheduled);
        let id = heapq::pop(&mut heap, |a, b| self.timer_lt(*a, *b));
        self.scheduled = heap;
        if let Some(id) = id {
            self.timers[id.0 as usize].scheduled = false;
        }
        id
    }

    /// A handle made by `call_soon` whose callback is a timer action (so it can be
    /// cancelled like a timer: `Timeout.reschedule` to a past deadline does this).
    pub fn call_soon_timer(&mut self, action: TimerAction) -> TimerId {
        let id = self.new_handle(action);
        self.call_soon(Handle::Timer(id));
        id
    }

    /// A cancellable handle that is not queued yet (`events.Handle(callback)`): a
    /// selector's registered reader, queued each time its file is ready.
    pub fn new_handle(&mut self, action: TimerAction) -> TimerId {
        self.timers.push(Timer {
            when: self.now,
            action,
            cancelled: false,
            scheduled: false,
            scheduled_at_creation: false,
        });
        TimerId(self.timers.len() as u32 - 1)
    }

    /// `handle.cancel()` (TimerHandle.cancel calls `_timer_handle_cancelled` when scheduled).
    pub fn cancel_timer(&mut self, id: TimerId) {
        let t = &mut self.timers[id.0 as usize];
        if !t.cancelled {
            t.cancelled = true;
            if t.scheduled {
                self.timer_cancelled_count += 1;
            }
        }
    }

    /// A choice among `n` options (documented as undefined order); canonical is 0.
    pub fn choose(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let k = self.choices_met.len();
        self.choices_met.push(n);
        self.choice_events.push(self.events.len());
        self.choice_script.get(k).map(|c| c % n).unwrap_or(0)
    }

    /// Iterate a Python set of tasks: every order is allowed; canonical is creation order.
    pub fn set_order(&mut self, mut items: Vec<FutId>) -> Vec<FutId> {
        items.sort();
        // A deque: the canonical choice takes the front in O(1) (a Vec's remove(0) made
        // ordering n tasks cost n^2).
        let mut items: VecDeque<FutId> = items.into();
        let mut out = Vec::with_capacity(items.len());
        while !items.is_empty() {
            let k = self.choose(items.len());
            out.extend(items.remove(k));
        }
        out
    }

    /// Count a step against the limit; false once the limit is reached.
    pub fn charge_step(&mut self) -> bool {
        self.steps += 1;
        if self.steps > self.scenario.limits.steps_max {
            if self.limit.is_none() {
                self.limit = Some(format!(
                    "steps_max {} reached",
                    self.scenario.limits.steps_max
                ));
            }
            return false;
        }
        true
    }

    /// Count a loop turn: one that ran no callback (`steps` did not move since
    /// `steps_before`) is charged to `idle_turns`, bounded by the same `steps_max`.
    /// False, with the limit set, once that is reached. Every run loop calls this, so
    /// no loop turns without bound, whatever the clock does.
    pub fn charge_turn(&mut self, steps_before: u64) -> bool {
        if self.steps != steps_before {
            return true;
        }
        self.idle_turns += 1;
        if self.idle_turns > self.scenario.limits.steps_max {
            if self.limit.is_none() {
                self.limit = Some(format!(
                    "steps_max {} reached: as many loop turns ran no callback (the clock cannot reach the next timer)",
                    self.scenario.limits.steps_max
                ));
            }
            return false;
        }
        true
    }

    // ----- the loop --------------------------------------------------------------------

    /// `loop.run_forever()` until `stop()`: Ok when stopped, Err when a BaseException
    /// escaped a callback (KeyboardInterrupt, SystemExit), or a limit was reached.
    pub fn run_forever(&mut self) -> Result<(), Escaped> {
        self.loop_running = true;
        let ran = match self.profile.event_loop {
            EventLoop::Asyncio => self.asyncio_run_forever(),
            EventLoop::Uvloop => self.uv_run_forever(),
            EventLoop::Rloop => self.rloop_run_forever(),
        };
        self.loop_running = false;
        ran
    }

    /// `loop.stop()`.
    pub fn loop_stop(&mut self) {
        match self.profile.event_loop {
            EventLoop::Uvloop => self.uv_stop(),
            EventLoop::Asyncio | EventLoop::Rloop => {
                self.cite(crate::cite!(
                    "asyncio.runners.loop_stop.after_current_batch"
                ));
                self.stopping = true
            }
        }
    }

    /// `BaseEventLoop.run_forever()`.
    fn asyncio_run_forever(&mut self) -> Result<(), Escaped> {
        let result = loop {
            if self.limit.is_some() {
                break Ok(());
            }
            let steps_before = self.steps;
            if let Err(e) = self.run_once() {
                break Err(e);
            }
            if !self.charge_turn(steps_before) {
                break Ok(());
            }
            if self.stopping {
                break Ok(());
            }
        };
        self.stopping = false;
        result
    }

    /// `BaseEventLoop._run_once`.
    fn run_once(&mut self) -> Result<(), Escaped> {
        let sched_count = self.scheduled.len();
        if sched_count > MIN_SCHEDULED_TIMER_HANDLES
            && (self.timer_cancelled_count as f64 / sched_count as f64)
                > MIN_CANCELLED_TIMER_HANDLES_FRACTION
        {
            let mut kept = Vec::new();
            for id in std::mem::take(&mut self.scheduled) {
                if self.timers[id.0 as usize].cancelled {
                    self.timers[id.0 as usize].scheduled = false;
                } else {
                    kept.push(id);
                }
            }
            let timers = &self.timers;
            heapq::heapify(&mut kept, |a, b| {
                timers[a.0 as usize].when < timers[b.0 as usize].when
            });
            self.scheduled = kept;
            self.timer_cancelled_count = 0;
        } else {
            while let Some(&head) = self.scheduled.first() {
                if !self.timers[head.0 as usize].cancelled {
                    break;
                }
                self.timer_cancelled_count -= 1;
                self.pop_timer();
            }
        }

        // The selector: a ready socket returns at once (socket delivery); otherwise its
        // timeout is where virtual time advances.
        let io_ready = self.sockets_ready();
        if self.ready.is_empty() && !self.stopping && io_ready.is_empty() {
            match self.scheduled.first() {
                Some(&head) => {
                    let when = self.timers[head.0 as usize].when;
                    // `min(max(0, when - self.time()), MAXIMUM_SELECT_TIMEOUT)`; times are never NaN.
                    let timeout = (when - self.now).clamp(0.0, MAXIMUM_SELECT_TIMEOUT);
                    self.now += timeout;
                    if self.debug && timeout >= 1.0 {
                        // Even in debug mode a long select is not logged (3.11-3.13).
                        self.cite(crate::cite!(
                            "asyncio.reporting.debug.slow_selector_not_logged"
                        ));
                    }
                }
                None => {
                    self.note_deadlock();
                    return Ok(());
                }
            }
        }
        if self.now > self.scenario.limits.horizon_secs {
            self.limit = Some(format!(
                "horizon {} s passed",
                self.scenario.limits.horizon_secs
            ));
            return Ok(());
        }

        // `_process_events`: the ready files' handlers go before the due timers.
        self.queue_io_handlers(io_ready);
        let end_time = self.now + CLOCK_RESOLUTION;
        while let Some(&head) = self.scheduled.first() {
            if self.timers[head.0 as usize].when >= end_time {
                break;
            }
            if let Some(id) = self.pop_timer() {
                self.ready.push_back(Handle::Timer(id));
            }
        }

        let ntodo = self.ready.len();
        for _ in 0..ntodo {
            let Some(handle) = self.ready.pop_front() else {
                break;
            };
            if self.is_cancelled_timer(&handle) {
                continue;
            }
            if self.limit.is_some() || !self.charge_step() {
                return Ok(());
            }
            let t0 = self.now;
            let label = self.handle_label(&handle);
            self.run_handle(handle)?;
            if self.debug {
                let dt = self.now - t0;
                if dt >= SLOW_CALLBACK_DURATION {
                    self.log_slow_callback(&label, dt);
                }
            }
        }
        Ok(())
    }

    /// A handle whose timer was cancelled: the loop skips it (`handle._cancelled`).
    pub(crate) fn is_cancelled_timer(&self, h: &Handle) -> bool {
        matches!(h, Handle::Timer(id) if self.timers[id.0 as usize].cancelled)
    }

    /// Nothing is ready and no timer is set: the run can never go on.
    pub(crate) fn note_deadlock(&mut self) {
        self.limit = Some("deadlock: nothing is ready and no timer is set".into());
    }

    /// A native loop's poll with nothing ready: the virtual clock moves by the wait the
    /// loop asked for (`vclock.c` does the same in the adapter). False, with the limit
    /// set, once that passes the horizon.
    pub(crate) fn native_wait(&mut self, ms: i64) -> bool {
        let horizon_ns = (self.scenario.limits.horizon_secs * 1e9) as i64;
        self.clock_ns += ms * 1_000_000;
        self.sync_native_now();
        if self.clock_ns > horizon_ns {
            self.limit = Some(format!(
                "horizon {} s passed",
                self.scenario.limits.horizon_secs
            ));
            return false;
        }
        true
    }

    /// Debug mode's warning for a callback that ran `dt` seconds.
    pub(crate) fn log_slow_callback(&mut self, label: &str, dt: f64) {
        self.cite(crate::cite!("asyncio.reporting.debug.slow_callback_logged"));
        self.cite(crate::cite!(
            "asyncio.reporting.debug.slow_callback_threshold_attribute"
        ));
        self.cite(crate::cite!("asyncio.reporting.logger.asyncio"));
        self.cite(crate::cite!("asyncio.reporting.debug.default_log_level"));
        self.emit_for(
            None,
            EventKind::Log {
                level: "WARNING".into(),
                message: format!("Executing {label} took {dt:.3} seconds"),
            },
        );
    }

    pub(crate) fn handle_label(&self, h: &Handle) -> String {
        match h {
            Handle::Step(t, _) => format!("<Task {}>", self.fut(*t).name),
            Handle::Done(_, f) => format!("<Handle done callback of {}>", self.fut(*f).name),
            Handle::Timer(_) => "<TimerHandle>".into(),
            Handle::Noop => "<Handle>".into(),
            Handle::UvStop => "<Handle Loop._stop>".into(),
            Handle::CopyState(..) => "<Handle _chain_future.<locals>._set_state>".into(),
        }
    }

    pub(crate) fn run_handle(&mut self, h: Handle) -> Result<(), Escaped> {
        match h {
            Handle::Step(t, exc) => self.task_step(t, exc),
            Handle::Done(cb, f) => self.run_callback(cb, f),
            Handle::Timer(id) => {
                let action = self.timers[id.0 as usize].action.clone();
                self.run_timer(action)
            }
            Handle::Noop => Ok(()),
            Handle::UvStop => {
                self.uv_stop_with(None);
                Ok(())
            }
            Handle::CopyState(dest, cf) => {
                self.cf_copy_state(dest, cf);
                Ok(())
            }
        }
    }

    pub(crate) fn run_timer(&mut self, action: TimerAction) -> Result<(), Escaped> {
        match action {
            TimerAction::SetResultUnlessCancelled(f, v) => {
                if !self.cancelled(f) {
                    self.future_set_result(f, v);
                }
                Ok(())
            }
            TimerAction::TimeoutFire(cm) => {
                self.timeout_on_timeout(cm);
                Ok(())
            }
            TimerAction::ReleaseWaiter(w) | TimerAction::WaitTimeout(w) => {
                if !self.done(w) {
                    self.future_set_result(w, Value::None);
                }
                Ok(())
            }
            TimerAction::AsCompletedTimeout(i) => {
                self.as_completed_on_timeout(i);
                Ok(())
            }
            TimerAction::Sigint => self.on_sigint(),
            TimerAction::Deliver(reader, i) => {
                self.stream_deliver_nth(&reader, i);
                Ok(())
            }
            TimerAction::Consume(stream, i) => {
                self.stream_consume_nth(&stream, i);
                Ok(())
            }
            TimerAction::ConnectionLost(stream, exc) => {
                self.call_connection_lost(&stream, exc);
                Ok(())
            }
            TimerAction::Callback(block) => self.run_user_callback(block),
            TimerAction::ReadReady(stream) => {
                if self.profile.event_loop == EventLoop::Rloop {
                    self.rloop_read_ready(&stream);
                } else {
                    self.socket_read_ready(&stream);
                }
                Ok(())
            }
        }
    }

    /// Run a done callback (`Handle._run`); an Exception from a user callback is
    /// reported to the handler and the loop goes on.
    fn run_callback(&mut self, cb: Callback, f: FutId) -> Result<(), Escaped> {
        match cb {
            Callback::Wakeup(t) => self.task_wakeup(t, f),
            Callback::GatherChild(outer) => {
                self.gather_done_callback(outer, f);
                Ok(())
            }
            Callback::ShieldInner(outer) => {
                self.shield_inner_done(outer, f);
                Ok(())
            }
            Callback::ShieldOuter(inner) => {
                self.shield_outer_done(inner, f);
                Ok(())
            }
            Callback::ReleaseWaiter(w) => {
                if !self.done(w) {
                    self.future_set_result(w, Value::None);
                }
                Ok(())
            }
            Callback::AsCompletedCompletion(i) => {
                self.as_completed_on_completion(i, f);
                Ok(())
            }
            Callback::WaitCompletion(i) => {
                self.wait_on_completion(i, f);
                Ok(())
            }
            Callback::TaskGroupDone(tg) => {
                self.task_group_on_task_done(tg, f);
                Ok(())
            }
            Callback::RunUntilComplete => {
                self.run_until_complete_cb(f);
                Ok(())
            }
            Callback::CheckCancel(cf) => {
                self.cf_check_cancel(f, cf);
                Ok(())
            }
            Callback::User(spec, target) => {
                self.user_callback(spec, target, f);
                Ok(())
            }
        }
    }
}

/// Clause ids cited and not yet written on an event, grouped by the task that cited
/// them, with an index from task names to those tasks, so an event takes its own and
/// the loop's citations without scanning every other task's. (A flat list made each
/// event cost as much as all pending citations: 100,000 tasks suspended between events
/// ran for minutes.) An event is matched to citations by the citing task's name at the
/// time of the event, as before; `seq` keeps the order they were cited in.
#[derive(Clone, Debug, Default)]
struct PendingClauses {
    /// Cited outside any task (the loop's own transitions).
    unowned: Vec<(u64, &'static str)>,
    /// Cited while the task ran.
    by_task: BTreeMap<FutId, Vec<(u64, &'static str)>>,
    /// The current names of the tasks in `by_task`.
    named: BTreeMap<String, BTreeSet<FutId>>,
    seq: u64,
}

impl PendingClauses {
    fn cite(&mut self, owner: Option<(FutId, &str)>, id: &'static str) {
        let list = match owner {
            None => &mut self.unowned,
            Some((t, name)) => {
                if !self.by_task.contains_key(&t) {
                    self.named.entry(name.to_string()).or_default().insert(t);
                }
                self.by_task.entry(t).or_default()
            }
        };
        if !list.iter().any(|(_, c)| *c == id) {
            list.push((self.seq, id));
            self.seq += 1;
        }
    }

    fn renamed(&mut self, t: FutId, old: &str, new: &str) {
        if !self.by_task.contains_key(&t) || old == new {
            return;
        }
        if let Some(set) = self.named.get_mut(old) {
            set.remove(&t);
            if set.is_empty() {
                self.named.remove(old);
            }
        }
        self.named.entry(new.to_string()).or_default().insert(t);
    }

    /// An event of the task named `name`: the loop's citations and those of the tasks
    /// now so named, in citation order.
    fn take_for(&mut self, name: &str) -> Vec<&'static str> {
        let mut taken = std::mem::take(&mut self.unowned);
        for t in self.named.remove(name).unwrap_or_default() {
            taken.extend(self.by_task.remove(&t).unwrap_or_default());
        }
        Self::ordered(taken)
    }

    /// The loop's event or the run's last: every citation left.
    fn take_all(&mut self) -> Vec<&'static str> {
        let mut taken = std::mem::take(&mut self.unowned);
        for (_, list) in std::mem::take(&mut self.by_task) {
            taken.extend(list);
        }
        self.named.clear();
        Self::ordered(taken)
    }

    fn ordered(mut taken: Vec<(u64, &'static str)>) -> Vec<&'static str> {
        taken.sort_by_key(|(seq, _)| *seq);
        let mut out: Vec<&'static str> = Vec::with_capacity(taken.len());
        for (_, id) in taken {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}
