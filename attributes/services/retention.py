"""Attribute history retention: delete history rows older than a cutoff, in bounded batches."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ..models import Attribute

PRUNE_BATCH = 5000


@dataclass
class PruneReport:
    cutoff: datetime
    deleted: int  # rows deleted (with dry_run: rows that would be)
    batches: int


def history_cutoff(days: int, *, now: datetime | None = None) -> datetime:
    """The moment before which history rows are older than `days` days."""
    if days < 1:
        raise ValueError("Retention must be at least one day.")
    return (now or timezone.now()) - timedelta(days=days)


def history_prune(
    *,
    older_than: datetime,
    batch: int = PRUNE_BATCH,
    dry_run: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> PruneReport:
    """Delete every attribute history row with `history_date < older_than`, `batch` rows per transaction.

    Each batch picks the oldest rows by the `history_date` index and deletes them by primary key in its own
    transaction, so locks are held for one batch only, a stop loses at most the batch in hand, and a rerun goes
    on where it stopped. The cutoff is fixed at the start: rows written meanwhile are never touched. `on_batch`
    gets (rows in this batch, rows so far) after each commit. With `dry_run` it only counts the rows.
    """
    if batch < 1:
        raise ValueError("The batch size must be at least 1.")
    old = Attribute.history.filter(history_date__lt=older_than)
    if dry_run:
        return PruneReport(cutoff=older_than, deleted=old.count(), batches=0)
    deleted = batches = 0
    while True:
        with transaction.atomic():
            ids = list(old.order_by("history_date", "history_id").values_list("history_id", flat=True)[:batch])
            if not ids:
                break
            count, _ = Attribute.history.filter(history_id__in=ids).delete()
        deleted, batches = deleted + count, batches + 1
        if on_batch is not None:
            on_batch(count, deleted)
        if len(ids) < batch:
            break
    return PruneReport(cutoff=older_than, deleted=deleted, batches=batches)
