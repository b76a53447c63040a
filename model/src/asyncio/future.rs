//! asyncio.Future: completion, retrieval, cancellation and done callbacks.
//!
//! Transcribes `Lib/asyncio/futures.py` (`Future.set_result`, `set_exception`, `cancel`,
//! `result`, `exception`, `add_done_callback`, `__schedule_callbacks`,
//! `_make_cancelled_error`). Chapter: `specs/asyncio/futures.toml`.

use crate::asyncio::world::{Callback, FutId, FutKind, FutState, Handle, World};
use crate::core::exception::ExcId;
use crate::core::scenario::CallbackSpec;
use crate::core::trace::{EventKind, Outcome};
use crate::core::value::Value;

impl World {
    /// `__schedule_callbacks`: every callback goes to the ready queue, in order.
    fn schedule_callbacks(&mut self, f: FutId) {
        let callbacks = std::mem::take(&mut self.fut_mut(f).callbacks);
        for cb in callbacks {
            self.call_soon(Handle::Done(cb, f));
        }
    }

    /// `fut.set_result(value)` on a pending future (callers check `done()` first, as the
    /// library code does; the statement form checks and raises).
    pub fn future_set_result(&mut self, f: FutId, value: Value) {
        debug_assert!(!self.done(f), "set_result on a done future");
        self.fut_mut(f).state = FutState::Result(value);
        self.schedule_callbacks(f);
        self.note_task_done(f);
    }

    /// `fut.set_exception(exc)` on a pending future.
    /// Implements asyncio.futures.set_exception.stores.
    pub fn future_set_exception(&mut self, f: FutId, exc: ExcId) {
        debug_assert!(!self.done(f), "set_exception on a done future");
        // The C future keeps the traceback as it is now and restores it on result().
        let tb = self.excs[exc.0 as usize].tb_tasks.clone();
        let fut = self.fut_mut(f);
        fut.state = FutState::Exception(exc);
        fut.exc_tb_tasks = tb;
        fut.log_traceback = true;
        self.schedule_callbacks(f);
        self.note_task_done(f);
    }

    /// `Future.cancel(msg)` (the base method; tasks and gathering futures override it).
    pub fn future_cancel_base(&mut self, f: FutId, msg: Option<Value>) -> bool {
        self.clear_log_traceback_on_cancel(f);
        let fut = self.fut_mut(f);
        if fut.state != FutState::Pending {
            return false;
        }
        fut.state = FutState::Cancelled;
        fut.cancel_message = msg;
        self.cite(cite!("asyncio.futures.cancel.pending_cancels"));
        self.schedule_callbacks(f);
        self.note_task_done(f);
        true
    }

    /// `cancel()` clears the log flag before checking `done()`: a late cancel silences
    /// the never-retrieved report.
    pub fn clear_log_traceback_on_cancel(&mut self, f: FutId) {
        let fut = self.fut_mut(f);
        if fut.log_traceback {
            fut.log_traceback = false;
            fut.silenced = true;
            self.cite(cite!(
                "asyncio.reporting.never_retrieved.cancel_on_done_silences"
            ));
        }
    }

    /// `fut.cancel(msg)` dispatched on the object's class.
    pub fn cancel(&mut self, f: FutId, msg: Option<Value>) -> bool {
        /// Deeper than any acyclic chain of awaits a scenario can build.
        const CANCEL_DEPTH_MAX: u32 = 64;
        // Once a limit is hit the run is over (inconclusive); stopping every further
        // cancel keeps a branching cycle (gathers of tasks awaiting them) linear, as
        // CPython's RecursionError unwinds the whole chain at the first deep path.
        if self.limit.is_some() {
            return false;
        }
        if self.cancel_depth >= CANCEL_DEPTH_MAX {
            self.limit = Some("cancel() recursion: a task awaits a gather that contains itself (CPython raises RecursionError)".into());
            return false;
        }
        self.cancel_depth += 1;
        let r = self.cancel_dispatch(f, msg);
        self.cancel_depth -= 1;
        r
    }

    fn cancel_dispatch(&mut self, f: FutId, msg: Option<Value>) -> bool {
        match &self.fut(f).kind {
            FutKind::Task(_) => self.task_cancel(f, msg),
            FutKind::Gathering { .. } => self.gathering_cancel(f, msg),
            FutKind::Plain | FutKind::ShieldOuter(_) => {
                let name = self.fut(f).name.clone();
                self.emit(EventKind::CancelRequest {
                    target: name,
                    msg: msg.as_ref().map(Value::message_text),
                });
                self.future_cancel_base(f, msg)
            }
        }
    }

    /// `_make_cancelled_error`: the saved CancelledError once, then fresh ones.
    pub fn make_cancelled_error(&mut self, f: FutId) -> ExcId {
        if let Some(e) = self.fut_mut(f).cancelled_exc.take() {
            return e;
        }
        let args = match &self.fut(f).cancel_message {
            Some(m) => vec![m.clone()],
            None => Vec::new(),
        };
        self.new_exc("asyncio.CancelledError", args)
    }

    /// `fut.result()`: the value, or the exception it raises.
    pub fn future_result(&mut self, f: FutId) -> Result<Value, ExcId> {
        match self.fut(f).state.clone() {
            FutState::Cancelled => {
                self.cite(cite!("asyncio.futures.result.cancelled_raises"));
                Err(self.make_cancelled_error(f))
            }
            FutState::Pending => {
                // The C `_asyncio` module's message; Lib/asyncio/futures.py (used only
                // without the accelerator) says 'Result is not ready.'.
                self.cite(cite!("asyncio.futures.result.pending_invalid_state"));
                Err(self.new_exc(
                    "asyncio.InvalidStateError",
                    vec![Value::Str("Result is not set.".into())],
                ))
            }
            FutState::Result(v) => {
                self.fut_mut(f).log_traceback = false;
                self.cite(cite!("asyncio.futures.result.returns_value"));
                Ok(v)
            }
            FutState::Exception(e) => {
                self.fut_mut(f).log_traceback = false;
                self.fut_mut(f).retrievals += 1;
                self.excs[e.0 as usize].tb_tasks = self.fut(f).exc_tb_tasks.clone();
                self.cite(cite!("asyncio.futures.result.raises_stored_exception"));
                self.cite(cite!("asyncio.reporting.never_retrieved.retrieval_clears"));
                Err(e)
            }
        }
    }

    /// `fut.exception()`: the stored exception or None, or what it raises.
    pub fn future_exception(&mut self, f: FutId) -> Result<Option<ExcId>, ExcId> {
        match self.fut(f).state.clone() {
            FutState::Cancelled => {
                self.cite(cite!("asyncio.futures.exception.cancelled_raises"));
                Err(self.make_cancelled_error(f))
            }
            FutState::Pending => {
                self.cite(cite!("asyncio.futures.exception.pending_invalid_state"));
                Err(self.new_exc(
                    "asyncio.InvalidStateError",
                    vec![Value::Str("Exception is not set.".into())],
                ))
            }
            FutState::Result(_) => {
                self.fut_mut(f).log_traceback = false;
                self.cite(cite!("asyncio.futures.exception.returns_exception_or_none"));
                Ok(None)
            }
            FutState::Exception(e) => {
                self.fut_mut(f).log_traceback = false;
                self.fut_mut(f).retrievals += 1;
                self.cite(cite!("asyncio.futures.exception.returns_exception_or_none"));
                Ok(Some(e))
            }
        }
    }

    /// `fut.add_done_callback(cb)`: scheduled at once if already done.
    pub fn add_done_callback(&mut self, f: FutId, cb: Callback) {
        if self.done(f) {
            self.cite(cite!(
                "asyncio.futures.add_done_callback.scheduled_with_call_soon"
            ));
            self.call_soon(Handle::Done(cb, f));
        } else {
            self.fut_mut(f).callbacks.push(cb);
        }
    }

    /// `fut.remove_done_callback(cb)`: removes every equal callback.
    pub fn remove_done_callback(&mut self, f: FutId, cb: &Callback) {
        self.fut_mut(f).callbacks.retain(|c| c != cb);
    }

    /// The statement `fut.set_result(v)`: InvalidStateError when done.
    pub fn stmt_set_result(&mut self, f: FutId, v: Value) -> Result<Value, ExcId> {
        // Task overrides set_result to raise whatever its state.
        if self.is_task(f) {
            self.cite(cite!("asyncio.tasks.set_result.not_supported"));
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str(
                    "Task does not support set_result operation".into(),
                )],
            ));
        }
        if self.done(f) {
            self.cite(cite!("asyncio.futures.set_result.done_invalid_state"));
            let state = self.state_word(f);
            return Err(self.new_exc("asyncio.InvalidStateError", vec![Value::Str(state)]));
        }
        self.future_set_result(f, v);
        Ok(Value::None)
    }

    /// The statement `fut.set_exception(exc)`, with the StopIteration rule per profile.
    pub fn stmt_set_exception(&mut self, f: FutId, exc: ExcId) -> Result<Value, ExcId> {
        if self.is_task(f) {
            self.cite(cite!("asyncio.tasks.set_result.not_supported"));
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str(
                    "Task does not support set_exception operation".into(),
                )],
            ));
        }
        if self.done(f) {
            self.cite(cite!("asyncio.futures.set_exception.done_invalid_state"));
            let state = self.state_word(f);
            return Err(self.new_exc("asyncio.InvalidStateError", vec![Value::Str(state)]));
        }
        let mut exc = exc;
        let is_stop_iteration = self.excs[exc.0 as usize].class == "StopIteration";
        let stop_iteration_subclass = self.exc_is(exc, "StopIteration");
        let message =
            "StopIteration interacts badly with generators and cannot be raised into a Future";
        if self.profile.stop_iteration_wrapped() {
            if stop_iteration_subclass {
                self.cite(cite!(
                    "asyncio.futures.set_exception.stop_iteration_wrapped"
                ));
                // The C future: `PyException_SetCause(err, exc)` (which also sets
                // __suppress_context__) and `PyException_SetContext(err, exc)`.
                let wrapped = self.new_exc("RuntimeError", vec![Value::Str(message.into())]);
                self.set_cause(wrapped, Some(exc));
                self.excs[wrapped.0 as usize].context = Some(exc);
                exc = wrapped;
            }
        } else if is_stop_iteration {
            self.cite(cite!(
                "asyncio.futures.set_exception.stop_iteration_type_error"
            ));
            return Err(self.new_exc("TypeError", vec![Value::Str(message.into())]));
        }
        self.cite(cite!("asyncio.futures.set_exception.stores"));
        self.future_set_exception(f, exc);
        Ok(Value::None)
    }

    /// The C `_asyncio` module raises `InvalidStateError('invalid state')` on a done
    /// future (Lib/asyncio/futures.py, used without the accelerator, says
    /// `f'{self._state}: {self!r}'`).
    fn state_word(&self, _f: FutId) -> String {
        "invalid state".to_string()
    }

    /// A scenario's done callback runs: record what it saw, or raise (reported).
    pub fn user_callback(&mut self, spec: CallbackSpec, target: String, f: FutId) {
        match spec {
            CallbackSpec::Record => {
                // The recording callback reads the outcome with `exception()` /
                // `result()`, which marks an exception retrieved.
                let outcome = match self.fut(f).state.clone() {
                    FutState::Result(v) => Outcome::Value { value: v },
                    FutState::Exception(e) => {
                        let _ = self.future_exception(f);
                        Outcome::Raised {
                            exc: self.exc_view(e),
                        }
                    }
                    FutState::Cancelled => Outcome::Raised {
                        exc: crate::core::exception::ExcView::plain(
                            "asyncio.CancelledError",
                            Vec::new(),
                        ),
                    },
                    FutState::Pending => Outcome::Value { value: Value::None },
                };
                self.cite(cite!(
                    "asyncio.futures.add_done_callback.not_called_immediately"
                ));
                self.emit_for(None, EventKind::Callback { target, outcome });
            }
            CallbackSpec::Raise { class, args } => {
                // A failing constructor raises its TypeError in the callback instead.
                let e = self.call_exc_class(&class, &args).unwrap_or_else(|e| e);
                self.cite(cite!("asyncio.futures.callback.exception_reported"));
                let message = format!("Exception in callback <{target}.<callback>>");
                self.call_exception_handler(
                    message,
                    &["exception", "handle", "message"],
                    Some(e),
                    false,
                );
            }
        }
    }
}
