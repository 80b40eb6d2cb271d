"""The medians of infra/bench's criterion benchmarks (criterion itself prints means).

Reads every target/criterion/**/new/estimates.json (relative to the current folder) last written at or after
STARTED, and prints one line per benchmark: its median in ms, the median's confidence interval, its full id.

Called by infra/bench after `cargo bench` (infra/bench health, quiz, jobs, ...), from the repository root:
    .venv/bin/python infra/py/bench_medians.py STARTED
STARTED: when the run began, in seconds since the epoch (`date +%s`).
"""
import json, pathlib, sys
for f in sorted(pathlib.Path("target/criterion").glob("**/new/estimates.json")):
    if f.stat().st_mtime >= float(sys.argv[1]):
        m = json.loads(f.read_text())["median"]
        low, high = m["confidence_interval"]["lower_bound"], m["confidence_interval"]["upper_bound"]
        name = json.loads((f.parent / "benchmark.json").read_text())["full_id"]
        print(f"median {m['point_estimate'] / 1e6:10.3f} ms  [{low / 1e6:.3f}, {high / 1e6:.3f}]  {name}")
