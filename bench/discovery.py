#!/usr/bin/env python3
"""Discovery at scale: list-resources' wall time, AWS calls and peak memory against an
account with thousands of resources, with a fixed delay added to every AWS call (50 ms by
default, emulating a real round trip), compared with the floor and with a one-call-at-a-
time strategy. Release builds, not run in CI (`make bench-discovery`).

    .venv/bin/python bench/discovery.py                              # debug binary
    .venv/bin/python bench/discovery.py --profile release            # make bench-discovery
    .venv/bin/python bench/discovery.py --scales 0.05,1 --strategies xacct,64x256
    .venv/bin/python bench/discovery.py --answers moto      # moto answers every call

Set-up (everything on loopback, free ports, nothing of a local stack touched):

    moto            started here (`moto.server`, in a process of this script that first
                    gives two list calls AWS's paging, see "Emulation" below)
    fault proxy     tests/faultproxy.py in front of moto, in a process of this script that
                    also records every call's start, forward and end time (an extra admin
                    endpoint, /__xacct/bench-timeline) and can replay moto's answers (see
                    "Answers"); rules `{"service": s, "fault": "slow", "delay_ms": 50,
                    "count": -1}` for ec2, s3, lambda, rds and sts delay every call
                    discovery makes by 50 ms before it is answered
    the function    the list-resources binary ($CARGO_TARGET_DIR/<profile>/list-resources)
                    under bench/harness.py's Lambda Runtime API, owner account
                    (111111111111, moto's sts:AssumeRole), AWS_ENDPOINT_URL = the proxy

Seeding goes straight to moto (no delay), 8 threads, incrementally: the resources of the
smallest scale, measure, the rest up to the next scale, measure... one moto for every
point. Full size (scale 1): 2,000 S3 buckets, 4,000 EC2 instances (run_instances in
batches of 100), 1,000 Lambda functions and 200 RDS DB instances, spread evenly over
us-east-1, us-west-2, eu-west-1 and ap-southeast-2 (buckets by LocationConstraint); every
other bucket, function and DB instance and every other batch of instances is tagged.
moto's describe_regions reports 38 regions, 24 of them enabled (`opt-in-not-required`):
discovery walks all 24, so 20 empty regions still cost their calls.

Per scale and strategy, `--runs` times (3) a fresh process: one untimed warm-up invocation
(`?service=rds&region=us-east-1`: SDK set-up, credentials, first connections), then the
measured one, a Function URL GET with `limit=1000` and no filter: one full discovery
(discovery has no cache). The run of median wall time is reported, with every run's wall
time in `runs_wall_ms`. Recorded:

    wall_ms         the event handed out on /next -> its /response read (Runtime API side)
    discovery_ms    the function's own `ms` in its "listed resources" log line
    calls           requests the proxy saw during the measured invocation (its stats),
                    per action too, and whether they match the call model below exactly
    peak_rss_mb     VmHWM of the function process after the measured invocation (MiB)
    cpu_ms          CPU time (user + system, every thread) the function process used
                    during the measured invocation: near wall_ms, the function itself is
                    the bottleneck (discovery runs in one task: its CPU work is serial)
    ratio_to_floor  wall_ms / floor_ms
    model_ms        what the strategy would take if every call took exactly the delay (AWS
                    answering instantly): the call model below scheduled with its jobs and
                    items limits (see `model_calls`); the gap to wall_ms is the emulator's
    timeline        from the proxy's per-call times: most calls in flight at once (the
                    proxy's bookkeeping may overlap the next call by microseconds, so one
                    call at a time can show 2), mean time a call took after its delay (in
                    moto, or replayed), and per job (S3; EC2, Lambda, RDS instances, RDS clusters per
                    region) its calls and when it ended: the job that ends last is where
                    the time went

Per scale also `model_items_needed`: the fewest per-item calls in flight per job with which
the model stays within 1.3 x the floor, at the default job limit and with every job at
once (null: none up to 10,000).

The answer must be 200 with no partial failures, the first page must hold min(1,000,
total) resources and the function must report `found` = everything seeded; anything else
stops the run (exit status 1). Strategies (`--strategies`, comma-separated):

    xacct           the binary's defaults (256 jobs, so every (service, region) job at
                    once, and 32 per-item calls per job in flight)
    sequential      XACCT_DISCOVERY_CONCURRENCY=1: one call at a time
    JxI             XACCT_DISCOVERY_CONCURRENCY=J,I, e.g. 24x256

Answers (`--answers`). moto is one Python process: under discovery's fan-out it answers
about 150-200 calls a second on a 2-core machine, so with moto answering every call a
concurrent strategy measures moto (a GetBucketTagging waits ~200 ms in moto behind the
others, on top of the 50 ms), not the round trips the goal is about. Hence, by default
(`replay`), per scale: the proxy forgets what it kept, xacct's defaults run once without
delay with moto answering (every distinct request reaches moto once; recorded as the
point's `no_delay`: discovery bounded by moto alone), and the measured runs are answered
by the proxy from those answers, after the delay: ~50 ms per call whatever the number in
flight, as from AWS. Discovery only reads, so its requests and moto's answers are the
same each time; `answered_by_moto` counts measured calls that were not replayed (0, or a
warning). `--answers moto`: moto answers every measured call (results under the key
`discovery_at_scale_live_moto`, chart bench/discovery-live-moto.svg), and unless
`--no-baseline` xacct's defaults also run once per scale without delay (`no_delay`).

Call model (what discovery does, crates/aws/src/discovery.rs) and the floor. With B
buckets, and per enabled region r: I_r instances, F_r functions, D_r DB instances, C_r DB
clusters (0 here), T_r tagged buckets and functions, and pages(n, size) = max(1, ceil(n /
size)):

    DescribeRegions      1, before anything else
    S3 job (global)      ListBuckets pages(B, 1000), one after another (MaxBuckets 1000),
                         then GetBucketLocation per bucket only if ListBuckets gave no
                         BucketRegion (AWS gives it whenever a parameter such as
                         max-buckets is sent, so: none)
    tags job per region  GetResources pages(T_r, 100) (ResourcesPerPage 100, resource types
                         s3:bucket and lambda:function): the S3 and Lambda tags, joined to
                         the listings by ARN (EC2 and RDS listings carry their own tags)
    Lambda job per reg.  ListFunctions pages(F_r, 50) (MaxItems 50)
    EC2 job per region   DescribeInstances pages(I_r, 1000) (MaxResults 1000)
    RDS jobs per region  DescribeDBInstances pages(D_r, 100); DescribeDBClusters
                         pages(C_r, 100) (MaxRecords 100)

Pages of one listing must be fetched one after another (each needs the previous one's
token); a per-item call needs the page that names its item, and all per-item calls of a
job are independent. With unlimited concurrency, each job's chain is therefore

    chain(S3)     = pages(B, 1000) + [B > 0 and no BucketRegion]
    chain(tags r) = pages(T_r, 100)
    chain(EC2 r)  = pages(I_r, 1000)
    chain(λ r)    = pages(F_r, 50)
    chain(RDS r)  = pages(D_r, 100), chain(clusters r) = pages(C_r, 100)

    floor_calls = 1 + max over all jobs of chain(job)       (1: DescribeRegions)
    floor_ms    = floor_calls x delay_ms

(Full size: Lambda in a seeded region 5 pages: floor = 6 x 50 = 300 ms. Reading tags per
bucket and per function instead, as discovery did before, costs 3,000 more calls and
puts one more call after each listing: 7 x 50 = 350 ms; those runs are kept in
`--out` under `discovery_at_scale_per_item_tags`.)
The floor ignores the time AWS (here: moto) takes to answer and the transfer time: it is
what no strategy can beat. The measured `calls` are checked against the same model.

Emulation. moto 5.2 answers ListBuckets with at most MaxBuckets buckets and no
ContinuationToken (2,000 buckets would be silently cut to 1,000) and without BucketRegion,
and ListFunctions with every function in one page, ignoring MaxItems. Real AWS pages both:
ListBuckets up to MaxBuckets (default 10,000 when any parameter is given) with a
ContinuationToken and each bucket's BucketRegion, ListFunctions at most 50 per page with
NextMarker. moto's GetResources lists every bucket of the account in every region (its S3
is one global backend) and ends a page at 100 tags even when only ResourcesPerPage is
given; the Tagging API is regional (a bucket is listed in the region it is in) and
ResourcesPerPage bounds a page by resources. The moto process here is patched to answer
these three as AWS does (opaque tokens, buckets and functions in name order); nothing else
of moto changes. moto pages DescribeInstances by reservation, not instance: with batches
of 100 instances per reservation that is at most 10 reservations per region, one page
either way.

Results are merged into `--out` under `discovery_at_scale` (points by scale, strategies by
name; other keys of the file, and earlier points of the same delay, size and answers,
kept), a Markdown table goes to stdout
and an SVG chart (time against resource count, one line per strategy and the floor,
log scale when the lines are far apart) to `--svg`. Progress goes to stderr.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # no __pycache__ in the work tree (cargo lambda watch)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Iterator, Mapping, Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from xml.sax.saxutils import escape as xml_escape  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "bench"),):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402

FAULT_PROXY = ROOT / "tests" / "faultproxy.py"
DEFAULT_OUT = ROOT / "bench" / "results.json"
DEFAULT_SVG = ROOT / "bench" / "discovery.svg"
LIVE_MOTO_SVG = ROOT / "bench" / "discovery-live-moto.svg"
RESULTS_KEY = "discovery_at_scale"
LIVE_MOTO_KEY = "discovery_at_scale_live_moto"
# Runs of the discovery that read tags per bucket and per function (GetBucketTagging,
# ListTags), kept for comparison and drawn in the chart when present.
PER_ITEM_KEY = "discovery_at_scale_per_item_tags"
TIMELINE_PATH = "/__xacct/bench-timeline"
REPLAY_PATH = "/__xacct/bench-replay"

LOOPBACK = harness.LOOPBACK
SEED_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
KINDS = ("buckets", "instances", "functions", "db_instances")
FULL_SIZE: dict[str, int] = {
    "buckets": 2000,
    "instances": 4000,
    "functions": 1000,
    "db_instances": 200,
}
DEFAULT_SCALES = (0.05, 0.25, 0.5, 1.0)
DEFAULT_DELAY_MS = 50
DELAYED_SERVICES = ("ec2", "s3", "lambda", "rds", "sts", "tagging")
LIMIT = 1000  # list-resources' largest page
WITHIN = 1.3  # the goal: wall time within 1.3 x the floor

# Page sizes discovery asks for (crates/aws/src/discovery.rs) and AWS's own caps.
LIST_BUCKETS_PAGE = 1000
DESCRIBE_INSTANCES_PAGE = 1000
LIST_FUNCTIONS_PAGE = 50  # AWS returns at most 50 whatever MaxItems says
RDS_PAGE = 100
TAGS_PAGE = 100  # GetResources' ResourcesPerPage, its largest

# Seeding: calls per task and threads.
INSTANCE_BATCH = 100
SEED_WORKERS = 8

STRATEGY_LABELS = {"xacct": "xacct (defaults)", "sequential": "one call at a time"}
SERIES_COLORS = ("#1f6feb", "#d1242f", "#8250df", "#bf8700", "#1a7f37", "#57606a")
FLOOR_COLOR = "#222222"


class BenchError(harness.BenchError):
    pass


def log(message: str) -> None:
    harness.log(message)


# --------------------------------------------------------------------------------------
# Sizes, the call model and the floor (pure)
# --------------------------------------------------------------------------------------


def spread(total: int, regions: Sequence[str] = SEED_REGIONS) -> dict[str, int]:
    """`total` over `regions` as evenly as whole numbers allow, the first ones get the
    remainder."""
    base, extra = divmod(total, len(regions))
    return {region: base + (1 if i < extra else 0) for i, region in enumerate(regions)}


def scaled_totals(scale: float, full: Mapping[str, int] = FULL_SIZE) -> dict[str, int]:
    return {kind: int(round(full[kind] * scale)) for kind in KINDS}


def per_region(
    totals: Mapping[str, int], regions: Sequence[str] = SEED_REGIONS
) -> dict[str, dict[str, int]]:
    """{region: {kind: count}} for the totals spread over the regions."""
    spreads = {kind: spread(totals.get(kind, 0), regions) for kind in KINDS}
    return {region: {kind: spreads[kind][region] for kind in KINDS} for region in regions}


def pages(count: int, size: int) -> int:
    """Calls to list `count` items `size` at a time: at least one, even for nothing."""
    return max(1, math.ceil(count / size))


def tagged(counts: Mapping[str, int]) -> int:
    """Resources of a region that GetResources lists for discovery: its tagged buckets and
    functions (the seed tags every other one, from index 0). `counts` may give the number
    itself as `tagged`."""
    if "tagged" in counts:
        return counts["tagged"]
    return sum((counts.get(kind, 0) + 1) // 2 for kind in ("buckets", "functions"))


def job_chains(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    *,
    bucket_region_listed: bool = True,
) -> dict[str, int]:
    """Calls that must be made one after another in each discovery job (see the module's
    docstring), by job name: `s3`, `tags <region>`, `lambda <region>`, `ec2 <region>`,
    `rds <region>`, `rds-clusters <region>`. `counts` is {region: {kind: n}}; regions not
    enabled hold nothing discovery looks at, except buckets, which ListBuckets lists
    anyway."""
    buckets = sum(c.get("buckets", 0) for c in counts.values())
    chains = {
        "s3": pages(buckets, LIST_BUCKETS_PAGE)
        + (1 if buckets and not bucket_region_listed else 0)
    }
    for region in enabled_regions:
        c = counts.get(region, {})
        chains[f"tags {region}"] = pages(tagged(c), TAGS_PAGE)
        chains[f"lambda {region}"] = pages(c.get("functions", 0), LIST_FUNCTIONS_PAGE)
        chains[f"ec2 {region}"] = pages(c.get("instances", 0), DESCRIBE_INSTANCES_PAGE)
        chains[f"rds {region}"] = pages(c.get("db_instances", 0), RDS_PAGE)
        chains[f"rds-clusters {region}"] = pages(c.get("db_clusters", 0), RDS_PAGE)
    return chains


def floor(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    delay_ms: float,
    *,
    bucket_region_listed: bool = True,
) -> dict[str, Any]:
    """floor_calls = 1 (DescribeRegions) + the longest job chain; floor_ms = that x delay.
    Also which job(s) set it."""
    chains = job_chains(counts, enabled_regions, bucket_region_listed=bucket_region_listed)
    longest = max(chains.values())
    calls = 1 + longest
    return {
        "calls": calls,
        "ms": calls * delay_ms,
        "critical_jobs": sorted(job for job, n in chains.items() if n == longest),
        "longest_chain": longest,
    }


def expected_calls(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    *,
    bucket_region_listed: bool = True,
) -> dict[str, int]:
    """Requests per `service:Action` (the proxy's stats keys) one discovery makes."""
    buckets = sum(c.get("buckets", 0) for c in counts.values())

    def over_regions(kind: str, size: int) -> int:
        return sum(pages(counts.get(r, {}).get(kind, 0), size) for r in enabled_regions)

    calls = {
        "ec2:DescribeRegions": 1,
        "s3:ListBuckets": pages(buckets, LIST_BUCKETS_PAGE),
        "s3:GetBucketLocation": 0 if bucket_region_listed else buckets,
        "ec2:DescribeInstances": over_regions("instances", DESCRIBE_INSTANCES_PAGE),
        "lambda:ListFunctions": over_regions("functions", LIST_FUNCTIONS_PAGE),
        "tagging:GetResources": sum(
            pages(tagged(counts.get(r, {})), TAGS_PAGE) for r in enabled_regions
        ),
        "rds:DescribeDBInstances": over_regions("db_instances", RDS_PAGE),
        "rds:DescribeDBClusters": over_regions("db_clusters", RDS_PAGE),
    }
    return {key: n for key, n in calls.items() if n}


def job_durations(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    items: int,
    *,
    bucket_region_listed: bool = True,
) -> list[int]:
    """Each discovery job's length in calls one after another when per-item calls run
    `items` at a time, in the order discovery starts the jobs: smallest pages first, each
    kind over the regions in the order given (Lambda, tags, RDS instances, RDS clusters),
    then S3, then EC2."""
    buckets = sum(c.get("buckets", 0) for c in counts.values())
    waves = math.ceil(buckets / items)
    region_counts = [counts.get(region, {}) for region in enabled_regions]
    durations = [pages(c.get("functions", 0), LIST_FUNCTIONS_PAGE) for c in region_counts]
    durations += [pages(tagged(c), TAGS_PAGE) for c in region_counts]
    durations += [pages(c.get("db_instances", 0), RDS_PAGE) for c in region_counts]
    durations += [pages(c.get("db_clusters", 0), RDS_PAGE) for c in region_counts]
    durations.append(pages(buckets, LIST_BUCKETS_PAGE) + (0 if bucket_region_listed else waves))
    durations += [pages(c.get("instances", 0), DESCRIBE_INSTANCES_PAGE) for c in region_counts]
    return durations


def model_calls(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    jobs: int,
    items: int,
    *,
    bucket_region_listed: bool = True,
) -> int:
    """Discovery's length in call times if every call took exactly the same time (the
    delay, AWS answering instantly): DescribeRegions, then the jobs `jobs` at a time in
    order, each starting when a slot frees (futures' buffer_unordered), per-item calls in
    waves of `items`. With unlimited jobs and items this is the floor."""
    import heapq

    slots = [0] * max(1, jobs)
    end = 0
    for duration in job_durations(
        counts, enabled_regions, items, bucket_region_listed=bucket_region_listed
    ):
        start = heapq.heappop(slots)
        heapq.heappush(slots, start + duration)
        end = max(end, start + duration)
    return 1 + end


def items_needed(
    counts: Mapping[str, Mapping[str, int]],
    enabled_regions: Sequence[str],
    jobs: int,
    within: float,
) -> int | None:
    """The fewest per-item calls in flight per job with which `model_calls` stays within
    `within` x the floor at `jobs` jobs; None if no number up to 10,000 does."""
    limit = within * floor(counts, enabled_regions, 1)["calls"]
    for items in range(1, 10_001):
        if model_calls(counts, enabled_regions, jobs, items) <= limit:
            return items
    return None


def default_concurrency(source: Path | None = None) -> tuple[int, int]:
    """JOB_CONCURRENCY and ITEM_CONCURRENCY from crates/aws/src/discovery.rs (the binary's
    defaults, if it was built from this tree), else 256 and 32."""
    import re

    path = source or ROOT / "crates" / "aws" / "src" / "discovery.rs"
    try:
        text = path.read_text()
    except OSError:
        return 256, 32
    jobs = re.search(r"JOB_CONCURRENCY: usize = (\d+);", text)
    items = re.search(r"ITEM_CONCURRENCY: usize = (\d+);", text)
    return (int(jobs.group(1)) if jobs else 256, int(items.group(1)) if items else 32)


# --------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Strategy:
    name: str
    label: str
    concurrency: str | None  # XACCT_DISCOVERY_CONCURRENCY, None: the binary's default
    jobs: int  # what that means, for the model
    items: int


def parse_strategy(text: str, defaults: tuple[int, int] = (256, 32)) -> Strategy:
    """`xacct` (the binary's defaults, `defaults` for the model), `sequential` (1) or
    `JxI` (J jobs, I items, each 1 to 256)."""
    name = text.strip()
    if name == "xacct":
        return Strategy(name, STRATEGY_LABELS[name], None, *defaults)
    if name == "sequential":
        return Strategy(name, STRATEGY_LABELS[name], "1", 1, 1)
    jobs, sep, items = name.partition("x")
    if sep and jobs.isdigit() and items.isdigit():
        j, i = int(jobs), int(items)
        if 1 <= j <= 256 and 1 <= i <= 256:
            return Strategy(name, f"xacct {j} jobs x {i} items", f"{j},{i}", j, i)
    raise ValueError(f"unknown strategy `{text}`: xacct, sequential or JxI (e.g. 24x256)")


# --------------------------------------------------------------------------------------
# Results: merging, table, chart (pure)
# --------------------------------------------------------------------------------------


def scale_key(scale: float) -> str:
    return f"{scale:g}"


def merge_section(old: Any, new: Mapping[str, Any]) -> dict[str, Any]:
    """`new` over `old`: the run's settings from `new`; points by scale, a point's
    strategies by name (a point whose resource counts or delay changed is replaced
    whole). Points of `old` at other scales are kept if they were measured with the same
    delay and full size."""
    merged = copy.deepcopy(dict(new))
    if not isinstance(old, dict):
        return merged
    same_setup = all(
        old.get(k) == new.get(k) for k in ("delay_ms", "full_size", "answers", "floor_formula")
    )
    points: dict[str, dict[str, Any]] = {}
    if same_setup:
        for point in old.get("points", []):
            if isinstance(point, dict) and "scale" in point:
                points[scale_key(point["scale"])] = copy.deepcopy(point)
    for point in new.get("points", []):
        key = scale_key(point["scale"])
        before = points.get(key)
        if before is not None and before.get("counts") == point.get("counts"):
            combined = copy.deepcopy(dict(point))
            combined["strategies"] = {
                **before.get("strategies", {}),
                **copy.deepcopy(point.get("strategies", {})),
            }
            if "no_delay" not in combined and "no_delay" in before:
                combined["no_delay"] = before["no_delay"]
            points[key] = combined
        else:
            points[key] = copy.deepcopy(dict(point))
    merged["points"] = sorted(points.values(), key=lambda p: p["scale"])
    labels = dict(old.get("strategies", {})) if same_setup else {}
    labels.update(new.get("strategies", {}))
    merged["strategies"] = labels
    return merged


def merge_document(
    document: Any, section: Mapping[str, Any], key: str = RESULTS_KEY
) -> dict[str, Any]:
    """The results file with `section` merged under `key`; other keys untouched."""
    doc = dict(document) if isinstance(document, dict) else {}
    doc[key] = merge_section(doc.get(key), section)
    return doc


def strategy_order(section: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for point in section.get("points", []):
        for name in point.get("strategies", {}):
            if name not in names:
                names.append(name)
    preferred = ["xacct", "sequential"]
    return [n for n in preferred if n in names] + [n for n in names if n not in preferred]


def markdown_table(section: Mapping[str, Any]) -> str:
    names = strategy_order(section)
    labels = {n: section.get("strategies", {}).get(n, {}).get("label", n) for n in names}
    header = ["scale", "resources (B / I / F / D)", "floor s (calls)"]
    for n in names:
        header += [f"{labels[n]} s", "x floor", "model s", "AWS calls", "peak RSS MB"]
    has_baseline = any("no_delay" in p for p in section.get("points", []))
    if has_baseline:
        header.append("xacct no delay, moto answering s")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for p in section.get("points", []):
        c = p["counts"]
        row = [
            scale_key(p["scale"]),
            f"{p['resources']:,} ({c['buckets']:,} / {c['instances']:,} / "
            f"{c['functions']:,} / {c['db_instances']:,})",
            f"{p['floor_ms'] / 1000:.2f} ({p['floor_calls']})",
        ]
        for n in names:
            s = p.get("strategies", {}).get(n)
            if s is None:
                row += ["-"] * 5
            else:
                model = s.get("model_ms")
                row += [
                    f"{s['wall_ms'] / 1000:.2f}",
                    f"{s['ratio_to_floor']:.1f}",
                    "-" if model is None else f"{model / 1000:.2f}",
                    f"{s['calls']:,}",
                    f"{s['peak_rss_mb']:.1f}",
                ]
        if has_baseline:
            b = p.get("no_delay")
            row.append(f"{b['wall_ms'] / 1000:.2f}" if b else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: tuple[tuple[float, float], ...]  # (x, y) with y > 0
    dashed: bool = False


def nice_step(span: float, target_ticks: int = 6) -> float:
    """1, 2 or 5 x 10^k, giving about `target_ticks` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _fmt_number(value: float) -> str:
    if value >= 1 and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def render_svg(
    series: Sequence[Series],
    title: str,
    subtitle: str = "",
    x_label: str = "resources discovered",
    y_label: str = "wall time, s",
    log_y: bool | None = None,
) -> str:
    """A line chart as standalone SVG: axes, ticks, grid, one polyline (class `series`)
    with markers per series, a legend. `log_y` None: logarithmic when the largest y is
    more than 20 times the smallest."""
    width, height = 820, 540
    left, right, top, bottom = 78, 24, 96, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if y > 0]
    if not xs or not ys:
        raise ValueError("nothing to plot")
    x_step = nice_step(max(xs))
    x_max = math.ceil(max(xs) / x_step) * x_step
    if log_y is None:
        log_y = max(ys) / min(ys) > 20
    if log_y:
        lo_exp = math.floor(math.log10(min(ys)))
        hi_exp = math.ceil(math.log10(max(ys)))
        if hi_exp == lo_exp:
            hi_exp += 1
        y_lo, y_hi = 10.0**lo_exp, 10.0**hi_exp

        def y_pos(y: float) -> float:
            frac = (math.log10(y) - lo_exp) / (hi_exp - lo_exp)
            return top + plot_h * (1 - frac)

        major = [10.0**e for e in range(lo_exp, hi_exp + 1)]
        minor = [m * d for d in major[:-1] for m in (2, 5)]
    else:
        y_step = nice_step(max(ys))
        y_lo, y_hi = 0.0, math.ceil(max(ys) / y_step) * y_step

        def y_pos(y: float) -> float:
            return top + plot_h * (1 - (y - y_lo) / (y_hi - y_lo))

        major = [i * y_step for i in range(int(round(y_hi / y_step)) + 1)]
        minor = []

    def x_pos(x: float) -> float:
        return left + plot_w * (x / x_max)

    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" font-size="16" '
        f'font-weight="bold">{xml_escape(title)}</text>',
    ]
    if subtitle:
        out.append(
            f'<text x="{width / 2:.1f}" y="44" text-anchor="middle" fill="#57606a">'
            f"{xml_escape(subtitle)}</text>"
        )
    out.append('<g class="grid" stroke="#d0d7de" stroke-width="1">')
    for y in minor:
        if y_lo < y < y_hi:
            out.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{y_pos(y):.1f}" '
                f'y2="{y_pos(y):.1f}" stroke-dasharray="2,3" stroke="#eaeef2"/>'
            )
    for y in major:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y_pos(y):.1f}" y2="{y_pos(y):.1f}"/>'
        )
    x_ticks = [i * x_step for i in range(int(round(x_max / x_step)) + 1)]
    for x in x_ticks:
        out.append(
            f'<line x1="{x_pos(x):.1f}" x2="{x_pos(x):.1f}" y1="{top}" y2="{top + plot_h}"/>'
        )
    out.append("</g>")
    out.append('<g class="axes" stroke="#24292f" stroke-width="1.2">')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>')
    out.append("</g>")
    out.append('<g class="ticks" fill="#24292f">')
    for x in x_ticks:
        out.append(
            f'<text x="{x_pos(x):.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{_fmt_number(x)}</text>"
        )
    for y in major:
        out.append(
            f'<text x="{left - 8}" y="{y_pos(y) + 4:.1f}" text-anchor="end">'
            f"{_fmt_number(y)}</text>"
        )
    out.append("</g>")
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 16}" text-anchor="middle">'
        f"{xml_escape(x_label)}</text>"
    )
    out.append(
        f'<text x="18" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 18 {top + plot_h / 2:.1f})">'
        f"{xml_escape(y_label + (' (log scale)' if log_y else ''))}</text>"
    )
    for s in series:
        pts = sorted(p for p in s.points if p[1] > 0)
        coords = " ".join(f"{x_pos(x):.1f},{y_pos(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6,4"' if s.dashed else ""
        out.append(f'<g class="series-group" data-series="{xml_escape(s.label)}">')
        out.append(
            f'<polyline class="series" data-series="{xml_escape(s.label)}" fill="none" '
            f'stroke="{s.color}" stroke-width="2"{dash} points="{coords}"/>'
        )
        for x, y in pts:
            out.append(
                f'<circle cx="{x_pos(x):.1f}" cy="{y_pos(y):.1f}" r="3.5" fill="{s.color}">'
                f"<title>{xml_escape(s.label)}: {_fmt_number(x)} resources, {y:.3g} s</title>"
                "</circle>"
            )
        out.append("</g>")
    # The legend: rows above the plot, where no line can run under it.
    out.append('<g class="legend">')
    x, y = float(left), 64.0
    for s in series:
        entry_w = 34 + 6.6 * len(s.label) + 22
        if x + entry_w > left + plot_w and x > left:
            x, y = float(left), y + 18
        dash = ' stroke-dasharray="6,4"' if s.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 26:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{s.color}" '
            f'stroke-width="2"{dash}/><circle cx="{x + 13:.1f}" cy="{y:.1f}" r="3" '
            f'fill="{s.color}"/><text x="{x + 34:.1f}" y="{y + 4:.1f}">{xml_escape(s.label)}</text>'
        )
        x += entry_w
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def chart_series(
    section: Mapping[str, Any], earlier: Mapping[str, Any] | None = None
) -> list[Series]:
    """One series per strategy (wall time) and the floor, x = resources discovered; with
    `earlier` (a section of the per-item tag discovery), its xacct line too."""
    points = section.get("points", [])
    series: list[Series] = []
    if earlier:
        data = tuple(
            (float(p["resources"]), p["strategies"]["xacct"]["wall_ms"] / 1000)
            for p in earlier.get("points", [])
            if "xacct" in p.get("strategies", {})
        )
        if data:
            profile = earlier.get("profile", "?")
            label = f"xacct before: tags read per bucket and function ({profile} build)"
            series.append(Series(label, "#999999", data))
    for i, name in enumerate(strategy_order(section)):
        label = section.get("strategies", {}).get(name, {}).get("label", name)
        data = tuple(
            (float(p["resources"]), p["strategies"][name]["wall_ms"] / 1000)
            for p in points
            if name in p.get("strategies", {})
        )
        series.append(Series(label, SERIES_COLORS[i % len(SERIES_COLORS)], data))
    series.append(
        Series(
            "floor (longest chain x delay)",
            FLOOR_COLOR,
            tuple((float(p["resources"]), p["floor_ms"] / 1000) for p in points),
            dashed=True,
        )
    )
    return series


def chart(section: Mapping[str, Any], earlier: Mapping[str, Any] | None = None) -> str:
    delay = section.get("delay_ms", DEFAULT_DELAY_MS)
    regions = section.get("enabled_regions", "?")
    profile = section.get("profile", "?")
    answers = (
        "moto's answers replayed"
        if section.get("answers", "replay") == "replay"
        else "moto answering live"
    )
    return render_svg(
        chart_series(section, earlier),
        title="list-resources: discovery time against resource count",
        subtitle=(
            f"{delay} ms added to every AWS call, {answers}; "
            f"4 seeded of {regions} enabled regions; {profile} build"
        ),
    )


# --------------------------------------------------------------------------------------
# The proxy's timeline (pure)
# --------------------------------------------------------------------------------------


def job_of(key: str, region: str) -> str:
    """The discovery job a call belongs to, named as in `job_chains`."""
    service, _, action = key.partition(":")
    if key == "ec2:DescribeRegions":
        return "regions"
    if service == "s3":
        return "s3"
    if action == "DescribeDBClusters":
        return f"rds-clusters {region}"
    if service == "tagging":
        return f"tags {region}"
    return f"{service} {region}"


def analyse_timeline(records: Sequence[Sequence[Any]], t0_ns: int) -> dict[str, Any]:
    """From the proxy's records [start_ns, forward_ns, end_ns, key, region]: calls in
    flight, time in moto, and per job its calls, start and end (ms after `t0_ns`)."""
    if not records:
        return {"calls": 0}
    events: list[tuple[int, int]] = []
    per_action: dict[str, dict[str, float]] = {}
    jobs: dict[str, dict[str, Any]] = {}
    busy_ns = 0
    for start, forward, end, key, region in records:
        events += [(start, 1), (end, -1)]
        busy_ns += end - start
        a = per_action.setdefault(key, {"calls": 0, "total_ms": 0.0, "answer_ms": 0.0})
        a["calls"] += 1
        a["total_ms"] += (end - start) / 1e6
        a["answer_ms"] += (end - forward) / 1e6
        job = jobs.setdefault(
            job_of(key, region), {"calls": 0, "start": start, "end": end, "actions": {}}
        )
        job["calls"] += 1
        job["start"] = min(job["start"], start)
        job["end"] = max(job["end"], end)
        phase = job["actions"].setdefault(key, {"calls": 0, "start": start, "end": end, "busy": 0})
        phase["calls"] += 1
        phase["start"] = min(phase["start"], start)
        phase["end"] = max(phase["end"], end)
        phase["busy"] += end - start
    events.sort(key=lambda e: (e[0], e[1]))
    in_flight = most = 0
    for _, delta in events:
        in_flight += delta
        most = max(most, in_flight)
    first = min(r[0] for r in records)
    last = max(r[2] for r in records)

    def rel(ns: int) -> float:
        return round((ns - t0_ns) / 1e6, 1)

    job_list = []
    for name, job in jobs.items():
        phases = []
        for key, ph in sorted(job["actions"].items(), key=lambda kv: kv[1]["start"]):
            span = max(ph["end"] - ph["start"], 1)
            phases.append(
                {
                    "action": key,
                    "calls": ph["calls"],
                    "start_ms": rel(ph["start"]),
                    "end_ms": rel(ph["end"]),
                    "mean_in_flight": round(ph["busy"] / span, 1),
                }
            )
        job_list.append(
            {
                "job": name,
                "calls": job["calls"],
                "start_ms": rel(job["start"]),
                "end_ms": rel(job["end"]),
                "phases": phases,
            }
        )
    job_list.sort(key=lambda j: -j["end_ms"])
    return {
        "calls": len(records),
        "first_call_ms": rel(first),
        "last_answer_ms": rel(last),
        "max_in_flight": most,
        "mean_in_flight": round(busy_ns / max(last - first, 1), 1),
        "per_action": {
            key: {
                "calls": int(a["calls"]),
                "mean_ms": round(a["total_ms"] / a["calls"], 1),
                "mean_answer_ms": round(a["answer_ms"] / a["calls"], 1),
            }
            for key, a in sorted(per_action.items())
        },
        "last_jobs": job_list[:4],
    }


def describe_timeline(summary: Mapping[str, Any]) -> list[str]:
    """A few lines saying where the time went."""
    if not summary.get("calls"):
        return ["  (no calls recorded)"]
    lines = [
        f"  {summary['calls']} calls, at most {summary['max_in_flight']} in flight "
        f"(mean {summary['mean_in_flight']}), last answer at {summary['last_answer_ms']:.0f} ms"
    ]
    slow = sorted(summary["per_action"].items(), key=lambda kv: -kv[1]["calls"])[:4]
    lines.append(
        "  per call (total, of which after the delay): "
        + ", ".join(
            f"{k} {v['calls']}x {v['mean_ms']:.0f} ms (after delay {v['mean_answer_ms']:.0f})"
            for k, v in slow
        )
    )
    for job in summary["last_jobs"][:3]:
        phases = "; ".join(
            f"{p['action']} {p['calls']}x {p['start_ms']:.0f}-{p['end_ms']:.0f} ms "
            f"(~{p['mean_in_flight']} in flight)"
            for p in job["phases"]
        )
        lines.append(f"  job {job['job']} ends at {job['end_ms']:.0f} ms: {phases}")
    return lines


# --------------------------------------------------------------------------------------
# The patched moto and the timed proxy (run as this script's subcommands)
# --------------------------------------------------------------------------------------


def patch_moto() -> None:
    """ListBuckets, ListFunctions and GetResources answered as AWS answers them (see the
    module's docstring)."""
    import base64

    from moto.awslambda.responses import LambdaResponse
    from moto.core.responses import ActionResult
    from moto.resourcegroupstaggingapi.models import (
        ResourceGroupsTaggingAPIBackend as TaggingBackend,
    )
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response
    from moto.utilities.utils import get_partition

    def all_buckets(self: Any) -> Any:
        self.data["Action"] = "ListAllMyBuckets"
        self._authenticate_and_authorize_s3_action()
        prefix = self._get_param("prefix")
        bucket_region = self._get_param("bucket-region")
        max_buckets = self._get_param("max-buckets")
        token = self._get_param("continuation-token")
        with_params = any(v is not None for v in (prefix, bucket_region, max_buckets, token))
        buckets = sorted(
            self.backend.list_buckets(prefix=prefix, bucket_region=bucket_region, max_buckets=None),
            key=lambda b: b.name,
        )
        if token:
            after = base64.urlsafe_b64decode(token.encode()).decode()
            buckets = [b for b in buckets if b.name > after]
        size = int(max_buckets) if max_buckets else (10000 if with_params else len(buckets))
        page, more = buckets[:size], len(buckets) > size
        entries = []
        for bucket in page:
            entry = {"Name": bucket.name, "CreationDate": bucket.creation_date_ISO8601}
            if with_params:
                entry["BucketRegion"] = bucket.region_name
            entries.append(entry)
        result: dict[str, Any] = {
            "Owner": {"ID": "bcaf1ffd86f41161ca5fb16fd081034f", "DisplayName": "webfile"},
            "Buckets": entries,
        }
        if more and page:
            result["ContinuationToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        if prefix:
            result["Prefix"] = prefix
        self.data["Action"] = "ListBuckets"
        return self.serialized(ActionResult(result))

    def list_functions(self: Any) -> str:
        query = self.querystring
        version = query.get("FunctionVersion", [None])[0]
        size = min(int(query.get("MaxItems", [LIST_FUNCTIONS_PAGE])[0]), LIST_FUNCTIONS_PAGE)
        marker = query.get("Marker", [None])[0]
        functions = sorted(self.backend.list_functions(version), key=lambda f: f.function_name)
        if marker:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
            functions = [f for f in functions if f.function_name > after]
        page = functions[:size]
        result: dict[str, Any] = {"Functions": [f.get_configuration() for f in page]}
        if len(functions) > size and page:
            last = page[-1].function_name.encode()
            result["NextMarker"] = base64.urlsafe_b64encode(last).decode()
        return json.dumps(result)

    def regional_resources(self: Any, *args: Any, **kwargs: Any) -> Any:
        buckets = s3_backends[self.account_id][get_partition(self.region_name)].buckets
        for resource in tagged_resources(self, *args, **kwargs):
            if resource.resource_type == "s3:bucket":
                bucket = buckets.get(resource.arn.rsplit(":", 1)[-1])
                if bucket is None or bucket.region_name != self.region_name:
                    continue
            yield resource

    def get_resources(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Pages bounded by ResourcesPerPage only (discovery never sends TagsPerPage).
        kwargs["tags_per_page"] = sys.maxsize
        return resources_page(self, *args, **kwargs)

    S3Response.all_buckets = all_buckets  # type: ignore[method-assign]
    LambdaResponse.list_functions = list_functions  # type: ignore[method-assign]
    tagged_resources = TaggingBackend._get_resources_generator
    resources_page = TaggingBackend.get_resources
    TaggingBackend._get_resources_generator = regional_resources  # type: ignore[method-assign]
    TaggingBackend.get_resources = get_resources  # type: ignore[method-assign]


def serve_moto(port: str) -> int:
    patch_moto()
    from moto.server import main as moto_main

    moto_main(["-H", LOOPBACK, "-p", port])
    return 0


def serve_proxy(port: str, target: str) -> int:
    """tests/faultproxy.py, plus per-call times at TIMELINE_PATH (GET: the records, DELETE:
    start afresh) and the replay of moto's answers at REPLAY_PATH (POST {"on": bool};
    GET: entries, hits, misses; DELETE: forget every answer). While replay is on, each
    distinct request (method, path and query, body, service, region) goes to moto once;
    its answer (below 500) is kept and sent again for the same request, after the delay
    rules like any answer."""
    import http.client

    sys.path.insert(0, str(FAULT_PROXY.parent))
    import faultproxy as fp

    lock = threading.Lock()
    records: list[tuple[int, int, int, str, str]] = []
    local = threading.local()
    Answer = tuple[int, str, list[tuple[str, str]], bytes]
    cache: dict[tuple[str, str, bytes, str, str], Answer] = {}
    replay = {"on": False, "hits": 0, "misses": 0}

    def answer_from_moto(self: Any, body: bytes) -> Answer | None:
        try:
            try:
                response = self.send_upstream(body, reuse=True)
            except fp.UpstreamGone:
                response = self.send_upstream(body, reuse=False)
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.reset_upstream()
            self.send_plain(502, f"faultproxy: {target} did not answer: {error}\n")
            return None
        if response.will_close:
            self.reset_upstream()
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in fp.HOP_BY_HOP]
        return response.status, response.reason, headers, data

    def send_answer(self: Any, answer: Answer) -> None:
        status, reason, headers, data = answer
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.wfile.flush()
    on_request, forward, dispatch, admin = (
        fp.State.on_request,
        fp.ProxyHandler.forward,
        fp.ProxyHandler.dispatch,
        fp.ProxyHandler.admin,
    )

    def timed_on_request(self: Any, call: Any) -> Any:
        local.call = call
        return on_request(self, call)

    def timed_forward(self: Any, body: bytes) -> None:
        local.forward_ns = time.perf_counter_ns()
        call = local.call
        if not replay["on"] or call is None:
            forward(self, body)
            return
        key = (self.command, self.path, body, call.service, call.region)
        with lock:
            answer = cache.get(key)
            if answer is not None:
                replay["hits"] += 1
        if answer is None:
            answer = answer_from_moto(self, body)
            if answer is None:
                return
            with lock:
                replay["misses"] += 1
                if answer[0] < 500:
                    cache[key] = answer
        send_answer(self, answer)

    def timed_dispatch(self: Any) -> None:
        local.call, local.forward_ns = None, None
        start = time.perf_counter_ns()
        try:
            dispatch(self)
        finally:
            call = local.call
            if call is not None:
                end = time.perf_counter_ns()
                with lock:
                    records.append(
                        (start, local.forward_ns or end, end, call.stats_key, call.region)
                    )

    def timeline_admin(self: Any, body: bytes) -> None:
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        data: Any = {}
        if path == TIMELINE_PATH:
            with lock:
                if self.command == "DELETE":
                    records.clear()
                    replay["hits"] = replay["misses"] = 0
                else:
                    data = {"records": list(records)}
            self.send_json(200, data)
            return
        if path == REPLAY_PATH:
            with lock:
                if self.command == "POST":
                    replay["on"] = bool(json.loads(body or b"{}").get("on"))
                elif self.command == "DELETE":
                    cache.clear()
                data = {**replay, "entries": len(cache)}
            self.send_json(200, data)
            return
        admin(self, body)

    fp.State.on_request = timed_on_request
    fp.ProxyHandler.forward = timed_forward
    fp.ProxyHandler.dispatch = timed_dispatch
    fp.ProxyHandler.admin = timeline_admin
    return fp.main(["--port", port, "--target", target])


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def child(
    name: str, argv: list[str], env: Mapping[str, str], url: str, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A process of this script, ready once moto answers at `url` (directly or through
    the proxy); stopped on exit."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + harness.MOTO_READY_SECONDS
        while not harness.is_moto(url):
            if process.poll() is not None:
                raise BenchError(f"{name} exited at start:\n{harness.log_tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not answer:\n{harness.log_tail(log_path)}")
            time.sleep(0.1)
        log(f"{name} answers at {url} (pid {process.pid})")
        yield process
    finally:
        harness.stop_child(process, name)


class Proxy:
    """The admin API of the timed fault proxy."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with harness._OPENER.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def delay_everything(self, delay_ms: int) -> None:
        self._call("DELETE", "/__xacct/faults")
        for service in DELAYED_SERVICES:
            rule = {"service": service, "fault": "slow", "delay_ms": delay_ms, "count": -1}
            self._call("POST", "/__xacct/faults", rule)

    def no_delay(self) -> None:
        self._call("DELETE", "/__xacct/faults")

    def reset_counts(self) -> None:
        self._call("DELETE", "/__xacct/stats")
        self._call("DELETE", TIMELINE_PATH)

    def stats(self) -> dict[str, int]:
        return dict(self._call("GET", "/__xacct/stats"))

    def replay(self, on: bool) -> None:
        self._call("POST", REPLAY_PATH, {"on": on})

    def forget_answers(self) -> None:
        self._call("DELETE", REPLAY_PATH)

    def replay_counts(self) -> dict[str, Any]:
        return dict(self._call("GET", REPLAY_PATH))

    def timeline(self) -> list[list[Any]]:
        return list(self._call("GET", TIMELINE_PATH)["records"])


# --------------------------------------------------------------------------------------
# Seeding, straight to moto
# --------------------------------------------------------------------------------------


class Seeder:
    """Grows the owner account's resources to given counts per region, in parallel."""

    def __init__(self, session: Any, endpoint: str, workers: int) -> None:
        import botocore.config

        config = botocore.config.Config(
            connect_timeout=5,
            read_timeout=120,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=max(10, workers),
        )
        self.workers = workers

        def client(service: str, region: str) -> Any:
            return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

        self.clients = {
            (service, region): client(service, region)
            for region in SEED_REGIONS
            for service in ("s3", "ec2", "lambda", "rds")
        }
        self.iam = client("iam", harness.REGION)
        self.seeded = {region: dict.fromkeys(KINDS, 0) for region in SEED_REGIONS}
        self._role_arn: str | None = None
        self._images: dict[str, str] = {}
        self._zip: bytes | None = None

    def role_arn(self) -> str:
        if self._role_arn is None:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            self._role_arn = self.iam.create_role(
                RoleName="xacct-bench-discovery-exec",
                Path="/service-role/",
                AssumeRolePolicyDocument=json.dumps(trust),
            )["Role"]["Arn"]
        return self._role_arn

    def function_zip(self) -> bytes:
        if self._zip is None:
            import io
            import zipfile

            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
            self._zip = buffer.getvalue()
        return self._zip

    def image(self, region: str) -> str:
        if region not in self._images:
            images = self.clients[("ec2", region)].describe_images(
                Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}]
            )["Images"]
            if not images:
                raise BenchError(f"moto lists no x86_64 Amazon AMI in {region}")
            self._images[region] = images[0]["ImageId"]
        return self._images[region]

    def buckets(self, region: str, indexes: range) -> None:
        s3 = self.clients[("s3", region)]
        for i in indexes:
            name = f"xacct-bench-{region}-{i:05d}"
            kwargs: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
            if i % 2 == 0:
                tags = [{"Key": "team", "Value": f"t{i % 7}"}, {"Key": "env", "Value": "bench"}]
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})

    def instances(self, region: str, start: int, count: int) -> None:
        kwargs: dict[str, Any] = {
            "ImageId": self.image(region),
            "InstanceType": "t3.micro",
            "MinCount": count,
            "MaxCount": count,
        }
        if (start // INSTANCE_BATCH) % 2 == 0:
            kwargs["TagSpecifications"] = [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"bench-{start}"}]}
            ]
        self.clients[("ec2", region)].run_instances(**kwargs)

    def functions(self, region: str, indexes: range) -> None:
        client = self.clients[("lambda", region)]
        for i in indexes:
            kwargs: dict[str, Any] = {
                "FunctionName": f"xacct-bench-{region}-{i:05d}",
                "Runtime": "python3.12",
                "Role": self.role_arn(),
                "Handler": "index.handler",
                "Code": {"ZipFile": self.function_zip()},
            }
            if i % 2 == 0:
                kwargs["Tags"] = {"team": f"t{i % 7}", "env": "bench"}
            client.create_function(**kwargs)

    def db_instances(self, region: str, indexes: range) -> None:
        rds = self.clients[("rds", region)]
        for i in indexes:
            kwargs: dict[str, Any] = {
                "DBInstanceIdentifier": f"xacct-bench-{region}-{i:04d}",
                "DBInstanceClass": "db.t3.micro",
                "Engine": "postgres",
                "AllocatedStorage": 20,
                "MasterUsername": "bench",
                "MasterUserPassword": "xacct-bench-only",
            }
            if i % 2 == 0:
                kwargs["Tags"] = [{"Key": "team", "Value": f"t{i % 7}"}]
            rds.create_db_instance(**kwargs)

    def grow(self, target: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
        """Creates what is missing up to `target` ({region: {kind: n}}); returns how many
        of each kind were created."""
        self.role_arn()
        for region in SEED_REGIONS:
            if target[region]["instances"] > self.seeded[region]["instances"]:
                self.image(region)
        tasks: list[Callable[[], None]] = []
        created = dict.fromkeys(KINDS, 0)
        chunk = {"buckets": 25, "functions": 25, "db_instances": 10}
        for region in SEED_REGIONS:
            have, want = self.seeded[region], target[region]
            for start in range(have["instances"], want["instances"], INSTANCE_BATCH):
                n = min(INSTANCE_BATCH, want["instances"] - start)
                tasks.append(lambda r=region, s=start, n=n: self.instances(r, s, n))
            for kind, method in (
                ("buckets", self.buckets),
                ("functions", self.functions),
                ("db_instances", self.db_instances),
            ):
                for start in range(have[kind], want[kind], chunk[kind]):
                    stop = min(start + chunk[kind], want[kind])
                    tasks.append(lambda m=method, r=region, s=start, e=stop: m(r, range(s, e)))
            for kind in KINDS:
                created[kind] += max(0, want[kind] - have[kind])
        with ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(task) for task in tasks]:
                future.result()
        for region in SEED_REGIONS:
            for kind in KINDS:
                self.seeded[region][kind] = max(self.seeded[region][kind], target[region][kind])
        return created


def enabled_regions(session: Any, endpoint: str) -> list[str]:
    """As discovery computes them: opted in or needing no opt-in, sorted."""
    ec2 = session.client("ec2", region_name=harness.REGION, endpoint_url=endpoint)
    regions = ec2.describe_regions()["Regions"]
    return sorted(
        r["RegionName"]
        for r in regions
        if r.get("OptInStatus") in (None, "opt-in-not-required", "opted-in")
    )


def prewarm(session: Any, endpoint: str, regions: Sequence[str]) -> None:
    """Every read API discovery uses, once per enabled region, straight to moto: moto
    builds a region's backend on first use (hundreds of ms for EC2), which would
    otherwise land in the first measurement."""
    import botocore.config

    config = botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})

    def warm(region: str) -> None:
        def client(service: str) -> Any:
            return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

        client("ec2").describe_instances(MaxResults=5)
        client("lambda").list_functions(MaxItems=1)
        client("rds").describe_db_instances(MaxRecords=20)
        client("rds").describe_db_clusters(MaxRecords=20)
        client("s3").list_buckets(MaxBuckets=1)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(warm, regions))


# --------------------------------------------------------------------------------------
# One measurement
# --------------------------------------------------------------------------------------


def function_event(query: Mapping[str, str]) -> dict[str, Any]:
    event = harness.load_event("list-resources")
    event["rawQueryString"] = urllib.parse.urlencode(query, safe=",")
    if query:
        event["queryStringParameters"] = dict(query)
    else:
        event.pop("queryStringParameters", None)
    return event


WARM_UP_QUERY = {"service": "rds", "region": "us-east-1"}
MEASURED_QUERY = {"limit": str(LIMIT)}


def logged_discovery(log_path: Path) -> dict[str, int]:
    """`found` and `ms` of the last "listed resources" line the function logged."""
    found: dict[str, int] = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        with contextlib.suppress(ValueError, AttributeError):
            fields = json.loads(line).get("fields", {})
            if fields.get("message") == "listed resources":
                found = {"found": int(fields["found"]), "ms": int(fields["ms"])}
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (/proc/<pid>/stat), all its threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Context:
    binary: Path
    base_env: Mapping[str, str]
    aws_env: Mapping[str, str]
    log_dir: Path
    proxy: Proxy
    timeout_s: float
    rust_log: str
    runs: int = 0


def median_run(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (the lower middle one of an even number), with every
    run's wall time in `runs_wall_ms`, in the order they ran."""
    if not runs:
        raise ValueError("no runs")
    middle = sorted(runs, key=lambda r: r["wall_ms"])[(len(runs) - 1) // 2]
    return {**copy.deepcopy(dict(middle)), "runs_wall_ms": [r["wall_ms"] for r in runs]}


def measure(
    ctx: Context, strategy: Strategy, total: int, expected: Mapping[str, int]
) -> dict[str, Any]:
    """One fresh process: warm-up invocation, then the measured full discovery."""
    ctx.runs += 1
    aws_env = dict(ctx.aws_env)
    if strategy.concurrency is not None:
        aws_env["XACCT_DISCOVERY_CONCURRENCY"] = strategy.concurrency
    launch = harness.Launch(
        spec=harness.FUNCTIONS["list-resources"],
        binary=ctx.binary,
        base_env=ctx.base_env,
        aws_env=aws_env,
        rust_log=ctx.rust_log,
        timeout_s=ctx.timeout_s,
        check=lambda _i, _body: None,
        log_dir=ctx.log_dir,
        event=function_event(WARM_UP_QUERY),
    )
    # The function's log and the proxy's records (timeline.<n>.json) stay in the log dir.
    log_path = ctx.log_dir / f"list-resources.cold{ctx.runs}.log"
    what = f"list-resources ({strategy.name}, {total} resources)"
    with harness.cold_started(launch, ctx.runs) as (api, process, _cold):
        ctx.proxy.reset_counts()
        cpu_before = cpu_seconds(process.pid)
        request_id = api.queue_event(harness.event_payload(function_event(MEASURED_QUERY)))
        outcome = api.wait(request_id, process, ctx.timeout_s, what)
        cpu_after = cpu_seconds(process.pid)
        hwm_kb = harness.proc_status_kb(process.pid, "VmHWM")
        stats = ctx.proxy.stats()
        records = ctx.proxy.timeline()
        replayed = ctx.proxy.replay_counts()
        (ctx.log_dir / f"timeline.{ctx.runs}.json").write_text(
            json.dumps({"t0_ns": outcome.handed_ns, "records": records})
        )
        _, body = harness.http_response(outcome, what)
        if hwm_kb is None:
            raise BenchError(f"{what}: cannot read VmHWM of pid {process.pid}")
        returned = len(body.get("resources", []))
        if body.get("partial_failures"):
            raise BenchError(f"{what}: partial failures: {body['partial_failures']}")
        if returned != min(LIMIT, total) or bool(body.get("next_cursor")) != (total > LIMIT):
            raise BenchError(
                f"{what}: {returned} resources in the first page, next_cursor "
                f"{body.get('next_cursor')!r}; {total} were seeded"
            )
    logged = logged_discovery(log_path)
    if logged.get("found") != total:
        raise BenchError(
            f"{what}: the function found {logged.get('found')} resources, {total} were "
            f"seeded:\n{harness.log_tail(log_path)}"
        )
    calls = sum(stats.values())
    wall_ms = (outcome.received_ns - outcome.handed_ns) / 1e6
    mismatch = {
        key: {"expected": expected.get(key, 0), "seen": stats.get(key, 0)}
        for key in sorted(set(stats) | set(expected))
        if expected.get(key, 0) != stats.get(key, 0)
    }
    return {
        "wall_ms": round(wall_ms, 1),
        "discovery_ms": logged.get("ms"),
        "calls": calls,
        "calls_by_action": stats,
        "calls_match_model": not mismatch,
        **({"calls_mismatch": mismatch} if mismatch else {}),
        "peak_rss_mb": round(hwm_kb / 1024, 1),
        "cpu_ms": (
            round((cpu_after - cpu_before) * 1000)
            if cpu_before is not None and cpu_after is not None
            else None
        ),
        "concurrency_env": strategy.concurrency,
        "answered_by_moto": replayed["misses"] if replayed["on"] else calls,
        "timeline": analyse_timeline(records, outcome.handed_ns),
    }


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def binary_reads_concurrency(binary: Path) -> bool:
    needle = b"XACCT_DISCOVERY_CONCURRENCY"
    with open(binary, "rb") as f:
        tail = b""
        while chunk := f.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def write_outputs(
    out: Path, svg: Path, section: Mapping[str, Any], key: str = RESULTS_KEY
) -> dict[str, Any]:
    document: Any = {}
    if out.exists():
        try:
            document = json.loads(out.read_text())
        except (OSError, ValueError) as error:
            raise BenchError(f"cannot read the existing {out}: {error}") from error
    document = merge_document(document, section, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out)
    merged = document[key]
    if merged.get("points"):
        earlier = document.get(PER_ITEM_KEY) if key == RESULTS_KEY else None
        svg.write_text(chart(merged, earlier))
    return merged


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="discovery.py",
        description="list-resources' discovery at scale with a delay on every AWS call.",
    )
    parser.add_argument("--profile", choices=("debug", "release"), default="debug")
    parser.add_argument("--bin-dir", type=Path, help="where list-resources is (as harness.py)")
    parser.add_argument(
        "--scales",
        default=",".join(scale_key(s) for s in DEFAULT_SCALES),
        help="fractions of the full size, measured in increasing order (default "
        "0.05,0.25,0.5,1)",
    )
    parser.add_argument(
        "--strategies",
        default="xacct,sequential",
        help="xacct, sequential, JxI (XACCT_DISCOVERY_CONCURRENCY=J,I); default xacct,sequential",
    )
    parser.add_argument("--delay-ms", type=int, default=DEFAULT_DELAY_MS)
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="measured runs per strategy and scale, each in a fresh process; the run of "
        "median wall time is reported, every wall time kept (default 3)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the run of xacct's defaults without delay (the emulator's own cost)",
    )
    parser.add_argument(
        "--answers",
        choices=("replay", "moto"),
        default="replay",
        help="replay (default): moto answers each distinct request once, in an unmeasured "
        "run without delay, and the proxy replays its answers in the measured runs; moto: "
        "moto answers every measured call (results under `%s`)" % LIVE_MOTO_KEY,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (merged)")
    parser.add_argument(
        "--svg",
        type=Path,
        help=f"the chart (default {DEFAULT_SVG.relative_to(ROOT)}, with --answers moto "
        f"{LIVE_MOTO_SVG.relative_to(ROOT)})",
    )
    parser.add_argument("--log-dir", type=Path, help="keep the logs here (default: temporary)")
    parser.add_argument("--seed-workers", type=int, default=SEED_WORKERS)
    parser.add_argument("--rust-log", default="info")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds one invocation may take"
    )
    args = parser.parse_args(argv)
    try:
        args.scale_list = sorted({float(s) for s in args.scales.split(",") if s.strip()})
    except ValueError:
        parser.error(f"--scales: not numbers: {args.scales}")
    if not args.scale_list or not all(0 < s <= 1 for s in args.scale_list):
        parser.error("--scales must be fractions in (0, 1]")
    args.defaults = default_concurrency()
    try:
        args.strategy_list = [
            parse_strategy(s, args.defaults) for s in args.strategies.split(",") if s.strip()
        ]
    except ValueError as error:
        parser.error(str(error))
    if not args.strategy_list or len({s.name for s in args.strategy_list}) != len(
        args.strategy_list
    ):
        parser.error("--strategies: none, or one named twice")
    if not 0 <= args.delay_ms <= 10_000:
        parser.error("--delay-ms must be between 0 and 10000")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    if not 1 <= args.seed_workers <= 64:
        parser.error("--seed-workers must be between 1 and 64")
    if args.svg is None:
        args.svg = DEFAULT_SVG if args.answers == "replay" else LIVE_MOTO_SVG
    return args


def run(args: argparse.Namespace) -> int:
    bin_dir = (args.bin_dir or harness.default_bin_dir(args.profile)).resolve()
    built = harness.find_binary(bin_dir, harness.FUNCTIONS["list-resources"])
    reads_env = binary_reads_concurrency(built)
    if not reads_env and any(s.concurrency for s in args.strategy_list):
        log(
            f"WARNING: {binary} does not read XACCT_DISCOVERY_CONCURRENCY: every strategy "
            "runs with the binary's built-in concurrency"
        )
    machine = harness.machine_info()
    key = RESULTS_KEY if args.answers == "replay" else LIVE_MOTO_KEY
    section: dict[str, Any] = {
        "script": "bench/discovery.py",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "profile": args.profile,
        "binary": str(built),
        "binary_mtime": dt.datetime.fromtimestamp(built.stat().st_mtime, dt.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "binary_reads_concurrency_env": reads_env,
        "delay_ms": args.delay_ms,
        "answers": args.answers,
        "full_size": dict(FULL_SIZE),
        "seed_regions": list(SEED_REGIONS),
        "page_sizes": {
            "ListBuckets": LIST_BUCKETS_PAGE,
            "DescribeInstances": DESCRIBE_INSTANCES_PAGE,
            "ListFunctions": LIST_FUNCTIONS_PAGE,
            "DescribeDBInstances/DescribeDBClusters": RDS_PAGE,
            "GetResources": TAGS_PAGE,
        },
        "floor_formula": (
            "floor_ms = delay_ms x (1 + max over jobs of chain(job)); chain(S3) = "
            "pages(B,1000) (ListBuckets gives BucketRegion), chain(tags r) = "
            "pages(T_r,100) (GetResources; T_r = tagged buckets and functions in r), "
            "chain(EC2 r) = pages(I_r,1000), chain(Lambda r) = pages(F_r,50), "
            "chain(RDS r) = pages(D_r,100), chain(clusters r) = pages(C_r,100); "
            "pages(n,s) = max(1, ceil(n/s)); 1 = DescribeRegions; every enabled region"
        ),
        "emulation": (
            "moto with ListBuckets (MaxBuckets, ContinuationToken, BucketRegion) and "
            "ListFunctions (at most 50, NextMarker) paged as AWS pages them, and "
            "GetResources listing a bucket only in its own region, ResourcesPerPage "
            "resources a page; "
            "tests/faultproxy.py adds delay_ms to every call before forwarding; "
            + (
                "measured calls answered from the proxy's replay of moto's answers"
                if args.answers == "replay"
                else "measured calls answered by moto"
            )
        ),
        "strategies": {
            s.name: {
                "label": s.label,
                "concurrency_env": s.concurrency,
                "jobs": s.jobs,
                "items": s.items,
            }
            for s in args.strategy_list
        },
        "machine": machine,
        "points": [],
    }
    with tempfile.TemporaryDirectory(prefix="xacct-discovery-") as tmp_name:
        tmp = Path(tmp_name)
        aws_files = {
            "AWS_CONFIG_FILE": str(tmp / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
        }
        for path in aws_files.values():
            Path(path).write_text("")
        # A copy: a rebuild during the run must not change the binary under measurement.
        binary = tmp / "list-resources"
        shutil.copy2(built, binary)
        harness.isolate_this_process(aws_files)
        base_env = harness.cleaned_environment(os.environ, aws_files)
        base_env["PYTHONDONTWRITEBYTECODE"] = "1"
        log_dir = tmp
        if args.log_dir is not None:
            log_dir = args.log_dir.resolve()
            log_dir.mkdir(parents=True, exist_ok=True)
        moto_port, proxy_port = harness.free_port(), harness.free_port()
        while proxy_port == moto_port:
            proxy_port = harness.free_port()
        moto_url = f"http://{LOOPBACK}:{moto_port}"
        proxy_url = f"http://{LOOPBACK}:{proxy_port}"
        script = str(Path(__file__).resolve())
        with (
            child(
                "moto",
                [sys.executable, script, "_moto", str(moto_port)],
                base_env,
                moto_url,
                log_dir / "moto.log",
            ),
            child(
                "fault proxy",
                [sys.executable, script, "_proxy", str(proxy_port), moto_url],
                base_env,
                proxy_url,
                log_dir / "fault-proxy.log",
            ),
        ):
            proxy = Proxy(proxy_url)
            credentials = harness.assume_account("owner", moto_url)
            session = harness.aws_session(credentials)
            regions = enabled_regions(session, moto_url)
            section["enabled_regions"] = len(regions)
            log(f"{len(regions)} enabled regions in moto: {', '.join(regions)}")
            ctx = Context(
                binary=binary,
                base_env=base_env,
                aws_env={
                    "AWS_ACCESS_KEY_ID": credentials.access_key_id,
                    "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
                    "AWS_SESSION_TOKEN": credentials.session_token,
                    "AWS_REGION": harness.REGION,
                    "AWS_DEFAULT_REGION": harness.REGION,
                    "AWS_ENDPOINT_URL": proxy_url,
                },
                log_dir=log_dir,
                proxy=proxy,
                timeout_s=args.timeout,
                rust_log=args.rust_log,
            )
            seeder = Seeder(session, moto_url, args.seed_workers)
            for index, scale in enumerate(args.scale_list):
                totals = scaled_totals(scale)
                counts = per_region(totals)
                started = time.monotonic()
                created = seeder.grow(counts)
                took = time.monotonic() - started
                log(f"scale {scale_key(scale)}: seeded {created} in {took:.1f} s")
                if index == 0:
                    started = time.monotonic()
                    prewarm(session, moto_url, regions)
                    took = time.monotonic() - started
                    log(f"moto pre-warmed in {len(regions)} regions in {took:.1f} s")
                total = sum(totals.values())
                fl = floor(counts, regions, args.delay_ms)
                expected = expected_calls(counts, regions)
                point: dict[str, Any] = {
                    "scale": scale,
                    "counts": totals,
                    "per_region": counts,
                    "resources": total,
                    "floor_calls": fl["calls"],
                    "floor_ms": fl["ms"],
                    "floor_critical_jobs": fl["critical_jobs"],
                    "expected_calls": sum(expected.values()),
                    "strategies": {},
                }
                log(
                    f"scale {scale_key(scale)}: {total} resources, floor {fl['calls']} calls = "
                    f"{fl['ms']:.0f} ms (longest: {', '.join(fl['critical_jobs'][:3])}), "
                    f"{point['expected_calls']} calls expected"
                )
                xacct = parse_strategy("xacct", args.defaults)

                def no_delay_run(why: str) -> dict[str, Any]:
                    proxy.no_delay()
                    run = measure(ctx, xacct, total, expected)
                    log(
                        f"  xacct without delay, moto answering ({why}): {run['wall_ms']:.0f} ms, "
                        f"{run['calls']} calls, peak RSS {run['peak_rss_mb']} MB"
                    )
                    for line in describe_timeline(run["timeline"]):
                        log(line)
                    keys = ("wall_ms", "discovery_ms", "calls", "peak_rss_mb", "cpu_ms", "timeline")
                    return {key: run[key] for key in keys}

                if args.answers == "replay":
                    proxy.forget_answers()
                    proxy.replay(True)
                    point["no_delay"] = no_delay_run("fills the replay")
                proxy.delay_everything(args.delay_ms)
                jobs_count = len(job_durations(counts, regions, 1))
                point["model_items_needed"] = {
                    f"{jobs} jobs": items_needed(counts, regions, jobs, WITHIN)
                    for jobs in sorted({args.defaults[0], jobs_count})
                }
                log(
                    f"  model: per-item calls in flight needed to stay within {WITHIN} x floor: "
                    + ", ".join(f"{k}: {v}" for k, v in point["model_items_needed"].items())
                )
                for strategy in args.strategy_list:
                    result = median_run(
                        [measure(ctx, strategy, total, expected) for _ in range(args.runs)]
                    )
                    model = model_calls(counts, regions, strategy.jobs, strategy.items)
                    result["model_calls"] = model
                    result["model_ms"] = model * args.delay_ms
                    result["ratio_to_floor"] = (
                        round(result["wall_ms"] / fl["ms"], 2) if fl["ms"] else None
                    )
                    point["strategies"][strategy.name] = result
                    matches = result["calls_match_model"]
                    log(
                        f"  {strategy.name}: {result['wall_ms']:.0f} ms = "
                        f"{result['ratio_to_floor']} x floor (model with instant answers: "
                        f"{result['model_ms']:.0f} ms), {result['calls']} calls"
                        + ("" if matches else f" (NOT the model: {result['calls_mismatch']})")
                        + f", peak RSS {result['peak_rss_mb']} MB, CPU {result['cpu_ms']} ms"
                    )
                    for line in describe_timeline(result["timeline"]):
                        log(line)
                    if args.answers == "replay" and result["answered_by_moto"]:
                        log(
                            f"  WARNING: {result['answered_by_moto']} calls were not in the "
                            "replay and went to moto"
                        )
                if args.answers == "moto" and not args.no_baseline:
                    point["no_delay"] = no_delay_run("baseline")
                section["points"].append(point)
                section["machine"] = {
                    **machine,
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()],
                }
                merged = write_outputs(args.out, args.svg, section, key)
    log(f"results merged into {args.out} (key {key}); chart {args.svg}")
    print(markdown_table(merged), flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["_moto"]:
        return serve_moto(argv[1])
    if argv[:1] == ["_proxy"]:
        return serve_proxy(argv[1], argv[2])
    args = parse_args(argv)
    for sig in harness.STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, harness._raise_interrupted)
    try:
        return run(args)
    except harness.BenchError as error:
        log(f"FAILED: {error}")
        return 1
    except harness.Interrupted as interrupted:
        log(f"interrupted ({interrupted}); stopped what had started")
        return 128 + interrupted.signum
    except Exception as error:
        if type(error).__module__.startswith(("botocore", "boto3")):
            log(f"FAILED: AWS call to moto: {error}")
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
