//! `asyncio.run()`: the main task, `run_until_complete`, the SIGINT handler, and
//! shutdown (cancel the remaining tasks, shut down async generators and the executor).
//!
//! Transcribes `Runner.run`, `Runner.close`, `Runner._on_sigint` and `_cancel_all_tasks`
//! from `Lib/asyncio/runners.py`, and `run_until_complete` / `_run_until_complete_cb`
//! from `Lib/asyncio/base_events.py`. Chapter: `specs/asyncio/runners.toml`.

use crate::asyncio::coroutine::Frame;
use crate::asyncio::world::{Callback, Escaped, FutId, Obj, TimerAction, World};
use crate::core::exception::ExcId;
use crate::core::profile::Profile;
use crate::core::scenario::{Scenario, Stmt};
use crate::core::trace::{EventKind, Trace, TRACE_FORMAT};
use crate::core::value::Value;
use std::rc::Rc;

/// Why a model run gave no trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The scenario is not valid input (what and where).
    Invalid(String),
    /// The model itself failed (a broken invariant): a bug in asyncspec, never a
    /// verdict on the runtime. Caught per run, so it costs no other result.
    Internal(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Invalid(m) => write!(f, "{m}"),
            RunError::Internal(m) => write!(f, "the model broke (a bug in asyncspec): {m}"),
        }
    }
}

impl From<RunError> for String {
    fn from(e: RunError) -> String {
        e.to_string()
    }
}

/// Run a scenario under a profile. `choices` answers the choice points (documented
/// undefined orders) in turn; missing answers take the canonical option.
pub fn run(scenario: &Scenario, profile: Profile, choices: &[usize]) -> Result<Trace, RunError> {
    let world = run_world(scenario, profile, choices)?;
    Ok(Trace {
        format: TRACE_FORMAT,
        scenario: scenario.name.clone(),
        profile: profile.name().to_string(),
        steps: world.steps,
        events: world.events,
        choices: world.choices_met,
        choice_events: world.choice_events,
    })
}

/// Run a scenario and hand back the whole final state (for invariant checks).
///
/// A panic inside the model (a broken invariant) is caught here and becomes
/// [`RunError::Internal`], so one scenario's model bug never ends a batch.
pub fn run_world(
    scenario: &Scenario,
    profile: Profile,
    choices: &[usize],
) -> Result<World, RunError> {
    scenario.validate().map_err(RunError::Invalid)?;
    let mut world = World::new(Rc::new(scenario.clone()), profile, choices.to_vec())
        .map_err(RunError::Invalid)?;
    isolate(move || {
        world.run_main();
        world
    })
}

/// Run `f`; a panic in it (a broken model invariant) becomes [`RunError::Internal`]
/// with the panic's message.
fn isolate<T>(f: impl FnOnce() -> T) -> Result<T, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        RunError::Internal(what)
    })
}

impl World {
    /// The scenario's prelude: statements before `asyncio.run`, no loop running.
    fn run_prelude(&mut self) {
        let prelude = self.scenario.prelude.clone();
        for st in &prelude {
            match st {
                Stmt::CreateTask { coro, .. } => {
                    // `asyncio.create_task` starts with `events.get_running_loop()`; the
                    // coroutine object is left unstarted, and warns when it is freed.
                    self.cite(cite!("asyncio.tasks.create_task.no_running_loop"));
                    let e = self.new_exc(
                        "RuntimeError",
                        vec![Value::Str("no running event loop".into())],
                    );
                    let outcome = self.outcome_of(&Err(e));
                    self.emit_for(
                        None,
                        EventKind::Call {
                            call: format!("asyncio.create_task({coro}())"),
                            outcome,
                        },
                    );
                    self.warn_never_awaited(None, coro);
                }
                Stmt::Mark { label } => self.emit_for(
                    None,
                    EventKind::Mark {
                        label: label.clone(),
                    },
                ),
                _ => {}
            }
        }
    }

    fn run_main(&mut self) {
        self.run_prelude();
        if self.debug && self.profile.event_loop == crate::core::profile::EventLoop::Rloop {
            // Runner(debug=True) calls loop.set_debug(True), which rloop ignores.
            self.cite(cite!("rloop.loop.debug.ignored"));
            self.debug = false;
        }
        if self.debug {
            self.cite(cite!("asyncio.reporting.debug.enabled_by"));
        }
        let frame = self.coroutine_frame("main");
        let main = self.create_task(frame, Some("main".into()), false);
        self.main = Some(main);
        self.vars.insert("main".into(), Obj::Fut(main));
        let interrupts: Vec<f64> = self.scenario.interrupts.iter().map(|i| i.at).collect();
        for at in interrupts {
            self.call_at(at, TimerAction::Sigint);
        }
        // The network's schedule: each reader's first delivery, in name order. Each
        // delivery schedules the next (see `stream_deliver`).
        let first: Vec<(String, f64)> = self
            .scenario
            .streams
            .iter()
            .filter_map(|(name, spec)| spec.deliveries.first().map(|d| (name.clone(), d.at)))
            .collect();
        for (name, at) in first {
            self.call_at(at, TimerAction::Deliver(name, 0));
        }
        self.open_connections();
        self.sigint_installed = true;
        let outcome = self.runner_run(main);
        self.sigint_installed = false;
        if self.limit.is_none() {
            // `with Runner() as runner: return runner.run(main)`: when run() raised,
            // close() runs inside __exit__, i.e. while that exception is being handled.
            self.runner_exit_handling = outcome.as_ref().err().copied();
            let closed = self.runner_close();
            self.runner_exit_handling = None;
            if let Err(e) = closed {
                // A BaseException escaping shutdown replaces the run's outcome.
                self.finish(Err(e));
                return;
            }
        }
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Result<Value, ExcId>) {
        if let Some(what) = self.limit.clone() {
            self.emit_for(None, EventKind::Limit { what });
            return;
        }
        if outcome.is_ok() {
            self.cite(cite!("asyncio.runners.run.returns_or_raises"));
        }
        let kept_alive = match self.profile.event_loop {
            crate::core::profile::EventLoop::Rloop => self.rloop_kept_alive(),
            _ => Default::default(),
        };
        if kept_alive.iter().any(|&f| self.would_be_reported(f)) {
            // Cited here so the rule lands on the run's last event: the reports it
            // removes leave no event of their own.
            self.cite(cite!("rloop.loop.timers.keep_callbacks_alive"));
        }
        let outcome = self.outcome_of(&outcome);
        self.emit_for(None, EventKind::Finished { outcome });
        self.collect_garbage(&kept_alive);
    }

    /// `Runner.run(main)`.
    fn runner_run(&mut self, main: FutId) -> Result<Value, ExcId> {
        let r = self.run_until_complete(main);
        match r {
            Err(e) if self.exc_is(e, "asyncio.CancelledError") && self.interrupt_count > 0 => {
                if self.task_uncancel(main) == 0 {
                    self.cite(cite!("asyncio.runners.keyboard_interrupt.reraised"));
                    // Raised in `except exceptions.CancelledError:`.
                    let ki = self.new_exc("KeyboardInterrupt", Vec::new());
                    self.chain_onto(ki, Some(e));
                    return Err(ki);
                }
                Err(e)
            }
            Ok(v) if self.interrupt_count > 0 => {
                self.cite(cite!("asyncio.runners.keyboard_interrupt.main_suppresses"));
                Ok(v)
            }
            other => other,
        }
    }

    /// `loop.run_until_complete(fut)`: the future's result, or what escaped the loop.
    pub fn run_until_complete(&mut self, fut: FutId) -> Result<Value, ExcId> {
        self.add_done_callback(fut, Callback::RunUntilComplete);
        let ran: Result<(), Escaped> = self.run_forever();
        self.remove_done_callback(fut, &Callback::RunUntilComplete);
        if let Err(e) = ran {
            if self.done(fut) && !self.cancelled(fut) {
                let _ = self.future_exception(fut);
            }
            return Err(e);
        }
        if self.limit.is_some() {
            return Ok(Value::None);
        }
        if !self.done(fut) {
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str(
                    "Event loop stopped before Future completed.".into(),
                )],
            ));
        }
        self.future_result(fut)
    }

    /// `_run_until_complete_cb(fut)`: stop the loop (retrieving the exception).
    pub fn run_until_complete_cb(&mut self, fut: FutId) {
        if !self.cancelled(fut) {
            if let Ok(Some(e)) = self.future_exception(fut) {
                if self.exc_is(e, "KeyboardInterrupt") || self.exc_is(e, "SystemExit") {
                    return;
                }
            }
        }
        self.loop_stop();
    }

    /// `Runner._on_sigint`: the first Ctrl-C cancels the main task; later ones raise.
    pub fn on_sigint(&mut self) -> Result<(), Escaped> {
        if !self.sigint_installed {
            // Outside Runner.run the default handler raises KeyboardInterrupt at once.
            return Err(self.new_exc("KeyboardInterrupt", Vec::new()));
        }
        self.interrupt_count += 1;
        let main = self.main.expect("the runner has a main task");
        if self.interrupt_count == 1 && !self.done(main) {
            self.cite(cite!("asyncio.runners.keyboard_interrupt.main_cancelled"));
            self.cite(cite!("asyncio.runners.keyboard_interrupt.finally_runs"));
            self.task_cancel(main, None);
            self.call_soon(crate::asyncio::world::Handle::Noop);
            return Ok(());
        }
        self.cite(cite!(
            "asyncio.runners.keyboard_interrupt.second_hit_immediate"
        ));
        Err(self.new_exc("KeyboardInterrupt", Vec::new()))
    }

    /// `Runner.close()`: cancel what is left, then the two shutdown coroutines.
    fn runner_close(&mut self) -> Result<(), ExcId> {
        self.cancel_all_tasks()?;
        if self.limit.is_some() {
            return Ok(());
        }
        self.cite(cite!("asyncio.runners.shutdown.order"));
        for name in ["shutdown_asyncgens", "shutdown_default_executor"] {
            let t = self.create_task(Frame::Noop, Some(name.into()), true);
            self.run_until_complete(t)?;
            if self.limit.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// `_cancel_all_tasks(loop)`.
    fn cancel_all_tasks(&mut self) -> Result<(), ExcId> {
        let pending: Vec<FutId> = (0..self.futures.len() as u32)
            .map(FutId)
            .filter(|f| self.is_task(*f) && !self.done(*f) && !self.task(*f).internal)
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let to_cancel = self.set_order(pending);
        for t in &to_cancel {
            self.cite(cite!("asyncio.runners.shutdown.cancels_remaining_tasks"));
            self.task_cancel(*t, None);
        }
        let outer = self.gather_futures(&to_cancel, true);
        self.run_until_complete(outer)?;
        // A run that stops at a limit (a task that never ends deadlocks the gather)
        // never returns from run_until_complete: nothing after it runs.
        if self.limit.is_some() {
            return Ok(());
        }
        for t in to_cancel {
            if self.cancelled(t) {
                continue;
            }
            if let Ok(Some(e)) = self.future_exception(t) {
                self.cite(cite!("asyncio.runners.shutdown.reports_task_exceptions"));
                self.call_exception_handler(
                    "unhandled exception during asyncio.run() shutdown".into(),
                    &["exception", "message", "task"],
                    Some(e),
                    false,
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_model_is_an_internal_error_with_its_message() {
        let r: Result<(), RunError> = isolate(|| panic!("model invariant: FutId(1) is not a task"));
        assert_eq!(
            r,
            Err(RunError::Internal(
                "model invariant: FutId(1) is not a task".into()
            ))
        );
        assert!(r.unwrap_err().to_string().contains("a bug in asyncspec"));
        assert_eq!(isolate(|| 7), Ok(7));
    }
}
