"""Typed results: frozen dataclasses built from the API's JSON, field names exactly as the API spells them.

Timestamps of attributes, customers, history and jobs are the specification's "2025-01-04 10:30:00" in the server's
TIME_ZONE (naive `datetime`s); events and webhooks carry ISO 8601 with an offset (aware `datetime`s).

A value of a name the registry marks sensitive is None, with `sensitive=True`, wherever the caller may not read it
(and always in history and events): never a placeholder string that could be mistaken for the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

JSON = dict[str, Any]
WriteResult = Literal["created", "updated", "unchanged"]


def _time(raw: Any) -> datetime:
    return datetime.fromisoformat(str(raw))


def _maybe_time(raw: Any) -> datetime | None:
    return None if raw is None else _time(raw)


def _maybe_str(raw: Any) -> str | None:
    return None if raw is None else str(raw)


@dataclass(frozen=True, slots=True)
class Attribute:
    attribute_id: int
    customer_id: int
    attribute_name: str
    attribute_value: str | None  # None: a sensitive value the caller may not read
    created: datetime
    last_modified: datetime
    etag: str | None = None  # the version to pass as `if_match`; set on single-attribute answers
    sensitive: bool = False  # the registry marks the name sensitive (stored encrypted, masked for most readers)

    @classmethod
    def from_json(cls, data: JSON, etag: str | None = None) -> Attribute:
        return cls(
            attribute_id=int(data["attribute_id"]),
            customer_id=int(data["customer_id"]),
            attribute_name=str(data["attribute_name"]),
            attribute_value=_maybe_str(data["attribute_value"]),
            created=_time(data["created"]),
            last_modified=_time(data["last_modified"]),
            etag=etag,
            sensitive=bool(data.get("sensitive", False)),
        )


@dataclass(frozen=True, slots=True)
class BulkResult:
    attribute: Attribute
    result: WriteResult

    @classmethod
    def from_json(cls, data: JSON) -> BulkResult:
        return cls(attribute=Attribute.from_json(data), result=data["result"])


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: int
    customer_name: str
    customer_account_type: str
    customer_status: str
    email: str
    phone: str
    notes: str
    created: datetime
    last_modified: datetime

    @classmethod
    def from_json(cls, data: JSON) -> Customer:
        return cls(
            customer_id=int(data["customer_id"]),
            customer_name=str(data["customer_name"]),
            customer_account_type=str(data.get("customer_account_type") or ""),
            customer_status=str(data.get("customer_status") or ""),
            email=str(data.get("email") or ""),
            phone=str(data.get("phone") or ""),
            notes=str(data.get("notes") or ""),
            created=_time(data["created"]),
            last_modified=_time(data["last_modified"]),
        )


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    history_id: int
    attribute_id: int
    customer_id: int
    action: Literal["created", "updated", "deleted"]
    operation: str
    attribute_name: str
    attribute_value: str | None  # None for a sensitive value (history never carries it)
    previous_name: str
    previous_value: str | None
    changed_at: datetime
    changed_by: str
    token_name: str
    channel: str
    sensitive: bool = False

    @classmethod
    def from_json(cls, data: JSON) -> HistoryRecord:
        return cls(
            history_id=int(data["history_id"]),
            attribute_id=int(data["attribute_id"]),
            customer_id=int(data["customer_id"]),
            action=data["action"],
            operation=str(data["operation"]),
            attribute_name=str(data["attribute_name"]),
            attribute_value=_maybe_str(data["attribute_value"]),
            previous_name=str(data["previous_name"]),
            previous_value=_maybe_str(data["previous_value"]),
            changed_at=_time(data["changed_at"]),
            changed_by=str(data["changed_by"]),
            token_name=str(data["token_name"]),
            channel=str(data["channel"]),
            sensitive=bool(data.get("sensitive", False)),
        )


@dataclass(frozen=True, slots=True)
class EventData:
    attribute_id: int
    attribute_name: str
    attribute_value: str | None  # None for a sensitive value (events never carry it)
    previous_name: str
    previous_value: str | None
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class EventActor:
    username: str
    channel: str
    token_name: str


@dataclass(frozen=True, slots=True)
class Event:
    """A change event of the feed (`GET /crm/event/`) and of webhooks."""

    event_id: str
    type: str  # attribute.created, attribute.updated, attribute.deleted, attribute.renamed
    sequence: int
    occurred_at: datetime
    customer_id: int
    data: EventData
    actor: EventActor
    batch_id: str | None

    @classmethod
    def from_json(cls, data: JSON) -> Event:
        payload, actor = data["data"], data["actor"]
        return cls(
            event_id=str(data["event_id"]),
            type=str(data["type"]),
            sequence=int(data["sequence"]),
            occurred_at=_time(data["occurred_at"]),
            customer_id=int(data["customer_id"]),
            data=EventData(
                attribute_id=int(payload["attribute_id"]),
                attribute_name=str(payload["attribute_name"]),
                attribute_value=_maybe_str(payload["attribute_value"]),
                previous_name=str(payload["previous_name"]),
                previous_value=_maybe_str(payload["previous_value"]),
                sensitive=bool(payload.get("sensitive", False)),
            ),
            actor=EventActor(
                username=str(actor["username"]), channel=str(actor["channel"]), token_name=str(actor["token_name"])
            ),
            batch_id=None if data.get("batch_id") is None else str(data["batch_id"]),
        )


JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    kind: str
    status: JobStatus
    done: int
    total: int | None
    result: Any
    error: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None

    @property
    def ended(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @classmethod
    def from_json(cls, data: JSON) -> Job:
        progress = data["progress"]
        return cls(
            job_id=str(data["job_id"]),
            kind=str(data["kind"]),
            status=data["status"],
            done=int(progress["done"]),
            total=None if progress["total"] is None else int(progress["total"]),
            result=data["result"],
            error=data["error"],
            created=_time(data["created"]),
            started=_maybe_time(data["started"]),
            finished=_maybe_time(data["finished"]),
        )


@dataclass(frozen=True, slots=True)
class RenameConflict:
    customer_id: int
    old_value: str
    new_value: str


@dataclass(frozen=True, slots=True)
class RenameInvalid:
    customer_id: int
    message: str


@dataclass(frozen=True, slots=True)
class RenameReport:
    """What a rename would do (its dry run)."""

    old_name: str
    new_name: str
    renamed: int
    merged: int
    conflict_count: int
    invalid_count: int
    conflicts: list[RenameConflict]
    invalid: list[RenameInvalid]

    @classmethod
    def from_json(cls, data: JSON) -> RenameReport:
        return cls(
            old_name=str(data["old_name"]),
            new_name=str(data["new_name"]),
            renamed=int(data["renamed"]),
            merged=int(data["merged"]),
            conflict_count=int(data["conflict_count"]),
            invalid_count=int(data["invalid_count"]),
            conflicts=[
                RenameConflict(int(c["customer_id"]), c["old_value"], c["new_value"]) for c in data["conflicts"]
            ],
            invalid=[RenameInvalid(int(i["customer_id"]), i["message"]) for i in data["invalid"]],
        )


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What an import would do (its dry run); with any `rejected` row the import writes nothing."""

    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]

    @classmethod
    def from_json(cls, data: JSON) -> ImportPreview:
        return cls(
            created=int(data["created"]),
            updated=int(data["updated"]),
            unchanged=int(data["unchanged"]),
            rejected=[RejectedRow(int(r["line"]), r["field"], r["message"]) for r in data["rejected"]],
        )


@dataclass(frozen=True, slots=True)
class NameUsage:
    attribute_name: str
    customers: int
    distinct_values: int
    top_values: list[tuple[str, int]]
    last_modified: datetime
    defined: bool
    description: str

    @classmethod
    def from_json(cls, data: JSON) -> NameUsage:
        return cls(
            attribute_name=str(data["attribute_name"]),
            customers=int(data["customers"]),
            distinct_values=int(data["distinct_values"]),
            top_values=[(str(t["value"]), int(t["count"])) for t in data["top_values"]],
            last_modified=_time(data["last_modified"]),
            defined=bool(data["defined"]),
            description=str(data["description"]),
        )


@dataclass(frozen=True, slots=True)
class UsageReport:
    """One page of the usage audit; the figures are as of `as_of` (a background refresh about every minute)."""

    names: list[NameUsage]
    unused_definitions: list[tuple[str, str]]  # (name, description)
    undefined_names: list[str]
    near_duplicates: list[list[str]]
    as_of: datetime | None
    names_count: int
    unused_definitions_count: int
    undefined_names_count: int
    near_duplicates_count: int

    @classmethod
    def from_json(cls, data: JSON) -> UsageReport:
        return cls(
            names=[NameUsage.from_json(n) for n in data["names"]],
            unused_definitions=[(str(d["attribute_name"]), str(d["description"])) for d in data["unused_definitions"]],
            undefined_names=[str(n) for n in data["undefined_names"]],
            near_duplicates=[[str(n) for n in group] for group in data["near_duplicates"]],
            as_of=_maybe_time(data["as_of"]),
            names_count=int(data["names_count"]),
            unused_definitions_count=int(data["unused_definitions_count"]),
            undefined_names_count=int(data["undefined_names_count"]),
            near_duplicates_count=int(data["near_duplicates_count"]),
        )


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    url: str
    description: str
    event_types: list[str]
    attribute_names: list[str]
    enabled: bool
    disabled_reason: str
    health: str  # healthy, failing or disabled
    failing_since: datetime | None
    last_success: datetime | None
    created: datetime
    last_modified: datetime
    secret: str | None = None  # only in the answer that created it

    @classmethod
    def from_json(cls, data: JSON) -> Webhook:
        return cls(
            webhook_id=str(data["webhook_id"]),
            url=str(data["url"]),
            description=str(data["description"]),
            event_types=list(data["event_types"]),
            attribute_names=list(data["attribute_names"]),
            enabled=bool(data["enabled"]),
            disabled_reason=str(data["disabled_reason"] or ""),
            health=str(data["health"]),
            failing_since=_maybe_time(data["failing_since"]),
            last_success=_maybe_time(data["last_success"]),
            created=_time(data["created"]),
            last_modified=_time(data["last_modified"]),
            secret=data.get("secret"),
        )


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: int
    message_id: str
    event_type: str
    sequence: int | None
    customer_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    attempt_log: list[DeliveryAttempt]

    @classmethod
    def from_json(cls, data: JSON) -> Delivery:
        return cls(
            delivery_id=int(data["delivery_id"]),
            message_id=str(data["message_id"]),
            event_type=str(data["event_type"]),
            sequence=data["sequence"],
            customer_id=data["customer_id"],
            status=str(data["status"]),
            attempts=int(data["attempts"]),
            next_attempt_at=_maybe_time(data["next_attempt_at"]),
            attempt_log=[
                DeliveryAttempt(_time(a["at"]), a["status_code"], int(a["duration_ms"]), str(a["error"]))
                for a in data["attempt_log"]
            ],
        )


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """A verified webhook delivery: `type` (e.g. attribute.updated, webhook.test), `timestamp`, and `data` (the event
    as JSON; `event` parses it for attribute events)."""

    message_id: str
    type: str
    timestamp: str
    data: JSON

    @property
    def event(self) -> Event:
        return Event.from_json(self.data)


@dataclass(frozen=True, slots=True)
class Reveal:
    """One read of a sensitive value in plain (the reveal log)."""

    reveal_id: int
    at: datetime
    username: str
    token_name: str
    customer_id: int
    attribute_name: str
    channel: str

    @classmethod
    def from_json(cls, data: JSON) -> Reveal:
        return cls(
            reveal_id=int(data["reveal_id"]),
            at=_time(data["at"]),
            username=str(data["username"]),
            token_name=str(data["token_name"]),
            customer_id=int(data["customer_id"]),
            attribute_name=str(data["attribute_name"]),
            channel=str(data["channel"]),
        )
