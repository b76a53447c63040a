//! Adapter processes: one long-lived process per worker, scenarios in as JSON lines on
//! stdin, trace events out as JSON lines on stdout (protocol in docs/DESIGN.md).
//!
//! Everything an adapter can do wrong is a value, not a panic: it crashes (the process
//! exits), hangs (no closing record within the time limit), prints something that is not
//! the protocol, or reports its own error. Each failure says which scenario and what was
//! seen; the caller restarts the adapter and goes on.

use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The protocol version this oracle speaks.
pub const PROTOCOL: u64 = 1;

/// How to start an adapter.
#[derive(Clone, Debug)]
pub struct AdapterSpec {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Longest a scenario may take before the adapter counts as hung.
    pub scenario_timeout: Duration,
}

impl AdapterSpec {
    /// The bundled adapter with a deliberate alteration of the runtime (`--mutate`),
    /// to test the oracle itself.
    pub fn mutated(mut self, mutation: &str) -> AdapterSpec {
        self.argv.push("--mutate".into());
        self.argv.push(mutation.to_string());
        self
    }

    /// The bundled Python adapter for `impl_` (`asyncio`, `uvloop`, `rloop`) on `python`.
    pub fn python(python: &str, impl_: &str) -> AdapterSpec {
        AdapterSpec {
            argv: vec![
                python.to_string(),
                "-m".into(),
                "asyncspec_adapter".into(),
                "--loop".into(),
                impl_.to_string(),
            ],
            env: vec![(
                "PYTHONPATH".into(),
                python_adapter_dir().to_string_lossy().into_owned(),
            )],
            scenario_timeout: Duration::from_secs(20),
        }
    }

    /// An adapter given as a shell-like command line (split on whitespace).
    pub fn command(line: &str) -> AdapterSpec {
        AdapterSpec {
            argv: line.split_whitespace().map(str::to_string).collect(),
            env: Vec::new(),
            scenario_timeout: Duration::from_secs(20),
        }
    }
}

/// Where the bundled Python adapter package lives.
pub fn python_adapter_dir() -> PathBuf {
    crate::resources::adapter_dir()
}

/// What went wrong with an adapter.
#[derive(Clone, Debug, PartialEq)]
pub enum AdapterFailure {
    /// It could not be started.
    Spawn(String),
    /// It exited; with the end of its stderr.
    Crashed {
        /// Exit status, if known.
        status: Option<i32>,
        /// The last lines it wrote to stderr.
        stderr_tail: String,
    },
    /// No closing record within the time limit.
    Hung {
        /// The limit.
        after: Duration,
    },
    /// A line that is not the protocol.
    Garbage {
        /// The line (cut to 300 characters).
        line: String,
    },
    /// The adapter reported that it could not run the scenario.
    Error(String),
}

impl std::fmt::Display for AdapterFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterFailure::Spawn(e) => write!(f, "could not start the adapter: {e}"),
            AdapterFailure::Crashed {
                status,
                stderr_tail,
            } => {
                write!(f, "the adapter exited (status {status:?})")?;
                if !stderr_tail.is_empty() {
                    write!(f, "; its stderr ended with:\n{stderr_tail}")?;
                }
                Ok(())
            }
            AdapterFailure::Hung { after } => {
                write!(f, "the adapter gave no closing record within {after:?}")
            }
            AdapterFailure::Garbage { line } => write!(
                f,
                "the adapter printed something that is not the protocol: {line:?}"
            ),
            AdapterFailure::Error(e) => write!(f, "the adapter could not run it: {e}"),
        }
    }
}

/// A running adapter.
pub struct Adapter {
    spec: AdapterSpec,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// What the adapter said it runs (`cpython-3.11.7 asyncio`).
    pub runtime: String,
    next_id: u64,
}

impl Adapter {
    /// Start an adapter and read its hello.
    pub fn start(spec: &AdapterSpec) -> Result<Adapter, AdapterFailure> {
        let Some((program, args)) = spec.argv.split_first() else {
            return Err(AdapterFailure::Spawn("empty adapter command".into()));
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so everything it starts (a wrapper script's
        // interpreter, say) is killed with it; see `groups`.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        groups::watch_signals();
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| AdapterFailure::Spawn(format!("{program}: {e}")))?;
        groups::register(child.id());
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr_pipe = child.stderr.take().expect("piped");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                let mut tail = keep.lock().unwrap_or_else(|e| e.into_inner());
                tail.push(line);
                let excess = tail.len().saturating_sub(20);
                tail.drain(..excess);
            }
        });
        let mut adapter = Adapter {
            spec: spec.clone(),
            child,
            stdin,
            lines: rx,
            stderr,
            runtime: String::new(),
            next_id: 0,
        };
        let hello = adapter.read_line(Duration::from_secs(30))?;
        let parsed: Json = serde_json::from_str(&hello)
            .map_err(|_| AdapterFailure::Garbage { line: cut(&hello) })?;
        let Some(h) = parsed.get("hello") else {
            return Err(AdapterFailure::Garbage { line: cut(&hello) });
        };
        if h.get("protocol").and_then(Json::as_u64) != Some(PROTOCOL) {
            return Err(AdapterFailure::Error(format!(
                "adapter speaks protocol {:?}, this oracle {PROTOCOL}",
                h.get("protocol")
            )));
        }
        adapter.runtime = h
            .get("runtime")
            .and_then(Json::as_str)
            .unwrap_or("unknown")
            .to_string();
        Ok(adapter)
    }

    fn read_line(&mut self, limit: Duration) -> Result<String, AdapterFailure> {
        match self.lines.recv_timeout(limit) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(AdapterFailure::Hung { after: limit }),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok().and_then(|s| s.code());
                std::thread::sleep(Duration::from_millis(50));
                let tail = self.stderr.lock().map(|t| t.join("\n")).unwrap_or_default();
                Err(AdapterFailure::Crashed {
                    status,
                    stderr_tail: tail,
                })
            }
        }
    }

    /// Run one scenario (as JSON); the events it reported, in order.
    pub fn run(&mut self, scenario: &impl serde::Serialize) -> Result<Vec<Json>, AdapterFailure> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        // Streamed: a JSON value of a 50 MB scenario, and its copy in the request, took
        // gigabytes.
        let write = {
            let mut w = std::io::BufWriter::new(&mut self.stdin);
            write!(w, "{{\"id\":{},\"scenario\":", Json::String(id.clone()))
                .and_then(|()| {
                    serde_json::to_writer(&mut w, scenario).map_err(std::io::Error::from)
                })
                .and_then(|()| writeln!(w, "}}"))
                .and_then(|()| w.flush())
        };
        if write.is_err() {
            return Err(self.read_line(Duration::from_millis(200)).err().unwrap_or(
                AdapterFailure::Crashed {
                    status: None,
                    stderr_tail: String::new(),
                },
            ));
        }
        let deadline = Instant::now() + self.spec.scenario_timeout;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.read_line(left).map_err(|e| match e {
                AdapterFailure::Hung { .. } => AdapterFailure::Hung {
                    after: self.spec.scenario_timeout,
                },
                other => other,
            })?;
            let msg: Json = serde_json::from_str(&line)
                .map_err(|_| AdapterFailure::Garbage { line: cut(&line) })?;
            if msg.get("id").and_then(Json::as_str) != Some(id.as_str()) {
                return Err(AdapterFailure::Garbage { line: cut(&line) });
            }
            if let Some(ev) = msg.get("event") {
                events.push(ev.clone());
            } else if msg.get("done").is_some() {
                return Ok(events);
            } else if let Some(e) = msg.get("error") {
                return Err(AdapterFailure::Error(e.as_str().unwrap_or("").to_string()));
            } else {
                return Err(AdapterFailure::Garbage { line: cut(&line) });
            }
        }
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        groups::kill(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adapter process groups: each adapter leads its own, and the whole group is killed
/// when the adapter is dropped (a hang, a crash, a damaged process, the end of a run)
/// and when the oracle gets SIGTERM (what a CI timeout sends), SIGINT or SIGHUP.
/// Without this a hung adapter, or the interpreter a wrapper script started, outlived
/// the oracle.
mod groups {
    use std::collections::BTreeSet;
    use std::sync::{Mutex, Once};

    static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
    static WATCH: Once = Once::new();

    fn live() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
        LIVE.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A group led by `pid` was started.
    pub fn register(pid: u32) {
        live().insert(pid);
    }

    /// Kill the group led by `pid` (SIGKILL to every member).
    pub fn kill(pid: u32) {
        live().remove(&pid);
        kill_group(pid);
    }

    fn kill_group(pid: u32) {
        if let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    /// On SIGTERM, SIGINT or SIGHUP: kill every adapter group, then exit as the signal
    /// would have (128 + its number). Installed once, when the first adapter starts.
    pub fn watch_signals() {
        WATCH.call_once(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
            else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let pids: Vec<u32> = live().iter().copied().collect();
                    for pid in pids {
                        kill_group(pid);
                    }
                    std::process::exit(128 + sig);
                }
            });
        });
    }
}

fn cut(line: &str) -> String {
    line.chars().take(300).collect()
}
