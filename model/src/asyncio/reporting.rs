//! The loop's exception reporting: the handler (default or custom) and the reports made
//! when futures holding unretrieved exceptions are collected.
//!
//! Transcribes `BaseEventLoop.call_exception_handler` (Lib/asyncio/base_events.py) and
//! `Future.__del__` / `Task.__del__`. Collection time is up to the garbage collector, so
//! those reports are marked floating. Chapter: `specs/asyncio/reporting.toml`.

use crate::asyncio::world::{FutId, FutState, World};
use crate::core::exception::ExcId;
use crate::core::scenario::HandlerSpec;
use crate::core::trace::EventKind;
use crate::core::value::Value;

impl World {
    /// A coroutine object dropped unstarted: the interpreter's RuntimeWarning (with the
    /// creation traceback in debug mode). `task` is where the event is attributed.
    pub fn warn_never_awaited(&mut self, task: Option<String>, coro: &str) {
        self.cite(cite!("asyncio.reporting.never_awaited.runtime_warning"));
        if self.debug {
            self.cite(cite!("asyncio.reporting.never_awaited.debug_origin"));
        }
        self.emit_for(
            task,
            EventKind::Warning {
                category: "RuntimeWarning".into(),
                message: format!("coroutine '{coro}' was never awaited"),
            },
        );
    }
}

impl World {
    /// `loop.call_exception_handler(context)`.
    pub fn call_exception_handler(
        &mut self,
        message: String,
        keys: &[&str],
        exc: Option<ExcId>,
        floating: bool,
    ) {
        let mut context: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        context.sort();
        let exception = exc.map(|e| self.exc_view(e));
        self.cite(cite!("asyncio.reporting.handler.context_keys"));
        if self.profile.event_loop == crate::core::profile::EventLoop::Rloop
            && self.handler != HandlerSpec::Default
        {
            return self.rloop_call_custom_handler(floating);
        }
        // Setting an invalid handler raised and left the handler as it was; the model
        // never stores `Invalid`, so it reports like the default.
        let custom = matches!(self.handler, HandlerSpec::Record | HandlerSpec::Raise);
        if custom {
            self.cite(cite!("asyncio.reporting.handler.custom_replaces_default"));
        } else {
            self.cite(cite!("asyncio.reporting.default_handler.logs_error"));
            self.cite(cite!("asyncio.reporting.logger.asyncio"));
        }
        self.emit(EventKind::Report {
            message,
            context,
            exception,
            handler: if custom { "custom" } else { "default" }.into(),
            floating,
        });
        if self.handler == HandlerSpec::Raise {
            // The custom handler raised: call_exception_handler falls back to the default
            // handler with the handler's exception and the original context.
            self.cite(cite!(
                "asyncio.reporting.handler.raising_handler_falls_back"
            ));
            let raised = self.new_exc("RuntimeError", vec![Value::Str("handler failed".into())]);
            self.report_handler_failure(raised, floating);
        }
    }

    /// The default handler's report of a custom handler that raised `raised`.
    pub(crate) fn report_handler_failure(&mut self, raised: ExcId, floating: bool) {
        let exception = Some(self.exc_view(raised));
        self.emit(EventKind::Report {
            message: "Unhandled error in exception handler".into(),
            context: vec!["context".into(), "exception".into(), "message".into()],
            exception,
            handler: "default".into(),
            floating,
        });
    }

    /// After the run: every future still holding an unretrieved exception is collected
    /// and reported (`Future.__del__`), in creation order; pending tasks too.
    /// Whether collecting `f` makes a report (an unretrieved exception, or a task
    /// still pending).
    pub fn would_be_reported(&self, f: FutId) -> bool {
        let fut = self.fut(f);
        if self.is_task(f) && self.task(f).internal {
            return false;
        }
        (fut.log_traceback && matches!(fut.state, FutState::Exception(_)))
            || (fut.state == FutState::Pending && self.is_task(f))
    }

    /// `kept_alive`: futures the runtime never frees (see `rloop_kept_alive`).
    pub fn collect_garbage(&mut self, kept_alive: &std::collections::BTreeSet<FutId>) {
        for i in 0..self.futures.len() as u32 {
            let f = FutId(i);
            if kept_alive.contains(&f) {
                continue;
            }
            let fut = self.fut(f).clone();
            let internal = self.is_task(f) && self.task(f).internal;
            if internal {
                continue;
            }
            if let (true, FutState::Exception(e)) = (fut.log_traceback, &fut.state) {
                // The C finalizer names the type after its last dot (`_PyType_Name`):
                // `Task`, `Future`, `_GatheringFuture`.
                let type_name = self.type_name(&crate::asyncio::world::Obj::Fut(f));
                let short = type_name.rsplit('.').next().unwrap_or(&type_name);
                let message = format!("{short} exception was never retrieved");
                let clause = if self.is_task(f) {
                    cite!("asyncio.reporting.never_retrieved.task")
                } else {
                    cite!("asyncio.reporting.never_retrieved.future")
                };
                self.cite(clause);
                self.fut_mut(f).reports += 1;
                self.cite(cite!(
                    "asyncio.reporting.unawaited_task.default_prints_and_continues"
                ));
                let mut keys = vec!["exception", "future", "message"];
                if self.debug {
                    self.cite(cite!(
                        "asyncio.reporting.never_retrieved.debug_source_traceback"
                    ));
                    keys.push("source_traceback");
                }
                self.call_exception_handler(message, &keys, Some(*e), true);
            } else if fut.state == FutState::Pending && self.is_task(f) {
                self.cite(cite!("asyncio.reporting.destroyed_pending.task"));
                self.cite(cite!("asyncio.reporting.handler.exception_may_be_missing"));
                let keys: &[&str] = if self.debug {
                    &["message", "source_traceback", "task"]
                } else {
                    &["message", "task"]
                };
                self.call_exception_handler(
                    "Task was destroyed but it is pending!".into(),
                    keys,
                    None,
                    true,
                );
                // A task that never ran drops a coroutine that was never started.
                if !self.task(f).started {
                    if let Some(crate::asyncio::coroutine::Frame::User(uf)) =
                        self.task(f).frames.first()
                    {
                        let coro = uf.coro.clone();
                        self.warn_never_awaited(None, &coro);
                    }
                }
            }
        }
    }
}
