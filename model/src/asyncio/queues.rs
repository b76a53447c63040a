//! asyncio's queues: `Queue`, `PriorityQueue` and `LifoQueue`, with `QueueEmpty`,
//! `QueueFull` and (3.13) `QueueShutDown`.
//!
//! Transcribes `Lib/asyncio/queues.py`, one function per method, its steps in the
//! source's order; `get`, `put` and `join` are [`QueueFrame`]s that park on a getter or
//! putter future. 3.11.7 and 3.12.1 ship the same `queues.py`; 3.13.0 adds `shutdown()`
//! and the `QueueShutDown` checks in `put`, `put_nowait`, `get` and `get_nowait`
//! ([`crate::core::profile::Profile::queue_shutdown_exists`]). `PriorityQueue` orders its
//! items with the C `_heapq` module's `heappush` / `heappop` (`Modules/_heapqmodule.c`:
//! the item is appended, then sifted by swaps, comparing with `<` only), so an item that
//! does not compare with the others raises TypeError after it joined the heap, as
//! CPython's does. Chapter: `specs/asyncio/queues.toml`.

use crate::asyncio::coroutine::{Frame, FrameOut, Input};
use crate::asyncio::locks::{LockFrame, SyncId, SyncState};
use crate::asyncio::world::{FutId, World};
use crate::core::exception::ExcId;
use crate::core::scenario::{SyncAwaitMethod, SyncKind, SyncMethod};
use crate::core::value::Value;
use std::collections::VecDeque;

/// A queue's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueState {
    /// `_maxsize`.
    pub maxsize: i64,
    /// `_queue`: FIFO takes from the front, LIFO from the back, priority is a heap.
    pub items: Vec<Value>,
    /// `_getters`.
    pub getters: VecDeque<FutId>,
    /// `_putters`.
    pub putters: VecDeque<FutId>,
    /// `_unfinished_tasks`.
    pub unfinished_tasks: i64,
    /// `_finished`, an Event.
    pub finished: SyncId,
    /// `_is_shutdown` (3.13).
    pub is_shutdown: bool,
}

/// A queue's coroutine method, as a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum QueueFrame {
    /// `Queue.get()`.
    Get {
        /// The queue.
        queue: SyncId,
        /// The getter it awaits, if any.
        getter: Option<FutId>,
    },
    /// `Queue.put(item)`.
    Put {
        /// The queue.
        queue: SyncId,
        /// The item.
        item: Value,
        /// The putter it awaits, if any.
        putter: Option<FutId>,
    },
    /// `Queue.join()`.
    Join {
        /// The queue.
        queue: SyncId,
        /// It awaits `self._finished.wait()`.
        waiting: bool,
    },
}

/// Which side of a queue waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Getters,
    Putters,
}

impl World {
    fn queue(&self, q: SyncId) -> &QueueState {
        match &self.sync(q).state {
            SyncState::Queue(state) => state,
            other => panic!("model invariant: {other:?} is not a queue"),
        }
    }

    fn queue_mut(&mut self, q: SyncId) -> &mut QueueState {
        match &mut self.sync_mut(q).state {
            SyncState::Queue(state) => state,
            other => panic!("model invariant: {other:?} is not a queue"),
        }
    }

    fn side_mut(&mut self, q: SyncId, side: Side) -> &mut VecDeque<FutId> {
        let state = self.queue_mut(q);
        match side {
            Side::Getters => &mut state.getters,
            Side::Putters => &mut state.putters,
        }
    }

    /// `Queue(maxsize)`: `_finished` is an Event, set.
    pub(crate) fn queue_new(&mut self, name: String, kind: SyncKind, maxsize: i64) -> SyncId {
        // `self._finished = locks.Event(); self._finished.set()`: no waiter yet.
        let finished = self.event_new(format!("{name}._finished"));
        if let SyncState::Event { value, .. } = &mut self.sync_mut(finished).state {
            *value = true;
        }
        self.syncs.push(crate::asyncio::locks::SyncObj {
            name,
            kind,
            state: SyncState::Queue(QueueState {
                maxsize,
                items: Vec::new(),
                getters: VecDeque::new(),
                putters: VecDeque::new(),
                unfinished_tasks: 0,
                finished,
                is_shutdown: false,
            }),
        });
        SyncId(self.syncs.len() as u32 - 1)
    }

    /// `_wakeup_next(waiters)`: pop waiters until one not yet done, and wake it.
    fn queue_wakeup_next(&mut self, q: SyncId, side: Side) {
        let bound = self.side_mut(q, side).len();
        for _ in 0..bound {
            let Some(waiter) = self.side_mut(q, side).pop_front() else {
                break;
            };
            if !self.done(waiter) {
                self.cite(cite!("asyncio.queues.wakeup_next.skips_done"));
                self.future_set_result(waiter, Value::None);
                break;
            }
        }
    }

    /// `qsize()`.
    fn queue_qsize(&self, q: SyncId) -> i64 {
        self.queue(q).items.len() as i64
    }

    /// `empty()`.
    fn queue_empty(&self, q: SyncId) -> bool {
        self.queue(q).items.is_empty()
    }

    /// `full()`.
    fn queue_full(&mut self, q: SyncId) -> bool {
        let maxsize = self.queue(q).maxsize;
        if maxsize <= 0 {
            self.cite(cite!("asyncio.queues.maxsize.unbounded_never_full"));
            false
        } else {
            self.cite(cite!("asyncio.queues.full.at_maxsize"));
            self.queue_qsize(q) >= maxsize
        }
    }

    /// The 3.13 shutdown check: `if self._is_shutdown: raise QueueShutDown`.
    fn queue_shut_down(&self, q: SyncId) -> bool {
        self.profile.queue_shutdown_exists() && self.queue(q).is_shutdown
    }

    fn queue_exc(&mut self, class: &str) -> ExcId {
        self.new_exc(class, Vec::new())
    }

    /// `_put(item)`: append, or `heappush` for a PriorityQueue.
    fn queue_put_item(&mut self, q: SyncId, item: Value) -> Result<(), ExcId> {
        if self.sync(q).kind == SyncKind::PriorityQueue {
            self.cite(cite!("asyncio.queues.priority.lowest_first"));
            let heap = &mut self.queue_mut(q).items;
            heap.push(item);
            let last = heap.len() - 1;
            if let Err(message) = heap_sift_down(heap, 0, last) {
                self.cite(cite!("asyncio.queues.priority.incomparable_type_error"));
                return Err(self.new_exc("TypeError", vec![Value::Str(message)]));
            }
        } else {
            self.queue_mut(q).items.push(item);
        }
        Ok(())
    }

    /// `_get()`: from the front (Queue), the back (LifoQueue), or `heappop`.
    fn queue_get_item(&mut self, q: SyncId) -> Result<Value, ExcId> {
        let kind = self.sync(q).kind;
        match kind {
            SyncKind::LifoQueue => self.cite(cite!("asyncio.queues.lifo.last_first")),
            SyncKind::PriorityQueue => self.cite(cite!("asyncio.queues.priority.lowest_first")),
            _ => {}
        }
        let items = &mut self.queue_mut(q).items;
        debug_assert!(!items.is_empty(), "_get() of an empty queue");
        let popped = match kind {
            SyncKind::LifoQueue => Ok(items.pop().unwrap_or_default()),
            SyncKind::PriorityQueue => match items.pop() {
                // `heappop`: the last item goes to the root and sifts; the root is
                // returned (and lost if a comparison fails).
                Some(last) if !items.is_empty() => {
                    let first = std::mem::replace(&mut items[0], last);
                    heap_sift_up(items, 0).map(|()| first)
                }
                last => Ok(last.unwrap_or_default()),
            },
            _ if items.is_empty() => Ok(Value::None),
            _ => Ok(items.remove(0)),
        };
        popped.map_err(|message| {
            self.cite(cite!("asyncio.queues.priority.incomparable_type_error"));
            self.new_exc("TypeError", vec![Value::Str(message)])
        })
    }

    /// `put_nowait(item)`.
    fn queue_put_nowait(&mut self, q: SyncId, item: Value) -> Result<Value, ExcId> {
        if self.queue_shut_down(q) {
            self.cite(cite!("asyncio.queues.shutdown.put_raises_3_13"));
            return Err(self.queue_exc("asyncio.QueueShutDown"));
        }
        if self.queue_full(q) {
            self.cite(cite!("asyncio.queues.put_nowait.slot_or_full"));
            return Err(self.queue_exc("asyncio.QueueFull"));
        }
        self.cite(cite!("asyncio.queues.put_nowait.slot_or_full"));
        self.queue_put_item(q, item)?;
        let finished = {
            let state = self.queue_mut(q);
            state.unfinished_tasks += 1;
            state.finished
        };
        self.event_clear(finished);
        self.queue_wakeup_next(q, Side::Getters);
        Ok(Value::None)
    }

    /// `get_nowait()`.
    fn queue_get_nowait(&mut self, q: SyncId) -> Result<Value, ExcId> {
        if self.queue_empty(q) {
            if self.queue_shut_down(q) {
                self.cite(cite!("asyncio.queues.shutdown.get_raises_when_empty_3_13"));
                return Err(self.queue_exc("asyncio.QueueShutDown"));
            }
            self.cite(cite!("asyncio.queues.get_nowait.item_or_empty"));
            return Err(self.queue_exc("asyncio.QueueEmpty"));
        }
        self.cite(cite!("asyncio.queues.get_nowait.item_or_empty"));
        let item = self.queue_get_item(q)?;
        self.queue_wakeup_next(q, Side::Putters);
        Ok(item)
    }

    /// `task_done()`.
    fn queue_task_done(&mut self, q: SyncId) -> Result<Value, ExcId> {
        if self.queue(q).unfinished_tasks <= 0 {
            self.cite(cite!("asyncio.queues.task_done.too_many_value_error"));
            return Err(self.new_exc(
                "ValueError",
                vec![Value::Str("task_done() called too many times".into())],
            ));
        }
        let (left, finished) = {
            let state = self.queue_mut(q);
            state.unfinished_tasks -= 1;
            (state.unfinished_tasks, state.finished)
        };
        if left == 0 {
            self.cite(cite!("asyncio.queues.join.unblocks_at_zero"));
            self.event_set(finished);
        }
        Ok(Value::None)
    }

    /// `shutdown(immediate)` (3.13).
    fn queue_shutdown(&mut self, q: SyncId, immediate: bool) -> Result<Value, ExcId> {
        self.cite(cite!("asyncio.queues.shutdown.unblocks_waiters_3_13"));
        self.queue_mut(q).is_shutdown = true;
        if immediate {
            self.cite(cite!("asyncio.queues.shutdown.immediate_drains_3_13"));
            let bound = self.queue_qsize(q);
            for _ in 0..bound {
                if self.queue_empty(q) {
                    break;
                }
                self.queue_get_item(q)?;
                let state = self.queue_mut(q);
                if state.unfinished_tasks > 0 {
                    state.unfinished_tasks -= 1;
                }
            }
            let state = self.queue(q);
            if state.unfinished_tasks == 0 {
                let finished = state.finished;
                self.event_set(finished);
            }
        }
        for side in [Side::Getters, Side::Putters] {
            let waiters: Vec<FutId> = self.side_mut(q, side).drain(..).collect();
            for w in waiters {
                if !self.done(w) {
                    self.future_set_result(w, Value::None);
                }
            }
        }
        Ok(Value::None)
    }

    /// A queue's synchronous methods and `maxsize`.
    pub(crate) fn queue_call(
        &mut self,
        q: SyncId,
        method: SyncMethod,
        arg: &Option<Value>,
    ) -> Result<Value, ExcId> {
        match method {
            SyncMethod::Qsize => {
                self.cite(cite!("asyncio.queues.qsize.items"));
                Ok(Value::Int(self.queue_qsize(q)))
            }
            SyncMethod::Empty => {
                self.cite(cite!("asyncio.queues.qsize.items"));
                Ok(Value::Bool(self.queue_empty(q)))
            }
            SyncMethod::Full => Ok(Value::Bool(self.queue_full(q))),
            SyncMethod::Maxsize => {
                self.cite(cite!("asyncio.queues.maxsize.attribute"));
                Ok(Value::Int(self.queue(q).maxsize))
            }
            SyncMethod::PutNowait => self.queue_put_nowait(q, arg.clone().unwrap_or_default()),
            SyncMethod::GetNowait => self.queue_get_nowait(q),
            SyncMethod::TaskDone => self.queue_task_done(q),
            SyncMethod::Shutdown if self.profile.queue_shutdown_exists() => {
                self.queue_shutdown(q, matches!(arg, Some(Value::Bool(true))))
            }
            SyncMethod::Shutdown => {
                self.cite(cite!("asyncio.queues.shutdown.added_in_3_13"));
                Err(self.no_attribute(q, "shutdown"))
            }
            _ => Err(self.no_attribute(q, method.name())),
        }
    }

    /// A frame for `get()`, `put(item)` or `join()`.
    pub(crate) fn queue_await_frame(
        &mut self,
        q: SyncId,
        method: SyncAwaitMethod,
        arg: &Option<Value>,
    ) -> Frame {
        Frame::Queue(match method {
            SyncAwaitMethod::Put => QueueFrame::Put {
                queue: q,
                item: arg.clone().unwrap_or_default(),
                putter: None,
            },
            SyncAwaitMethod::Join => QueueFrame::Join {
                queue: q,
                waiting: false,
            },
            _ => QueueFrame::Get {
                queue: q,
                getter: None,
            },
        })
    }

    /// Resume a queue's coroutine method.
    pub(crate) fn resume_queue_frame(&mut self, frame: &mut QueueFrame, input: Input) -> FrameOut {
        match frame {
            QueueFrame::Get { queue, getter } => self.queue_get(*queue, getter, input),
            QueueFrame::Put {
                queue,
                item,
                putter,
            } => {
                let item = item.clone();
                self.queue_put(*queue, item, putter, input)
            }
            QueueFrame::Join { queue, waiting } => self.queue_join(*queue, waiting, input),
        }
    }

    /// The bare `except:` around `await getter` / `await putter`: cancel it, drop it from
    /// its deque, and if this task was woken but cannot take the call, wake the next.
    fn queue_waiter_failed(&mut self, q: SyncId, side: Side, waiter: FutId, e: ExcId) -> FrameOut {
        self.future_cancel_base(waiter, None);
        let waiters = self.side_mut(q, side);
        if let Some(at) = waiters.iter().position(|w| *w == waiter) {
            waiters.remove(at);
        }
        let can_take = match side {
            Side::Getters => !self.queue_empty(q),
            Side::Putters => !self.queue_full(q),
        };
        if can_take && !self.cancelled(waiter) {
            match side {
                Side::Getters => {
                    self.cite(cite!("asyncio.queues.get.cancelled_after_wakeup_passes_on"))
                }
                Side::Putters => {
                    self.cite(cite!("asyncio.queues.put.cancelled_after_wakeup_passes_on"))
                }
            }
            self.queue_wakeup_next(q, side);
        }
        FrameOut::Raise(e)
    }

    /// `get()`.
    fn queue_get(&mut self, q: SyncId, getter: &mut Option<FutId>, input: Input) -> FrameOut {
        match (getter.take(), input) {
            (Some(g), input) => {
                let r = match input {
                    Input::Throw(e) => Err(e),
                    Input::Start | Input::Send(_) => self.future_result(g),
                };
                if let Err(e) = r {
                    return self.queue_waiter_failed(q, Side::Getters, g, e);
                }
            }
            (None, Input::Throw(e)) => return FrameOut::Raise(e),
            (None, _) => {}
        }
        // `while self.empty():` one turn per resume.
        if self.queue_empty(q) {
            if self.queue_shut_down(q) {
                self.cite(cite!("asyncio.queues.shutdown.get_raises_when_empty_3_13"));
                return FrameOut::Raise(self.queue_exc("asyncio.QueueShutDown"));
            }
            self.cite(cite!("asyncio.queues.get.waits_for_item"));
            let name = format!("{} getter", self.sync(q).name);
            let g = self.new_future(&name);
            self.queue_mut(q).getters.push_back(g);
            *getter = Some(g);
            return FrameOut::Yield(g);
        }
        match self.queue_get_nowait(q) {
            Ok(v) => FrameOut::Return(v),
            Err(e) => FrameOut::Raise(e),
        }
    }

    /// `put(item)`.
    fn queue_put(
        &mut self,
        q: SyncId,
        item: Value,
        putter: &mut Option<FutId>,
        input: Input,
    ) -> FrameOut {
        match (putter.take(), input) {
            (Some(p), input) => {
                let r = match input {
                    Input::Throw(e) => Err(e),
                    Input::Start | Input::Send(_) => self.future_result(p),
                };
                if let Err(e) = r {
                    return self.queue_waiter_failed(q, Side::Putters, p, e);
                }
            }
            (None, Input::Throw(e)) => return FrameOut::Raise(e),
            (None, _) => {}
        }
        // `while self.full():` one turn per resume.
        if self.queue_full(q) {
            if self.queue_shut_down(q) {
                self.cite(cite!("asyncio.queues.shutdown.put_raises_3_13"));
                return FrameOut::Raise(self.queue_exc("asyncio.QueueShutDown"));
            }
            self.cite(cite!("asyncio.queues.put.waits_for_slot"));
            let name = format!("{} putter", self.sync(q).name);
            let p = self.new_future(&name);
            self.queue_mut(q).putters.push_back(p);
            *putter = Some(p);
            return FrameOut::Yield(p);
        }
        match self.queue_put_nowait(q, item) {
            Ok(v) => FrameOut::Return(v),
            Err(e) => FrameOut::Raise(e),
        }
    }

    /// `join()`: `if self._unfinished_tasks > 0: await self._finished.wait()`.
    fn queue_join(&mut self, q: SyncId, waiting: &mut bool, input: Input) -> FrameOut {
        if let Input::Throw(e) = input {
            return FrameOut::Raise(e);
        }
        if *waiting {
            return FrameOut::Return(Value::None);
        }
        self.cite(cite!("asyncio.queues.join.unblocks_at_zero"));
        if self.queue(q).unfinished_tasks > 0 {
            *waiting = true;
            let event = self.queue(q).finished;
            return FrameOut::Push(Frame::Lock(LockFrame::EventWait { event, fut: None }));
        }
        FrameOut::Return(Value::None)
    }
}

// ----- Python comparisons and the C heapq ---------------------------------------------

/// `type(v).__name__`.
fn type_name(v: &Value) -> String {
    match v {
        Value::None => "NoneType".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Str(_) => "str".into(),
        Value::List(_) => "list".into(),
        Value::Bytes { .. } => "bytes".into(),
        Value::Exc(e) => e.class.rsplit('.').next().unwrap_or(&e.class).to_string(),
        #[allow(unreachable_patterns)]
        _ => "object".into(),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// `a == b` for the values a scenario can hold (exceptions compare by identity, and
/// two items are never the same exception object).
fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return x == y;
    }
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes { bytes: x }, Value::Bytes { bytes: y }) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        _ => false,
    }
}

/// `a < b`, or the TypeError's message when the types do not compare.
fn py_lt(a: &Value, b: &Value) -> Result<bool, String> {
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return Ok(x < y);
    }
    match (a, b) {
        // Code point order; for bytes each char is one byte.
        (Value::Str(x), Value::Str(y)) => Ok(x < y),
        (Value::Bytes { bytes: x }, Value::Bytes { bytes: y }) => Ok(x < y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q) {
                    return py_lt(p, q);
                }
            }
            Ok(x.len() < y.len())
        }
        _ => Err(format!(
            "'<' not supported between instances of '{}' and '{}'",
            type_name(a),
            type_name(b)
        )),
    }
}

/// `_heapq`'s `siftdown(heap, startpos, pos)`: move the item at `pos` up while it is
/// less than its parent, by swaps (a failed comparison leaves the heap as it is then).
fn heap_sift_down(heap: &mut [Value], start: usize, mut pos: usize) -> Result<(), String> {
    while pos > start {
        let parent = (pos - 1) >> 1;
        if !py_lt(&heap[pos], &heap[parent])? {
            break;
        }
        heap.swap(pos, parent);
        pos = parent;
    }
    Ok(())
}

/// `_heapq`'s `siftup(heap, pos)`: move the smaller child up until a leaf, then
/// `siftdown`.
fn heap_sift_up(heap: &mut [Value], mut pos: usize) -> Result<(), String> {
    let end = heap.len();
    let start = pos;
    let limit = end >> 1;
    while pos < limit {
        let mut child = 2 * pos + 1;
        if child + 1 < end && !py_lt(&heap[child], &heap[child + 1])? {
            child += 1;
        }
        heap.swap(pos, child);
        pos = child;
    }
    heap_sift_down(heap, start, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|&i| Value::Int(i)).collect()
    }

    #[test]
    fn heap_pops_in_order() {
        let mut heap = Vec::new();
        for i in [5, 1, 4, 1, 3, 9, 2] {
            heap.push(Value::Int(i));
            let last = heap.len() - 1;
            heap_sift_down(&mut heap, 0, last).unwrap();
        }
        let mut out = Vec::new();
        while let Some(last) = heap.pop() {
            if heap.is_empty() {
                out.push(last);
                break;
            }
            let first = std::mem::replace(&mut heap[0], last);
            heap_sift_up(&mut heap, 0).unwrap();
            out.push(first);
        }
        assert_eq!(out, ints(&[1, 1, 2, 3, 4, 5, 9]));
    }

    #[test]
    fn mixed_types_do_not_compare() {
        assert_eq!(
            py_lt(&Value::Str("a".into()), &Value::Int(1)),
            Err("'<' not supported between instances of 'str' and 'int'".into())
        );
        assert_eq!(py_lt(&Value::Bool(true), &Value::Int(2)), Ok(true));
        let a = Value::List(vec![Value::Int(1), Value::Str("b".into())]);
        let b = Value::List(vec![Value::Int(1), Value::Str("c".into())]);
        assert_eq!(py_lt(&a, &b), Ok(true));
    }
}
