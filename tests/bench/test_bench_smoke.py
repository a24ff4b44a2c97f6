"""`make bench` end to end on a tiny data set with a second of load per scenario, so the benchmark does not rot."""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from crm_project.urlwalk import walk

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
    # Both baselines beside the list and the upsert: the bare Django view and the bare WSGI app (no Django).
    for scenario in ("list a customer's attributes (GET, Bearer)", "upsert (PUT, 8 clients)"):
        row = rows[scenario]
        assert row["baseline_rps"] > 0 and row["bare_rps"] > 0 and row["bare_errors"] == 0, row
        # Alternating rounds: the ratios are the medians of each round's ratio.
        rounds = row["rounds_rps"]
        assert row["rounds"] == 3 and all(len(rps) == 3 for rps in rounds.values()), row
        pairs = zip(rounds["measured"], rounds["bare"], strict=True)
        assert row["bare_ratio"] == pytest.approx(statistics.median(m / b for m, b in pairs))
        pairs = zip(rounds["measured"], rounds["baseline"], strict=True)
        assert row["ratio"] == pytest.approx(statistics.median(m / b for m, b in pairs))
        assert row["rps"] == pytest.approx(statistics.median(rounds["measured"]))
    assert "wsgi req/s" in completed.stdout
    assert summary["bulk"]["speedup"] > 1
    assert summary["spec_workaround"]["workaround_s"] > 0
    jobs = summary["jobs"]
    assert set(jobs) == {"rename", "rename back", "import"}
    assert jobs["rename"]["result"]["renamed"] > 0
    assert jobs["rename back"]["result"]["renamed"] == jobs["rename"]["result"]["renamed"]
    assert jobs["import"]["result"]["created"] + jobs["import"]["result"]["updated"] == 40
    assert all(job["other_writes"]["requests"] > 0 and job["other_writes"]["errors"] == 0 for job in jobs.values())


def test_sweep_requests_every_get_route_of_the_url_configuration(tmp_path):
    """The scale sweep on a tiny SQLite data set: every route is swept, or takes no GET, or is skipped with a reason."""
    results = tmp_path / "sweep.json"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    completed = subprocess.run(
        [
            sys.executable, "bench/run.py", "--database-url", f"sqlite:///{tmp_path / 'sweep.sqlite3'}",
            "--customers", "30", "--attributes", "200", "--workers", "1", "--only", "sweep",
            "--sweep-requests", "2", "--results", str(results),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "p50 ms" in completed.stdout and "sweep:" in completed.stdout
    sweep = json.loads(results.read_text())["sweep"]
    assert sweep["unfilled"] == []
    rows = sweep["rows"]
    covered = {row["route"] for row in rows} | {skipped["route"] for skipped in sweep["skipped"]}
    routed = {route.name for route in walk()}  # this process's URL configuration (without the bench baselines)
    assert routed <= covered, sorted(routed - covered)
    measured = [row for row in rows if row["kind"] != "no GET"]
    assert all(row["n"] == 2 and not row["broken"] for row in measured), [r for r in measured if r["broken"]]
    names = {row["route"] for row in measured}
    for expected in (
        "customers:list",
        "attributes:usage",
        "attribute",
        "jobs:detail",
        "admin:customers_customer_changelist",
    ):
        assert expected in names
    exports = {row["route"] for row in measured if row["kind"] == "csv"}
    assert {"attributes:export", "attributes:filtered_export", "attribute-export"} <= exports
    assert all(row["rss_peak_mb"] > 0 for row in measured if row["kind"] == "csv")
    assert {row["route"] for row in rows if row["kind"] == "no GET"} >= {"logout", "attribute-bulk", "jobs:cancel"}
    skipped = {skipped["route"] for skipped in sweep["skipped"]}
    assert not skipped & {"customers:detail", "attributes:tab", "attribute-detail", "jobs:list"}


def test_sensitive_bench_prints_the_ratios_and_times_the_jobs(wrk, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    completed = subprocess.run(
        [
            sys.executable, "bench/sensitive.py", "--database-url", f"sqlite:///{tmp_path / 'sensitive.sqlite3'}",
            "--keys-file", str(tmp_path / "keys"), "--customers", "20", "--duration", "1", "--rounds", "1",
            "--connections", "2", "--workers", "1", "--mark", "30",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert re.search(r"PUT: plain +\d+/s +sensitive +\d+/s +ratio \d", completed.stdout)
    assert re.search(r"GET: plain +\d+/s +sensitive +\d+/s +ratio \d", completed.stdout)
    assert "MARK=" in completed.stdout and "status=succeeded done=90 total=90" in completed.stdout
    assert "UNMARK=" in completed.stdout and "status=succeeded done=30 total=30" in completed.stdout


def test_hotpath_serves_each_scenario_through_the_wsgi_application(tmp_path):
    """bench/hotpath.py (in-process timings and profiles of the list and the upsert) on a tiny SQLite data set."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    completed = subprocess.run(
        [
            sys.executable, "bench/hotpath.py", "--database-url", f"sqlite:///{tmp_path / 'hot.sqlite3'}",
            "--customers", "30", "--attributes", "200", "--requests", "20", "--warm", "5", "--profile", "list",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    measured = dict(re.findall(r"^(\w+)\s+(\d+) µs/request", completed.stdout, re.M))
    assert set(measured) == {"list", "list_django", "upsert", "upsert_django"}
    assert all(int(value) > 0 for value in measured.values())
    assert "list_for_customer" in completed.stdout  # the profile of the list names the endpoint's view
