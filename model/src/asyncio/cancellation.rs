//! Cancelling tasks: `Task.cancel()`, `uncancel()`, `cancelling()`.
//!
//! Transcribes `Task.cancel` and `Task.uncancel` from `Lib/asyncio/tasks.py`; the 3.13
//! change to `uncancel` is a profile switch. Chapter: `specs/asyncio/cancellation.toml`.

use crate::asyncio::world::{FutId, World};
use crate::core::trace::EventKind;
use crate::core::value::Value;

impl World {
    /// `Task.cancel(msg)`.
    pub fn task_cancel(&mut self, t: FutId, msg: Option<Value>) -> bool {
        self.clear_log_traceback_on_cancel(t);
        if self.done(t) {
            self.cite(cite!("asyncio.cancellation.cancel.returns_false_when_done"));
            self.cite(cite!("asyncio.futures.cancel.returns_false_when_done"));
            return false;
        }
        let name = self.fut(t).name.clone();
        self.emit(EventKind::CancelRequest {
            target: name,
            msg: msg.as_ref().map(Value::message_text),
        });
        self.cite(cite!(
            "asyncio.cancellation.cancel.returns_true_when_pending"
        ));
        self.task_mut(t).num_cancels_requested += 1;
        if let Some(waiter) = self.task(t).fut_waiter {
            if self.is_task(waiter) {
                self.cite(cite!("asyncio.cancellation.cancel.awaited_task_cancelled"));
            } else {
                self.cite(cite!(
                    "asyncio.cancellation.cancel.awaited_future_cancelled"
                ));
            }
            if self.cancel(waiter, msg.clone()) {
                // The waiter may be a task that ignores the cancellation; keep it.
                return true;
            }
        }
        self.cite(cite!("asyncio.cancellation.cancel.thrown_next_cycle"));
        let ts = self.task_mut(t);
        ts.must_cancel = true;
        ts.cancel_message = msg.clone();
        // `self._cancel_message` is the future's attribute: _make_cancelled_error reads it.
        self.fut_mut(t).cancel_message = msg;
        true
    }

    /// `Task.uncancel()`.
    pub fn task_uncancel(&mut self, t: FutId) -> u32 {
        let rescinds = self.profile.uncancel_rescinds_must_cancel();
        let done = self.done(t);
        let ts = self.task_mut(t);
        if ts.num_cancels_requested > 0 {
            ts.num_cancels_requested -= 1;
            if ts.num_cancels_requested == 0 && rescinds {
                let had_pending = ts.must_cancel;
                ts.must_cancel = false;
                if had_pending {
                    self.cite(cite!(
                        "asyncio.cancellation.uncancel.rescinds_pending_at_zero"
                    ));
                }
            } else if ts.num_cancels_requested == 0 && ts.must_cancel {
                self.cite(cite!(
                    "asyncio.cancellation.uncancel.keeps_pending_before_3_13"
                ));
            }
            self.cite(cite!("asyncio.cancellation.uncancel.decrements"));
        }
        if done {
            self.cite(cite!(
                "asyncio.cancellation.uncancel.ineffective_after_done"
            ));
        }
        self.task(t).num_cancels_requested
    }

    /// `Task.cancelling()`.
    pub fn task_cancelling(&mut self, t: FutId) -> u32 {
        self.cite(cite!("asyncio.cancellation.cancelling.counts_requests"));
        self.task(t).num_cancels_requested
    }
}
