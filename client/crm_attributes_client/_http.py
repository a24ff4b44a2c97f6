"""One request: authentication, timeout, User-Agent, the retry policy, and the server's errors as exceptions.

Retry policy (what may be sent twice without changing what happens):
- A request that never reached the server (connection refused, connect timeout) and a 429 (the throttle answers
  before the endpoint does anything) are retried whatever the method.
- Idempotent requests (GET, PUT of absolute values, DELETE by id) are also retried on a dropped connection, a
  read timeout and a 503, with exponential backoff and jitter, honouring `Retry-After`.
- Other requests (POST, PATCH) whose answer was lost are not retried, since the server may have applied them, unless
  made safe with `If-Match` / `If-None-Match` (a second attempt then fails with 412 instead of applying twice);
  the caller gets a TransportError saying so.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import errors
from .models import Attribute

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE"}
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or invalid."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _detail(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return None


def _field_errors(body: Any) -> dict[str, list[str]]:
    if isinstance(body, dict):
        return {str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)] for k, v in body.items()}
    if isinstance(body, list):
        return {"non_field_errors": [str(m) for m in body]}
    return {"non_field_errors": [str(body)]}


def raise_for_answer(response: httpx.Response) -> None:
    """Raise the exception for an error answer; return for a 2xx."""
    status = response.status_code
    if status < 400:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    detail = _detail(body) or (body if isinstance(body, str) and body else response.reason_phrase)
    where = f"{response.request.method} {response.request.url.path}"
    if status == 400:
        if isinstance(body, dict) and "detail" in body and len(body) == 1:
            field_errors = {"non_field_errors": [str(body["detail"])]}
        else:
            field_errors = _field_errors(body)
        text = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in field_errors.items())
        raise errors.ValidationError(f"{where}: {text}", errors=field_errors, body=body)
    message = f"{where}: {status} {detail}"
    if status == 401:
        raise errors.AuthenticationError(message, status=status, body=body)
    if status == 403:
        raise errors.PermissionDenied(message, status=status, body=body)
    if status == 404:
        raise errors.NotFound(message, status=status, body=body)
    if status == 409:
        raise errors.Conflict(message, body=body, retry_after=retry_after_seconds(response))
    if status == 412:
        current = None
        if isinstance(body, dict) and "attribute_id" in body:
            current = Attribute.from_json(body, response.headers.get("ETag"))
            now = "" if current.attribute_value is None else f" (now {current.attribute_value!r})"
            message = f"{where}: 412 the attribute changed meanwhile{now}"
        raise errors.PreconditionFailed(message, body=body, etag=response.headers.get("ETag"), current=current)
    if status == 429:
        raise errors.RateLimited(message, body=body, retry_after=retry_after_seconds(response))
    if status == 503:
        raise errors.ServiceUnavailable(message, body=body, retry_after=retry_after_seconds(response))
    raise errors.ServerError(message, status=status, body=body)


class Session:
    """The client's HTTP side. `sleep` is injectable so callers can observe waits; it is `time.sleep` by default."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float,
        retries: int,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
        user_agent: str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )
        self.attempts = 0  # requests sent, retries included (for callers that want to see retries happen)

    def close(self) -> None:
        self.http.close()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.0))

    def relative(self, url: str) -> str:
        """A `Link` URL as a path on our base URL: the token is never sent to another origin."""
        parts = urlsplit(url)
        base_path = urlsplit(self.base_url).path.rstrip("/")
        path = parts.path[len(base_path) :] if base_path and parts.path.startswith(base_path) else parts.path
        return f"{path}?{parts.query}" if parts.query else path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> tuple[httpx.Response, int]:
        """Send with the retry policy; returns the answer (2xx, or an error answer not worth retrying) and the
        number of the attempt that got it (0: the first). Raises TransportError when no answer came."""
        retry_unknown = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt = 0
        while True:
            self.attempts += 1
            try:
                response = self.http.request(method, path, params=params, json=json, content=content, headers=headers)
            except httpx.TransportError as error:
                never_sent = isinstance(error, NOT_SENT)
                if attempt < self.retries and (never_sent or retry_unknown):
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                fate = (
                    "it was not sent"
                    if never_sent
                    else "the server may have applied it; not retried, since sending it again could apply it twice"
                    if not retry_unknown
                    else "retries used up"
                )
                raise errors.TransportError(f"{method} {path}: {type(error).__name__}: {error} ({fate})") from error
            status = response.status_code
            if (status == 429 or (status == 503 and retry_unknown)) and attempt < self.retries:
                wait = retry_after_seconds(response)
                wait = self._backoff(attempt) if wait is None else wait
                if wait <= self.max_retry_after:
                    response.close()
                    self.sleep(wait)
                    attempt += 1
                    continue
            return response, attempt
