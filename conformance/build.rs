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

fn main() {
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
