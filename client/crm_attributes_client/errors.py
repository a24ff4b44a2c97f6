"""Every failure is an exception carrying the server's message (and field, where the server names one).

Nothing fails silently: a 4xx or 5xx answer raises, a lost connection raises, a bulk chunk the server refused
raises (after the other chunks were written, and the exception says which were).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Attribute, BulkResult, Job


class CrmError(Exception):
    """Base class. `status` is the HTTP status (None when no answer came), `body` the parsed JSON answer."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class TransportError(CrmError):
    """No (complete) answer: connection refused or dropped, or a timeout. Raised once retries are used up, and at
    once for a non-idempotent request whose fate is unknown (it may or may not have been applied)."""


class ValidationError(CrmError):
    """400: the server refused the input and changed nothing. `errors` maps each field to its messages."""

    def __init__(self, message: str, *, errors: dict[str, list[str]], status: int = 400, body: Any = None) -> None:
        super().__init__(message, status=status, body=body)
        self.errors = errors

    @property
    def field(self) -> str | None:
        """The first field the server named (`non_field_errors` for errors of the whole request)."""
        return next(iter(self.errors), None)


class AuthenticationError(CrmError):
    """401: no valid token (missing, wrong, expired or revoked)."""


class PermissionDenied(CrmError):
    """403: the token's user lacks the permission; the message names it."""


class NotFound(CrmError):
    """404: no such attribute, customer, history entry, job or webhook."""


class Conflict(CrmError):
    """409: e.g. a rename job holds the name (`retry_after` seconds), or the job has already ended."""

    def __init__(self, message: str, *, status: int = 409, body: Any = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class PreconditionFailed(CrmError):
    """412: `If-Match` was stale or `If-None-Match: *` found the name. `etag` and `current` are the attribute as it
    is now (None when the token may not view attributes)."""

    def __init__(
        self, message: str, *, status: int = 412, body: Any = None, etag: str | None, current: Attribute | None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.etag = etag
        self.current = current


class RateLimited(CrmError):
    """429 after the retries: the server asks to wait `retry_after` seconds."""

    def __init__(self, message: str, *, status: int = 429, body: Any = None, retry_after: float | None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class ServiceUnavailable(CrmError):
    """503 after the retries (or at once for a non-idempotent request): e.g. the database is unreachable."""

    def __init__(self, message: str, *, status: int = 503, body: Any = None, retry_after: float | None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class ServerError(CrmError):
    """Any other answer the client does not expect (a 5xx, a 413, a 415, …)."""


@dataclass(frozen=True, slots=True)
class BulkItemError:
    """One refused item of a bulk write: `index` into the caller's whole sequence (None: the whole chunk)."""

    index: int | None
    field: str
    message: str
    item: dict[str, Any] | None


class BulkError(CrmError):
    """Some chunks of a bulk write were refused (each all-or-nothing: nothing of a refused chunk was written).

    `errors` lists every refused item of every refused chunk; `stored` holds the results of the chunks that were
    written; `failed_chunks` the (start, end) index ranges that were not.
    """

    def __init__(
        self,
        *,
        errors: list[BulkItemError],
        stored: list[BulkResult],
        failed_chunks: list[tuple[int, int]],
        total: int,
    ) -> None:
        ranges = ", ".join(f"items {start}-{end - 1}" for start, end in failed_chunks)
        listed = "; ".join(
            f"item {e.index}: {e.field}: {e.message}" if e.index is not None else f"{e.field}: {e.message}"
            for e in errors[:20]
        )
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        message = (
            f"{len(errors)} bad item(s) in {len(failed_chunks)} chunk(s) ({ranges}): nothing of those chunks was "
            f"written; the other {len(stored)} of {total} items were stored. {listed}{more}"
        )
        super().__init__(message, status=400)
        self.errors = errors
        self.stored = stored
        self.failed_chunks = failed_chunks
        self.total = total


class JobFailed(CrmError):
    """A job the client waited for failed or was cancelled; `job` is its final state (`job.result`, `job.error`)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.job_id} ({job.kind}) {job.status}: {job.error or 'no error given'}")
        self.job = job
