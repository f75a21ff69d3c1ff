#!/usr/bin/env bash
# Load test (issue 7): peak memory and time of `logtriage report` and `stats` on a
# 10 MB and a large generated export (10 GB by default), and on 10,000 small files.
# The check: peak memory on the large input stays within 3x that on 10 MB (measured:
# ~2.5x) and close to that on 1 GB.
#
#   benches/load.sh                 # 10 GB: ~20 min to generate, ~24 GB of disk
#   benches/load.sh 1024            # 1 GB
#   benches/load.sh 10240 /big/tmp  # where the inputs go (kept for reruns)
#
# Peak memory is the child's ru_maxrss (exact, from the kernel), taken with Python,
# which the generator needs anyway. Results are printed as a Markdown table; the
# figures measured are recorded in docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."
big_mb=${1:-10240}
dir=${2:-${TMPDIR:-/tmp}/logtriage-load}
mkdir -p "$dir"

cargo build --release --locked --quiet
bin=$PWD/target/release/logtriage

gen() { # size_mb -> folder with bench.ndjson, bench.gcloud.json, bench.ndjson.gz
  local out="$dir/$1mb"
  if [ ! -s "$out/bench.ndjson.gz" ]; then
    echo "generating $1 MB in $out ..." >&2
    python3 samples/generate.py bench --size-mb "$1" --out "$out" >&2
  fi
  echo "$out"
}

# Runs the command with stdout to /dev/null; prints "seconds peak_MiB exit".
measure() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
t = time.time()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
dt = time.time() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if p.returncode not in (0, 1):
    sys.stderr.write(p.stderr.decode(errors="replace")[-2000:])
print(f"{dt:.1f} {peak:.0f} {p.returncode}")
EOF
}

small=$(gen 10)
large=$(gen "$big_mb")

many="$dir/many"
if [ ! -d "$many" ]; then
  echo "writing 10,000 small files in $many ..." >&2
  python3 - "$many" "$small/bench.ndjson" <<'EOF'
import os, sys
root, src = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().splitlines(keepends=True)
for i in range(10_000):
    d = os.path.join(root, "run.googleapis.com", "stderr", "2025", "09", f"{i // 100:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{i % 100:02}:00:00_{i % 100:02}:59:59_S0.json"), "wb") as f:
        f.writelines(lines[(i * 3) % len(lines):(i * 3) % len(lines) + 3])
EOF
fi

echo
echo "| input | size | command | time (s) | peak RSS (MiB) |"
echo "|---|---|---|---|---|"
for input in "$small/bench.ndjson" "$large/bench.ndjson" "$large/bench.gcloud.json" "$large/bench.ndjson.gz"; do
  size=$(du -h "$input" | cut -f1)
  for cmd in report stats; do
    read -r secs peak code < <(measure "$bin" "$cmd" "$input")
    echo "| ${input#"$dir"/} | $size | $cmd | $secs | $peak |"
  done
done
# One worker (and no reader thread): what each extra worker costs is the difference.
for input in "$small/bench.ndjson" "$large/bench.ndjson"; do
  size=$(du -h "$input" | cut -f1)
  for cmd in report stats; do
    read -r secs peak code < <(measure "$bin" "$cmd" -j 1 "$input")
    echo "| ${input#"$dir"/}, -j 1 | $size | $cmd | $secs | $peak |"
  done
done
read -r secs peak code < <(measure sh -c "ulimit -n 256 && exec \"$bin\" report \"$many\"")
echo "| many/ (10,000 files, ulimit -n 256) | $(du -sh "$many" | cut -f1) | report | $secs | $peak |"
echo
echo "cores: $(nproc), $(uname -sr), logtriage $("$bin" --version)"
