//! Loading and validating the catalogue: every problem is reported, with file and line.
//!
//! The loader never stops at the first problem: a malformed file is reported and the
//! other files are still read, so one run shows everything that needs fixing.

use crate::clause::{Citation, Clause, Outcome, RUNTIMES, SEEDS};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The longest quote accepted, in characters: a quote cites, it does not copy.
pub const QUOTE_CHARS_MAX: usize = 240;

/// One problem in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// File, relative to the specs folder.
    pub file: String,
    /// 1-based line (0 when the problem is the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.problem)
    }
}

/// The validated catalogue.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// Every clause, ordered by file then position in the file.
    pub clauses: Vec<Clause>,
    /// Built-in Python exception classes the catalogue may name without defining.
    pub builtin_classes: BTreeSet<String>,
}

impl Catalogue {
    /// The clause with this id.
    pub fn get(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// Every known exception class: the built-ins plus those defined by class clauses.
    pub fn known_classes(&self) -> BTreeSet<String> {
        let mut known = self.builtin_classes.clone();
        for clause in &self.clauses {
            if let Outcome::Class { class, .. } = &clause.outcome {
                known.insert(class.clone());
            }
        }
        known
    }

    /// The chapters, in order of first appearance.
    pub fn chapters(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.clauses
            .iter()
            .filter(|c| seen.insert(c.chapter.as_str()))
            .map(|c| c.chapter.as_str())
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    builtin_classes: Vec<String>,
    #[serde(default)]
    clause: Vec<RawClause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    id: toml::Spanned<String>,
    seed: Option<String>,
    url: Option<String>,
    quote: Option<String>,
    api: String,
    when: String,
    outcome: Outcome,
    runtimes: Vec<String>,
    #[serde(default)]
    contradicted_by: Vec<String>,
    notes: Option<String>,
}

/// Load every `*.toml` under `dir` (recursively, in path order) and validate the whole.
pub fn load_catalogue(dir: &Path) -> Result<Catalogue, Vec<SpecError>> {
    let mut files = Vec::new();
    if let Err(e) = collect_toml_files(dir, &mut files) {
        return Err(vec![SpecError {
            file: dir.display().to_string(),
            line: 0,
            problem: format!("cannot read the specs folder: {e}"),
        }]);
    }
    files.sort();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((rel, text)),
            Err(e) => errors.push(SpecError {
                file: rel,
                line: 0,
                problem: format!("cannot read: {e}"),
            }),
        }
    }
    let borrowed: Vec<(&str, &str)> = sources
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    match load_str(&borrowed) {
        Ok(cat) if errors.is_empty() => Ok(cat),
        Ok(_) => Err(errors),
        Err(mut more) => {
            errors.append(&mut more);
            Err(errors)
        }
    }
}

fn collect_toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            // Rust sources and build output live beside the data; they hold no clauses.
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name != "src" && name != "target" {
                collect_toml_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("Cargo.toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Load a catalogue from in-memory files `(relative path, text)`; the path gives the chapter.
pub fn load_str(files: &[(&str, &str)]) -> Result<Catalogue, Vec<SpecError>> {
    let mut errors = Vec::new();
    let mut catalogue = Catalogue::default();
    // Class outcomes are checked after every file is read: a clause may name a class
    // defined in another file. Keep (file, line, class) to report against.
    let mut class_uses: Vec<(String, usize, String)> = Vec::new();
    let mut first_seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut contradiction_refs: Vec<(String, usize, String, String)> = Vec::new();

    for (file, text) in files {
        let chapter = chapter_of(file);
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
                errors.push(SpecError {
                    file: file.to_string(),
                    line,
                    problem: e.message().trim().to_string(),
                });
                continue;
            }
        };
        catalogue.builtin_classes.extend(raw.builtin_classes);
        for rc in raw.clause {
            let line = line_of(text, rc.id.span().start);
            let id = rc.id.into_inner();
            let mut problem = |p: String| {
                errors.push(SpecError {
                    file: file.to_string(),
                    line,
                    problem: format!("clause {id:?}: {p}"),
                })
            };
            if let Err(p) = check_id(&id, &chapter) {
                problem(p);
            }
            if let Some((f, l)) = first_seen.get(&id) {
                problem(format!("duplicate id (first defined at {f}:{l})"));
            } else {
                first_seen.insert(id.clone(), (file.to_string(), line));
            }
            let citation = match (rc.seed, rc.url) {
                (Some(seed), None) => {
                    if !SEEDS.iter().any(|(name, _)| *name == seed) {
                        problem(format!("unknown seed document {seed:?}"));
                    }
                    Citation::Seed(seed)
                }
                (None, Some(url)) => {
                    if !url.starts_with("https://") {
                        problem(format!("url must start with https:// (got {url:?})"));
                    }
                    Citation::Url(url)
                }
                (Some(_), Some(_)) => {
                    problem("has both `seed` and `url`; cite one document".into());
                    continue;
                }
                (None, None) => {
                    problem("missing citation: give `seed` or `url`".into());
                    continue;
                }
            };
            let quote = rc.quote.unwrap_or_default();
            if quote.trim().is_empty() {
                problem("missing quote: cite the sentence that states the rule".into());
            } else if quote.chars().count() > QUOTE_CHARS_MAX {
                problem(format!(
                    "quote is {} characters; at most {QUOTE_CHARS_MAX} (cite, do not copy)",
                    quote.chars().count()
                ));
            }
            if rc.api.trim().is_empty() {
                problem("empty `api`".into());
            }
            if rc.when.trim().is_empty() {
                problem("empty `when`".into());
            }
            if rc.runtimes.is_empty() && rc.contradicted_by.is_empty() {
                problem(
                    "empty `runtimes`: name at least one, or say which clause \
                     `contradicted_by` shows what runtimes do instead"
                        .into(),
                );
            }
            if !rc.contradicted_by.is_empty() && rc.notes.is_none() {
                problem("a contradicted clause needs `notes` explaining the disagreement".into());
            }
            for other in &rc.contradicted_by {
                contradiction_refs.push((file.to_string(), line, id.clone(), other.clone()));
            }
            for r in &rc.runtimes {
                if !RUNTIMES.iter().any(|(name, _)| name == r) {
                    let names: Vec<&str> = RUNTIMES.iter().map(|(n, _)| *n).collect();
                    problem(format!(
                        "unknown runtime {r:?} (known: {})",
                        names.join(", ")
                    ));
                }
            }
            for class in rc.outcome.classes() {
                if class != "any" {
                    class_uses.push((file.to_string(), line, class.to_string()));
                }
            }
            catalogue.clauses.push(Clause {
                id,
                chapter: chapter.clone(),
                citation,
                quote,
                api: rc.api,
                when: rc.when,
                outcome: rc.outcome,
                runtimes: rc.runtimes,
                contradicted_by: rc.contradicted_by,
                notes: rc.notes,
                file: file.to_string(),
                line,
            });
        }
    }

    let known = catalogue.known_classes();
    for (file, line, class) in class_uses {
        if !known.contains(&class) {
            errors.push(SpecError {
                file,
                line,
                problem: format!(
                    "unknown exception class {class:?}: define it with a `class` clause \
                     in exceptions.toml or list it in `builtin_classes`"
                ),
            });
        }
    }

    for (file, line, id, other) in contradiction_refs {
        if !first_seen.contains_key(&other) {
            errors.push(SpecError {
                file,
                line,
                problem: format!("clause {id:?}: contradicted_by names unknown clause {other:?}"),
            });
        }
    }

    if errors.is_empty() {
        Ok(catalogue)
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(errors)
    }
}

/// `asyncio/streams.toml` is chapter `asyncio.streams`.
fn chapter_of(file: &str) -> String {
    file.trim_end_matches(".toml").replace('/', ".")
}

fn check_id(id: &str, chapter: &str) -> Result<(), String> {
    let well_formed = id.split('.').count() >= 3
        && id.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if !well_formed {
        return Err(
            "id must be dotted lowercase words (a-z, 0-9, _), at least three of them".into(),
        );
    }
    if !id.starts_with(&format!("{chapter}.")) {
        return Err(format!("id must start with its chapter `{chapter}.`"));
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
