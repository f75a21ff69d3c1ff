//! RFC 3339 timestamps to UTC nanoseconds, without allocation.
//!
//! Cloud Logging writes `2025-09-16T01:42:58.995733Z` with 0 to 9 fraction digits;
//! payloads carry offsets (`-07:00`). A vendor sample ends in `UTC`, accepted as `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Nanoseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// The earliest year a timestamp may have (the Unix epoch).
const MIN_YEAR: i64 = 1970;
/// The latest: any two timestamps in 1970-2100 subtract without overflow.
const MAX_YEAR: i64 = 2100;

impl Timestamp {
    /// Parses RFC 3339 (`T` or space, any fraction, `Z`, `UTC` or `±HH:MM`).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.trim().as_bytes();
        if b.len() < 19 {
            return None;
        }
        let year = digits(b, 0, 4)?;
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        let hour = digits(b, 11, 2)?;
        let min = digits(b, 14, 2)?;
        let sec = digits(b, 17, 2)?;
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        // Years a log can carry and two of which can be subtracted in nanoseconds:
        // i64 spans 1677-2262, so 1679 minus 2261 overflowed every duration after.
        if !(MIN_YEAR..=MAX_YEAR).contains(&year)
            || !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
            || hour > 23
            || min > 59
        {
            return None;
        }
        // 60 is a leap second; fold it into the next second like chrono does.
        if sec > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..9 {
                nanos *= 10;
            }
        }
        let offset_secs: i64 = match &b[i..] {
            b"Z" | b"z" | b"UTC" | b"" => 0,
            [sign @ (b'+' | b'-'), rest @ ..] => {
                let (h, m) = match rest {
                    [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (two(*h1, *h2)?, two(*m1, *m2)?),
                    [h1, h2] => (two(*h1, *h2)?, 0),
                    _ => return None,
                };
                // RFC 3339 offsets stay within a day: `-24:00` is no offset.
                if h > 23 || m > 59 {
                    return None;
                }
                let o = h * 3600 + m * 60;
                if *sign == b'+' {
                    o
                } else {
                    -o
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
        secs.checked_mul(NANOS_PER_SEC)?
            .checked_add(nanos)
            .map(Timestamp)
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// As a chrono time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// RFC 3339 in UTC with the `Z` shown, trimmed to the precision present.
    pub fn to_rfc3339(self) -> String {
        let fmt = if self.0 % NANOS_PER_SEC == 0 {
            SecondsFormat::Secs
        } else if self.0 % 1_000_000 == 0 {
            SecondsFormat::Millis
        } else if self.0 % 1000 == 0 {
            SecondsFormat::Micros
        } else {
            SecondsFormat::Nanos
        };
        self.to_datetime().to_rfc3339_opts(fmt, true)
    }

    /// From whole seconds.
    pub fn from_secs(s: i64) -> Timestamp {
        Timestamp(s.saturating_mul(NANOS_PER_SEC))
    }
}

fn two(a: u8, b: u8) -> Option<i64> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    } else {
        None
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    let mut v = 0i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days of `month` in `year` (proleptic Gregorian): 2025-02-30 is no date, not March 2.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn years_outside_1970_to_2100_are_not_timestamps() {
        // 1679 and 2261 both fit in i64 nanoseconds, but their difference does not:
        // every duration between them overflowed (a panic in debug builds).
        assert_eq!(Timestamp::parse("2261-01-01T00:00:00Z"), None);
        assert_eq!(Timestamp::parse("1679-01-01T00:00:00Z"), None);
        assert_eq!(Timestamp::parse("1969-12-31T23:59:59Z"), None);
        assert!(Timestamp::parse("1970-01-01T00:00:00Z").is_some());
        assert!(Timestamp::parse("2100-12-31T23:59:59.999999999Z").is_some());
        let (a, b) = (
            Timestamp::parse("1970-01-01T00:00:00Z").unwrap(),
            Timestamp::parse("2100-12-31T23:59:59Z").unwrap(),
        );
        assert!(b.0.checked_sub(a.0).is_some());
    }

    fn chrono_nanos(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn agrees_with_chrono() {
        for s in [
            "2025-09-16T01:42:58.995733Z",
            "2025-09-16T01:43:05.967637095Z",
            "2025-09-16T01:43:05.28Z",
            "2025-09-16T01:43:05Z",
            "2020-02-29T23:59:59.1+02:00",
            "1999-12-31T23:00:00.12345678-07:00",
            "2024-01-01T00:00:00.000000000Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().0, chrono_nanos(s), "{s}");
        }
    }

    #[test]
    fn odd_forms() {
        let z = Timestamp::parse("2018-01-26T11:35:11.374Z").unwrap();
        assert_eq!(Timestamp::parse("2018-01-26T11:35:11.374UTC"), Some(z));
        assert_eq!(Timestamp::parse("2018-01-26 11:35:11.374Z"), Some(z));
        assert!(Timestamp::parse("2018-01-26").is_none());
        assert!(Timestamp::parse("2018-13-26T11:35:11Z").is_none());
        assert!(Timestamp::parse("2018-01-26T11:35:11.Z").is_none());
        assert!(Timestamp::parse("2018-01-26T11:35:11+0x:00").is_none());
        assert!(Timestamp::parse("").is_none());
        assert!(Timestamp::parse("2018-01-26T11:35:11é").is_none());
        // Dates that do not exist, and offsets of a day or more, are not times.
        for bad in [
            "2025-02-30T17:00:06Z",
            "2025-02-29T17:00:06Z",
            "2025-04-31T17:00:06Z",
            "1900-02-29T00:00:00Z",
            "2025-09-11T17:00:06-24:00",
            "2025-09-11T17:00:06+05:60",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
        for good in [
            "2024-02-29T17:00:06Z",
            "2000-02-29T00:00:00Z",
            "2025-12-31T23:59:59-23:59",
        ] {
            assert!(Timestamp::parse(good).is_some(), "{good}");
        }
    }

    #[test]
    fn renders_utc() {
        let t = Timestamp::parse("2025-09-16T03:42:58.5+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-09-16T01:42:58.500Z");
    }
}
