//! Runtime profiles: which CPython version's behaviour the model reproduces.
//!
//! Differences between versions are methods here, each citing the clause that states
//! them, so a reader sees every version split in one place.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A CPython asyncio version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// CPython 3.11.
    #[serde(rename = "cpython-3.11")]
    Cpython311,
    /// CPython 3.12.
    #[serde(rename = "cpython-3.12")]
    Cpython312,
    /// CPython 3.13 (the documents' version).
    #[serde(rename = "cpython-3.13")]
    Cpython313,
}

impl Profile {
    /// Every profile, oldest first.
    pub const ALL: [Profile; 3] = [
        Profile::Cpython311,
        Profile::Cpython312,
        Profile::Cpython313,
    ];

    /// The profile's name as the catalogue spells runtimes (`cpython-3.12`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::Cpython311 => "cpython-3.11",
            Profile::Cpython312 => "cpython-3.12",
            Profile::Cpython313 => "cpython-3.13",
        }
    }

    /// Parse a profile name.
    pub fn parse(name: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!("unknown profile {name:?} (cpython-3.11, cpython-3.12 or cpython-3.13)")
            })
    }

    /// 3.13: `uncancel()` reaching zero rescinds a pending `must_cancel`
    /// (asyncio.cancellation.uncancel.rescinds_pending_at_zero).
    pub fn uncancel_rescinds_must_cancel(self) -> bool {
        self >= Profile::Cpython313
    }

    /// 3.13: `set_exception(StopIteration())` stores a RuntimeError instead of raising
    /// TypeError (asyncio.futures.set_exception.stop_iteration_wrapped).
    pub fn stop_iteration_wrapped(self) -> bool {
        self >= Profile::Cpython313
    }

    /// 3.12: `wait_for` is `async with timeout(): return await aw` (aw runs inline when it
    /// is a coroutine); 3.11 wraps aw in a task and uses a private waiter future
    /// (asyncio.timeouts.wait_for.impl_3_11).
    pub fn wait_for_uses_timeout(self) -> bool {
        self >= Profile::Cpython312
    }

    /// 3.13: `Timeout.__aexit__` converts when the count is back and any exception is
    /// set (`exc_type is not None` and a CancelledError subclass); 3.11 and 3.12 require
    /// `exc_type is CancelledError` exactly.
    pub fn timeout_exit_subclass_check(self) -> bool {
        self >= Profile::Cpython313
    }

    /// 3.13: TaskGroup uncancels the parent after waiting for the children and re-cancels
    /// it when raising errors while the parent is still being cancelled
    /// (asyncio.taskgroups.external_cancel.with_errors_recancels); 3.11/3.12 uncancel
    /// before waiting.
    pub fn task_group_uncancel_after_wait(self) -> bool {
        self >= Profile::Cpython313
    }

    /// 3.12: `TaskGroup.create_task` calls `_on_task_done` at once for a task that is
    /// already done, and adds the task to the set before the callback (3.11 adds the
    /// callback first).
    pub fn task_group_eager_done_check(self) -> bool {
        self >= Profile::Cpython312
    }

    /// 3.12: `gather` runs `_done_callback` at once for children already done (after the
    /// gathering future exists); 3.11 adds the callback to every child, so a done child
    /// is seen one loop iteration later (asyncio.composition.gather.done_children_3_12).
    pub fn gather_done_children_at_once(self) -> bool {
        self >= Profile::Cpython312
    }

    /// 3.13: TaskGroup.create_task closes the coroutine of a refused task
    /// (asyncio.taskgroups.create_task.inactive_closes_coro).
    pub fn task_group_closes_refused_coro(self) -> bool {
        self >= Profile::Cpython313
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
