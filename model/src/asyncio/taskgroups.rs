//! asyncio.TaskGroup: children, abort on the first failure, and the exception group.
//!
//! Transcribes `Lib/asyncio/taskgroups.py`; the 3.12 and 3.13 changes (eager done check,
//! where the parent is uncancelled, re-cancelling the parent, closing refused
//! coroutines) are profile switches. Chapter: `specs/asyncio/taskgroups.toml`.

use crate::asyncio::coroutine::{Frame, FrameOut, Input};
use crate::asyncio::world::{Callback, FutId, TaskGroupState, TgId, World};
use crate::core::exception::ExcId;
use crate::core::value::Value;

impl World {
    /// `TaskGroup()` entered by the current task (`__aenter__` never suspends).
    pub fn new_task_group(&mut self) -> TgId {
        let parent = self.current.expect("a task group is entered inside a task");
        self.groups.push(TaskGroupState {
            entered: true,
            exiting: false,
            aborting: false,
            parent,
            parent_cancel_requested: false,
            tasks: Default::default(),
            errors: Vec::new(),
            base_error: None,
            on_completed: None,
        });
        TgId(self.groups.len() as u32 - 1)
    }

    fn group(&self, tg: TgId) -> &TaskGroupState {
        &self.groups[tg.0 as usize]
    }

    fn group_mut(&mut self, tg: TgId) -> &mut TaskGroupState {
        &mut self.groups[tg.0 as usize]
    }

    /// `tg.create_task(coro, name=name)`.
    pub fn task_group_create_task(
        &mut self,
        tg: TgId,
        coro: &str,
        name: String,
    ) -> Result<FutId, ExcId> {
        let g = self.group(tg).clone();
        let refusal = if !g.entered {
            Some("has not been entered")
        } else if g.exiting && g.tasks.is_empty() {
            Some("is finished")
        } else if g.aborting {
            Some("is shutting down")
        } else {
            None
        };
        if let Some(why) = refusal {
            self.cite(cite!("asyncio.taskgroups.child_failure.no_new_tasks"));
            if self.profile.task_group_closes_refused_coro() {
                self.cite(cite!("asyncio.taskgroups.create_task.inactive_closes_coro"));
            } else {
                // The refused coroutine object is dropped unstarted: the interpreter warns.
                self.warn_never_awaited(self.current_name(), coro);
            }
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str(format!("TaskGroup <TaskGroup> {why}"))],
            ));
        }
        let frame = self.coroutine_frame(coro);
        let t = self.spawn_task(frame, name)?;
        if self.profile.task_group_eager_done_check() {
            if self.done(t) {
                self.task_group_on_task_done(tg, t);
            } else {
                self.group_mut(tg).tasks.insert(t);
                self.add_done_callback(t, Callback::TaskGroupDone(tg));
            }
        } else {
            self.add_done_callback(t, Callback::TaskGroupDone(tg));
            self.group_mut(tg).tasks.insert(t);
        }
        Ok(t)
    }

    /// `TaskGroup._abort()`: cancel every child not done, in set order (undefined).
    fn task_group_abort(&mut self, tg: TgId) {
        self.group_mut(tg).aborting = true;
        let tasks: Vec<FutId> = self.group(tg).tasks.iter().copied().collect();
        for t in self.set_order(tasks) {
            if !self.done(t) {
                self.cite(cite!("asyncio.taskgroups.child_failure.cancels_remaining"));
                self.cancel(t, None);
            }
        }
    }

    /// `TaskGroup._on_task_done(task)`.
    pub fn task_group_on_task_done(&mut self, tg: TgId, task: FutId) {
        self.group_mut(tg).tasks.remove(&task);
        if let Some(f) = self.group(tg).on_completed {
            if self.group(tg).tasks.is_empty() && !self.done(f) {
                self.future_set_result(f, Value::Bool(true));
            }
        }
        if self.cancelled(task) {
            return;
        }
        let Ok(Some(exc)) = self.future_exception(task) else {
            return;
        };
        self.group_mut(tg).errors.push(exc);
        if self.is_base_error(exc) && self.group(tg).base_error.is_none() {
            self.group_mut(tg).base_error = Some(exc);
        }
        let parent = self.group(tg).parent;
        if self.done(parent) {
            let message = format!(
                "Task {} has errored out but its parent task {} is already completed",
                self.fut(task).name,
                self.fut(parent).name
            );
            self.call_exception_handler(
                message,
                &["exception", "message", "task"],
                Some(exc),
                false,
            );
            return;
        }
        if !self.group(tg).aborting && !self.group(tg).parent_cancel_requested {
            self.task_group_abort(tg);
            self.group_mut(tg).parent_cancel_requested = true;
            self.cite(cite!(
                "asyncio.taskgroups.child_failure.cancels_parent_body"
            ));
            self.cancel(parent, None);
        }
    }

    fn is_base_error(&self, e: ExcId) -> bool {
        self.exc_is(e, "KeyboardInterrupt") || self.exc_is(e, "SystemExit")
    }

    /// `et is CancelledError` (3.11/3.12) or `issubclass(et, CancelledError)` (3.13).
    fn is_cancel_class(&self, e: ExcId) -> bool {
        if self.profile.task_group_uncancel_after_wait() {
            self.exc_is(e, "asyncio.CancelledError")
        } else {
            self.excs[e.0 as usize].class == "asyncio.CancelledError"
        }
    }

    /// `TaskGroup.__aexit__(et, exc, tb)`.
    pub fn resume_task_group_exit(
        &mut self,
        tg: TgId,
        exc: Option<ExcId>,
        propagate: &mut Option<ExcId>,
        waiting: &mut bool,
        input: Input,
    ) -> FrameOut {
        let parent = self.group(tg).parent;
        match input {
            Input::Start => {
                self.group_mut(tg).exiting = true;
                if let Some(e) = exc {
                    if self.is_base_error(e) && self.group(tg).base_error.is_none() {
                        self.group_mut(tg).base_error = Some(e);
                    }
                }
                *propagate = exc.filter(|e| self.is_cancel_class(*e));
                if propagate.is_some() && !self.group(tg).parent_cancel_requested {
                    self.cite(cite!("asyncio.taskgroups.external_cancel.propagates"));
                }
                if !self.profile.task_group_uncancel_after_wait()
                    && self.group(tg).parent_cancel_requested
                    && self.task_uncancel(parent) == 0
                {
                    self.cite(cite!(
                        "asyncio.taskgroups.child_failure.parent_cancel_not_bubbling"
                    ));
                    *propagate = None;
                }
                if exc.is_some() && !self.group(tg).aborting {
                    if !exc.is_some_and(|e| self.is_cancel_class(e)) {
                        self.cite(cite!("asyncio.taskgroups.body_failure.treated_as_child"));
                    }
                    self.task_group_abort(tg);
                }
                *waiting = true;
            }
            Input::Throw(e) if self.exc_is(e, "asyncio.CancelledError") => {
                if !self.group(tg).aborting {
                    self.cite(cite!("asyncio.taskgroups.external_cancel.propagates"));
                    *propagate = Some(e);
                    self.task_group_abort(tg);
                }
                self.group_mut(tg).on_completed = None;
            }
            Input::Throw(e) => return FrameOut::Raise(e),
            Input::Send(_) => {
                self.group_mut(tg).on_completed = None;
            }
        }
        // `while self._tasks: await self._on_completed_fut`
        if !self.group(tg).tasks.is_empty() {
            let f = match self.group(tg).on_completed {
                Some(f) => f,
                None => {
                    let f = self.new_future("TaskGroup on_completed");
                    self.group_mut(tg).on_completed = Some(f);
                    f
                }
            };
            return FrameOut::Push(Frame::AwaitFuture { fut: f });
        }
        self.cite(cite!("asyncio.taskgroups.exit.awaits_all"));
        // __aexit__ raises while the block's exception (if any) is being handled.
        let in_flight = exc.or_else(|| self.handled_exception());
        if let Some(base) = self.group(tg).base_error {
            self.cite(cite!("asyncio.taskgroups.exit.keyboard_interrupt_reraised"));
            self.chain_onto(base, in_flight);
            return FrameOut::Raise(base);
        }
        if self.profile.task_group_uncancel_after_wait()
            && self.group(tg).parent_cancel_requested
            && self.task_uncancel(parent) == 0
        {
            self.cite(cite!(
                "asyncio.taskgroups.child_failure.parent_cancel_not_bubbling"
            ));
            self.cite(cite!("asyncio.taskgroups.cancelling.preserved"));
            *propagate = None;
        }
        if let Some(p) = *propagate {
            if self.group(tg).errors.is_empty() {
                self.chain_onto(p, in_flight);
                return FrameOut::Raise(p);
            }
        }
        if let Some(e) = exc {
            if !self.is_cancel_class(e) {
                self.group_mut(tg).errors.push(e);
            }
        }
        let errors = std::mem::take(&mut self.group_mut(tg).errors);
        if errors.is_empty() {
            return FrameOut::Return(Value::None);
        }
        if self.profile.task_group_uncancel_after_wait()
            && self.task(parent).num_cancels_requested > 0
        {
            self.cite(cite!(
                "asyncio.taskgroups.external_cancel.with_errors_recancels"
            ));
            self.task_uncancel(parent);
            self.cancel(parent, None);
        }
        self.cite(cite!("asyncio.taskgroups.exit.exception_group"));
        if errors.iter().any(|e| {
            matches!(
                self.excs[e.0 as usize].class.as_str(),
                "ExceptionGroup" | "BaseExceptionGroup"
            )
        }) {
            self.cite(cite!("asyncio.taskgroups.nested.inner_first"));
        }
        let all_exceptions = errors.iter().all(|e| self.exc_is(*e, "Exception"));
        let class = if all_exceptions {
            "ExceptionGroup"
        } else {
            "BaseExceptionGroup"
        };
        let group = self.new_exc(
            class,
            vec![Value::Str("unhandled errors in a TaskGroup".into())],
        );
        self.excs[group.0 as usize].group = errors;
        // `raise me from None`.
        self.set_cause(group, None);
        self.chain_onto(group, in_flight);
        FrameOut::Raise(group)
    }
}
