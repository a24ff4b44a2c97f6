"""Project-level views that belong to no app."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe  # GET and HEAD: load balancers probe with either
def healthz(request):
    """Liveness: 200 when the process answers and its database answers a query, 503 when it cannot (see readyz)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: 200 when this instance can serve (database, migrations applied, job queue), else 503 saying why."""
    from .readiness import is_ready, readiness

    checks = readiness()
    ready = is_ready(checks)
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)


def _wants_json(request) -> bool:
    return request.path.startswith("/crm/") or "application/json" in request.headers.get("Accept", "")


def server_error(request, *args, **kwargs):
    """handler500: a database that is down or too slow is a 503 with a clear message, never a stack trace.

    Renders without the request context: the database may be the very thing that failed.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", error)
        message = "The database is unavailable or too slow right now. Please try again in a moment."
        headers = {"Retry-After": "5"}
        if _wants_json(request):
            return JsonResponse({"detail": message}, status=503, headers=headers)
        return HttpResponse(render_to_string("503.html", {"message": message}), status=503, headers=headers)
    if _wants_json(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)


def page_not_found(request, exception):
    """handler404: under /crm/ (or asked for JSON) a path that names nothing is a JSON 404 like the API's own."""
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
