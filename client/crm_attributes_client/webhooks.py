"""`verify_webhook`: check a delivery's Standard Webhooks signature (https://www.standardwebhooks.com/) by hand,
so the client needs nothing but httpx; the tests check it against the `standardwebhooks` package and real deliveries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from .errors import CrmError
from .models import WebhookMessage

TOLERANCE_SECONDS = 5 * 60  # the specification's replay window


class WebhookVerificationError(CrmError):
    """The delivery is not from the server (wrong signature or secret), or too old or too new to accept."""


def _key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ValueError(
            "The webhook secret must be the whsec_… value the server gave when the webhook was created."
        ) from None


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookMessage:
    """The verified message of a delivery: `body` exactly as received, its `headers` (any case), the endpoint's
    secret. Raises WebhookVerificationError unless one of the `v1` signatures matches and the timestamp is within
    `tolerance` seconds of now. Deduplicate on `message_id` (delivery is at least once)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"Missing header {missing.args[0]}.") from None
    if not timestamp.isdigit():
        raise WebhookVerificationError("Invalid webhook-timestamp.")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError("The webhook-timestamp is outside the tolerance (replayed or delayed).")
    raw = body.encode() if isinstance(body, str) else body
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + raw
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            break
    else:
        raise WebhookVerificationError("No signature matches: wrong secret, or the body was changed.")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("The body is not JSON.") from None
    return WebhookMessage(
        message_id=message_id,
        type=str(payload.get("type", "")),
        timestamp=str(payload.get("timestamp", "")),
        data=payload.get("data") or {},
    )
