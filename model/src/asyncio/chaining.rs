//! Implicit exception chaining: an exception raised while another is being handled gets
//! that one as its `__context__`; `raise X from Y` sets `__cause__` and
//! `__suppress_context__`.
//!
//! Transcribes `_PyErr_SetObject` (Python/errors.c, the same in 3.11-3.13): on every
//! raise of `value` while `exc_value` is the exception being handled (the innermost
//! `except` or `finally` of the running frame, or of the frames that awaited it, or of
//! the code that runs the loop), `value.__context__ = exc_value` (overwriting an older
//! context), after cutting `value` out of `exc_value`'s own context chain so no cycle
//! forms; raising the handled exception itself changes nothing. A bare `raise` does not
//! chain. Propagating an exception out of a frame is not a raise.
//!
//! Where the model raises: a statement (`raise`, a failing call), a task step throwing
//! into its coroutine (a cancellation, `Task got bad yield`), an await re-raising a
//! future's stored exception, and a library coroutine raising an exception it made (with
//! the exception it was handling then, where that differs: `Timeout.__aexit__`,
//! `wait_for`'s `raise TimeoutError() from exc`, `readline`'s `ValueError`).

use crate::asyncio::world::World;
use crate::core::exception::ExcId;

/// Longest context chain walked when cutting a cycle (chains are short in practice;
/// CPython walks them whole, with Floyd's cycle check).
const CHAIN_WALK_MAX: usize = 1 << 12;

impl World {
    /// The exception the running code is handling: the running task's (or callback's)
    /// innermost `except` / `finally`, else the one `Runner.__exit__` is handling while
    /// asyncio.run shuts the loop down.
    pub fn handled_exception(&self) -> Option<ExcId> {
        self.handling
            .get(&self.current)
            .and_then(|s| s.last().copied())
            .or(self.runner_exit_handling)
    }

    /// `e` is raised here: chain it to the exception being handled.
    pub fn chain_raised(&mut self, e: ExcId) {
        let handled = self.handled_exception();
        self.chain_onto(e, handled);
    }

    /// `e` is raised while `handled` is handled (`_PyErr_SetObject`'s chaining).
    pub fn chain_onto(&mut self, e: ExcId, handled: Option<ExcId>) {
        let Some(h) = handled else { return };
        if h == e {
            return;
        }
        self.cite(cite!("exceptions.chaining.context_when_handling"));
        let mut o = h;
        for _ in 0..CHAIN_WALK_MAX {
            match self.excs[o.0 as usize].context {
                Some(c) if c == e => {
                    self.excs[o.0 as usize].context = None;
                    break;
                }
                Some(c) => o = c,
                None => break,
            }
        }
        self.excs[e.0 as usize].context = Some(h);
    }

    /// `raise e from cause` (`None`: `from None`): the cause, and the context
    /// suppressed.
    pub fn set_cause(&mut self, e: ExcId, cause: Option<ExcId>) {
        let obj = &mut self.excs[e.0 as usize];
        obj.cause = cause;
        obj.suppress_context = true;
    }
}
