//! Running awaitables together: `gather()`, `shield()`, `wait()` and `as_completed()`.
//!
//! Transcribes `gather` / `_GatheringFuture`, `shield`, `wait` / `_wait` and `as_completed`
//! `Lib/asyncio/tasks.py`, callbacks and all, so wake-up order matches CPython.
//! Chapter: `specs/asyncio/composition.toml`.

use crate::asyncio::coroutine::{Frame, FrameOut, Input};
use crate::asyncio::world::{Callback, FutId, FutKind, FutState, TimerAction, WaitState, World};
use crate::core::exception::ExcId;
use crate::core::scenario::{ReturnWhen, Target};
use crate::core::value::Value;

impl World {
    /// `asyncio.gather(*items, return_exceptions=...)`: the gathering future.
    pub fn gather(&mut self, items: &[Target], return_exceptions: bool) -> Result<FutId, ExcId> {
        // Python evaluates every argument before gather() runs: the coroutine objects
        // are made, the variables looked up. An unbound variable raises there, and the
        // coroutine objects made before it are dropped unawaited.
        let mut objs = Vec::new();
        for (k, item) in items.iter().enumerate() {
            objs.push(match item {
                Target::Var(v) => match self.lookup(v) {
                    Ok(obj) => Some(obj),
                    Err(e) => {
                        self.coroutines_dropped(&items[..k]);
                        return Err(e);
                    }
                },
                Target::Coro(_) => None,
            });
        }
        let outer = self.new_future("gather");
        let mut gathering = Gathering::new(outer);
        // `for arg in coros_or_futures: if arg not in arg_to_fut: fut =
        // ensure_future(arg); ...; fut.add_done_callback(_done_callback)`: each child is
        // wrapped and registered before the next argument is wrapped, so on 3.11 a done
        // child's callback is queued ahead of the next child's first step. An argument
        // that cannot be hashed or wrapped stops the loop: the coroutines before it are
        // tasks by then, those after it are dropped unawaited.
        for (k, (item, obj)) in items.iter().zip(&objs).enumerate() {
            let f = match obj {
                Some(obj) => self
                    .check_hashable(obj)
                    .and_then(|()| self.ensure_future_of(obj)),
                None => self.ensure_future(item),
            };
            match f {
                Ok(f) => gathering.add_child(self, f),
                Err(e) => {
                    self.coroutines_dropped(&items[k + 1..]);
                    return Err(e);
                }
            }
        }
        Ok(gathering.finish(self, return_exceptions))
    }

    /// Coroutine objects made for arguments and never awaited: each warns when freed.
    fn coroutines_dropped(&mut self, items: &[Target]) {
        for item in items {
            if let Target::Coro(c) = item {
                self.warn_never_awaited(self.current_name(), c);
            }
        }
    }

    /// gather over futures and tasks (`arg_to_fut`: the same object twice is one child).
    pub fn gather_futures(&mut self, futs: &[FutId], return_exceptions: bool) -> FutId {
        let mut gathering = Gathering::new(self.new_future("gather"));
        for &f in futs {
            gathering.add_child(self, f);
        }
        gathering.finish(self, return_exceptions)
    }

    /// A gathering future's children, in the order given.
    fn gather_children(&self, outer: FutId) -> Vec<FutId> {
        match &self.fut(outer).kind {
            FutKind::Gathering { children, .. } => children.clone(),
            _ => unreachable!("a gathering future"),
        }
    }

    /// `_GatheringFuture.cancel(msg)`: cancel every child.
    pub fn gathering_cancel(&mut self, outer: FutId, msg: Option<Value>) -> bool {
        if self.done(outer) {
            self.cite(cite!("asyncio.composition.gather.cancel_after_done_noop"));
            return false;
        }
        let FutKind::Gathering { children, .. } = self.fut(outer).kind.clone() else {
            unreachable!("a gathering future")
        };
        self.cite(cite!(
            "asyncio.composition.gather.cancelled_cancels_children"
        ));
        let mut any = false;
        for child in children {
            if self.cancel(child, msg.clone()) {
                any = true;
            }
        }
        if any {
            if let FutKind::Gathering {
                cancel_requested, ..
            } = &mut self.fut_mut(outer).kind
            {
                *cancel_requested = true;
            }
        }
        any
    }

    /// gather's `_done_callback(fut)`.
    pub fn gather_done_callback(&mut self, outer: FutId, fut: FutId) {
        // The children are copied only where they are read (once per gather): copying
        // them on every child's callback made gathering n tasks cost n^2.
        let (distinct, return_exceptions) = match &self.fut(outer).kind {
            FutKind::Gathering {
                distinct,
                return_exceptions,
                ..
            } => (*distinct, *return_exceptions),
            // `if outer is None or outer.done()`: gather() raised on a later argument
            // (`outer = None  # bpo-46672` was never replaced), so a child wrapped before
            // it only has its exception marked retrieved.
            _ => {
                if !self.cancelled(fut) {
                    let _ = self.future_exception(fut);
                }
                return;
            }
        };
        let finished = match &mut self.fut_mut(outer).kind {
            FutKind::Gathering { finished, .. } => {
                *finished += 1;
                *finished
            }
            _ => unreachable!(),
        };
        if self.done(outer) {
            if !self.cancelled(fut) {
                // Mark the exception retrieved.
                self.cite(cite!("asyncio.composition.gather.siblings_keep_running"));
                let _ = self.future_exception(fut);
            }
            return;
        }
        if !return_exceptions {
            if self.cancelled(fut) {
                self.cite(cite!(
                    "asyncio.composition.gather.child_cancelled_as_exception"
                ));
                let exc = self.make_cancelled_error(fut);
                self.future_set_exception(outer, exc);
                return;
            }
            if let Ok(Some(exc)) = self.future_exception(fut) {
                self.cite(cite!(
                    "asyncio.composition.gather.first_exception_propagates"
                ));
                if self.gather_children(outer).iter().any(|c| !self.done(*c)) {
                    // The others are left running, not cancelled.
                    self.cite(cite!("asyncio.composition.gather.siblings_keep_running"));
                }
                self.future_set_exception(outer, exc);
                return;
            }
        }
        if finished == distinct {
            let children = self.gather_children(outer);
            let mut results = Vec::new();
            for child in &children {
                let v = match self.fut(*child).state.clone() {
                    FutState::Cancelled => {
                        // A fresh CancelledError(msg or ''), not _make_cancelled_error().
                        self.cite(cite!(
                            "asyncio.composition.gather.child_cancelled_as_exception"
                        ));
                        let msg = self
                            .fut(*child)
                            .cancel_message
                            .clone()
                            .unwrap_or_else(|| Value::Str(String::new()));
                        Value::Exc(crate::core::exception::ExcView::plain(
                            "asyncio.CancelledError",
                            vec![msg],
                        ))
                    }
                    FutState::Exception(e) => {
                        self.fut_mut(*child).log_traceback = false;
                        self.fut_mut(*child).retrievals += 1;
                        self.cite(cite!(
                            "asyncio.composition.gather.return_exceptions_aggregates"
                        ));
                        Value::Exc(self.exc_view(e))
                    }
                    FutState::Result(v) => v,
                    FutState::Pending => Value::None,
                };
                results.push(v);
            }
            let cancel_requested = matches!(
                self.fut(outer).kind,
                FutKind::Gathering {
                    cancel_requested: true,
                    ..
                }
            );
            if cancel_requested {
                // `exc = fut._make_cancelled_error()` runs after `for fut in children:`,
                // which rebinds `fut`: the error comes from the last child, not from the
                // child that finished (3.11.7, 3.12.1 and 3.13.0 alike).
                let last = children.last().copied().unwrap_or(fut);
                let exc = self.make_cancelled_error(last);
                self.future_set_exception(outer, exc);
            } else {
                self.cite(cite!("asyncio.composition.gather.results_in_order"));
                self.future_set_result(outer, Value::List(results));
            }
        }
    }

    /// `asyncio.shield(arg)`: the inner future when done, else a new outer future.
    pub fn shield(&mut self, target: &Target) -> Result<FutId, ExcId> {
        let inner = self.ensure_future(target)?;
        if self.done(inner) {
            self.cite(cite!(
                "asyncio.composition.shield.inner_exception_propagates"
            ));
            return Ok(inner);
        }
        let outer = self.new_future("shield");
        self.fut_mut(outer).kind = FutKind::ShieldOuter(inner);
        self.add_done_callback(inner, Callback::ShieldInner(outer));
        self.add_done_callback(outer, Callback::ShieldOuter(inner));
        Ok(outer)
    }

    /// shield's `_inner_done_callback(inner)`.
    pub fn shield_inner_done(&mut self, outer: FutId, inner: FutId) {
        if self.cancelled(outer) {
            self.cite(cite!(
                "asyncio.composition.shield.outer_cancelled_inner_runs"
            ));
            if !self.cancelled(inner) {
                let _ = self.future_exception(inner);
            }
            return;
        }
        if self.cancelled(inner) {
            self.cite(cite!(
                "asyncio.composition.shield.inner_cancelled_cancels_outer"
            ));
            self.future_cancel_base(outer, None);
        } else {
            match self.future_exception(inner) {
                Ok(Some(exc)) => {
                    self.cite(cite!(
                        "asyncio.composition.shield.inner_exception_propagates"
                    ));
                    self.future_set_exception(outer, exc);
                }
                _ => {
                    let v = self.future_result(inner).unwrap_or(Value::None);
                    self.future_set_result(outer, v);
                }
            }
        }
    }

    /// shield's `_outer_done_callback(outer)`.
    pub fn shield_outer_done(&mut self, inner: FutId, outer: FutId) {
        if !self.done(inner) {
            self.cite(cite!(
                "asyncio.composition.shield.outer_cancelled_inner_runs"
            ));
            self.remove_done_callback(inner, &Callback::ShieldInner(outer));
        }
    }

    /// The shared state of one `asyncio.wait()`.
    pub fn new_wait(
        &mut self,
        items: &[FutId],
        timeout: Option<f64>,
        return_when: ReturnWhen,
    ) -> usize {
        let waiter = self.new_future("wait waiter");
        self.waits.push(WaitState {
            counter: items.len(),
            waiter,
            timeout: None,
            return_when,
        });
        let i = self.waits.len() - 1;
        if let Some(t) = timeout {
            self.waits[i].timeout = Some(self.call_later(t, TimerAction::WaitTimeout(waiter)));
        }
        i
    }

    /// `_wait(fs, timeout, return_when)`: register, await the waiter, sort into sets.
    pub fn resume_wait(
        &mut self,
        items: Vec<FutId>,
        state: &mut Option<usize>,
        input: Input,
    ) -> FrameOut {
        let i = state.expect("wait state made by the statement");
        match input {
            Input::Start => {
                for f in &items {
                    self.add_done_callback(*f, Callback::WaitCompletion(i));
                }
                FrameOut::Push(Frame::AwaitFuture {
                    fut: self.waits[i].waiter,
                })
            }
            Input::Send(_) | Input::Throw(_) => {
                if let Some(h) = self.waits[i].timeout {
                    self.cancel_timer(h);
                }
                for f in &items {
                    self.remove_done_callback(*f, &Callback::WaitCompletion(i));
                }
                if let Input::Throw(e) = input {
                    self.cite(cite!("asyncio.composition.wait.cancelled_leaves_children"));
                    return FrameOut::Raise(e);
                }
                let mut done = Vec::new();
                let mut pending = Vec::new();
                for f in &items {
                    let name = Value::Str(self.fut(*f).name.clone());
                    if self.done(*f) {
                        done.push(name);
                    } else {
                        pending.push(name);
                    }
                }
                if !pending.is_empty() {
                    self.cite(cite!("asyncio.composition.wait.no_timeout_error"));
                }
                self.cite(cite!("asyncio.composition.wait.does_not_retrieve"));
                FrameOut::Return(Value::List(vec![Value::List(done), Value::List(pending)]))
            }
        }
    }

    /// `_wait`'s `_on_completion(f)`.
    pub fn wait_on_completion(&mut self, i: usize, f: FutId) {
        self.waits[i].counter = self.waits[i].counter.saturating_sub(1);
        let w = self.waits[i].clone();
        let release = w.counter == 0
            || w.return_when == ReturnWhen::FirstCompleted
            || (w.return_when == ReturnWhen::FirstException
                && !self.cancelled(f)
                && matches!(self.future_exception(f), Ok(Some(_))));
        if release {
            match w.return_when {
                ReturnWhen::FirstCompleted => {
                    self.cite(cite!("asyncio.composition.wait.first_completed"))
                }
                ReturnWhen::FirstException => {
                    self.cite(cite!("asyncio.composition.wait.first_exception"))
                }
                ReturnWhen::AllCompleted => {
                    self.cite(cite!("asyncio.composition.wait.all_completed"))
                }
            }
            if let Some(h) = w.timeout {
                self.cancel_timer(h);
            }
            if !self.done(w.waiter) {
                self.future_set_result(w.waiter, Value::None);
            }
        }
    }
}

/// `as_completed()`: `Lib/asyncio/tasks.py` (a generator over a `Queue` in 3.11 and
/// 3.12, `_AsCompletedIterator` in 3.13; the same callbacks and queue in all three).
impl World {
    /// Set up: `todo = {ensure_future(f) for f in set(fs)}`, callbacks, timeout.
    pub fn new_as_completed(
        &mut self,
        items: &[FutId],
        timeout: Option<f64>,
        label: String,
    ) -> usize {
        let mut todo = items.to_vec();
        todo.sort();
        todo.dedup();
        let i = self.as_completed.len();
        self.as_completed
            .push(crate::asyncio::world::AsCompletedState {
                left: todo.len(),
                todo: todo.clone(),
                queue: Default::default(),
                getters: Default::default(),
                timeout: None,
                label,
            });
        // Set order decides only the registration order across different futures,
        // which nothing observes.
        for &f in &todo {
            self.add_done_callback(f, Callback::AsCompletedCompletion(i));
        }
        if let (false, Some(t)) = (todo.is_empty(), timeout) {
            self.as_completed[i].timeout =
                Some(self.call_later(t, TimerAction::AsCompletedTimeout(i)));
        }
        i
    }

    /// `Queue.put_nowait(item)`: enqueue, wake a getter.
    fn as_completed_put(&mut self, i: usize, item: Option<FutId>) {
        self.as_completed[i].queue.push_back(item);
        self.as_completed_wakeup_next(i);
    }

    /// `Queue._wakeup_next(self._getters)`: wake the first getter not yet done.
    fn as_completed_wakeup_next(&mut self, i: usize) {
        while let Some(g) = self.as_completed[i].getters.pop_front() {
            if !self.done(g) {
                self.future_set_result(g, Value::None);
                break;
            }
        }
    }

    /// `_on_completion(f)`: a finished future goes to the queue.
    pub fn as_completed_on_completion(&mut self, i: usize, f: FutId) {
        if self.as_completed[i].todo.is_empty() {
            return; // the timeout came first
        }
        self.as_completed[i].todo.retain(|&t| t != f);
        self.as_completed_put(i, Some(f));
        if self.as_completed[i].todo.is_empty() {
            if let Some(h) = self.as_completed[i].timeout {
                self.cancel_timer(h);
            }
        }
    }

    /// `_on_timeout()`: one sentinel per future still to do; the futures themselves
    /// are left running.
    pub fn as_completed_on_timeout(&mut self, i: usize) {
        let todo = std::mem::take(&mut self.as_completed[i].todo);
        if !todo.is_empty() {
            self.cite(cite!("asyncio.composition.as_completed.does_not_cancel"));
        }
        for f in todo {
            self.remove_done_callback(f, &Callback::AsCompletedCompletion(i));
            self.as_completed_put(i, None);
        }
    }

    /// One step of `for f in as_completed(...): await f`: `_wait_for_one()` is
    /// `await done.get()` then `f.result()`, or TimeoutError for the sentinel.
    pub fn resume_as_completed(
        &mut self,
        i: usize,
        getter: &mut Option<FutId>,
        input: Input,
    ) -> FrameOut {
        match input {
            Input::Start => {
                if self.as_completed[i].left == 0 {
                    return FrameOut::Return(Value::None);
                }
                self.as_completed[i].left -= 1;
            }
            Input::Send(_) => *getter = None,
            Input::Throw(e) => {
                // `Queue.get()`'s cleanup: cancel and forget the getter, pass a wake-up
                // on if an item is waiting and this getter was not cancelled.
                if let Some(g) = getter.take() {
                    let was_cancelled = self.cancelled(g);
                    self.cancel(g, None);
                    self.as_completed[i].getters.retain(|&x| x != g);
                    if !self.as_completed[i].queue.is_empty() && !was_cancelled {
                        self.as_completed_wakeup_next(i);
                    }
                }
                return self.as_completed_resumed(i, Err(e));
            }
        }
        loop {
            // `while self.empty(): await getter`
            let Some(item) = self.as_completed[i].queue.pop_front() else {
                let g = self.new_future("queue getter");
                self.as_completed[i].getters.push_back(g);
                *getter = Some(g);
                return FrameOut::Push(Frame::AwaitFuture { fut: g });
            };
            let r = match item {
                None => {
                    self.cite(cite!("asyncio.composition.as_completed.timeout_error"));
                    Err(self.new_exc("TimeoutError", Vec::new()))
                }
                Some(f) => {
                    let r = self.future_result(f);
                    if r.is_err() {
                        self.cite(cite!("asyncio.composition.as_completed.yields_exception"));
                    }
                    r
                }
            };
            if let FrameOut::Raise(e) = self.as_completed_resumed(i, r) {
                return FrameOut::Raise(e);
            }
            if self.as_completed[i].left == 0 {
                return FrameOut::Return(Value::None);
            }
            self.as_completed[i].left -= 1;
        }
    }

    /// Record one iteration's await; an exception ends the loop.
    fn as_completed_resumed(&mut self, i: usize, r: Result<Value, ExcId>) -> FrameOut {
        let outcome = self.outcome_of(&r);
        self.emit(crate::core::trace::EventKind::Resume {
            awaited: self.as_completed[i].label.clone(),
            outcome,
        });
        match r {
            Ok(v) => FrameOut::Return(v),
            Err(e) => FrameOut::Raise(e),
        }
    }
}

/// `gather()`'s locals while it wraps its arguments: `arg_to_fut`, `children` and
/// (3.12+) `done_futs`.
struct Gathering {
    outer: FutId,
    children: Vec<FutId>,
    distinct: std::collections::BTreeSet<FutId>,
    done_futs: Vec<FutId>,
}

impl Gathering {
    fn new(outer: FutId) -> Gathering {
        Gathering {
            outer,
            children: Vec::new(),
            distinct: Default::default(),
            done_futs: Vec::new(),
        }
    }

    /// One argument, wrapped: a child seen before is not registered again; a done child
    /// is kept for after the loop (3.12+) or registered, which queues its callback at
    /// once (3.11).
    fn add_child(&mut self, w: &mut World, f: FutId) {
        self.children.push(f);
        if !self.distinct.insert(f) {
            return;
        }
        if w.done(f) && w.profile.gather_done_children_at_once() {
            w.cite(cite!("asyncio.composition.gather.done_children_3_12"));
            self.done_futs.push(f);
        } else {
            if w.done(f) {
                w.cite(cite!("asyncio.composition.gather.done_children_3_11"));
            }
            w.add_done_callback(f, Callback::GatherChild(self.outer));
        }
    }

    /// `outer = _GatheringFuture(children)`, then (3.12+) the done children's callbacks.
    fn finish(self, w: &mut World, return_exceptions: bool) -> FutId {
        let outer = self.outer;
        w.fut_mut(outer).kind = FutKind::Gathering {
            children: self.children.clone(),
            distinct: self.distinct.len(),
            finished: 0,
            return_exceptions,
            cancel_requested: false,
        };
        if self.children.is_empty() {
            w.future_set_result(outer, Value::List(Vec::new()));
        }
        for f in self.done_futs {
            w.gather_done_callback(outer, f);
        }
        outer
    }
}
