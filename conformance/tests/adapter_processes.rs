//! Adapter processes die with the oracle and with their timeouts, wrappers and all, and
//! a failed restart says why (issue 17). Small fake adapters, written here as Python
//! scripts, each start a grandchild (`sleep`) as a wrapper script's interpreter would.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fake adapter: says hello, starts a grandchild that writes its pid to `pidfile`,
/// then never answers a scenario.
const HANGING_ADAPTER: &str = r#"
import json, subprocess, sys, time
child = subprocess.Popen(["sleep", "1000"])
open(sys.argv[1] + ".tmp", "w").write(str(child.pid))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
print(json.dumps({"hello": {"protocol": 1, "adapter": "fake", "runtime": "cpython-3.11.7 asyncio"}}), flush=True)
for line in sys.stdin:
    time.sleep(1000)
"#;

fn alive(pid: u32) -> bool {
    // A zombie (killed, not yet reaped by init) is dead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_for_file(path: &Path, limit: Duration) -> String {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(
            started.elapsed() < limit,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_dead(pid: u32, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn kill_leftover(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

#[test]
fn sigterm_to_the_oracle_kills_the_adapter_and_what_it_started() {
    // Before: the oracle died and the hung adapter (and its grandchild) lived on.
    let dir = scratch("sigterm");
    let script = dir.join("adapter.py");
    std::fs::write(&script, HANGING_ADAPTER).unwrap();
    let pidfile = dir.join("grandchild.pid");
    let adapter = format!("python3 {} {}", script.display(), pidfile.display());
    let scenario = bundled("asyncio/tasks/await_reraises.json");
    let mut oracle = Command::new(binary())
        .args([
            "check",
            "--adapter",
            &adapter,
            "--adapter-timeout",
            "120",
            &scenario,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let grandchild: u32 = wait_for_file(&pidfile, Duration::from_secs(30))
        .trim()
        .parse()
        .unwrap();
    assert!(alive(grandchild));
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &oracle.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(s) = oracle.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the oracle ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let dead = wait_dead(grandchild, Duration::from_secs(10));
    kill_leftover(grandchild);
    assert!(
        dead,
        "the adapter's grandchild {grandchild} outlived the oracle"
    );
    assert_eq!(exit.code(), Some(128 + 15), "{exit:?}");
}

#[test]
fn a_hung_adapter_is_killed_with_its_group_at_the_timeout() {
    let dir = scratch("timeout-group");
    let script = dir.join("adapter.py");
    std::fs::write(&script, HANGING_ADAPTER).unwrap();
    let pidfile = dir.join("grandchild.pid");
    // A wrapper script in between, as a user's adapter command often is.
    let wrapper = dir.join("wrapper.sh");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\npython3 {} \"$@\"\n", script.display()),
    )
    .unwrap();
    let adapter = format!("sh {} {}", wrapper.display(), pidfile.display());
    let scenario = bundled("asyncio/tasks/await_reraises.json");
    let (code, out, err) = asyncspec(
        &[
            "check",
            "--adapter",
            &adapter,
            "--adapter-timeout",
            "1",
            &scenario,
        ],
        60,
    );
    let grandchild: u32 = wait_for_file(&pidfile, Duration::from_secs(5))
        .trim()
        .parse()
        .unwrap();
    let dead = wait_dead(grandchild, Duration::from_secs(10));
    kill_leftover(grandchild);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains("no closing record within 1s"), "{out}");
    assert!(
        dead,
        "the hung adapter's grandchild {grandchild} survived its timeout"
    );
}

/// A fake adapter that starts once: the first run makes `marker` and crashes on its
/// scenario; every later start fails, saying why on stderr.
const CRASH_THEN_REFUSE: &str = r#"
import json, os, sys
marker = sys.argv[1]
if os.path.exists(marker):
    print("cannot start: the licence server is unreachable", file=sys.stderr, flush=True)
    sys.exit(7)
open(marker, "w").write("started")
print(json.dumps({"hello": {"protocol": 1, "adapter": "fake", "runtime": "cpython-3.11.7 asyncio"}}), flush=True)
sys.stdin.readline()
sys.exit(1)
"#;

#[test]
fn a_failed_restart_keeps_its_reason_for_every_later_scenario() {
    // Before: every scenario after the crash said only "adapter not running".
    let dir = scratch("failed-restart");
    let script = dir.join("adapter.py");
    std::fs::write(&script, CRASH_THEN_REFUSE).unwrap();
    let adapter = format!(
        "python3 {} {}",
        script.display(),
        dir.join("marker").display()
    );
    let a = bundled("asyncio/tasks/await_reraises.json");
    let b = bundled("asyncio/tasks/nested_coroutines.json");
    let c = bundled("asyncio/tasks/task_result_states.json");
    let (code, out, err) = asyncspec(&["check", "--adapter", &adapter, &a, &b, &c], 120);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(!out.contains("adapter not running"), "{out}");
    let reasons = out
        .matches("the adapter could not be restarted: the adapter exited (status Some(7)); its stderr ended with:")
        .count();
    assert_eq!(reasons, 2, "{out}");
    assert_eq!(
        out.matches("cannot start: the licence server is unreachable")
            .count(),
        2,
        "{out}"
    );
}
