"""Rename or merge an attribute name across every customer: a dry run answered at once, the rename as a job.

`attribute_rename_all(dry_run=True)` plans from plain reads (no locks) and reports what would change.
`rename_start` checks the same rules and starts the job "attributes.rename", whose handler (`run_rename`):
1. reserves both names (`NameReservation`) and waits for writers already in flight (see `check_names_free`),
   so from then on nobody but the job writes them;
2. plans over every customer: any conflict (both names, different values, no `prefer`) or value that does not
   fit the new name's registry entry refuses the whole rename, and nothing is written (all or nothing);
3. renames in chunks of ATTRIBUTES_RENAME_CHUNK customers in customer_id order, each chunk one transaction that
   locks its customers' rows of both names and commits its rows, their history rows and the job's checkpoint
   together, so a resumed run continues exactly after the last committed chunk;
4. releases the names, whatever the outcome (a crashed run keeps them until its resumed run ends).
Readers may see a rename half done while it runs; the Usage page and the Attributes tab say the names are
being renamed.
"""

import logging
from dataclasses import dataclass, field
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from events import services as events
from jobs import engine, runner
from jobs.models import Job

from .. import history, permissions, registry
from ..models import Attribute, AttributeDefinition, NameReservation
from ..validators import validate_attribute_name
from . import fastinsert
from .common import NameReserved, definitions_for, lost_deadlock

KIND = "attributes.rename"
PREFER = ("old", "new")
RESULT_LIST_MAX = 200  # conflicts and invalid values kept in a job's result
_RACE_RETRIES = 5
logger = logging.getLogger("attributes.rename")


@dataclass
class RenameReport:
    renamed: int = 0  # customers that had only the old name
    merged: int = 0  # customers that had both, with the same value (or a winner was chosen)
    conflicts: list[tuple[int, str, str]] = field(default_factory=list)  # (customer_id, old value, new value)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (customer_id, message) from the new name's rules
    written: bool = False
    job: Job | None = None  # the job that wrote it (not for a dry run)

    @property
    def customers(self) -> int:
        return self.renamed + self.merged + len(self.conflicts) + len(self.invalid)

    def as_result(self, *, old: str, new: str) -> dict:
        """The job's JSON result: counts, and the first RESULT_LIST_MAX conflicts and invalid values."""
        return {
            "old": old,
            "new": new,
            "renamed": self.renamed,
            "merged": self.merged,
            "conflict_count": len(self.conflicts),
            "invalid_count": len(self.invalid),
            "conflicts": [
                {"customer_id": c, "old_value": o, "new_value": n} for c, o, n in self.conflicts[:RESULT_LIST_MAX]
            ],
            "invalid": [{"customer_id": c, "message": m} for c, m in self.invalid[:RESULT_LIST_MAX]],
        }

    @classmethod
    def from_job(cls, job: Job) -> "RenameReport":
        result = job.result or {}
        return cls(
            renamed=result.get("renamed", 0),
            merged=result.get("merged", 0),
            conflicts=[(c["customer_id"], c["old_value"], c["new_value"]) for c in result.get("conflicts", [])],
            invalid=[(i["customer_id"], i["message"]) for i in result.get("invalid", [])],
            written=job.status == Job.Status.SUCCEEDED,
            job=job,
        )


def _checked(*, old: str, new: str, actor, prefer: str | None) -> tuple[str, str]:
    if actor is not None:
        permissions.require_rename_all(actor)
    old, new = old.strip(), new.strip()
    for param, name in (("old", old), ("new", new)):
        try:
            validate_attribute_name(name)
        except ValidationError as error:
            raise ValidationError({param: error.messages}) from None
    if old == new:
        raise ValidationError({"new": "The new name is the same as the old one."})
    if prefer not in (None, *PREFER):
        raise ValidationError({"prefer": "Use old or new."})
    marked = set(AttributeDefinition.objects.filter(name__in=[old, new], sensitive=True).values_list("name", flat=True))
    for param, name in (("old", old), ("new", new)):
        if name in marked:  # its ciphertexts are bound to the name, and a merge would compare hidden values
            raise ValidationError(
                {param: f"“{name}” is sensitive: unmark it in the registry first (its values are decrypted)."},
                code="sensitive",
            )
    return old, new


def attribute_rename_all(
    *,
    old: str,
    new: str,
    actor,
    prefer: str | None = None,
    dry_run: bool = True,
    confirm: str | None = None,
) -> RenameReport:
    """Report what renaming `old` to `new` on every customer would do; where a customer has both, merge them.

    A customer with both names and different values is a conflict: the rename would be refused unless `prefer`
    says which value wins ("old" or "new"). Values moving to `new` must fit its registry entry. Needs the
    registry permission, update and delete (`permissions.require_rename_all`; `actor=None` is trusted system
    code). The dry run reads without locking. `dry_run=False` starts the job (`rename_start`) and runs it to
    its end in this process (commands, trusted code), returning what it did.
    """
    if not dry_run:
        job = rename_start(old=old, new=new, actor=actor, prefer=prefer, confirm=confirm)
        return RenameReport.from_job(runner.run_here(job))
    old, new = _checked(old=old, new=new, actor=actor, prefer=prefer)
    return _plan(old=old, new=new, prefer=prefer)


def rename_start(*, old: str, new: str, actor, prefer: str | None = None, confirm: str | None = None) -> Job:
    """Start the rename job, in the caller's transaction, after the checks `attribute_rename_all` makes.

    Renaming a name the registry marks `protected` away deletes it for every integration, so like a delete it
    needs `confirm` equal to the old name. Refused (NameReserved: 409 in the API) while another rename job that
    is queued or running touches either name.
    """
    old, new = _checked(old=old, new=new, actor=actor, prefer=prefer)
    definition = definitions_for([old]).get(old)
    if definition is not None and definition.protected and confirm != old:
        raise ValidationError(
            {"confirm": f"“{old}” is protected: renaming it removes it from every customer; type its name to confirm."},
            code="protected",
        )
    names = [old, new]
    with transaction.atomic():
        busy = Job.objects.filter(kind=KIND, status__in=Job.ACTIVE).filter(
            Q(params__old__in=names) | Q(params__new__in=names)
        )
        if held := sorted({n for job in busy for n in (job.params["old"], job.params["new"]) if n in names}):
            raise NameReserved(held)
        params = {"old": old, "new": new, "prefer": prefer, "channel": history.CHANNEL.get()}
        user = actor if getattr(actor, "is_authenticated", False) else None
        return engine.start(KIND, params=params, actor=user)


def _plan(*, old: str, new: str, prefer: str | None) -> RenameReport:
    """What the rename would do, from one pass over both names' rows of every customer with `old` (no locks)."""
    definition = definitions_for([new]).get(new)
    report = RenameReport()
    rows = (
        Attribute.objects.filter(
            attribute_name__in=[old, new],
            customer_id__in=Attribute.objects.filter(attribute_name=old).values("customer_id"),
        )
        .order_by("customer_id", "attribute_name")
        .values_list("customer_id", "attribute_name", "attribute_value")
    )
    for customer_id, customer_rows in groupby(rows.iterator(chunk_size=5000), key=lambda row: row[0]):
        values = {name: value for _, name, value in customer_rows}
        old_value, new_value = values[old], values.get(new)
        if new_value is None:
            try:
                registry.check_value(definition, new, old_value)
            except ValidationError as error:
                report.invalid.append((customer_id, error.messages[0]))
            else:
                report.renamed += 1
        elif new_value != old_value and prefer is None:
            report.conflicts.append((customer_id, old_value, new_value))
        else:
            report.merged += 1
    return report


def refusal(report: RenameReport, *, new: str) -> str:
    """Why a rename was refused, in one sentence."""
    reasons = []
    if report.conflicts:
        reasons.append(f"{len(report.conflicts)} customer(s) have both names with different values")
    if report.invalid:
        reasons.append(f"{len(report.invalid)} value(s) do not fit the registry definition of {new}")
    return "; ".join(reasons) + "."


# --- The job ---------------------------------------------------------------------------------------------------


@engine.handler(KIND, label="Rename across customers", result_template="attributes/_rename_job_result.html")
def run_rename(ctx: engine.JobContext) -> dict:
    old, new, prefer = ctx.params["old"], ctx.params["new"], ctx.params.get("prefer")
    try:
        _reserve(ctx.job, [old, new])
        _wait_for_writers()
        with history.write_channel(ctx.params.get("channel") or "system"), events.batch(ctx.job.pk):
            result = _run(ctx, old=old, new=new, prefer=prefer)
    except (engine.Interrupted, engine.LeaseLost, KeyboardInterrupt, SystemExit):
        raise  # the job resumes (here or in another worker) and keeps its names meanwhile
    except Exception:
        _release(ctx.job)  # refused, cancelled or failed: the names are free again
        raise
    _release(ctx.job)
    return result


def _reserve(job: Job, names: list[str]) -> None:
    """Hold both names for `job` (again, on a resumed run); refused if another running rename holds one."""
    with transaction.atomic():
        NameReservation.objects.filter(name__in=names).exclude(job__status__in=Job.ACTIVE).delete()  # left over
        NameReservation.objects.bulk_create(
            [NameReservation(name=name, job=job) for name in sorted(names)], ignore_conflicts=True
        )
        others = sorted(NameReservation.objects.filter(name__in=names).exclude(job=job).values_list("name", flat=True))
    if others:
        raise engine.JobFailed(NameReserved(others).messages[0])


def _release(job: Job) -> None:
    NameReservation.objects.filter(job=job).delete()


def _wait_for_writers() -> None:
    """Wait for every write transaction already in flight on attributes, then let writers go on.

    Each of them either wrote before this point (and has committed, so the plan and the chunks see its row) or
    checks the reservation after its write and rolls back. SQLite runs one write transaction at a time anyway.
    """
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Attribute._meta.db_table)} IN SHARE MODE")


def _run(ctx: engine.JobContext, *, old: str, new: str, prefer: str | None) -> dict:
    if "after" not in ctx.checkpoint:  # a resumed run planned already, and nobody wrote the names since
        plan = _plan(old=old, new=new, prefer=prefer)
        if plan.conflicts or plan.invalid:
            message = f"Nothing was renamed: {refusal(plan, new=new)}"
            raise engine.JobFailed(message, result=plan.as_result(old=old, new=new))
        ctx.set_total(plan.customers)
    after, done = ctx.checkpoint.get("after", 0), ctx.job.done
    totals = RenameReport.from_job(ctx.job) if ctx.job.result else RenameReport()
    definition = definitions_for([new]).get(new)
    actor, size = ctx.job.created_by, settings.ATTRIBUTES_RENAME_CHUNK
    while True:
        ctx.check()
        for attempt in range(_RACE_RETRIES):
            try:
                with ctx.chunk():
                    ids = list(
                        Attribute.objects.filter(attribute_name=old, customer_id__gt=after)
                        .order_by("customer_id")
                        .values_list("customer_id", flat=True)[:size]
                    )
                    if not ids:
                        break
                    chunk = _rename_chunk(ids, old=old, new=new, prefer=prefer, actor=actor, definition=definition)
                    so_far = RenameReport(
                        renamed=totals.renamed + chunk.renamed,
                        merged=totals.merged + chunk.merged,
                        conflicts=totals.conflicts + chunk.conflicts,
                        invalid=totals.invalid + chunk.invalid,
                    )
                    ctx.commit(
                        done=done + len(ids),
                        total=max(ctx.job.total or 0, done + len(ids)),
                        checkpoint={"after": ids[-1]},
                        result=so_far.as_result(old=old, new=new),
                    )
                totals = so_far
            except (IntegrityError, OperationalError) as error:
                # A writer outside the services (no reservation check) raced this chunk: run the chunk again.
                if isinstance(error, OperationalError) and not lost_deadlock(error) or attempt == _RACE_RETRIES - 1:
                    raise
                continue
            break
        if not ids:
            return totals.as_result(old=old, new=new)
        after, done = ids[-1], done + len(ids)
        logger.info("rename %s -> %s: %s of %s customers", old, new, done, ctx.job.total)


@dataclass
class _Changes:
    renamed: list = field(default_factory=list)
    value_changed: list = field(default_factory=list)
    deleted: list = field(default_factory=list)


def _merge(attribute: Attribute, target: Attribute, *, prefer, actor, now, report: RenameReport, changes) -> None:
    """`attribute` (old name) goes into `target` (new name) of the same customer, by the conflict rules."""
    if target.attribute_value != attribute.attribute_value:
        if prefer is None:
            report.conflicts.append((attribute.customer_id, attribute.attribute_value, target.attribute_value))
            return
        if prefer == "old":
            history.mark(target, actor=actor, operation="merge", previous_value=target.attribute_value)
            target.attribute_value, target.last_modified = attribute.attribute_value, now
            changes.value_changed.append(target)
    history.mark(attribute, actor=actor, operation="merge")
    changes.deleted.append(attribute)
    report.merged += 1


def _rename_chunk(ids: list[int], *, old: str, new: str, prefer, actor, definition) -> RenameReport:
    """Rename or merge `old` on the customers `ids`, inside the chunk's transaction, with history rows.

    Both names' rows of these customers are locked in one statement in the global order of all many-row writes
    (customer_id, attribute_name). A customer that (against the plan) has a conflict or an invalid value keeps
    both rows and is reported.
    """
    locked = list(
        Attribute.objects.select_for_update()
        .filter(attribute_name__in=[old, new], customer_id__in=ids)
        .order_by("customer_id", "attribute_name")
    )
    olds = [a for a in locked if a.attribute_name == old]
    news = {a.customer_id: a for a in locked if a.attribute_name == new}
    now = timezone.now()
    report, changes = RenameReport(), _Changes()
    for attribute in olds:
        target = news.get(attribute.customer_id)
        if target is not None:
            _merge(attribute, target, prefer=prefer, actor=actor, now=now, report=report, changes=changes)
            continue
        try:
            registry.check_value(definition, new, attribute.attribute_value)
        except ValidationError as error:
            report.invalid.append((attribute.customer_id, error.messages[0]))
            continue
        changes.renamed.append(attribute)
        report.renamed += 1
    renamed = _move(changes, old=old, new=new, prefer=prefer, actor=actor, now=now, report=report)
    for attribute in changes.deleted:  # one by one: simple-history records each delete with the marks set
        attribute.delete()
    fastinsert.update_rows(
        Attribute, sorted(changes.value_changed, key=lambda a: a.pk), ["attribute_value", "last_modified"]
    )
    history.record_bulk([(a, "~") for a in renamed] + [(a, "~") for a in changes.value_changed], actor=actor)
    report.written = True
    return report


def _move(changes: _Changes, *, old: str, new: str, prefer, actor, now, report: RenameReport) -> list[Attribute]:
    """Rename the planned rows to `new`, 1000 to a statement; returns those renamed.

    Every row gets the same name and time, so a plain `UPDATE … WHERE pk IN (…)` does it (`bulk_update`'s
    per-row CASE took 0.75 of a 1000-row chunk's 0.84 s, nearly all in building the expression: cProfile).

    A customer may have got `new` after the rows were locked (a writer outside the services, which do not write
    reserved names). The statement then fails on the unique constraint; the batch is retried row by row, and a
    row whose target now exists is merged into it (locked first) by the usual rules.
    """
    moved = []
    for start in range(0, len(changes.renamed), 1000):
        batch = changes.renamed[start : start + 1000]
        for attribute in batch:
            attribute.attribute_name, attribute.last_modified = new, now
        try:
            with transaction.atomic():
                Attribute.objects.filter(pk__in=[a.pk for a in batch]).update(attribute_name=new, last_modified=now)
        except IntegrityError:
            pass
        else:
            moved.extend(batch)
            continue
        for attribute in batch:
            if _move_one(attribute, new=new, now=now):
                moved.append(attribute)
                continue
            attribute.attribute_name = old  # it stays old until it is deleted in the merge
            report.renamed -= 1
            target = Attribute.objects.select_for_update().get(customer_id=attribute.customer_id, attribute_name=new)
            _merge(attribute, target, prefer=prefer, actor=actor, now=now, report=report, changes=changes)
    for attribute in moved:
        history.mark(attribute, actor=actor, operation="rename_all", previous_name=old)
    return moved


def _move_one(attribute: Attribute, *, new: str, now) -> bool:
    """Rename one row; False when the customer has `new` now (then locked by us: it stays until we commit)."""
    for _attempt in range(_RACE_RETRIES):
        try:
            with transaction.atomic():
                Attribute.objects.filter(pk=attribute.pk).update(attribute_name=new, last_modified=now)
        except IntegrityError:
            # Lock the row in the way; if it was deleted meanwhile, the name is free again: try once more.
            if Attribute.objects.select_for_update().filter(customer_id=attribute.customer_id, attribute_name=new):
                return False
        else:
            return True
    raise IntegrityError(f"“{new}” keeps appearing and disappearing on customer {attribute.customer_id}")
