//! LogSeverity: names and numbers as Cloud Logging defines them
//! (<https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#logseverity>).

use serde::Serialize;
use std::fmt;

/// A LogEntry severity; missing means `Default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    #[default]
    Default,
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Severity {
    /// Every level, lowest first.
    pub const ALL: [Severity; 9] = [
        Severity::Default,
        Severity::Debug,
        Severity::Info,
        Severity::Notice,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
        Severity::Alert,
        Severity::Emergency,
    ];

    /// The API name, e.g. `ERROR`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Default => "DEFAULT",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
            Severity::Critical => "CRITICAL",
            Severity::Alert => "ALERT",
            Severity::Emergency => "EMERGENCY",
        }
    }

    /// The API number (0, 100, ... 800).
    pub fn number(self) -> u32 {
        match self {
            Severity::Default => 0,
            Severity::Debug => 100,
            Severity::Info => 200,
            Severity::Notice => 300,
            Severity::Warning => 400,
            Severity::Error => 500,
            Severity::Critical => 600,
            Severity::Alert => 700,
            Severity::Emergency => 800,
        }
    }

    /// From a number: the highest level not above it (the API rounds down).
    pub fn from_number(n: f64) -> Severity {
        let mut out = Severity::Default;
        for s in Severity::ALL {
            if f64::from(s.number()) <= n {
                out = s;
            }
        }
        out
    }

    /// From a name (case-insensitive; `WARN` and `FATAL` accepted) or a number in a string.
    pub fn parse(s: &str) -> Option<Severity> {
        let t = s.trim();
        for sev in Severity::ALL {
            if t.eq_ignore_ascii_case(sev.name()) {
                return Some(sev);
            }
        }
        if t.eq_ignore_ascii_case("warn") {
            return Some(Severity::Warning);
        }
        if t.eq_ignore_ascii_case("fatal") {
            return Some(Severity::Critical);
        }
        t.parse::<f64>().ok().map(Severity::from_number)
    }

    /// True for ERROR and above.
    pub fn is_error(self) -> bool {
        self >= Severity::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(Severity::parse("ERROR"), Some(Severity::Error));
        assert_eq!(Severity::parse("warning"), Some(Severity::Warning));
        assert_eq!(Severity::parse("500"), Some(Severity::Error));
        assert_eq!(Severity::parse("550"), Some(Severity::Error));
        assert_eq!(Severity::parse("800"), Some(Severity::Emergency));
        assert_eq!(Severity::parse("0"), Some(Severity::Default));
        assert_eq!(Severity::parse("bogus"), None);
        assert!(Severity::Critical > Severity::Error);
        assert!(Severity::Error.is_error() && !Severity::Warning.is_error());
    }
}
