//! `--junit FILE`: a run's results as JUnit XML, the format CI systems read test
//! results in (pytest's `--junitxml`, nextest's JUnit output): one `<testcase>` per
//! scenario or fuzz case; a divergence is a `<failure>` whose text is its report, an
//! adapter failure or bad input an `<error>`, an inconclusive case `<skipped>` (not
//! passed), a known divergence a pass with its explanation in `<system-out>`.

use std::fmt::Write as _;

/// One test case's outcome.
pub enum JunitOutcome {
    /// Passed.
    Pass,
    /// Passed, with a note.
    PassWithNote(String),
    /// A failure: short message, full text.
    Failure(String, String),
    /// An error (the tool, not the runtime): short message, full text.
    Error(String, String),
    /// Not decided.
    Skipped(String),
}

/// One test case.
pub struct JunitCase {
    /// Its name (the scenario file, or `case K`).
    pub name: String,
    /// Seconds.
    pub time_s: f64,
    /// What happened.
    pub outcome: JunitOutcome,
    /// The command that replays it.
    pub replay: Option<String>,
}

/// Escape text for XML, dropping characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The XML document for a suite named `suite` (one `<testsuite>` in `<testsuites>`).
pub fn render(suite: &str, cases: &[JunitCase], time_s: f64) -> String {
    let count = |f: &dyn Fn(&JunitOutcome) -> bool| cases.iter().filter(|c| f(&c.outcome)).count();
    let failures = count(&|o| matches!(o, JunitOutcome::Failure(..)));
    let errors = count(&|o| matches!(o, JunitOutcome::Error(..)));
    let skipped = count(&|o| matches!(o, JunitOutcome::Skipped(..)));
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"asyncspec\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time_s:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time_s:.3}\">",
        escape(suite),
        cases.len()
    );
    for c in cases {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            escape(&c.name),
            escape(suite),
            c.time_s
        );
        let replay = c
            .replay
            .as_ref()
            .map(|r| format!("\nreplay: {r}"))
            .unwrap_or_default();
        match &c.outcome {
            JunitOutcome::Pass => x.push_str("/>\n"),
            JunitOutcome::PassWithNote(note) => {
                let _ = writeln!(
                    x,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(note)
                );
            }
            JunitOutcome::Failure(message, text) => {
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{}\" type=\"divergence\">{}{}</failure>\n    </testcase>",
                    escape(message),
                    escape(text),
                    escape(&replay)
                );
            }
            JunitOutcome::Error(message, text) => {
                let _ = writeln!(
                    x,
                    ">\n      <error message=\"{}\" type=\"error\">{}{}</error>\n    </testcase>",
                    escape(message),
                    escape(text),
                    escape(&replay)
                );
            }
            JunitOutcome::Skipped(message) => {
                let _ = writeln!(
                    x,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(message)
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Write the document; an error names the file.
pub fn write(
    path: &std::path::Path,
    suite: &str,
    cases: &[JunitCase],
    time_s: f64,
) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, render(suite, cases, time_s))
        .map_err(|e| format!("{}: {e}", path.display()))
}
