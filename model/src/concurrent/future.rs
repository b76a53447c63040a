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
use crate::core::scenario::{Query, Stmt};
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
    /// `_done_callbacks`: asyncio futures chained by `wrap_future` (`_call_set_state`).
    pub chained: Vec<FutId>,
}

impl World {
    /// `concurrent.futures.Future()`.
    pub fn cf_new(&mut self) -> CFutId {
        self.cfutures.push(CFut {
            state: CfState::Pending,
            chained: Vec::new(),
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

    /// `_invoke_callbacks`: run by the thread that finished the future, at once. A
    /// chained asyncio future is told through `call_soon_threadsafe(_set_state, ...)`.
    fn cf_invoke_callbacks(&mut self, cf: CFutId) {
        let chained = std::mem::take(&mut self.cfutures[cf.0 as usize].chained);
        for dest in chained {
            self.cf_call_set_state(cf, dest);
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
        if self.cf_done(cf) {
            // add_done_callback on a done concurrent future calls it at once.
            self.cf_call_set_state(cf, dest);
        } else {
            self.cfutures[cf.0 as usize].chained.push(dest);
        }
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

    /// The statements shared with asyncio futures (`cancel`, `done`, `cancelled`,
    /// `set_result`) when their variable holds a concurrent future; None otherwise.
    pub(crate) fn concurrent_future_stmt(&mut self, st: &Stmt) -> Option<Result<(), ExcId>> {
        let cf_of = |w: &World, name: &str| match w.vars.get(name) {
            Some(Obj::CFut(cf)) => Some(*cf),
            _ => None,
        };
        match st {
            Stmt::Cancel { target, msg: None } => {
                let cf = cf_of(self, target)?;
                let r = self.cf_cancel(cf);
                self.call_event(format!("{target}.cancel()"), &Ok(Value::Bool(r)));
                Some(Ok(()))
            }
            Stmt::Query { target, what } => {
                let cf = cf_of(self, target)?;
                let (call, v) = match what {
                    Query::Done => (format!("{target}.done()"), self.cf_done(cf)),
                    Query::Cancelled => (format!("{target}.cancelled()"), self.cf_cancelled(cf)),
                };
                self.call_event(call, &Ok(Value::Bool(v)));
                Some(Ok(()))
            }
            Stmt::SetResult { future, value } => {
                let cf = cf_of(self, future)?;
                let r = self.cf_set_result(cf, value.clone()).map(|_| Value::None);
                self.call_event(format!("{future}.set_result({value})"), &r);
                Some(r.map(|_| ()))
            }
            _ => None,
        }
    }
}
