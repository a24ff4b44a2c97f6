"""Who changed an attribute, through which path, and what it was before.

django-simple-history records every save and delete of an Attribute (`Attribute.history`). This module
adds what it does not know by itself:
- the channel (ui, api, admin, cli, seed) from a context variable that `WriteChannelMiddleware` sets per
  request and management commands set with `write_channel(...)`, plus the name of the API token the request
  was authenticated with (read from the request: the token app knows nothing of attributes);
- the operation (create, update, rename, delete, restore, bulk, import, rename_all) and the previous name
  and value, which the services put on the instance before saving;
- rows for the bulk paths: simple-history skips `bulk_create` and `bulk_update`, so `record_bulk`
  writes their history rows itself, in the same transaction;
- the change event (the outbox of the `events` app) beside every history row, in the same transaction: each
  history row is one changed attribute from one write path, so every path that records history (tab, API, bulk,
  admin, CSV import, rename and merge jobs, restore) publishes its events, and a rolled-back write neither.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from crm_project import requestid
from events import services as events
from events.models import Event

CHANNEL = ContextVar("attribute_write_channel", default="system")
# Every channel a write is recorded through: requests (WriteChannelMiddleware), management commands and seeding, and
# "system" for anything else (jobs, shells).
CHANNELS = ("api", "ui", "admin", "cli", "seed", "system")
REQUEST = ContextVar("attribute_write_request", default=None)

ACTIONS = {"+": "created", "~": "updated", "-": "deleted"}
HISTORY_COLUMNS = [
    "attribute_id", "customer", "attribute_name", "attribute_value", "created", "last_modified", "history_date",
    "history_type", "history_user", "history_change_reason", "operation", "channel", "actor_name", "token_name",
    "previous_name", "previous_value", "request_id",
]  # fmt: skip


@contextmanager
def write_channel(channel: str, request: HttpRequest | None = None) -> Iterator[None]:
    """Writes inside this block are recorded as made through `channel` (and `request`'s API token, if any)."""
    channel_reset, request_reset = CHANNEL.set(channel), REQUEST.set(request)
    try:
        yield
    finally:
        CHANNEL.reset(channel_reset)
        REQUEST.reset(request_reset)


def token_name() -> str:
    """The name of the API token that authenticated the current request; "" for sessions and outside requests.

    DRF puts what the authentication class returned as `auth` on the Django request too (`Request.auth`):
    for a bearer token that is the token, whose `name` is what history records.
    """
    name = getattr(getattr(REQUEST.get(), "auth", None), "name", "")
    return name if isinstance(name, str) else ""


class WriteChannelMiddleware:
    """Tag each request's attribute writes with the path they came through: api, admin or ui."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        channel = "api" if path.startswith("/crm/") else "admin" if path.startswith("/admin/") else "ui"
        with write_channel(channel, request):
            return self.get_response(request)


def mark(attribute, *, actor, operation: str, previous_name: str = "", previous_value: str = "") -> None:
    """Put what the history row needs on the instance before it is saved or deleted."""
    attribute._history_user = actor if getattr(actor, "is_authenticated", False) else None
    attribute._history_operation = operation
    attribute._history_previous = (previous_name, previous_value)


_MARKS = ("_history_operation", "_history_previous", "_history_user")


def _take_marks(attribute, history_type: str) -> tuple[str, str, str]:
    """(operation, previous_name, previous_value) from the marks `mark()` put on `attribute`, consumed.

    The marks describe one write: consuming them means a later save or delete of the same instance is not
    recorded with this write's operation, previous values and user. Without marks the operation is the plain
    create, update or delete of `history_type`.
    """
    operation = getattr(attribute, "_history_operation", "") or ACTIONS[history_type].rstrip("d")
    previous_name, previous_value = getattr(attribute, "_history_previous", ("", ""))
    for name in _MARKS:
        attribute.__dict__.pop(name, None)
    return operation, previous_name, previous_value


def _fill(history, attribute, history_user) -> None:
    history.channel = CHANNEL.get()
    history.token_name = token_name()
    history.operation, history.previous_name, history.previous_value = _take_marks(attribute, history.history_type)
    history.actor_name = history_user.get_username() if history_user is not None else ""
    history.request_id = requestid.current()


@receiver(pre_create_historical_record)
def _on_history_row(sender, instance, history_instance, history_user, **kwargs):
    if sender._meta.label_lower == "attributes.historicalattribute":
        _fill(history_instance, instance, history_user)


@receiver(post_create_historical_record)
def _on_history_saved(sender, instance, history_instance, **kwargs):
    if sender._meta.label_lower == "attributes.historicalattribute":
        _record_events([history_instance])


def _change(history) -> events.Change:
    return events.Change(
        kind=history.history_type,
        occurred_at=history.history_date,
        customer_id=history.customer_id,
        attribute_id=history.attribute_id,
        attribute_name=history.attribute_name,
        attribute_value=history.attribute_value,
        previous_name=history.previous_name,
        previous_value=history.previous_value,
    )


def _record_events(histories) -> None:
    """The outbox rows of these history rows (all from one write: one actor, channel and token)."""
    first = histories[0]
    changes = [_change(h) for h in histories]
    _insert_events(changes, username=first.actor_name, channel=first.channel, token_name=first.token_name)


def _insert_events(changes: list[events.Change], *, username: str, channel: str, token_name: str) -> None:
    from .services import fastinsert

    rows = events.event_rows(changes, username=username, channel=channel, token_name=token_name)
    fastinsert.insert_rows(Event, events.COLUMNS, rows, returning_pk=False)


def row_context(actor) -> tuple[int | None, str, str, str]:
    """(history_user_id, actor_name, channel, token_name) of a write by `actor` now, as every history row records."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    user_id, actor_name = (user.pk, user.get_username()) if user is not None else (None, "")
    return user_id, actor_name, CHANNEL.get(), token_name()


def record_bulk(rows: list[tuple[object, str]], *, actor) -> None:
    """History rows for attributes written in bulk (simple-history skips those): (attribute, "+"|"~"|"-") pairs.

    Each attribute carries the marks set by `mark()`. A few multi-row INSERTs in the caller's transaction.
    """
    if not rows:
        return
    from .models import Attribute
    from .services import fastinsert

    now = timezone.now()
    user_id, actor_name, channel, token = row_context(actor)
    request_id = requestid.current()
    values = []
    for attribute, history_type in rows:
        operation, previous_name, previous_value = _take_marks(attribute, history_type)
        values.append(
            (
                attribute.attribute_id, attribute.customer_id, attribute.attribute_name, attribute.attribute_value,
                attribute.created, attribute.last_modified, now, history_type, user_id, None, operation, channel,
                actor_name, token, previous_name, previous_value, request_id,
            )
        )  # fmt: skip
    fastinsert.insert_rows(Attribute.history.model, HISTORY_COLUMNS, values, returning_pk=False)
    changes = [
        events.Change(
            kind=row[7], occurred_at=now, customer_id=row[1], attribute_id=row[0], attribute_name=row[2],
            attribute_value=row[3], previous_name=row[14], previous_value=row[15],
        )
        for row in values
    ]  # fmt: skip
    if events.BATCH.get() is None:
        with events.batch():  # a bulk write is one batch, unless the job or request around it named one
            _insert_events(changes, username=actor_name, channel=channel, token_name=token)
    else:
        _insert_events(changes, username=actor_name, channel=channel, token_name=token)
