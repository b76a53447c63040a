//! Runtime profiles: which CPython version's behaviour the model reproduces.
//!
//! Differences between versions are methods here, each citing the clause that states
//! them, so a reader sees every version split in one place.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A CPython version whose asyncio (tasks, futures, runners) the model transcribes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Python {
    /// CPython 3.11.
    V311,
    /// CPython 3.12.
    V312,
    /// CPython 3.13 (the documents' version).
    V313,
}

/// The event loop under the tasks: asyncio's own, or a native replacement. Tasks and
/// futures are CPython's in all three (uvloop and rloop use `asyncio.Task`); what
/// differs is the loop itself, its clock and its timers (see `uvloop.rs`, `rloop.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventLoop {
    /// `asyncio.SelectorEventLoop` (`BaseEventLoop._run_once`).
    Asyncio,
    /// uvloop's `Loop` on libuv.
    Uvloop,
    /// rloop's `RLoop` (Rust, on mio).
    Rloop,
}

/// What the model reproduces: a CPython version and an event loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Profile {
    /// Whose asyncio.
    pub python: Python,
    /// Which loop.
    pub event_loop: EventLoop,
}

#[allow(non_upper_case_globals)]
impl Profile {
    /// CPython 3.11 on its own loop.
    pub const Cpython311: Profile = Profile::asyncio(Python::V311);
    /// CPython 3.12 on its own loop.
    pub const Cpython312: Profile = Profile::asyncio(Python::V312);
    /// CPython 3.13 on its own loop.
    pub const Cpython313: Profile = Profile::asyncio(Python::V313);
}

impl Profile {
    /// Every asyncio profile, oldest first (the snapshot suite runs these).
    pub const ALL: [Profile; 3] = [
        Profile::Cpython311,
        Profile::Cpython312,
        Profile::Cpython313,
    ];

    const fn asyncio(python: Python) -> Profile {
        Profile {
            python,
            event_loop: EventLoop::Asyncio,
        }
    }

    /// The same CPython on another loop.
    pub fn on(self, event_loop: EventLoop) -> Profile {
        Profile { event_loop, ..self }
    }

    /// The runtime name the catalogue uses for this profile's loop rules
    /// (`cpython-3.12`, `uvloop`, `rloop`).
    pub fn runtime(self) -> String {
        match self.event_loop {
            EventLoop::Asyncio => self.python_name().to_string(),
            EventLoop::Uvloop => "uvloop".into(),
            EventLoop::Rloop => "rloop".into(),
        }
    }

    fn python_name(self) -> &'static str {
        match self.python {
            Python::V311 => "cpython-3.11",
            Python::V312 => "cpython-3.12",
            Python::V313 => "cpython-3.13",
        }
    }

    /// The profile's name: `cpython-3.12`, or `cpython-3.12+uvloop`.
    pub fn name(self) -> String {
        match self.event_loop {
            EventLoop::Asyncio => self.python_name().to_string(),
            EventLoop::Uvloop => format!("{}+uvloop", self.python_name()),
            EventLoop::Rloop => format!("{}+rloop", self.python_name()),
        }
    }

    /// Parse a profile name.
    pub fn parse(name: &str) -> Result<Profile, String> {
        let (python, event_loop) = match name.split_once('+') {
            None => (name, EventLoop::Asyncio),
            Some((p, "uvloop")) => (p, EventLoop::Uvloop),
            Some((p, "rloop")) => (p, EventLoop::Rloop),
            Some(_) => (name, EventLoop::Asyncio),
        };
        Profile::ALL
            .into_iter()
            .find(|p| p.python_name() == python)
            .map(|p| p.on(event_loop))
            .filter(|p| p.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown profile {name:?} (cpython-3.11, cpython-3.12 or cpython-3.13, \
                     optionally with +uvloop or +rloop)"
                )
            })
    }

    /// 3.13: `uncancel()` reaching zero rescinds a pending `must_cancel`
    /// (asyncio.cancellation.uncancel.rescinds_pending_at_zero).
    pub fn uncancel_rescinds_must_cancel(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: `set_exception(StopIteration())` stores a RuntimeError instead of raising
    /// TypeError (asyncio.futures.set_exception.stop_iteration_wrapped).
    pub fn stop_iteration_wrapped(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.12: `wait_for` is `async with timeout(): return await aw` (aw runs inline when it
    /// is a coroutine); 3.11 wraps aw in a task and uses a private waiter future
    /// (asyncio.timeouts.wait_for.impl_3_11).
    pub fn wait_for_uses_timeout(self) -> bool {
        self.python >= Python::V312
    }

    /// 3.13: `Timeout.__aexit__` converts when the count is back and any exception is
    /// set (`exc_type is not None` and a CancelledError subclass); 3.11 and 3.12 require
    /// `exc_type is CancelledError` exactly.
    pub fn timeout_exit_subclass_check(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: when the block of an expired Timeout ends with another exception,
    /// `Timeout._insert_timeout_error` puts a `TimeoutError` (cause and context: the
    /// CancelledError) into that exception's context chain, before the first
    /// CancelledError there (asyncio.timeouts.timeout.inserts_timeout_error_3_13).
    pub fn timeout_inserts_timeout_error(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: TaskGroup uncancels the parent after waiting for the children and re-cancels
    /// it when raising errors while the parent is still being cancelled
    /// (asyncio.taskgroups.external_cancel.with_errors_recancels); 3.11/3.12 uncancel
    /// before waiting.
    pub fn task_group_uncancel_after_wait(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.12: `TaskGroup.create_task` calls `_on_task_done` at once for a task that is
    /// already done, and adds the task to the set before the callback (3.11 adds the
    /// callback first).
    pub fn task_group_eager_done_check(self) -> bool {
        self.python >= Python::V312
    }

    /// 3.12: `gather` runs `_done_callback` at once for children already done (after the
    /// gathering future exists); 3.11 adds the callback to every child, so a done child
    /// is seen one loop iteration later (asyncio.composition.gather.done_children_3_12).
    pub fn gather_done_children_at_once(self) -> bool {
        self.python >= Python::V312
    }

    /// 3.12: `asyncio.eager_task_factory` exists (asyncio.tasks.eager_start.runs_synchronously).
    pub fn eager_task_factory_exists(self) -> bool {
        self.python >= Python::V312
    }

    /// 3.13: `Condition.wait()` re-raises the last CancelledError its re-acquire loop
    /// caught (3.11/3.12 raise a new, message-less one) and, whenever it raises, passes a
    /// notification on to another waiter (gh-111693, gh-112202;
    /// asyncio.sync.condition.wait.reraises_last_cancel_3_13,
    /// asyncio.sync.condition.wait.error_notifies_next_3_13).
    pub fn condition_wait_passes_notification_on(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: `Semaphore.acquire()` wakes as many waiters as the counter allows whenever
    /// it returns or raises, and a woken waiter that is cancelled only gives its unit
    /// back; 3.11/3.12 wake at most one more, and the cancelled waiter wakes the next
    /// itself (gh-111693; asyncio.sync.semaphore.acquire.wakes_all_allowed_3_13).
    pub fn semaphore_wakes_all_allowed(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: `Queue.shutdown()` and `QueueShutDown` exist
    /// (asyncio.queues.shutdown.added_in_3_13).
    pub fn queue_shutdown_exists(self) -> bool {
        self.python >= Python::V313
    }

    /// 3.13: TaskGroup.create_task closes the coroutine of a refused task
    /// (asyncio.taskgroups.create_task.inactive_closes_coro).
    pub fn task_group_closes_refused_coro(self) -> bool {
        self.python >= Python::V313
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl TryFrom<String> for Profile {
    type Error = String;
    fn try_from(s: String) -> Result<Profile, String> {
        Profile::parse(&s)
    }
}

impl From<Profile> for String {
    fn from(p: Profile) -> String {
        p.name()
    }
}
