//! `concurrent.futures.Future` and `asyncio.wrap_future`: the bridge between a
//! thread-side future and the loop. Chapter: `specs/concurrent_futures.toml` and
//! `asyncio.futures.wrap_future.*`.
//!
//! No threads here: a concurrent future is plain state whose methods the scenario
//! calls from the loop's thread. Transcribes `Lib/concurrent/futures/_base.py`
//! (`Future.cancel`, `set_result`, `add_done_callback`, callbacks run at once by the
//! thread that finishes the future) and `Lib/asyncio/futures.py` (`wrap_future`,
//! `_chain_future`, `_copy_future_state`): the asyncio side learns of the concurrent
//! side through `call_soon_threadsafe`, the other way round directly.

use crate::asyncio::world::{Callback, FutId, Handle, Obj, World};
use crate::core::exception::ExcId;
use crate::core::scenario::CallbackSpec;
use crate::core::trace::{EventKind, Outcome};
use crate::core::value::Value;

/// Index of a concurrent future.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CFutId(pub u32);

/// A concurrent future's state (`PENDING`, `CANCELLED`, `FINISHED`; RUNNING needs an
/// executor).
#[derive(Clone, Debug, PartialEq)]
pub enum CfState {
    /// Not done.
    Pending,
    /// Cancelled (and its waiters notified).
    Cancelled,
    /// Finished with a result.
    Result(Value),
    /// Finished with an exception.
    Exception(ExcId),
}

/// A `concurrent.futures.Future`.
#[derive(Clone, Debug, PartialEq)]
pub struct CFut {
    /// State.
    pub state: CfState,
    /// `_done_callbacks`, in registration order.
    pub callbacks: Vec<CfCallback>,
}

/// One of a concurrent future's done callbacks.
#[derive(Clone, Debug, PartialEq)]
pub enum CfCallback {
    /// `_chain_future`'s `_call_set_state` for the asyncio future `wrap_future` made.
    SetState(FutId),
    /// A scenario's `add_done_callback`, with the variable's name.
    User(CallbackSpec, String),
}

impl World {
    /// `concurrent.futures.Future()`.
    pub fn cf_new(&mut self) -> CFutId {
        self.cfutures.push(CFut {
            state: CfState::Pending,
            callbacks: Vec::new(),
        });
        CFutId(self.cfutures.len() as u32 - 1)
    }

    /// `cf.done()`.
    pub fn cf_done(&self, cf: CFutId) -> bool {
        self.cfutures[cf.0 as usize].state != CfState::Pending
    }

    /// `cf.cancelled()`.
    pub fn cf_cancelled(&self, cf: CFutId) -> bool {
        self.cfutures[cf.0 as usize].state == CfState::Cancelled
    }

    /// `cf.cancel()`: True if now cancelled; a finished future stays finished.
    pub fn cf_cancel(&mut self, cf: CFutId) -> bool {
        match self.cfutures[cf.0 as usize].state {
            CfState::Cancelled => true,
            CfState::Result(_) | CfState::Exception(_) => {
                self.cite(crate::cite!(
                    "concurrent_futures.future.cancel_running_fails"
                ));
                false
            }
            CfState::Pending => {
                self.cfutures[cf.0 as usize].state = CfState::Cancelled;
                self.cf_invoke_callbacks(cf);
                true
            }
        }
    }

    /// `cf.set_result(value)`; on a done future, `concurrent.futures.InvalidStateError`.
    pub fn cf_set_result(&mut self, cf: CFutId, value: Value) -> Result<(), ExcId> {
        if self.cf_done(cf) {
            self.cite(crate::cite!(
                "concurrent_futures.future.set_result_invalid_state"
            ));
            let state = if self.cf_cancelled(cf) {
                "CANCELLED_AND_NOTIFIED"
            } else {
                "FINISHED"
            };
            return Err(self.new_exc(
                "concurrent.futures.InvalidStateError",
                vec![Value::Str(format!("{state}: <Future>"))],
            ));
        }
        self.cfutures[cf.0 as usize].state = CfState::Result(value);
        self.cf_invoke_callbacks(cf);
        Ok(())
    }

    /// `cf.set_exception(exc)`; on a done future, `concurrent.futures.InvalidStateError`.
    pub fn cf_set_exception(&mut self, cf: CFutId, exc: ExcId) -> Result<(), ExcId> {
        if self.cf_done(cf) {
            let state = if self.cf_cancelled(cf) {
                "CANCELLED_AND_NOTIFIED"
            } else {
                "FINISHED"
            };
            return Err(self.new_exc(
                "concurrent.futures.InvalidStateError",
                vec![Value::Str(format!("{state}: <Future>"))],
            ));
        }
        self.cfutures[cf.0 as usize].state = CfState::Exception(exc);
        self.cf_invoke_callbacks(cf);
        Ok(())
    }

    /// `cf.result()` (or `cf.exception()` when `exception`) as a statement, from the
    /// loop's thread. A pending future blocks that thread for ever (no scenario thread can
    /// finish it): the run ends in a deadlock, as the program would hang.
    pub(crate) fn cf_result_stmt(
        &mut self,
        cf: CFutId,
        call: String,
        var: &Option<String>,
        exception: bool,
    ) -> crate::asyncio::coroutine::Exec {
        use crate::asyncio::coroutine::Exec;
        let r = match self.cfutures[cf.0 as usize].state.clone() {
            CfState::Pending => {
                if self.limit.is_none() {
                    self.limit = Some(format!(
                        "deadlock: {call} blocks the loop's thread on a pending concurrent.futures.Future that nothing can finish"
                    ));
                }
                return Exec::Stop;
            }
            // `raise CancelledError()` (concurrent.futures', an Exception).
            CfState::Cancelled => Err(self.new_exc("concurrent.futures.CancelledError", vec![])),
            CfState::Result(_) if exception => Ok(Value::None),
            CfState::Result(v) => Ok(v),
            CfState::Exception(e) if exception => Ok(Value::Exc(self.exc_view(e))),
            CfState::Exception(e) => Err(e),
        };
        self.call_event(call, &r);
        match r {
            Ok(v) => {
                if let Some(name) = var {
                    self.vars.insert(name.clone(), Obj::Value(v));
                }
                Exec::Next
            }
            Err(e) => Exec::raising(e),
        }
    }

    /// `cf.add_done_callback(fn)`: called at once, in this thread, when the future is
    /// done; else kept for the thread that finishes it.
    pub(crate) fn cf_add_done_callback(&mut self, cf: CFutId, cb: CfCallback) {
        if self.cf_done(cf) {
            self.cf_run_callback(cf, cb);
        } else {
            self.cfutures[cf.0 as usize].callbacks.push(cb);
        }
    }

    /// `_invoke_callbacks`: run by the thread that finished the future, at once, in
    /// registration order. A chained asyncio future is told through
    /// `call_soon_threadsafe(_set_state, ...)`.
    fn cf_invoke_callbacks(&mut self, cf: CFutId) {
        let callbacks = std::mem::take(&mut self.cfutures[cf.0 as usize].callbacks);
        for cb in callbacks {
            self.cf_run_callback(cf, cb);
        }
    }

    fn cf_run_callback(&mut self, cf: CFutId, cb: CfCallback) {
        match cb {
            CfCallback::SetState(dest) => self.cf_call_set_state(cf, dest),
            CfCallback::User(CallbackSpec::Record, target) => {
                // Recorded by whoever runs it: here the task whose statement finished
                // (or registered on) the future.
                let outcome = match self.cfutures[cf.0 as usize].state.clone() {
                    CfState::Result(value) => Outcome::Value { value },
                    CfState::Exception(e) => Outcome::Raised {
                        exc: self.exc_view(e),
                    },
                    CfState::Cancelled => Outcome::Raised {
                        exc: crate::core::exception::ExcView::plain(
                            "asyncio.CancelledError",
                            Vec::new(),
                        ),
                    },
                    CfState::Pending => Outcome::Value { value: Value::None },
                };
                self.emit(EventKind::Callback { target, outcome });
            }
            // `_invoke_callbacks` logs a failing callback with
            // `LOGGER.exception('exception calling callback for %r', self)` on the
            // `concurrent.futures` logger, which the trace does not record.
            CfCallback::User(CallbackSpec::Raise { .. }, _) => {}
        }
    }

    /// `_chain_future`'s `_call_set_state(source)` for a concurrent source.
    fn cf_call_set_state(&mut self, cf: CFutId, dest: FutId) {
        // dest_loop is the running loop, never closed during a scenario, and is not the
        // source's loop (a concurrent future has none): call_soon_threadsafe.
        self.call_soon(Handle::CopyState(dest, cf));
    }

    /// `asyncio.wrap_future(cf)`: a new asyncio future chained to `cf`.
    pub fn wrap_future(&mut self, cf: CFutId, name: &str) -> FutId {
        self.cite(cite!("asyncio.futures.wrap_future.cancel_propagates"));
        let dest = self.new_future(name);
        self.add_done_callback(dest, Callback::CheckCancel(cf));
        self.cf_add_done_callback(cf, CfCallback::SetState(dest));
        dest
    }

    /// `_call_check_cancel(destination)`: a cancelled asyncio side cancels the source
    /// directly (its loop is None).
    pub(crate) fn cf_check_cancel(&mut self, dest: FutId, cf: CFutId) {
        if self.cancelled(dest) {
            self.cf_cancel(cf);
        }
    }

    /// `_set_state(destination, source)` = `_copy_future_state(source, destination)`.
    pub(crate) fn cf_copy_state(&mut self, dest: FutId, cf: CFutId) {
        if self.cancelled(dest) {
            return;
        }
        match self.cfutures[cf.0 as usize].state.clone() {
            CfState::Cancelled => {
                self.cancel(dest, None);
            }
            CfState::Result(v) => self.future_set_result(dest, v),
            CfState::Exception(e) => self.future_set_exception(dest, e),
            CfState::Pending => {}
        }
    }
}
