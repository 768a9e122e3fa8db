"""The pure parts of bench/discovery.py: the sizes per scale, the call model and the floor,
the concurrency model, strategies, the merging of results, the Markdown table, the SVG
chart and the proxy timeline's analysis.

No network, no processes; well under a second.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/python/test_bench_discovery.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    sys.dont_write_bytecode = True  # no __pycache__ in bench/
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


d = _load("xacct_bench_discovery", ROOT / "bench" / "discovery.py")

SVG = "{http://www.w3.org/2000/svg}"
# The 24 regions moto 5.2 reports as enabled (`opt-in-not-required`), the 4 seeded ones
# among them.
REGIONS = [
    "af-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1", "cn-north-1",
    "cn-northwest-1", "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1",
    "us-west-1", "us-west-2",
]  # fmt: skip
FULL = d.per_region(d.FULL_SIZE)


# --------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------


def test_spread_is_even_and_loses_nothing() -> None:
    assert d.spread(2000) == dict.fromkeys(d.SEED_REGIONS, 500)
    assert d.spread(10) == {"us-east-1": 3, "us-west-2": 3, "eu-west-1": 2, "ap-southeast-2": 2}
    assert d.spread(0) == dict.fromkeys(d.SEED_REGIONS, 0)


def test_scaled_totals_and_per_region() -> None:
    assert d.scaled_totals(1.0) == d.FULL_SIZE
    assert d.scaled_totals(0.05) == {
        "buckets": 100,
        "instances": 200,
        "functions": 50,
        "db_instances": 10,
    }
    full = d.per_region(d.FULL_SIZE)
    assert full["eu-west-1"] == {
        "buckets": 500,
        "instances": 1000,
        "functions": 250,
        "db_instances": 50,
    }
    for kind in d.KINDS:
        assert sum(r[kind] for r in d.per_region(d.scaled_totals(0.25)).values()) == (
            d.scaled_totals(0.25)[kind]
        )


# --------------------------------------------------------------------------------------
# The call model and the floor
# --------------------------------------------------------------------------------------


def test_pages_counts_at_least_one_call() -> None:
    assert [d.pages(n, 50) for n in (0, 1, 50, 51, 250)] == [1, 1, 1, 2, 5]


def test_floor_at_full_size_is_the_lambda_chain() -> None:
    # Lambda, 250 functions per seeded region: 5 ListFunctions pages; tags: 250 tagged
    # buckets + 125 tagged functions = 4 GetResources pages; S3: 2 ListBuckets pages; plus
    # DescribeRegions.
    chains = d.job_chains(FULL, REGIONS)
    assert chains["s3"] == 2
    assert chains["lambda us-east-1"] == 5
    assert chains["tags us-east-1"] == 4
    assert chains["ec2 us-east-1"] == 1
    assert chains["rds us-east-1"] == 1 and chains["rds-clusters us-east-1"] == 1
    assert chains["lambda sa-east-1"] == 1  # an empty region still costs its page
    assert chains["tags sa-east-1"] == 1
    assert len(chains) == 1 + 5 * len(REGIONS)
    result = d.floor(FULL, REGIONS, 50)
    assert result["calls"] == 6 and result["ms"] == 300
    assert result["critical_jobs"] == sorted(f"lambda {r}" for r in d.SEED_REGIONS)


def test_tagged_counts_every_other_bucket_and_function() -> None:
    assert d.tagged({"buckets": 500, "functions": 250, "instances": 1000}) == 250 + 125
    assert d.tagged({"buckets": 3, "functions": 1}) == 2 + 1
    assert d.tagged({"buckets": 3, "tagged": 0}) == 0
    assert d.tagged({}) == 0


def test_floor_counts_get_bucket_location_when_list_buckets_gives_no_region() -> None:
    assert d.job_chains(FULL, REGIONS, bucket_region_listed=False)["s3"] == 3
    big = {"us-east-1": {"buckets": 5000, "tagged": 0}}
    assert d.floor(big, ["us-east-1"], 50, bucket_region_listed=False)["calls"] == 1 + 5 + 1


def test_floor_counts_the_tag_pages_of_a_region() -> None:
    # 2,500 tagged buckets in one region: 25 GetResources pages, longer than ListBuckets.
    big = {"us-east-1": {"buckets": 5000}}
    result = d.floor(big, ["us-east-1"], 50)
    assert (result["calls"], result["critical_jobs"]) == (1 + 25, ["tags us-east-1"])


def test_floor_of_an_empty_account() -> None:
    # DescribeRegions, then one page of each listing in parallel.
    assert d.floor({}, REGIONS, 50) == {
        "calls": 2,
        "ms": 100,
        "critical_jobs": sorted(d.job_chains({}, REGIONS)),
        "longest_chain": 1,
    }


def test_floor_grows_with_pages_not_items() -> None:
    small = d.per_region(d.scaled_totals(0.05))  # 12-13 functions per region: 1 page
    assert d.floor(small, REGIONS, 50)["calls"] == 2
    assert d.floor(d.per_region(d.scaled_totals(0.5)), REGIONS, 50)["calls"] == 1 + 3


def test_expected_calls_at_full_size() -> None:
    calls = d.expected_calls(FULL, REGIONS)
    assert calls == {
        "ec2:DescribeRegions": 1,
        "s3:ListBuckets": 2,
        "tagging:GetResources": 4 * 4 + 20,
        "ec2:DescribeInstances": 24,
        "lambda:ListFunctions": 4 * 5 + 20,
        "rds:DescribeDBInstances": 24,
        "rds:DescribeDBClusters": 24,
    }
    assert sum(calls.values()) == 151
    located = d.expected_calls(FULL, REGIONS, bucket_region_listed=False)
    assert located["s3:GetBucketLocation"] == 2000


# --------------------------------------------------------------------------------------
# The concurrency model
# --------------------------------------------------------------------------------------


def test_model_with_unbounded_concurrency_is_the_floor() -> None:
    for scale in (0.05, 0.25, 1.0):
        counts = d.per_region(d.scaled_totals(scale))
        unbounded = d.model_calls(counts, REGIONS, 10_000, 10_000)
        assert unbounded == d.floor(counts, REGIONS, 1)["calls"]


def test_model_one_call_at_a_time_is_every_call() -> None:
    counts = d.per_region(d.scaled_totals(0.25))
    assert d.model_calls(counts, REGIONS, 1, 1) == sum(d.expected_calls(counts, REGIONS).values())


def test_model_of_the_defaults_at_full_size() -> None:
    # 256 job slots hold all 121 jobs: the floor, with no per-item call to wait for.
    assert d.model_calls(FULL, REGIONS, 256, 32) == 6
    assert d.items_needed(FULL, REGIONS, 256, 1.3) == 1
    # 24 job slots for 121 jobs: jobs queue behind the long jobs of the seeded regions.
    assert d.model_calls(FULL, REGIONS, 24, 32) > 1.3 * 6
    assert d.items_needed(FULL, REGIONS, 24, 1.3) is None


def test_median_run_keeps_every_wall_time() -> None:
    runs = [{"wall_ms": 430.0, "calls": 1}, {"wall_ms": 382.0, "calls": 2}, {"wall_ms": 400.0, "calls": 3}]
    assert d.median_run(runs) == {"wall_ms": 400.0, "calls": 3, "runs_wall_ms": [430.0, 382.0, 400.0]}
    assert d.median_run(runs[:2])["wall_ms"] == 382.0  # the lower middle
    assert d.median_run(runs[:1])["runs_wall_ms"] == [430.0]
    with pytest.raises(ValueError):
        d.median_run([])


def test_default_concurrency_is_read_from_the_rust_source(tmp_path: Path) -> None:
    source = tmp_path / "discovery.rs"
    source.write_text(
        "pub const JOB_CONCURRENCY: usize = 48;\npub const ITEM_CONCURRENCY: usize = 128;\n"
    )
    assert d.default_concurrency(source) == (48, 128)
    assert d.default_concurrency(tmp_path / "missing.rs") == (256, 32)


def test_strategies() -> None:
    xacct = d.parse_strategy("xacct", (24, 32))
    assert (xacct.concurrency, xacct.jobs, xacct.items) == (None, 24, 32)
    sequential = d.parse_strategy("sequential")
    assert (sequential.concurrency, sequential.jobs, sequential.items) == ("1", 1, 1)
    custom = d.parse_strategy("97x256")
    assert (custom.concurrency, custom.jobs, custom.items) == ("97,256", 97, 256)
    for bad in ("fast", "0x4", "4x257", "x4", "4x"):
        with pytest.raises(ValueError):
            d.parse_strategy(bad)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


def strategy_result(wall_ms: float, calls: int = 100, rss: float = 20.0) -> dict[str, Any]:
    return {
        "wall_ms": wall_ms,
        "ratio_to_floor": wall_ms / 350,
        "model_ms": 3300,
        "calls": calls,
        "peak_rss_mb": rss,
    }


def point(scale: float, **strategies: dict[str, Any]) -> dict[str, Any]:
    totals = d.scaled_totals(scale)
    return {
        "scale": scale,
        "counts": totals,
        "resources": sum(totals.values()),
        "floor_calls": 7,
        "floor_ms": 350,
        "strategies": strategies,
    }


def section(*points: dict[str, Any], delay_ms: int = 50) -> dict[str, Any]:
    return {
        "delay_ms": delay_ms,
        "full_size": dict(d.FULL_SIZE),
        "enabled_regions": 24,
        "profile": "release",
        "strategies": {
            "xacct": {"label": "xacct (defaults)"},
            "sequential": {"label": "one call at a time"},
        },
        "points": list(points),
    }


def test_merge_keeps_other_keys_points_and_strategies() -> None:
    old_doc = {
        "functions": {"list-resources": {"cold_start_ms": 12}},
        "load": {"requests": 1000},
        d.RESULTS_KEY: section(
            point(0.05, xacct=strategy_result(900), sequential=strategy_result(14000)),
            point(1.0, xacct=strategy_result(9000), sequential=strategy_result(190000)),
        ),
    }
    new = section(point(1.0, xacct=strategy_result(8000)))
    merged = d.merge_document(old_doc, new)
    assert merged["functions"] == old_doc["functions"] and merged["load"] == old_doc["load"]
    points = merged[d.RESULTS_KEY]["points"]
    assert [p["scale"] for p in points] == [0.05, 1.0]
    assert points[1]["strategies"]["xacct"]["wall_ms"] == 8000  # replaced
    assert points[1]["strategies"]["sequential"]["wall_ms"] == 190000  # kept
    assert points[0]["strategies"]["xacct"]["wall_ms"] == 900  # other scale kept
    # The input is not modified.
    assert old_doc[d.RESULTS_KEY]["points"][1]["strategies"]["xacct"]["wall_ms"] == 9000


def test_merge_drops_points_of_another_setup() -> None:
    old = section(point(0.05, xacct=strategy_result(900)), delay_ms=20)
    new = section(point(1.0, xacct=strategy_result(8000)))
    assert [p["scale"] for p in d.merge_section(old, new)["points"]] == [1.0]
    # A point at the same scale with other counts is replaced whole.
    changed = point(1.0, sequential=strategy_result(1))
    changed["counts"] = {**changed["counts"], "buckets": 1}
    merged = d.merge_section(section(changed), new)
    assert list(merged["points"][0]["strategies"]) == ["xacct"]


def test_merge_into_nothing() -> None:
    new = section(point(0.5, xacct=strategy_result(1)))
    assert d.merge_document(None, new) == {d.RESULTS_KEY: new}
    assert d.merge_document({"x": 1}, new)["x"] == 1


def test_markdown_table() -> None:
    table = d.markdown_table(
        section(
            point(0.05, xacct=strategy_result(700), sequential=strategy_result(14000)),
            point(1.0, xacct=strategy_result(3500, calls=3115, rss=41.25)),
        )
    )
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("| scale | resources")
    assert "xacct (defaults) s" in lines[0] and "one call at a time s" in lines[0]
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| 1 | 7,200 (2,000 / 4,000 / 1,000 / 200) | 0.35 (7) | 3.50 | 10.0 | 3.30 |" in table
    assert "3,115 | 41.2 |" in table or "3,115 | 41.3 |" in table
    assert lines[3].rstrip().endswith("| - | - | - | - | - |")  # no sequential run


# --------------------------------------------------------------------------------------
# The chart
# --------------------------------------------------------------------------------------


def test_chart_is_valid_svg_with_three_series() -> None:
    results = section(
        point(0.05, xacct=strategy_result(700), sequential=strategy_result(14000)),
        point(0.5, xacct=strategy_result(2000), sequential=strategy_result(90000)),
        point(1.0, xacct=strategy_result(3500), sequential=strategy_result(190000)),
    )
    text = d.chart(results)
    root = ET.fromstring(text.encode())
    assert root.tag == f"{SVG}svg"
    lines = root.findall(f".//{SVG}polyline")
    assert [line.get("data-series") for line in lines] == [
        "xacct (defaults)",
        "one call at a time",
        "floor (longest chain x delay)",
    ]
    for line in lines:
        coords = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        assert len(coords) == 3
        xs = [x for x, _ in coords]
        assert xs == sorted(xs)  # by resource count
        assert all(0 <= x <= 820 and 0 <= y <= 540 for x, y in coords)
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "log scale" in texts  # 0.35 s to 190 s
    assert "one call at a time" in texts and "floor" in texts  # the legend
    assert "resources discovered" in texts


def test_chart_draws_the_per_item_tag_runs_first_when_given() -> None:
    now = section(point(1.0, xacct=strategy_result(400), sequential=strategy_result(8000)))
    before = section(point(1.0, xacct=strategy_result(15700)), point(0.5, sequential=strategy_result(1)))
    root = ET.fromstring(d.chart(now, before).encode())
    lines = root.findall(f".//{SVG}polyline")
    assert [line.get("data-series") for line in lines] == [
        "xacct before: tags read per bucket and function (release build)",
        "xacct (defaults)",
        "one call at a time",
        "floor (longest chain x delay)",
    ]
    assert len(lines[0].get("points", "").split()) == 1  # only points with an xacct run


def test_render_svg_linear_when_close_and_escapes_labels() -> None:
    series = [
        d.Series("a < b & c", "#000000", ((100.0, 1.0), (200.0, 2.0))),
        d.Series("floor", "#111111", ((100.0, 0.5), (200.0, 0.5)), dashed=True),
    ]
    text = d.render_svg(series, title="t & t")
    root = ET.fromstring(text.encode())
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert "log scale" not in text
    assert root.findall(f".//{SVG}polyline")[0].get("data-series") == "a < b & c"
    with pytest.raises(ValueError):
        d.render_svg([], title="nothing")


def test_nice_step() -> None:
    assert d.nice_step(7200) == 2000
    assert d.nice_step(150) == 50
    assert d.nice_step(10) == 2


# --------------------------------------------------------------------------------------
# The proxy's timeline
# --------------------------------------------------------------------------------------


def test_analyse_timeline() -> None:
    ms = 1_000_000
    t0 = 1000 * ms
    records = [
        [t0 + 0, t0 + 50 * ms, t0 + 60 * ms, "ec2:DescribeRegions", "us-east-1"],
        [t0 + 60 * ms, t0 + 110 * ms, t0 + 120 * ms, "s3:ListBuckets", "us-east-1"],
        [t0 + 120 * ms, t0 + 170 * ms, t0 + 180 * ms, "s3:GetBucketTagging", "eu-west-1"],
        [t0 + 120 * ms, t0 + 170 * ms, t0 + 190 * ms, "s3:GetBucketTagging", "us-east-1"],
        [t0 + 60 * ms, t0 + 110 * ms, t0 + 115 * ms, "rds:DescribeDBClusters", "eu-west-1"],
    ]
    summary = d.analyse_timeline(records, t0)
    assert summary["calls"] == 5
    assert summary["max_in_flight"] == 2
    assert summary["last_answer_ms"] == 190.0
    assert summary["per_action"]["s3:GetBucketTagging"] == {
        "calls": 2,
        "mean_ms": 65.0,
        "mean_answer_ms": 15.0,
    }
    last = summary["last_jobs"][0]
    assert last["job"] == "s3" and last["calls"] == 3 and last["end_ms"] == 190.0
    assert [p["action"] for p in last["phases"]] == ["s3:ListBuckets", "s3:GetBucketTagging"]
    assert {j["job"] for j in summary["last_jobs"]} == {"s3", "regions", "rds-clusters eu-west-1"}
    assert d.describe_timeline(summary)[0].startswith("  5 calls, at most 2 in flight")
    assert d.analyse_timeline([], t0) == {"calls": 0}


def test_logged_discovery_reads_the_last_listing(tmp_path: Path) -> None:
    log = tmp_path / "list-resources.log"
    lines = [
        {"level": "INFO", "fields": {"message": "listed resources", "found": 3, "ms": 9}},
        "not json",
        {"level": "INFO", "fields": {"message": "something else"}},
        {"level": "INFO", "fields": {"message": "listed resources", "found": 7200, "ms": 812}},
    ]
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    assert d.logged_discovery(log) == {"found": 7200, "ms": 812}
    assert d.logged_discovery(tmp_path / "missing.log") == {}


def test_cpu_seconds_of_this_process() -> None:
    import os

    used = d.cpu_seconds(os.getpid())
    assert used is not None and used >= 0
    assert d.cpu_seconds(2**22 + 12345) is None  # no such process


def test_function_event_has_the_query() -> None:
    event = d.function_event({"limit": "1000"})
    assert event["rawQueryString"] == "limit=1000"
    assert event["queryStringParameters"] == {"limit": "1000"}
    warm = d.function_event({"service": "rds", "region": "us-east-1"})
    assert warm["rawQueryString"] == "service=rds&region=us-east-1"
