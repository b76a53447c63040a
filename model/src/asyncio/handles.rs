//! The loop's handles: `loop.call_soon`, `call_later` and `call_at` with a scenario's
//! callback, and what the program does with the handle (`cancel()`, `cancelled()`,
//! `when()`).
//!
//! Transcribes `events.Handle` / `TimerHandle` (`Lib/asyncio/events.py`): `_run` calls
//! the callback; `SystemExit` and `KeyboardInterrupt` leave the loop, any other
//! exception goes to the loop's exception handler as `Exception in callback ...` with
//! the keys `message`, `exception`, `handle`. The callback runs outside any task, so
//! nothing in it may await (the scenario is refused otherwise). Chapter:
//! `specs/asyncio/runners.toml` (`asyncio.runners.callbacks.*`).

use crate::asyncio::coroutine::{Frame, FrameOut, Input, UserFrame};
use crate::asyncio::world::{Escaped, TimerAction, TimerId, World};
use crate::core::profile::EventLoop;
use crate::core::scenario::Block;
use crate::core::value::{PyFloat, Value};

/// How a callback is scheduled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// `call_soon(cb)`.
    Soon,
    /// `call_later(delay, cb)`.
    Later(f64),
    /// `call_at(when, cb)`.
    At(f64),
}

impl World {
    /// Schedule a scenario's callback; the handle it returns.
    pub fn schedule_callback(&mut self, when: Schedule, callback: Block) -> TimerId {
        self.cite(cite!("asyncio.runners.callbacks.run_by_the_loop"));
        let action = TimerAction::Callback(callback);
        match when {
            Schedule::Soon => self.call_soon_timer(action),
            Schedule::Later(delay) => self.call_later(delay, action),
            Schedule::At(at) => self.call_at(at, action),
        }
    }

    /// `Handle._run`: the callback's statements, outside any task.
    pub(crate) fn run_user_callback(&mut self, block: Block) -> Result<(), Escaped> {
        let previous = self.current.take();
        let mut frame = Frame::User(UserFrame::new("<callback>", block));
        let out = self.resume_frame(&mut frame, Input::Start, false);
        self.handling.remove(&None);
        self.current = previous;
        match out {
            FrameOut::Return(_) => Ok(()),
            FrameOut::Raise(e)
                if self.exc_is(e, "KeyboardInterrupt") || self.exc_is(e, "SystemExit") =>
            {
                self.cite(cite!(
                    "asyncio.runners.callbacks.base_exception_leaves_loop"
                ));
                Err(e)
            }
            FrameOut::Raise(e) => {
                self.cite(cite!("asyncio.runners.callbacks.exception_reported"));
                self.call_exception_handler(
                    "Exception in callback <callback>".into(),
                    &["exception", "handle", "message"],
                    Some(e),
                    false,
                );
                Ok(())
            }
            // Validation refuses a callback that awaits; a step-limit stop lands here.
            _ => Ok(()),
        }
    }

    /// `handle.cancel()`: the callback will not run (returns None).
    pub fn handle_cancel(&mut self, h: TimerId) -> Value {
        self.cite(cite!("asyncio.runners.callbacks.cancel_before_run"));
        self.cancel_timer(h);
        Value::None
    }

    /// The TypeError's text for `handle.cancel(msg)`: asyncio's Python method, uvloop's
    /// Cython one and rloop's Rust one each say it their way.
    pub fn handle_cancel_arity_message(&mut self, h: TimerId) -> String {
        self.cite_handle_classes();
        let type_name = self.type_name(&crate::asyncio::world::Obj::Handle(h));
        let short = type_name
            .rsplit('.')
            .next()
            .unwrap_or(&type_name)
            .to_string();
        match self.profile.event_loop {
            EventLoop::Asyncio => {
                format!("{short}.cancel() takes 1 positional argument but 2 were given")
            }
            EventLoop::Uvloop => "cancel() takes exactly 0 positional arguments (1 given)".into(),
            EventLoop::Rloop => format!("{short}.cancel() takes no arguments (1 given)"),
        }
    }

    /// `handle.cancelled()`.
    pub fn handle_cancelled(&self, h: TimerId) -> bool {
        self.timers[h.0 as usize].cancelled
    }

    /// `timer_handle.when()`: the loop time it is due, as each loop keeps it (asyncio:
    /// the float it computed; uvloop: `timer.get_when() * 1e-3` from libuv's
    /// milliseconds; rloop: `when as f64 / 1_000_000.0` from its microseconds).
    pub fn handle_when(&self, h: TimerId) -> Value {
        let when = self.timers[h.0 as usize].when;
        let seconds = match self.profile.event_loop {
            EventLoop::Asyncio => when,
            EventLoop::Uvloop => when * 1e-3,
            EventLoop::Rloop => when / 1_000_000.0,
        };
        Value::Float(PyFloat(seconds))
    }
}
