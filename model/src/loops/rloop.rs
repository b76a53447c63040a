//! rloop's event loop: a Rust loop on mio, with a microsecond clock.
//!
//! rloop runs asyncio's own Task and Future; its loop is close to asyncio's
//! `_run_once` (a batch is the callbacks ready when the step began, then the due
//! timers), with these differences, transcribed from rloop 0.5 `src/event_loop.rs`
//! (`step`, `_run`, `schedule_later*`), `src/handles.rs` (`Handle::run`), `src/time.rs`
//! and `rloop/loop.py` (`call_later`, `call_at`, `time`):
//!
//! * time is whole microseconds; mio rounds a poll's timeout up to whole milliseconds,
//!   so a wait for a timer overshoots to the next millisecond;
//! * timers sit in a `BinaryHeap` ordered by deadline alone; its push and pop are the
//!   same sift algorithms as Python's `heapq`, so ties pop in the same order; cancelled
//!   timers stay in the heap until due (no clean-up pass);
//! * `call_later` with a delay <= 0, and `call_at` whose rounded delay is <= 0, are
//!   `call_soon`;
//! * an exception escaping a callback, BaseExceptions included, goes to the exception
//!   handler; nothing escapes `run_forever`.

use crate::asyncio::world::{Callback, Escaped, FutId, Handle, TimerAction, TimerId, World};
use crate::core::scenario::HandlerSpec;
use crate::core::value::Value;

impl World {
    /// rloop's `_clock`: microseconds since the loop was made.
    fn rloop_tick_us(&self) -> i64 {
        self.clock_ns / 1000
    }

    /// `RLoop.call_later(delay, ...)` (rloop/loop.py): `delay <= 0` is a `call_soon`,
    /// anything else a timer.
    pub(crate) fn rloop_call_later(&mut self, delay: f64, action: TimerAction) -> TimerId {
        self.cite(cite!("rloop.loop.call_later.microsecond_clock"));
        if delay <= 0.0 {
            return self.call_soon_timer(action);
        }
        self.rloop_schedule_later(delay, action)
    }

    /// `RLoop.call_at(when, ...)`: `delay = when - self.time()`, then as `call_later`.
    pub(crate) fn rloop_call_at(&mut self, when: f64, action: TimerAction) -> TimerId {
        self.rloop_call_later(when - self.now, action)
    }

    /// `EventLoop._call_later` (src/event_loop.rs in the 0.5.0 sdist): `when =
    /// as_micros() + (delay * 1_000_000.0).round() as u128`. The cast saturates (an
    /// infinite delay is `u128::MAX`) and the addition wraps in a release build, so such
    /// a timer is due at once; `round` is half away from zero.
    fn rloop_schedule_later(&mut self, delay: f64, action: TimerAction) -> TimerId {
        let delay_us = (delay * 1_000_000.0).round() as u128;
        let when = (self.rloop_tick_us() as u128).wrapping_add(delay_us);
        if delay_us > u128::MAX - self.rloop_tick_us() as u128 {
            self.cite(cite!("rloop.loop.call_later.huge_delay_wraps"));
        }
        self.push_timer(when as f64, action)
    }

    /// `EventLoop._run`: steps until `stop()`; Ok always (callbacks' exceptions are
    /// reported, not raised).
    pub(crate) fn rloop_run_forever(&mut self) -> Result<(), Escaped> {
        // `_run` starts a fresh `EventLoopRunState` (`tick_last: 0`).
        self.rloop_last_poll_us = 0;
        while self.limit.is_none() && !self.stopping {
            let steps_before = self.steps;
            self.rloop_step();
            if !self.charge_turn(steps_before) {
                break;
            }
        }
        self.stopping = false;
        Ok(())
    }

    /// `EventLoop.step`.
    fn rloop_step(&mut self) {
        // The poll: it waits only when nothing is ready, until the first deadline
        // (cancelled timers included: they are still in the heap). With callbacks
        // ready it is skipped unless 250 us passed since the last one (`skip_poll`).
        let polled = if self.ready.is_empty() {
            let tick = self.rloop_tick_us();
            let io_ready = self.sockets.values().any(|s| s.edge && s.reader.is_some());
            let Some(&head) = self.scheduled.first() else {
                if !io_ready {
                    self.note_deadlock();
                    return;
                }
                self.rloop_last_poll_us = self.rloop_tick_us();
                return self.rloop_run_batch(true);
            };
            // `sched_time = (timer.when - tick) as u64` (u128 to u64: truncating), then
            // mio's `min((timeout + 999_999 ns).as_millis(), c_int::MAX)`: whole
            // milliseconds, at most about 24.8 days. A ready socket (vclock polls
            // without waiting first) returns at once.
            let when_us = self.timers[head.0 as usize].when as u128;
            let tick = tick as u128;
            let sched_us = if when_us > tick {
                (when_us - tick) as u64
            } else {
                0
            };
            let wait_ms = (u128::from(sched_us) * 1000).div_ceil(1_000_000);
            let wait_ms = wait_ms.min(i32::MAX as u128) as i64;
            if !io_ready && !self.native_wait(wait_ms) {
                return;
            }
            true
        } else {
            let skip = self.rloop_tick_us() - self.rloop_last_poll_us < 250;
            if !skip && !self.sockets.is_empty() {
                self.cite(cite!("rloop.streams.poll_skipped_while_ready"));
            }
            !skip
        };
        if polled {
            self.rloop_last_poll_us = self.rloop_tick_us();
        }
        self.rloop_run_batch(polled)
    }

    /// One step's batch: the callbacks ready, then (after a poll) the sockets' read
    /// handles, then the due timers.
    fn rloop_run_batch(&mut self, polled: bool) {
        let mut batch: Vec<Handle> = self.ready.drain(..).collect();
        if polled {
            let io = self.rloop_poll_io();
            batch.extend(io);
        }
        let tick = self.rloop_tick_us();
        while let Some(&head) = self.scheduled.first() {
            if self.timers[head.0 as usize].when as u128 > tick as u128 {
                break;
            }
            if let Some(id) = self.pop_timer() {
                batch.push(Handle::Timer(id));
            }
        }
        for handle in batch {
            if self.is_cancelled_timer(&handle) {
                continue;
            }
            if self.limit.is_some() || !self.charge_step() {
                return;
            }
            if let Err(e) = self.run_handle(handle) {
                self.cite(cite!("rloop.loop.base_exception.reported"));
                self.call_exception_handler(
                    "Exception in callback".into(),
                    &["exception", "handle", "message"],
                    Some(e),
                    false,
                );
            }
        }
    }

    /// rloop's `_exception_handler(context, handler)` with a custom handler: it calls
    /// `handler(context)`, so a handler with asyncio's `(loop, context)` signature (the
    /// adapter's is named `handler`), or a non-callable one, raises TypeError, and the
    /// default handler reports that with the original context.
    pub(crate) fn rloop_call_custom_handler(&mut self, floating: bool) {
        self.cite(cite!(
            "rloop.loop.exception_handler.called_with_context_only"
        ));
        let message = match self.handler {
            HandlerSpec::Invalid => "'int' object is not callable",
            _ => "handler() missing 1 required positional argument: 'context'",
        };
        let raised = self.new_exc("TypeError", vec![Value::Str(message.into())]);
        self.report_handler_failure(raised, floating);
    }

    /// The futures a run's leftover timers keep alive for ever on rloop: its timer heap
    /// is a Rust field the garbage collector cannot see, `cancel()` only sets a flag
    /// (the callback stays referenced) and `close()` does not empty the heap, so what a
    /// timer still in the heap at the end refers to is never freed, and is never
    /// reported as "exception was never retrieved".
    pub(crate) fn rloop_kept_alive(&mut self) -> std::collections::BTreeSet<FutId> {
        let mut kept = std::collections::BTreeSet::new();
        let keep_future = |w: &World, f: FutId, kept: &mut std::collections::BTreeSet<FutId>| {
            kept.insert(f);
            // A pending future's done callbacks reach the tasks they would wake.
            for cb in &w.fut(f).callbacks {
                if let Callback::Wakeup(t) = cb {
                    kept.insert(*t);
                }
            }
        };
        for &id in &self.scheduled {
            match &self.timers[id.0 as usize].action {
                TimerAction::SetResultUnlessCancelled(f, _)
                | TimerAction::ReleaseWaiter(f)
                | TimerAction::WaitTimeout(f) => keep_future(self, *f, &mut kept),
                TimerAction::TimeoutFire(cm) => {
                    if let Some(t) = self.timeouts[cm.0 as usize].task {
                        keep_future(self, t, &mut kept);
                    }
                }
                TimerAction::AsCompletedTimeout(i) => {
                    let state = &self.as_completed[*i];
                    for f in state.todo.iter().chain(state.getters.iter()) {
                        keep_future(self, *f, &mut kept);
                    }
                }
                TimerAction::Deliver(name, _)
                | TimerAction::Consume(name, _)
                | TimerAction::ReadReady(name)
                | TimerAction::ConnectionLost(name, _) => {
                    // The stream's objects stay: its reader and its protocol's closed
                    // future keep the reset, whose traceback keeps the coroutines of the
                    // tasks it left since a future last restored it.
                    if let Some(e) = self.readers.get(name).and_then(|r| r.exception) {
                        kept.extend(self.excs[e.0 as usize].tb_tasks.iter().copied());
                    }
                }
                // The callback's statements reach the scenario's objects only through
                // its variables, which the program drops at its end.
                TimerAction::Sigint | TimerAction::Callback(_) => {}
            }
        }
        // Socket delivery: rloop's Rust side still holds every TCPTransport it made,
        // so each protocol's closed future keeps the exception that lost its
        // connection, and that exception's traceback keeps its tasks.
        let lost: Vec<crate::core::exception::ExcId> = self
            .sockets
            .keys()
            .filter_map(|name| self.readers.get(name).and_then(|r| r.exception))
            .collect();
        for e in lost {
            self.cite(cite!("rloop.streams.transports_kept_alive"));
            kept.extend(self.excs[e.0 as usize].tb_tasks.iter().copied());
        }
        // A kept future keeps its exception, and the exception what it refers to.
        let held: Vec<FutId> = kept
            .iter()
            .filter_map(|f| match self.fut(*f).state {
                crate::asyncio::world::FutState::Exception(e) => Some(e),
                _ => None,
            })
            .flat_map(|e| self.excs[e.0 as usize].holds.clone())
            .collect();
        kept.extend(held);
        kept
    }
}
