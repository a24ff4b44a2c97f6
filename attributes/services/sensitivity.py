"""Marking a name sensitive (or not), and re-encrypting under a new key: background jobs over every stored value.

- `attributes.sensitivity` (started by `definition_update`/`definition_create` when `sensitive` changes, in the
  same transaction): marking encrypts the name's plain values and replaces the plain values in its history and
  change events by index tokens; unmarking decrypts the current values (history and events keep their tokens:
  those old values are gone for good, which is the point). The registry flag changes at once, so new writes and
  every output follow it while the job works through the stored rows.
- `attributes.rotate_keys` (`manage.py rotate_attribute_keys`): every ciphertext not under the first key of
  ATTRIBUTE_ENCRYPTION_KEYS is decrypted (any configured key) and encrypted again under the first.

Chunks of ATTRIBUTES_SENSITIVE_CHUNK rows in primary-key order, each one transaction with its progress and
checkpoint; a chunk only touches rows still to do, so a retried or resumed run is idempotent.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from events.models import Event
from jobs import engine
from jobs.models import Job

from .. import sensitive
from ..models import Attribute
from . import fastinsert

KIND = "attributes.sensitivity"
ROTATE_KIND = "attributes.rotate_keys"


def sensitivity_start(*, name: str, sensitive_now: bool, actor) -> Job:
    """Start the job that brings the stored values of `name` in line with its new flag (caller's transaction)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return engine.start(KIND, params={"name": name, "sensitive": sensitive_now}, actor=user)


def rotate_start(*, actor=None) -> Job:
    sensitive.encryption_keys()  # KeysMissing before a job that could do nothing
    user = actor if getattr(actor, "is_authenticated", False) else None
    return engine.start(ROTATE_KIND, params={}, actor=user)


def _chunk_size() -> int:
    return settings.ATTRIBUTES_SENSITIVE_CHUNK


def _phases(name: str, mark: bool):
    """(label, queryset of rows still to do, function turning one row into its new field values, fields)."""
    past = Attribute.history.model
    if not mark:
        return [("attributes", Attribute.objects.filter(attribute_name=name).exclude(value_ciphertext=""), _opened,
                 ["attribute_value", "value_ciphertext"])]  # fmt: skip
    # Rows with a plain value or a plain previous value (a write after the flag changed records the old plain
    # value as previous until the job has reached its row).
    plain = ~Q(attribute_value__startswith=sensitive.TOKEN_PREFIX) | (
        ~Q(previous_value="") & ~Q(previous_value__startswith=sensitive.TOKEN_PREFIX)
    )
    plain_previous = ~Q(previous_value="") & ~Q(previous_value__startswith=sensitive.TOKEN_PREFIX)
    return [
        ("attributes", Attribute.objects.filter(attribute_name=name, value_ciphertext=""), _sealed,
         ["attribute_value", "value_ciphertext"]),
        ("history", past.objects.filter(plain, attribute_name=name), _tokened, ["attribute_value", "previous_value"]),
        ("history", past.objects.filter(plain_previous, previous_name=name), _tokened_previous, ["previous_value"]),
        ("events", Event.objects.filter(plain, attribute_name=name), _tokened, ["attribute_value", "previous_value"]),
        ("events", Event.objects.filter(plain_previous, previous_name=name), _tokened_previous, ["previous_value"]),
    ]  # fmt: skip


def _token(name: str, value: str) -> str:
    return value if not value or sensitive.is_token(value) else sensitive.index_token(name, value)


def _sealed(row) -> None:
    row.attribute_value, row.value_ciphertext = sensitive.seal(row.customer_id, row.attribute_name, row.attribute_value)


def _opened(row) -> None:
    row.attribute_value, row.value_ciphertext = sensitive.plain_value(row), ""


def _tokened(row) -> None:
    row.attribute_value = _token(row.attribute_name, row.attribute_value)
    row.previous_value = _token(row.previous_name or row.attribute_name, row.previous_value)


def _tokened_previous(row) -> None:
    row.previous_value = _token(row.previous_name, row.previous_value)


def _work(ctx: engine.JobContext, phases) -> dict:
    """Run `phases` in chunks; the checkpoint is (phase index, last primary key, pass), progress counts rows.

    Then one more pass over every phase from the start: a write that read the registry just before the flag
    changed, and committed after its row's chunk, is caught there (the filters match only rows still to do, so
    the second pass reads the name's index range and usually changes nothing)."""
    if ctx.job.total is None:
        ctx.set_total(sum(queryset.count() for _, queryset, _, _ in phases))
    phase, after = ctx.checkpoint.get("phase", 0), ctx.checkpoint.get("after", 0)
    second = ctx.checkpoint.get("second", False)
    done, counts = ctx.job.done, dict(ctx.job.result or {})
    while phase < len(phases) or not second:
        if phase == len(phases):
            phase, after, second = 0, 0, True
        label, queryset, change, fields = phases[phase]
        label, queryset, change, fields = phases[phase]
        model = queryset.model
        ctx.check()
        with ctx.chunk():
            rows = list(queryset.filter(pk__gt=after).order_by("pk").select_for_update()[: _chunk_size()])
            for row in rows:
                change(row)
            fastinsert.update_rows(model, rows, fields)
            done += len(rows)
            counts[label] = counts.get(label, 0) + len(rows)
            if rows:
                after = rows[-1].pk
            else:
                phase, after = phase + 1, 0
            checkpoint = {"phase": phase, "after": after, "second": second}
            ctx.commit(done=done, total=max(ctx.job.total or 0, done), checkpoint=checkpoint, result=counts)
    return counts


@engine.handler(KIND, label="Encrypt or decrypt a sensitive name")
def run_sensitivity(ctx: engine.JobContext) -> dict:
    name, mark = ctx.params["name"], ctx.params["sensitive"]
    from ..models import AttributeDefinition

    definition = AttributeDefinition.objects.filter(name=name).first()
    if definition is None or definition.sensitive != mark:  # changed again since: a newer job does the work
        return {"skipped": "the name's flag changed again; a newer job brings its values in line"}
    try:
        return {"name": name, "sensitive": mark, **_work(ctx, _phases(name, mark))}
    except sensitive.KeysMissing as error:
        raise engine.JobFailed(error.messages[0]) from None


@engine.handler(ROTATE_KIND, label="Re-encrypt sensitive values under the first key")
def run_rotate(ctx: engine.JobContext) -> dict:
    try:
        current = sensitive.current_key_id()
    except sensitive.KeysMissing as error:
        raise engine.JobFailed(error.messages[0]) from None
    stale = Attribute.objects.exclude(value_ciphertext="").exclude(value_ciphertext__startswith=f"{current}:")

    def reencrypt(row) -> None:
        row.value_ciphertext = sensitive.encrypt(row.customer_id, row.attribute_name, sensitive.plain_value(row))

    return {"key_id": current, **_work(ctx, [("re-encrypted", stale, reencrypt, ["value_ciphertext"])])}


def stored_under_other_keys() -> int:
    """Ciphertexts not under the first key (what rotation still has to do)."""
    current = sensitive.current_key_id()
    with transaction.atomic():
        return (
            Attribute.objects.exclude(value_ciphertext="").exclude(value_ciphertext__startswith=f"{current}:").count()
        )
