//! When a rule's matches are enough to call it a finding.
//!
//! The rule stage only parses thresholds; `analyze` counts matches per time bucket and
//! asks [`Threshold::fires`]. One 403 is a user typing a wrong password; a hundred in a
//! row is an outage, so noisy rules say how many, or for how long, before they fire.

use std::collections::BTreeMap;
use std::fmt;

/// `min_count` / `window` / `continuous_buckets` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Threshold {
    /// Fire at this many matches: within `window_secs` when set, else overall.
    pub min_count: Option<u64>,
    /// Sliding window for `min_count`, seconds (rounded up to whole buckets).
    pub window_secs: Option<i64>,
    /// Fire when this many consecutive minutes each hold at least one match.
    pub continuous_buckets: Option<u32>,
    /// A run of `continuous_buckets` counts only when the matches are at least this
    /// share of the service's requests in the buckets that hold them, in basis points
    /// (500 = 5%): a busy service's background of one 5xx a minute is not a burst. It
    /// does not apply to `min_count`: a burst is one however busy the service.
    pub min_share_bp: Option<u32>,
}

impl Threshold {
    /// True when any single match makes a finding (no threshold given).
    pub fn is_trivial(&self) -> bool {
        self.min_count.is_none_or(|n| n <= 1)
            && self.continuous_buckets.is_none()
            && self.min_share_bp.is_none()
    }

    /// Whether the matches (per bucket) are at least `min_share` of the requests in
    /// the same buckets (`requests`: bucket start -> requests, at the same resolution).
    /// True without `min_share`, or when those buckets hold no request at all (the
    /// matches are not requests, so there is no share to measure).
    pub fn share_met(&self, bucket_counts: &[(i64, u64)], requests: &BTreeMap<i64, u64>) -> bool {
        let matched: u64 = bucket_counts.iter().map(|c| c.1).sum();
        shared(
            matched,
            served_in(bucket_counts, requests),
            self.min_share_bp,
        )
    }

    /// Whether matches counted per bucket meet the threshold.
    ///
    /// `bucket_counts` holds `(bucket start in seconds, matches)` at the analysis'
    /// base resolution `base_secs` (which divides a minute), sorted by start; buckets
    /// without matches may be left out. The threshold is the rule's alone: `window` is
    /// measured at that resolution and a run counts whole minutes, whatever bucket the
    /// report draws its timeline with (a week-long bucket must not turn "20 within 5
    /// minutes" into "20 within a week"). When both `min_count` and
    /// `continuous_buckets` are set, either one is enough.
    pub fn fires(&self, bucket_counts: &[(i64, u64)], base_secs: i64) -> bool {
        self.fires_among(bucket_counts, base_secs, &BTreeMap::new())
    }

    /// [`Threshold::fires`], with the service's requests per bucket for `min_share`.
    pub fn fires_among(
        &self,
        bucket_counts: &[(i64, u64)],
        base_secs: i64,
        requests: &BTreeMap<i64, u64>,
    ) -> bool {
        self.first_met(bucket_counts, base_secs, requests).is_some()
    }

    /// Where the matches first met the threshold: the start (seconds) of the first
    /// window or run that holds enough, or the bucket where the count reached
    /// `min_count` without a window; `None` when they never did. Matches before it
    /// are background the threshold let pass (two stray 500s before a burst).
    pub fn first_met(
        &self,
        bucket_counts: &[(i64, u64)],
        base_secs: i64,
        requests: &BTreeMap<i64, u64>,
    ) -> Option<i64> {
        let sorted;
        let counts = if bucket_counts.windows(2).all(|w| w[0].0 <= w[1].0) {
            bucket_counts
        } else {
            // Callers promise sorted input; sorting a copy keeps a broken promise harmless.
            let mut v = bucket_counts.to_vec();
            v.sort_unstable();
            sorted = v;
            &sorted
        };
        let total: u64 = counts.iter().map(|c| c.1).sum();
        if total == 0 {
            return None;
        }
        // A burst needs a fifth of `min_share` of the requests in its own window (a
        // busy service's 0.2% background is not one; an endpoint down is), a run the
        // whole of it over its own minutes.
        let burst_bp = self.min_share_bp.map(|bp| (bp / 5).max(1));
        let by_count = self.min_count.map(|n| match self.window_secs {
            None => (total >= n && shared(total, served_in(counts, requests), burst_bp))
                .then(|| reached(counts, n))
                .flatten(),
            Some(w) => any_window(counts, w.max(base_secs), n, requests, burst_bp),
        });
        let by_run = self.continuous_buckets.map(|k| {
            any_run(
                &per_minute(counts),
                u64::from(k),
                requests,
                self.min_share_bp,
            )
        });
        match (by_count, by_run) {
            (None, None) => counts.iter().find(|c| c.1 > 0).map(|c| c.0),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(b)) => a.into_iter().chain(b).min(),
        }
    }
}

/// The bucket where the running count reaches `n`.
fn reached(counts: &[(i64, u64)], n: u64) -> Option<i64> {
    let mut sum = 0u64;
    counts.iter().find_map(|&(b, c)| {
        sum += c;
        (sum >= n).then_some(b)
    })
}

/// Basis points as a percentage: 500 -> "5%", 25 -> "0.25%".
pub fn format_share(bp: u32) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => format!("{whole}%"),
        r if r % 10 == 0 => format!("{whole}.{}%", r / 10),
        r => format!("{whole}.{r:02}%"),
    }
}

/// The bucket of `continuous_buckets`: a minute.
pub const RUN_SECS: i64 = 60;

/// Sorted counts summed into whole minutes.
fn per_minute(counts: &[(i64, u64)]) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> = Vec::with_capacity(counts.len());
    for &(start, n) in counts {
        let m = start.div_euclid(RUN_SECS) * RUN_SECS;
        match out.last_mut() {
            Some(last) if last.0 == m => last.1 += n,
            _ => out.push((m, n)),
        }
    }
    out
}

/// `matched` is at least `bp` basis points of `served` (always without a floor or
/// without requests to measure against).
fn shared(matched: u64, served: u64, bp: Option<u32>) -> bool {
    bp.is_none_or(|bp| {
        served == 0 || matched.saturating_mul(10_000) >= u64::from(bp).saturating_mul(served)
    })
}

/// Requests in the whole minutes that hold these counts.
fn served_in(counts: &[(i64, u64)], requests: &BTreeMap<i64, u64>) -> u64 {
    // Whole minutes, as runs are counted: at a `--bucket` under a minute, only the
    // seconds holding a match would count their requests, and the share would grow.
    let mut minutes: Vec<i64> = counts
        .iter()
        .map(|(b, _)| b.div_euclid(RUN_SECS) * RUN_SECS)
        .collect();
    minutes.sort_unstable();
    minutes.dedup();
    minutes
        .iter()
        .map(|&m| requests.range(m..m + RUN_SECS).map(|(_, n)| n).sum::<u64>())
        .sum()
}

/// The start of the first window `[start, start + window)` holding `n` matches that
/// are `bp` of its requests (counted in whole minutes, whatever the base bucket).
fn any_window(
    counts: &[(i64, u64)],
    window: i64,
    n: u64,
    requests: &BTreeMap<i64, u64>,
    bp: Option<u32>,
) -> Option<i64> {
    let mut sum = 0u64;
    let mut hi = 0;
    for lo in 0..counts.len() {
        let end = counts[lo].0.saturating_add(window);
        while hi < counts.len() && counts[hi].0 < end {
            sum += counts[hi].1;
            hi += 1;
        }
        // The window's requests, in the whole minutes it covers.
        let from = counts[lo].0.div_euclid(RUN_SECS) * RUN_SECS;
        let to = (end - 1).div_euclid(RUN_SECS) * RUN_SECS + RUN_SECS;
        if sum >= n && shared(sum, requests.range(from..to).map(|(_, r)| r).sum(), bp) {
            return Some(counts[lo].0);
        }
        sum -= counts[lo].1;
    }
    None
}

/// The first minute of the first run of at least `k` consecutive minutes with
/// matches whose matches are `bp` of the requests in those minutes.
fn any_run(
    minutes: &[(i64, u64)],
    k: u64,
    requests: &BTreeMap<i64, u64>,
    bp: Option<u32>,
) -> Option<i64> {
    let minutes: Vec<(i64, u64)> = minutes.iter().copied().filter(|m| m.1 > 0).collect();
    let mut start = 0;
    for i in 0..minutes.len() {
        let breaks = i + 1 == minutes.len() || minutes[i + 1].0 - minutes[i].0 != RUN_SECS;
        if !breaks {
            continue;
        }
        let run = &minutes[start..=i];
        let matched: u64 = run.iter().map(|m| m.1).sum();
        if run.len() as u64 >= k && shared(matched, served_in(run, requests), bp) {
            return Some(run[0].0);
        }
        start = i + 1;
    }
    None
}

/// Parses a duration such as `90s`, `10m`, `1h30m`, `2d` or `1w` into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad =
        || format!("bad duration `{s}`: write a number and a unit s, m, h, d or w, e.g. \"10m\"");
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !num.is_empty() {
        return Err(bad());
    }
    if total <= 0 {
        return Err(format!("bad duration `{s}`: it must be longer than zero"));
    }
    Ok(total)
}

/// Writes seconds back as the shortest `1h30m` form.
pub fn format_duration(secs: i64) -> String {
    let mut out = String::new();
    let mut rest = secs;
    for (unit, name) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] {
        if rest >= unit {
            out.push_str(&format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.min_count {
            parts.push(match self.window_secs {
                Some(w) => format!(">= {n} within {}", format_duration(w)),
                None => format!(">= {n} overall"),
            });
        }
        if let Some(k) = self.continuous_buckets {
            parts.push(match self.min_share_bp {
                Some(bp) => format!(
                    "{k} consecutive minutes at >= {} of requests",
                    format_share(bp)
                ),
                None => format!("{k} consecutive minutes"),
            });
        }
        if parts.is_empty() {
            f.write_str("any match")?;
        } else {
            f.write_str(&parts.join(" or "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// HTTP_403_BURST's threshold in `rules/app-auth.toml`.
    const BURST: Threshold = Threshold {
        min_count: Some(20),
        window_secs: Some(300),
        continuous_buckets: Some(10),
        min_share_bp: None,
    };

    #[test]
    fn a_share_of_requests_keeps_background_errors_quiet() {
        let t = Threshold {
            min_share_bp: Some(500),
            ..BURST
        };
        // One 5xx a minute against 300 requests a minute: 0.33%.
        let matches: Vec<(i64, u64)> = (0..12).map(|m| (m * 60, 1)).collect();
        let busy: BTreeMap<i64, u64> = (0..60).map(|m| (m * 60, 300)).collect();
        assert!(
            t.fires(&matches, 60),
            "without request counts the run fires"
        );
        assert!(!t.share_met(&matches, &busy));
        assert!(!t.fires_among(&matches, 60, &busy));
        // A burst under the full share fires by count at a fifth of it (one endpoint
        // down): 20 in 5 minutes of 1,500 requests is 1.3%.
        let burst: Vec<(i64, u64)> = (0..5).map(|m| (m * 60, 4)).collect();
        assert!(!t.share_met(&burst, &busy));
        assert!(t.fires_among(&burst, 60, &busy));
        // The same 20 against 600 requests a minute (0.67%, under a fifth) do not.
        let busier: BTreeMap<i64, u64> = (0..60).map(|m| (m * 60, 600)).collect();
        assert!(!t.fires_among(&burst, 60, &busier));
        // The same against 10 requests a minute: 10%.
        let quiet: BTreeMap<i64, u64> = (0..60).map(|m| (m * 60, 10)).collect();
        assert!(t.share_met(&matches, &quiet));
        // Two 5xx a minute on 1,000 requests a minute (0.2%): no burst by count either.
        let t5 = Threshold {
            min_count: Some(10),
            window_secs: Some(300),
            continuous_buckets: Some(5),
            min_share_bp: Some(500),
        };
        let thousand: BTreeMap<i64, u64> = (0..60).map(|m| (m * 60, 1000)).collect();
        let background: Vec<(i64, u64)> = (0..30).map(|m| (m * 60, 2)).collect();
        assert!(!t5.fires_among(&background, 60, &thousand));
        // A 15-minute run at 7.5% fires, however sparse the matches elsewhere.
        let mut diluted: Vec<(i64, u64)> = (0..15).map(|m| (m * 60, 75)).collect();
        diluted.extend((0..20).map(|k| (1200 + k * 120, 1)));
        assert!(t.fires_among(&diluted, 60, &thousand));
        // Counted at a finer resolution, the share is the same.
        let fine: Vec<(i64, u64)> = (0..12).map(|m| (m * 60 + 7, 1)).collect();
        let busy_fine: BTreeMap<i64, u64> = (0..360).map(|k| (k * 10, 50)).collect();
        assert!(!t.share_met(&fine, &busy_fine));
        // Matches that are not requests: no share to measure.
        assert!(t.share_met(&matches, &BTreeMap::new()));
        assert!(BURST.share_met(&matches, &busy), "no min_share");
        assert_eq!(format_share(500), "5%");
        assert_eq!(format_share(25), "0.25%");
        assert_eq!(format_share(150), "1.5%");
        assert_eq!(
            t.to_string(),
            ">= 20 within 5m or 10 consecutive minutes at >= 5% of requests"
        );
    }

    #[test]
    fn first_met_is_where_the_threshold_was_reached_not_the_first_stray_match() {
        let t = Threshold {
            min_count: Some(20),
            window_secs: Some(300),
            ..Threshold::default()
        };
        let none = BTreeMap::new();
        // A stray match at 0 and 3000, then 30 a minute from 6000.
        let mut counts = vec![(0, 1), (3000, 1)];
        counts.extend((0..10).map(|m| (6000 + m * 60, 30)));
        assert_eq!(t.first_met(&counts, 60, &none), Some(6000));
        let run = Threshold {
            continuous_buckets: Some(3),
            ..Threshold::default()
        };
        assert_eq!(run.first_met(&counts, 60, &none), Some(6000));
        let total = Threshold {
            min_count: Some(3),
            ..Threshold::default()
        };
        assert_eq!(total.first_met(&counts, 60, &none), Some(6000));
        assert_eq!(Threshold::default().first_met(&counts, 60, &none), Some(0));
        assert_eq!(t.first_met(&counts[..2], 60, &none), None);
    }

    #[test]
    fn single_or_isolated_403s_do_not_fire() {
        assert!(!BURST.fires(&[], 60));
        assert!(!BURST.fires(&[(0, 1)], 60));
        // Three lone 403s minutes apart, and a few more spread over an hour.
        assert!(!BURST.fires(&[(0, 1), (420, 1), (1200, 1)], 60));
        let spread: Vec<(i64, u64)> = (0..12).map(|i| (i * 300, 1)).collect();
        assert!(!BURST.fires(&spread, 60));
        // Nine busy-ish minutes in a row stay under both limits.
        let nine: Vec<(i64, u64)> = (0..9).map(|i| (i * 60, 2)).collect();
        assert!(!BURST.fires(&nine, 60));
    }

    #[test]
    fn a_hundred_continuous_403s_fire() {
        // 100+ in two minutes: the count within 5 minutes fires.
        assert!(BURST.fires(&[(0, 60), (60, 45)], 60));
        // One a minute for 100 minutes: the continuous run fires.
        let steady: Vec<(i64, u64)> = (0..100).map(|i| (i * 60, 1)).collect();
        assert!(BURST.fires(&steady, 60));
    }

    #[test]
    fn window_and_runs() {
        let t = Threshold {
            min_count: Some(5),
            window_secs: Some(120),
            continuous_buckets: None,
            min_share_bp: None,
        };
        assert!(!t.fires(&[(0, 2), (120, 2), (240, 2)], 60));
        assert!(t.fires(&[(0, 2), (60, 3)], 60));
        // A window shorter than a bucket still covers that bucket.
        assert!(t.fires(&[(0, 5)], 600));
        let run = Threshold {
            continuous_buckets: Some(3),
            ..Threshold::default()
        };
        assert!(!run.fires(&[(0, 1), (60, 1), (180, 1)], 60));
        assert!(!run.fires(&[(0, 1), (60, 0), (120, 1), (180, 1)], 60));
        assert!(run.fires(&[(0, 1), (60, 1), (60, 1), (120, 1)], 60));
        assert!(
            run.fires(&[(120, 1), (0, 1), (60, 1)], 60),
            "unsorted input"
        );
        // Runs count minutes whatever the base resolution: three half-minutes are two.
        assert!(run.fires(&[(0, 1), (30, 1), (60, 1), (120, 1)], 30));
        assert!(!run.fires(&[(0, 1), (30, 1), (60, 1)], 30));
        let overall = Threshold {
            min_count: Some(3),
            ..Threshold::default()
        };
        assert!(overall.fires(&[(0, 1), (9000, 2)], 60));
        assert!(Threshold::default().fires(&[(0, 1)], 60));
        assert!(Threshold::default().is_trivial() && !BURST.is_trivial());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration(" 45s "), Ok(45));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        for bad in [
            "",
            "10",
            "m",
            "10x",
            "0m",
            "-5m",
            "1.5h",
            "99999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(
            BURST.to_string(),
            ">= 20 within 5m or 10 consecutive minutes"
        );
        assert_eq!(Threshold::default().to_string(), "any match");
    }
}
