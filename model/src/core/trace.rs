//! The trace: what a scenario run did, event by event, with virtual times.
//!
//! Events marked observable are ones an adapter can record in a real runtime without
//! changing its scheduling (statement-level facts: an await resumed, an exception caught,
//! a call returned, the handler called); the oracle compares those. The others are the
//! model's own bookkeeping, shown for people. Format version: [`TRACE_FORMAT`].

use crate::core::exception::ExcView;
use crate::core::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The trace format version (JSON field `format`).
pub const TRACE_FORMAT: u32 = 2;

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Returned a value.
    Value {
        /// The value.
        value: Value,
    },
    /// Raised an exception.
    Raised {
        /// The exception.
        exc: ExcView,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Value { value } => write!(f, "-> {value}"),
            Outcome::Raised { exc } => write!(f, "!! {exc}"),
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The task's coroutine began running.
    Start,
    /// A `mark` statement.
    Mark {
        /// Label.
        label: String,
    },
    /// A synchronous call returned or raised (`cancel()`, `uncancel()`, `result()`...).
    Call {
        /// What was called, as Python code (`t.cancel()`).
        call: String,
        /// What it gave.
        outcome: Outcome,
    },
    /// A `raise` statement raised.
    Raise {
        /// The exception.
        exc: ExcView,
    },
    /// An `except` clause caught.
    Catch {
        /// The exception.
        exc: ExcView,
    },
    /// An await finished (`await t`, `await asyncio.sleep(1)`).
    Resume {
        /// What was awaited, as Python code.
        awaited: String,
        /// What it gave.
        outcome: Outcome,
    },
    /// The task's coroutine finished (returned, or an exception left it).
    Exit {
        /// How.
        outcome: Outcome,
    },
    /// The loop's exception handler was called.
    Report {
        /// `context['message']`.
        message: String,
        /// The context's keys, sorted.
        context: Vec<String>,
        /// `context['exception']`.
        #[serde(skip_serializing_if = "Option::is_none")]
        exception: Option<ExcView>,
        /// `default` or `custom`.
        handler: String,
        /// True when a runtime may report it at any point after it becomes due
        /// (garbage collection timing): the oracle lets it float.
        #[serde(default)]
        floating: bool,
    },
    /// A warning went through the warnings module.
    Warning {
        /// Category.
        category: String,
        /// Message.
        message: String,
    },
    /// A record went to the `asyncio` logger (other than through the handler).
    Log {
        /// Level.
        level: String,
        /// Message.
        message: String,
    },
    /// A recorded done callback ran.
    Callback {
        /// The future or task it was added to.
        target: String,
        /// The state it saw.
        outcome: Outcome,
    },
    /// `asyncio.run()` returned or raised.
    Finished {
        /// How.
        outcome: Outcome,
    },
    /// The run hit a limit or deadlocked.
    Limit {
        /// Which.
        what: String,
    },
    /// Model bookkeeping: a task was created (its first step is scheduled).
    TaskCreated {
        /// The new task's name.
        name: String,
    },
    /// Model bookkeeping: a task's future became done.
    TaskDone {
        /// `result`, `exception` or `cancelled`, with detail.
        state: String,
    },
    /// Model bookkeeping: a cancellation was requested of a task or future.
    CancelRequest {
        /// The task or future.
        target: String,
        /// Message.
        #[serde(skip_serializing_if = "Option::is_none")]
        msg: Option<String>,
    },
    /// Model bookkeeping: a timeout's deadline passed.
    TimeoutExpired,
    /// The network delivered to a stream reader (`feed_data`, `feed_eof`, or
    /// `set_exception` for a reset), from the scenario's delivery schedule.
    Delivered {
        /// The reader's name.
        reader: String,
        /// `data b'...'`, `eof` or `reset`.
        what: String,
    },
}

impl EventKind {
    /// Can an adapter record this without changing scheduling?
    pub fn observable(&self) -> bool {
        !matches!(
            self,
            EventKind::TaskCreated { .. }
                | EventKind::TaskDone { .. }
                | EventKind::CancelRequest { .. }
                | EventKind::TimeoutExpired
        )
    }
}

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Loop time (virtual seconds).
    pub time: f64,
    /// The task it happened in, or the loop (`None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// Clause ids the transition that produced it implements (not part of what an
    /// adapter reports).
    #[serde(skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    pub clauses: Vec<&'static str>,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trace {
    /// [`TRACE_FORMAT`].
    pub format: u32,
    /// Scenario name.
    pub scenario: String,
    /// Profile run.
    pub profile: String,
    /// Loop callbacks and statements executed (the model's unit of work).
    pub steps: u64,
    /// Events in order.
    pub events: Vec<Event>,
    /// Choice points met: at each, how many options there were (for exploration).
    pub choices: Vec<usize>,
    /// At each choice point, how many events had been written (where it was met).
    pub choice_events: Vec<usize>,
}

impl Trace {
    /// The text form: one line per event, `time  task  what  [clauses]`.
    pub fn to_text(&self, with_clauses: bool) -> String {
        let mut out = String::new();
        for e in &self.events {
            let task = e.task.as_deref().unwrap_or("-");
            let marker = if e.kind.observable() { ' ' } else { '~' };
            let mut line = format!("{:>8.3} {marker}{:<10} {}", e.time, task, describe(&e.kind));
            if with_clauses && !e.clauses.is_empty() {
                line.push_str(&format!("  [{}]", e.clauses.join(" ")));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// A stable 64-bit hash (FNV-1a) of the canonical JSON, for determinism checks.
    pub fn hash64(&self) -> u64 {
        let json = serde_json::to_string(self).unwrap_or_default();
        json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
}

/// One event's text, as trace lines show it.
pub fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::Start => "start".into(),
        EventKind::Mark { label } => format!("mark {label}"),
        EventKind::Delivered { reader, what } => format!("{reader} <- {what}"),
        EventKind::Call { call, outcome } => format!("{call} {outcome}"),
        EventKind::Raise { exc } => format!("raise {exc}"),
        EventKind::Catch { exc } => format!("except {exc}"),
        EventKind::Resume { awaited, outcome } => format!("await {awaited} {outcome}"),
        EventKind::Exit { outcome } => format!("exit {outcome}"),
        EventKind::Report {
            message,
            context,
            exception,
            handler,
            floating,
        } => {
            let exc = exception
                .as_ref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            let when = if *floating { " (gc)" } else { "" };
            format!(
                "{handler} handler: {message:?}{exc} keys={}{when}",
                context.join(",")
            )
        }
        EventKind::Warning { category, message } => format!("warning {category}: {message}"),
        EventKind::Log { level, message } => format!("log {level}: {message}"),
        EventKind::Callback { target, outcome } => format!("callback on {target} {outcome}"),
        EventKind::Finished { outcome } => format!("asyncio.run() {outcome}"),
        EventKind::Limit { what } => format!("limit: {what}"),
        EventKind::TaskCreated { name } => format!("create task {name}"),
        EventKind::TaskDone { state } => format!("task done: {state}"),
        EventKind::CancelRequest { target, msg } => match msg {
            Some(m) => format!("cancel requested of {target} ({m:?})"),
            None => format!("cancel requested of {target}"),
        },
        EventKind::TimeoutExpired => "timeout expired".into(),
    }
}
