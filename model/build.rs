//! Collects every clause id the model cites (`cite!("...")`) into `IMPLEMENTED_CLAUSES`,
//! so that "implemented" in `asyncspec clauses` is read from the code, never kept by hand.

use std::fs;
use std::path::Path;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("model/src is readable")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("model source is UTF-8");
            // `cite!("id")`, possibly broken over lines by rustfmt.
            let mut rest = text.as_str();
            while let Some(at) = rest.find("cite!(") {
                rest = rest[at + 6..].trim_start();
                if let Some(quoted) = rest.strip_prefix('"') {
                    if let Some(end) = quoted.find('"') {
                        out.push(quoted[..end].to_string());
                        rest = &quoted[end..];
                    }
                }
            }
        }
    }
}

fn main() {
    let src = Path::new("src");
    println!("cargo:rerun-if-changed=src");
    let mut ids = Vec::new();
    collect(src, &mut ids);
    // The macro's own definition mentions the pattern; it is not a clause.
    ids.retain(|id| id.contains('.'));
    ids.sort();
    ids.dedup();
    let body: String = ids.iter().map(|id| format!("    {id:?},\n")).collect();
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("implemented.rs");
    fs::write(
        out,
        format!("/// Every clause id cited by a model transition, sorted.\npub const IMPLEMENTED_CLAUSES: &[&str] = &[\n{body}];\n"),
    )
    .expect("OUT_DIR is writable");
}
