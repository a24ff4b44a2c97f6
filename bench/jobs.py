"""The fleet operations that run as background jobs, measured while other writes go on (part of `make bench`).

Two real `run_worker` processes run the jobs; the web side is the benchmark's gunicorn. Each scenario starts a
job through the API (timing the 202), keeps `PUT /crm/attribute/` of other names going with wrk meanwhile,
polls the job to its end and reports: the 202's latency, the job's run time (created -> finished), and the
other writes' p99 and errors during the job.

    rename billing_method -> billing_plan   (then back again, the second measurement)
    import a CSV of one new-or-updated attribute per customer (bench_imported)
"""

import http.client
import json
import os
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    def __init__(self, env: dict, python: str, name: str):
        # At a lower CPU priority, as a background worker should run beside web processes (the README's systemd
        # unit sets Nice=5): on this benchmark's one machine it shares the cores with gunicorn and wrk.
        self.process = subprocess.Popen(
            ["nice", "-n", "5", python, "manage.py", "run_worker", "--worker-id", name, "-v", "0"],
            cwd=ROOT,
            env=env,
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _request(port: int, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data, time.perf_counter() - started
    finally:
        conn.close()


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _follow(port: int, auth: dict, url: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body, _ = _request(port, "GET", url, None, auth)
        assert status == 200, body[:300]
        job = json.loads(body)
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.25)
    raise RuntimeError(f"job {url} did not finish within {timeout} s")


def _run_job(port: int, auth: dict, method: str, path: str, body: bytes, content_type: str, load) -> dict:
    """Start a job with the load running, follow it to its end; the load stops when the job does."""
    load.start()
    time.sleep(1)  # the load is under way before the job starts
    status, headers, data, elapsed = _request(port, method, path, body, {**auth, "Content-Type": content_type})
    assert status == 202, data[:500]
    started = time.monotonic()
    job = _follow(port, auth, headers["Location"])
    wall = time.monotonic() - started
    load.stop()
    assert job["status"] == "succeeded", job
    seconds = (_parse_time(job["finished"]) - _parse_time(job["created"])).total_seconds()
    return {
        "accepted_ms": elapsed * 1000,
        "job_s": max(seconds, wall),  # the API's timestamps have whole seconds; the poll's wall time is finer
        "result": job["result"],
        "other_writes": load.result,
    }


class Load:
    """wrk with upsert_other.lua in a thread, stopped by sending wrk SIGINT (it then prints its statistics)."""

    def __init__(self, url: str, lua: Path, env: dict, connections: int, parse):
        self.command = ["wrk", "-t2", f"-c{connections}", "-d600s", "--latency", "-s", str(lua), url]
        self.env = {**os.environ, **env}
        self.parse = parse
        self.result: dict = {}

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._collect, daemon=True)
        self.thread.start()

    def _collect(self) -> None:
        output, _ = self.process.communicate()
        self.result = self.parse(output)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.thread.join(timeout=30)


def job_scenarios(*, base: str, port: int, token: str, customers: int, env: dict, lua_env: dict, python: str,
                  lua_dir: Path, parse_wrk, connections: int = 4) -> dict:  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    # Two workers, as the README's Production section runs them per machine: the periodic usage refresh (which
    # a worker starts every minute) then never makes a user's job wait for it.
    workers = [WorkerProcess(env, python, f"bench-worker-{n}") for n in (1, 2)]

    def load():
        return Load(base, lua_dir / "upsert_other.lua", lua_env, connections, parse_wrk)

    try:
        results = {}
        for label, old, new in (
            ("rename", "billing_method", "billing_plan"),
            ("rename back", "billing_plan", "billing_method"),
        ):
            body = json.dumps({"old_name": old, "new_name": new}).encode()
            results[label] = _run_job(port, auth, "POST", "/crm/attribute/rename", body, "application/json", load())
        stamp = int(time.time())
        rows = "".join(f"{n},bench_imported,run-{stamp}-{n}\n" for n in range(1, customers + 1))
        csv = ("customer_id,attribute_name,attribute_value\n" + rows).encode()
        results["import"] = _run_job(port, auth, "POST", "/crm/attribute/import", csv, "text/csv", load())
        results["import"]["rows"] = customers
        return results
    finally:
        for worker in workers:
            worker.stop()
