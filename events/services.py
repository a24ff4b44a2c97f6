"""Writing, numbering and pruning change events.

- `event_rows` builds the outbox rows; the caller (the attribute history recorder) inserts them inside the
  transaction of the change, so a rolled-back write leaves no event and a committed one always has its events.
- `events_sequence` numbers committed rows (see its docstring for why numbers are not given at insert).
- `events_prune` deletes events older than EVENT_RETENTION_DAYS in batches; a periodic job runs both.
"""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm_project import requestid
from jobs import engine

from .models import Event, Sequencer

BATCH = ContextVar("event_batch_id", default=None)
SEQUENCE_BATCH = 10000
PRUNE_BATCH = 5000
PRUNE_KIND = "events.maintain"
COLUMNS = [
    "event_id", "type", "occurred_at", "customer_id", "attribute_id", "attribute_name", "attribute_value",
    "previous_name", "previous_value", "actor_username", "channel", "token_name", "batch_id", "request_id",
]  # fmt: skip


@contextmanager
def batch(batch_id: uuid.UUID | str | None = None) -> Iterator[uuid.UUID]:
    """Events recorded inside this block carry `batch_id` (a bulk request, a job); a new id if none is given."""
    value = uuid.UUID(str(batch_id)) if batch_id else uuid.uuid4()
    reset = BATCH.set(value)
    try:
        yield value
    finally:
        BATCH.reset(reset)


@dataclass(frozen=True, slots=True)
class Change:
    """What changed, in plain values: `kind` is "+", "~" or "-" (created, changed, deleted)."""

    kind: str
    occurred_at: datetime
    customer_id: int
    attribute_id: int
    attribute_name: str
    attribute_value: str
    previous_name: str = ""
    previous_value: str = ""

    @property
    def type(self) -> str:
        if self.kind == "+":
            return Event.Type.CREATED
        if self.kind == "-":
            return Event.Type.DELETED
        return Event.Type.RENAMED if self.previous_name else Event.Type.UPDATED


def event_rows(changes: Sequence[Change], *, username: str, channel: str, token_name: str) -> list[tuple]:
    """The outbox rows (in the order of COLUMNS) for `changes`: the caller inserts them in the change's
    transaction (attributes/history.py, with its multi-row insert helper)."""
    batch = BATCH.get()
    batch_id = batch.hex if batch else None  # hex: what both databases take for a uuid (SQLite stores it so)
    request_id = requestid.current()
    return [
        (
            uuid.uuid4().hex, c.type, c.occurred_at, c.customer_id, c.attribute_id, c.attribute_name, c.attribute_value,
            c.previous_name, c.previous_value, username, channel, token_name, batch_id, request_id,
        )
        for c in changes
    ]  # fmt: skip


def events_sequence(*, limit: int = SEQUENCE_BATCH) -> int:
    """Give committed, unnumbered events their sequence numbers, in insertion order; returns how many.

    Why not number at insert: a number allocated inside a transaction becomes visible at its commit, and
    transactions commit in any order. A reader that saw 11 (committed) would later skip 10 (allocated earlier,
    committed later). So writers insert events unnumbered, and this sequencer numbers only rows that have
    committed. Runs are serialised by the lock on the one `Sequencer` row (PostgreSQL: `FOR UPDATE SKIP
    LOCKED`, so a second sequencer returns at once instead of queueing; SQLite: BEGIN IMMEDIATE serialises it
    with every writer). Each run commits its numbers together, above the previous run's, and after taking the
    lock it sees every row the previous run numbered (READ COMMITTED takes a new snapshot per statement). So
    once a reader sees number N, every number below N is already visible: readers that ask for
    `sequence > last seen` never miss or reorder an event. Rows of transactions still open are simply numbered
    by a later run. Called by the change feed before it reads, by the webhook dispatcher and by the periodic
    maintenance job.
    """
    if not Event.objects.filter(sequence__isnull=True).exists():
        return 0  # nothing committed is waiting (a cheap look at the partial index; no lock taken)
    with transaction.atomic():
        locked = Sequencer.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if locked is None:
            if Sequencer.objects.filter(pk=1).exists():
                return 0  # another sequencer holds it; its numbers will be visible when it commits
            try:
                with transaction.atomic():
                    locked = Sequencer.objects.create(pk=1, last=0)  # the first run ever; we hold the new row
            except IntegrityError:
                return 0  # another first run created it at the same moment
        table = connection.ops.quote_name(Event._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET sequence = numbered.seq FROM ("
                f" SELECT id, %s + ROW_NUMBER() OVER (ORDER BY id) AS seq FROM {table}"
                f" WHERE sequence IS NULL ORDER BY id LIMIT %s"
                f") AS numbered WHERE {table}.id = numbered.id",
                [locked.last, limit],
            )
            numbered = cursor.rowcount
        if numbered:
            Sequencer.objects.filter(pk=1).update(last=locked.last + numbered)
    return numbered


def last_sequence() -> int:
    """The highest number handed out so far (0 before the first event)."""
    return Sequencer.objects.filter(pk=1).values_list("last", flat=True).first() or 0


def retention_cutoff(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)


def events_prune(*, older_than: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete numbered events that occurred before `older_than`, `batch` rows per transaction; returns how many."""
    deleted = 0
    old = Event.objects.filter(occurred_at__lt=older_than, sequence__isnull=False)
    while True:
        with transaction.atomic():
            ids = list(old.order_by("occurred_at", "id").values_list("id", flat=True)[:batch])
            if not ids:
                break
            count, _ = Event.objects.filter(id__in=ids).delete()
        deleted += count
        if len(ids) < batch:
            break
    return deleted


@engine.handler(PRUNE_KIND, label="Change events upkeep", every=settings.EVENT_MAINTAIN_SECONDS)
def run_maintain(ctx: engine.JobContext) -> dict:
    """Number what nobody has read yet, then prune events past their retention."""
    numbered = 0
    while count := events_sequence():
        numbered += count
        ctx.check()
    return {"numbered": numbered, "pruned": events_prune(older_than=retention_cutoff())}
