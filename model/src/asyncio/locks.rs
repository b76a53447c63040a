//! asyncio's synchronization primitives: `Lock`, `Event`, `Condition`, `Semaphore`,
//! `BoundedSemaphore` and `Barrier`, and the three statements (`sync_new`, `sync_call`,
//! `sync_await`) that make and use them and the queues of [`crate::asyncio::queues`].
//!
//! Transcribes `Lib/asyncio/locks.py`, one function per method, its steps in the
//! source's order. A coroutine method is a [`LockFrame`]: it parks its task on a waiter
//! future (`await fut`), or calls another coroutine (`await self.acquire()`) by pushing
//! that one's frame. Chapter: `specs/asyncio/sync.toml`.
//!
//! Versions: 3.11.7 and 3.12.1 ship the same `locks.py` (3.12 drops an unused import).
//! 3.13.0 rewrote `Condition.wait` (the most recent CancelledError is re-raised, and a
//! waiter that raises after being notified passes the notification on: gh-111693,
//! gh-112202) and `Semaphore.acquire` (a woken waiter that is cancelled gives its unit
//! back, and every acquire that returns or raises wakes as many waiters as the counter
//! allows: gh-111693). The [`crate::core::profile::Profile`] methods
//! `condition_wait_passes_notification_on` and `semaphore_wakes_all_allowed` choose.
//!
//! Left out: `_LoopBoundMixin._get_loop`'s "is bound to a different event loop"
//! RuntimeError: a scenario has one event loop (the prelude has none and may not make
//! primitives), so no program in the language can use a primitive from a second loop.
//! `Condition.wait_for(predicate)` is modelled only with Barrier's own predicates; the
//! language has no callables.

use crate::asyncio::coroutine::{Awaiting, Exec, Frame, FrameOut, Input, Signal, UserFrame};
use crate::asyncio::queues::QueueState;
use crate::asyncio::world::{FutId, Obj, World};
use crate::core::exception::ExcId;
use crate::core::scenario::{Stmt, SyncAwaitMethod, SyncKind, SyncMethod};
use crate::core::value::Value;
use std::collections::VecDeque;

/// Index of a primitive or queue in the world's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncId(pub u32);

/// One primitive or queue.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncObj {
    /// Its variable (or `b._cond`, `q._finished` for the ones a library object makes):
    /// names its waiter futures in the trace.
    pub name: String,
    /// Its class.
    pub kind: SyncKind,
    /// Its fields.
    pub state: SyncState,
}

/// The fields of each class.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncState {
    /// `Lock`: `_locked`, `_waiters`.
    Lock {
        /// `_locked`.
        locked: bool,
        /// `_waiters` (None and empty behave alike in every use).
        waiters: VecDeque<FutId>,
    },
    /// `Event`: `_value`, `_waiters`.
    Event {
        /// `_value`.
        value: bool,
        /// `_waiters`.
        waiters: VecDeque<FutId>,
    },
    /// `Condition`: its lock and `_waiters`.
    Condition {
        /// The object whose `locked`, `acquire` and `release` it exports: a Lock or
        /// Semaphore (a Condition given as the lock exports its own lock's, so this is
        /// always the innermost one).
        lock: SyncId,
        /// `_waiters`.
        waiters: VecDeque<FutId>,
    },
    /// `Semaphore` and `BoundedSemaphore`: `_value`, `_waiters`, `_bound_value`.
    Semaphore {
        /// `_value`.
        value: i64,
        /// `_waiters`.
        waiters: VecDeque<FutId>,
        /// `_bound_value` (BoundedSemaphore only).
        bound: Option<i64>,
    },
    /// `Barrier`: `_cond`, `_parties`, `_state`, `_count`.
    Barrier {
        /// `_cond`.
        cond: SyncId,
        /// `_parties`.
        parties: i64,
        /// `_state`.
        state: BarrierState,
        /// `_count`.
        count: i64,
    },
    /// `Queue`, `PriorityQueue`, `LifoQueue`.
    Queue(QueueState),
}

/// `_BarrierState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarrierState {
    /// `FILLING`.
    Filling,
    /// `DRAINING`.
    Draining,
    /// `RESETTING`.
    Resetting,
    /// `BROKEN`.
    Broken,
}

/// The predicates Barrier hands to `Condition.wait_for`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarrierPredicate {
    /// `_block`: `self._state not in (DRAINING, RESETTING)`.
    NotDrainingOrResetting,
    /// `_wait`: `self._state is not FILLING`.
    NotFilling,
}

/// A coroutine method of a primitive, as a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum LockFrame {
    /// `Lock.acquire()`.
    LockAcquire {
        /// The lock.
        lock: SyncId,
        /// `fut`, once made.
        fut: Option<FutId>,
    },
    /// `Semaphore.acquire()`.
    SemaphoreAcquire {
        /// The semaphore.
        sem: SyncId,
        /// `fut`, once made.
        fut: Option<FutId>,
    },
    /// `Event.wait()`.
    EventWait {
        /// The event.
        event: SyncId,
        /// `fut`, once made.
        fut: Option<FutId>,
    },
    /// `Condition.wait()`.
    ConditionWait {
        /// The condition.
        cond: SyncId,
        /// Where it is.
        phase: ConditionWaitPhase,
    },
    /// `barrier._cond.wait_for(predicate)`.
    ConditionWaitFor {
        /// The barrier whose state the predicate reads.
        barrier: SyncId,
        /// The predicate.
        predicate: BarrierPredicate,
        /// Past the first test.
        started: bool,
    },
    /// `Barrier.wait()` (with `_block`, `_release`, `_wait` and `_exit` inline: they
    /// only call `wait_for` and change state).
    BarrierWait {
        /// The barrier.
        barrier: SyncId,
        /// Where it is.
        phase: BarrierWaitPhase,
    },
    /// `Barrier.reset()` or `Barrier.abort()`: `async with self._cond:` around a state
    /// change and `notify_all()`.
    BarrierChange {
        /// The barrier.
        barrier: SyncId,
        /// `abort()` (else `reset()`).
        abort: bool,
        /// `self._cond.acquire()` was called.
        entered: bool,
    },
}

/// Where `Condition.wait()` is.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionWaitPhase {
    /// Not started.
    Start,
    /// `await fut`.
    Waiting(FutId),
    /// The `finally`: `await self.acquire()` in a loop until it succeeds, then go on with
    /// `pending` (the return or the exception of the wait); `err` is the last
    /// CancelledError the re-acquire raised.
    Reacquiring {
        /// How the wait itself ended.
        pending: Result<Value, ExcId>,
        /// `cancelled` (3.11/3.12) / `err` (3.13).
        err: Option<ExcId>,
    },
}

/// Where `Barrier.wait()` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarrierWaitPhase {
    /// Not started.
    Start,
    /// `async with self._cond:` acquiring.
    Entering,
    /// `await self._block()`.
    Blocking,
    /// `await self._wait()`, as the task at `index`.
    Waiting(i64),
}

impl World {
    // ----- the arena ---------------------------------------------------------------

    /// The primitive or queue with this id.
    pub fn sync(&self, id: SyncId) -> &SyncObj {
        &self.syncs[id.0 as usize]
    }

    /// The primitive or queue with this id, mutably.
    pub fn sync_mut(&mut self, id: SyncId) -> &mut SyncObj {
        &mut self.syncs[id.0 as usize]
    }

    fn push_sync(&mut self, name: String, kind: SyncKind, state: SyncState) -> SyncId {
        self.syncs.push(SyncObj { name, kind, state });
        SyncId(self.syncs.len() as u32 - 1)
    }

    /// `Lock()`.
    fn lock_new(&mut self, name: String) -> SyncId {
        self.push_sync(
            name,
            SyncKind::Lock,
            SyncState::Lock {
                locked: false,
                waiters: VecDeque::new(),
            },
        )
    }

    /// `Event()`.
    pub(crate) fn event_new(&mut self, name: String) -> SyncId {
        self.push_sync(
            name,
            SyncKind::Event,
            SyncState::Event {
                value: false,
                waiters: VecDeque::new(),
            },
        )
    }

    /// The waiters deque of a Lock, Event, Condition or Semaphore.
    fn waiters_mut(&mut self, id: SyncId) -> &mut VecDeque<FutId> {
        match &mut self.sync_mut(id).state {
            SyncState::Lock { waiters, .. }
            | SyncState::Event { waiters, .. }
            | SyncState::Condition { waiters, .. }
            | SyncState::Semaphore { waiters, .. } => waiters,
            other => panic!("model invariant: {other:?} has no _waiters"),
        }
    }

    fn waiters(&self, id: SyncId) -> Vec<FutId> {
        match &self.sync(id).state {
            SyncState::Lock { waiters, .. }
            | SyncState::Event { waiters, .. }
            | SyncState::Condition { waiters, .. }
            | SyncState::Semaphore { waiters, .. } => waiters.iter().copied().collect(),
            other => panic!("model invariant: {other:?} has no _waiters"),
        }
    }

    /// `self._waiters.remove(fut)`: every caller removes the future it added itself.
    fn waiters_remove(&mut self, id: SyncId, fut: FutId) {
        let waiters = self.waiters_mut(id);
        let at = waiters.iter().position(|w| *w == fut);
        debug_assert!(at.is_some(), "a waiter removes its own future once");
        if let Some(at) = at {
            waiters.remove(at);
        }
    }

    /// A waiter future for `id` (`self._get_loop().create_future()`), appended to its
    /// `_waiters`.
    fn waiter_future(&mut self, id: SyncId) -> FutId {
        let name = format!("{} waiter", self.sync(id).name);
        let f = self.new_future(&name);
        self.waiters_mut(id).push_back(f);
        f
    }

    /// What `await fut` gave, after the task resumed with `input`.
    fn await_outcome(&mut self, fut: FutId, input: Input) -> Result<Value, ExcId> {
        match input {
            Input::Throw(e) => Err(e),
            Input::Start | Input::Send(_) => self.future_result(fut),
        }
    }

    fn is_cancelled_error(&self, e: ExcId) -> bool {
        self.exc_is(e, "asyncio.CancelledError")
    }

    /// `AttributeError: 'Lock' object has no attribute 'set'`.
    pub(crate) fn no_attribute(&mut self, id: SyncId, name: &str) -> ExcId {
        let class = self.sync(id).kind.class_name();
        self.new_exc(
            "AttributeError",
            vec![Value::Str(format!(
                "'{class}' object has no attribute '{name}'"
            ))],
        )
    }

    // ----- Lock --------------------------------------------------------------------

    fn lock_locked_field(&self, lock: SyncId) -> bool {
        match &self.sync(lock).state {
            SyncState::Lock { locked, .. } => *locked,
            other => panic!("model invariant: {other:?} is not a Lock"),
        }
    }

    fn lock_set_locked(&mut self, lock: SyncId, value: bool) {
        match &mut self.sync_mut(lock).state {
            SyncState::Lock { locked, .. } => *locked = value,
            other => panic!("model invariant: {other:?} is not a Lock"),
        }
    }

    /// `Lock.locked()`.
    fn lock_locked(&mut self, lock: SyncId) -> bool {
        self.cite(cite!("asyncio.sync.lock.locked.returns_state"));
        self.lock_locked_field(lock)
    }

    /// `Lock.acquire()`.
    fn lock_acquire(&mut self, lock: SyncId, fut: &mut Option<FutId>, input: Input) -> FrameOut {
        let Some(f) = *fut else {
            if let Input::Throw(e) = input {
                return FrameOut::Raise(e);
            }
            let waiters = self.waiters(lock);
            if !self.lock_locked_field(lock) && waiters.iter().all(|w| self.cancelled(*w)) {
                self.cite(cite!("asyncio.sync.lock.acquire.unlocked_returns_true"));
                if !waiters.is_empty() {
                    self.cite(cite!("asyncio.sync.lock.acquire.jumps_cancelled_waiters"));
                }
                self.lock_set_locked(lock, true);
                return FrameOut::Return(Value::Bool(true));
            }
            self.cite(cite!("asyncio.sync.lock.acquire.fair"));
            let f = self.waiter_future(lock);
            *fut = Some(f);
            return FrameOut::Yield(f);
        };
        let r = self.await_outcome(f, input);
        // `finally: self._waiters.remove(fut)` runs before the `except`.
        self.waiters_remove(lock, f);
        match r {
            Ok(_) => {
                self.cite(cite!("asyncio.sync.lock.acquire.unlocked_returns_true"));
                self.lock_set_locked(lock, true);
                FrameOut::Return(Value::Bool(true))
            }
            Err(e) if self.is_cancelled_error(e) => {
                if !self.lock_locked_field(lock) {
                    self.cite(cite!("asyncio.sync.lock.acquire.cancelled_wakes_next"));
                    self.lock_wake_up_first(lock);
                }
                FrameOut::Raise(e)
            }
            Err(e) => FrameOut::Raise(e),
        }
    }

    /// `Lock.release()`.
    fn lock_release(&mut self, lock: SyncId) -> Result<Value, ExcId> {
        if self.lock_locked_field(lock) {
            self.cite(cite!("asyncio.sync.lock.release.wakes_one"));
            self.lock_set_locked(lock, false);
            self.lock_wake_up_first(lock);
            Ok(Value::None)
        } else {
            self.cite(cite!("asyncio.sync.lock.release.unlocked_runtime_error"));
            Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str("Lock is not acquired.".into())],
            ))
        }
    }

    /// `Lock._wake_up_first()`: the first waiter, unless it is already done.
    fn lock_wake_up_first(&mut self, lock: SyncId) {
        let Some(&fut) = self.waiters_mut(lock).front() else {
            return;
        };
        if !self.done(fut) {
            self.cite(cite!("asyncio.sync.lock.wake_up_first.only_if_not_done"));
            self.future_set_result(fut, Value::Bool(true));
        }
    }

    // ----- what a Condition exports: a Lock's or a Semaphore's methods -------------

    /// `lock.locked()` of a Condition's lock.
    fn lock_like_locked(&mut self, id: SyncId) -> bool {
        match self.sync(id).kind {
            SyncKind::Lock => self.lock_locked(id),
            _ => self.semaphore_locked(id),
        }
    }

    /// `lock.release()` of a Condition's lock.
    fn lock_like_release(&mut self, id: SyncId) -> Result<Value, ExcId> {
        match self.sync(id).kind {
            SyncKind::Lock => self.lock_release(id),
            _ => self.semaphore_release(id),
        }
    }

    /// A frame running `lock.acquire()` of a Condition's lock.
    fn lock_like_acquire_frame(&self, id: SyncId) -> Frame {
        match self.sync(id).kind {
            SyncKind::Lock => Frame::Lock(LockFrame::LockAcquire {
                lock: id,
                fut: None,
            }),
            _ => Frame::Lock(LockFrame::SemaphoreAcquire { sem: id, fut: None }),
        }
    }

    fn condition_lock(&self, cond: SyncId) -> SyncId {
        match &self.sync(cond).state {
            SyncState::Condition { lock, .. } => *lock,
            other => panic!("model invariant: {other:?} is not a Condition"),
        }
    }

    // ----- Event -------------------------------------------------------------------

    fn event_value(&self, event: SyncId) -> bool {
        match &self.sync(event).state {
            SyncState::Event { value, .. } => *value,
            other => panic!("model invariant: {other:?} is not an Event"),
        }
    }

    fn event_set_value(&mut self, event: SyncId, v: bool) {
        match &mut self.sync_mut(event).state {
            SyncState::Event { value, .. } => *value = v,
            other => panic!("model invariant: {other:?} is not an Event"),
        }
    }

    /// `Event.is_set()`.
    fn event_is_set(&mut self, event: SyncId) -> bool {
        self.cite(cite!("asyncio.sync.event.is_set.returns_flag"));
        self.event_value(event)
    }

    /// `Event.set()`: every waiter whose future is not done is woken.
    pub(crate) fn event_set(&mut self, event: SyncId) {
        if !self.event_value(event) {
            self.event_set_value(event, true);
            self.cite(cite!("asyncio.sync.event.set.wakes_all"));
            for fut in self.waiters(event) {
                if !self.done(fut) {
                    self.future_set_result(fut, Value::Bool(true));
                }
            }
        }
    }

    /// `Event.clear()`.
    pub(crate) fn event_clear(&mut self, event: SyncId) {
        self.cite(cite!("asyncio.sync.event.clear.later_waits_block"));
        self.event_set_value(event, false);
    }

    /// `Event.wait()`.
    fn event_wait(&mut self, event: SyncId, fut: &mut Option<FutId>, input: Input) -> FrameOut {
        let Some(f) = *fut else {
            if let Input::Throw(e) = input {
                return FrameOut::Raise(e);
            }
            if self.event_value(event) {
                self.cite(cite!("asyncio.sync.event.wait.returns_true_when_set"));
                return FrameOut::Return(Value::Bool(true));
            }
            let f = self.waiter_future(event);
            *fut = Some(f);
            return FrameOut::Yield(f);
        };
        let r = self.await_outcome(f, input);
        self.waiters_remove(event, f);
        match r {
            Ok(_) => {
                self.cite(cite!("asyncio.sync.event.wait.returns_true_when_set"));
                FrameOut::Return(Value::Bool(true))
            }
            Err(e) => FrameOut::Raise(e),
        }
    }

    // ----- Condition -----------------------------------------------------------------

    /// `Condition(lock)`: `self.locked = lock.locked` etc. take the lock's methods; an
    /// object without them fails there.
    fn condition_new(&mut self, name: String, lock: Option<SyncId>) -> Result<SyncId, ExcId> {
        let lock = match lock {
            None => self.lock_new(format!("{name}._lock")),
            Some(id) => match self.sync(id).kind {
                SyncKind::Lock | SyncKind::Semaphore | SyncKind::BoundedSemaphore => id,
                SyncKind::Condition => self.condition_lock(id),
                _ => return Err(self.no_attribute(id, "locked")),
            },
        };
        self.cite(cite!("asyncio.sync.condition.lock.given_or_new"));
        Ok(self.push_sync(
            name,
            SyncKind::Condition,
            SyncState::Condition {
                lock,
                waiters: VecDeque::new(),
            },
        ))
    }

    /// `Condition.notify(n)`.
    fn condition_notify(&mut self, cond: SyncId, n: i64) -> Result<Value, ExcId> {
        let lock = self.condition_lock(cond);
        if !self.lock_like_locked(lock) {
            self.cite(cite!(
                "asyncio.sync.condition.notify.unlocked_runtime_error"
            ));
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str("cannot notify on un-acquired lock".into())],
            ));
        }
        self.condition_notify_unchecked(cond, n);
        Ok(Value::None)
    }

    /// The loop of `notify` (3.13's `_notify`): the first `n` waiters not yet done.
    fn condition_notify_unchecked(&mut self, cond: SyncId, n: i64) {
        self.cite(cite!("asyncio.sync.condition.notify.wakes_n"));
        let mut idx = 0;
        for fut in self.waiters(cond) {
            if idx >= n {
                break;
            }
            if !self.done(fut) {
                idx += 1;
                self.future_set_result(fut, Value::Bool(false));
            }
        }
    }

    /// `Condition.notify_all()`: `self.notify(len(self._waiters))`.
    fn condition_notify_all(&mut self, cond: SyncId) -> Result<Value, ExcId> {
        self.cite(cite!("asyncio.sync.condition.notify_all.wakes_all"));
        let n = self.waiters(cond).len() as i64;
        self.condition_notify(cond, n)
    }

    /// `Condition.wait()`.
    fn condition_wait(
        &mut self,
        cond: SyncId,
        phase: &mut ConditionWaitPhase,
        input: Input,
    ) -> FrameOut {
        let lock = self.condition_lock(cond);
        match phase.clone() {
            ConditionWaitPhase::Start => {
                if let Input::Throw(e) = input {
                    return FrameOut::Raise(e);
                }
                if !self.lock_like_locked(lock) {
                    self.cite(cite!("asyncio.sync.condition.wait.unlocked_runtime_error"));
                    return FrameOut::Raise(self.new_exc(
                        "RuntimeError",
                        vec![Value::Str("cannot wait on un-acquired lock".into())],
                    ));
                }
                // 3.13 makes the future before `self.release()`, 3.11/3.12 after it;
                // nothing can see the difference. A failing release (a bounded semaphore
                // as the lock) raises before the `try`.
                if let Err(e) = self.lock_like_release(lock) {
                    return FrameOut::Raise(e);
                }
                self.cite(cite!("asyncio.sync.condition.wait.releases_and_reacquires"));
                let f = self.waiter_future(cond);
                *phase = ConditionWaitPhase::Waiting(f);
                FrameOut::Yield(f)
            }
            ConditionWaitPhase::Waiting(f) => {
                let r = self.await_outcome(f, input).map(|_| Value::Bool(true));
                // `finally: self._waiters.remove(fut)`, then the outer `finally`.
                self.waiters_remove(cond, f);
                self.cite(cite!(
                    "asyncio.sync.condition.wait.reacquires_even_if_cancelled"
                ));
                *phase = ConditionWaitPhase::Reacquiring {
                    pending: r,
                    err: None,
                };
                FrameOut::Push(self.lock_like_acquire_frame(lock))
            }
            ConditionWaitPhase::Reacquiring { pending, err } => match input {
                Input::Throw(e) if self.is_cancelled_error(e) => {
                    // `except exceptions.CancelledError`: remember it, try again.
                    self.cite(cite!(
                        "asyncio.sync.condition.wait.reacquires_even_if_cancelled"
                    ));
                    *phase = ConditionWaitPhase::Reacquiring {
                        pending,
                        err: Some(e),
                    };
                    FrameOut::Push(self.lock_like_acquire_frame(lock))
                }
                // Any other error from acquire() leaves the loop and replaces what the
                // wait was doing.
                Input::Throw(e) => self.condition_wait_leave(cond, Err(e)),
                Input::Start | Input::Send(_) => {
                    let out = match err {
                        None => pending,
                        Some(e) if self.profile.condition_wait_passes_notification_on() => {
                            self.cite(cite!(
                                "asyncio.sync.condition.wait.reraises_last_cancel_3_13"
                            ));
                            Err(e)
                        }
                        Some(_) => {
                            // `raise exceptions.CancelledError`: a new instance.
                            self.cite(cite!(
                                "asyncio.sync.condition.wait.fresh_cancelled_error_3_11"
                            ));
                            Err(self.new_exc("asyncio.CancelledError", Vec::new()))
                        }
                    };
                    self.condition_wait_leave(cond, out)
                }
            },
        }
    }

    /// The end of `Condition.wait()`; 3.13's `except BaseException: self._notify(1)`.
    fn condition_wait_leave(&mut self, cond: SyncId, out: Result<Value, ExcId>) -> FrameOut {
        match out {
            Ok(v) => FrameOut::Return(v),
            Err(e) => {
                if self.profile.condition_wait_passes_notification_on() {
                    self.cite(cite!(
                        "asyncio.sync.condition.wait.error_notifies_next_3_13"
                    ));
                    self.condition_notify_unchecked(cond, 1);
                }
                FrameOut::Raise(e)
            }
        }
    }

    // ----- Semaphore and BoundedSemaphore -------------------------------------------

    fn semaphore_value(&self, sem: SyncId) -> i64 {
        match &self.sync(sem).state {
            SyncState::Semaphore { value, .. } => *value,
            other => panic!("model invariant: {other:?} is not a Semaphore"),
        }
    }

    fn semaphore_add(&mut self, sem: SyncId, delta: i64) {
        match &mut self.sync_mut(sem).state {
            SyncState::Semaphore { value, .. } => *value += delta,
            other => panic!("model invariant: {other:?} is not a Semaphore"),
        }
    }

    /// `Semaphore(value)` / `BoundedSemaphore(value)`.
    fn semaphore_new(&mut self, name: String, kind: SyncKind, value: i64) -> Result<SyncId, ExcId> {
        if value < 0 {
            self.cite(cite!("asyncio.sync.semaphore.new.negative_value_error"));
            return Err(self.new_exc(
                "ValueError",
                vec![Value::Str("Semaphore initial value must be >= 0".into())],
            ));
        }
        let bound = (kind == SyncKind::BoundedSemaphore).then_some(value);
        Ok(self.push_sync(
            name,
            kind,
            SyncState::Semaphore {
                value,
                waiters: VecDeque::new(),
                bound,
            },
        ))
    }

    /// `Semaphore.locked()`: the counter is zero, or a waiter that is not cancelled is
    /// queued (a newcomer waits its turn).
    fn semaphore_locked(&mut self, sem: SyncId) -> bool {
        self.cite(cite!("asyncio.sync.semaphore.locked.cannot_acquire_now"));
        let waiting = self.waiters(sem).iter().any(|w| !self.cancelled(*w));
        if self.semaphore_value(sem) != 0 && waiting {
            self.cite(cite!("asyncio.sync.semaphore.acquire.waits_behind_waiters"));
        }
        self.semaphore_value(sem) == 0 || waiting
    }

    /// `Semaphore.acquire()`.
    fn semaphore_acquire(
        &mut self,
        sem: SyncId,
        fut: &mut Option<FutId>,
        input: Input,
    ) -> FrameOut {
        let Some(f) = *fut else {
            if let Input::Throw(e) = input {
                return FrameOut::Raise(e);
            }
            if !self.semaphore_locked(sem) {
                self.cite(cite!("asyncio.sync.semaphore.acquire.decrements_or_waits"));
                self.semaphore_add(sem, -1);
                return FrameOut::Return(Value::Bool(true));
            }
            let f = self.waiter_future(sem);
            *fut = Some(f);
            return FrameOut::Yield(f);
        };
        let r = self.await_outcome(f, input);
        self.waiters_remove(sem, f);
        let wake_all = self.profile.semaphore_wakes_all_allowed();
        let out = match r {
            Err(e) if self.is_cancelled_error(e) => {
                if wake_all {
                    if self.done(f) && !self.cancelled(f) {
                        // Woken by `_wake_up_next()`, which counted this waiter in:
                        // undo that; the `finally` wakes someone else.
                        self.cite(cite!(
                            "asyncio.sync.semaphore.acquire.cancelled_after_wakeup_3_13"
                        ));
                        self.semaphore_add(sem, 1);
                    }
                } else if !self.cancelled(f) {
                    self.cite(cite!(
                        "asyncio.sync.semaphore.acquire.cancelled_after_wakeup_3_11"
                    ));
                    self.semaphore_add(sem, 1);
                    self.semaphore_wake_up_next(sem);
                }
                FrameOut::Raise(e)
            }
            Err(e) => FrameOut::Raise(e),
            Ok(_) => {
                self.cite(cite!("asyncio.sync.semaphore.acquire.decrements_or_waits"));
                if !wake_all && self.semaphore_value(sem) > 0 {
                    self.cite(cite!("asyncio.sync.semaphore.acquire.wakes_one_more_3_11"));
                    self.semaphore_wake_up_next(sem);
                }
                FrameOut::Return(Value::Bool(true))
            }
        };
        if wake_all {
            // `finally: while self._value > 0: if not self._wake_up_next(): break`;
            // each turn wakes one waiter or stops, so it ends within len(_waiters) + 1.
            let bound = self.waiters(sem).len() + 1;
            for _ in 0..bound {
                if self.semaphore_value(sem) <= 0 {
                    break;
                }
                self.cite(cite!(
                    "asyncio.sync.semaphore.acquire.wakes_all_allowed_3_13"
                ));
                if !self.semaphore_wake_up_next(sem) {
                    break;
                }
            }
        }
        out
    }

    /// `Semaphore.release()` (and `BoundedSemaphore.release()`'s check first).
    fn semaphore_release(&mut self, sem: SyncId) -> Result<Value, ExcId> {
        let bound = match &self.sync(sem).state {
            SyncState::Semaphore { bound, .. } => *bound,
            other => panic!("model invariant: {other:?} is not a Semaphore"),
        };
        if let Some(bound) = bound {
            if self.semaphore_value(sem) >= bound {
                self.cite(cite!(
                    "asyncio.sync.bounded_semaphore.release.over_release_value_error"
                ));
                return Err(self.new_exc(
                    "ValueError",
                    vec![Value::Str(
                        "BoundedSemaphore released too many times".into(),
                    )],
                ));
            }
        }
        self.cite(cite!("asyncio.sync.semaphore.release.increments_and_wakes"));
        self.semaphore_add(sem, 1);
        self.semaphore_wake_up_next(sem);
        Ok(Value::None)
    }

    /// `Semaphore._wake_up_next()`: the first waiter not yet done takes a unit now.
    fn semaphore_wake_up_next(&mut self, sem: SyncId) -> bool {
        for fut in self.waiters(sem) {
            if !self.done(fut) {
                self.cite(cite!("asyncio.sync.semaphore.wake_up_next.first_not_done"));
                self.semaphore_add(sem, -1);
                self.future_set_result(fut, Value::Bool(true));
                return true;
            }
        }
        false
    }

    // ----- Barrier -------------------------------------------------------------------

    fn barrier_fields(&self, barrier: SyncId) -> (SyncId, i64, BarrierState, i64) {
        match &self.sync(barrier).state {
            SyncState::Barrier {
                cond,
                parties,
                state,
                count,
            } => (*cond, *parties, *state, *count),
            other => panic!("model invariant: {other:?} is not a Barrier"),
        }
    }

    fn barrier_set(&mut self, barrier: SyncId, new_state: Option<BarrierState>, count_delta: i64) {
        match &mut self.sync_mut(barrier).state {
            SyncState::Barrier { state, count, .. } => {
                if let Some(s) = new_state {
                    *state = s;
                }
                *count += count_delta;
            }
            other => panic!("model invariant: {other:?} is not a Barrier"),
        }
    }

    /// `Barrier(parties)`.
    fn barrier_new(&mut self, name: String, parties: i64) -> Result<SyncId, ExcId> {
        if parties < 1 {
            self.cite(cite!("asyncio.sync.barrier.new.parties_value_error"));
            return Err(self.new_exc("ValueError", vec![Value::Str("parties must be > 0".into())]));
        }
        let cond = self.condition_new(format!("{name}._cond"), None)?;
        Ok(self.push_sync(
            name,
            SyncKind::Barrier,
            SyncState::Barrier {
                cond,
                parties,
                state: BarrierState::Filling,
                count: 0,
            },
        ))
    }

    fn barrier_predicate(&self, barrier: SyncId, predicate: BarrierPredicate) -> bool {
        let (_, _, state, _) = self.barrier_fields(barrier);
        match predicate {
            BarrierPredicate::NotDrainingOrResetting => {
                !matches!(state, BarrierState::Draining | BarrierState::Resetting)
            }
            BarrierPredicate::NotFilling => state != BarrierState::Filling,
        }
    }

    /// `self._cond.wait_for(predicate)`: wait until it holds; returns its value.
    fn condition_wait_for(
        &mut self,
        barrier: SyncId,
        predicate: BarrierPredicate,
        started: &mut bool,
        input: Input,
    ) -> FrameOut {
        if let Input::Throw(e) = input {
            return FrameOut::Raise(e);
        }
        *started = true;
        if self.barrier_predicate(barrier, predicate) {
            return FrameOut::Return(Value::Bool(true));
        }
        let (cond, ..) = self.barrier_fields(barrier);
        FrameOut::Push(Frame::Lock(LockFrame::ConditionWait {
            cond,
            phase: ConditionWaitPhase::Start,
        }))
    }

    /// `Barrier.wait()`.
    fn barrier_wait(
        &mut self,
        barrier: SyncId,
        phase: &mut BarrierWaitPhase,
        input: Input,
    ) -> FrameOut {
        let (cond, parties, _, _) = self.barrier_fields(barrier);
        let lock = self.condition_lock(cond);
        match *phase {
            BarrierWaitPhase::Start => {
                if let Input::Throw(e) = input {
                    return FrameOut::Raise(e);
                }
                // `async with self._cond:` awaits `self._cond.acquire()`.
                *phase = BarrierWaitPhase::Entering;
                FrameOut::Push(self.lock_like_acquire_frame(lock))
            }
            BarrierWaitPhase::Entering => match input {
                Input::Throw(e) => FrameOut::Raise(e),
                Input::Start | Input::Send(_) => {
                    self.cite(cite!("asyncio.sync.barrier.wait.blocks_while_draining"));
                    *phase = BarrierWaitPhase::Blocking;
                    FrameOut::Push(Frame::Lock(LockFrame::ConditionWaitFor {
                        barrier,
                        predicate: BarrierPredicate::NotDrainingOrResetting,
                        started: false,
                    }))
                }
            },
            BarrierWaitPhase::Blocking => match input {
                // Raised by `_block()`, before the `try`: only `__aexit__` runs.
                Input::Throw(e) => self.barrier_aexit(lock, Err(e)),
                Input::Start | Input::Send(_) => {
                    let (_, _, state, count) = self.barrier_fields(barrier);
                    if state == BarrierState::Broken {
                        self.cite(cite!("asyncio.sync.barrier.wait.broken_raises"));
                        let e = self.new_exc(
                            "asyncio.BrokenBarrierError",
                            vec![Value::Str("Barrier aborted".into())],
                        );
                        return self.barrier_aexit(lock, Err(e));
                    }
                    // `index = self._count`: a task that left lowered the count, so
                    // a later party can get an index a waiter already holds.
                    self.cite(cite!("asyncio.sync.barrier.wait.index_is_count_on_entry"));
                    let index = count;
                    self.barrier_set(barrier, None, 1);
                    if index + 1 == parties {
                        // `_release()`: drain.
                        self.cite(cite!("asyncio.sync.barrier.wait.last_party_releases_all"));
                        self.barrier_set(barrier, Some(BarrierState::Draining), 0);
                        let r = self.condition_notify_all(cond).map(|_| Value::Int(index));
                        self.barrier_wait_finally(barrier, lock, r)
                    } else {
                        *phase = BarrierWaitPhase::Waiting(index);
                        FrameOut::Push(Frame::Lock(LockFrame::ConditionWaitFor {
                            barrier,
                            predicate: BarrierPredicate::NotFilling,
                            started: false,
                        }))
                    }
                }
            },
            BarrierWaitPhase::Waiting(index) => match input {
                Input::Throw(e) => {
                    if self.is_cancelled_error(e) {
                        self.cite(cite!("asyncio.sync.barrier.wait.cancelled_leaves"));
                    }
                    self.barrier_wait_finally(barrier, lock, Err(e))
                }
                Input::Start | Input::Send(_) => {
                    let (_, _, state, _) = self.barrier_fields(barrier);
                    let r = if matches!(state, BarrierState::Broken | BarrierState::Resetting) {
                        self.cite(cite!("asyncio.sync.barrier.wait.broken_raises"));
                        Err(self.new_exc(
                            "asyncio.BrokenBarrierError",
                            vec![Value::Str("Abort or reset of barrier".into())],
                        ))
                    } else {
                        self.cite(cite!("asyncio.sync.barrier.wait.returns_index"));
                        Ok(Value::Int(index))
                    };
                    self.barrier_wait_finally(barrier, lock, r)
                }
            },
        }
    }

    /// `finally: self._count -= 1; self._exit()`, then `__aexit__`.
    fn barrier_wait_finally(
        &mut self,
        barrier: SyncId,
        lock: SyncId,
        r: Result<Value, ExcId>,
    ) -> FrameOut {
        self.barrier_set(barrier, None, -1);
        let (cond, _, state, count) = self.barrier_fields(barrier);
        let mut r = r;
        // `_exit()`: the last task out refills the barrier and wakes the blocked.
        if count == 0 {
            if matches!(state, BarrierState::Resetting | BarrierState::Draining) {
                self.cite(cite!("asyncio.sync.barrier.exit.last_out_refills"));
                self.barrier_set(barrier, Some(BarrierState::Filling), 0);
            }
            if let Err(e) = self.condition_notify_all(cond) {
                r = Err(e);
            }
        }
        self.barrier_aexit(lock, r)
    }

    /// `Condition.__aexit__`: `self.release()`; an error there replaces the outcome.
    fn barrier_aexit(&mut self, lock: SyncId, r: Result<Value, ExcId>) -> FrameOut {
        match self.lock_like_release(lock) {
            Err(e) => FrameOut::Raise(e),
            Ok(_) => match r {
                Ok(v) => FrameOut::Return(v),
                Err(e) => FrameOut::Raise(e),
            },
        }
    }

    /// `Barrier.reset()` / `Barrier.abort()`.
    fn barrier_change(
        &mut self,
        barrier: SyncId,
        abort: bool,
        entered: &mut bool,
        input: Input,
    ) -> FrameOut {
        let (cond, _, state, count) = self.barrier_fields(barrier);
        let lock = self.condition_lock(cond);
        if !*entered {
            if let Input::Throw(e) = input {
                return FrameOut::Raise(e);
            }
            *entered = true;
            return FrameOut::Push(self.lock_like_acquire_frame(lock));
        }
        if let Input::Throw(e) = input {
            return FrameOut::Raise(e);
        }
        if abort {
            self.cite(cite!("asyncio.sync.barrier.abort.breaks"));
            self.barrier_set(barrier, Some(BarrierState::Broken), 0);
        } else if count > 0 {
            self.cite(cite!("asyncio.sync.barrier.reset.waiters_broken"));
            if state != BarrierState::Resetting {
                self.barrier_set(barrier, Some(BarrierState::Resetting), 0);
            }
        } else {
            self.cite(cite!("asyncio.sync.barrier.reset.waiters_broken"));
            self.barrier_set(barrier, Some(BarrierState::Filling), 0);
        }
        let r = self.condition_notify_all(cond).map(|_| Value::None);
        self.barrier_aexit(lock, r)
    }

    /// `parties`, `n_waiting`, `broken`.
    fn barrier_property(&mut self, barrier: SyncId, method: SyncMethod) -> Value {
        let (_, parties, state, count) = self.barrier_fields(barrier);
        self.cite(cite!("asyncio.sync.barrier.properties"));
        match method {
            SyncMethod::Parties => Value::Int(parties),
            SyncMethod::NWaiting if state == BarrierState::Filling => Value::Int(count),
            SyncMethod::NWaiting => Value::Int(0),
            _ => Value::Bool(state == BarrierState::Broken),
        }
    }

    // ----- frames --------------------------------------------------------------------

    /// Resume a primitive's coroutine method.
    pub(crate) fn resume_lock_frame(&mut self, frame: &mut LockFrame, input: Input) -> FrameOut {
        match frame {
            LockFrame::LockAcquire { lock, fut } => self.lock_acquire(*lock, fut, input),
            LockFrame::SemaphoreAcquire { sem, fut } => self.semaphore_acquire(*sem, fut, input),
            LockFrame::EventWait { event, fut } => self.event_wait(*event, fut, input),
            LockFrame::ConditionWait { cond, phase } => self.condition_wait(*cond, phase, input),
            LockFrame::ConditionWaitFor {
                barrier,
                predicate,
                started,
            } => self.condition_wait_for(*barrier, *predicate, started, input),
            LockFrame::BarrierWait { barrier, phase } => self.barrier_wait(*barrier, phase, input),
            LockFrame::BarrierChange {
                barrier,
                abort,
                entered,
            } => self.barrier_change(*barrier, *abort, entered, input),
        }
    }

    // ----- the statements ------------------------------------------------------------

    /// The primitive or queue a variable holds; any other object lacks the method
    /// (`attr`) the statement looks up: AttributeError, as Python says it (Err(Ok)); an
    /// unbound name is a NameError (Err(Err)).
    fn var_sync(&mut self, name: &str, attr: &str) -> Result<SyncId, Result<ExcId, ExcId>> {
        match self.lookup(name) {
            Ok(Obj::Sync(id)) => Ok(id),
            Ok(other) => Err(Ok(self.attribute_error(&other, attr))),
            Err(e) => Err(Err(e)),
        }
    }

    /// `sync_new`, `sync_call` and `sync_await`.
    pub(crate) fn exec_sync_stmt(&mut self, uf: &mut UserFrame, stmt: &Stmt) -> Exec {
        match stmt {
            Stmt::SyncNew {
                kind,
                var,
                value,
                lock,
            } => {
                // The argument is evaluated before the call: an unbound lock variable
                // raises without a call.
                // `Condition(None)` makes its own Lock, as `Condition()` does.
                let lock = lock
                    .as_ref()
                    .filter(|l| !matches!(self.vars.get(*l), Some(Obj::Value(Value::None))));
                let lock_id = match lock {
                    Some(l) => match self.var_sync(l, "locked") {
                        Ok(id) => Some(id),
                        // `Condition(lock)` reads `lock.locked` in its __init__.
                        Err(Ok(e)) => {
                            let call = format!("asyncio.{}({l})", kind.class_name());
                            self.call_event(call, &Err(e));
                            return Exec::raising(e);
                        }
                        Err(Err(e)) => return Exec::raising(e),
                    },
                    None => None,
                };
                match self.sync_new(*kind, var, *value, lock_id) {
                    Ok(id) => {
                        self.vars.insert(var.clone(), Obj::Sync(id));
                        Exec::Next
                    }
                    Err(e) => {
                        let arg = match (value, lock) {
                            (Some(v), _) => v.to_string(),
                            (None, Some(l)) => l.clone(),
                            (None, None) => String::new(),
                        };
                        let call = format!("asyncio.{}({arg})", kind.class_name());
                        self.call_event(call, &Err(e));
                        Exec::Signal(Signal::Raising(e))
                    }
                }
            }
            Stmt::SyncCall {
                target,
                method,
                arg,
                var,
            } => {
                let call = sync_call_label(target, *method, arg);
                let id = match self.var_sync(target, method.name()) {
                    Ok(id) => id,
                    // The method is looked up inside the recorded call.
                    Err(Ok(e)) => {
                        self.call_event(call, &Err(e));
                        return Exec::raising(e);
                    }
                    Err(Err(e)) => return Exec::raising(e),
                };
                let r = self.sync_call(id, *method, arg);
                self.call_event(call, &r);
                match r {
                    Ok(v) => {
                        if let Some(name) = var {
                            self.vars.insert(name.clone(), Obj::Value(v));
                        }
                        Exec::Next
                    }
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            Stmt::SyncAwait {
                target,
                method,
                arg,
                var,
            } => {
                let id = match self.var_sync(target, method.name()) {
                    Ok(id) => id,
                    Err(Ok(e)) | Err(Err(e)) => return Exec::raising(e),
                };
                // The attribute is looked up before anything is awaited: a class without
                // the method raises AttributeError and no await happens.
                match self.sync_await_frame(id, *method, arg) {
                    Ok(frame) => {
                        let label = match arg {
                            Some(item) => format!("{target}.{}({item})", method.name()),
                            None => format!("{target}.{}()", method.name()),
                        };
                        uf.awaiting = Some(Awaiting::Expr {
                            label,
                            var: var.clone(),
                        });
                        Exec::Await(FrameOut::Push(frame))
                    }
                    Err(e) => Exec::Signal(Signal::Raising(e)),
                }
            }
            _ => unreachable!("exec_sync_stmt is called for sync statements only"),
        }
    }

    /// The constructors.
    fn sync_new(
        &mut self,
        kind: SyncKind,
        var: &str,
        value: Option<i64>,
        lock: Option<SyncId>,
    ) -> Result<SyncId, ExcId> {
        let name = var.to_string();
        match kind {
            SyncKind::Lock => Ok(self.lock_new(name)),
            SyncKind::Event => Ok(self.event_new(name)),
            SyncKind::Condition => self.condition_new(name, lock),
            SyncKind::Semaphore | SyncKind::BoundedSemaphore => {
                self.semaphore_new(name, kind, value.unwrap_or(1))
            }
            // Validation requires a Barrier's parties.
            SyncKind::Barrier => self.barrier_new(name, value.unwrap_or(0)),
            SyncKind::Queue | SyncKind::PriorityQueue | SyncKind::LifoQueue => {
                Ok(self.queue_new(name, kind, value.unwrap_or(0)))
            }
        }
    }

    /// A synchronous method or property, dispatched on the object's class.
    fn sync_call(
        &mut self,
        id: SyncId,
        method: SyncMethod,
        arg: &Option<Value>,
    ) -> Result<Value, ExcId> {
        let kind = self.sync(id).kind;
        match (kind, method) {
            (SyncKind::Lock, SyncMethod::Locked) => Ok(Value::Bool(self.lock_locked(id))),
            (SyncKind::Lock, SyncMethod::Release) => self.lock_release(id),
            (SyncKind::Semaphore | SyncKind::BoundedSemaphore, SyncMethod::Locked) => {
                Ok(Value::Bool(self.semaphore_locked(id)))
            }
            (SyncKind::Semaphore | SyncKind::BoundedSemaphore, SyncMethod::Release) => {
                self.semaphore_release(id)
            }
            (SyncKind::Condition, SyncMethod::Locked) => {
                let lock = self.condition_lock(id);
                Ok(Value::Bool(self.lock_like_locked(lock)))
            }
            (SyncKind::Condition, SyncMethod::Release) => {
                let lock = self.condition_lock(id);
                self.lock_like_release(lock)
            }
            (SyncKind::Condition, SyncMethod::Notify) => {
                let n = match arg {
                    Some(Value::Int(n)) => *n,
                    _ => 1,
                };
                self.condition_notify(id, n)
            }
            (SyncKind::Condition, SyncMethod::NotifyAll) => self.condition_notify_all(id),
            (SyncKind::Event, SyncMethod::IsSet) => Ok(Value::Bool(self.event_is_set(id))),
            (SyncKind::Event, SyncMethod::Set) => {
                self.event_set(id);
                Ok(Value::None)
            }
            (SyncKind::Event, SyncMethod::Clear) => {
                self.event_clear(id);
                Ok(Value::None)
            }
            (
                SyncKind::Barrier,
                SyncMethod::Parties | SyncMethod::NWaiting | SyncMethod::Broken,
            ) => Ok(self.barrier_property(id, method)),
            (SyncKind::Queue | SyncKind::PriorityQueue | SyncKind::LifoQueue, _) => {
                self.queue_call(id, method, arg)
            }
            _ => Err(self.no_attribute(id, method.name())),
        }
    }

    /// A frame for a coroutine method, or the AttributeError of a class without it.
    fn sync_await_frame(
        &mut self,
        id: SyncId,
        method: SyncAwaitMethod,
        arg: &Option<Value>,
    ) -> Result<Frame, ExcId> {
        let kind = self.sync(id).kind;
        Ok(match (kind, method) {
            (
                SyncKind::Lock | SyncKind::Semaphore | SyncKind::BoundedSemaphore,
                SyncAwaitMethod::Acquire,
            ) => self.lock_like_acquire_frame(id),
            (SyncKind::Condition, SyncAwaitMethod::Acquire) => {
                let lock = self.condition_lock(id);
                self.lock_like_acquire_frame(lock)
            }
            (SyncKind::Event, SyncAwaitMethod::Wait) => Frame::Lock(LockFrame::EventWait {
                event: id,
                fut: None,
            }),
            (SyncKind::Condition, SyncAwaitMethod::Wait) => Frame::Lock(LockFrame::ConditionWait {
                cond: id,
                phase: ConditionWaitPhase::Start,
            }),
            (SyncKind::Barrier, SyncAwaitMethod::Wait) => Frame::Lock(LockFrame::BarrierWait {
                barrier: id,
                phase: BarrierWaitPhase::Start,
            }),
            (SyncKind::Barrier, SyncAwaitMethod::Reset | SyncAwaitMethod::Abort) => {
                Frame::Lock(LockFrame::BarrierChange {
                    barrier: id,
                    abort: method == SyncAwaitMethod::Abort,
                    entered: false,
                })
            }
            (
                SyncKind::Queue | SyncKind::PriorityQueue | SyncKind::LifoQueue,
                SyncAwaitMethod::Put | SyncAwaitMethod::Get | SyncAwaitMethod::Join,
            ) => self.queue_await_frame(id, method, arg),
            _ => return Err(self.no_attribute(id, method.name())),
        })
    }
}

/// A synchronous call as Python code: `q.put_nowait(1)`, `c.notify()`, `b.n_waiting`.
pub fn sync_call_label(target: &str, method: SyncMethod, arg: &Option<Value>) -> String {
    let name = method.name();
    if method.is_property() {
        return format!("{target}.{name}");
    }
    match (method, arg) {
        (SyncMethod::Shutdown, Some(v)) => format!("{target}.{name}(immediate={v})"),
        (_, Some(v)) => format!("{target}.{name}({v})"),
        (_, None) => format!("{target}.{name}()"),
    }
}
