"""Prometheus metrics at /metrics: the web requests of this deployment, and the queue, webhooks and events it serves.

Two kinds of series:
- per request, counted in the process that served it (prometheus-client): `crm_http_requests_total` and
  `crm_http_request_duration_seconds` by route name, method and status, and `crm_http_request_db_queries` (queries per
  request) by route name. Under gunicorn every worker is its own process: with PROMETHEUS_MULTIPROC_DIR set, each
  writes its values to files there and a scrape of any worker sums them all (prometheus-client's multiprocess mode;
  gunicorn.conf.py empties the directory at start and marks exited workers dead).
- read from the database at scrape time, so they hold for the whole deployment whichever instance is scraped and
  wherever its workers run: jobs queued and running and the age of the oldest due job, webhook deliveries by status
  and the delivery lag (age of the oldest pending due delivery's event), and the events written so far.

Readable with `Authorization: Bearer <METRICS_TOKEN>` or from an address in METRICS_ALLOWED_IPS; 404 when neither
is set, so a deployment that did not ask for metrics does not show that it has them.
"""

import hmac
import ipaddress
import os
import time
from contextlib import ExitStack
from functools import cache

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REQUESTS = Counter("crm_http_requests", "HTTP requests answered, by route name, method and status.",
                   ["route", "method", "status"])  # fmt: skip
LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer a request (to the first byte of a streamed one), by route name, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUERIES = Histogram(
    "crm_http_request_db_queries",
    "Database queries a request ran, by route name.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 200),
)
UNMATCHED = "<unmatched>"


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def route_name(request) -> str:
    """The URL pattern's name (`attributes:api-attribute`), or the route itself for an unnamed one: bounded labels."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class MetricsMiddleware:
    """Count each request, its latency and its database queries (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The series of each (route, method, status): `labels()` validates and looks them up under a lock on every
        # call, and a request needs three. prometheus-client returns the same child for the same labels, so the
        # children are kept here once made (a bounded set: route names, methods and statuses).
        self._series: dict[tuple[str, str, str], tuple] = {}

    def __call__(self, request):
        counter = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        key = (route_name(request), request.method, str(response.status_code))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (REQUESTS.labels(*key), LATENCY.labels(*key), QUERIES.labels(key[0]))
        series[0].inc()
        series[1].observe(elapsed)
        series[2].observe(counter.count)
        return response


class DeploymentCollector:
    """The series read from the database at scrape time (jobs, webhooks, events)."""

    def collect(self):
        from events.models import Event
        from events.services import last_sequence
        from jobs.models import Job
        from webhooks.models import Delivery

        now = timezone.now()
        jobs = GaugeMetricFamily("crm_jobs", "Background jobs by status (queued, running).", labels=["status"])
        counts = _count_by(Job.objects.filter(status__in=Job.ACTIVE), "status")
        for status in Job.ACTIVE:
            jobs.add_metric([str(status)], counts.get(str(status), 0))
        yield jobs
        oldest = Job.objects.filter(status=Job.Status.QUEUED).order_by("queued_at").values_list("queued_at", flat=True)
        oldest = oldest.first()
        yield GaugeMetricFamily(
            "crm_jobs_oldest_due_age_seconds",
            "Seconds the oldest queued job has waited for a worker (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        deliveries = GaugeMetricFamily(
            "crm_webhook_deliveries", "Webhook deliveries kept (with their events), by outcome.", labels=["outcome"]
        )
        by_status = _count_by(Delivery.objects.all(), "status")
        for status in Delivery.Status:
            deliveries.add_metric([str(status)], by_status.get(str(status), 0))
        yield deliveries
        due = Delivery.objects.filter(status=Delivery.Status.PENDING, event__isnull=False).exclude(
            next_attempt_at__gt=now
        )
        oldest_event = due.order_by("sequence", "id").values_list("event__occurred_at", flat=True).first()
        yield GaugeMetricFamily(
            "crm_webhook_delivery_lag_seconds",
            "Age of the oldest event whose delivery is due and not yet through (0 when every endpoint is caught up).",
            value=max(0.0, (now - oldest_event).total_seconds()) if oldest_event else 0,
        )
        written = last_sequence() + Event.objects.filter(sequence__isnull=True).count()
        yield CounterMetricFamily("crm_events_written", "Change events written (numbered or waiting for a number).",
                                  value=written)  # fmt: skip


def _count_by(queryset, field: str) -> dict[str, int]:
    from django.db.models import Count

    return {row[field]: row["n"] for row in queryset.order_by().values(field).annotate(n=Count("pk"))}


@cache
def _allowed_networks(addresses: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(a, strict=False) for a in addresses)


def _may_read(request) -> bool | None:
    """True if allowed, False if not, None when metrics are not configured at all."""
    token, addresses = settings.METRICS_TOKEN, tuple(settings.METRICS_ALLOWED_IPS)
    if not token and not addresses:
        return None
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if addresses:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in network for network in _allowed_networks(addresses))
    return False


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's request series (multiprocess mode) or this process's, and the database's."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)
    else:
        for collector in (REQUESTS, LATENCY, QUERIES):
            scrape.register(collector)
    scrape.register(DeploymentCollector())
    return scrape


@never_cache
@require_safe
def metrics_view(request):
    allowed = _may_read(request)
    if allowed is None:
        return HttpResponseNotFound("Not found.", content_type="text/plain")
    if not allowed:
        response = HttpResponse("Metrics need a valid bearer token or an allowed address.", status=401,
                                content_type="text/plain")  # fmt: skip
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
