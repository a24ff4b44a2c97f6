"""CSV import as a background job ("attributes.import"): the one write path of the page, the API and the command.

`import_start` checks the actor's permissions and the file's header, then records the job (the CSV text is its
payload) in the caller's transaction. The handler, in a worker:

1. Validates every row exactly as the dry-run preview does (`attribute_import(dry_run=True)`: the same rejects,
   line numbers and messages). Any rejected row fails the job with the report, and nothing is written: for
   validation an import stays all or nothing.
2. Writes the rows in (customer_id, attribute_name) order, the one global order of every bulk write, in chunks of
   at most ATTRIBUTES_IMPORT_CHUNK rows from the checkpoint `{"row": n}`. Each chunk is one transaction through
   the bulk upsert (`INSERT … ON CONFLICT`, history rows with operation "import") that also commits the job's
   progress, checkpoint and counts, so a crashed run resumes exactly where its last chunk committed: no row or
   history row lost or doubled. A cancel stops it between chunks, and the result says what was written.

Between the validation and a chunk, others may write: a chunk checks its rows again just before writing them.
A row that is no longer valid (its customer was deleted, the registry now refuses its value, a rename job holds
its name) is not written and is listed in the result under "skipped" with its line and reason; the other rows
of the chunk are written. A value someone else changed meanwhile is simply overwritten by the file's (the
import is a write like any other; "updated" counts it). Never a half-written chunk, never a crash of the job.
"""

import csv
import io
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError

from events import services as events
from jobs import engine
from jobs.models import Job

from .. import csvio, history
from ..permissions import Action
from .bulk import _RACE_RETRIES, ImportReport, ItemError, Row, _validate_items, _write, attribute_import
from .common import authorize, lost_deadlock

KIND = "attributes.import"
OPERATION = "import"


def import_authorize(actor) -> None:
    """An import creates and updates: both permissions, whatever the file holds (as the page has always asked)."""
    authorize(actor, Action.CREATE)
    authorize(actor, Action.UPDATE)


def _rows(text: str) -> list[Row]:
    try:
        return list(csvio.read_rows(io.StringIO(text, newline="")))
    except csv.Error as error:  # e.g. a NUL byte or an oversized field: raised while reading, not wrapped
        raise csvio.CsvFormatError(f"The file is not valid CSV: {error}.") from None


def check_header(text: str) -> None:
    """Raise CsvFormatError unless the text starts with a header naming the import's columns."""
    try:
        next(iter(csvio.read_rows(io.StringIO(text, newline=""))), None)
    except csv.Error as error:
        raise csvio.CsvFormatError(f"The file is not valid CSV: {error}.") from None


def import_start(*, text: str, actor, filename: str = "", chunk_size: int | None = None) -> Job:
    """Start importing CSV `text` as a job, in the caller's transaction; returns the queued Job.

    Needs create and update permission (checked again when the job runs). A text without the needed header raises
    CsvFormatError and starts nothing; every other check of the rows is the job's. `actor=None` is the system.
    """
    import_authorize(actor)
    check_header(text)
    user = actor if getattr(actor, "is_authenticated", False) else None
    params = {
        "filename": filename,
        "actor_id": user.pk if user is not None else None,
        # Where the write came from, for history: the worker records what the request (or command) would have.
        "channel": history.CHANNEL.get(),
        "token_name": history.token_name(),
    }
    if chunk_size is not None:
        params["chunk_size"] = chunk_size
    return engine.start(KIND, params=params, payload=text, actor=user)


def report_json(report: ImportReport, *, filename: str) -> dict:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": [_error_json(error) for error in report.rejected],
        "skipped": [],
        "filename": filename,
    }


def _error_json(error: ItemError) -> dict:
    return {"line": error.index, "field": error.field, "message": error.message}


def _actor(params: dict):
    if params.get("actor_id") is None:
        return None  # started by the system (a command without --user)
    user = get_user_model().objects.filter(pk=params["actor_id"]).first()
    if user is None:
        raise engine.JobFailed("The user who started this import no longer exists; nothing more was imported.")
    return user


def _sort_key(row: Row) -> tuple[int, str]:
    _, customer_id, name, _ = row
    return (customer_id, name.strip())  # every row passed validation: customer_id is an int, name a string


@engine.handler(KIND, label="CSV import", result_template="attributes/_import_job_result.html")
def run_import_job(ctx: engine.JobContext) -> dict:
    try:
        result = _run_import_job(ctx)
    except (engine.Interrupted, engine.LeaseLost, KeyboardInterrupt, SystemExit):
        raise  # resumed later: it needs its file
    except BaseException:
        _forget_sensitive_payload(ctx)  # failed, refused or cancelled: it has ended
        raise
    _forget_sensitive_payload(ctx)
    return result


def _forget_sensitive_payload(ctx: engine.JobContext) -> None:
    """A file with values of sensitive names is not kept once the job has ended (it holds them in plain)."""
    from ..models import AttributeDefinition

    try:
        names = {row[2].strip() for row in _rows(ctx.payload) if isinstance(row[2], str)}
    except csvio.CsvFormatError:
        return
    if AttributeDefinition.objects.filter(name__in=names, sensitive=True).exists():
        Job.objects.filter(pk=ctx.job.pk).update(payload="")


def _run_import_job(ctx: engine.JobContext) -> dict:
    params = ctx.params
    filename = params.get("filename", "")
    chunk_size = params.get("chunk_size") or settings.ATTRIBUTES_IMPORT_CHUNK
    actor = _actor(params)
    origin = SimpleNamespace(auth=SimpleNamespace(name=params.get("token_name", "")))  # history.token_name() reads it
    with history.write_channel(params.get("channel", "system"), origin), events.batch(ctx.job.pk):
        try:
            import_authorize(actor)  # permissions may have been revoked since the job was started
            rows = _rows(ctx.payload)
            if "row" not in ctx.checkpoint:  # a resumed run validated the file before its first chunk
                report = attribute_import(rows=rows, actor=actor, dry_run=True, chunk_size=chunk_size, counts=False)
                if report.rejected:
                    raise engine.JobFailed(
                        f"{len(report.rejected)} row{'s' if len(report.rejected) != 1 else ''} rejected; "
                        "nothing imported",
                        result=report_json(report, filename=filename),
                    )
        except PermissionDenied as error:
            raise engine.JobFailed(f"{error} Nothing imported.") from None
        except csvio.CsvFormatError as error:
            raise engine.JobFailed(str(error), result=report_json(ImportReport(), filename=filename)) from None
        rows.sort(key=_sort_key)
        total = len(rows)
        ctx.set_total(total)
        position = ctx.checkpoint.get("row", 0)
        result = ctx.job.result if position and ctx.job.result else report_json(ImportReport(), filename=filename)
        while position < total:
            ctx.check()
            end = min(total, position + chunk_size)
            result = _write_chunk(ctx, rows[position:end], actor=actor, done=end, total=total, result=result)
            position = end
    return result


def _write_chunk(ctx: engine.JobContext, rows: list[Row], *, actor, done: int, total: int, result: dict) -> dict:
    """Check the chunk's rows again and write the valid ones in one transaction with the job's progress."""
    skipped: list[ItemError] = []
    for attempt in range(_RACE_RETRIES):
        try:
            with ctx.chunk():
                lines_skipped = {error.index for error in skipped}
                items, errors = _validate_items([row for row in rows if row[0] not in lines_skipped], {})
                plan = _write(items, actor=actor, operation=OPERATION) if items else []
                chunk_result = {**result, "skipped": [*result["skipped"]]}
                for _, _, outcome in plan:
                    chunk_result[outcome.value] += 1
                chunk_result["skipped"] += [_error_json(e) for e in sorted(skipped + errors, key=lambda e: e.index)]
                ctx.commit(done=done, checkpoint={"row": done}, total=total, result=chunk_result)
            return chunk_result
        except IntegrityError:
            # A customer deleted between the check and the INSERT: the chunk rolled back; checked again, its rows
            # are skipped. Nothing else in an import violates a constraint (ON CONFLICT takes the names in turn).
            if attempt == _RACE_RETRIES - 1:
                raise
        except OperationalError as error:  # aborted to end a deadlock (see common.lost_deadlock): run it again
            if not lost_deadlock(error) or attempt == _RACE_RETRIES - 1:
                raise
        except ValidationError as error:
            # A rename job holds some of these names (its reservation check runs after the write, which rolled
            # back): those rows are skipped with its message, the others written.
            held = set(getattr(error, "names", ()))
            if not held or attempt == _RACE_RETRIES - 1:
                raise
            message = error.messages[0]
            skipped += [ItemError(row[0], "attribute_name", message) for row in rows if row[2].strip() in held]
    raise AssertionError("unreachable")
