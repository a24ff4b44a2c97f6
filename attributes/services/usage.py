"""Refresh the usage audit's summary (`AttributeNameUsage`, `UsageState`): a periodic job, never the write path.

Writes stay as they were: no counter row that every write to a popular name would lock. Every write path records
history, so the names changed since the last refresh are the history rows' names (and previous names, for
renames) since then, plus the names of deleted customers (`UsageStaleName`: their history goes with them). A
refresh recomputes only those names, each with two queries on that name's rows: one over the
(attribute_name, attribute_value, customer_id) index for customers, distinct values and the most common values,
and `max(last_modified)`. A name nobody has any more is removed. The first refresh (no `UsageState` yet) or
`manage.py refresh_usage --all` recomputes every name. The near-duplicate groups are computed at the end of each
refresh and stored, so no request compares names.

The job ("attributes.refresh_usage") is periodic: the workers' sweeper starts it when the last one finished
USAGE_REFRESH_SECONDS (45) ago, so a write shows in the figures within that, the sweep interval (5 s) and the refresh's
own time: under a minute.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from jobs import engine

from .. import selectors, sensitive
from ..models import Attribute, AttributeDefinition, AttributeNameUsage, UsageStaleName, UsageState

KIND = "attributes.refresh_usage"
CHUNK_NAMES = 200  # names recomputed per transaction (one checkpoint each)

_TABLE = Attribute._meta.db_table
# Grouped by value within one name: an index-only scan of the name's range of attribute_name_value_idx. The
# window totals give customers (one row per customer and name) and distinct values alongside the top rows.
_FIGURES_SQL = f"""
    SELECT attribute_value, n, SUM(n) OVER (), COUNT(*) OVER ()
    FROM (SELECT attribute_value, COUNT(*) AS n FROM {_TABLE} WHERE attribute_name = %s GROUP BY attribute_value) g
    ORDER BY n DESC, attribute_value
    LIMIT {selectors.TOP_VALUES}
"""  # noqa: S608 (the table name is ours; the name is a parameter)


def usage_figures(name: str) -> dict | None:
    """The figures of one name, read now (two queries); None when no customer has it."""
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL, [name])
        rows = cursor.fetchall()
    if not rows:
        return None
    last_modified = (
        Attribute.objects.filter(attribute_name=name)
        .order_by("-last_modified")
        .values_list("last_modified", flat=True)[:1]
    )
    return {
        "customers": int(rows[0][2]),
        "distinct_values": int(rows[0][3]),
        # A sensitive name's most common values are never kept (its tokens would show which customers share one).
        "top_values": []
        if sensitive.name_is_sensitive(name)
        else [[value, int(count)] for value, count, _total, _distinct in rows if not sensitive.is_token(value)],
        "last_modified": last_modified[0] if last_modified else None,
    }


def usage_refresh_names(names: list[str], *, now: datetime) -> int:
    """Recompute the summary rows of these names (removing those nobody has); returns how many remain."""
    kept, gone = [], []
    for name in names:
        figures = usage_figures(name)
        if figures is None or figures["last_modified"] is None:
            gone.append(name)
        else:
            kept.append(AttributeNameUsage(name=name, refreshed_at=now, **figures))
    AttributeNameUsage.objects.filter(name__in=gone).delete()
    AttributeNameUsage.objects.bulk_create(
        kept,
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["customers", "distinct_values", "top_values", "last_modified", "refreshed_at"],
    )
    return len(kept)


def usage_dirty_names(since: datetime | None) -> list[str]:
    """The names whose figures may have changed since `since` (None: every name in use or in the summary), sorted."""
    if since is None:
        names = set(Attribute.objects.order_by().values_list("attribute_name", flat=True).distinct())
        names |= set(AttributeNameUsage.objects.values_list("name", flat=True))
    else:
        changed = (
            Attribute.history.filter(history_date__gte=since)
            .order_by()
            .values_list("attribute_name", "previous_name")
            .distinct()
        )
        names = {name for pair in changed for name in pair if name}
        names |= set(UsageStaleName.objects.values_list("name", flat=True))
    return sorted(names)


def usage_refresh_finish(*, started: datetime) -> UsageState:
    """Store the near-duplicate groups (over names in use and defined) and the refresh's time; drop stale marks."""
    names = set(AttributeNameUsage.objects.values_list("name", flat=True))
    names |= set(AttributeDefinition.objects.values_list("name", flat=True))
    state, _ = UsageState.objects.update_or_create(
        pk=1, defaults={"refreshed_at": started, "near_duplicates": selectors.near_duplicates(names)}
    )
    UsageStaleName.objects.filter(created__lt=started - _overlap()).delete()
    return state


def _overlap() -> timedelta:
    return timedelta(seconds=settings.USAGE_REFRESH_OVERLAP_SECONDS)


@engine.handler(KIND, label="Usage audit refresh", every=settings.USAGE_REFRESH_SECONDS)
def run_refresh(ctx: engine.JobContext) -> dict:
    """Recompute the changed names (every name with params {"full": true}, or on first use) in chunks."""
    checkpoint = ctx.checkpoint
    if checkpoint:
        started, full = datetime.fromisoformat(checkpoint["started"]), checkpoint["full"]
    else:
        started = timezone.now()
        previous = UsageState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
        full = bool(ctx.params.get("full")) or previous is None
    since = None
    if not full:
        previous = UsageState.objects.get(pk=1).refreshed_at
        # Look again at the last few minutes: a transaction may commit history dated before the last refresh.
        since = previous - _overlap()
    after = checkpoint.get("after", "")
    names = [name for name in usage_dirty_names(since) if name > after]
    done = checkpoint.get("done", 0)
    ctx.set_total(done + len(names) + 1)
    for start in range(0, len(names), CHUNK_NAMES):
        batch = names[start : start + CHUNK_NAMES]
        ctx.check()
        with ctx.chunk():
            usage_refresh_names(batch, now=timezone.now())
            done += len(batch)
            ctx.commit(done=done, checkpoint={"started": started.isoformat(), "full": full, "after": batch[-1]})
    with ctx.chunk():
        state = usage_refresh_finish(started=started)
        ctx.commit(done=done + 1, checkpoint={"started": started.isoformat(), "full": full, "after": "\uffff"})
    return {"names": done, "full": full, "near_duplicate_groups": len(state.near_duplicates)}


def usage_refresh(*, full: bool = False) -> dict:
    """Run a refresh here, now (tests, `manage.py refresh_usage`): the same job the workers run."""
    from jobs import runner

    job = engine.start(KIND, params={"full": full} if full else {})
    ran = runner.run(str(job.pk))
    if ran is None or ran.status != ran.Status.SUCCEEDED:
        raise RuntimeError(f"usage refresh did not finish: {getattr(ran, 'error', 'taken by a worker')}")
    return ran.result
