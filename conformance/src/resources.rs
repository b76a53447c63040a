//! Where the binary finds the clause catalogue and the Python adapter: wherever it is
//! installed, not only while its source tree is in place.
//!
//! Both are built into the binary (`build.rs` embeds `specs/**/*.toml` and
//! `adapters/python/**`). Lookup, first match wins:
//! 1. an environment override: `ASYNCSPEC_SPECS` (also `--specs`), `ASYNCSPEC_ADAPTER_DIR`;
//! 2. the source tree the binary was built from, while it exists (edits to the adapter
//!    take effect without a rebuild), unless `ASYNCSPEC_DATA=embedded`;
//! 3. an install layout beside the binary: `<prefix>/bin/asyncspec` with
//!    `<prefix>/share/asyncspec/specs` and `<prefix>/share/asyncspec/adapters/python`;
//! 4. the built-in copies, written once per content to
//!    `$ASYNCSPEC_CACHE/data-<hash>/` (default: the temp dir's `asyncspec/`).

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Environment variable naming the adapter folder (holding `asyncspec_adapter/`).
pub const ADAPTER_DIR_ENV: &str = "ASYNCSPEC_ADAPTER_DIR";
/// Environment variable naming the catalogue folder.
pub const SPECS_ENV: &str = "ASYNCSPEC_SPECS";
/// `ASYNCSPEC_DATA=embedded`: ignore the source tree, use the built-in copies (what a
/// binary whose source tree is gone does).
pub const DATA_ENV: &str = "ASYNCSPEC_DATA";

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn source_tree_allowed() -> bool {
    std::env::var(DATA_ENV).map_or(true, |v| v != "embedded")
}

/// `<prefix>/share/asyncspec/<rel>` when the binary is `<prefix>/bin/asyncspec`.
fn installed(rel: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let prefix = exe.parent()?.parent()?;
    let dir = prefix.join("share/asyncspec").join(rel);
    dir.is_dir().then_some(dir)
}

/// The catalogue folder (for a given `--specs`, the caller uses that instead).
pub fn specs_dir() -> PathBuf {
    if let Some(dir) = env_dir(SPECS_ENV) {
        return dir;
    }
    let source = asyncspec_specs::default_specs_dir();
    if source_tree_allowed() && source.join("exceptions.toml").is_file() {
        return source;
    }
    if let Some(dir) = installed("specs") {
        return dir;
    }
    extracted().join("specs")
}

/// The folder holding the `asyncspec_adapter` package (put on PYTHONPATH).
pub fn adapter_dir() -> PathBuf {
    if let Some(dir) = env_dir(ADAPTER_DIR_ENV) {
        return dir;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/python");
    if source_tree_allowed() && source.join("asyncspec_adapter/__main__.py").is_file() {
        return source;
    }
    if let Some(dir) = installed("adapters/python") {
        return dir;
    }
    extracted().join("adapters/python")
}

/// The built-in copies, written out (once per content) under the cache folder.
fn extracted() -> PathBuf {
    let cache =
        env_dir("ASYNCSPEC_CACHE").unwrap_or_else(|| std::env::temp_dir().join("asyncspec"));
    // FNV-1a over every path and text: a new build with other contents gets its own folder.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (rel, text) in SPEC_FILES.iter().chain(ADAPTER_FILES) {
        for b in rel.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let dir = cache.join(format!("data-{hash:016x}"));
    if dir.join("complete").is_file() {
        return dir;
    }
    // Written to a private folder first and renamed, so a concurrent run never sees
    // half of it.
    let tmp = cache.join(format!("data-{hash:016x}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        for (base, files) in [("specs", SPEC_FILES), ("adapters/python", ADAPTER_FILES)] {
            for (rel, text) in files {
                let path = tmp.join(base).join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(path, text)?;
            }
        }
        std::fs::write(tmp.join("complete"), "")?;
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // Another run finished first: use its copy.
            Err(_) if dir.join("complete").is_file() => {
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Err(e) = write() {
        eprintln!(
            "asyncspec: could not write the built-in catalogue and adapter to {}: {e}",
            dir.display()
        );
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_and_the_adapter_are_built_in() {
        assert!(SPEC_FILES.iter().any(|(p, _)| *p == "exceptions.toml"));
        assert!(SPEC_FILES
            .iter()
            .all(|(p, _)| p.ends_with(".toml") && *p != "Cargo.toml"));
        for needed in [
            "asyncspec_adapter/__main__.py",
            "asyncspec_adapter/interp.py",
            "asyncspec_adapter/vclock.c",
        ] {
            assert!(ADAPTER_FILES.iter().any(|(p, _)| *p == needed), "{needed}");
        }
    }
}
