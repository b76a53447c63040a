//! Timeouts: `asyncio.timeout()` / `timeout_at()` (the `Timeout` object) and `wait_for`.
//!
//! Transcribes `Lib/asyncio/timeouts.py` and `wait_for` / `_cancel_and_wait` from
//! `Lib/asyncio/tasks.py`: 3.12+ builds `wait_for` on `timeout()`, 3.11 on a private
//! waiter future. Chapter: `specs/asyncio/timeouts.toml`.

use crate::asyncio::coroutine::{Frame, FrameOut, Input, WaitForPhase};
use crate::asyncio::world::{Callback, CmId, FutId, TimeoutCm, TimeoutState, TimerAction, World};
use crate::core::exception::ExcId;
use crate::core::scenario::Target;
use crate::core::trace::EventKind;
use crate::core::value::Value;

impl World {
    /// `Timeout(when)`.
    pub fn new_timeout(&mut self, when: Option<f64>) -> CmId {
        self.timeouts.push(TimeoutCm {
            state: TimeoutState::Created,
            when,
            handler: None,
            task: None,
            cancelling: 0,
        });
        CmId(self.timeouts.len() as u32 - 1)
    }

    /// `Timeout.__aenter__` (never suspends).
    pub fn timeout_enter(&mut self, cm: CmId) {
        let task = self.current.expect("timeout() is entered inside a task");
        let cancelling = self.task(task).num_cancels_requested;
        let c = &mut self.timeouts[cm.0 as usize];
        c.state = TimeoutState::Entered;
        c.task = Some(task);
        c.cancelling = cancelling;
        let when = c.when;
        if when.is_none() {
            self.cite(cite!("asyncio.timeouts.timeout.none_never_triggers"));
        }
        let _ = self.timeout_reschedule(cm, when);
    }

    /// `Timeout.reschedule(when)`.
    pub fn timeout_reschedule(&mut self, cm: CmId, when: Option<f64>) -> Result<(), ExcId> {
        let state = self.timeouts[cm.0 as usize].state;
        if state != TimeoutState::Entered {
            self.cite(cite!(
                "asyncio.timeouts.reschedule.after_expiry_runtime_error"
            ));
            let message = match state {
                TimeoutState::Created => "Timeout has not been entered".to_string(),
                TimeoutState::Expiring => "Cannot change state of expiring Timeout".to_string(),
                TimeoutState::Expired => "Cannot change state of expired Timeout".to_string(),
                _ => "Cannot change state of finished Timeout".to_string(),
            };
            return Err(self.new_exc("RuntimeError", vec![Value::Str(message)]));
        }
        self.cite(cite!("asyncio.timeouts.reschedule.moves_deadline"));
        self.timeouts[cm.0 as usize].when = when;
        if let Some(h) = self.timeouts[cm.0 as usize].handler.take() {
            self.cancel_timer(h);
        }
        let handler = match when {
            None => None,
            Some(w) if w <= self.loop_time() => {
                self.cite(cite!(
                    "asyncio.timeouts.timeout.past_deadline_next_iteration"
                ));
                Some(self.call_soon_timer(TimerAction::TimeoutFire(cm)))
            }
            Some(w) => Some(self.call_at(w, TimerAction::TimeoutFire(cm))),
        };
        self.timeouts[cm.0 as usize].handler = handler;
        Ok(())
    }

    /// `Timeout.expired()`.
    pub fn timeout_expired(&mut self, cm: CmId) -> bool {
        self.cite(cite!("asyncio.timeouts.expired.reports_expiry"));
        matches!(
            self.timeouts[cm.0 as usize].state,
            TimeoutState::Expiring | TimeoutState::Expired
        )
    }

    /// `Timeout._on_timeout`: cancel the task.
    pub fn timeout_on_timeout(&mut self, cm: CmId) {
        let task = self.timeouts[cm.0 as usize]
            .task
            .expect("an entered timeout has a task");
        debug_assert_eq!(self.timeouts[cm.0 as usize].state, TimeoutState::Entered);
        let name = self.fut(task).name.clone();
        self.emit_for(Some(name), EventKind::TimeoutExpired);
        self.task_cancel(task, None);
        let c = &mut self.timeouts[cm.0 as usize];
        c.state = TimeoutState::Expiring;
        c.handler = None;
    }

    /// `Timeout._insert_timeout_error(exc_val)` (3.13): walk the context chain; before the
    /// first CancelledError in it put a `TimeoutError` whose cause and context are that
    /// CancelledError (assigning `__cause__` also sets `__suppress_context__`).
    fn insert_timeout_error(&mut self, e: ExcId) {
        self.cite(cite!("asyncio.timeouts.timeout.inserts_timeout_error_3_13"));
        let mut at = e;
        for _ in 0..(1 << 12) {
            let Some(context) = self.excs[at.0 as usize].context else {
                return;
            };
            if self.exc_is(context, "asyncio.CancelledError") {
                let te = self.new_exc("TimeoutError", Vec::new());
                self.excs[te.0 as usize].context = Some(context);
                self.set_cause(te, Some(context));
                self.excs[at.0 as usize].context = Some(te);
                return;
            }
            at = context;
        }
    }

    /// `Timeout.__aexit__`: `Err(e)` raises `e` instead of what the block raised.
    pub fn timeout_exit(&mut self, cm: CmId, exc: Option<ExcId>) -> Result<(), ExcId> {
        if let Some(h) = self.timeouts[cm.0 as usize].handler.take() {
            self.cancel_timer(h);
        }
        let state = self.timeouts[cm.0 as usize].state;
        match state {
            TimeoutState::Expiring => {
                self.timeouts[cm.0 as usize].state = TimeoutState::Expired;
                let task = self.timeouts[cm.0 as usize].task.expect("entered");
                let entry_count = self.timeouts[cm.0 as usize].cancelling;
                let remaining = self.task_uncancel(task);
                let converts = match exc {
                    None => false,
                    Some(e) if self.profile.timeout_exit_subclass_check() => {
                        // 3.13: `exc_type is not None`, then CancelledError subclasses convert.
                        self.exc_is(e, "asyncio.CancelledError")
                    }
                    // 3.11/3.12: `exc_type is exceptions.CancelledError` exactly.
                    Some(e) => self.excs[e.0 as usize].class == "asyncio.CancelledError",
                };
                if remaining <= entry_count && converts {
                    self.cite(cite!(
                        "asyncio.timeouts.timeout.expiry_raises_timeout_error"
                    ));
                    self.cite(cite!("asyncio.timeouts.timeout.caught_only_outside"));
                    // `raise TimeoutError from exc_val`, in __aexit__ while exc_val is
                    // being handled: its cause and its context.
                    let te = self.new_exc("TimeoutError", Vec::new());
                    self.set_cause(te, exc);
                    self.chain_onto(te, exc);
                    return Err(te);
                }
                if remaining <= entry_count && self.profile.timeout_inserts_timeout_error() {
                    if let Some(e) = exc {
                        self.insert_timeout_error(e);
                        let members = self.excs[e.0 as usize].group.clone();
                        if self.exc_is(e, "ExceptionGroup") {
                            for m in members {
                                self.insert_timeout_error(m);
                            }
                        }
                    }
                }
                if exc.is_none() {
                    // The block swallowed the cancellation the deadline sent.
                    self.cite(cite!(
                        "asyncio.cancellation.structured.misbehave_if_swallowed"
                    ));
                }
                if remaining > entry_count && exc.is_some() {
                    // A count above the entry value: someone else's cancel, or one a
                    // coroutine swallowed without uncancel() -- indistinguishable here.
                    self.cite(cite!(
                        "asyncio.timeouts.timeout.external_cancel_not_converted"
                    ));
                    self.cite(cite!("asyncio.cancellation.uncancel.needed_to_suppress"));
                }
                Ok(())
            }
            TimeoutState::Entered => {
                self.timeouts[cm.0 as usize].state = TimeoutState::Exited;
                if exc.is_some_and(|e| self.exc_is(e, "asyncio.CancelledError")) {
                    // Not this timeout's cancellation (an outer one's, or from outside).
                    self.cite(cite!(
                        "asyncio.timeouts.timeout.external_cancel_not_converted"
                    ));
                    self.cite(cite!("asyncio.timeouts.timeout.nested_safe"));
                }
                Ok(())
            }
            other => {
                debug_assert!(false, "Timeout.__aexit__ in state {other:?}");
                Ok(())
            }
        }
    }

    /// `wait_for` 3.12+: `async with timeouts.timeout(timeout): return await aw`.
    pub fn resume_wait_for_timeout(
        &mut self,
        target: Target,
        timeout: Option<f64>,
        cm: &mut Option<CmId>,
        input: Input,
    ) -> FrameOut {
        match input {
            Input::Start => {
                let when = timeout.map(|t| self.loop_time() + t);
                let c = self.new_timeout(when);
                self.timeout_enter(c);
                *cm = Some(c);
                match &target {
                    // A coroutine runs inline, in this task (no ensure_future on this path).
                    Target::Coro(name) => FrameOut::Push(self.coroutine_frame(name)),
                    Target::Var(v) => {
                        match self.lookup(v).and_then(|o| self.awaitable_future(&o)) {
                            Ok(f) => FrameOut::Push(Frame::AwaitFuture { fut: f }),
                            Err(e) => self.wait_for_exit(*cm, Err(e)),
                        }
                    }
                }
            }
            Input::Send(v) => self.wait_for_exit(*cm, Ok(v)),
            Input::Throw(e) => self.wait_for_exit(*cm, Err(e)),
        }
    }

    fn wait_for_exit(
        &mut self,
        cm: Option<CmId>,
        r: Result<crate::core::value::Value, ExcId>,
    ) -> FrameOut {
        let cm = cm.expect("entered");
        let exc = r.as_ref().err().copied();
        match self.timeout_exit(cm, exc) {
            Err(te) => {
                self.cite(cite!(
                    "asyncio.timeouts.wait_for.timeout_cancels_and_raises"
                ));
                self.cite(cite!("asyncio.timeouts.wait_for.waits_for_cancellation"));
                FrameOut::Raise(te)
            }
            Ok(()) => match r {
                Ok(v) => {
                    if self.timeouts[cm.0 as usize].state
                        == crate::asyncio::world::TimeoutState::Expired
                    {
                        self.cite(cite!(
                            "asyncio.timeouts.wait_for.suppressed_cancel_returns_value"
                        ));
                    }
                    FrameOut::Return(v)
                }
                Err(e) => {
                    if self.exc_is(e, "asyncio.CancelledError") {
                        self.cite(cite!("asyncio.timeouts.wait_for.cancelled_cancels_inner"));
                    } else if self.timeouts[cm.0 as usize].state
                        == crate::asyncio::world::TimeoutState::Expired
                    {
                        self.cite(cite!(
                            "asyncio.timeouts.wait_for.exception_during_cancellation_propagates"
                        ));
                    }
                    FrameOut::Raise(e)
                }
            },
        }
    }

    /// `wait_for` 3.11 (and every version's `timeout <= 0` path).
    pub fn resume_wait_for_waiter(
        &mut self,
        target: Target,
        timeout: Option<f64>,
        phase: &mut WaitForPhase,
        input: Input,
    ) -> FrameOut {
        match (phase.clone(), input) {
            (WaitForPhase::Start, Input::Start) => {
                let Some(timeout) = timeout else {
                    // `return await fut`: a coroutine runs inline.
                    return match &target {
                        Target::Coro(name) => FrameOut::Push(self.coroutine_frame(name)),
                        Target::Var(v) => {
                            match self.lookup(v).and_then(|o| self.awaitable_future(&o)) {
                                Ok(f) => FrameOut::Push(Frame::AwaitFuture { fut: f }),
                                Err(e) => FrameOut::Raise(e),
                            }
                        }
                    };
                };
                if timeout <= 0.0 {
                    let fut = match self.ensure_future(&target) {
                        Ok(f) => f,
                        Err(e) => return FrameOut::Raise(e),
                    };
                    self.cite(cite!("asyncio.timeouts.wait_for.non_positive_timeout"));
                    if self.done(fut) {
                        return self.result_out(fut);
                    }
                    *phase = WaitForPhase::ZeroCancelling(fut);
                    return FrameOut::Push(Frame::CancelAndWait { fut, waiter: None });
                }
                self.cite(cite!("asyncio.timeouts.wait_for.impl_3_11"));
                // `waiter`, `timeout_handle`, then `fut = ensure_future(fut)`: an
                // argument that is no future leaves the timer behind.
                let waiter = self.new_future("wait_for waiter");
                let timer = self.call_later(timeout, TimerAction::ReleaseWaiter(waiter));
                let fut = match self.ensure_future(&target) {
                    Ok(f) => f,
                    Err(e) => return FrameOut::Raise(e),
                };
                self.add_done_callback(fut, Callback::ReleaseWaiter(waiter));
                *phase = WaitForPhase::Waiting { fut, waiter, timer };
                FrameOut::Push(Frame::AwaitFuture { fut: waiter })
            }
            // `timeout is None` path finished: pass the outcome through.
            (WaitForPhase::Start, Input::Send(v)) => FrameOut::Return(v),
            (WaitForPhase::Start, Input::Throw(e)) => FrameOut::Raise(e),
            (WaitForPhase::ZeroCancelling(fut), Input::Send(_)) => self.result_or_timeout(fut),
            (WaitForPhase::ZeroCancelling(_), Input::Throw(e)) => FrameOut::Raise(e),
            (WaitForPhase::Waiting { fut, waiter, timer }, input) => match input {
                Input::Throw(e) if self.exc_is(e, "asyncio.CancelledError") => {
                    if self.done(fut) {
                        self.cancel_timer(timer);
                        return self.result_out(fut);
                    }
                    self.cite(cite!("asyncio.timeouts.wait_for.cancelled_cancels_inner"));
                    self.remove_done_callback(fut, &Callback::ReleaseWaiter(waiter));
                    *phase = WaitForPhase::Cancelled { fut, timer, exc: e };
                    FrameOut::Push(Frame::CancelAndWait { fut, waiter: None })
                }
                Input::Throw(e) => {
                    self.cancel_timer(timer);
                    FrameOut::Raise(e)
                }
                _ => {
                    if self.done(fut) {
                        self.cancel_timer(timer);
                        return self.result_out(fut);
                    }
                    self.remove_done_callback(fut, &Callback::ReleaseWaiter(waiter));
                    *phase = WaitForPhase::TimedOut { fut, timer };
                    FrameOut::Push(Frame::CancelAndWait { fut, waiter: None })
                }
            },
            (WaitForPhase::TimedOut { fut, timer }, input) => {
                self.cancel_timer(timer);
                match input {
                    Input::Throw(e) => FrameOut::Raise(e),
                    _ => self.result_or_timeout(fut),
                }
            }
            (WaitForPhase::Cancelled { timer, exc, .. }, input) => {
                self.cancel_timer(timer);
                match input {
                    Input::Throw(e) => FrameOut::Raise(e),
                    _ => FrameOut::Raise(exc),
                }
            }
            (phase, input) => {
                debug_assert!(false, "wait_for in {phase:?} got {input:?}");
                FrameOut::Return(Value::None)
            }
        }
    }

    fn result_out(&mut self, fut: FutId) -> FrameOut {
        match self.future_result(fut) {
            Ok(v) => FrameOut::Return(v),
            Err(e) => FrameOut::Raise(e),
        }
    }

    /// `try: return fut.result() except CancelledError as exc: raise TimeoutError from exc`.
    fn result_or_timeout(&mut self, fut: FutId) -> FrameOut {
        match self.future_result(fut) {
            Ok(v) => {
                self.cite(cite!(
                    "asyncio.timeouts.wait_for.suppressed_cancel_returns_value"
                ));
                FrameOut::Return(v)
            }
            Err(e) if self.exc_is(e, "asyncio.CancelledError") => {
                self.cite(cite!(
                    "asyncio.timeouts.wait_for.timeout_cancels_and_raises"
                ));
                self.cite(cite!("asyncio.timeouts.wait_for.waits_for_cancellation"));
                // `except CancelledError as exc: raise TimeoutError() from exc`.
                let te = self.new_exc("TimeoutError", Vec::new());
                self.set_cause(te, Some(e));
                self.chain_onto(te, Some(e));
                FrameOut::Raise(te)
            }
            Err(e) => {
                self.cite(cite!(
                    "asyncio.timeouts.wait_for.exception_during_cancellation_propagates"
                ));
                FrameOut::Raise(e)
            }
        }
    }

    /// `_cancel_and_wait(fut)`.
    pub fn resume_cancel_and_wait(
        &mut self,
        fut: FutId,
        waiter: &mut Option<FutId>,
        input: Input,
    ) -> FrameOut {
        match input {
            Input::Start => {
                let w = self.new_future("cancel_and_wait waiter");
                *waiter = Some(w);
                self.add_done_callback(fut, Callback::ReleaseWaiter(w));
                self.cancel(fut, None);
                FrameOut::Push(Frame::AwaitFuture { fut: w })
            }
            Input::Send(_) | Input::Throw(_) => {
                if let Some(w) = *waiter {
                    self.remove_done_callback(fut, &Callback::ReleaseWaiter(w));
                }
                match input {
                    Input::Throw(e) => FrameOut::Raise(e),
                    _ => FrameOut::Return(Value::None),
                }
            }
        }
    }
}
