"""`make bench` end to end on a tiny data set with a second of load per scenario, so the benchmark does not rot."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wrk():
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (.ci/run installs it: apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")


def test_bench_runs_end_to_end_and_prints_the_table(wrk, tmp_path):
    results = tmp_path / "results.json"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    completed = subprocess.run(
        [
            sys.executable, "bench/run.py", "--database-url", f"sqlite:///{tmp_path / 'bench.sqlite3'}",
            "--customers", "40", "--attributes", "300", "--duration", "1", "--connections", "2", "--workers", "1",
            "--sample", "10", "--bulk-items", "20", "--results", str(results),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    for scenario in ("list a customer's attributes", "upsert", "find customers, selective", "Attributes tab page"):
        assert scenario in completed.stdout
    summary = json.loads(results.read_text())
    assert summary["database"] == "sqlite"
    rows = {row["scenario"]: row for row in summary["scenarios"]}
    assert len(rows) == 5
    assert all(row["requests"] > 0 and row["errors"] == 0 and row["p50_ms"] > 0 for row in rows.values())
    assert all(row["ratio"] > 0 for row in rows.values() if "ratio" in row)
    assert summary["bulk"]["speedup"] > 1
    assert summary["spec_workaround"]["workaround_s"] > 0
    jobs = summary["jobs"]
    assert set(jobs) == {"rename", "rename back", "import"}
    assert jobs["rename"]["result"]["renamed"] > 0
    assert jobs["rename back"]["result"]["renamed"] == jobs["rename"]["result"]["renamed"]
    assert jobs["import"]["result"]["created"] + jobs["import"]["result"]["updated"] == 40
    assert all(job["other_writes"]["requests"] > 0 and job["other_writes"]["errors"] == 0 for job in jobs.values())
