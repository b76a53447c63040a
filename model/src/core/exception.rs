//! Python exception objects as model data: classes, the hierarchy, and instances.
//!
//! An exception in flight is a value (`ExcId`) carried by the model's frames, never a
//! Rust panic. Identity matters (`raise` re-raises the same object; `Future.result()`
//! raises the stored object), so instances live in an arena and are named by index.

use crate::core::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Index of an exception instance in the world's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ExcId(pub u32);

/// One exception instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExcObj {
    /// Class name as Python prints it (`ValueError`, `asyncio.CancelledError`).
    pub class: String,
    /// `args`.
    pub args: Vec<Value>,
    /// `__cause__` (`raise ... from ...`).
    pub cause: Option<ExcId>,
    /// `__context__`: the exception being handled when this one was last raised.
    pub context: Option<ExcId>,
    /// `__suppress_context__` (set by `raise ... from ...`, `from None` included).
    pub suppress_context: bool,
    /// For exception groups: the contained exceptions.
    pub group: Vec<ExcId>,
    /// Attributes beyond `args` that decide what a handler sees
    /// (`IncompleteReadError.partial`, `LimitOverrunError.consumed`).
    pub attrs: std::collections::BTreeMap<String, Value>,
    /// The tasks whose coroutines its `__traceback__` holds (each raise out of a task
    /// adds one; a future re-raising it restores the traceback it stored). What the
    /// traceback holds stays alive as long as the exception does.
    pub tb_tasks: Vec<crate::asyncio::world::FutId>,
    /// Futures it refers to otherwise, for as long as it lives: `AttributeError.obj`
    /// (set by every failed attribute lookup since 3.10).
    pub holds: Vec<crate::asyncio::world::FutId>,
}

/// The built-in part of the hierarchy: class to its bases (most derived first).
/// Exception groups have two bases, as in Python.
const BUILTIN_BASES: &[(&str, &[&str])] = &[
    ("BaseException", &[]),
    ("Exception", &["BaseException"]),
    ("asyncio.CancelledError", &["BaseException"]),
    ("KeyboardInterrupt", &["BaseException"]),
    ("SystemExit", &["BaseException"]),
    ("GeneratorExit", &["BaseException"]),
    ("BaseExceptionGroup", &["BaseException"]),
    ("ExceptionGroup", &["BaseExceptionGroup", "Exception"]),
    ("RuntimeError", &["Exception"]),
    ("NotImplementedError", &["RuntimeError"]),
    ("NameError", &["Exception"]),
    ("AttributeError", &["Exception"]),
    ("concurrent.futures.InvalidStateError", &["Exception"]),
    ("ValueError", &["Exception"]),
    ("TypeError", &["Exception"]),
    ("KeyError", &["LookupError"]),
    ("IndexError", &["LookupError"]),
    ("LookupError", &["Exception"]),
    ("ZeroDivisionError", &["ArithmeticError"]),
    ("ArithmeticError", &["Exception"]),
    ("AssertionError", &["Exception"]),
    ("StopIteration", &["Exception"]),
    ("EOFError", &["Exception"]),
    ("OSError", &["Exception"]),
    ("TimeoutError", &["OSError"]),
    ("ConnectionError", &["OSError"]),
    ("ConnectionResetError", &["ConnectionError"]),
    ("BrokenPipeError", &["ConnectionError"]),
    ("asyncio.InvalidStateError", &["Exception"]),
    ("asyncio.IncompleteReadError", &["EOFError"]),
    ("asyncio.LimitOverrunError", &["Exception"]),
    ("asyncio.SendfileNotAvailableError", &["RuntimeError"]),
    ("io.UnsupportedOperation", &["OSError", "ValueError"]),
    ("asyncio.BrokenBarrierError", &["RuntimeError"]),
    ("asyncio.QueueEmpty", &["Exception"]),
    ("asyncio.QueueFull", &["Exception"]),
    ("asyncio.QueueShutDown", &["Exception"]),
];

/// Names scenarios may use for the same class (`CancelledError` is asyncio's).
const ALIASES: &[(&str, &str)] = &[
    ("CancelledError", "asyncio.CancelledError"),
    ("asyncio.TimeoutError", "TimeoutError"),
    ("InvalidStateError", "asyncio.InvalidStateError"),
    ("IncompleteReadError", "asyncio.IncompleteReadError"),
    ("LimitOverrunError", "asyncio.LimitOverrunError"),
    ("BrokenBarrierError", "asyncio.BrokenBarrierError"),
    ("QueueEmpty", "asyncio.QueueEmpty"),
    ("QueueFull", "asyncio.QueueFull"),
    ("QueueShutDown", "asyncio.QueueShutDown"),
];

/// The class hierarchy: built-ins plus the scenario's own classes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hierarchy {
    user: BTreeMap<String, String>,
}

impl Hierarchy {
    /// A hierarchy with the scenario's classes (`name -> base`) added.
    pub fn with_user_classes(user: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut h = Hierarchy::default();
        for (name, base) in user {
            if h.is_known(name) {
                return Err(format!("exception class {name:?} is already defined"));
            }
            h.user.insert(name.clone(), base.clone());
        }
        for (name, base) in user {
            if !h.is_known(base) {
                return Err(format!(
                    "exception class {name:?} has unknown base {base:?}"
                ));
            }
        }
        Ok(h)
    }

    /// The canonical name for a class name or alias.
    pub fn canonical<'a>(&self, name: &'a str) -> &'a str {
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map(|(_, real)| *real)
            .unwrap_or(name)
    }

    /// Is this a class the model knows?
    pub fn is_known(&self, name: &str) -> bool {
        let name = self.canonical(name);
        self.user.contains_key(name) || BUILTIN_BASES.iter().any(|(c, _)| *c == name)
    }

    fn bases(&self, name: &str) -> Vec<&str> {
        if let Some(base) = self.user.get(name) {
            return vec![base.as_str()];
        }
        BUILTIN_BASES
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, b)| b.to_vec())
            .unwrap_or_default()
    }

    /// `issubclass(class, base)`.
    pub fn is_subclass(&self, class: &str, base: &str) -> bool {
        let class = self.canonical(class);
        let base = self.canonical(base);
        if class == base {
            return true;
        }
        // The hierarchy is a small DAG; a depth bound guards against a cyclic user table.
        self.is_subclass_bounded(class, base, 32)
    }

    /// The catalogue's class facts that decide whether `except handler` matches an
    /// exception of `class`; the try statement cites them so a trace shows which
    /// hierarchy rule let a handler catch (or pass over) an exception.
    pub fn deciding_facts(&self, class: &str, handler: &str) -> Vec<&'static str> {
        let mut facts = Vec::new();
        if class == "asyncio.TimeoutError" || handler == "asyncio.TimeoutError" {
            // Since 3.11 one class under two names: `except asyncio.TimeoutError`
            // catches what `asyncio.timeout()` raises, and vice versa.
            facts.push(cite!("exceptions.asyncio.timeout_error.alias_of_builtin"));
        }
        let (class, handler) = (self.canonical(class), self.canonical(handler));
        match class {
            "asyncio.CancelledError" if matches!(handler, "Exception" | "BaseException") => {
                // `except Exception` lets a cancellation through; `except BaseException`
                // catches it.
                facts.push(cite!("exceptions.asyncio.cancelled_error.base_exception"));
            }
            "asyncio.InvalidStateError" if handler == "Exception" => {
                facts.push(cite!("exceptions.asyncio.invalid_state_error.class"));
            }
            "asyncio.SendfileNotAvailableError" if handler == "RuntimeError" => {
                facts.push(cite!(
                    "exceptions.asyncio.sendfile_not_available_error.runtime_error"
                ));
            }
            "asyncio.IncompleteReadError" if handler == "EOFError" => {
                facts.push(cite!("exceptions.asyncio.incomplete_read_error.eof_error"));
            }
            "asyncio.LimitOverrunError" if handler == "Exception" => {
                facts.push(cite!("exceptions.asyncio.limit_overrun_error.class"));
            }
            "asyncio.BrokenBarrierError" if handler == "RuntimeError" => {
                facts.push(cite!(
                    "exceptions.asyncio.broken_barrier_error.runtime_error"
                ));
            }
            "asyncio.QueueEmpty" if handler == "Exception" => {
                facts.push(cite!("exceptions.asyncio.queue_empty.class"));
            }
            "asyncio.QueueFull" if handler == "Exception" => {
                facts.push(cite!("exceptions.asyncio.queue_full.class"));
            }
            "asyncio.QueueShutDown" if handler == "Exception" => {
                facts.push(cite!("exceptions.asyncio.queue_shut_down.class"));
            }
            _ => {}
        }
        facts
    }

    fn is_subclass_bounded(&self, class: &str, base: &str, depth: u32) -> bool {
        if depth == 0 {
            return false;
        }
        self.bases(class)
            .into_iter()
            .any(|b| b == base || self.is_subclass_bounded(b, base, depth - 1))
    }
}

/// What calling an exception class with `args` makes: the instance's `args` and
/// attributes, or the TypeError message when the call itself fails.
///
/// Most classes keep their arguments as `args`. The stream errors build theirs
/// (Lib/asyncio/exceptions.py, the same in 3.11-3.13): `IncompleteReadError(partial,
/// expected)` has the one argument `'{len(partial)} bytes read on a total of
/// {repr(expected) or 'undefined'} expected bytes'` and the attributes `partial`,
/// `expected`; `LimitOverrunError(message, consumed)` has `args == (message,)` and the
/// attribute `consumed`.
pub fn construct(
    class: &str,
    args: &[Value],
) -> Result<(Vec<Value>, BTreeMap<String, Value>), String> {
    let arity = |short: &str, names: [&str; 2]| -> Result<(), String> {
        match args.len() {
            2 => Ok(()),
            0 => Err(format!(
                "{short}.__init__() missing 2 required positional arguments: '{}' and '{}'",
                names[0], names[1]
            )),
            1 => Err(format!(
                "{short}.__init__() missing 1 required positional argument: '{}'",
                names[1]
            )),
            n => Err(format!(
                "{short}.__init__() takes 3 positional arguments but {} were given",
                n + 1
            )),
        }
    };
    let mut attrs = BTreeMap::new();
    match class {
        "asyncio.IncompleteReadError" => {
            arity("IncompleteReadError", ["partial", "expected"])?;
            let len = match &args[0] {
                Value::Bytes { bytes } => bytes.chars().count(),
                Value::Str(s) => s.chars().count(),
                Value::List(items) => items.len(),
                other => {
                    return Err(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    ))
                }
            };
            let expected = match &args[1] {
                Value::None => "undefined".to_string(),
                v => v.to_string(),
            };
            attrs.insert("partial".into(), args[0].clone());
            attrs.insert("expected".into(), args[1].clone());
            let message = format!("{len} bytes read on a total of {expected} expected bytes");
            Ok((vec![Value::Str(message)], attrs))
        }
        "asyncio.LimitOverrunError" => {
            arity("LimitOverrunError", ["message", "consumed"])?;
            attrs.insert("consumed".into(), args[1].clone());
            Ok((vec![args[0].clone()], attrs))
        }
        _ => Ok((args.to_vec(), attrs)),
    }
}

/// How deep a view follows an exception's `__cause__`, `__context__` and group members
/// (each step one level): deeper links are left out, by the model and the adapter
/// alike, so a long chain cannot make a trace grow without bound.
pub const VIEW_DEPTH_MAX: u32 = 3;

/// An exception as traces show it: `ValueError('boom')`, with its chain:
/// `KeyError('k') from ValueError('v') during ValueError('v')`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExcView {
    /// Class name.
    pub class: String,
    /// Arguments.
    pub args: Vec<Value>,
    /// For groups, the members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<ExcView>,
    /// Attributes beyond `args` (`partial`, `expected`, `consumed`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attrs: std::collections::BTreeMap<String, Value>,
    /// `__cause__`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<ExcView>>,
    /// `__context__`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Box<ExcView>>,
    /// `__suppress_context__`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppress_context: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ExcView {
    /// A view with no chain, group or attributes: `Class(*args)`.
    pub fn plain(class: &str, args: Vec<Value>) -> ExcView {
        ExcView {
            class: class.to_string(),
            args,
            group: Vec::new(),
            attrs: Default::default(),
            cause: None,
            context: None,
            suppress_context: false,
        }
    }
}

impl fmt::Display for ExcView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.class)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{a}")?;
        }
        if !self.group.is_empty() {
            if !self.args.is_empty() {
                write!(f, ", ")?;
            }
            write!(f, "[")?;
            for (i, g) in self.group.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{g}")?;
            }
            write!(f, "]")?;
        }
        for (i, (k, v)) in self.attrs.iter().enumerate() {
            if i > 0 || !self.args.is_empty() || !self.group.is_empty() {
                write!(f, ", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        write!(f, ")")?;
        match &self.cause {
            Some(c) => write!(f, " from {c}")?,
            None if self.suppress_context => write!(f, " from None")?,
            None => {}
        }
        if let Some(c) = &self.context {
            write!(f, " during {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_error_is_not_an_exception() {
        let h = Hierarchy::default();
        assert!(h.is_subclass("CancelledError", "BaseException"));
        assert!(!h.is_subclass("asyncio.CancelledError", "Exception"));
    }

    #[test]
    fn timeout_error_alias_and_os_error_base() {
        let h = Hierarchy::default();
        assert!(h.is_subclass("asyncio.TimeoutError", "TimeoutError"));
        assert!(h.is_subclass("TimeoutError", "OSError"));
    }

    #[test]
    fn exception_group_has_two_bases() {
        let h = Hierarchy::default();
        assert!(h.is_subclass("ExceptionGroup", "Exception"));
        assert!(h.is_subclass("ExceptionGroup", "BaseExceptionGroup"));
        assert!(!h.is_subclass("BaseExceptionGroup", "Exception"));
    }

    #[test]
    fn user_classes_extend_the_hierarchy() {
        let mut user = BTreeMap::new();
        user.insert("MyError".to_string(), "ValueError".to_string());
        let h = Hierarchy::with_user_classes(&user).unwrap();
        assert!(h.is_subclass("MyError", "Exception"));
        user.insert("Bad".to_string(), "Nope".to_string());
        assert!(Hierarchy::with_user_classes(&user).is_err());
    }

    #[test]
    fn handler_tests_cite_only_the_facts_that_decide_them() {
        let h = Hierarchy::default();
        assert_eq!(
            h.deciding_facts("TimeoutError", "asyncio.TimeoutError"),
            ["exceptions.asyncio.timeout_error.alias_of_builtin"]
        );
        assert_eq!(
            h.deciding_facts("CancelledError", "Exception"),
            ["exceptions.asyncio.cancelled_error.base_exception"]
        );
        assert!(h
            .deciding_facts("CancelledError", "CancelledError")
            .is_empty());
        assert!(h.deciding_facts("ValueError", "Exception").is_empty());
    }
}
