//! Python values as scenarios and traces carry them: None, bools, ints, strings, lists,
//! and references to model objects (tasks, futures, exceptions).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value. Scenarios write plain JSON (`null`, `true`, `3`, `"x"`, `[..]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A str.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// An exception object as a value (gather with return_exceptions, Future.exception()).
    Exc(crate::exception::ExcView),
}

impl fmt::Display for Value {
    /// As Python's `repr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => write!(f, "None"),
            Value::Bool(true) => write!(f, "True"),
            Value::Bool(false) => write!(f, "False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Exc(e) => write!(f, "{e}"),
        }
    }
}
