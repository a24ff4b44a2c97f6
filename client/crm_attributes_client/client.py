"""`Client`: every public endpoint of the CRM's `/crm/` API as a typed method.

from crm_attributes_client import Client
crm = Client()                       # CRM_URL and CRM_TOKEN from the environment
crm.upsert(123, "billing_cycle", "quarterly")
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx

from . import __version__, errors
from ._http import Session, raise_for_answer
from .feed import EventStream
from .models import (
    JSON,
    Attribute,
    BulkResult,
    Customer,
    Delivery,
    Event,
    HistoryRecord,
    ImportPreview,
    Job,
    NameUsage,
    RenameReport,
    UsageReport,
    Webhook,
)
from .registry import Definition, RegistryMixin

# The server's bulk limit (`attributes.services.bulk.BULK_MAX_ITEMS`; a test checks they agree).
BULK_MAX_ITEMS = 1000
PAGE_SIZE = 1000
BulkItem = Mapping[str, Any] | tuple[int, str, str]
Progress = Callable[[Job], None]


def _item(item: BulkItem) -> dict[str, Any]:
    if isinstance(item, tuple):
        customer_id, name, value = item
        return {"customer_id": customer_id, "attribute_name": name, "attribute_value": value}
    return dict(item)


class Client(RegistryMixin):
    """A connection to one CRM. Thread-safe for reads and writes (httpx's connection pool); close it, or use it as a
    context manager, when done.

    - `url`, `token`: default `CRM_URL` (the server's root, e.g. https://crm.example.com) and `CRM_TOKEN`.
    - `timeout`: seconds for connecting and for each read or write of every request (default 10).
    - `retries`: further attempts after a failure worth retrying (default 4); `backoff`: the first wait, doubled
      each time up to `max_backoff`, with jitter; a `Retry-After` longer than `max_retry_after` is not waited for
      (the exception carries it).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = url or os.environ.get("CRM_URL")
        token = token or os.environ.get("CRM_TOKEN")
        if not url:
            raise ValueError("No CRM URL: pass url= or set CRM_URL (e.g. https://crm.example.com).")
        if not token:
            raise ValueError("No API token: pass token= or set CRM_TOKEN (create one on the API tokens page).")
        url = url.rstrip("/")
        self.url = url.removesuffix("/crm")
        self._sleep = sleep
        self._session = Session(
            base_url=f"{self.url}/crm",
            token=token,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            user_agent=f"crm-attributes-client/{__version__} (python-httpx/{httpx.__version__})",
            transport=transport,
            sleep=sleep,
        )

    # -- plumbing --------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._session.attempts

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response, _ = self._session.request(method, path, **kwargs)
        raise_for_answer(response)
        return response

    def _pages(self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]]) -> Iterator[Any]:
        """Every item of a paged list, following `Link: rel="next"` (keyset `after` where the server offers it)."""
        url: str | None = path
        query: Mapping[str, Any] | list[tuple[str, Any]] | None = params
        while url is not None:
            response = self._call("GET", url, params=query)
            yield from response.json()
            following = response.links.get("next", {}).get("url")
            url, query = (self._session.relative(following), None) if following else (None, None)

    # -- attributes ------------------------------------------------------------------------------------------

    def upsert(
        self, customer_id: int, name: str, value: str, *, if_match: str | None = None, create_only: bool = False
    ) -> Attribute:
        """Create the customer's attribute `name`, or set its value (`PUT /crm/attribute/`).

        `create_only=True` refuses to overwrite (PreconditionFailed when the customer has the name);
        `if_match=etag` writes only over that version. A retry whose first attempt did get through, and so meets
        its own write as a 412, returns that write rather than failing.
        """
        headers = {}
        if if_match is not None:
            headers["If-Match"] = if_match
        if create_only:
            headers["If-None-Match"] = "*"
        body = {"customer_id": customer_id, "attribute_name": name, "attribute_value": value}
        response, attempt = self._session.request("PUT", "/attribute/", json=body, headers=headers)
        return self._written(response, attempt, name=name, value=value)

    def _written(self, response: httpx.Response, attempt: int, *, name: str | None, value: str | None) -> Attribute:
        try:
            raise_for_answer(response)
        except errors.PreconditionFailed as stale:
            current = stale.current
            mine = (
                attempt > 0
                and current is not None
                and (name is None or current.attribute_name == name)
                and (value is None or current.attribute_value == value)
            )
            if not mine or current is None:
                raise
            return current
        return Attribute.from_json(response.json(), response.headers.get("ETag"))

    def get(self, attribute_id: int) -> Attribute:
        """One attribute by id, with its `etag`."""
        response = self._call("GET", f"/attribute/attribute_id/{int(attribute_id)}")
        return Attribute.from_json(response.json(), response.headers.get("ETag"))

    def attributes(self, customer_id: int) -> list[Attribute]:
        """All the customer's attributes, sorted by name (NotFound for an unknown customer)."""
        response = self._call("GET", f"/attribute/customer_id/{int(customer_id)}")
        return [Attribute.from_json(a) for a in response.json()]

    def attribute(self, customer_id: int, name: str) -> Attribute | None:
        """The customer's attribute `name` with its `etag` (for `update(…, if_match=…)`), or None if it has none."""
        found = next((a for a in self.attributes(customer_id) if a.attribute_name == name), None)
        return None if found is None else self.get(found.attribute_id)

    def values(self, customer_id: int) -> dict[str, str | None]:
        """The customer's attributes as a `{name: value}` dict (None: a sensitive value the token may not read)."""
        return {a.attribute_name: a.attribute_value for a in self.attributes(customer_id)}

    def update(
        self,
        attribute_id: int,
        *,
        value: str | None = None,
        name: str | None = None,
        if_match: str | None = None,
        confirm: str | None = None,
    ) -> Attribute:
        """Change an attribute's value and/or name (`PATCH`). With `if_match=etag` only that version is changed, and
        the request is retried on lost connections (a second attempt cannot apply twice); without it, it is sent
        once. `confirm` is the current name, needed to rename a protected name away."""
        body: JSON = {}
        if value is not None:
            body["attribute_value"] = value
        if name is not None:
            body["attribute_name"] = name
        headers = {"If-Match": if_match} if if_match is not None else {}
        params = {"confirm": confirm} if confirm is not None else None
        response, attempt = self._session.request(
            "PATCH",
            f"/attribute/attribute_id/{int(attribute_id)}",
            json=body,
            headers=headers,
            params=params,
            idempotent=if_match is not None,
        )
        return self._written(response, attempt, name=name, value=value)

    def delete(self, attribute_id: int, *, if_match: str | None = None, confirm: str | None = None) -> None:
        """Delete an attribute. A retry whose first attempt got through finds it gone (404) and counts as done.
        `confirm` is the attribute's name, needed when the registry marks it protected."""
        headers = {"If-Match": if_match} if if_match is not None else {}
        params = {"confirm": confirm} if confirm is not None else None
        response, attempt = self._session.request(
            "DELETE", f"/attribute/attribute_id/{int(attribute_id)}", headers=headers, params=params
        )
        if attempt > 0 and response.status_code == 404:
            return
        raise_for_answer(response)

    # -- bulk --------------------------------------------------------------------------------------------------

    def bulk_upsert(self, items: Iterable[BulkItem], *, chunk_size: int = BULK_MAX_ITEMS) -> list[BulkResult]:
        """Create or update any number of attributes, `chunk_size` (at most the server's 1000) per request.

        Items are `{"customer_id", "attribute_name", "attribute_value"}` dicts or `(customer_id, name, value)`
        tuples, from any iterable (a generator is read a chunk at a time). Each chunk is all-or-nothing on the
        server. Every chunk is sent; if any was refused, BulkError lists every bad item (its index in `items`,
        field, message) and holds the results of the chunks that were stored. Returns the results in order.
        """
        if not 1 <= chunk_size <= BULK_MAX_ITEMS:
            raise ValueError(f"chunk_size must be 1 to {BULK_MAX_ITEMS} (the server's limit).")
        stored: list[BulkResult] = []
        problems: list[errors.BulkItemError] = []
        failed: list[tuple[int, int]] = []
        iterator = iter(items)
        start = 0
        while chunk := [_item(i) for i in itertools.islice(iterator, chunk_size)]:
            response, _ = self._session.request("PUT", "/attribute/bulk/", json=chunk)
            body = response.json() if response.status_code == 400 else None
            if isinstance(body, dict) and isinstance(body.get("errors"), list):
                failed.append((start, start + len(chunk)))
                for e in body["errors"]:
                    index = e.get("index")
                    problems.append(
                        errors.BulkItemError(
                            index=None if index is None else start + int(index),
                            field=str(e.get("field", "")),
                            message=str(e.get("message", "")),
                            item=None if index is None else chunk[int(index)],
                        )
                    )
            else:
                raise_for_answer(response)
                stored.extend(BulkResult.from_json(r) for r in response.json())
            start += len(chunk)
        if problems:
            raise errors.BulkError(errors=problems, stored=stored, failed_chunks=failed, total=start)
        return stored

    def set_attributes(self, customer_id: int, attributes: Mapping[str, str]) -> list[BulkResult]:
        """Set several attributes of one customer in one request (bulk: all of them or, on an error, none)."""
        return self.bulk_upsert((customer_id, name, value) for name, value in attributes.items())

    # -- search --------------------------------------------------------------------------------------------------

    @staticmethod
    def _filters(
        attribute_name: str | None,
        *,
        value: str | None,
        value_in: Iterable[str] | None,
        value_startswith: str | None,
        value_icontains: str | None,
        exists: bool | None = None,
        all_of: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if attribute_name is not None:
            params.append(("attribute_name", attribute_name))
        if value is not None:
            params.append(("attribute_value", value))
        if value_in is not None:
            values = list(value_in)
            if any("," in v for v in values):
                raise ValueError("value_in cannot hold a comma (the API separates values with commas).")
            params.append(("attribute_value__in", ",".join(values)))
        if value_startswith is not None:
            params.append(("attribute_value__startswith", value_startswith))
        if value_icontains is not None:
            params.append(("attribute_value__icontains", value_icontains))
        if exists is not None:
            params.append(("attribute_exists", "true" if exists else "false"))
        for name, wanted in (all_of or {}).items():
            params.append(("attribute", f"{name}:{wanted}"))
        return params

    def find_customers(
        self,
        attribute_name: str | None = None,
        *,
        value: str | None = None,
        value_in: Iterable[str] | None = None,
        value_startswith: str | None = None,
        value_icontains: str | None = None,
        exists: bool | None = None,
        all_of: Mapping[str, str] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Customer]:
        """Customers by attribute (`GET /crm/customer/`), every page: `find_customers("support_tier",
        value="premium")`, `exists=False` for those lacking the name, `all_of={"a": "1", "b": "2"}` for several."""
        params = self._filters(
            attribute_name,
            value=value,
            value_in=value_in,
            value_startswith=value_startswith,
            value_icontains=value_icontains,
            exists=exists,
            all_of=all_of,
        )
        for data in self._pages("/customer/", [*params, ("limit", str(page_size))]):
            yield Customer.from_json(data)

    def find_attributes(
        self,
        attribute_name: str | None = None,
        *,
        value: str | None = None,
        value_in: Iterable[str] | None = None,
        value_startswith: str | None = None,
        value_icontains: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Attribute]:
        """Attributes across customers (`GET /crm/attribute/`), by id, every page (keyset paging)."""
        params = self._filters(
            attribute_name,
            value=value,
            value_in=value_in,
            value_startswith=value_startswith,
            value_icontains=value_icontains,
        )
        for data in self._pages("/attribute/", [*params, ("limit", str(page_size))]):
            yield Attribute.from_json(data)

    def export_csv(self, *, customer_id: int | None = None, **filters: str) -> str:
        """The CSV export (`customer_id,customer_name,attribute_name,attribute_value,last_modified`): all attributes,
        one customer's, or those of the customers matching the customer search parameters (`attribute_name=…`,
        `attribute_value=…`, …, as the API names them). Needs view_customer too."""
        params: dict[str, Any] = dict(filters)
        if customer_id is not None:
            params["customer_id"] = customer_id
        response = self._call("GET", "/attribute/export/", params=params)
        return response.content.decode("utf-8-sig")

    # -- customers -------------------------------------------------------------------------------------------

    def customers(self, *, page_size: int = PAGE_SIZE) -> Iterator[Customer]:
        """Every customer, by id (keyset pages: any depth costs the same)."""
        for data in self._pages("/customer/", {"limit": page_size}):
            yield Customer.from_json(data)

    def customer(self, customer_id: int) -> Customer:
        return Customer.from_json(self._call("GET", f"/customer/customer_id/{int(customer_id)}").json())

    def create_customer(self, customer_name: str, **fields: str) -> Customer:
        """A new customer (`customer_account_type`, `customer_status`, `email`, `phone`, `notes` optional). Sent once:
        this PUT creates a new customer every time, so a lost answer is not retried (TransportError says so)."""
        body = {"customer_name": customer_name, **fields}
        return Customer.from_json(self._call("PUT", "/customer/", json=body, idempotent=False).json())

    def update_customer(self, customer_id: int, **fields: str) -> Customer:
        """Change some of a customer's fields (absolute values, so retried like a PUT)."""
        path = f"/customer/customer_id/{int(customer_id)}"
        return Customer.from_json(self._call("PATCH", path, json=fields, idempotent=True).json())

    def delete_customer(self, customer_id: int) -> None:
        """Delete a customer and its attributes (a retry that finds it gone counts as done)."""
        response, attempt = self._session.request("DELETE", f"/customer/customer_id/{int(customer_id)}")
        if attempt > 0 and response.status_code == 404:
            return
        raise_for_answer(response)

    # -- history ------------------------------------------------------------------------------------------------

    def history(self, *, customer_id: int | None = None, attribute_id: int | None = None) -> Iterator[HistoryRecord]:
        """Every recorded change, newest first, of a customer's attributes or of one attribute (deleted ones too)."""
        if (customer_id is None) == (attribute_id is None):
            raise ValueError("Give customer_id or attribute_id.")
        path = (
            f"/attribute/customer_id/{int(customer_id)}/history"
            if customer_id is not None
            else f"/attribute/attribute_id/{int(attribute_id or 0)}/history"
        )
        for data in self._pages(path, {"limit": PAGE_SIZE}):
            yield HistoryRecord.from_json(data)

    def restore(self, history_id: int) -> Attribute:
        """Write back the name and value a history entry recorded (a deleted attribute, or an earlier value). Sent
        once: a second restore of an entry could undo a change made in between."""
        response = self._call("POST", f"/attribute/history_id/{int(history_id)}/restore")
        return Attribute.from_json(response.json(), response.headers.get("ETag"))

    # -- usage -------------------------------------------------------------------------------------------------

    def usage(self, *, name_prefix: str = "", limit: int = PAGE_SIZE, offset: int = 0) -> UsageReport:
        """One page of the usage audit (names in use, unused definitions, undefined names, near-duplicates)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if name_prefix:
            params["name_prefix"] = name_prefix
        return UsageReport.from_json(self._call("GET", "/attribute/usage", params=params).json())

    def usage_names(self, *, name_prefix: str = "", page_size: int = PAGE_SIZE) -> Iterator[NameUsage]:
        """Every name in use (starting with `name_prefix`) with its figures, page after page."""
        offset = 0
        while True:
            report = self.usage(name_prefix=name_prefix, limit=page_size, offset=offset)
            yield from report.names
            offset += len(report.names)
            if not report.names or offset >= report.names_count:
                return

    # -- jobs ----------------------------------------------------------------------------------------------------

    def _started(self, response: httpx.Response) -> Job:
        return self.job(str(response.json()["job_id"]))

    def rename_preview(
        self, old_name: str, new_name: str, *, prefer: Literal["old", "new"] | None = None
    ) -> RenameReport:
        """What renaming `old_name` to `new_name` across every customer would do; nothing is written."""
        body = {"old_name": old_name, "new_name": new_name, "prefer": prefer, "dry_run": True}
        response = self._call("POST", "/attribute/rename", json=body, idempotent=True)  # a dry run writes nothing
        return RenameReport.from_json(response.json())

    def rename(
        self,
        old_name: str,
        new_name: str,
        *,
        prefer: Literal["old", "new"] | None = None,
        confirm: str | None = None,
        wait: bool = False,
        progress: Progress | None = None,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> Job:
        """Start the rename (or merge) of a name across every customer as a job; with `wait=True` (or a `progress`
        callback) wait for it to end (JobFailed if it failed: `job.result` is the report)."""
        body = {"old_name": old_name, "new_name": new_name, "prefer": prefer, "dry_run": False, "confirm": confirm}
        job = self._started(self._call("POST", "/attribute/rename", json=body))
        if wait or progress is not None:
            return self.wait(job, progress=progress, poll_interval=poll_interval, timeout=timeout)
        return job

    def import_preview(self, csv_text: str) -> ImportPreview:
        """What importing this CSV (`customer_id,attribute_name,attribute_value`) would do; nothing is written."""
        response = self._call(
            "POST",
            "/attribute/import",
            params={"dry_run": "true"},
            content=csv_text.encode(),
            headers={"Content-Type": "text/csv; charset=utf-8"},
            idempotent=True,
        )
        return ImportPreview.from_json(response.json())

    def import_csv(
        self,
        csv_text: str,
        *,
        wait: bool = False,
        progress: Progress | None = None,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> Job:
        """Start an import job of this CSV text (at most 5 MB); `wait`/`progress` as for `rename`."""
        response = self._call(
            "POST", "/attribute/import", content=csv_text.encode(), headers={"Content-Type": "text/csv; charset=utf-8"}
        )
        job = self._started(response)
        if wait or progress is not None:
            return self.wait(job, progress=progress, poll_interval=poll_interval, timeout=timeout)
        return job

    def job(self, job_id: str) -> Job:
        return Job.from_json(self._call("GET", f"/job/{quote(job_id, safe='')}").json())

    def jobs(self, *, status: str | None = None, kind: str | None = None) -> Iterator[Job]:
        """Your jobs (everyone's with view_all_jobs), newest first."""
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if status is not None:
            params["status"] = status
        if kind is not None:
            params["kind"] = kind
        for data in self._pages("/job/", params):
            yield Job.from_json(data)

    def cancel_job(self, job_id: str) -> Job:
        """Cancel: at once if queued, at the next chunk boundary if running (Conflict if it has ended)."""
        return Job.from_json(self._call("POST", f"/job/{quote(job_id, safe='')}/cancel").json())

    def wait(
        self,
        job: Job | str,
        *,
        progress: Progress | None = None,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> Job:
        """Poll the job until it ends; `progress(job)` is called whenever its status or progress changes. Returns
        the succeeded job; raises JobFailed (failed or cancelled) or TimeoutError after `timeout` seconds."""
        job_id = job if isinstance(job, str) else job.job_id
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[str, int, int | None] | None = None
        while True:
            current = self.job(job_id)
            state = (current.status, current.done, current.total)
            if progress is not None and state != seen:
                progress(current)
            seen = state
            if current.ended:
                if current.status != "succeeded":
                    raise errors.JobFailed(current)
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Job {job_id} still {current.status} after {timeout} s.")
            self._sleep(poll_interval)

    # -- change feed ---------------------------------------------------------------------------------------------

    def events(
        self,
        after: int = 0,
        *,
        limit: int = 100,
        customer_id: int | None = None,
        type: str | None = None,
        attribute_name: str | None = None,
        follow: bool = False,
        poll_interval: float = 1.0,
    ) -> EventStream:
        """The change feed after sequence `after` (see EventStream: store `.position`, resume with it)."""
        filters: dict[str, Any] = {}
        if customer_id is not None:
            filters["customer_id"] = customer_id
        if type is not None:
            filters["type"] = type
        if attribute_name is not None:
            filters["attribute_name"] = attribute_name

        def fetch(cursor: int, params: dict[str, Any]) -> tuple[list[Event], int]:
            page = self._call("GET", "/event/", params={**params, "after": cursor}).json()
            return [Event.from_json(e) for e in page["events"]], int(page["next"])

        return EventStream(
            fetch,
            after=after,
            limit=limit,
            filters=filters,
            follow=follow,
            poll_interval=poll_interval,
            sleep=self._sleep,
        )

    # -- webhooks ------------------------------------------------------------------------------------------------

    def webhooks(self) -> Iterator[Webhook]:
        for data in self._pages("/webhook/", {"limit": PAGE_SIZE}):
            yield Webhook.from_json(data)

    def webhook(self, webhook_id: str) -> Webhook:
        return Webhook.from_json(self._call("GET", f"/webhook/{quote(webhook_id, safe='')}").json())

    def create_webhook(
        self,
        url: str,
        event_types: Iterable[str] = ("*",),
        *,
        attribute_names: Iterable[str] = (),
        description: str = "",
        enabled: bool = True,
    ) -> Webhook:
        """A new endpoint; the result's `secret` (whsec_…) is shown this once: keep it to verify deliveries."""
        body = {
            "url": url,
            "event_types": list(event_types),
            "attribute_names": list(attribute_names),
            "description": description,
            "enabled": enabled,
        }
        return Webhook.from_json(self._call("POST", "/webhook/", json=body).json())

    def update_webhook(self, webhook_id: str, **changes: Any) -> Webhook:
        """Change any of url, description, event_types, attribute_names, enabled (absolute values, so retried)."""
        path = f"/webhook/{quote(webhook_id, safe='')}"
        return Webhook.from_json(self._call("PATCH", path, json=changes, idempotent=True).json())

    def delete_webhook(self, webhook_id: str) -> None:
        response, attempt = self._session.request("DELETE", f"/webhook/{quote(webhook_id, safe='')}")
        if attempt > 0 and response.status_code == 404:
            return
        raise_for_answer(response)

    def rotate_webhook_secret(self, webhook_id: str) -> str:
        """A new secret (the old one keeps signing for 24 hours)."""
        return str(self._call("POST", f"/webhook/{quote(webhook_id, safe='')}/rotate-secret").json()["secret"])

    def test_webhook(self, webhook_id: str) -> Delivery:
        """Send a signed `webhook.test` message now; the delivery with its attempt."""
        return Delivery.from_json(self._call("POST", f"/webhook/{quote(webhook_id, safe='')}/test").json())

    def deliveries(self, webhook_id: str) -> Iterator[Delivery]:
        for data in self._pages(f"/webhook/{quote(webhook_id, safe='')}/deliveries", {"limit": PAGE_SIZE}):
            yield Delivery.from_json(data)

    def retry_delivery(self, webhook_id: str, delivery_id: int) -> Delivery:
        path = f"/webhook/{quote(webhook_id, safe='')}/deliveries/{int(delivery_id)}/retry"
        return Delivery.from_json(self._call("POST", path).json())

    def replay_webhook(self, webhook_id: str, *, after: int) -> Job:
        """Deliver again the kept events after sequence `after` (a job)."""
        response = self._call("POST", f"/webhook/{quote(webhook_id, safe='')}/replay", json={"after": after})
        return self._started(response)


__all__ = ["BULK_MAX_ITEMS", "Client", "Definition"]
