//! Python objects as statements meet them: a variable may hold any object, and a
//! statement does with it what Python does: call the method when the object has it,
//! `AttributeError` when it has not, `TypeError` when it cannot be awaited or wrapped in
//! a future.
//!
//! The rules are Python's own (object.c's `'%.100s' object has no attribute '%U'`,
//! ceval's `object %.100s can't be used in 'await' expression`, `asyncio.ensure_future`'s
//! `An asyncio.Future, a coroutine or an awaitable is required`, `hash()` of a list),
//! applied to the type names CPython prints: asyncio's futures and tasks are the C types
//! `_asyncio.Future` and `_asyncio.Task` (uvloop and rloop hand out the same ones),
//! `gather()` with arguments makes a `_GatheringFuture`, a `concurrent.futures.Future`
//! prints as `Future`.

use crate::asyncio::world::{FutId, FutKind, Obj, World};
use crate::core::exception::ExcId;
use crate::core::value::{py_str_repr, Value};

/// A method a statement calls on its variable's object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `cancel()`.
    Cancel,
    /// `cancelling()`.
    Cancelling,
    /// `uncancel()`.
    Uncancel,
    /// `done()`.
    Done,
    /// `cancelled()`.
    Cancelled,
    /// `result()`.
    Result,
    /// `exception()`.
    Exception,
    /// `set_result()`.
    SetResult,
    /// `set_exception()`.
    SetException,
    /// `add_done_callback()`.
    AddDoneCallback,
    /// `Timeout.reschedule()`.
    Reschedule,
    /// `Timeout.expired()`.
    Expired,
    /// `Timeout.when()`.
    When,
    /// `TaskGroup.create_task()`.
    CreateTask,
}

impl Method {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Cancel => "cancel",
            Method::Cancelling => "cancelling",
            Method::Uncancel => "uncancel",
            Method::Done => "done",
            Method::Cancelled => "cancelled",
            Method::Result => "result",
            Method::Exception => "exception",
            Method::SetResult => "set_result",
            Method::SetException => "set_exception",
            Method::AddDoneCallback => "add_done_callback",
            Method::Reschedule => "reschedule",
            Method::Expired => "expired",
            Method::When => "when",
            Method::CreateTask => "create_task",
        }
    }
}

impl World {
    /// The object a name holds: NameError when it is unbound (`main` is the main task
    /// unless the scenario rebinds it).
    pub fn lookup(&mut self, name: &str) -> Result<Obj, ExcId> {
        match self.vars.get(name) {
            Some(obj) => Ok(obj.clone()),
            None if name == "main" && self.main.is_some() => {
                Ok(Obj::Fut(self.main.unwrap_or(FutId(0))))
            }
            None => Err(self.new_exc(
                "NameError",
                vec![Value::Str(format!("name '{name}' is not defined"))],
            )),
        }
    }

    /// `type(obj).__name__` as CPython's messages print it.
    pub fn type_name(&self, obj: &Obj) -> String {
        match obj {
            Obj::Fut(f) => match &self.fut(*f).kind {
                FutKind::Task(_) => "_asyncio.Task".into(),
                FutKind::Gathering { children, .. } if !children.is_empty() => {
                    "_GatheringFuture".into()
                }
                // `gather()` with no arguments and `shield()`'s outer are plain futures.
                _ => "_asyncio.Future".into(),
            },
            Obj::CFut(_) => "Future".into(),
            Obj::Timeout(_) => "Timeout".into(),
            Obj::Group(_) => "TaskGroup".into(),
            Obj::Value(v) => v.type_name(),
            Obj::Handle(h) => self.handle_type_name(*h),
            Obj::Exc(e) => {
                let class = &self.excs[e.0 as usize].class;
                class.rsplit('.').next().unwrap_or(class).to_string()
            }
            Obj::Sync(id) => self.sync(*id).kind.class_name().to_string(),
        }
    }

    /// Cite the native loop's own handle classes, where the program meets them.
    pub(crate) fn cite_handle_classes(&mut self) {
        use crate::core::profile::EventLoop;
        match self.profile.event_loop {
            EventLoop::Asyncio => {}
            EventLoop::Uvloop => self.cite(cite!("uvloop.loop.handles.cython_classes")),
            EventLoop::Rloop => self.cite(cite!("rloop.loop.handles.rust_classes")),
        }
    }

    /// A loop handle's type, which each loop makes its own (asyncio's are Python
    /// classes in `asyncio.events`, uvloop's Cython classes in `uvloop.loop`, rloop's
    /// Rust classes in `rloop._rloop`, a callback of no arguments being `CBHandle0`).
    fn handle_type_name(&self, h: crate::asyncio::world::TimerId) -> String {
        use crate::core::profile::EventLoop;
        let timer = self.timers[h.0 as usize].scheduled_at_creation;
        match (self.profile.event_loop, timer) {
            (EventLoop::Asyncio, false) => "Handle".into(),
            (EventLoop::Asyncio, true) => "TimerHandle".into(),
            (EventLoop::Uvloop, false) => "uvloop.loop.Handle".into(),
            (EventLoop::Uvloop, true) => "uvloop.loop.TimerHandle".into(),
            (EventLoop::Rloop, false) => "rloop._rloop.CBHandle0".into(),
            (EventLoop::Rloop, true) => "rloop._rloop.TimerHandle".into(),
        }
    }

    /// Does the object have this method?
    pub fn has_method(&self, obj: &Obj, m: Method) -> bool {
        use Method::*;
        match obj {
            Obj::Fut(f) => match m {
                Cancelling | Uncancel => self.is_task(*f),
                Cancel | Done | Cancelled | Result | Exception | SetResult | SetException
                | AddDoneCallback => true,
                Reschedule | Expired | When | CreateTask => false,
            },
            Obj::CFut(_) => matches!(
                m,
                Cancel
                    | Done
                    | Cancelled
                    | Result
                    | Exception
                    | SetResult
                    | SetException
                    | AddDoneCallback
            ),
            Obj::Timeout(_) => matches!(m, Reschedule | Expired | When),
            Obj::Group(_) => m == CreateTask,
            // A primitive's own methods are the sync statements' (`asyncio/locks.rs`).
            Obj::Value(_) | Obj::Exc(_) | Obj::Sync(_) => false,
            // `cancel()` everywhere; `cancelled()` and `when()` on timer handles (and
            // `cancelled()` on asyncio's and uvloop's plain handles too).
            Obj::Handle(h) => {
                let timer = self.timers[h.0 as usize].scheduled_at_creation;
                match m {
                    Cancel => true,
                    Cancelled => {
                        timer || self.profile.event_loop != crate::core::profile::EventLoop::Rloop
                    }
                    When => timer,
                    _ => false,
                }
            }
        }
    }

    /// `obj.method` looked up: the object, or `AttributeError("'T' object has no
    /// attribute 'm'")`.
    pub fn method_of(&mut self, name: &str, m: Method) -> Result<Obj, ExcId> {
        let obj = self.lookup(name)?;
        if self.has_method(&obj, m) {
            Ok(obj)
        } else {
            Err(self.attribute_error(&obj, m.name()))
        }
    }

    /// `AttributeError("'T' object has no attribute 'attr'")`.
    pub fn attribute_error(&mut self, obj: &Obj, attr: &str) -> ExcId {
        if let Obj::Handle(_) = obj {
            self.cite_handle_classes();
        }
        let message = format!("'{}' object has no attribute '{attr}'", self.type_name(obj));
        let e = self.new_exc("AttributeError", vec![Value::Str(message)]);
        // `AttributeError.obj` is the object looked into.
        if let Obj::Fut(f) = obj {
            self.excs[e.0 as usize].holds.push(*f);
        }
        e
    }

    /// `await obj` on something without `__await__` (ceval prints the whole `tp_name`).
    pub fn not_awaitable(&mut self, obj: &Obj) -> ExcId {
        if let Obj::Handle(_) = obj {
            self.cite_handle_classes();
        }
        let type_name = self.type_name(obj);
        self.new_exc(
            "TypeError",
            vec![Value::Str(format!(
                "object {type_name} can't be used in 'await' expression"
            ))],
        )
    }

    /// The awaited future of `await obj`, or the TypeError of awaiting it.
    pub fn awaitable_future(&mut self, obj: &Obj) -> Result<FutId, ExcId> {
        match obj {
            Obj::Fut(f) => Ok(*f),
            other => Err(self.not_awaitable(other)),
        }
    }

    /// `asyncio.ensure_future(obj)` for an object held in a variable: a future or task
    /// is itself; nothing else is awaitable here.
    pub fn ensure_future_of(&mut self, obj: &Obj) -> Result<FutId, ExcId> {
        match obj {
            Obj::Fut(f) => Ok(*f),
            _ => Err(self.new_exc(
                "TypeError",
                vec![Value::Str(
                    "An asyncio.Future, a coroutine or an awaitable is required".into(),
                )],
            )),
        }
    }

    /// `hash(obj)`, as a set or a dict key needs it: a list is unhashable.
    pub fn check_hashable(&mut self, obj: &Obj) -> Result<(), ExcId> {
        match obj {
            Obj::Value(Value::List(_)) => Err(self.new_exc(
                "TypeError",
                vec![Value::Str("unhashable type: 'list'".into())],
            )),
            _ => Ok(()),
        }
    }

    /// `repr(obj)`: values as Python prints them; objects as `<...>` (their reprs carry
    /// addresses and states, which the oracle blanks).
    pub fn repr_of(&self, obj: &Obj) -> String {
        match obj {
            Obj::Value(Value::Str(s)) => py_str_repr(s),
            Obj::Value(v) => v.to_string(),
            Obj::Exc(e) => self.exc_view(*e).to_string(),
            other => format!("<{}>", self.type_name(other)),
        }
    }
}
