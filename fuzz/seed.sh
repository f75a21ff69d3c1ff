#!/usr/bin/env bash
# Seeds fuzz/corpus/<target> from the test fixtures, the rule packs and the samples.
# Idempotent; what the fuzzer adds to the corpus is kept (fuzz/corpus is git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
c=fuzz/corpus
mkdir -p "$c/framer" "$c/entry" "$c/rules" "$c/redact"

# framer: every fixture (gzip, BOM + CRLF, arrays, NDJSON, objects, YAML, truncated).
# Big files are cut at 8 KiB: the fuzzer runs faster on small inputs (a cut is a case too).
find tests/fixtures -type f -print0 |
  while IFS= read -r -d "" f; do head -c 8192 "$f" >"$c/framer/seed-$(printf "%s" "$f" | tr "/:" "__")"; done
# entry: one LogEntry per file (every kind of resource and payload in the fixtures).
split -l 1 -d -a 3 tests/fixtures/kinds.ndjson "$c/entry/seed-kinds-"
head -n 40 samples/system-user-auth.ndjson | split -l 1 -d -a 3 - "$c/entry/seed-sample-"
# rules: the default packs.
for f in rules/*.toml; do cp "$f" "$c/rules/seed-$(basename "$f")"; done
# redact: each line of the leak corpus.
grep -v '^#' tests/fixtures/secrets.txt | split -l 1 -d -a 3 - "$c/redact/seed-"
