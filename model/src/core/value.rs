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
    /// A bytes object; `bytes` holds one char per byte (Latin-1), as JSON
    /// `{"bytes": "..."}`.
    Bytes {
        /// The bytes, one char each.
        bytes: String,
    },
    /// An exception object as a value (gather with return_exceptions, Future.exception()).
    Exc(crate::core::exception::ExcView),
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
            Value::Bytes { bytes } => write!(f, "{}", bytes_repr(bytes)),
        }
    }
}

impl Value {
    /// A bytes value from raw bytes.
    pub fn from_bytes(data: &[u8]) -> Value {
        Value::Bytes {
            bytes: data.iter().map(|&b| b as char).collect(),
        }
    }
}

/// The raw bytes of a `{"bytes": ...}` string (chars above U+00FF are not bytes).
pub fn bytes_of(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Python's `repr(bytes)`: single quotes unless the data has `'` and no `"`.
fn bytes_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..='~').contains(&c) => out.push(c),
            c => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        }
    }
    out.push(quote);
    out
}
