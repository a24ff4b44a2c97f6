"""The scale sweep: every GET page and endpoint of the URL configuration, timed one request at a time under gunicorn.

The plan (bench/sweep_plan.py, printed by `manage.py sweep_plan`) lists every route with real objects in its path
and realistic query strings. Pages are requested with the signed-in session of a superuser, `/crm/` endpoints with
its Bearer token. Each request is made N times (fewer if a route has used up its time budget); the table shows
p50, p99 (the slowest of N below 100 samples), response bytes and statuses, and flags what breaks the limits:

- p50 < 300 ms, p99 < 1 s, body < 1 MB, a 2xx or 3xx answer;
- a streamed CSV export instead: the first byte within 1 s (p99), and the RSS of the gunicorn worker that serves
  it (VmRSS in /proc/<pid>/status, sampled during one full download) grows by less than 50 MB.

A route that answers GET with 405 takes no GET and is listed as such. A route the plan cannot fill fails the sweep.
"""

import http.client
import math
import threading
import time
from pathlib import Path

P50_MS, P99_MS, MAX_BYTES = 300.0, 1000.0, 1_000_000
TTFB_MS, RSS_GROWTH_MB = 1000.0, 50.0


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: p99 of fewer than 100 samples is the slowest one."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def worker_pids(master: int) -> list[int]:
    """The gunicorn worker processes: the master's children."""
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        return [int(pid) for pid in children.read_text().split()]
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples every worker's RSS every 50 ms; `growth_mb` is the largest rise of one worker above its start."""

    def __init__(self, master: int):
        self.pids = worker_pids(master)
        self.start = {pid: rss_kb(pid) for pid in self.pids}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return max((self.peak[pid] - self.start[pid] for pid in self.pids), default=0) / 1024

    @property
    def peak_mb(self) -> float:
        return max(self.peak.values(), default=0) / 1024


class Sweeper:
    def __init__(self, *, port: int, master_pid: int, cookie: str, token: str, requests: int, budget_s: float):
        self.port, self.master_pid = port, master_pid
        self.auth = {"session": {"Cookie": cookie}, "bearer": {"Authorization": f"Bearer {token}"}}
        self.requests, self.budget_s = requests, budget_s

    def fetch(self, item: dict, *, first_byte_only: bool = False) -> dict:
        """One request on a fresh connection: status, headers, seconds to the first body byte and to the end.

        A connection dropped mid-body (e.g. gunicorn killing a worker past its --timeout) keeps the status and
        first-byte time and reports e.g. "200+IncompleteRead"."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        started = time.perf_counter()
        result = {"status": "", "type": "", "streamed": False, "ttfb_s": 0.0, "bytes": 0}
        try:
            conn.request("GET", item["path"], headers=self.auth[item["auth"]])
            response = conn.getresponse()
            result.update(
                status=response.status,
                type=response.getheader("Content-Type", ""),
                streamed=response.getheader("Content-Length") is None,
            )
            result["bytes"] = len(response.read(1))
            result["ttfb_s"] = time.perf_counter() - started
            if not first_byte_only:
                while chunk := response.read(65536):
                    result["bytes"] += len(chunk)
        except (OSError, http.client.HTTPException) as error:
            result["status"] = (
                f"{result['status']}+{type(error).__name__}" if result["status"] else type(error).__name__
            )
            result["ttfb_s"] = result["ttfb_s"] or time.perf_counter() - started
        finally:
            conn.close()
        result["total_s"] = time.perf_counter() - started
        return result

    def measure(self, item: dict) -> dict:
        started = time.monotonic()
        with RssSampler(self.master_pid) as rss:
            first = self.fetch(item)
        row = {key: item[key] for key in ("route", "variant", "path", "auth")}
        if first["status"] == 405:
            return {**row, "kind": "no GET", "n": 1, "status": "405", "flags": [], "broken": False}
        csv = first["type"].startswith("text/csv") and first["streamed"]  # a streamed export
        samples = [first]
        while len(samples) < self.requests and time.monotonic() - started < self.budget_s:
            samples.append(self.fetch(item, first_byte_only=csv))
        statuses = sorted({str(s["status"]) for s in samples})
        row.update(n=len(samples), status=",".join(statuses), bytes=first["bytes"])
        flags = [f"status {s}" for s in statuses if not (s.isdigit() and 200 <= int(s) < 400)]
        row["broken"] = bool(flags)
        if csv:
            ttfb = [s["ttfb_s"] * 1000 for s in samples]
            row.update(
                kind="csv",
                p50_ms=percentile(ttfb, 0.5),
                p99_ms=percentile(ttfb, 0.99),
                full_s=first["total_s"],
                rss_growth_mb=rss.growth_mb,
                rss_peak_mb=rss.peak_mb,
            )
            if row["p99_ms"] >= TTFB_MS:
                flags.append("first byte p99 >= 1 s")
            if row["rss_growth_mb"] >= RSS_GROWTH_MB:
                flags.append(f"worker RSS grew {row['rss_growth_mb']:.0f} MB")
        else:
            times = [s["total_s"] * 1000 for s in samples]
            row.update(kind="page", p50_ms=percentile(times, 0.5), p99_ms=percentile(times, 0.99))
            if row["p50_ms"] >= P50_MS:
                flags.append("p50 >= 300 ms")
            if row["p99_ms"] >= P99_MS:
                flags.append("p99 >= 1 s")
            if row["bytes"] >= MAX_BYTES:
                flags.append("body >= 1 MB")
        row["flags"] = flags
        return row


def sweep(plan: dict, *, port: int, master_pid: int, cookie: str, token: str, requests: int = 20,
          budget_s: float = 20.0, out=print) -> dict:  # fmt: skip
    """Request everything in the plan; print the table as rows come in; return the results."""
    sweeper = Sweeper(port=port, master_pid=master_pid, cookie=cookie, token=token, requests=requests,
                      budget_s=budget_s)  # fmt: skip
    print_header(out)
    rows = []
    for item in plan["requests"]:
        row = sweeper.measure(item)
        rows.append(row)
        print_row(row, out)
    routes_swept = {row["route"] for row in rows}
    for skipped in plan["skipped"]:
        out(f"  skipped {skipped['route']}: {skipped['reason']}")
    for unfilled in plan["unfilled"]:
        out(f"  UNFILLED {unfilled['route']} ({unfilled['pattern']}): tell bench/sweep_plan.py what fills "
            f"{unfilled['params']}")  # fmt: skip
    flagged = [row for row in rows if row["flags"]]
    out(f"\nsweep: {len(rows)} requests over {len(routes_swept)} routes, {len(flagged)} over the limits, "
        f"{len(plan['skipped'])} skipped, {len(plan['unfilled'])} unfilled")  # fmt: skip
    return {
        "limits": {
            "p50_ms": P50_MS,
            "p99_ms": P99_MS,
            "bytes": MAX_BYTES,
            "csv_first_byte_ms": TTFB_MS,
            "csv_rss_growth_mb": RSS_GROWTH_MB,
        },  # fmt: skip
        "requests_per_route": requests,
        "objects": plan["objects"],
        "routes": plan["routes"],
        "rows": rows,
        "skipped": plan["skipped"],
        "unfilled": plan["unfilled"],
        "flagged": len(flagged),
        "ok": not flagged and not plan["unfilled"],
    }


def label(row: dict) -> str:
    return row["route"] + (f" ?{row['variant']}" if row["variant"] and "=" in row["variant"] else
                           f" [{row['variant']}]" if row["variant"] else "")  # fmt: skip


def print_header(out=print) -> None:
    out(f"\n{'route':<72} {'auth':<7} {'n':>3} {'p50 ms':>9} {'p99 ms':>9} {'bytes':>11} {'status':>7}  flags")
    out("-" * 140)


def print_row(row: dict, out=print) -> None:
    if row["kind"] == "no GET":
        out(f"{label(row):<72} {row['auth']:<7} {'':>3} {'':>9} {'':>9} {'':>11} {'405':>7}  (takes no GET)")
        return
    extra = ""
    if row["kind"] == "csv":
        extra = (f"  [csv: first byte; full download {row['full_s']:.1f} s, worker RSS +{row['rss_growth_mb']:.1f} MB"
                 f" (peak {row['rss_peak_mb']:.0f} MB)]")  # fmt: skip
    flags = ("!! " + "; ".join(row["flags"])) if row["flags"] else ""
    out(
        f"{label(row)[:72]:<72} {row['auth']:<7} {row['n']:>3} {row['p50_ms']:>9.1f} {row['p99_ms']:>9.1f} "
        f"{row['bytes']:>11,} {row['status']:>7}  {flags}{extra}"
    )
