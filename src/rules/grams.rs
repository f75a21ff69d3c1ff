//! A sampled 4-gram filter that finds many ASCII-case-insensitive literals in short
//! texts (the idea of Hyperscan's FDR, without its SIMD): the text is probed every
//! `stride` bytes, each probe hashes 4 bytes into a 64K-slot table, and only a set slot
//! leads to exact comparisons.
//!
//! Why it finds every occurrence: with `stride = shortest literal - 3`, any occurrence
//! of a literal covers at least one probe position, and the probes that fall inside it
//! all sit at offsets of one residue class modulo the stride. For every literal and
//! every residue class one 4-gram is put in the table (the rarest-looking of that
//! class), so whichever class an occurrence falls into, one of its probes hits.
//!
//! On texts of a few dozen bytes it costs a fraction of a Teddy search: no copy, no
//! lowercasing (bytes are case-folded by OR-ing 0x20 before hashing, which maps both
//! cases of a letter to one value and may only merge more), no searcher start-up.

/// Literals must be at least this long.
const Q: usize = 4;
/// Probes at most this far apart (more grams per literal, fewer probes)...
const MAX_STRIDE: usize = 8;
/// ...unless the literals are so few that a wider stride still sets at most this many
/// table slots: a lone long literal ("invalid token or user not found") is probed every
/// 28 bytes with 28 slots set of 65,536.
const SPARSE_PICKS: usize = 256;
/// Slots in the table (the hash's top 16 bits index it).
const SLOTS: usize = 1 << 16;
/// The confirmation index groups table slots by their top 12 bits.
const BUCKET_SHIFT: u32 = 4;

/// One literal's gram: slot `hash`, `off` bytes into literal `lit`.
#[derive(Debug, Clone, Copy)]
struct Pick {
    hash: u16,
    lit: u16,
    off: u16,
}

/// The compiled filter over a set of literals (already ASCII-lowercased).
#[derive(Debug)]
pub(crate) struct Grams {
    stride: usize,
    /// One byte per slot, not one bit: a set byte is tested without shifting, and the
    /// bytes of four probes are OR-ed for one branch.
    slots: Box<[u8; SLOTS]>,
    /// `picks[first[b]..first[b + 1]]` are the picks whose slot is in bucket `b`.
    first: Vec<u32>,
    picks: Vec<Pick>,
    lits: Vec<Box<[u8]>>,
}

/// The gram at `b[0..4]`, case-folded.
fn folded(b: &[u8; Q]) -> u32 {
    u32::from_le_bytes(*b) | 0x2020_2020
}

/// Table slot of a folded gram (Fibonacci hashing; the top bits mix all four bytes).
fn slot(g: u32) -> usize {
    (g.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// How common a byte is in log text, higher is more common: spaces and frequent
/// English letters first, then digits and separators, other bytes rare.
fn commonness(b: u8) -> u32 {
    const LETTERS: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";
    match b.to_ascii_lowercase() {
        b' ' => 120,
        c @ b'a'..=b'z' => {
            let rank = LETTERS
                .iter()
                .position(|&l| l == c)
                .unwrap_or(LETTERS.len());
            100 - 3 * rank as u32
        }
        b'0'..=b'9' => 40,
        b'.' | b'-' | b'/' | b',' => 50,
        _ => 10,
    }
}

/// Words that fill service logs whatever the application. A gram inside one of them
/// ("serv", "nnec") is a poor pick even when its letters look rare: on logs full of
/// "service" it hits on most messages and costs a comparison each time.
const LOG_WORDS: &[&str] = &[
    "service",
    "session",
    "request",
    "response",
    "connection",
    "database",
    "server",
    "status",
    "config",
    "initialize",
    "manager",
    "health",
    "token",
    "error",
    "failed",
    "success",
    "started",
    "starting",
    "complete",
    "loaded",
    "handler",
    "message",
    "process",
    "instance",
    "available",
    "validation",
    "function",
    "timestamp",
    "user",
    "client",
    "websocket",
    "default",
    "environment",
    "container",
    "directory",
    "information",
    "execution",
    "context",
    "version",
    "module",
    "import",
    "create",
    "update",
    "delete",
    "account",
    "storage",
    "cache",
    "redis",
    "query",
    "report",
];

/// Lower is rarer: letter frequencies, and a large penalty inside a [`LOG_WORDS`] word.
fn score(g: &[u8]) -> u32 {
    let letters: u32 = g.iter().map(|&b| commonness(b)).sum();
    let in_word = LOG_WORDS.iter().any(|w| {
        w.as_bytes()
            .windows(g.len())
            .any(|x| x.eq_ignore_ascii_case(g))
    });
    letters + if in_word { 1000 } else { 0 }
}

fn gram(b: &[u8], at: usize) -> Option<&[u8; Q]> {
    b.get(at..at + Q)?.try_into().ok()
}

impl Grams {
    /// `None` when a literal is shorter than 4 bytes, or there are too many to index.
    pub fn build(lits: &[String]) -> Option<Grams> {
        let min = lits.iter().map(String::len).min()?;
        if min < Q || lits.len() > usize::from(u16::MAX) {
            return None;
        }
        let cap = (SPARSE_PICKS / lits.len()).max(MAX_STRIDE);
        let stride = (min - Q + 1).min(cap);
        let mut slots = Box::new([0u8; SLOTS]);
        let mut picks = Vec::new();
        for (li, l) in lits.iter().enumerate() {
            let b = l.as_bytes();
            if b.len() > usize::from(u16::MAX) {
                return None;
            }
            for r in 0..stride {
                let off = (r..=b.len() - Q)
                    .step_by(stride)
                    .min_by_key(|&j| score(&b[j..j + Q]))?;
                let h = slot(folded(gram(b, off)?));
                slots[h] = 1;
                picks.push(Pick {
                    hash: h as u16,
                    lit: li as u16,
                    off: off as u16,
                });
            }
        }
        picks.sort_by_key(|p| (p.hash, p.lit, p.off));
        picks.dedup_by_key(|p| (p.hash, p.lit, p.off));
        let buckets = SLOTS >> BUCKET_SHIFT;
        let mut first = vec![0u32; buckets + 1];
        for p in &picks {
            first[(usize::from(p.hash) >> BUCKET_SHIFT) + 1] += 1;
        }
        for b in 0..buckets {
            first[b + 1] += first[b];
        }
        Some(Grams {
            stride,
            slots,
            first,
            picks,
            lits: lits.iter().map(|l| l.as_bytes().into()).collect(),
        })
    }

    /// Calls `hit` with the index of every literal in `text`, at least once each.
    pub fn scan(&self, text: &[u8], mut hit: impl FnMut(usize)) {
        if self.stride == Q {
            // The probes tile the text, four per 16 bytes sharing one branch (most log
            // text sets no slot).
            let mut quads = text.chunks_exact(4 * Q);
            let mut at = 0;
            for c in &mut quads {
                if let Ok(c) = <&[u8; 4 * Q]>::try_from(c) {
                    self.quad(text, at, c, &mut hit);
                }
                at += 4 * Q;
            }
            // The rest on the same 4-byte grid: every occurrence's probes must stay in
            // one residue class (a quad aligned to the end would shift it).
            while let Some(g) = gram(text, at) {
                self.probe(text, at, g, &mut hit);
                at += Q;
            }
            return;
        }
        let mut p = 0;
        while let Some(g) = gram(text, p) {
            self.probe(text, p, g, &mut hit);
            p += self.stride;
        }
    }

    /// Four probes at `text[at..at + 16]` (that is `c`), one branch unless one hits.
    #[inline(always)]
    fn quad(&self, text: &[u8], at: usize, c: &[u8; 4 * Q], hit: &mut impl FnMut(usize)) {
        let (a, b) = c.split_at(2 * Q);
        let word =
            |x: &[u8]| <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes) | 0x2020_2020_2020_2020;
        let (a, b) = (word(a), word(b));
        let h = [
            slot(a as u32),
            slot((a >> 32) as u32),
            slot(b as u32),
            slot((b >> 32) as u32),
        ];
        let s = &self.slots;
        if s[h[0]] | s[h[1]] | s[h[2]] | s[h[3]] != 0 {
            for (k, &h) in h.iter().enumerate() {
                if s[h] != 0 {
                    self.confirm(text, at + k * Q, h, hit);
                }
            }
        }
    }

    /// The gram `g` found at `text[p..]`: its table slot, and on a hit the comparisons.
    #[inline(always)]
    fn probe(&self, text: &[u8], p: usize, g: &[u8; Q], hit: &mut impl FnMut(usize)) {
        let h = slot(folded(g));
        if self.slots[h] != 0 {
            self.confirm(text, p, h, hit);
        }
    }

    #[cold]
    fn confirm(&self, text: &[u8], p: usize, h: usize, hit: &mut impl FnMut(usize)) {
        let b = h >> BUCKET_SHIFT;
        let (lo, hi) = (self.first[b] as usize, self.first[b + 1] as usize);
        for pick in &self.picks[lo..hi] {
            if usize::from(pick.hash) != h {
                continue;
            }
            let lit = &self.lits[usize::from(pick.lit)];
            let Some(start) = p.checked_sub(usize::from(pick.off)) else {
                continue;
            };
            let Some(t) = text.get(start..start + lit.len()) else {
                continue;
            };
            // The literal's last 4 bytes, folded, reject most false hits in one compare
            // (folding maps equal-ignoring-case bytes to equal values).
            let tail = |b: &[u8]| b.last_chunk::<Q>().map(folded);
            if tail(t) == tail(lit) && t.eq_ignore_ascii_case(lit) {
                hit(usize::from(pick.lit));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn found(g: &Grams, text: &str) -> Vec<usize> {
        let mut v = Vec::new();
        g.scan(text.as_bytes(), |i| v.push(i));
        v.sort_unstable();
        v.dedup();
        v
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn naive(lits: &[String], text: &str) -> Vec<usize> {
        let t = text.to_ascii_lowercase();
        (0..lits.len()).filter(|&i| t.contains(&lits[i])).collect()
    }

    #[test]
    fn finds_every_literal_at_every_offset_in_either_case() {
        let lits = strings(&[
            "timeout",
            "connection refused",
            "x-service-id",
            "jwt_secret",
        ]);
        let g = Grams::build(&lits).unwrap();
        assert_eq!(g.stride, 4);
        for (i, l) in lits.iter().enumerate() {
            // Past 16 bytes of padding: each probe of a quad and the lone grams after it.
            for pad in 0..20 {
                for upper in [false, true] {
                    let l = if upper {
                        l.to_ascii_uppercase()
                    } else {
                        l.clone()
                    };
                    let text = format!(
                        "{}{l}{}",
                        "ab ".repeat(pad).get(..pad).unwrap(),
                        "z".repeat(pad % 5)
                    );
                    assert_eq!(found(&g, &text), [i], "{text:?}");
                }
            }
        }
        assert!(found(&g, "").is_empty());
        assert!(found(&g, "tim").is_empty());
        assert!(found(&g, "time out; connection refuse; x-service_id").is_empty());
    }

    #[test]
    fn agrees_with_a_naive_search_on_generated_texts() {
        let lits = strings(&[
            "failed to connect",
            "failed to dial",
            "not reachable",
            "unreachable",
            "the request was aborted",
            "memory limit of ",
            "é-mixed",
        ]);
        let g = Grams::build(&lits).unwrap();
        let words = [
            "failed",
            "to",
            "connect",
            "dial",
            "not",
            "un",
            "reachable",
            "the",
            "request",
            "was",
            "aborted",
            "Memory",
            "limit",
            "of",
            "é",
            "-mixed",
            "FAILED",
            "",
            " ",
        ];
        // A small deterministic generator: texts of up to 12 words, glued with and
        // without spaces.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let mut text = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 12) as usize;
            for k in 0..n {
                let w = words[((x >> (5 * k)) % words.len() as u64) as usize];
                text.push_str(w);
                if (x >> (k + 40)) & 1 == 1 {
                    text.push(' ');
                }
            }
            assert_eq!(found(&g, &text), naive(&lits, &text), "{text:?}");
        }
    }

    /// Long literals that end near the end of a text, at every offset: many straddle
    /// the last full 16-byte chunk, so the probes after it must keep the 4-byte grid (a
    /// probe quad aligned to the text's end, tried once, shifted the residue class and
    /// missed some of them).
    #[test]
    fn long_literals_are_found_across_the_last_chunk() {
        let lits = strings(&[
            "timeout",
            "qzxv wkjp yrtm bfgh ldsn",
            "the request failed because either the response was malformed",
            "no route to host: dial tcp 10.0.0.1:5432",
        ]);
        let g = Grams::build(&lits).unwrap();
        assert_eq!(g.stride, 4);
        for (i, l) in lits.iter().enumerate() {
            for pre in 0..40 {
                for post in 0..9 {
                    let text = format!("{}{l}{}", "a".repeat(pre), "b".repeat(post));
                    assert!(found(&g, &text).contains(&i), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn refuses_literals_shorter_than_a_gram() {
        assert!(Grams::build(&strings(&["abc", "long enough"])).is_none());
        assert!(Grams::build(&[]).is_none());
        let g = Grams::build(&["abcd".to_string()]).unwrap();
        assert_eq!(g.stride, 1);
        assert_eq!(found(&g, "xxABCDxx"), [0]);
    }

    #[test]
    fn a_lone_long_literal_is_probed_far_apart_and_still_found_everywhere() {
        let lit = "invalid token or user not found";
        let g = Grams::build(&strings(&[lit])).unwrap();
        assert_eq!(g.stride, lit.len() - Q + 1);
        for pad in 0..40 {
            let text = format!(
                "{}{}{}",
                "x".repeat(pad),
                lit.to_ascii_uppercase(),
                "y".repeat(pad % 7)
            );
            assert_eq!(found(&g, &text), [0], "{text:?}");
            assert!(found(&g, &text.replace("USER", "USR")).is_empty());
        }
        // Many literals keep the usual cap.
        let many: Vec<String> = (0..40).map(|i| format!("{lit} {i:02}")).collect();
        assert_eq!(Grams::build(&many).unwrap().stride, MAX_STRIDE);
    }
}
