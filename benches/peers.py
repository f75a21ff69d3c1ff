#!/usr/bin/env python3
"""The peers' job beside logtriage's, on the same files, in one run; prints one table.

The job the peers do: count entries whose jsonPayload.message contains
CRITICAL_AUTH_FAILURE or whose httpRequest.status is 403, per revision and 5-minute
bucket. logtriage does its whole job (`report --format json`, full default rule packs);
its per-revision counts of CRITICAL_AUTH_FAILURE + HTTP_403_BURST must equal the
peers' per-revision totals (in the generated data the two sets are disjoint).

    python3 benches/peers.py [--size-mb 1024] [--dir /tmp/logtriage-bench] [--runs 5]
        [--logtriage target/release/logtriage] [--only ndjson,array,gzip]

Generates the input with samples/generate.py when DIR/bench.ndjson is missing.
Tools not installed are skipped with a note: jq, jaq, duckdb (CLI or Python
module), python3 + orjson (else json), rg, pigz, zcat. Wall time is the median of
--runs runs (files in page cache after a warm-up run); memory is the child's peak RSS
(getrusage, ru_maxrss).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

JQ_PROG = r'''
reduce (inputs | if type == "array" then .[] else . end
        | select(((.jsonPayload.message? // "") | tostring | contains("CRITICAL_AUTH_FAILURE"))
                 or (.httpRequest.status? == 403)))
  as $e ({};
    ($e.resource.labels.revision_name // "") as $r
    | (($e.timestamp[0:19] + "Z") | fromdateiso8601 | . - (. % 300) | tostring) as $b
    | .[$r + "\t" + $b] += 1)
| to_entries[] | "\(.key)\t\(.value)"
'''

PY_PROG = r'''
import sys, datetime
try:
    import orjson as j
    loads = j.loads
except ImportError:
    import json as j
    loads = j.loads
from collections import Counter
path, fmt = sys.argv[1], sys.argv[2]
c = Counter()
epoch = datetime.datetime(1970, 1, 1)
def one(e):
    jp = e.get("jsonPayload")
    m = jp.get("message") if isinstance(jp, dict) else None
    h = e.get("httpRequest")
    if (isinstance(m, str) and "CRITICAL_AUTH_FAILURE" in m) or (isinstance(h, dict) and h.get("status") == 403):
        r = ((e.get("resource") or {}).get("labels") or {}).get("revision_name", "")
        t = datetime.datetime.strptime(e["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")
        s = int((t - epoch).total_seconds())
        c[(r, s - s % 300)] += 1
if fmt == "array":
    with open(path, "rb") as f:
        for e in loads(f.read()):
            one(e)
else:
    opener = open
    if fmt == "gzip":
        import gzip
        opener = gzip.open
    with opener(path, "rb") as f:
        for line in f:
            if line.strip():
                one(loads(line))
for (r, b), n in c.items():
    print("%s\t%d\t%d" % (r, b, n))
'''

DUCK_SQL = r'''
SELECT coalesce(resource.labels.revision_name, '') AS rev,
       (epoch(CAST(substr(timestamp, 1, 19) AS TIMESTAMP))::BIGINT // 300) * 300 AS bucket,
       count(*) AS n
FROM read_json('{path}', format = '{fmt}', compression = '{comp}', maximum_object_size = 67108864,
     columns = {{timestamp: 'VARCHAR',
                resource: 'STRUCT(labels STRUCT(revision_name VARCHAR))',
                jsonPayload: 'STRUCT(message VARCHAR)',
                httpRequest: 'STRUCT(status INTEGER)'}})
WHERE contains(jsonPayload.message, 'CRITICAL_AUTH_FAILURE') OR httpRequest.status = 403
GROUP BY ALL
'''

DUCK_PY = r'''
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = %d" % (__import__("os").cpu_count() or 1))
con.execute("SET enable_progress_bar = false")
for r, b, n in con.execute(sys.argv[1]).fetchall():
    print("%s\t%d\t%d" % (r, b, n))
'''


def have_py_module(name):
    r = subprocess.run([sys.executable, "-c", "import " + name], capture_output=True)
    return r.returncode == 0


def run_once(cmd):
    """Runs cmd; returns (seconds, stdout, stderr, exit code)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    return time.perf_counter() - t0, out, err, p.returncode


def null_sink():
    """A path whose writes are discarded, and a note when it is not /dev/null.

    On some sandboxes /dev/null is a regular file, so `cat > /dev/null` writes the
    whole file to disk and the byte-moving baselines look slow. A character device
    1:3 made in a temporary folder (root only) is the real null device."""
    import stat
    if stat.S_ISCHR(os.stat("/dev/null").st_mode):
        return "/dev/null", None
    path = os.path.join(tempfile.mkdtemp(), "null")
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        import atexit
        atexit.register(lambda: shutil.rmtree(os.path.dirname(path), ignore_errors=True))
        return path, "/dev/null is a regular file here; the `> /dev/null` rows wrote to a null device made at " + path
    except OSError as e:
        return "/dev/null", "/dev/null is a regular file here and no null device could be made (%s): the `> /dev/null` rows include writing their output to disk" % e


def warm(path):
    """Reads the file once so that every tool starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def measure(cmd, runs, path, warm_up=True):
    """Median wall time and max peak RSS over `runs` runs (after a warm-up run, or a
    plain read of the file for slow tools)."""
    times, rss = [], 0
    last = None
    if not warm_up:
        warm(path)
    gnu_time = os.path.exists("/usr/bin/time")
    for i in range(runs + (1 if warm_up else 0)):
        first = warm_up and i == 0
        if gnu_time:
            # GNU time: a small parent, so small tools are not charged for a big one.
            fd, rss_file = tempfile.mkstemp()
            os.close(fd)
            wrapper = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file] + cmd
        else:
            wrapper = [sys.executable, "-c", RSS_WRAPPER] + cmd
        took, out, err, code = run_once(wrapper)
        if code != 0:
            return None, None, out, err, code
        if gnu_time:
            with open(rss_file) as f:
                peak = int(f.read().split()[-1]) * 1024
            os.remove(rss_file)
        else:
            # The wrapper appends its rusage line at the end of stdout.
            lines = out.split(b"\n")
            peak = int(lines[-2].split(b" ", 1)[1])
            out = b"\n".join(lines[:-2]) + b"\n"
        if not first:
            times.append(took)
            rss = max(rss, peak)
        last = out
    return statistics.median(times), rss, last, b"", 0


# Runs argv[1:] as a child, passes stdin through, then prints "__rss__ <bytes>" (the
# child's ru_maxrss); exits with the child's code.
RSS_WRAPPER = r'''
import os, sys, resource
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
sys.stdout.flush()
os.write(1, b"\n__rss__ %d\n" % (ru.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
'''


def parse_counts(out):
    per_rev = {}
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.strip().split("\t")
        if len(parts) != 3 or not parts[2].isdigit():
            continue
        per_rev[parts[0]] = per_rev.get(parts[0], 0) + int(parts[2])
    return per_rev


def logtriage_counts(out):
    r = json.loads(out)
    per_rev = {}
    for f in r.get("findings", []) + r.get("below_threshold", []):
        if not isinstance(f, dict) or f.get("rule") not in ("CRITICAL_AUTH_FAILURE", "HTTP_403_BURST"):
            continue
        for rv in f.get("revisions", []):
            per_rev[rv["revision"]] = per_rev.get(rv["revision"], 0) + rv["count"]
    return per_rev


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return "%.0f %s" % (n, unit) if unit in ("B", "KiB") else "%.1f %s" % (n, unit)
        n /= 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=1024)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "logtriage-bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-runs", type=int, default=1, help="runs of jq, jaq and python (no warm-up run)")
    ap.add_argument("--logtriage", default=os.path.join(ROOT, "target", "release", "logtriage"))
    ap.add_argument("--only", default="ndjson,array,gzip", help="forms to run")
    ap.add_argument("--skip", default="", help="tools to skip, e.g. jq,jaq,python")
    a = ap.parse_args()
    forms = a.only.split(",")
    skip = set(filter(None, a.skip.split(",")))

    nd = os.path.join(a.dir, "bench.ndjson")
    if not os.path.exists(nd):
        subprocess.run([sys.executable, os.path.join(ROOT, "samples", "generate.py"), "bench",
                        "--size-mb", str(a.size_mb), "--out", a.dir], check=True)
    files = {"ndjson": nd, "array": os.path.join(a.dir, "bench.gcloud.json"),
             "gzip": os.path.join(a.dir, "bench.ndjson.gz")}
    if not os.path.exists(a.logtriage):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    duck_cli = shutil.which("duckdb")
    duck_py = have_py_module("duckdb")
    orjson = have_py_module("orjson")
    rows, notes, mismatches = [], [], []
    null, null_note = null_sink()
    if null_note:
        notes.append(null_note)

    for form in forms:
        path = files[form]
        size = os.path.getsize(path)
        fmt = {"ndjson": "newline_delimited", "array": "array", "gzip": "newline_delimited"}[form]
        comp = "gzip" if form == "gzip" else "none"
        sql = DUCK_SQL.format(path=path, fmt=fmt, comp=comp)
        tools = [("logtriage report (full packs)", [a.logtriage, "report", "--format", "json", path], "logtriage")]
        if form == "gzip":
            tools.append(("pigz -dc > /dev/null", ["sh", "-c", 'pigz -dc "$0" > "$1"', path, null] if shutil.which("pigz") else None, None))
            tools.append(("zcat > /dev/null", ["sh", "-c", 'zcat "$0" > "$1"', path, null] if shutil.which("zcat") else None, None))
        else:
            tools.append(("cat > /dev/null", ["sh", "-c", 'cat "$0" > "$1"', path, null], None))
            tools.append(("rg -c CRITICAL_AUTH_FAILURE", ["rg", "-c", "CRITICAL_AUTH_FAILURE", path] if shutil.which("rg") else None, None))
        if duck_cli:
            tools.append(("duckdb (typed columns)", [duck_cli, "-csv", "-noheader", "-separator", "\t",
                                                     "-c", "SET enable_progress_bar = false;", "-c", sql], "peer"))
        elif duck_py:
            tools.append(("duckdb (python, typed columns)", [sys.executable, "-c", DUCK_PY, sql], "peer"))
        else:
            tools.append(("duckdb", None, "peer"))
        pyname = "python3 + " + ("orjson" if orjson else "json")
        tools.append((pyname, [sys.executable, "-c", PY_PROG, path, form], "peer"))
        for name in ("jaq", "jq"):
            exe = shutil.which(name)
            prog = [exe, "-n", "-r", JQ_PROG] if exe else None
            if prog and form == "gzip":
                prog = ["sh", "-c", 'zcat "$0" | "$1" -n -r "$2"', path, exe, JQ_PROG]
            elif prog:
                prog.append(path)
            tools.append((name, prog, "peer"))

        base = None
        lt_counts = None
        for name, cmd, kind in tools:
            key = name.split()[0].rstrip(",")
            if cmd is None or key in skip or (key == "python3" and "python" in skip):
                notes.append("%s: %s skipped (%s)" % (form, name, "not installed" if cmd is None else "--skip"))
                continue
            sys.stderr.write("%s: %s ...\n" % (form, name))
            slow = key in ("jq", "jaq", "python3")
            runs = max(1, a.slow_runs) if slow else a.runs
            t, rss, out, err, code = measure(cmd, runs, path, warm_up=not slow)
            if t is None:
                notes.append("%s: %s failed (exit %s): %s" % (form, name, code, err.decode("utf-8", "replace")[-300:]))
                continue
            check = ""
            if kind == "logtriage":
                base = t
                lt_counts = logtriage_counts(out)
                check = "reference: %s" % sum(lt_counts.values())
            elif kind == "peer":
                got = parse_counts(out)
                if lt_counts is None:
                    check = "?"
                elif got == lt_counts:
                    check = "= logtriage"
                else:
                    check = "DIFFERS"
                    mismatches.append("%s/%s: %s vs logtriage %s" % (form, name, got, lt_counts))
            rows.append((form, name, t, size / t / 1e6, rss, (t / base) if base else None, check))

    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    print()
    print("%d cores; load average at the end: %s; runs: %d (jq, jaq, python: %d)" % (
        os.cpu_count() or 0, " ".join(load), a.runs, a.slow_runs))
    print("| input | tool | wall (median) | MB/s | peak memory | time / logtriage | counts |")
    print("|---|---|---:|---:|---:|---:|---|")
    for form, name, t, mbs, rss, ratio, check in rows:
        print("| %s | %s | %.2f s | %.0f | %s | %s | %s |" % (
            form, name, t, mbs, human(rss), "%.2fx" % ratio if ratio else "-", check))
    for n in notes:
        print("- " + n)
    if mismatches:
        print("\nCOUNT MISMATCHES:")
        for m in mismatches:
            print("  " + m)
        sys.exit(1)


if __name__ == "__main__":
    main()
