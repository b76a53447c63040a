//! The oracle: is a real runtime's trace one the model allows?
//!
//! Checking is trace inclusion, not string equality. The model's choice points (orders
//! the documents leave undefined) are searched, guided by the real trace, up to
//! [`SEARCH_RUNS_MAX`] model runs; the real trace conforms if it equals one the model
//! produces, comparing only observable events. Events whose timing is the garbage collector's (never-retrieved
//! reports, never-awaited warnings) float: they are compared as a set. Object reprs in
//! messages (`<...>`) are blanked (they are runtime-specific).

use asyncspec_model::trace::{describe, Event, EventKind, Trace};
use asyncspec_model::{EventLoop, Profile, RunError, Scenario};
use serde::Serialize;

/// The oracle's answer for one scenario.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The real trace is one the model allows.
    Conforms {
        /// How many allowed traces the model produced.
        allowed: usize,
    },
    /// It is one the runtime's own loop rules allow, but not one the documented
    /// (asyncio) rules allow: a known divergence, explained by `clauses`.
    Known {
        /// The loop's clauses (catalogue ids) that the run went through.
        clauses: Vec<String>,
        /// Where it leaves the documented behaviour.
        documented: Box<Divergence>,
    },
    /// It is not.
    Diverges(Divergence),
    /// The model cannot say (it hit a step limit, or a recursion CPython turns into
    /// RecursionError); not counted as passing.
    Inconclusive {
        /// Why.
        reason: String,
    },
}

/// Where a real trace leaves every allowed one.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// Index (among observable events) of the first event that differs.
    pub index: usize,
    /// What the model allowed there (text form), if anything.
    pub expected: Option<String>,
    /// What the runtime did there, if anything.
    pub actual: Option<String>,
    /// Clause ids of the model's transitions at and just before that point.
    pub clauses: Vec<String>,
    /// The closest allowed trace (observable events, text form); after
    /// [`Divergence::bound`], only the lines around the first difference.
    pub model: Vec<String>,
    /// The runtime's trace (text form); bounded like `model`.
    pub real: Vec<String>,
    /// Floating events (gc reports, warnings) that differ: model-only, then runtime-only.
    pub floating_mismatch: Option<(Vec<String>, Vec<String>)>,
    /// What [`Divergence::bound`] left out (absent when nothing was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

/// How much of a divergence's traces a bounded report leaves out.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Cut {
    /// Index of the first line kept (`model[0]` is event #first).
    pub first: usize,
    /// Lines in the whole model trace and the whole runtime trace.
    pub model_len: usize,
    /// See `model_len`.
    pub real_len: usize,
    /// Floating events left out: model-only, runtime-only.
    pub floating_left_out: (usize, usize),
}

/// Events shown before and after the first difference in a bounded report.
pub const REPORT_CONTEXT: usize = 12;

/// Most floating events listed per side in a bounded report.
pub const REPORT_FLOATING_MAX: usize = 12;

impl Divergence {
    /// One line: where the runtime parts from the model (`did X instead of Y`), or,
    /// when the ordered events agree, which floating events differ.
    pub fn headline(&self) -> String {
        if self.expected.is_none() && self.actual.is_none() {
            if let Some((model_only, real_only)) = &self.floating_mismatch {
                let list = |v: &[String]| {
                    if v.is_empty() {
                        "nothing".to_string()
                    } else {
                        v.join("; ")
                    }
                };
                return format!(
                    "floating events differ: the runtime reported {} where the model has {}",
                    list(real_only),
                    list(model_only)
                );
            }
        }
        format!(
            "at event #{}: {} instead of {}",
            self.index,
            self.actual.as_deref().unwrap_or("(end of trace)").trim(),
            self.expected.as_deref().unwrap_or("(end of trace)").trim()
        )
    }

    /// Keep only `context` lines either side of the first difference and the first
    /// [`REPORT_FLOATING_MAX`] floating events per side; the rest is counted. A
    /// 100,000-event divergence printed both traces whole (111 MB), and every result
    /// of a run kept them until its end.
    pub fn bound(&mut self, context: usize) {
        let len = self.model.len().max(self.real.len());
        let first = self.index.saturating_sub(context);
        let end = (self.index + context + 1).min(len);
        let mut cut = Cut {
            first,
            model_len: self.model.len(),
            real_len: self.real.len(),
            floating_left_out: (0, 0),
        };
        let window = |v: &mut Vec<String>| {
            let keep: Vec<String> = v
                .iter()
                .skip(first)
                .take(end.saturating_sub(first))
                .cloned()
                .collect();
            *v = keep;
        };
        window(&mut self.model);
        window(&mut self.real);
        if let Some((m, r)) = &mut self.floating_mismatch {
            cut.floating_left_out = (
                m.len().saturating_sub(REPORT_FLOATING_MAX),
                r.len().saturating_sub(REPORT_FLOATING_MAX),
            );
            m.truncate(REPORT_FLOATING_MAX);
            r.truncate(REPORT_FLOATING_MAX);
        }
        let whole = first == 0 && end >= len && cut.floating_left_out == (0, 0);
        self.cut = (!whole).then_some(cut);
    }

    /// A readable report: the first difference, its clauses, both traces side by side.
    pub fn report(&self) -> String {
        let mut out = String::new();
        if self.expected.is_some() || self.actual.is_some() {
            out.push_str(&format!(
                "first difference at observable event #{}:\n",
                self.index
            ));
            out.push_str(&format!(
                "  model allowed: {}\n",
                self.expected.as_deref().unwrap_or("(end of trace)")
            ));
            out.push_str(&format!(
                "  runtime did:   {}\n",
                self.actual.as_deref().unwrap_or("(end of trace)")
            ));
        } else {
            out.push_str("the ordered events agree; only floating events differ\n");
        }
        if !self.clauses.is_empty() {
            out.push_str(&format!("  clauses: {}\n", self.clauses.join(" ")));
        }
        let cut = self.cut.clone().unwrap_or(Cut {
            first: 0,
            model_len: self.model.len(),
            real_len: self.real.len(),
            floating_left_out: (0, 0),
        });
        if let Some((model_only, real_only)) = &self.floating_mismatch {
            out.push_str("  floating events differ:\n");
            for m in model_only {
                out.push_str(&format!("    model only:   {m}\n"));
            }
            if cut.floating_left_out.0 > 0 {
                out.push_str(&format!(
                    "    ... and {} more model-only\n",
                    cut.floating_left_out.0
                ));
            }
            for r in real_only {
                out.push_str(&format!("    runtime only: {r}\n"));
            }
            if cut.floating_left_out.1 > 0 {
                out.push_str(&format!(
                    "    ... and {} more runtime-only\n",
                    cut.floating_left_out.1
                ));
            }
        }
        let width = self
            .model
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(20, 70);
        out.push_str(&format!("  {:<width$} | runtime\n", "model"));
        if cut.first > 0 {
            out.push_str(&format!("  ... {} events before\n", cut.first));
        }
        for i in 0..self.model.len().max(self.real.len()) {
            let m = self.model.get(i).map(String::as_str).unwrap_or("");
            let r = self.real.get(i).map(String::as_str).unwrap_or("");
            let mark = if i + cut.first == self.index {
                '>'
            } else if m == r {
                ' '
            } else {
                '!'
            };
            let m: String = m.chars().take(width).collect();
            out.push_str(&format!("{mark} {m:<width$} | {r}\n"));
        }
        let shown = cut.first + self.model.len().max(self.real.len());
        let (model_after, real_after) = (
            cut.model_len.saturating_sub(shown),
            cut.real_len.saturating_sub(shown),
        );
        if model_after + real_after > 0 {
            out.push_str(&format!(
                "  ... {model_after} more model events, {real_after} more runtime events (whole traces: --report-dir)\n"
            ));
        }
        out
    }
}

/// Blank out object reprs (`<...>`, nested) and file locations: they differ between
/// runtimes and runs. A callback's report keeps only its fixed prefix.
fn normalise_text(s: &str) -> String {
    if s.starts_with("Exception in callback") {
        return "Exception in callback".into();
    }
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '<' => {
                if depth == 0 {
                    out.push_str("<>");
                }
                depth += 1;
            }
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim_end().to_string()
}

fn normalise_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = normalise_text(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(normalise_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(normalise_json),
        _ => {}
    }
}

fn is_floating(kind: &EventKind) -> bool {
    match kind {
        EventKind::Report {
            message, floating, ..
        } => {
            *floating
                || message.contains("was never retrieved")
                || message.contains("was destroyed but it is pending")
        }
        EventKind::Warning { message, .. } => message.contains("was never awaited"),
        _ => false,
    }
}

/// The comparable form of an event: normalised JSON without clauses.
fn key(e: &Event, with_time_and_task: bool) -> String {
    let mut kind = e.kind.clone();
    match &mut kind {
        EventKind::Limit { what } => {
            *what = what.split([' ', ':']).next().unwrap_or("").to_string()
        }
        EventKind::Warning { message, .. } => {
            *message = message.lines().next().unwrap_or("").to_string()
        }
        EventKind::Report { floating, .. } => *floating = false,
        _ => {}
    }
    let mut v = serde_json::to_value(&kind).unwrap_or_default();
    normalise_json(&mut v);
    if with_time_and_task {
        format!("{:.9} {} {v}", e.time, task_key(e.task.as_deref()))
    } else {
        v.to_string()
    }
}

/// A task's name as compared: asyncio's default names (`Task-N`) come from a
/// process-wide counter (it depends on every task the process made before), so any
/// default name matches any other.
fn task_key(task: Option<&str>) -> &str {
    match task {
        None => "-",
        Some(t)
            if t.strip_prefix("Task-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            "Task-N"
        }
        Some(t) => t,
    }
}

/// An event's text line.
pub fn line(e: &Event) -> String {
    format!(
        "{:>8.3} {:<10} {}",
        e.time,
        e.task.as_deref().unwrap_or("-"),
        describe(&e.kind)
    )
}

struct Split<'a> {
    ordered: Vec<&'a Event>,
    /// Floating events that must match one for one (never-retrieved reports).
    floating: Vec<String>,
    /// Floating events a runtime may leave out: reports and warnings about objects
    /// finalized at exit, which a collector need not finalize (pending tasks, their
    /// unstarted coroutines).
    optional: Vec<String>,
}

fn is_optional(kind: &EventKind) -> bool {
    match kind {
        EventKind::Report { message, .. } => message.contains("was destroyed but it is pending"),
        EventKind::Warning { message, .. } => message.contains("was never awaited"),
        _ => false,
    }
}

fn split(events: &[Event]) -> Split<'_> {
    let mut ordered = Vec::new();
    let mut floating = Vec::new();
    let mut optional = Vec::new();
    for e in events.iter().filter(|e| e.kind.observable()) {
        if is_optional(&e.kind) {
            optional.push(key(e, false));
        } else if is_floating(&e.kind) {
            floating.push(key(e, false));
        } else {
            ordered.push(e);
        }
    }
    floating.sort();
    optional.sort();
    Split {
        ordered,
        floating,
        optional,
    }
}

/// What is left of `a` after matching it one for one against `b` (repeats counted).
fn unmatched(a: &[String], b: &[String]) -> Vec<String> {
    let mut left = b.to_vec();
    a.iter()
        .filter(|k| match left.iter().position(|x| x == *k) {
            Some(i) => {
                left.remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}

fn floating_agree(model: &Split<'_>, real: &Split<'_>) -> bool {
    model.floating == real.floating && unmatched(&real.optional, &model.optional).is_empty()
}

/// Most model runs spent searching the allowed orders for one scenario, unless the
/// environment variable [`SEARCH_RUNS_ENV`] says otherwise.
pub const SEARCH_RUNS_MAX: usize = 20_000;

/// Environment variable overriding [`SEARCH_RUNS_MAX`].
pub const SEARCH_RUNS_ENV: &str = "ASYNCSPEC_SEARCH_RUNS";

fn search_runs_max() -> usize {
    std::env::var(SEARCH_RUNS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEARCH_RUNS_MAX)
}

/// Hold a real trace (events as the adapter reported them) against the model.
///
/// The search is guided by the real trace: it starts from the canonical choices, and
/// only re-decides a choice point met before the first event where the model and the
/// runtime part (a later choice cannot change an earlier event).
///
/// On uvloop and rloop a trace their loop's rules allow is then held against asyncio's
/// rules for the same CPython: if those do not allow it, the verdict is `Known`.
pub fn check(scenario: &Scenario, profile: Profile, real: &[Event]) -> Result<Verdict, RunError> {
    let verdict = check_profile(scenario, profile, real)?;
    if profile.event_loop == EventLoop::Asyncio || !matches!(verdict, Verdict::Conforms { .. }) {
        return Ok(verdict);
    }
    match check_profile(scenario, profile.on(EventLoop::Asyncio), real)? {
        Verdict::Diverges(documented) => {
            let prefix = format!("{}.", profile.runtime());
            let mut clauses: Vec<String> = asyncspec_model::run(scenario, profile, &[])?
                .events
                .iter()
                .flat_map(|e| e.clauses.iter())
                .filter(|c| c.starts_with(&prefix))
                .map(|c| c.to_string())
                .collect();
            clauses.sort();
            clauses.dedup();
            Ok(Verdict::Known {
                clauses,
                documented: Box::new(documented),
            })
        }
        _ => Ok(verdict),
    }
}

/// [`check`] under one profile.
fn check_profile(
    scenario: &Scenario,
    profile: Profile,
    real: &[Event],
) -> Result<Verdict, RunError> {
    let canonical = asyncspec_model::run(scenario, profile, &[])?;
    if let Some(Event {
        kind: EventKind::Limit { what },
        ..
    }) = canonical.events.last()
    {
        if what.starts_with("steps_max")
            || what.starts_with("cancel() recursion")
            || what.starts_with("eager start recursion")
            || what.starts_with("not modelled")
        {
            return Ok(Verdict::Inconclusive {
                reason: what.clone(),
            });
        }
    }
    let budget = search_runs_max();
    // A run that ends at a limit has no collection phase in the model, and what the
    // runtime's reference counting reported before the limit is not modelled: compare
    // such runs without their floating events.
    let ended_at_limit = matches!(
        canonical.events.last(),
        Some(Event {
            kind: EventKind::Limit { .. },
            ..
        })
    );
    let real_split = {
        let mut s = split(real);
        if ended_at_limit {
            s.floating.clear();
            s.optional.clear();
        }
        s
    };
    let real_keys: Vec<String> = real_split.ordered.iter().map(|e| key(e, true)).collect();
    // Best-first: always extend the run whose trace agrees with the runtime longest.
    let mut frontier: std::collections::BinaryHeap<(usize, usize, std::cmp::Reverse<usize>)> =
        Default::default();
    let mut runs: Vec<(Vec<usize>, Trace, usize)> = Vec::new();
    let score = |trace: &Trace| -> (usize, bool) {
        let mut model_split = split(&trace.events);
        if ended_at_limit {
            model_split.floating.clear();
            model_split.optional.clear();
        }
        let model_keys: Vec<String> = model_split.ordered.iter().map(|e| key(e, true)).collect();
        let conforms = model_keys == real_keys && floating_agree(&model_split, &real_split);
        let common = model_keys
            .iter()
            .zip(&real_keys)
            .take_while(|(a, b)| a == b)
            .count();
        (common, conforms)
    };
    let (common, conforms) = score(&canonical);
    if conforms {
        return Ok(Verdict::Conforms { allowed: 1 });
    }
    runs.push((Vec::new(), canonical, common));
    frontier.push((common, 0, std::cmp::Reverse(0)));
    while let Some((common, _, std::cmp::Reverse(at))) = frontier.pop() {
        let (script, trace, _) = runs[at].clone();
        let ordered_before: Vec<usize> = trace
            .choice_events
            .iter()
            .map(|&raw| {
                trace.events[..raw.min(trace.events.len())]
                    .iter()
                    .filter(|e| e.kind.observable() && !is_floating(&e.kind))
                    .count()
            })
            .collect();
        let taken: Vec<usize> = trace
            .choices
            .iter()
            .enumerate()
            .map(|(i, n)| script.get(i).map(|c| c % n).unwrap_or(0))
            .collect();
        for i in script.len()..trace.choices.len() {
            // A choice met after the first difference cannot explain it.
            if ordered_before[i] > common {
                continue;
            }
            for v in 1..trace.choices[i] {
                if runs.len() >= budget {
                    break;
                }
                let mut child = taken[..i].to_vec();
                child.push(v);
                let t = asyncspec_model::run(scenario, profile, &child)?;
                let (c, conforms) = score(&t);
                if conforms {
                    return Ok(Verdict::Conforms {
                        allowed: runs.len() + 1,
                    });
                }
                runs.push((child.clone(), t, c));
                frontier.push((c, child.len(), std::cmp::Reverse(runs.len() - 1)));
            }
        }
    }
    let best = runs
        .iter()
        .max_by_key(|(_, _, c)| *c)
        .map(|(_, t, c)| (*c, t.clone()));
    let (index, trace) = best.expect("at least the canonical trace");
    let model_split = split(&trace.events);
    let model_keys: Vec<String> = model_split.ordered.iter().map(|e| key(e, true)).collect();
    let mut clauses = Vec::new();
    for e in model_split
        .ordered
        .iter()
        .skip(index.saturating_sub(4))
        .take(5)
    {
        for c in &e.clauses {
            if !clauses.contains(&c.to_string()) {
                clauses.push(c.to_string());
            }
        }
    }
    let floating_mismatch = if !floating_agree(&model_split, &real_split) {
        let model_only = unmatched(&model_split.floating, &real_split.floating);
        let mut real_only = unmatched(&real_split.floating, &model_split.floating);
        real_only.extend(unmatched(&real_split.optional, &model_split.optional));
        Some((model_only, real_only))
    } else {
        None
    };
    let orderly_same = model_keys == real_keys;
    // Two events whose lines read the same differ below the printed precision (a
    // time): show the times in full there.
    let shown = |e: &Event, other: Option<&&Event>| {
        let text = line(e);
        match other {
            Some(o) if line(o) == text => format!("{text}   (at {:?} s)", e.time),
            _ => text,
        }
    };
    Ok(Verdict::Diverges(Divergence {
        index: if orderly_same {
            model_keys.len()
        } else {
            index
        },
        expected: model_split
            .ordered
            .get(index)
            .filter(|_| !orderly_same)
            .map(|e| shown(e, real_split.ordered.get(index))),
        actual: real_split
            .ordered
            .get(index)
            .filter(|_| !orderly_same)
            .map(|e| shown(e, model_split.ordered.get(index))),
        clauses,
        model: model_split.ordered.iter().map(|e| line(e)).collect(),
        real: real_split.ordered.iter().map(|e| line(e)).collect(),
        floating_mismatch,
        cut: None,
    }))
}

/// Parse an adapter's events; an event that is not the trace format is an error naming it.
pub fn parse_events(events: &[serde_json::Value]) -> Result<Vec<Event>, String> {
    events
        .iter()
        .map(|v| {
            serde_json::from_value::<Event>(v.clone())
                .map_err(|e| format!("event {v} is not the trace format: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn divergence(floating: Option<(Vec<String>, Vec<String>)>) -> Divergence {
        Divergence {
            index: 3,
            expected: None,
            actual: None,
            clauses: Vec::new(),
            model: Vec::new(),
            real: Vec::new(),
            floating_mismatch: floating,
            cut: None,
        }
    }

    #[test]
    fn a_floating_only_difference_says_which_events_differ() {
        let d = divergence(Some((
            vec!["model report".into()],
            vec!["runtime report".into()],
        )));
        let line = d.headline();
        assert!(
            !line.contains("(end of trace) instead of (end of trace)"),
            "{line}"
        );
        assert!(
            line.contains("runtime report") && line.contains("model report"),
            "{line}"
        );
        assert!(
            !d.report().contains("model allowed: (end of trace)"),
            "{}",
            d.report()
        );
    }
}
