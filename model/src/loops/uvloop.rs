//! uvloop's event loop: libuv's phases, its millisecond clock and its timers.
//!
//! uvloop runs asyncio's own Task and Future on a different loop, so everything a task
//! does is the CPython profile's; what changes is when callbacks run. Transcribed from
//! uvloop 0.23 `uvloop/loop.pyx` (`_run`, `_on_idle`, `_stop`, `stop`, `call_later`,
//! `_handle_exception`) and libuv 1.4x `uv_run` / `uv__run_timers`:
//!
//! * one libuv iteration is: the idle phase (uvloop's ready queue, the callbacks that
//!   were ready when it began), the poll (where virtual time advances, only when
//!   nothing is ready), then the timers due at libuv's cached time, run directly;
//! * `stop()` is itself a queued callback, so the loop runs one more batch after it;
//! * a BaseException from a callback ends the batch but not the loop: the loop stops
//!   after the next batch that completes, and re-raises the last such exception;
//! * time is whole milliseconds; `call_later` rounds the delay to milliseconds (a
//!   delay that rounds to 0 is `call_soon`) and starts a libuv timer from the time now;
//!   equal deadlines run in the order their timers were started;
//! * the poll's wait is measured from libuv's cached time (refreshed after each poll,
//!   before the timers, by `loop.time()` and by starting a timer, but not by blocking
//!   work), so after blocking work the wait overshoots the deadline.

use crate::asyncio::world::{Escaped, Handle, TimerAction, TimerId, World};

/// uvloop's `MAX_SLEEP`: longer delays (and infinity) are clamped to about 100 years.
const MAX_SLEEP: f64 = 3600.0 * 24.0 * 365.0 * 100.0;

/// uvloop's state beyond asyncio's queues.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UvState {
    /// libuv's cached loop time (`uv_now`), in milliseconds.
    pub cached_ms: i64,
    /// `Loop._stopping`.
    pub stopping: bool,
    /// The idle handle (which runs the ready queue) is active.
    pub idle_active: bool,
    /// `Loop._last_error`: re-raised by `run_forever` when the loop stops.
    pub last_error: Option<Escaped>,
}

impl World {
    /// `uv_update_time`: the cached time catches up with the clock.
    pub(crate) fn uv_update_time(&mut self) {
        self.uv.cached_ms = self.clock_ns / 1_000_000;
    }

    /// `loop.call_later(delay, ...)` on uvloop.
    pub(crate) fn uv_call_later(&mut self, delay: f64, action: TimerAction) -> TimerId {
        self.cite(cite!("uvloop.loop.call_later.millisecond_clock"));
        let delay = if delay < 0.0 {
            0.0
        } else if delay.is_infinite() || delay > MAX_SLEEP {
            MAX_SLEEP
        } else {
            delay
        };
        // Cython's `<uint64_t>round(delay * 1000)`: Python's round, ties to even.
        let ms = (delay * 1000.0).round_ties_even() as i64;
        if ms == 0 {
            return self.call_soon_timer(action);
        }
        // `UVTimer.start` refreshes libuv's time before `uv_timer_start`.
        self.uv_update_time();
        let when = (self.uv.cached_ms + ms) as f64;
        self.push_timer(when, action)
    }

    /// Order of libuv's timer heap: deadline, then start order (a total order).
    pub(crate) fn uv_timer_lt(&self, a: TimerId, b: TimerId) -> bool {
        let (ta, tb) = (&self.timers[a.0 as usize], &self.timers[b.0 as usize]);
        (ta.when, a.0) < (tb.when, b.0)
    }

    /// `loop.stop()`: a queued `Loop._stop`, so the current batch and the next one run.
    pub(crate) fn uv_stop(&mut self) {
        self.cite(cite!("uvloop.loop.stop.queued_one_more_batch"));
        self.call_soon(Handle::UvStop);
    }

    /// `Loop._stop(exc)`.
    pub(crate) fn uv_stop_with(&mut self, exc: Option<Escaped>) {
        if let Some(e) = exc {
            self.uv.last_error = Some(e);
        }
        if self.uv.stopping {
            return;
        }
        self.uv.stopping = true;
        self.uv.idle_active = true;
    }

    /// `Loop._run(UV_RUN_DEFAULT)`: Ok when stopped, Err with the last BaseException
    /// that escaped a callback.
    pub(crate) fn uv_run_forever(&mut self) -> Result<(), Escaped> {
        self.uv.last_error = None;
        self.uv.idle_active = true;
        // uv_run processes due timers once before its loop.
        self.uv_update_time();
        self.uv_run_timers();
        let mut stop_flag = false;
        while !stop_flag && self.limit.is_none() {
            let steps_before = self.steps;
            if self.uv.idle_active {
                stop_flag = self.uv_on_idle();
            }
            if self.limit.is_some() {
                break;
            }
            // `uv__io_poll`: ready sockets are polled without waiting and their
            // callbacks run here (socket delivery).
            let io_ready = self.sockets_ready();
            if !io_ready.is_empty() {
                self.uv_poll_io(io_ready);
            } else if !stop_flag && !self.uv.idle_active {
                match self.uv_next_timeout() {
                    None => {
                        self.note_deadlock();
                        break;
                    }
                    Some(ms) => {
                        if !self.native_wait(ms) {
                            break;
                        }
                    }
                }
            }
            self.uv_update_time();
            self.uv_run_timers();
            if !self.charge_turn(steps_before) {
                break;
            }
        }
        self.uv.idle_active = false;
        self.uv.stopping = false;
        match self.uv.last_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `Loop._on_idle`: run the callbacks ready when it began; true when it calls
    /// `uv_stop` (the loop then ends this iteration).
    fn uv_on_idle(&mut self) -> bool {
        let ntodo = self.ready.len();
        for _ in 0..ntodo {
            let Some(handle) = self.ready.pop_front() else {
                break;
            };
            if self.is_cancelled_timer(&handle) {
                continue;
            }
            if self.limit.is_some() || !self.charge_step() {
                return false;
            }
            let started = self.clock_ns;
            let label = self.handle_label(&handle);
            if let Err(e) = self.run_handle(handle) {
                self.cite(cite!("uvloop.loop.base_exception.loop_runs_on"));
                self.uv_stop_with(Some(e));
                return false;
            }
            self.uv_check_slow(started, &label);
        }
        if self.ready.is_empty() {
            self.uv.idle_active = false;
        }
        self.uv.stopping
    }

    /// The poll's I/O callbacks, in the order epoll lists the sockets (any order).
    fn uv_poll_io(&mut self, mut ready: Vec<String>) {
        while !ready.is_empty() {
            let k = self.choose(ready.len());
            let name = ready.remove(k);
            if self.limit.is_some() || !self.charge_step() {
                return;
            }
            // A socket stopped reading by an earlier callback of this poll is skipped.
            if self.sockets[&name].reader.is_some() {
                self.uv_stream_io(&name);
            }
        }
    }

    /// `uv__next_timeout`: milliseconds to the first live timer, or None (wait forever).
    fn uv_next_timeout(&mut self) -> Option<i64> {
        self.uv_drop_cancelled_heads();
        let head = *self.scheduled.first()?;
        // libuv's `uv__next_timeout`: `if (diff > INT_MAX) diff = INT_MAX;` (one poll
        // waits at most about 24.8 days).
        let diff = (self.timers[head.0 as usize].when as i64 - self.uv.cached_ms).max(0);
        Some(diff.min(i64::from(i32::MAX)))
    }

    /// A cancelled TimerHandle stops its libuv timer: it leaves the heap at once.
    fn uv_drop_cancelled_heads(&mut self) {
        while let Some(&head) = self.scheduled.first() {
            if !self.timers[head.0 as usize].cancelled {
                break;
            }
            self.pop_timer();
        }
    }

    /// `uv__run_timers`: take every timer due at the cached time, then run each one
    /// directly (not through the ready queue).
    fn uv_run_timers(&mut self) {
        let mut due = Vec::new();
        loop {
            self.uv_drop_cancelled_heads();
            let Some(&head) = self.scheduled.first() else {
                break;
            };
            if self.timers[head.0 as usize].when as i64 > self.uv.cached_ms {
                break;
            }
            if let Some(id) = self.pop_timer() {
                due.push(id);
            }
        }
        for id in due {
            if self.timers[id.0 as usize].cancelled {
                continue;
            }
            if self.limit.is_some() || !self.charge_step() {
                return;
            }
            let started = self.clock_ns;
            let action = self.timers[id.0 as usize].action.clone();
            if let Err(e) = self.run_timer(action) {
                // `_handle_exception`: a BaseException is kept and the loop asked to stop.
                self.cite(cite!("uvloop.loop.base_exception.loop_runs_on"));
                self.uv.last_error = Some(e);
                self.uv_stop_with(None);
                continue;
            }
            self.uv_check_slow(started, "<TimerHandle>");
        }
    }

    /// Debug mode's slow-callback warning, measured with `time.monotonic()`; uvloop
    /// logs only durations strictly over the threshold.
    fn uv_check_slow(&mut self, started_ns: i64, label: &str) {
        if !self.debug {
            return;
        }
        let dt = (self.clock_ns - started_ns) as f64 / 1e9;
        if dt >= crate::asyncio::world::SLOW_CALLBACK_DURATION {
            // At exactly the threshold asyncio logs and uvloop does not.
            self.cite(cite!("uvloop.loop.debug.slow_callback_strictly_over"));
        }
        if dt > crate::asyncio::world::SLOW_CALLBACK_DURATION {
            self.log_slow_callback(label, dt);
        }
    }
}
