"""The invocation path's own cost, from one `infra/bench load` run: wrk's median for a bare keep-alive exchange
with the gateway (an unknown route, answered 404 by the gateway itself, nothing invoked) and for
GET /api/v1/health on one connection, and the health function's own median over the same requests (its metric
lines, `local-cloud metrics --json`).

    python bench_path.py BARE.txt HEALTH.txt METRICS.json
"""

import json
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def p50_ms(wrk_output: str) -> float:
    """wrk --latency's 50% line, in milliseconds."""
    match = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", wrk_output, re.MULTILINE)
    if not match:
        raise SystemExit("no 50% line in wrk's output (was it run with --latency?)")
    return float(match.group(1)) * UNITS[match.group(2)]


def main() -> None:
    bare = p50_ms(open(sys.argv[1]).read())
    health = p50_ms(open(sys.argv[2]).read())
    rows = json.load(open(sys.argv[3]))["rows"]
    row = next((r for r in rows if r["function"] == "health"), None)
    if row is None:
        raise SystemExit("no health invocations in the metrics of this run")
    inside = row["p50_ms"]
    print(f"bare keep-alive exchange with the gateway, p50   {bare:.3f} ms")
    print(f"GET /api/v1/health through the gateway, p50      {health:.3f} ms ({health / bare:.1f}x the bare exchange)")
    print(f"of which inside the function (its p50)           {inside:.3f} ms over {row['count']} invocations")
    print(f"the path's own cost (gateway p50 - function p50) {health - inside:.3f} ms")


if __name__ == "__main__":
    main()
