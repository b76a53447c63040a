//! The oracle can fail: against a deliberately altered asyncio it finds the divergence,
//! names the broken rule, and shrinks it to a small scenario. Runs the real runtime
//! (`python3`, CPython 3.11 on these machines) through the bundled adapter.

use std::process::Command;

fn asyncspec(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asyncspec"))
        .args(args)
        .output()
        .expect("the asyncspec binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn scenario(rel: &str) -> String {
    format!("{}/../tests/scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn unmutated_runtime_conforms_on_the_scenarios_the_mutations_break() {
    let (code, out) = asyncspec(&[
        "check",
        &scenario("asyncio/composition/gather_first_exception_siblings_run.json"),
        &scenario("asyncio/cancellation/cancel_sleeping_task.json"),
    ]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn gather_cancelling_siblings_is_caught_and_cites_the_rule() {
    let (code, out) = asyncspec(&[
        "check",
        "--mutate",
        "gather-cancels-siblings",
        &scenario("asyncio/composition/gather_first_exception_siblings_run.json"),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("asyncio.composition.gather.siblings_keep_running"),
        "{out}"
    );
    assert!(
        out.contains("slow-3     await asyncio.sleep(2) !! asyncio.CancelledError()"),
        "{out}"
    );
}

#[test]
fn cancel_dropping_its_message_is_caught() {
    let (code, out) = asyncspec(&[
        "check",
        "--mutate",
        "cancel-drops-message",
        &scenario("asyncio/cancellation/cancel_sleeping_task.json"),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("model allowed:    1.000 t          await asyncio.sleep(10) !! asyncio.CancelledError('stop')"), "{out}");
    assert!(out.contains("runtime did:      1.000 t          await asyncio.sleep(10) !! asyncio.CancelledError()"), "{out}");
}

/// `signature` must appear in the report of at least one found case, so a divergence
/// the unmutated runtime also shows (the bound generator still finds a few unexplained
/// ones) cannot pass for the mutation being caught.
fn fuzz_finds_and_shrinks(mutation: &str, signature: &str) {
    let dir = std::env::temp_dir().join(format!(
        "asyncspec-mutation-{mutation}-{}",
        std::process::id()
    ));
    let (code, out) = asyncspec(&[
        "fuzz",
        "--mutate",
        mutation,
        "--generator",
        "bound",
        "--cases",
        "800",
        "--seed",
        "1",
        "--jobs",
        "2",
        "--format",
        "json",
        "--regressions",
        dir.to_str().expect("utf-8 temp dir"),
    ]);
    assert_eq!(code, Some(1), "fuzz should report the divergence: {out}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("JSON summary");
    let found = summary["found"].as_array().expect("found list");
    assert!(!found.is_empty(), "{out}");
    assert!(
        found
            .iter()
            .any(|f| f["report"].as_str().unwrap_or("").contains(signature)),
        "no found case shows the mutation ({signature}): {out}"
    );
    let smallest = found
        .iter()
        .filter_map(|f| f["statements"].as_u64())
        .min()
        .unwrap_or(u64::MAX);
    // A generated scenario always carries four coroutine bodies of at least one statement
    // and, from the bound generator, up to four prelude statements: nine is the floor.
    assert!(
        smallest <= 16,
        "shrunk only to {smallest} statements: {out}"
    );
    for f in found {
        let saved = f["saved"].as_str().expect("saved path");
        assert!(std::path::Path::new(saved).exists(), "{saved} not written");
        assert!(
            f["replay"]
                .as_str()
                .unwrap_or("")
                .contains("asyncspec replay"),
            "{f}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fuzz_finds_and_shrinks_gather_cancelling_siblings() {
    fuzz_finds_and_shrinks(
        "gather-cancels-siblings",
        "asyncio.composition.gather.siblings_keep_running",
    );
}

#[test]
fn fuzz_finds_and_shrinks_cancel_dropping_its_message() {
    fuzz_finds_and_shrinks("cancel-drops-message", "CancelledError('why')");
}

#[test]
fn a_loopback_that_never_delivers_is_the_adapters_failure_and_other_results_stay() {
    // The peer's bytes never show up in the reader's kernel queue: the adapter stops
    // the run and reports itself failed (exit 3), it does not pass off a trace.
    let (code, out) = asyncspec(&[
        "check",
        "--mutate",
        "loopback-never-delivers",
        &scenario("asyncio/streams/sockets/coalesced_reads_and_eof.json"),
        &scenario("asyncio/streams/read_up_to_n.json"),
    ]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("ADAPTER FAILURE"), "{out}");
    assert!(out.contains("loopback did not deliver s's data"), "{out}");
    assert!(out.contains("1 conforming"), "{out}");
}
