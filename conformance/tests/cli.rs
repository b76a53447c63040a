//! The `asyncspec` binary as users run it: exit codes, JSON for CI, errors that say where.

use std::process::Command;

fn asyncspec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_asyncspec"))
        .args(args)
        .output()
        .expect("the asyncspec binary runs")
}

#[test]
fn clauses_json_lists_the_catalogue_with_coverage_fields() {
    let out = asyncspec(&["clauses", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let list = list.as_array().expect("a JSON list");
    assert!(list.len() >= 200, "{} clauses", list.len());
    for item in list {
        for key in [
            "id",
            "chapter",
            "runtimes",
            "implemented",
            "snapshot",
            "live",
        ] {
            assert!(item.get(key).is_some(), "missing {key} in {item}");
        }
        assert!(
            item.get("seed").is_some() || item.get("url").is_some(),
            "{item}"
        );
        assert!(item["live"].is_object(), "{item}");
    }
}

#[test]
fn clauses_chapter_filter_keeps_only_that_chapter() {
    let out = asyncspec(&[
        "clauses",
        "--format",
        "json",
        "--chapter",
        "asyncio.streams",
    ]);
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let list = list.as_array().expect("a JSON list");
    assert!(!list.is_empty());
    assert!(list.iter().all(|c| c["chapter"] == "asyncio.streams"));
}

#[test]
fn unknown_status_is_bad_input() {
    let out = asyncspec(&["clauses", "--status", "shiny"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'shiny' for '--status"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[possible values: implemented, unimplemented"),
        "{stderr}"
    );
}

#[test]
fn malformed_catalogue_exits_2_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("asyncspec-bad-specs-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("asyncio")).unwrap();
    std::fs::write(
        dir.join("asyncio/futures.toml"),
        "[[clause]]\nid = \"asyncio.futures.x.y\"\nseed = \"nope.txt\"\nquote = \"q\"\napi = \"a\"\nwhen = \"w\"\noutcome = { kind = \"returns\", value = \"1\" }\nruntimes = [\"cpython-3.11\"]\n",
    )
    .unwrap();
    let out = asyncspec(&["--specs", dir.to_str().unwrap(), "clauses"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("asyncio/futures.toml:2: clause \"asyncio.futures.x.y\": unknown seed document \"nope.txt\""), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
