//! What the command-line tests share: running the binary with a time bound (a hang
//! fails the test instead of hanging it), scratch folders, generated scenarios.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_asyncspec")
}

/// A bundled scenario's path.
pub fn bundled(rel: &str) -> String {
    format!("{}/../tests/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asyncspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Write a scenario (JSON) to `dir/name.json`; its path.
pub fn write_scenario(dir: &Path, name: &str, body: serde_json::Value) -> String {
    let mut body = body;
    body["name"] = serde_json::Value::String(name.to_string());
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, body.to_string()).expect("write scenario");
    path.display().to_string()
}

/// Run `command` to completion, but fail the test if it takes longer than `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let read_out = std::thread::spawn(move || read_all(stdout));
    let read_err = std::thread::spawn(move || read_all(stderr));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: read_out.join().expect("reader"),
        stderr: read_err.join().expect("reader"),
    }
}

fn read_all(mut r: impl std::io::Read) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    buf
}

/// `asyncspec ARGS` with a time bound: exit code, stdout, stderr.
pub fn asyncspec(args: &[&str], limit_secs: u64) -> (Option<i32>, String, String) {
    let out = run_bounded(
        Command::new(binary()).args(args),
        Duration::from_secs(limit_secs),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A chain of `depth` coroutines, each awaiting the next; the last runs `last`.
pub fn await_chain(
    depth: usize,
    last: serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    (0..depth)
        .map(|i| {
            let body = if i + 1 < depth {
                serde_json::json!([{"op": "await", "target": {"coro": format!("c{}", i + 1)}}])
            } else {
                last.clone()
            };
            (format!("c{i}"), body)
        })
        .collect()
}
