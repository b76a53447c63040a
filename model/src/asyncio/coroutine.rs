//! Coroutines as explicit frames: the scenario's statements, and the library coroutines
//! (`asyncio.sleep`, `Future.__await__`, `wait_for`, `TaskGroup.__aexit__`, `_wait`,
//! `_cancel_and_wait`) transcribed as small state machines.
//!
//! A task's coroutine is a stack of frames; `await child()` pushes one. Resuming sends a
//! value or throws an exception into the innermost frame, exactly like `coro.send()` and
//! `coro.throw()`. An exception in flight is `Signal::Raising(exc)`, unwinding block by
//! block through `except`, `finally`, `async with timeout()` and `async with TaskGroup()`.

use crate::asyncio::objects::Method;
use crate::asyncio::world::{CmId, FutId, FutKind, Obj, TgId, TimerId, World};
use crate::core::exception::ExcId;
use crate::core::scenario::{Block, Query, Stmt, Target};
use crate::core::trace::{EventKind, Outcome};
use crate::core::value::{number_label, Value};

/// What is sent into a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// First entry.
    Start,
    /// `send(value)`.
    Send(Value),
    /// `throw(exc)`.
    Throw(ExcId),
}

/// What a frame does next.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameOut {
    /// Suspend the task on this future (`yield fut`).
    Yield(FutId),
    /// Suspend for one loop iteration (bare `yield`).
    YieldBare,
    /// Yield something that is not a future (shown as Python prints it).
    YieldBad(String),
    /// Call a nested coroutine.
    Push(Frame),
    /// The frame returned.
    Return(Value),
    /// The frame raised.
    Raise(ExcId),
}

/// One coroutine frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A scenario coroutine.
    User(UserFrame),
    /// `Future.__await__` on a future or task.
    AwaitFuture {
        /// The future.
        fut: FutId,
    },
    /// `StreamWriter.drain()`.
    Drain {
        /// The connection.
        stream: String,
        /// Where it is.
        phase: crate::asyncio::streams::DrainPhase,
    },
    /// A `StreamReader` read.
    StreamRead {
        /// The reader's name.
        reader: String,
        /// Which read.
        op: crate::asyncio::streams::ReadOp,
        /// Its locals.
        progress: crate::asyncio::streams::ReadProgress,
    },
    /// `asyncio.sleep(delay, result)`.
    Sleep {
        /// Seconds.
        delay: f64,
        /// Result.
        result: Value,
        /// The sleep's future, once made.
        fut: Option<FutId>,
        /// Its timer.
        timer: Option<TimerId>,
    },
    /// `wait_for` as `async with timeout(t): return await aw` (3.12+).
    WaitForTimeout {
        /// The awaitable.
        target: Target,
        /// Seconds.
        timeout: Option<f64>,
        /// The Timeout, once entered.
        cm: Option<CmId>,
    },
    /// `wait_for` with a private waiter future (3.11), and the `timeout <= 0` path.
    WaitForWaiter {
        /// The awaitable.
        target: Target,
        /// Seconds.
        timeout: Option<f64>,
        /// Where it is.
        phase: WaitForPhase,
    },
    /// `_cancel_and_wait(fut)`.
    CancelAndWait {
        /// The future cancelled.
        fut: FutId,
        /// The waiter, once made.
        waiter: Option<FutId>,
    },
    /// `TaskGroup.__aexit__`.
    TaskGroupExit {
        /// The group.
        tg: TgId,
        /// The exception the body exited with.
        exc: Option<ExcId>,
        /// `propagate_cancellation_error`.
        propagate: Option<ExcId>,
        /// Past the opening checks.
        waiting: bool,
    },
    /// `asyncio.wait()`'s `_wait`.
    Wait {
        /// The futures.
        items: Vec<FutId>,
        /// The shared state, once made.
        state: Option<usize>,
    },
    /// The `for f in asyncio.as_completed(...): await f` loop; records each await.
    AsCompleted {
        /// The shared state.
        state: usize,
        /// The queue getter awaited now, if any.
        getter: Option<FutId>,
    },
    /// A coroutine that returns at once (`shutdown_asyncgens()` with no generators).
    Noop,
    /// A coroutine that raises at once, never suspending (`loop.sendfile` refused).
    RaiseAtOnce {
        /// What it raises.
        exc: ExcId,
    },
    /// `BadAwaitable.__await__`: yields 42 once.
    BadYield {
        /// It has yielded.
        yielded: bool,
    },
    /// A coroutine method of a lock, event, condition, semaphore or barrier.
    Lock(crate::asyncio::locks::LockFrame),
    /// A coroutine method of a queue.
    Queue(crate::asyncio::queues::QueueFrame),
}

/// Where a 3.11-style `wait_for` is.
#[derive(Clone, Debug, PartialEq)]
pub enum WaitForPhase {
    /// Not started.
    Start,
    /// `timeout <= 0`: waiting in `_cancel_and_wait(fut)`.
    ZeroCancelling(FutId),
    /// Awaiting the waiter.
    Waiting {
        /// The awaited future.
        fut: FutId,
        /// The waiter.
        waiter: FutId,
        /// The timeout handle.
        timer: TimerId,
    },
    /// The timeout passed; `_cancel_and_wait(fut)` is running.
    TimedOut {
        /// The awaited future.
        fut: FutId,
        /// The timeout handle.
        timer: TimerId,
    },
    /// wait_for itself was cancelled; `_cancel_and_wait(fut)` is running.
    Cancelled {
        /// The awaited future.
        fut: FutId,
        /// The timeout handle.
        timer: TimerId,
        /// The CancelledError to re-raise.
        exc: ExcId,
    },
}

/// A scenario coroutine's frame.
#[derive(Clone, Debug, PartialEq)]
pub struct UserFrame {
    /// Coroutine function name.
    pub coro: String,
    /// Open blocks, innermost last.
    pub blocks: Vec<BlockState>,
    /// What the frame is suspended in.
    pub awaiting: Option<Awaiting>,
    /// The body began running (an exception thrown in before that starts nothing).
    pub started: bool,
}

/// One open statement block.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockState {
    /// The statements.
    pub stmts: Block,
    /// Next statement.
    pub pc: usize,
    /// What kind of block.
    pub kind: BlockKind,
}

/// Block kinds: what happens when control leaves them.
#[derive(Clone, Debug, PartialEq)]
pub enum BlockKind {
    /// The coroutine body.
    Body,
    /// A `try` body; the `Try` statement is `parent[index]`.
    TryBody {
        /// The statement list holding the `try`.
        parent: Block,
        /// Its index.
        index: usize,
    },
    /// An `except` body handling `handled`.
    Handler {
        /// The exception being handled.
        handled: ExcId,
        /// The `finally` to run after.
        finally: Option<Block>,
    },
    /// The `else` body.
    Else {
        /// The `finally` to run after.
        finally: Option<Block>,
    },
    /// A `finally` body, with what to resume after it.
    Finally {
        /// Resumed at the end of the block.
        pending: Pending,
    },
    /// `async with asyncio.timeout(...)`.
    Timeout(CmId),
    /// `async with asyncio.TaskGroup()`.
    TaskGroup(TgId),
}

/// What control was doing when a `finally` or an async exit interrupted it.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    /// Falling through.
    Normal,
    /// An exception in flight.
    Raise(ExcId),
    /// A `return` in flight.
    Return(Value),
}

/// What a user frame waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum Awaiting {
    /// An await expression: record its outcome, bind the variable.
    Expr {
        /// As Python code.
        label: String,
        /// Variable to bind.
        var: Option<String>,
    },
    /// `TaskGroup.__aexit__` running, then resume `pending`.
    GroupExit(Pending),
}

pub(crate) enum Signal {
    Normal,
    Raising(ExcId),
    Returning(Value),
}

impl UserFrame {
    /// A fresh frame for a coroutine body.
    pub fn new(coro: &str, body: Block) -> UserFrame {
        UserFrame {
            coro: coro.to_string(),
            blocks: vec![BlockState {
                stmts: body,
                pc: 0,
                kind: BlockKind::Body,
            }],
            awaiting: None,
            started: false,
        }
    }
}

impl World {
    /// A frame running coroutine function `name` of the scenario.
    pub fn coroutine_frame(&self, name: &str) -> Frame {
        let body = self
            .scenario
            .coroutine(name)
            .cloned()
            .unwrap_or_else(|| std::rc::Rc::from(Vec::new()));
        Frame::User(UserFrame::new(name, body))
    }

    /// Resume a frame. `root` is true for a task's outermost frame.
    pub fn resume_frame(&mut self, frame: &mut Frame, input: Input, root: bool) -> FrameOut {
        match frame {
            Frame::User(uf) => self.resume_user(uf, input, root),
            Frame::AwaitFuture { fut } => self.resume_await_future(*fut, input),
            Frame::Sleep {
                delay,
                result,
                fut,
                timer,
            } => self.resume_sleep(*delay, result.clone(), fut, timer, input),
            Frame::WaitForTimeout {
                target,
                timeout,
                cm,
            } => self.resume_wait_for_timeout(target.clone(), *timeout, cm, input),
            Frame::WaitForWaiter {
                target,
                timeout,
                phase,
            } => self.resume_wait_for_waiter(target.clone(), *timeout, phase, input),
            Frame::CancelAndWait { fut, waiter } => {
                self.resume_cancel_and_wait(*fut, waiter, input)
            }
            Frame::TaskGroupExit {
                tg,
                exc,
                propagate,
                waiting,
            } => self.resume_task_group_exit(*tg, *exc, propagate, waiting, input),
            Frame::Wait { items, state } => self.resume_wait(items.clone(), state, input),
            Frame::Drain { stream, phase } => {
                let stream = stream.clone();
                self.resume_drain(&stream, phase, input)
            }
            Frame::StreamRead {
                reader,
                op,
                progress,
            } => {
                let (reader, op) = (reader.clone(), op.clone());
                self.resume_stream_read(&reader, &op, progress, input)
            }
            Frame::AsCompleted { state, getter } => self.resume_as_completed(*state, getter, input),
            Frame::BadYield { yielded } => match input {
                Input::Start if !*yielded => {
                    *yielded = true;
                    FrameOut::YieldBad("42".into())
                }
                Input::Throw(e) => FrameOut::Raise(e),
                _ => FrameOut::Return(Value::None),
            },
            Frame::Noop => match input {
                Input::Throw(e) => FrameOut::Raise(e),
                _ => FrameOut::Return(Value::None),
            },
            Frame::Lock(f) => self.resume_lock_frame(f, input),
            Frame::Queue(f) => self.resume_queue_frame(f, input),
            Frame::RaiseAtOnce { exc } => match input {
                Input::Throw(e) => FrameOut::Raise(e),
                _ => FrameOut::Raise(*exc),
            },
        }
    }

    /// `Future.__await__`: yield while pending, then `result()`.
    fn resume_await_future(&mut self, fut: FutId, input: Input) -> FrameOut {
        match input {
            Input::Start if !self.done(fut) && self.fut(fut).blocking_left_set => {
                // The C future iterator refuses a pending future whose blocking flag is
                // already set.
                self.cite(cite!("asyncio.tasks.await_self.others_awaiting_fail"));
                FrameOut::Raise(self.new_exc(
                    "RuntimeError",
                    vec![Value::Str("await wasn't used with future".into())],
                ))
            }
            Input::Start if !self.done(fut) => FrameOut::Yield(fut),
            Input::Throw(e) => FrameOut::Raise(e),
            _ => {
                if matches!(input, Input::Start) {
                    self.cite_await(fut);
                }
                match self.future_result(fut) {
                    Ok(v) => FrameOut::Return(v),
                    Err(e) => {
                        // `raise self._exception` (or a fresh CancelledError).
                        self.chain_raised(e);
                        FrameOut::Raise(e)
                    }
                }
            }
        }
    }

    /// `asyncio.sleep(delay, result)`.
    fn resume_sleep(
        &mut self,
        delay: f64,
        result: Value,
        fut: &mut Option<FutId>,
        timer: &mut Option<TimerId>,
        input: Input,
    ) -> FrameOut {
        match input {
            Input::Start => {
                if delay <= 0.0 {
                    // `await __sleep0()`: a bare yield.
                    return FrameOut::YieldBare;
                }
                let f = self.new_future("sleep");
                *fut = Some(f);
                *timer = Some(self.call_later(
                    delay,
                    crate::asyncio::world::TimerAction::SetResultUnlessCancelled(f, result),
                ));
                FrameOut::Yield(f)
            }
            Input::Send(_) => {
                if let Some(h) = timer.take() {
                    self.cancel_timer(h);
                }
                match *fut {
                    None => FrameOut::Return(result),
                    Some(f) => match self.future_result(f) {
                        Ok(v) => FrameOut::Return(v),
                        Err(e) => FrameOut::Raise(e),
                    },
                }
            }
            Input::Throw(e) => {
                if let Some(h) = timer.take() {
                    self.cancel_timer(h);
                }
                FrameOut::Raise(e)
            }
        }
    }

    fn read_frame(reader: &str, op: crate::asyncio::streams::ReadOp) -> Frame {
        Frame::StreamRead {
            reader: reader.to_string(),
            op,
            progress: Default::default(),
        }
    }

    /// Resolve a variable holding a task or future.
    pub fn var_fut(&mut self, name: &str) -> Result<FutId, ExcId> {
        match self.vars.get(name) {
            Some(Obj::Fut(f)) => Ok(*f),
            None if name == "main" && self.main.is_some() => Ok(self.main.unwrap_or(FutId(0))),
            Some(_) => Err(self.new_exc(
                "TypeError",
                vec![Value::Str(format!("{name} is not a task or future"))],
            )),
            None => Err(self.new_exc(
                "NameError",
                vec![Value::Str(format!("name '{name}' is not defined"))],
            )),
        }
    }

    /// `ensure_future(target)`: a task for a coroutine call, the object for a variable.
    pub fn ensure_future(&mut self, target: &Target) -> Result<FutId, ExcId> {
        match target {
            Target::Coro(c) => {
                let frame = self.coroutine_frame(c);
                let name = format!("{c}-{}", self.tasks_created + 1);
                self.spawn_task(frame, name)
            }
            Target::Var(v) => {
                let obj = self.lookup(v)?;
                self.ensure_future_of(&obj)
            }
        }
    }

    /// The awaitable as Python code.
    pub fn target_label(target: &Target) -> String {
        match target {
            Target::Coro(c) => format!("{c}()"),
            Target::Var(v) => v.clone(),
        }
    }

    fn bind(&mut self, var: &Option<String>, v: Value) {
        if let Some(name) = var {
            self.vars.insert(name.clone(), Obj::Value(v));
        }
    }

    pub(crate) fn call_event(&mut self, call: String, r: &Result<Value, ExcId>) {
        // A call that raised raised there: its exception is chained before it is shown.
        if let Err(e) = r {
            self.chain_raised(*e);
        }
        let outcome = self.outcome_of(r);
        self.emit(EventKind::Call { call, outcome });
    }

    /// Run a scenario frame.
    fn resume_user(&mut self, uf: &mut UserFrame, input: Input, root: bool) -> FrameOut {
        let mut signal = match input {
            Input::Start => {
                uf.started = true;
                if root && !self.current_is_internal() {
                    self.emit(EventKind::Start);
                }
                Signal::Normal
            }
            Input::Send(v) => self.finish_await(uf, Ok(v)),
            Input::Throw(e) => self.finish_await(uf, Err(e)),
        };
        loop {
            signal = match signal {
                Signal::Normal => {
                    let Some(top) = uf.blocks.last_mut() else {
                        return self.frame_exit(root && uf.started, Ok(Value::None));
                    };
                    if top.pc >= top.stmts.len() {
                        match self.leave_block(uf, Pending::Normal) {
                            Leave::Continue(s) => s,
                            Leave::Out(out) => return out,
                            Leave::FrameEnd(r) => return self.frame_exit(root && uf.started, r),
                        }
                    } else {
                        let stmts = top.stmts.clone();
                        let index = top.pc;
                        top.pc += 1;
                        if !self.charge_step() {
                            // Out of budget: the loop stops at the next handle.
                            return FrameOut::YieldBare;
                        }
                        match self.exec_stmt(uf, &stmts, index) {
                            Exec::Next => Signal::Normal,
                            // Every statement that raises is a raise point, but a bare
                            // `raise`, which re-raises without chaining.
                            Exec::Signal(Signal::Raising(e))
                                if !matches!(stmts[index], Stmt::Reraise) =>
                            {
                                self.chain_raised(e);
                                Signal::Raising(e)
                            }
                            Exec::Signal(s) => s,
                            Exec::Await(out) => return out,
                            // The loop stops at the next handle.
                            Exec::Stop => return FrameOut::YieldBare,
                        }
                    }
                }
                Signal::Raising(e) => match self.leave_block(uf, Pending::Raise(e)) {
                    Leave::Continue(s) => s,
                    Leave::Out(out) => return out,
                    Leave::FrameEnd(r) => return self.frame_exit(root && uf.started, r),
                },
                Signal::Returning(v) => match self.leave_block(uf, Pending::Return(v)) {
                    Leave::Continue(s) => s,
                    Leave::Out(out) => return out,
                    Leave::FrameEnd(r) => return self.frame_exit(root && uf.started, r),
                },
            };
        }
    }

    fn current_is_internal(&self) -> bool {
        self.current.is_some_and(|t| self.task(t).internal)
    }

    /// The frame is done: record the task's exit when it is the task's own coroutine.
    fn frame_exit(&mut self, root: bool, r: Result<Value, ExcId>) -> FrameOut {
        if root && !self.current_is_internal() {
            let outcome = self.outcome_of(&r);
            self.emit(EventKind::Exit { outcome });
        }
        match r {
            Ok(v) => FrameOut::Return(v),
            Err(e) => FrameOut::Raise(e),
        }
    }

    /// Resume after an await: record it, bind the variable, or go on unwinding.
    fn finish_await(&mut self, uf: &mut UserFrame, r: Result<Value, ExcId>) -> Signal {
        match uf.awaiting.take() {
            Some(Awaiting::Expr { label, var }) => {
                let outcome = self.outcome_of(&r);
                self.emit(EventKind::Resume {
                    awaited: label,
                    outcome,
                });
                match r {
                    Ok(v) => {
                        self.bind(&var, v);
                        Signal::Normal
                    }
                    Err(e) => Signal::Raising(e),
                }
            }
            Some(Awaiting::GroupExit(pending)) => match r {
                Ok(_) => match pending {
                    Pending::Normal => Signal::Normal,
                    Pending::Raise(e) => Signal::Raising(e),
                    Pending::Return(v) => Signal::Returning(v),
                },
                Err(e) => Signal::Raising(e),
            },
            None => match r {
                Ok(_) => Signal::Normal,
                Err(e) => Signal::Raising(e),
            },
        }
    }

    /// Leave the innermost block with `pending` (normal end, exception or return).
    fn leave_block(&mut self, uf: &mut UserFrame, pending: Pending) -> Leave {
        let Some(block) = uf.blocks.pop() else {
            return Leave::FrameEnd(match pending {
                Pending::Normal => Ok(Value::None),
                Pending::Raise(e) => Err(e),
                Pending::Return(v) => Ok(v),
            });
        };
        // A `finally` run because of an exception handles it too (Python's finally
        // is an exception handler that re-raises): a bare `raise` there re-raises it.
        if matches!(
            block.kind,
            BlockKind::Handler { .. }
                | BlockKind::Finally {
                    pending: Pending::Raise(_)
                }
        ) {
            if let Some(stack) = self.handling.get_mut(&self.current) {
                stack.pop();
            }
        }
        let resume = |p: Pending| match p {
            Pending::Normal => Signal::Normal,
            Pending::Raise(e) => Signal::Raising(e),
            Pending::Return(v) => Signal::Returning(v),
        };
        match block.kind {
            BlockKind::Body => Leave::FrameEnd(match pending {
                Pending::Normal => Ok(Value::None),
                Pending::Raise(e) => Err(e),
                Pending::Return(v) => Ok(v),
            }),
            BlockKind::TryBody { parent, index } => {
                let Stmt::Try {
                    handlers,
                    orelse,
                    finally,
                    ..
                } = &parent[index]
                else {
                    unreachable!("TryBody points at a try statement")
                };
                match pending {
                    Pending::Raise(e) => {
                        let class = self.excs[e.0 as usize].class.clone();
                        // Handlers are tried in order; each test cites the class facts
                        // that decided it.
                        let mut matched = None;
                        for h in handlers {
                            for fact in self.hierarchy.deciding_facts(&class, &h.class) {
                                self.cite(fact);
                            }
                            if self.hierarchy.is_subclass(&class, &h.class) {
                                matched = Some(h);
                                break;
                            }
                        }
                        if let Some(h) = matched {
                            let exc = self.exc_view(e);
                            self.cite(cite!("asyncio.tasks.coroutine.except_catches_awaited"));
                            self.emit(EventKind::Catch { exc });
                            if let Some(name) = &h.name {
                                self.vars.insert(name.clone(), Obj::Exc(e));
                            }
                            self.handling.entry(self.current).or_default().push(e);
                            uf.blocks.push(BlockState {
                                stmts: h.body.clone(),
                                pc: 0,
                                kind: BlockKind::Handler {
                                    handled: e,
                                    finally: finally.clone(),
                                },
                            });
                            Leave::Continue(Signal::Normal)
                        } else if let Some(f) = finally {
                            self.push_finally(uf, f.clone(), Pending::Raise(e))
                        } else {
                            Leave::Continue(Signal::Raising(e))
                        }
                    }
                    Pending::Normal => {
                        if let Some(b) = orelse.as_ref().filter(|b| !b.is_empty()) {
                            uf.blocks.push(BlockState {
                                stmts: b.clone(),
                                pc: 0,
                                kind: BlockKind::Else {
                                    finally: finally.clone(),
                                },
                            });
                            Leave::Continue(Signal::Normal)
                        } else if let Some(f) = finally {
                            self.push_finally(uf, f.clone(), Pending::Normal)
                        } else {
                            Leave::Continue(Signal::Normal)
                        }
                    }
                    Pending::Return(v) => match finally {
                        Some(f) => self.push_finally(uf, f.clone(), Pending::Return(v)),
                        None => Leave::Continue(Signal::Returning(v)),
                    },
                }
            }
            BlockKind::Handler { handled, .. }
                if pending == Pending::Normal && self.exc_is(handled, "asyncio.CancelledError") =>
            {
                // The handler ended without re-raising: the cancellation is suppressed.
                self.cite(cite!("asyncio.cancellation.suppressed.task_continues"));
                let BlockKind::Handler { finally, .. } = block.kind else {
                    unreachable!()
                };
                match finally {
                    Some(f) => self.push_finally(uf, f, pending),
                    None => Leave::Continue(Signal::Normal),
                }
            }
            BlockKind::Handler { finally, .. } | BlockKind::Else { finally } => match finally {
                Some(f) => self.push_finally(uf, f, pending),
                None => Leave::Continue(resume(pending)),
            },
            BlockKind::Finally { pending: earlier } => match pending {
                // Falling off the end resumes what the finally interrupted; a raise or
                // return inside the finally replaces it.
                Pending::Normal => Leave::Continue(resume(earlier)),
                other => Leave::Continue(resume(other)),
            },
            BlockKind::Timeout(cm) => {
                let exc = match &pending {
                    Pending::Raise(e) => Some(*e),
                    _ => None,
                };
                match self.timeout_exit(cm, exc) {
                    Err(replacement) => Leave::Continue(Signal::Raising(replacement)),
                    Ok(()) => Leave::Continue(resume(pending)),
                }
            }
            BlockKind::TaskGroup(tg) => {
                let exc = match &pending {
                    Pending::Raise(e) => Some(*e),
                    _ => None,
                };
                uf.awaiting = Some(Awaiting::GroupExit(pending));
                Leave::Out(FrameOut::Push(Frame::TaskGroupExit {
                    tg,
                    exc,
                    propagate: None,
                    waiting: false,
                }))
            }
        }
    }

    fn push_finally(&mut self, uf: &mut UserFrame, body: Block, pending: Pending) -> Leave {
        if matches!(pending, Pending::Raise(e) if self.exc_is(e, "asyncio.CancelledError")) {
            self.cite(cite!("asyncio.cancellation.finally.runs_on_cancel"));
        }
        if let Pending::Raise(e) = &pending {
            self.handling.entry(self.current).or_default().push(*e);
        }
        uf.blocks.push(BlockState {
            stmts: body,
            pc: 0,
            kind: BlockKind::Finally { pending },
        });
        Leave::Continue(Signal::Normal)
    }

    /// Execute one statement.
    fn exec_stmt(&mut self, uf: &mut UserFrame, stmts: &Block, index: usize) -> Exec {
        let await_expr = |uf: &mut UserFrame, label: String, var: &Option<String>, frame: Frame| {
            uf.awaiting = Some(Awaiting::Expr {
                label,
                var: var.clone(),
            });
            Exec::Await(FrameOut::Push(frame))
        };
        // `name.method(...)`: the name is looked up (NameError, no event), then the
        // method (AttributeError, recorded as the call's outcome).
        macro_rules! method_or_raise {
            ($name:expr, $method:expr, $call:expr) => {
                match self.lookup($name) {
                    Err(e) => return Exec::Signal(Signal::Raising(e)),
                    Ok(obj) if self.has_method(&obj, $method) => obj,
                    Ok(obj) => {
                        let e = self.attribute_error(&obj, $method.name());
                        self.call_event($call, &Err(e));
                        return Exec::Signal(Signal::Raising(e));
                    }
                }
            };
        }
        match &stmts[index] {
            Stmt::Sleep { delay, result, var } => {
                let frame = Frame::Sleep {
                    delay: *delay,
                    result: result.clone(),
                    fut: None,
                    timer: None,
                };
                await_expr(
                    uf,
                    format!("asyncio.sleep({})", number_label(*delay)),
                    var,
                    frame,
                )
            }
            Stmt::Checkpoint => {
                let frame = Frame::Sleep {
                    delay: 0.0,
                    result: Value::None,
                    fut: None,
                    timer: None,
                };
                await_expr(uf, "asyncio.sleep(0)".into(), &None, frame)
            }
            Stmt::CreateTask { coro, var, name } => {
                let frame = self.coroutine_frame(coro);
                let name = name
                    .clone()
                    .or_else(|| var.clone())
                    .unwrap_or_else(|| format!("{coro}-{}", self.tasks_created + 1));
                match self.spawn_task(frame, name) {
                    Ok(t) => {
                        if let Some(v) = var {
                            self.vars.insert(v.clone(), Obj::Fut(t));
                        }
                        Exec::Next
                    }
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::Await { target, var } => {
                let label = Self::target_label(target);
                match target {
                    Target::Coro(c) => {
                        let frame = self.coroutine_frame(c);
                        await_expr(uf, label, var, frame)
                    }
                    Target::Var(v) => {
                        let obj = match self.lookup(v) {
                            Ok(obj) => obj,
                            Err(e) => return Exec::Signal(Signal::Raising(e)),
                        };
                        match self.awaitable_future(&obj) {
                            Ok(f) => await_expr(uf, label, var, Frame::AwaitFuture { fut: f }),
                            Err(e) => self.await_failed(label, e),
                        }
                    }
                }
            }
            Stmt::Cancel { target, msg } => {
                let call = match msg {
                    Some(m) => format!("{target}.cancel({m})"),
                    None => format!("{target}.cancel()"),
                };
                let r = match method_or_raise!(target, Method::Cancel, call.clone()) {
                    Obj::Fut(f) => Ok(Value::Bool(self.cancel(f, msg.clone()))),
                    Obj::CFut(cf) => match msg {
                        // concurrent.futures.Future.cancel takes no message.
                        Some(_) => Err(self.new_exc(
                            "TypeError",
                            vec![Value::Str(
                                "Future.cancel() takes 1 positional argument but 2 were given"
                                    .into(),
                            )],
                        )),
                        None => Ok(Value::Bool(self.cf_cancel(cf))),
                    },
                    Obj::Handle(h) => match msg {
                        // A handle's cancel() takes no message; each loop words it so.
                        Some(_) => {
                            let text = self.handle_cancel_arity_message(h);
                            Err(self.new_exc("TypeError", vec![Value::Str(text)]))
                        }
                        None => Ok(self.handle_cancel(h)),
                    },
                    _ => unreachable!("has_method admits futures and handles only"),
                };
                self.call_event(call, &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::Cancelling { task } => {
                let call = format!("{task}.cancelling()");
                let Obj::Fut(t) = method_or_raise!(task, Method::Cancelling, call.clone()) else {
                    unreachable!("has_method admits tasks only")
                };
                let n = self.task_cancelling(t);
                self.call_event(call, &Ok(Value::Int(n.into())));
                Exec::Next
            }
            Stmt::Uncancel { task } => {
                let call = format!("{task}.uncancel()");
                let Obj::Fut(t) = method_or_raise!(task, Method::Uncancel, call.clone()) else {
                    unreachable!("has_method admits tasks only")
                };
                let n = self.task_uncancel(t);
                self.call_event(call, &Ok(Value::Int(n.into())));
                Exec::Next
            }
            Stmt::Query { target, what } => {
                let method = match what {
                    Query::Done => Method::Done,
                    Query::Cancelled => Method::Cancelled,
                };
                let call = format!("{target}.{}()", method.name());
                let f = match method_or_raise!(target, method, call.clone()) {
                    Obj::Fut(f) => f,
                    Obj::CFut(cf) => {
                        let v = match what {
                            Query::Done => self.cf_done(cf),
                            Query::Cancelled => self.cf_cancelled(cf),
                        };
                        self.call_event(call, &Ok(Value::Bool(v)));
                        return Exec::Next;
                    }
                    Obj::Handle(h) => {
                        let v = self.handle_cancelled(h);
                        self.call_event(call, &Ok(Value::Bool(v)));
                        return Exec::Next;
                    }
                    _ => unreachable!("has_method admits futures only"),
                };
                let (call, v) = match what {
                    Query::Done => {
                        self.cite(cite!("asyncio.futures.done.after_cancel_or_result"));
                        (format!("{target}.done()"), self.done(f))
                    }
                    Query::Cancelled => {
                        if self.is_task(f) {
                            self.cite(cite!("asyncio.tasks.cancelled.only_if_propagated"));
                            if !self.done(f) && self.task(f).num_cancels_requested > 0 {
                                self.cite(cite!(
                                    "asyncio.cancellation.cancelling.not_cancelled_while_running"
                                ));
                            }
                        }
                        (format!("{target}.cancelled()"), self.cancelled(f))
                    }
                };
                self.call_event(call, &Ok(Value::Bool(v)));
                Exec::Next
            }
            Stmt::Result { target, var } => {
                let call = format!("{target}.result()");
                let f = match method_or_raise!(target, Method::Result, call.clone()) {
                    Obj::Fut(f) => f,
                    Obj::CFut(cf) => return self.cf_result_stmt(cf, call, var, false),
                    _ => unreachable!("has_method admits futures only"),
                };
                if self.is_task(f) {
                    match self.fut(f).state {
                        crate::asyncio::world::FutState::Pending => {
                            self.cite(cite!("asyncio.tasks.result.pending_invalid_state"))
                        }
                        crate::asyncio::world::FutState::Cancelled => {
                            self.cite(cite!("asyncio.tasks.result.cancelled_raises"))
                        }
                        _ => self.cite(cite!("asyncio.tasks.await.returns_result")),
                    }
                }
                let r = self.future_result(f);
                self.call_event(format!("{target}.result()"), &r);
                match r {
                    Ok(v) => {
                        self.bind(var, v);
                        Exec::Next
                    }
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::Exception { target } => {
                let call = format!("{target}.exception()");
                let f = match method_or_raise!(target, Method::Exception, call.clone()) {
                    Obj::Fut(f) => f,
                    Obj::CFut(cf) => return self.cf_result_stmt(cf, call, &None, true),
                    _ => unreachable!("has_method admits futures only"),
                };
                if self.is_task(f) {
                    match self.fut(f).state {
                        crate::asyncio::world::FutState::Pending => {
                            self.cite(cite!("asyncio.tasks.exception.pending_invalid_state"))
                        }
                        crate::asyncio::world::FutState::Cancelled => {
                            self.cite(cite!("asyncio.tasks.exception.cancelled_raises"))
                        }
                        _ => self.cite(cite!("asyncio.tasks.exception.returns_exception")),
                    }
                }
                let r = self.future_exception(f).map(|o| {
                    o.map(|e| Value::Exc(self.exc_view(e)))
                        .unwrap_or(Value::None)
                });
                self.call_event(format!("{target}.exception()"), &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::Raise {
                class,
                args,
                var,
                cause,
            } => {
                // `raise Class(*args)`: a constructor that fails raises its TypeError
                // before the raise statement runs; `raise var` raises that object.
                let e = match var {
                    Some(v) => match self.lookup(v) {
                        Ok(Obj::Exc(e)) => e,
                        Ok(_) => {
                            return Exec::raising(self.new_exc(
                                "TypeError",
                                vec![Value::Str(
                                    "exceptions must derive from BaseException".into(),
                                )],
                            ))
                        }
                        Err(e) => return Exec::raising(e),
                    },
                    None => match self.call_exc_class(class, args) {
                        Ok(e) => e,
                        Err(type_error) => return Exec::raising(type_error),
                    },
                };
                // `from ...` is evaluated next; the raise then sets the cause.
                let cause = match cause {
                    None => None,
                    Some(crate::core::scenario::RaiseFrom::None(_)) => Some(None),
                    Some(crate::core::scenario::RaiseFrom::Var { var }) => match self.lookup(var) {
                        Ok(Obj::Exc(c)) => Some(Some(c)),
                        Ok(Obj::Value(Value::None)) => Some(None),
                        Ok(_) => {
                            return Exec::raising(self.new_exc(
                                "TypeError",
                                vec![Value::Str(
                                    "exception causes must derive from BaseException".into(),
                                )],
                            ))
                        }
                        Err(e) => return Exec::raising(e),
                    },
                    Some(crate::core::scenario::RaiseFrom::New { class, args }) => {
                        match self.call_exc_class(class, args) {
                            Ok(c) => Some(Some(c)),
                            Err(type_error) => return Exec::raising(type_error),
                        }
                    }
                };
                let exc = self.exc_view(e);
                self.emit(EventKind::Raise { exc });
                if let Some(c) = cause {
                    self.cite(cite!("exceptions.chaining.raise_from_sets_cause"));
                    self.set_cause(e, c);
                }
                Exec::Signal(Signal::Raising(e))
            }
            Stmt::Reraise => {
                let own = self
                    .handling
                    .get(&self.current)
                    .and_then(|s| s.last().copied());
                // With none of its own, a coroutine sees the thread's: asyncio.run's
                // `with Runner()` is handling run()'s exception while it shuts down.
                let handled = own.or_else(|| {
                    let outer = self.runner_exit_handling;
                    if outer.is_some() {
                        self.cite(cite!("asyncio.runners.shutdown.runs_inside_exit_handler"));
                    }
                    outer
                });
                match handled {
                    Some(e) => {
                        if self.exc_is(e, "asyncio.CancelledError") {
                            self.cite(cite!(
                                "asyncio.cancellation.cancelled_error.must_be_reraised"
                            ));
                        }
                        let exc = self.exc_view(e);
                        self.emit(EventKind::Raise { exc });
                        Exec::Signal(Signal::Raising(e))
                    }
                    None => {
                        let e = self.new_exc(
                            "RuntimeError",
                            vec![Value::Str("No active exception to reraise".into())],
                        );
                        let exc = self.exc_view(e);
                        self.emit(EventKind::Raise { exc });
                        Exec::Signal(Signal::Raising(e))
                    }
                }
            }
            Stmt::Return { value, var: None } => Exec::Signal(Signal::Returning(value.clone())),
            Stmt::Return { var: Some(v), .. } => match self.lookup(v) {
                Ok(Obj::Value(value)) => Exec::Signal(Signal::Returning(value)),
                Ok(Obj::Exc(e)) => Exec::Signal(Signal::Returning(Value::Exc(self.exc_view(e)))),
                Ok(_) => self.not_modelled("returning a future, task or other object as a value"),
                Err(e) => Exec::raising(e),
            },
            Stmt::Assign { var, value } => {
                let value = match value {
                    // `C(*args)`: built as a raise builds it.
                    Value::Exc(view) => match self.call_exc_class(&view.class, &view.args) {
                        Ok(e) => {
                            self.vars.insert(var.clone(), Obj::Exc(e));
                            return Exec::Next;
                        }
                        Err(type_error) => return Exec::raising(type_error),
                    },
                    other => other.clone(),
                };
                self.vars.insert(var.clone(), Obj::Value(value));
                Exec::Next
            }
            Stmt::Try { body, .. } => {
                uf.blocks.push(BlockState {
                    stmts: body.clone(),
                    pc: 0,
                    kind: BlockKind::TryBody {
                        parent: stmts.clone(),
                        index,
                    },
                });
                Exec::Next
            }
            Stmt::Gather {
                items,
                return_exceptions,
                var,
                future,
                await_,
            } => match self.gather(items, *return_exceptions) {
                Ok(outer) => {
                    if let Some(name) = future {
                        self.rename_future(outer, name.clone());
                        self.vars.insert(name.clone(), Obj::Fut(outer));
                    }
                    if !await_ {
                        return Exec::Next;
                    }
                    let labels: Vec<String> = items.iter().map(Self::target_label).collect();
                    let label = if *return_exceptions {
                        format!(
                            "asyncio.gather({}, return_exceptions=True)",
                            labels.join(", ")
                        )
                    } else {
                        format!("asyncio.gather({})", labels.join(", "))
                    };
                    await_expr(uf, label, var, Frame::AwaitFuture { fut: outer })
                }
                Err(e) => Exec::Signal(Signal::Raising(e)),
            },
            Stmt::WaitFor {
                target,
                timeout,
                var,
            } => {
                // The argument is evaluated before wait_for() is called.
                if let Target::Var(v) = target {
                    if let Err(e) = self.lookup(v) {
                        return Exec::raising(e);
                    }
                }
                let t = timeout.map_or_else(|| "None".into(), number_label);
                let label = format!("asyncio.wait_for({}, {t})", Self::target_label(target));
                let frame =
                    if self.profile.wait_for_uses_timeout() && !timeout.is_some_and(|t| t <= 0.0) {
                        Frame::WaitForTimeout {
                            target: target.clone(),
                            timeout: *timeout,
                            cm: None,
                        }
                    } else {
                        Frame::WaitForWaiter {
                            target: target.clone(),
                            timeout: *timeout,
                            phase: WaitForPhase::Start,
                        }
                    };
                await_expr(uf, label, var, frame)
            }
            Stmt::Timeout {
                delay,
                at,
                var,
                body,
            } => {
                let when = match (delay, at) {
                    (_, Some(at)) => {
                        self.cite(cite!("asyncio.timeouts.timeout_at.absolute"));
                        Some(*at)
                    }
                    (Some(d), None) => Some(self.loop_time() + d),
                    (None, None) => None,
                };
                let cm = self.new_timeout(when);
                self.timeout_enter(cm);
                if let Some(v) = var {
                    self.vars.insert(v.clone(), Obj::Timeout(cm));
                }
                uf.blocks.push(BlockState {
                    stmts: body.clone(),
                    pc: 0,
                    kind: BlockKind::Timeout(cm),
                });
                Exec::Next
            }
            Stmt::Reschedule { cm, delay } => {
                let arg = delay
                    .map(|d| format!("loop.time() + {}", number_label(d)))
                    .unwrap_or_else(|| "None".into());
                let call = format!("{cm}.reschedule({arg})");
                let Obj::Timeout(id) = method_or_raise!(cm, Method::Reschedule, call.clone())
                else {
                    unreachable!("has_method admits Timeout only")
                };
                // The argument is evaluated after the method is looked up.
                let when = delay.map(|d| self.loop_time() + d);
                let r = self.timeout_reschedule(id, when).map(|()| Value::None);
                self.call_event(call, &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::When { cm } => {
                let call = format!("{cm}.when()");
                let when = match method_or_raise!(cm, Method::When, call.clone()) {
                    Obj::Timeout(id) => {
                        self.cite(cite!("asyncio.timeouts.when.returns_deadline"));
                        self.timeouts[id.0 as usize].when.map_or(Value::None, |w| {
                            Value::Float(crate::core::value::PyFloat(w))
                        })
                    }
                    Obj::Handle(h) => self.handle_when(h),
                    _ => unreachable!("has_method admits Timeout and timer handles only"),
                };
                self.call_event(call, &Ok(when));
                Exec::Next
            }
            Stmt::Expired { cm } => {
                let call = format!("{cm}.expired()");
                let Obj::Timeout(id) = method_or_raise!(cm, Method::Expired, call.clone()) else {
                    unreachable!("has_method admits Timeout only")
                };
                let expired = self.timeout_expired(id);
                self.call_event(call, &Ok(Value::Bool(expired)));
                Exec::Next
            }
            Stmt::Shield {
                target,
                var,
                future,
                await_,
            } => match self.shield(target) {
                Ok(outer) => {
                    if let Some(name) = future {
                        // A shield of a done future is that future: it keeps its name.
                        if matches!(self.fut(outer).kind, FutKind::ShieldOuter(_)) {
                            self.fut_mut(outer).name = name.clone();
                        }
                        self.vars.insert(name.clone(), Obj::Fut(outer));
                    }
                    if !await_ {
                        return Exec::Next;
                    }
                    let label = format!("asyncio.shield({})", Self::target_label(target));
                    await_expr(uf, label, var, Frame::AwaitFuture { fut: outer })
                }
                Err(e) => Exec::Signal(Signal::Raising(e)),
            },
            Stmt::TaskGroup { var, body } => {
                let tg = self.new_task_group();
                self.vars.insert(var.clone(), Obj::Group(tg));
                uf.blocks.push(BlockState {
                    stmts: body.clone(),
                    pc: 0,
                    kind: BlockKind::TaskGroup(tg),
                });
                Exec::Next
            }
            Stmt::GroupTask { group, coro, var } => {
                // `group.create_task` is looked up before `coro()` is called: a missing
                // method leaves no coroutine behind.
                let call = format!("{group}.create_task({coro}())");
                let Obj::Group(tg) = method_or_raise!(group, Method::CreateTask, call) else {
                    unreachable!("has_method admits TaskGroup only")
                };
                let name = var
                    .clone()
                    .unwrap_or_else(|| format!("{coro}-{}", self.tasks_created + 1));
                match self.task_group_create_task(tg, coro, name) {
                    Ok(t) => {
                        if let Some(v) = var {
                            self.vars.insert(v.clone(), Obj::Fut(t));
                        }
                        Exec::Next
                    }
                    Err(e) => {
                        self.call_event(format!("{group}.create_task({coro}())"), &Err(e));
                        Exec::Signal(Signal::Raising(e))
                    }
                }
            }
            Stmt::Wait {
                items,
                timeout,
                return_when,
                coros,
            } => {
                let mut objs = Vec::new();
                for name in items {
                    match self.lookup(name) {
                        Ok(obj) => objs.push(obj),
                        Err(e) => return Exec::raising(e),
                    }
                }
                let when = match return_when {
                    crate::core::scenario::ReturnWhen::FirstCompleted => "FIRST_COMPLETED",
                    crate::core::scenario::ReturnWhen::FirstException => "FIRST_EXCEPTION",
                    crate::core::scenario::ReturnWhen::AllCompleted => "ALL_COMPLETED",
                };
                let listed: Vec<String> = items
                    .iter()
                    .cloned()
                    .chain(coros.iter().map(|c| format!("{c}()")))
                    .collect();
                let label = format!(
                    "asyncio.wait([{}], timeout={}, return_when={when})",
                    listed.join(", "),
                    timeout.map_or_else(|| "None".into(), number_label),
                );
                // Raised inside the `wait()` coroutine, so each surfaces at the await. The
                // coroutine objects in the list die with the error's traceback (on
                // 3.11-3.13, at the end of the `except` that catches it); the oracle lets
                // never-awaited warnings float, so the model emits them here.
                let fail = |w: &mut World, e: ExcId| {
                    w.chain_raised(e);
                    let outcome = w.outcome_of(&Err(e));
                    w.emit(EventKind::Resume {
                        awaited: label.clone(),
                        outcome,
                    });
                    for c in coros {
                        w.warn_never_awaited(w.current_name(), c);
                    }
                    Exec::raising(e)
                };
                if objs.is_empty() && coros.is_empty() {
                    self.cite(cite!("asyncio.composition.wait.empty_value_error"));
                    let e = self.new_exc(
                        "ValueError",
                        vec![Value::Str("Set of Tasks/Futures is empty.".into())],
                    );
                    return fail(self, e);
                }
                // `fs = set(fs)`.
                for obj in &objs {
                    if let Err(e) = self.check_hashable(obj) {
                        return fail(self, e);
                    }
                }
                if !coros.is_empty() {
                    self.cite(cite!("asyncio.composition.wait.coroutine_type_error"));
                    let e = self.new_exc(
                        "TypeError",
                        vec![Value::Str(
                            "Passing coroutines is forbidden, use tasks explicitly.".into(),
                        )],
                    );
                    return fail(self, e);
                }
                // `_wait`: `f.add_done_callback(_on_completion)` for each member. (With a
                // member that lacks it among futures, CPython has already registered on
                // the members its set order put first; the model registers none.)
                let mut futs = Vec::new();
                for obj in &objs {
                    match obj {
                        Obj::Fut(f) => futs.push(*f),
                        Obj::CFut(_) => {
                            return self
                                .not_modelled("asyncio.wait() over a concurrent.futures.Future")
                        }
                        other => {
                            let e = self.attribute_error(other, Method::AddDoneCallback.name());
                            return fail(self, e);
                        }
                    }
                }
                futs.sort();
                futs.dedup();
                let state = self.new_wait(&futs, *timeout, *return_when);
                await_expr(
                    uf,
                    label,
                    &None,
                    Frame::Wait {
                        items: futs,
                        state: Some(state),
                    },
                )
            }
            Stmt::AsCompleted { items, timeout } => {
                let mut objs = Vec::new();
                for name in items {
                    match self.lookup(name) {
                        Ok(obj) => objs.push(obj),
                        Err(e) => return Exec::raising(e),
                    }
                }
                // `{ensure_future(f) for f in set(fs)}`, raised by the call (3.13) or the
                // first step of the generator (3.11, 3.12): either way before any await.
                for obj in &objs {
                    if let Err(e) = self.check_hashable(obj) {
                        return Exec::raising(e);
                    }
                }
                let mut futs = Vec::new();
                for obj in &objs {
                    match self.ensure_future_of(obj) {
                        Ok(f) => futs.push(f),
                        Err(e) => return Exec::raising(e),
                    }
                }
                let label = format!(
                    "as_completed([{}], timeout={})",
                    items.join(", "),
                    timeout.map_or_else(|| "None".into(), number_label),
                );
                let state = self.new_as_completed(&futs, *timeout, label);
                // Each iteration's await is recorded by the loop frame itself.
                uf.awaiting = None;
                Exec::Await(FrameOut::Push(Frame::AsCompleted {
                    state,
                    getter: None,
                }))
            }
            Stmt::NewFuture { var } => {
                let f = self.new_future(var);
                self.vars.insert(var.clone(), Obj::Fut(f));
                Exec::Next
            }
            Stmt::SetResult { future, value } => {
                let call = format!("{future}.set_result({value})");
                let r = match method_or_raise!(future, Method::SetResult, call.clone()) {
                    Obj::Fut(f) => self.stmt_set_result(f, value.clone()),
                    Obj::CFut(cf) => self.cf_set_result(cf, value.clone()).map(|()| Value::None),
                    _ => unreachable!("has_method admits futures only"),
                };
                self.call_event(call, &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::SetException {
                future,
                class,
                args,
            } => {
                // The exception is built before the method is looked up (the adapter's
                // order too; Python looks the method up first, which differs only when
                // both fail).
                if let Err(e) = self.lookup(future) {
                    return Exec::Signal(Signal::Raising(e));
                }
                let exc = match self.call_exc_class(class, args) {
                    Ok(e) => e,
                    Err(type_error) => return Exec::Signal(Signal::Raising(type_error)),
                };
                let shown = self.exc_view(exc);
                let call = format!("{future}.set_exception({shown})");
                let r = match method_or_raise!(future, Method::SetException, call.clone()) {
                    Obj::Fut(f) => self.stmt_set_exception(f, exc),
                    Obj::CFut(cf) => self.cf_set_exception(cf, exc).map(|()| Value::None),
                    _ => unreachable!("has_method admits futures only"),
                };
                self.call_event(call, &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::AddDoneCallback { target, callback } => {
                // Not a recorded call: an AttributeError raises with no event.
                let obj = match self.lookup(target) {
                    Ok(obj) => obj,
                    Err(e) => return Exec::raising(e),
                };
                match obj {
                    Obj::Fut(f) => self.add_done_callback(
                        f,
                        crate::asyncio::world::Callback::User(callback.clone(), target.clone()),
                    ),
                    Obj::CFut(cf) => self.cf_add_done_callback(
                        cf,
                        crate::concurrent::future::CfCallback::User(
                            callback.clone(),
                            target.clone(),
                        ),
                    ),
                    other => {
                        return Exec::raising(
                            self.attribute_error(&other, Method::AddDoneCallback.name()),
                        )
                    }
                }
                Exec::Next
            }
            Stmt::CallUnawaited { coro } => {
                self.warn_never_awaited(self.current_name(), coro);
                Exec::Next
            }
            Stmt::Block { seconds } => {
                self.cite(cite!("asyncio.reporting.blocking.delays_everything"));
                self.advance_blocking(*seconds);
                Exec::Next
            }
            Stmt::SetExceptionHandler {
                handler: crate::core::scenario::HandlerSpec::Invalid,
            } if self.profile.event_loop == crate::core::profile::EventLoop::Rloop => {
                // rloop stores any object; it fails when the loop first reports.
                self.cite(cite!(
                    "rloop.loop.exception_handler.called_with_context_only"
                ));
                self.handler = crate::core::scenario::HandlerSpec::Invalid;
                self.call_event("loop.set_exception_handler(42)".into(), &Ok(Value::None));
                Exec::Next
            }
            Stmt::SetExceptionHandler {
                handler: crate::core::scenario::HandlerSpec::Invalid,
            } => {
                self.cite(cite!("asyncio.reporting.handler.not_callable_type_error"));
                let e = self.new_exc(
                    "TypeError",
                    vec![Value::Str(
                        "A callable object or None is expected, got 42".into(),
                    )],
                );
                self.call_event("loop.set_exception_handler(42)".into(), &Err(e));
                Exec::Signal(Signal::Raising(e))
            }
            Stmt::Read { reader, n, var } => {
                let label = format!("{reader}.read({n})");
                let frame = Self::read_frame(reader, crate::asyncio::streams::ReadOp::Read(*n));
                await_expr(uf, label, var, frame)
            }
            Stmt::ReadExactly { reader, n, var } => {
                let label = format!("{reader}.readexactly({n})");
                let frame =
                    Self::read_frame(reader, crate::asyncio::streams::ReadOp::ReadExactly(*n));
                await_expr(uf, label, var, frame)
            }
            Stmt::ReadUntil {
                reader,
                separator,
                var,
            } => {
                let label = format!(
                    "{reader}.readuntil({})",
                    Value::Bytes {
                        bytes: separator.clone()
                    }
                );
                let sep = crate::core::value::bytes_of(separator).unwrap_or_default();
                let frame =
                    Self::read_frame(reader, crate::asyncio::streams::ReadOp::ReadUntil(sep));
                await_expr(uf, label, var, frame)
            }
            Stmt::ReadLine { reader, var } => {
                let label = format!("{reader}.readline()");
                let frame = Self::read_frame(reader, crate::asyncio::streams::ReadOp::ReadLine);
                await_expr(uf, label, var, frame)
            }
            Stmt::Write { stream, data } => {
                let bytes = crate::core::value::bytes_of(data).unwrap_or_default();
                let r = self.stream_write(stream, &bytes).map(|()| Value::None);
                let shown = Value::Bytes {
                    bytes: data.clone(),
                };
                self.call_event(format!("{stream}.write({shown})"), &r);
                match r {
                    Ok(_) => Exec::Next,
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::Drain { stream } => {
                let frame = Frame::Drain {
                    stream: stream.clone(),
                    phase: Default::default(),
                };
                await_expr(uf, format!("{stream}.drain()"), &None, frame)
            }
            Stmt::Close { stream } => {
                self.stream_close(stream);
                self.call_event(format!("{stream}.close()"), &Ok(Value::None));
                Exec::Next
            }
            Stmt::WaitClosed { stream } => {
                let fut = self.closed_future(stream);
                let frame = Frame::AwaitFuture { fut };
                await_expr(uf, format!("{stream}.wait_closed()"), &None, frame)
            }
            Stmt::Sendfile { stream, data } => {
                let exc = self.loop_sendfile(stream);
                let shown = Value::Bytes {
                    bytes: data.clone(),
                };
                let label =
                    format!("loop.sendfile({stream}.transport, BytesIO({shown}), fallback=False)");
                await_expr(uf, label, &None, Frame::RaiseAtOnce { exc })
            }
            Stmt::AtEof { reader } => {
                let v = self.at_eof(reader);
                self.call_event(format!("{reader}.at_eof()"), &Ok(Value::Bool(v)));
                Exec::Next
            }
            Stmt::CallSoon { callback, var }
            | Stmt::CallLater { callback, var, .. }
            | Stmt::CallAt { callback, var, .. } => {
                use crate::asyncio::handles::Schedule;
                let when = match &stmts[index] {
                    Stmt::CallLater { delay, .. } => Schedule::Later(*delay),
                    Stmt::CallAt { at, .. } => Schedule::At(*at),
                    _ => Schedule::Soon,
                };
                let h = self.schedule_callback(when, callback.clone());
                if let Some(v) = var {
                    self.vars.insert(v.clone(), Obj::Handle(h));
                }
                Exec::Next
            }
            Stmt::NewConcurrentFuture { var } => {
                let cf = self.cf_new();
                self.vars.insert(var.clone(), Obj::CFut(cf));
                Exec::Next
            }
            Stmt::WrapFuture { cfuture, var } => {
                let obj = match self.lookup(cfuture) {
                    Ok(obj) => obj,
                    Err(e) => return Exec::raising(e),
                };
                let f = match obj {
                    // `if isfuture(future): return future`.
                    Obj::Fut(f) => {
                        self.cite(cite!("asyncio.futures.wrap_future.future_returned_as_is"));
                        f
                    }
                    Obj::CFut(cf) => self.wrap_future(cf, var),
                    other => {
                        // `assert isinstance(future, concurrent.futures.Future), ...`
                        let message = format!(
                            "concurrent.futures.Future is expected, got {}",
                            self.repr_of(&other)
                        );
                        return Exec::raising(
                            self.new_exc("AssertionError", vec![Value::Str(message)]),
                        );
                    }
                };
                self.vars.insert(var.clone(), Obj::Fut(f));
                Exec::Next
            }
            Stmt::SetEagerTaskFactory => {
                let call = "loop.set_task_factory(asyncio.eager_task_factory)".to_string();
                if self.profile.eager_task_factory_exists() {
                    self.eager_tasks = true;
                    self.call_event(call, &Ok(Value::None));
                    Exec::Next
                } else {
                    let e = self.new_exc(
                        "AttributeError",
                        vec![Value::Str(
                            "module 'asyncio' has no attribute 'eager_task_factory'".into(),
                        )],
                    );
                    self.call_event(call, &Err(e));
                    Exec::Signal(Signal::Raising(e))
                }
            }
            Stmt::CallExceptionHandler { message } => {
                self.cite(cite!(
                    "asyncio.reporting.call_exception_handler.message_required"
                ));
                self.call_exception_handler(message.clone(), &["message"], None, false);
                Exec::Next
            }
            Stmt::NestedRun { coro } => {
                self.cite(cite!("asyncio.runners.run.nested_loop_runtime_error"));
                let e = self.new_exc(
                    "RuntimeError",
                    vec![Value::Str(
                        "asyncio.run() cannot be called from a running event loop".into(),
                    )],
                );
                self.call_event(format!("asyncio.run({coro}())"), &Err(e));
                self.warn_never_awaited(self.current_name(), coro);
                Exec::Signal(Signal::Raising(e))
            }
            Stmt::SetExceptionHandler { handler } => {
                match handler {
                    crate::core::scenario::HandlerSpec::Default => {
                        self.cite(cite!("asyncio.reporting.handler.none_restores_default"))
                    }
                    _ => self.cite(cite!("asyncio.reporting.handler.custom_replaces_default")),
                }
                self.handler = *handler;
                Exec::Next
            }
            Stmt::BadYield => await_expr(
                uf,
                "bad_awaitable()".into(),
                &None,
                Frame::BadYield { yielded: false },
            ),
            Stmt::SyncNew { .. } | Stmt::SyncCall { .. } | Stmt::SyncAwait { .. } => {
                self.exec_sync_stmt(uf, &stmts[index])
            }
            Stmt::Mark { label } => {
                self.emit(EventKind::Mark {
                    label: label.clone(),
                });
                Exec::Next
            }
        }
    }
}

/// What a statement did.
pub(crate) enum Exec {
    /// Go on with the next statement.
    Next,
    /// An exception or a return is in flight.
    Signal(Signal),
    /// The frame suspends (or calls a nested frame).
    Await(FrameOut),
    /// A limit was reached: the run is over, the frame stops here.
    Stop,
}

impl Exec {
    /// Raise `e` from the statement.
    pub(crate) fn raising(e: ExcId) -> Exec {
        Exec::Signal(Signal::Raising(e))
    }
}

enum Leave {
    Continue(Signal),
    Out(FrameOut),
    FrameEnd(Result<Value, ExcId>),
}

impl World {
    /// A program the model cannot follow yet: the run stops, inconclusive (never counted
    /// as passing), saying what is missing.
    pub(crate) fn not_modelled(&mut self, what: &str) -> Exec {
        if self.limit.is_none() {
            self.limit = Some(format!("not modelled: {what}"));
        }
        Exec::Stop
    }

    /// An await whose operand cannot be awaited: the await expression raises, and the
    /// resume is recorded with the error.
    fn await_failed(&mut self, label: String, e: ExcId) -> Exec {
        self.chain_raised(e);
        let outcome = self.outcome_of(&Err(e));
        self.emit(EventKind::Resume {
            awaited: label,
            outcome,
        });
        Exec::raising(e)
    }

    /// Emit the outcome of an operation as a call event (used by library frames).
    pub fn note_call(&mut self, call: String, outcome: Outcome) {
        self.emit(EventKind::Call { call, outcome });
    }
}
