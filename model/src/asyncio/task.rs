//! asyncio.Task: running a coroutine step by step, storing its outcome, waking on futures.
//!
//! Transcribes `Task.__init__`, `Task.__step` and `Task.__wakeup` from
//! `Lib/asyncio/tasks.py` (the C `_asyncio` module does the same). Chapter:
//! `specs/asyncio/tasks.toml`.

use crate::asyncio::coroutine::{Frame, FrameOut, Input};
use crate::asyncio::world::{
    Callback, Escaped, FutId, FutKind, FutState, Handle, TaskState, World,
};
use crate::core::exception::ExcId;
use crate::core::trace::{EventKind, Outcome};
use crate::core::value::Value;

/// How a coroutine's run of one step ended.
enum CoroOut {
    Yield(FutId),
    YieldBare,
    YieldBad(String),
    Return(Value),
    Raise(ExcId),
}

impl World {
    /// `loop.create_task(coro, name=name)`: the first step is scheduled with call_soon.
    /// Implements asyncio.tasks.create_task.scheduled_soon.
    pub fn create_task(&mut self, frame: Frame, name: Option<String>, internal: bool) -> FutId {
        let t = self.new_task(frame, name, internal, false);
        self.call_soon(Handle::Step(t, None));
        t
    }

    /// `Task.__init__` up to scheduling: name, state, the trace's creation event.
    fn new_task(
        &mut self,
        frame: Frame,
        name: Option<String>,
        internal: bool,
        eager: bool,
    ) -> FutId {
        self.tasks_created += 1;
        let name = name.unwrap_or_else(|| format!("Task-{}", self.tasks_created));
        // Names identify tasks in traces, so a reused name gets `#k` (k = how many tasks
        // already carry it, plus one); adapters name their tasks by the same rule.
        let uses = self.task_names.entry(name.clone()).or_insert(0);
        *uses += 1;
        let name = if *uses == 1 {
            name
        } else {
            format!("{name}#{uses}")
        };
        let t = self.new_future(&name);
        let name = name.clone();
        self.fut_mut(t).kind = FutKind::Task(Box::new(TaskState {
            frames: vec![frame],
            fut_waiter: None,
            must_cancel: false,
            num_cancels_requested: 0,
            cancel_message: None,
            started: false,
            internal,
        }));
        if !internal {
            if eager {
                self.cite(cite!("asyncio.tasks.eager_start.runs_synchronously"));
            } else {
                self.cite(cite!("asyncio.tasks.create_task.scheduled_soon"));
            }
            self.emit(EventKind::TaskCreated { name });
        }
        t
    }

    /// `loop.create_task(coro, name=name)` from running code: under the eager task
    /// factory (3.12+) the new task's first step runs now, inside the caller's step, and
    /// a task that returns or raises in it is never scheduled
    /// (asyncio.tasks.eager_start.runs_synchronously). A KeyboardInterrupt or
    /// SystemExit from that step leaves `create_task` in the caller.
    pub fn spawn_task(&mut self, frame: Frame, name: String) -> Result<FutId, Escaped> {
        if !(self.eager_tasks && self.loop_running) {
            return Ok(self.create_task(frame, Some(name), false));
        }
        /// Deeper than any eager chain a scenario makes without recursing for ever.
        const EAGER_DEPTH_MAX: u32 = 16;
        let t = self.new_task(frame, Some(name), false, true);
        if self.eager_depth >= EAGER_DEPTH_MAX {
            // A coroutine that creates itself eagerly recurses without a step between:
            // CPython's stack gives out (RecursionError); the model stops here.
            if self.limit.is_none() {
                self.limit = Some("eager start recursion: each task's first step creates the next eagerly (CPython raises RecursionError)".into());
            }
            return Ok(t);
        }
        // The factory builds the task unnamed (`Task-N`); create_task names it after
        // the factory returns, so the eager first step runs under the default name.
        self.cite(cite!(
            "asyncio.tasks.eager_start.default_name_during_first_step"
        ));
        let default_name = format!("Task-{}", self.tasks_created);
        let given = self.rename_future(t, default_name);
        self.eager_depth += 1;
        let stepped = self.task_step(t, None);
        self.eager_depth -= 1;
        self.rename_future(t, given);
        stepped?;
        Ok(t)
    }

    /// The exception left task `t`'s coroutine: its traceback now holds that coroutine.
    fn note_raised_out_of(&mut self, t: FutId, e: ExcId) {
        let tb = &mut self.excs[e.0 as usize].tb_tasks;
        if !tb.contains(&t) {
            tb.push(t);
        }
    }

    /// Record a task's future becoming done (model bookkeeping).
    pub fn note_task_done(&mut self, f: FutId) {
        if !self.is_task(f) || self.task(f).internal {
            return;
        }
        let state = match self.fut(f).state.clone() {
            FutState::Result(v) => format!("result {v}"),
            FutState::Exception(e) => {
                self.cite(cite!("asyncio.tasks.exception.stored_on_task"));
                format!("exception {}", self.exc_view(e))
            }
            FutState::Cancelled => "cancelled".into(),
            FutState::Pending => return,
        };
        self.cite(cite!(
            "asyncio.tasks.done.when_returned_raised_or_cancelled"
        ));
        let name = self.fut(f).name.clone();
        self.emit_for(Some(name), EventKind::TaskDone { state });
    }

    /// `Task.__step(exc)`.
    pub fn task_step(&mut self, t: FutId, exc: Option<ExcId>) -> Result<(), Escaped> {
        debug_assert!(!self.done(t), "__step of a done task");
        let mut exc = exc;
        if self.task(t).must_cancel {
            let is_cancel = exc.is_some_and(|e| self.exc_is(e, "asyncio.CancelledError"));
            if !is_cancel {
                self.cite(cite!("asyncio.cancellation.cancel.thrown_next_cycle"));
                exc = Some(self.make_cancelled_error(t));
            }
            self.task_mut(t).must_cancel = false;
        }
        self.task_mut(t).fut_waiter = None;
        let previous = self.current.replace(t);
        let input = match exc {
            None if !self.task(t).started => Input::Start,
            None => Input::Send(Value::None),
            Some(e) => Input::Throw(e),
        };
        self.task_mut(t).started = true;
        if let Input::Throw(e) = input {
            // `coro.throw(exc)` raises it in the innermost frame.
            self.chain_raised(e);
        }
        let mut frames = std::mem::take(&mut self.task_mut(t).frames);
        let out = self.run_coroutine(&mut frames, input);
        self.task_mut(t).frames = frames;

        let result = match out {
            CoroOut::Return(v) => {
                if self.task(t).must_cancel {
                    // Cancelled right before the coroutine returned.
                    self.task_mut(t).must_cancel = false;
                    let msg = self.task(t).cancel_message.clone();
                    self.future_cancel_base(t, msg);
                } else {
                    self.future_set_result(t, v);
                }
                Ok(())
            }
            CoroOut::Raise(e) if self.exc_is(e, "asyncio.CancelledError") => {
                if self.task(t).num_cancels_requested == 0 {
                    self.cite(cite!(
                        "asyncio.tasks.raise_cancelled.without_request_cancels_task"
                    ));
                }
                self.fut_mut(t).cancelled_exc = Some(e);
                self.future_cancel_base(t, None);
                Ok(())
            }
            CoroOut::Raise(e)
                if self.exc_is(e, "KeyboardInterrupt") || self.exc_is(e, "SystemExit") =>
            {
                self.cite(cite!("asyncio.tasks.base_exception.propagates_out_of_loop"));
                self.cite(cite!("asyncio.runners.keyboard_interrupt.raised_in_task"));
                self.note_raised_out_of(t, e);
                self.future_set_exception(t, e);
                Err(e)
            }
            CoroOut::Raise(e) => {
                if !self.exc_is(e, "Exception") {
                    self.cite(cite!("asyncio.tasks.base_exception.other_stored"));
                }
                self.note_raised_out_of(t, e);
                self.future_set_exception(t, e);
                Ok(())
            }
            CoroOut::Yield(f) if f == t => {
                self.cite(cite!("asyncio.tasks.await_self.runtime_error"));
                let e = self.new_exc(
                    "RuntimeError",
                    vec![Value::Str("Task cannot await on itself: <Task>".into())],
                );
                self.call_soon(Handle::Step(t, Some(e)));
                self.fut_mut(t).blocking_left_set = true;
                Ok(())
            }
            CoroOut::Yield(f) => {
                self.add_done_callback(f, Callback::Wakeup(t));
                self.task_mut(t).fut_waiter = Some(f);
                if self.task(t).must_cancel {
                    let msg = self.task(t).cancel_message.clone();
                    if self.cancel(f, msg) {
                        self.task_mut(t).must_cancel = false;
                    }
                }
                Ok(())
            }
            CoroOut::YieldBare => {
                self.call_soon(Handle::Step(t, None));
                Ok(())
            }
            CoroOut::YieldBad(v) => {
                self.cite(cite!("asyncio.tasks.step.bare_yield_runtime_error"));
                let e = self.new_exc(
                    "RuntimeError",
                    vec![Value::Str(format!("Task got bad yield: {v}"))],
                );
                self.call_soon(Handle::Step(t, Some(e)));
                Ok(())
            }
        };
        self.current = previous;
        result
    }

    /// `Task.__wakeup(future)`: step with the future's exception, or with nothing.
    pub fn task_wakeup(&mut self, t: FutId, f: FutId) -> Result<(), Escaped> {
        self.cite_await(f);
        match self.future_result(f) {
            Ok(_) => self.task_step(t, None),
            Err(e) => self.task_step(t, Some(e)),
        }
    }

    /// Cite what awaiting `f` implements, by what `f` is and how it ended.
    pub fn cite_await(&mut self, f: FutId) {
        let state = self.fut(f).state.clone();
        if self.is_task(f) {
            match state {
                FutState::Exception(_) => {
                    self.cite(cite!("asyncio.tasks.await.reraises_stored_exception"))
                }
                FutState::Result(_) => self.cite(cite!("asyncio.tasks.await.returns_result")),
                FutState::Cancelled => self.cite(cite!(
                    "asyncio.cancellation.cancel.msg_propagates_to_awaiter"
                )),
                FutState::Pending => {}
            }
        } else if matches!(self.fut(f).kind, FutKind::Plain) {
            match state {
                FutState::Exception(_) => {
                    self.cite(cite!("asyncio.futures.await.raises_stored_exception"))
                }
                FutState::Cancelled => self.cite(cite!("asyncio.futures.await.cancelled_raises")),
                FutState::Result(_) => self.cite(cite!("asyncio.futures.await.returns_result")),
                FutState::Pending => {}
            }
        }
    }

    /// Drive the frames of one coroutine until it yields, returns or raises.
    fn run_coroutine(&mut self, frames: &mut Vec<Frame>, mut input: Input) -> CoroOut {
        loop {
            let depth = frames.len();
            let Some(top) = frames.last_mut() else {
                return CoroOut::Return(Value::None);
            };
            // A library coroutine that raises an exception it made during this resume
            // raises it here (the statements chain their own raises).
            let fresh_from = self.excs.len();
            let library = !matches!(top, Frame::User(_));
            let out = self.resume_frame(top, input, depth == 1);
            if let FrameOut::Raise(e) = out {
                if library
                    && e.0 as usize >= fresh_from
                    && self.excs[e.0 as usize].context.is_none()
                {
                    self.chain_raised(e);
                }
            }
            match out {
                FrameOut::Yield(f) => return CoroOut::Yield(f),
                FrameOut::YieldBare => return CoroOut::YieldBare,
                FrameOut::YieldBad(v) => return CoroOut::YieldBad(v),
                FrameOut::Push(frame) => {
                    frames.push(frame);
                    input = Input::Start;
                }
                FrameOut::Return(v) => {
                    frames.pop();
                    if frames.is_empty() {
                        return CoroOut::Return(v);
                    }
                    input = Input::Send(v);
                }
                FrameOut::Raise(e) => {
                    frames.pop();
                    if frames.is_empty() {
                        return CoroOut::Raise(e);
                    }
                    input = Input::Throw(e);
                }
            }
        }
    }

    /// The statement `[var =] t.result()` / `t.exception()` results, for the trace.
    pub fn call_outcome(&self, r: &Result<Value, ExcId>) -> Outcome {
        self.outcome_of(r)
    }
}
