#!/usr/bin/env python3
"""Load test against the running local stack: N requests across all four functions at a
fixed concurrency, every answer checked, latency percentiles per function and overall.

    .venv/bin/python bench/load.py [--requests 1000] [--concurrency 32] [--out bench/results.json]

Needs `make local-up`. Traffic goes only to the loopback URLs in `.local/stack.json`; the run
is bounded by --requests and --deadline. Exits 1 if any answer is an error. Creates are
repeats of a few grants (idempotent), so after the first of each they make no write call.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUCKETS = ["arn:aws:s3:::xacct-demo-reports", "arn:aws:s3:::xacct-demo-untagged", "arn:aws:s3:::xacct-demo-logs-eu"]


def plan(stack: dict[str, Any], n: int) -> list[tuple[str, str, str, bytes | None]]:
    """(function, method, url, body) for n requests, in a fixed mix: 40% list-permissions,
    20% list-resources, 25% create-owner-role, 15% create-requestor-resources."""
    f = stack["functions"]
    mix: list[tuple[str, str, str, bytes | None]] = []
    for i in range(n):
        k = i % 20
        if k < 8:
            arn = BUCKETS[i % len(BUCKETS)] if i % 2 else "arn:aws:rds:us-east-1:111111111111:db:xacct-demo-orders-pg"
            mix.append(("list-permissions", "GET", f["list-permissions"] + "?" + urllib.parse.urlencode({"arn": arn}), None))
        elif k < 12:
            region = "us-east-1" if i % 2 else "eu-west-1"
            mix.append(("list-resources", "GET", f["list-resources"] + "?" + urllib.parse.urlencode({"region": region}), None))
        elif k < 17:
            body = {"resource_arn": BUCKETS[i % 2], "actions": ["s3:GetObject", "s3:ListBucket"], "requestor_account_id": "222222222222", "role_name": f"xacct-load-{i % 2}"}
            mix.append(("create-owner-role", "POST", f["create-owner-role"], json.dumps(body).encode()))
        else:
            body = {"owner_role_arn": "arn:aws:iam::111111111111:role/xacct/xacct-load-0", "service_principal": "lambda.amazonaws.com", "role_name": "xacct-load-req"}
            mix.append(("create-requestor-resources", "POST", f["create-requestor-resources"], json.dumps(body).encode()))
    return mix


def one(request: tuple[str, str, str, bytes | None], timeout: float) -> tuple[str, int, float, str]:
    function, method, url, body = request
    req = urllib.request.Request(url, data=body, method=method, headers={"content-type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            status = resp.status
            detail = ""
    except urllib.error.HTTPError as e:
        status = e.code
        detail = e.read()[:300].decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        status = 0
        detail = str(e)
    return function, status, (time.perf_counter() - start) * 1000.0, detail


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    stack_file = pathlib.Path(os.environ.get("XACCT_STACK_FILE", ROOT / ".local" / "stack.json"))
    stack = json.loads(stack_file.read_text())
    requests = plan(stack, args.requests)
    # Warm each function once (and create the grants) so the run measures steady state.
    for r in {r[0]: r for r in requests}.values():
        one(r, args.timeout)
    results: list[tuple[str, int, float, str]] = []
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        futures = [pool.submit(one, r, args.timeout) for r in requests]
        for fut in concurrent.futures.as_completed(futures, timeout=args.deadline):
            results.append(fut.result())
    wall = time.perf_counter() - started
    errors = [r for r in results if not 200 <= r[1] < 300]
    report: dict[str, Any] = {
        "requests": len(results),
        "concurrency": args.concurrency,
        "errors": len(errors),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(results) / wall, 1),
        "p50_ms": pct([r[2] for r in results], 50),
        "p99_ms": pct([r[2] for r in results], 99),
        "functions": {},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": list(os.getloadavg()),
    }
    for function in sorted({r[0] for r in results}):
        lat = [r[2] for r in results if r[0] == function]
        report["functions"][function] = {"count": len(lat), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": round(max(lat), 2), "mean_ms": round(statistics.fmean(lat), 2)}
    print(json.dumps(report, indent=2))
    for e in errors[:5]:
        print(f"error: {e[0]} -> {e[1]}: {e[3]}")
    if args.out:
        existing = json.loads(args.out.read_text()) if args.out.exists() else {}
        existing["load"] = report
        args.out.write_text(json.dumps(existing, indent=2) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
