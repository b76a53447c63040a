//! What a person watching a run sees: a live progress line on a terminal (done/total,
//! rate, failures so far, elapsed, ETA), coloured verdict words, and the final recap of
//! every failure with its replay line. Colour follows `--color` (auto: only on a
//! terminal, and never when `NO_COLOR` is set, see no-color.org).

use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// When to colour.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Colour verdict words on stdout?
pub fn colour_on(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// A verdict word, coloured (red for failures, yellow for the undecided, green for
/// passes) when `colour` is on, padded to `width`.
pub fn paint(word: &str, colour: bool, width: usize) -> String {
    let padded = format!("{word:<width$}");
    if !colour {
        return padded;
    }
    let code = if word.starts_with("ok") || word.starts_with("known") {
        "32"
    } else if word.starts_with("inconclusive") || word.starts_with("not run") {
        "33"
    } else {
        "1;31"
    };
    format!("\x1b[{code}m{padded}\x1b[0m")
}

/// The live progress line, on stderr when it is a terminal (nothing otherwise).
pub struct Progress {
    live: bool,
    total: u64,
    started: Instant,
    last_drawn: Option<Instant>,
    shown: bool,
    what: &'static str,
}

impl Progress {
    /// A progress line over `total` cases, live only on a terminal.
    pub fn new(total: u64, what: &'static str, enabled: bool) -> Progress {
        Progress {
            live: enabled && std::io::stderr().is_terminal(),
            total,
            started: Instant::now(),
            last_drawn: None,
            shown: false,
            what,
        }
    }

    /// Clear the line before something else is printed on the terminal.
    pub fn clear(&mut self) {
        if self.live && self.shown {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
            self.shown = false;
        }
    }

    /// Redraw: `done` of the total, `failures` so far (at most ten redraws a second).
    pub fn draw(&mut self, done: u64, failures: u64, force: bool) {
        if !self.live {
            return;
        }
        let now = Instant::now();
        if !force
            && self
                .last_drawn
                .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last_drawn = Some(now);
        let secs = self.started.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = if done > 0 && done < self.total {
            format!(", ETA {}", clock((self.total - done) as f64 / rate))
        } else {
            String::new()
        };
        let mut e = std::io::stderr().lock();
        let _ = write!(
            e,
            "\r\x1b[2K{done}/{} {}, {rate:.1}/s, {failures} failing, {} elapsed{eta}",
            self.total,
            self.what,
            clock(secs)
        );
        let _ = e.flush();
        self.shown = true;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Seconds as `1m05s` / `42s`.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
