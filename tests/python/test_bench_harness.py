"""bench/harness.py end to end: its own moto and Runtime API, the debug `list-permissions`
binary, 5 warm invocations; checks the results file's shape, the merge into an existing
file and the Markdown table, and that a non-200 answer fails the run with the body shown.
Then `revoke-grant` on a role the debug `create-owner-role` seeds: revoked by the cold
invocation only, the note in the results. (The pure parts: test_bench_harness_pure.py.)

Skipped when the debug binary has not been built (`cargo build` writes it to
$CARGO_TARGET_DIR/debug, by default ~/.cache/xacct-target/debug). Takes a few seconds.

Run: .venv/bin/pytest tests/python/test_bench_harness.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "bench" / "harness.py"
EVENTS = ROOT / "crates" / "api" / "tests" / "events"
FUNCTION = "list-permissions"
# A guard against a hung harness, not a time goal: a run takes 2-10 s on a quiet 2-core
# machine (each process the harness stops gets up to 3 s to exit), more on a busy one.
RUN_SECONDS = 60.0


def debug_dir() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR", "").strip()
    return (Path(target) if target else Path.home() / ".cache" / "xacct-target") / "debug"


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    binary = debug_dir() / FUNCTION
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.skip(f"{binary} is not built (cargo build -p {FUNCTION} writes it)")
    return debug_dir()


def run_harness(*args: str) -> subprocess.CompletedProcess[str]:
    """The harness in a subprocess; on a hang it gets SIGTERM (it then stops its moto and
    function), and SIGKILL only if that does not work."""
    process = subprocess.Popen(
        [sys.executable, str(HARNESS), *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        pytest.fail(f"the harness took more than {RUN_SECONDS} s:\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def test_list_permissions_results_shape(bin_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"note": "kept", "functions": {"other": {"kept": True}}}))

    result = run_harness(
        "--functions", FUNCTION, "--warm", "5", "--bin-dir", str(bin_dir), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr

    document = json.loads(out.read_text())
    assert document["note"] == "kept"
    assert document["functions"]["other"] == {"kept": True}
    entry = document["functions"][FUNCTION]
    for key in ("cold_start_ms", "init_ms", "first_request_ms", "peak_rss_mb", "binary_mb"):
        assert positive(entry[key]), (key, entry)
    assert entry["profile"] == "debug"
    # cold = init + first request + the moment between the first /next and the hand-out
    assert entry["init_ms"] + entry["first_request_ms"] <= entry["cold_start_ms"] + 0.01
    assert entry["cold_start_ms"] - entry["init_ms"] - entry["first_request_ms"] < 100
    assert entry["binary_mb"] == pytest.approx(
        (bin_dir / FUNCTION).stat().st_size / 2**20, abs=0.1
    )
    warm = entry["warm_ms"]
    assert warm["n"] == 5
    for key in ("p50", "p90", "p99", "max"):
        assert positive(warm[key]), (key, warm)
    assert warm["min"] <= warm["p50"] <= warm["p90"] <= warm["p99"] <= warm["max"]

    machine = document["machine"]
    assert isinstance(machine["nproc"], int) and machine["nproc"] >= 1
    assert "cpu_model" in machine and machine["date"]

    table = result.stdout.strip().splitlines()
    assert table[0].startswith("| function |") and "cold start ms" in table[0]
    assert any(line.startswith(f"| {FUNCTION} | debug |") for line in table[2:]), result.stdout


def test_a_non_200_answer_fails_the_run(bin_dir: Path, tmp_path: Path) -> None:
    event = json.loads((EVENTS / f"{FUNCTION}.json").read_text())
    event["rawQueryString"] = "arn=not-an-arn"
    event["queryStringParameters"] = {"arn": "not-an-arn"}
    events = tmp_path / "events"
    events.mkdir()
    (events / f"{FUNCTION}.json").write_text(json.dumps(event))
    out = tmp_path / "results.json"

    result = run_harness(
        "--functions", FUNCTION, "--warm", "1", "--bin-dir", str(bin_dir),
        "--events-dir", str(events), "--out", str(out),
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "HTTP 400" in result.stderr and "InvalidArn" in result.stderr, result.stderr
    assert not out.exists()  # nothing written for a failed run


def test_a_revoke_revokes_its_seeded_role_once(bin_dir: Path, tmp_path: Path) -> None:
    for name in ("revoke-grant", "create-owner-role"):
        if not os.access(bin_dir / name, os.X_OK):
            pytest.skip(f"{bin_dir / name} is not built")
    out, logs = tmp_path / "results.json", tmp_path / "logs"

    result = run_harness(
        "--functions", "revoke-grant", "--warm", "2", "--cold-runs", "2",
        "--bin-dir", str(bin_dir), "--out", str(out), "--log-dir", str(logs),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    entry = json.loads(out.read_text())["functions"]["revoke-grant"]
    assert entry["warm_ms"]["n"] == 2 and len(entry["cold_runs"]) == 2
    assert "xacct-bench-revoke" in entry["note"] and "changed: false" in entry["note"]
    assert "- revoke-grant: " in result.stdout  # the note under the table

    def revokes(log: Path) -> list[bool]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [
            line["fields"]["changed"]
            for line in lines
            if line.get("fields", {}).get("message") == "revoke-grant"
        ]

    # Seeded by create-owner-role; revoked on the cold invocation; gone for the rest.
    assert (logs / "seed-create-owner-role.log").is_file()
    assert revokes(logs / "revoke-grant.log") == [True, False, False]
    assert revokes(logs / "revoke-grant.cold1.log") == [False]
