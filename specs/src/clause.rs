//! What a clause is: its citation, its condition and its structured outcome.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The runtimes a clause can hold for. A clause names the ones it was checked or
/// documented for; the loader rejects any other name.
pub const RUNTIMES: &[(&str, &str)] = &[
    ("cpython-3.11", "CPython 3.11 asyncio (default event loop)"),
    ("cpython-3.12", "CPython 3.12 asyncio (default event loop)"),
    ("cpython-3.13", "CPython 3.13 asyncio (default event loop)"),
    ("uvloop", "uvloop's event loop on CPython"),
    ("rloop", "rloop's event loop on CPython"),
    ("micropython", "MicroPython's asyncio"),
    ("anyio-asyncio", "anyio 4 on its asyncio backend"),
    ("anyio-trio", "anyio 4 on its trio backend"),
];

/// The source documents under `../shared/seeds/` (see its README).
pub const SEEDS: &[(&str, &str)] = &[
    (
        "000_6026512c3219adcd.txt",
        "CPython 3.13 asyncio docs, Exceptions page",
    ),
    (
        "001_3228a06786bb01ae.txt",
        "Guide: where exceptions go, in an embedded asyncio",
    ),
    ("002_57a8096467f6710e.txt", "anyio 4.x API reference"),
    (
        "003_75c1aa0213d054a8.txt",
        "CPython 3.13 asyncio docs, Developing with asyncio",
    ),
    (
        "004_70c8ada3cb4e2fc5.txt",
        "CPython 3.13 concurrent.futures docs, exception classes",
    ),
];

/// Where a clause's rule is written down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Citation {
    /// A seed document, by file name.
    Seed(String),
    /// A public document outside the seeds.
    Url(String),
}

/// What happens when the clause's condition holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// The call raises `class`; `attrs` name the attributes it carries.
    Raises {
        /// Exception class, qualified (`asyncio.IncompleteReadError`).
        class: String,
        /// Attribute name to a description of its value.
        #[serde(default)]
        attrs: BTreeMap<String, String>,
    },
    /// The call returns `value`.
    Returns {
        /// The value, as Python would print it or in words.
        value: String,
    },
    /// An exception is stored on a future/task, to be re-raised where it is awaited.
    Stores {
        /// Exception class, or `any` for whatever was raised.
        class: String,
    },
    /// An exception passes through unchanged to the awaiter or caller.
    Propagates {
        /// Exception class, or `any`.
        class: String,
    },
    /// An exception is caught and not re-raised.
    Suppressed {
        /// Exception class.
        class: String,
    },
    /// A cancellation is requested of `target` (a task, a future, a scope's tasks).
    Cancels {
        /// What is cancelled, in words.
        target: String,
    },
    /// The loop's exception handler is called with a context.
    Reports {
        /// The context's `message`.
        message: String,
        /// The context keys that are present.
        context: Vec<String>,
    },
    /// A record goes to a logger.
    Logs {
        /// Logger name (`asyncio`).
        logger: String,
        /// Level name (`ERROR`, `WARNING`, `DEBUG`).
        level: String,
        /// The message, or its start.
        message: String,
    },
    /// A warning is emitted through the `warnings` module.
    Warns {
        /// Warning category (`RuntimeWarning`).
        class: String,
        /// The message, or its start.
        message: String,
    },
    /// A fact of the class hierarchy.
    Class {
        /// The class, qualified.
        class: String,
        /// Its direct bases.
        #[serde(default)]
        bases: Vec<String>,
        /// The class it is another name for, if it is an alias.
        #[serde(default)]
        alias_of: Option<String>,
        /// Attributes every instance carries.
        #[serde(default)]
        attrs: Vec<String>,
    },
}

impl Outcome {
    /// Every exception class the outcome names (for validation against the hierarchy).
    pub fn classes(&self) -> Vec<&str> {
        match self {
            Outcome::Raises { class, .. }
            | Outcome::Stores { class }
            | Outcome::Propagates { class }
            | Outcome::Suppressed { class }
            | Outcome::Warns { class, .. } => vec![class.as_str()],
            Outcome::Class {
                bases, alias_of, ..
            } => bases
                .iter()
                .map(String::as_str)
                .chain(alias_of.as_deref())
                .collect(),
            Outcome::Returns { .. }
            | Outcome::Cancels { .. }
            | Outcome::Reports { .. }
            | Outcome::Logs { .. } => Vec::new(),
        }
    }

    /// A one-line summary for listings.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Raises { class, attrs } if attrs.is_empty() => format!("raises {class}"),
            Outcome::Raises { class, attrs } => {
                let names: Vec<&str> = attrs.keys().map(String::as_str).collect();
                format!("raises {class}({})", names.join(", "))
            }
            Outcome::Returns { value } => format!("returns {value}"),
            Outcome::Stores { class } => format!("stores {class}"),
            Outcome::Propagates { class } => format!("propagates {class}"),
            Outcome::Suppressed { class } => format!("suppresses {class}"),
            Outcome::Cancels { target } => format!("cancels {target}"),
            Outcome::Reports { message, .. } => format!("reports {message:?}"),
            Outcome::Logs { level, message, .. } => format!("logs {level} {message:?}"),
            Outcome::Warns { class, message } => format!("warns {class} {message:?}"),
            Outcome::Class { class, .. } => format!("class {class}"),
        }
    }
}

/// One rule of the catalogue, validated.
#[derive(Clone, Debug, Serialize)]
pub struct Clause {
    /// Stable dotted id (`asyncio.streams.readexactly.eof_before_n`); never renumbered.
    pub id: String,
    /// The chapter, from the file's path (`asyncio.streams`).
    pub chapter: String,
    /// Where the rule is written.
    pub citation: Citation,
    /// A short verbatim quote from that document stating the rule.
    pub quote: String,
    /// The API the rule is about.
    pub api: String,
    /// The condition, in our words.
    pub when: String,
    /// What happens.
    pub outcome: Outcome,
    /// Runtimes (see [`RUNTIMES`]) the rule holds for.
    pub runtimes: Vec<String>,
    /// Clauses stating what runtimes do where this clause's document says otherwise.
    pub contradicted_by: Vec<String>,
    /// Where documents disagree with each other or with a runtime.
    pub notes: Option<String>,
    /// The file the clause was read from, relative to the specs folder.
    pub file: String,
    /// The line of its `id`.
    pub line: usize,
}

impl Clause {
    /// The seed file name, when the clause cites a seed.
    pub fn seed(&self) -> Option<&str> {
        match &self.citation {
            Citation::Seed(s) => Some(s),
            Citation::Url(_) => None,
        }
    }

    /// The URL, when the clause cites a public document.
    pub fn url(&self) -> Option<&str> {
        match &self.citation {
            Citation::Url(u) => Some(u),
            Citation::Seed(_) => None,
        }
    }
}
