//! Collects which clause ids appear in the reviewed snapshot traces under
//! `tests/snapshots/`, so "snapshot-covered" in `asyncspec clauses` is read from the
//! tests themselves, never kept by hand.

use std::fs;
use std::path::Path;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "snap") {
            let text = fs::read_to_string(&path).unwrap_or_default();
            // Clause ids are printed in traces as `[id id ...]` after each event.
            for token in text
                .split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == ',' || c == '"')
            {
                if token.split('.').count() >= 3
                    && token.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
                    })
                {
                    out.push(token.to_string());
                }
            }
        }
    }
}

/// Every file under `dir` for which `keep` holds (relative path, absolute path), sorted.
fn files(dir: &Path, rel: &str, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            if name != "__pycache__" && name != "src" {
                files(&path, &rel, keep, out);
            }
        } else if keep(&path) {
            let abs = fs::canonicalize(&path).expect("a file that exists");
            out.push((rel, abs.to_string_lossy().into_owned()));
        }
    }
}

/// The catalogue and the Python adapter, built into the binary (`include_str!`), so an
/// installed binary has them wherever it is (`src/resources.rs`).
fn embed() {
    println!("cargo:rerun-if-changed=../specs");
    println!("cargo:rerun-if-changed=adapters/python");
    let mut specs = Vec::new();
    files(
        Path::new("../specs"),
        "",
        &|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("Cargo.toml"),
        &mut specs,
    );
    let mut adapter = Vec::new();
    files(
        Path::new("adapters/python"),
        "",
        &|p| {
            p.extension()
                .is_some_and(|e| e == "py" || e == "c" || e == "toml")
        },
        &mut adapter,
    );
    let list = |items: &[(String, String)]| -> String {
        items
            .iter()
            .map(|(rel, abs)| format!("    ({rel:?}, include_str!({abs:?})),\n"))
            .collect()
    };
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    fs::write(
        out,
        format!(
            "/// The catalogue's files (path under specs/, text).\npub const SPEC_FILES: &[(&str, &str)] = &[\n{}];\n/// The Python adapter's files (path under adapters/python/, text).\npub const ADAPTER_FILES: &[(&str, &str)] = &[\n{}];\n",
            list(&specs),
            list(&adapter)
        ),
    )
    .expect("OUT_DIR is writable");
}

fn main() {
    embed();
    let snapshots = Path::new("../tests/snapshots");
    println!("cargo:rerun-if-changed=../tests/snapshots");
    let mut ids = Vec::new();
    collect(snapshots, &mut ids);
    ids.sort();
    ids.dedup();
    let body: String = ids.iter().map(|id| format!("    {id:?},\n")).collect();
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("snapshot_clauses.rs");
    fs::write(
        out,
        format!("/// Every clause id that appears in a snapshot trace, sorted.\npub const SNAPSHOT_CLAUSES: &[&str] = &[\n{body}];\n"),
    )
    .expect("OUT_DIR is writable");
}
