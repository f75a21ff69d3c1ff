//! From command-line types to plain settings; the only user of `cli` types' raw strings.

use crate::entry::Timestamp;
use anyhow::{bail, Result};

/// A point in time as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// An absolute time.
    At(Timestamp),
    /// Seconds back from the newest entry.
    Back(i64),
}

impl TimeSpec {
    /// Parses RFC 3339, a date (`2025-09-15`, midnight UTC), or a duration (`90m`, `6h`, `2d`).
    pub fn parse(s: &str) -> Result<TimeSpec> {
        let t = s.trim();
        if let Some(ts) = Timestamp::parse(t) {
            return Ok(TimeSpec::At(ts));
        }
        if t.len() == 10 {
            if let Some(ts) = Timestamp::parse(&format!("{t}T00:00:00Z")) {
                return Ok(TimeSpec::At(ts));
            }
        }
        match parse_duration(t) {
            Ok(secs) => Ok(TimeSpec::Back(secs)),
            // `0h` is a duration, just not a usable one: say that, not "invalid time".
            Err(e) if e.to_string().contains("longer than zero") => Err(e),
            Err(_) => bail!("invalid time `{s}`: use RFC 3339 (2025-09-15T17:38:00Z), a date (2025-09-15), or a duration back from the newest entry (90m, 6h, 2d)"),
        }
    }

    /// The absolute time, given the newest entry's time.
    pub fn resolve(self, newest: Option<Timestamp>) -> Option<Timestamp> {
        match self {
            TimeSpec::At(t) => Some(t),
            TimeSpec::Back(secs) => newest.map(|n| Timestamp(n.0 - secs * 1_000_000_000)),
        }
    }
}

/// Parses `30s`, `5m`, `1h30m`, `2d`, `1w` to seconds (> 0); one grammar with rule files.
pub fn parse_duration(s: &str) -> Result<i64> {
    crate::rules::parse_duration(s).map_err(anyhow::Error::msg)
}

/// Whether to colour, from `--color` and `NO_COLOR`.
pub fn use_color(choice: crate::cli::ColorChoice, is_terminal: bool) -> bool {
    use crate::cli::ColorChoice;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m").unwrap(), 5400);
        assert_eq!(parse_duration("6h").unwrap(), 21_600);
        assert_eq!(parse_duration("2d").unwrap(), 172_800);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        for bad in ["", "6", "h", "6x", "-5m", "0m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_specs() {
        assert_eq!(TimeSpec::parse("6h").unwrap(), TimeSpec::Back(21_600));
        let at = TimeSpec::parse("2025-09-15").unwrap();
        assert_eq!(
            at,
            TimeSpec::At(Timestamp::parse("2025-09-15T00:00:00Z").unwrap())
        );
        assert!(TimeSpec::parse("yesterday").is_err());
        let newest = Timestamp::parse("2025-09-15T06:00:00Z");
        assert_eq!(
            TimeSpec::Back(3600).resolve(newest),
            Timestamp::parse("2025-09-15T05:00:00Z")
        );
    }
}
