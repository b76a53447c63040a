//! `asyncspec check`: run scenario files on a real runtime through an adapter, hold each
//! trace against the model, and keep every result, whatever the adapter does.

use crate::adapter::{Adapter, AdapterFailure, AdapterSpec};
use crate::oracle::{self, Verdict};
use asyncspec_model::{Profile, Scenario};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The result for one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Scenario file or name.
    pub scenario: String,
    /// What the oracle said, or why it could not say.
    pub outcome: CaseOutcome,
    /// Clause ids the model's canonical trace cites.
    pub clauses: Vec<String>,
    /// Seconds spent in the model / in the adapter.
    pub model_s: f64,
    /// Seconds spent waiting on the adapter.
    pub adapter_s: f64,
    /// The whole divergence report, when a report folder was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_file: Option<String>,
}

/// What happened to one scenario.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseOutcome {
    /// The oracle's verdict.
    Checked {
        /// The verdict.
        verdict: Verdict,
    },
    /// The adapter failed on it (the adapter was restarted).
    AdapterFailure {
        /// What was seen.
        failure: String,
    },
    /// The scenario itself is not valid input.
    BadInput {
        /// The problem.
        problem: String,
    },
    /// The model failed on it (a bug in asyncspec, not a verdict on the runtime);
    /// every other scenario's result is kept.
    InternalError {
        /// What broke.
        problem: String,
    },
}

/// Every `.json` file among `paths` (directories are walked), sorted.
pub fn collect_scenarios(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// The model profile for a runtime an adapter reports (`cpython-3.12.1 asyncio`).
/// The loop word after the version (`uvloop-0.23.0`) picks the loop.
pub fn profile_for_runtime(runtime: &str) -> Result<Profile, String> {
    let mut words = runtime.split_whitespace();
    let version = words.next().unwrap_or("");
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let name = match words.next().and_then(|w| w.split('-').next()) {
        Some(l @ ("uvloop" | "rloop")) => format!("{minor}+{l}"),
        _ => minor,
    };
    Profile::parse(&name).map_err(|_| format!("no model profile for runtime {runtime:?}"))
}

/// Why a scenario's run may have left the adapter process unfit for the next one, if
/// it may have: it stopped at a limit other than a deadlock (the interpreter was
/// interrupted mid-run, leaving whatever it built: a chain of tasks each awaiting the
/// next, say, whose later collection recursed until RecursionError in every scenario
/// after it), or something in it raised RecursionError (the interpreter's own stack
/// was exhausted somewhere). A deadlock ends a run cleanly and does not count.
pub fn damage(events: &[asyncspec_model::trace::Event]) -> Option<String> {
    use asyncspec_model::trace::{describe, EventKind};
    events.iter().find_map(|e| match &e.kind {
        EventKind::Limit { what } if !what.starts_with("deadlock") => {
            Some(format!("the run stopped at a limit ({what})"))
        }
        kind if describe(kind).contains("RecursionError") => {
            Some("the run raised RecursionError".to_string())
        }
        _ => None,
    })
}

/// A checker holding one adapter, restarted after every failure and after every
/// scenario that may have damaged its process ([`damage`]).
pub struct Checker {
    spec: AdapterSpec,
    /// The adapter, or why the last (re)start failed: every scenario it cannot run is
    /// reported with that reason.
    adapter: Result<Adapter, AdapterFailure>,
    /// The adapter is to be replaced before the next scenario (why).
    replace: Option<String>,
    /// How many times the adapter was replaced after a scenario damaged it.
    pub replacements: u64,
    /// The runtime the adapter reported.
    pub runtime: String,
    profile_override: Option<Profile>,
    /// Where whole divergence reports are written (reports kept in results are bounded).
    pub report_dir: Option<PathBuf>,
}

impl Checker {
    /// Start the adapter.
    pub fn new(
        spec: AdapterSpec,
        profile_override: Option<Profile>,
    ) -> Result<Checker, AdapterFailure> {
        let adapter = Adapter::start(&spec)?;
        let runtime = adapter.runtime.clone();
        Ok(Checker {
            spec,
            adapter: Ok(adapter),
            replace: None,
            replacements: 0,
            runtime,
            profile_override,
            report_dir: None,
        })
    }

    /// The profile the model runs under.
    pub fn profile(&self) -> Result<Profile, String> {
        match self.profile_override {
            Some(p) => Ok(p),
            None => profile_for_runtime(&self.runtime),
        }
    }

    /// Replace the adapter process (the old one's process group is killed first).
    fn restart(&mut self) {
        self.adapter = Err(AdapterFailure::Spawn("stopped".into()));
        self.adapter = Adapter::start(&self.spec);
    }

    /// Check one scenario.
    pub fn check(&mut self, name: &str, scenario: &Scenario) -> CaseResult {
        let mut result = CaseResult {
            scenario: name.to_string(),
            outcome: CaseOutcome::BadInput {
                problem: String::new(),
            },
            clauses: Vec::new(),
            model_s: 0.0,
            adapter_s: 0.0,
            report_file: None,
        };
        let profile = match self.profile() {
            Ok(p) => p,
            Err(e) => {
                result.outcome = CaseOutcome::BadInput { problem: e };
                return result;
            }
        };
        let started = std::time::Instant::now();
        if self.replace.take().is_some() {
            self.replacements += 1;
            self.restart();
        } else if self.adapter.is_err() {
            // The last restart failed: try again, and keep its reason if it fails again.
            self.restart();
        }
        let ran = match self.adapter.as_mut() {
            Ok(a) => a.run(scenario),
            Err(why) => Err(AdapterFailure::Spawn(format!(
                "the adapter could not be restarted: {why}"
            ))),
        };
        result.adapter_s = started.elapsed().as_secs_f64();
        // The request went out streamed (no JSON value of the scenario); the events are
        // taken over, not copied.
        let events = match ran.map_err(|f| f.to_string()).and_then(parse_events_owned) {
            Ok(evs) => evs,
            Err(failure) => {
                // Keep going: a fresh adapter for the next scenario.
                self.restart();
                result.outcome = CaseOutcome::AdapterFailure { failure };
                return result;
            }
        };
        self.replace = damage(&events);
        let started = std::time::Instant::now();
        let verdict = oracle::check(scenario, profile, &events);
        if let Ok(trace) = asyncspec_model::run(scenario, profile, &[]) {
            let mut ids: Vec<String> = trace
                .events
                .iter()
                .flat_map(|e| e.clauses.iter().map(|c| c.to_string()))
                .collect();
            ids.sort();
            ids.dedup();
            result.clauses = ids;
        }
        result.model_s = started.elapsed().as_secs_f64();
        result.outcome = match verdict {
            Ok(mut verdict) => {
                result.report_file = self.bound_report(name, &mut verdict);
                CaseOutcome::Checked { verdict }
            }
            Err(asyncspec_model::RunError::Invalid(problem)) => CaseOutcome::BadInput { problem },
            Err(e @ asyncspec_model::RunError::Internal(_)) => CaseOutcome::InternalError {
                problem: e.to_string(),
            },
        };
        result
    }

    /// Bound a verdict's divergence report (the whole one goes to the report folder,
    /// if there is one: its path is returned).
    fn bound_report(&self, name: &str, verdict: &mut Verdict) -> Option<String> {
        let d = match verdict {
            Verdict::Diverges(d) => d,
            Verdict::Known { documented, .. } => documented.as_mut(),
            _ => return None,
        };
        let saved = self.report_dir.as_ref().map(|dir| {
            let file: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = dir.join(format!("{}.txt", file.trim_start_matches('_')));
            match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, d.report())) {
                Ok(()) => path.display().to_string(),
                Err(e) => format!("(not written: {}: {e})", path.display()),
            }
        });
        d.bound(oracle::REPORT_CONTEXT);
        saved
    }
}

/// An adapter's events in the trace format, consumed (no copies kept).
fn parse_events_owned(
    events: Vec<serde_json::Value>,
) -> Result<Vec<asyncspec_model::trace::Event>, String> {
    events
        .into_iter()
        .map(|v| {
            use serde::Deserialize as _;
            asyncspec_model::trace::Event::deserialize(&v).map_err(|e| {
                let shown: String = v.to_string().chars().take(300).collect();
                format!("event {shown} is not the trace format: {e}")
            })
        })
        .collect()
}

/// Per clause, over many cases: conforming, diverging, or neither checked.
///
/// A known divergence conforms to the runtime's own rules, so its clauses conform; the
/// documented clauses it departs from are those the catalogue says the verdict's loop
/// clauses contradict (`contradicted`: documented clause id to its `contradicted_by`).
pub fn clause_verdicts(
    results: &[CaseResult],
    contradicted: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, &'static str> {
    // Per clause the worst word wins: divergence, then known divergence, then conforming.
    fn rank(w: &str) -> u8 {
        match w {
            "divergence" => 2,
            "known divergence" => 1,
            _ => 0,
        }
    }
    let mut out: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut note = |id: &str, word: &'static str| {
        let e = out.entry(id.to_string()).or_insert(word);
        if rank(word) > rank(e) {
            *e = word;
        }
    };
    for r in results {
        match &r.outcome {
            CaseOutcome::Checked {
                verdict: Verdict::Conforms { .. },
            } => r.clauses.iter().for_each(|c| note(c, "conforming")),
            CaseOutcome::Checked {
                verdict: Verdict::Diverges(_),
            } => r.clauses.iter().for_each(|c| note(c, "divergence")),
            CaseOutcome::Checked {
                verdict:
                    Verdict::Known {
                        clauses: loop_clauses,
                        documented,
                    },
            } => {
                r.clauses.iter().for_each(|c| note(c, "conforming"));
                for c in r.clauses.iter().chain(&documented.clauses) {
                    let departs = contradicted
                        .get(c)
                        .is_some_and(|by| by.iter().any(|b| loop_clauses.contains(b)));
                    if departs {
                        note(c, "known divergence");
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Environment variable naming the live coverage folder instead of [`live_dir`]'s default.
pub const LIVE_DIR_ENV: &str = "ASYNCSPEC_LIVE_DIR";

/// Where live coverage is written (`target/asyncspec/live/<runtime>.json` of the source
/// tree, or `$ASYNCSPEC_LIVE_DIR`).
pub fn live_dir() -> PathBuf {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os(LIVE_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ if tree.join("Cargo.toml").is_file() => tree.join("target/asyncspec/live"),
        // An installed binary whose source tree is gone.
        _ => std::env::temp_dir().join("asyncspec/live"),
    }
}

/// Record which clauses conformed live on `runtime`, for `asyncspec clauses`.
pub fn record_live(
    runtime: &str,
    verdicts: &BTreeMap<String, &'static str>,
) -> std::io::Result<()> {
    let dir = live_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{runtime}.json"));
    let mut covered: std::collections::BTreeSet<String> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("clauses").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    for (id, word) in verdicts {
        if *word == "conforming" {
            covered.insert(id.clone());
        } else {
            covered.remove(id);
        }
    }
    let body = serde_json::json!({"runtime": runtime, "clauses": covered});
    std::fs::write(
        path,
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
}

/// Read every recorded live coverage file: clause id to the runtimes that covered it.
pub fn read_live() -> crate::coverage::LiveCoverage {
    let mut out = crate::coverage::LiveCoverage::new();
    let Ok(entries) = std::fs::read_dir(live_dir()) else {
        return out;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for f in files {
        let Some(v) = std::fs::read_to_string(&f)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        let runtime = v
            .get("runtime")
            .and_then(|r| r.as_str())
            .unwrap_or("")
            .to_string();
        if let Some(ids) = v.get("clauses").and_then(|c| c.as_array()) {
            for id in ids.iter().filter_map(|i| i.as_str()) {
                out.entry(id.to_string()).or_default().push(runtime.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::Divergence;

    fn known(clauses: &[&str], loop_clauses: &[&str], documented: &[&str]) -> CaseResult {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        CaseResult {
            scenario: "s".into(),
            outcome: CaseOutcome::Checked {
                verdict: Verdict::Known {
                    clauses: strings(loop_clauses),
                    documented: Box::new(Divergence {
                        index: 0,
                        expected: None,
                        actual: None,
                        clauses: strings(documented),
                        model: Vec::new(),
                        real: Vec::new(),
                        floating_mismatch: None,
                        cut: None,
                    }),
                },
            },
            clauses: strings(clauses),
            model_s: 0.0,
            adapter_s: 0.0,
            report_file: None,
        }
    }

    #[test]
    fn a_known_divergence_departs_only_from_the_clauses_its_loop_rules_contradict() {
        let contradicted = BTreeMap::from([(
            "asyncio.streams.socket.ready_before_timers".to_string(),
            vec!["uvloop.streams.read.in_poll_phase".to_string()],
        )]);
        let r = known(
            &[
                "asyncio.futures.result.returns_value",
                "uvloop.streams.read.in_poll_phase",
            ],
            &["uvloop.streams.read.in_poll_phase"],
            &[
                "asyncio.futures.result.returns_value",
                "asyncio.streams.socket.ready_before_timers",
            ],
        );
        let v = clause_verdicts(&[r], &contradicted);
        assert_eq!(v["asyncio.futures.result.returns_value"], "conforming");
        assert_eq!(v["uvloop.streams.read.in_poll_phase"], "conforming");
        assert_eq!(
            v["asyncio.streams.socket.ready_before_timers"],
            "known divergence"
        );
    }
}
