//! The virtual clock: time is a count of nanoseconds that only moves forward.

use std::fmt;

/// A point in virtual time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// The start of every run.
    pub const ZERO: Instant = Instant(0);

    /// From seconds, as scenarios write delays (rounded to the nearest nanosecond).
    pub fn from_secs_f64(secs: f64) -> Instant {
        Instant((secs.max(0.0) * 1e9).round() as u64)
    }

    /// This instant plus `ns` nanoseconds, saturating.
    pub fn plus_ns(self, ns: u64) -> Instant {
        Instant(self.0.saturating_add(ns))
    }

    /// Seconds, for display.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl fmt::Display for Instant {
    /// Seconds with millisecond precision (`1.250`), as traces print times.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / 1_000_000;
        let rem_ns = self.0 % 1_000_000;
        if rem_ns == 0 {
            write!(f, "{}.{:03}", ms / 1000, ms % 1000)
        } else {
            write!(f, "{:.6}", self.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_seconds_with_milliseconds() {
        assert_eq!(Instant::from_secs_f64(1.25).to_string(), "1.250");
        assert_eq!(Instant::ZERO.to_string(), "0.000");
    }
}
