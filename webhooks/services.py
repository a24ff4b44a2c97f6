"""Every write to webhooks (create, change, delete, rotate, test, retry, replay) and the delivery job.

Delivery (`run_deliver`, a periodic job on the workers, started while an endpoint is enabled):
1. number committed events (`events_sequence`);
2. fan out: for each enabled endpoint, turn the events after its `cursor` that it subscribes to into pending
   deliveries and move the cursor, in one transaction;
3. send what is due, per endpoint in sequence order. A customer's later event waits while an earlier one of
   that customer is pending, so each customer's events arrive in order; other customers' events go on.
Each outcome (an `Attempt` row, the delivery's state) is committed after its request: a worker killed mid-request
leaves the delivery pending, and the next run sends it again. At least once; receivers deduplicate on
`webhook-id`. A write never waits for any of this: the write path only inserts its events.
"""

import base64
import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Signer

from attributes.permissions import require_webhooks
from attributes.sensitive import mask_records
from events import selectors as event_selectors
from events.models import Event
from events.services import events_sequence, last_sequence
from jobs import engine
from jobs.models import Job

from . import transport
from .models import Attempt, Delivery, Webhook

logger = logging.getLogger("webhooks")
DELIVER_KIND = "webhooks.deliver"
REPLAY_KIND = "webhooks.replay"
EVENT_TYPES = [t.value for t in Event.Type]
ROTATION_OVERLAP = timedelta(hours=24)
FAN_OUT_BATCH = 1000
SEND_BATCH = 500
# Successful deliveries are recorded together, up to this many a transaction (a failure is recorded at once). A worker
# that dies sends those again: delivery is at least once, and receivers deduplicate on webhook-id.
RECORD_BATCH = 50
TEST_TYPE = "webhook.test"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- Writes ------------------------------------------------------------------------------------------------------


def _clean(*, url: str, description: str, event_types: list, attribute_names: list) -> dict:
    errors: dict[str, list[str]] = {}
    try:
        transport.check_url(url)
    except transport.Refused as refusal:
        errors["url"] = [str(refusal)]
    if len(url) > 500:
        errors["url"] = ["At most 500 characters."]
    if not isinstance(event_types, list) or not event_types:
        errors["event_types"] = ['Name at least one event type, or ["*"] for all.']
    elif unknown := [t for t in event_types if t != "*" and t not in EVENT_TYPES]:
        errors["event_types"] = [
            f"Unknown event type(s): {', '.join(map(str, unknown))}. Known: {', '.join(EVENT_TYPES)}."
        ]
    if not isinstance(attribute_names, list) or not all(
        isinstance(p, str) and 0 < len(p) <= 150 for p in attribute_names
    ):
        errors["attribute_names"] = ["A list of glob patterns (1-150 characters each), e.g. billing_*."]
    if len(description) > 200:
        errors["description"] = ["At most 200 characters."]
    if errors:
        raise ValidationError(errors)
    return {"url": url, "description": description, "event_types": event_types, "attribute_names": attribute_names}


def webhook_create(
    *, actor, url: str, description: str = "", event_types: list, attribute_names: list, enabled: bool = True
) -> tuple[Webhook, str]:
    """A new endpoint and its signing secret (returned once; the caller shows it to the user, never logs it).

    It receives the events committed from now on (a replay sends older ones)."""
    require_webhooks(actor)
    fields = _clean(url=url, description=description, event_types=event_types, attribute_names=attribute_names)
    events_sequence()  # so the cursor below is "now", not behind events already committed
    secret = new_secret()
    webhook = Webhook(**fields, enabled=enabled, secret=secret, cursor=last_sequence())
    webhook.created_by = actor if getattr(actor, "is_authenticated", False) else None
    webhook.full_clean(exclude=["secret", "created_by"])
    webhook.save()
    logger.info("webhook %s created for %s", webhook.pk, webhook.url)
    return webhook, secret


UPDATABLE = ("url", "description", "event_types", "attribute_names", "enabled")


def webhook_update(*, actor, webhook: Webhook, **changes) -> Webhook:
    """Change an endpoint's settings; enabling it again clears the reason it was disabled and its failure clock."""
    require_webhooks(actor)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    current = {name: changes.get(name, getattr(webhook, name)) for name in UPDATABLE}
    fields = _clean(
        url=current["url"],
        description=current["description"],
        event_types=current["event_types"],
        attribute_names=current["attribute_names"],
    )
    enabled = current["enabled"]
    if not isinstance(enabled, bool):
        raise ValidationError({"enabled": ["Must be true or false."]})
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        for name, value in fields.items():
            setattr(webhook, name, value)
        if enabled and not webhook.enabled:
            webhook.disabled_reason, webhook.failing_since = "", None
        webhook.enabled = enabled
        webhook.save()
    return webhook


def webhook_delete(*, actor, webhook: Webhook) -> None:
    """Delete the endpoint with its deliveries and their attempts.

    Under the endpoint's row lock, which a worker recording a delivery's outcome takes too (`_record`): otherwise
    an attempt the worker inserts while the delete cascades would reference a deleted delivery, and whichever
    committed second would fail (`bench/webhooks.py` deleting endpoints during deliveries hit it as a 500)."""
    require_webhooks(actor)
    with transaction.atomic():
        if Webhook.objects.select_for_update().filter(pk=webhook.pk).exists():
            webhook.delete()


def webhook_rotate_secret(*, actor, webhook: Webhook) -> str:
    """A new secret; the old one keeps signing too for 24 hours, so receivers can switch without losing messages."""
    require_webhooks(actor)
    secret = new_secret()
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        Webhook.objects.filter(pk=webhook.pk).update(
            previous_secret=webhook.secret, previous_secret_expires=timezone.now() + ROTATION_OVERLAP, secret=secret
        )
    return secret


def delivery_retry(*, actor, delivery: Delivery) -> Delivery:
    """Send a delivery again as soon as the dispatcher runs (a failed one, or a pending one now)."""
    require_webhooks(actor)
    if delivery.event_id is None:
        raise ValidationError("A test delivery cannot be retried; send a new test.")
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, next_attempt_at=None)
    delivery.refresh_from_db()
    return delivery


def webhook_replay(*, actor, webhook: Webhook, after: int) -> Job:
    """Deliver again every kept event after sequence `after` up to now that the endpoint subscribes to (a job)."""
    require_webhooks(actor)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ValidationError({"after": ["A sequence number (0 or more)."]})
    events_sequence()
    params = {"webhook_id": str(webhook.pk), "after": after, "upto": last_sequence()}
    return engine.start(REPLAY_KIND, params=params, actor=actor)


def webhook_test(*, actor, webhook: Webhook) -> Delivery:
    """Send a signed `webhook.test` message now, in this request; the delivery and its attempt are logged."""
    require_webhooks(actor)
    now = timezone.now()
    delivery = Delivery(webhook=webhook, message_id=_uuid(), event_type=TEST_TYPE, attempts=0)
    data = {"webhook_id": str(webhook.pk), "message": "A test message from the CRM."}
    answer = _send(webhook, message_id=str(delivery.message_id), event_type=TEST_TYPE, data=data, now=now)
    delivery.attempts = 1
    delivery.status = Delivery.Status.SUCCEEDED if answer.ok else Delivery.Status.FAILED
    with transaction.atomic():
        delivery.save()
        _log_attempt(delivery, answer, now)
    return delivery


def _uuid():
    import uuid

    return uuid.uuid4()


# --- Signing and sending -------------------------------------------------------------------------------------------


def signing_secrets(webhook: Webhook, *, now: datetime) -> list[str]:
    valid = [webhook.secret]
    if webhook.previous_secret and webhook.previous_secret_expires and webhook.previous_secret_expires > now:
        valid.append(webhook.previous_secret)
    return valid


def _send(
    webhook: Webhook, *, message_id: str, event_type: str, data: dict, now: datetime, request_id: str = ""
) -> transport.Answer:
    """One Standard Webhooks POST: `{"type", "timestamp", "data"}`, signed with every valid secret.

    `X-Request-ID` names the request that caused the event (also `data.request_id`), so a receiver can tie it back
    to that request's log lines and history."""
    body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, separators=(",", ":"))
    signatures = " ".join(
        Signer(secret).sign(msg_id=message_id, timestamp=now, data=body) for secret in signing_secrets(webhook, now=now)
    )
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "User-Agent": "CRM-Webhooks/1.0",
    }
    if request_id:
        headers["X-Request-ID"] = request_id
    return transport.post(webhook.url, body.encode(), headers)


def _attempt(delivery: Delivery, answer: transport.Answer, at: datetime) -> Attempt:
    """The (unsaved) log row of one try."""
    return Attempt(
        delivery=delivery,
        at=at,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        error=answer.error or ("" if answer.ok else f"HTTP {answer.status_code}"),
    )


def _log_attempt(delivery: Delivery, answer: transport.Answer, at: datetime) -> None:
    _attempt(delivery, answer, at).save()


def retry_delay(attempts: int, answer: transport.Answer) -> float | None:
    """Seconds before the next try after `attempts` failed ones; None when every retry is used."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * (1 + random.random() / 10)  # jitter, so retries of many do not stampede
    if answer.status_code in (429, 503) and answer.retry_after is not None:
        delay = min(answer.retry_after, max(schedule))  # the receiver says when; bounded by our longest wait
    return delay


def _record_successes(webhook: Webhook, sent: list[tuple[Delivery, transport.Answer, datetime]]) -> bool:
    """Commit the outcome of deliveries that went through, in one transaction (one lock of the endpoint, one insert of
    their attempts, two updates) instead of one each: a transaction per delivery was two thirds of a worker's time
    (py-spy), and a 1000-event bulk took over 10 s to deliver. Empties `sent`; False if the endpoint was deleted."""
    if not sent:
        return True
    with transaction.atomic():
        if not Webhook.objects.select_for_update().filter(pk=webhook.pk).exists():  # see webhook_delete
            sent.clear()
            return False
        Attempt.objects.bulk_create([_attempt(d, a, at) for d, a, at in sent])
        Delivery.objects.filter(pk__in=[d.pk for d, _, _ in sent]).update(
            status=Delivery.Status.SUCCEEDED, attempts=F("attempts") + 1, next_attempt_at=None
        )
        Webhook.objects.filter(pk=webhook.pk).update(last_success=sent[-1][2], failing_since=None)
    webhook.failing_since = None
    sent.clear()
    return True


def _record(webhook: Webhook, delivery: Delivery, answer: transport.Answer, at: datetime) -> bool:
    """Commit the outcome of one try; returns whether the endpoint is still enabled (False if it was deleted)."""
    if answer.ok:
        return _record_successes(webhook, [(delivery, answer, at)])
    with transaction.atomic():
        if not Webhook.objects.select_for_update().filter(pk=webhook.pk).exists():  # see webhook_delete
            return False
        _log_attempt(delivery, answer, at)
        attempts = delivery.attempts + 1
        delay = None if answer.status_code == 410 else retry_delay(attempts, answer)
        status = Delivery.Status.FAILED if delay is None else Delivery.Status.PENDING
        next_at = at + timedelta(seconds=delay) if delay is not None else None
        Delivery.objects.filter(pk=delivery.pk).update(status=status, attempts=attempts, next_attempt_at=next_at)
        webhook.failing_since = webhook.failing_since or at
        reason = ""
        if answer.status_code == 410:
            reason = f"Disabled {at:%Y-%m-%d %H:%M} UTC: the endpoint answered 410 Gone."
        elif at - webhook.failing_since >= timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS):
            reason = (
                f"Disabled {at:%Y-%m-%d %H:%M} UTC: every delivery failed for "
                f"{settings.WEBHOOKS_DISABLE_AFTER_DAYS} days."
            )
        fields = {"failing_since": webhook.failing_since}
        if reason:
            fields |= {"enabled": False, "disabled_reason": reason}
            logger.warning("webhook %s disabled: %s", webhook.pk, reason)
        Webhook.objects.filter(pk=webhook.pk).update(**fields)
        return not reason


# --- Dispatching -------------------------------------------------------------------------------------------------


def _queue(webhook: Webhook, events) -> list[Delivery]:
    """Pending deliveries to `webhook` of those `events` it wants (fan-out and replay)."""
    deliveries = [
        Delivery(
            webhook=webhook, event=e, message_id=e.event_id, event_type=e.type, sequence=e.sequence,
            customer_id=e.customer_id,
        )
        for e in events
        if webhook.wants(e.type, e.attribute_name)
    ]  # fmt: skip
    return Delivery.objects.bulk_create(deliveries)


def fan_out() -> int:
    """Turn new events into pending deliveries for every enabled endpoint that wants them; returns how many."""
    created = 0
    for webhook_id in Webhook.objects.filter(enabled=True).values_list("pk", flat=True):
        while True:
            with transaction.atomic():
                webhook = Webhook.objects.select_for_update(skip_locked=True).filter(pk=webhook_id).first()
                if webhook is None:
                    break
                batch = list(event_selectors.events_after(webhook.cursor)[:FAN_OUT_BATCH])
                if not batch:
                    break
                deliveries = _queue(webhook, batch)
                Webhook.objects.filter(pk=webhook.pk).update(cursor=batch[-1].sequence)
                created += len(deliveries)
            if len(batch) < FAN_OUT_BATCH:
                break
    return created


def send_due(*, heartbeat: Callable[[], None] = lambda: None) -> int:
    """Send every due delivery, each endpoint's in sequence order and each customer's strictly in order."""
    sent = 0
    for webhook in Webhook.objects.filter(enabled=True):
        now = timezone.now()
        pending = (
            Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING)
            .select_related("event")
            .order_by("sequence", "id")[:SEND_BATCH]
        )
        pending = list(pending)
        mask_records([d.event for d in pending])  # a sensitive value never leaves in a payload, whoever subscribes
        waiting: set[int | None] = set()  # customers with an earlier delivery not yet through
        succeeded: list[tuple[Delivery, transport.Answer, datetime]] = []  # sent, not yet recorded
        for delivery in pending:
            if delivery.customer_id in waiting:
                continue
            if delivery.next_attempt_at and delivery.next_attempt_at > now:
                waiting.add(delivery.customer_id)
                continue
            heartbeat()
            at = timezone.now()
            answer = _send(
                webhook,
                message_id=str(delivery.message_id),
                event_type=delivery.event_type,
                data=delivery.event.as_dict(),
                now=at,
                request_id=delivery.event.request_id,
            )
            sent += 1
            if answer.ok:
                succeeded.append((delivery, answer, at))
                if len(succeeded) < RECORD_BATCH or _record_successes(webhook, succeeded):
                    continue
                break  # deleted
            waiting.add(delivery.customer_id)
            logger.info(
                "webhook %s delivery %s failed: %s", webhook.pk, delivery.pk, answer.error or answer.status_code
            )
            if not _record_successes(webhook, succeeded) or not _record(webhook, delivery, answer, at):
                break  # deleted or disabled
        _record_successes(webhook, succeeded)
    return sent


def dispatch_once(*, heartbeat: Callable[[], None] = lambda: None) -> int:
    """One round of the delivery job: number, fan out, send. Returns the deliveries created and sent."""
    while events_sequence():
        pass
    return fan_out() + send_due(heartbeat=heartbeat)


def _any_enabled() -> bool:
    return Webhook.objects.filter(enabled=True).exists()


@engine.handler(DELIVER_KIND, label="Webhook delivery", every=settings.WEBHOOKS_DISPATCH_SECONDS, when=_any_enabled)
def run_deliver(ctx: engine.JobContext) -> dict:
    """Deliver until nothing has been due for WEBHOOKS_IDLE_SECONDS (or WEBHOOKS_RUN_SECONDS have passed).

    The lease is renewed between sends (`heartbeat`), so a long round against a slow receiver is not taken for
    a dead worker; a worker that lost the lease anyway stops at its next send (LeaseLost)."""
    started = last_beat = idle_since = time.monotonic()
    total = 0

    def heartbeat() -> None:
        nonlocal last_beat
        if time.monotonic() - last_beat >= 0.5:
            with ctx.chunk():
                ctx.commit(done=total, checkpoint={})
            last_beat = time.monotonic()

    while time.monotonic() - started < settings.WEBHOOKS_RUN_SECONDS:
        count = dispatch_once(heartbeat=heartbeat)
        total += count
        with ctx.chunk():
            ctx.commit(done=total, checkpoint={})
        last_beat = time.monotonic()
        if count:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= settings.WEBHOOKS_IDLE_SECONDS:
            break
        else:
            time.sleep(0.2)
        ctx.check()
    return {"sent_or_queued": total}


@engine.handler(REPLAY_KIND, label="Webhook replay")
def run_replay(ctx: engine.JobContext) -> dict:
    """Pending deliveries for the kept events in (after, upto] the endpoint wants, in chunks (resumable)."""
    webhook = Webhook.objects.filter(pk=ctx.params["webhook_id"]).first()
    if webhook is None:
        raise engine.JobFailed("The webhook was deleted.")
    after, upto = ctx.checkpoint.get("after", ctx.params["after"]), ctx.params["upto"]
    queued = ctx.checkpoint.get("queued", 0)
    while True:
        with ctx.chunk():
            batch = list(event_selectors.events_after(after).filter(sequence__lte=upto)[:FAN_OUT_BATCH])
            deliveries = _queue(webhook, batch)
            queued += len(deliveries)
            after = batch[-1].sequence if batch else upto
            ctx.commit(done=queued, checkpoint={"after": after, "queued": queued})
        if len(batch) < FAN_OUT_BATCH:
            break
        ctx.check()
    return {"queued": queued}
