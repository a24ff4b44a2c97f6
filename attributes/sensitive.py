"""Sensitive attribute values: encryption at rest, the keyed equality index, and masking.

A value of a name the registry marks `sensitive` is stored as two things, never as itself:
- `Attribute.value_ciphertext`: AES-GCM under the first of `ATTRIBUTE_ENCRYPTION_KEYS`, with the customer id and
  the attribute name as associated data (a ciphertext copied to another row or name does not decrypt). Written
  `<key id>:<urlsafe base64 of nonce + ciphertext>`; the key id (8 hex digits of the key's SHA-256) says which key
  decrypts it, so rotation finds the rows still under an old key with an indexed-free prefix test.
- `Attribute.attribute_value`: the *index token* `hmac-sha256:<urlsafe base64>`, an HMAC of the name and the value
  under `ATTRIBUTE_INDEX_KEY`. Equality search, "unchanged" detection, the unique index, history rows, change events
  and ETags all work on the token as if it were the value, so none of them ever sees (or stores) the plain value.

`is_token` tells a masked value anywhere (history, events, usage statistics): every output shows a token as hidden
(`MASK` in pages, null with `"sensitive": true` in JSON).
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os
from functools import cache, cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError

logger = logging.getLogger("attributes.sensitive")
TOKEN_PREFIX = "hmac-sha256:"
MASK = "••••••••"
NONCE_BYTES = 12
KEYS_MISSING = (
    "Sensitive attributes need encryption keys: set ATTRIBUTE_ENCRYPTION_KEYS and ATTRIBUTE_INDEX_KEY (each the "
    "URL-safe base64 of 32 random bytes; see README, Sensitive attributes)."
)


class KeysMissing(ValidationError):
    """A sensitive value cannot be written or read without the keys: a 400 naming the settings to set."""

    def __init__(self, field: str = "attribute_value"):
        super().__init__({field: ValidationError(KEYS_MISSING, code="keys_missing")})


def _decode(key: str) -> bytes:
    return base64.urlsafe_b64decode(key.encode("ascii"))


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@cache
def _keys(raw: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return tuple((key_id(_decode(key)), AESGCM(_decode(key))) for key in raw)


def encryption_keys() -> tuple[tuple[str, object], ...]:
    """(key id, AESGCM) for each configured key, the encrypting one first. Raises KeysMissing when none is set."""
    raw = tuple(settings.ATTRIBUTE_ENCRYPTION_KEYS)
    if not raw or not settings.ATTRIBUTE_INDEX_KEY:
        raise KeysMissing()
    return _keys(raw)


def keys_configured() -> bool:
    return bool(settings.ATTRIBUTE_ENCRYPTION_KEYS) and bool(settings.ATTRIBUTE_INDEX_KEY)


def current_key_id() -> str:
    return encryption_keys()[0][0]


def _aad(customer_id: int, name: str) -> bytes:
    return f"{int(customer_id)}\x00{name}".encode()


def index_token(name: str, value: str) -> str:
    """The keyed hash stored instead of the value: equal for equal (name, value), useless without the index key."""
    if not settings.ATTRIBUTE_INDEX_KEY:
        raise KeysMissing()
    digest = hmac.new(_decode(settings.ATTRIBUTE_INDEX_KEY), f"{name}\x00{value}".encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_token(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def encrypt(customer_id: int, name: str, value: str) -> str:
    kid, aead = encryption_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, value.encode(), _aad(customer_id, name))
    return f"{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def seal(customer_id: int, name: str, value: str) -> tuple[str, str]:
    """(index token, ciphertext) to store for a sensitive `value`."""
    return index_token(name, value), encrypt(customer_id, name, value)


class Undecryptable(Exception):
    """No configured key decrypts the ciphertext (a key dropped too early, or a moved ciphertext)."""


def decrypt(customer_id: int, name: str, ciphertext: str) -> str:
    from cryptography.exceptions import InvalidTag

    kid, _, body = ciphertext.partition(":")
    try:
        blob = base64.urlsafe_b64decode(body.encode("ascii"))
    except (binascii.Error, ValueError) as error:
        raise Undecryptable("not a ciphertext") from error
    keys = encryption_keys()
    # The key the id names first; then the others (two keys could share an id prefix only by a 2**-32 chance).
    for _id, aead in sorted(keys, key=lambda pair: pair[0] != kid):
        try:
            return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(customer_id, name)).decode()
        except InvalidTag:
            continue
    raise Undecryptable(f"no configured key decrypts it (key id {kid})")


def plain_value(attribute) -> str:
    """The value of an attribute row: decrypted when it holds a ciphertext."""
    if attribute.value_ciphertext:
        return decrypt(attribute.customer_id, attribute.attribute_name, attribute.value_ciphertext)
    return attribute.attribute_value


def sensitive_names() -> set[str]:
    from .models import AttributeDefinition

    return set(AttributeDefinition.objects.filter(sensitive=True).values_list("name", flat=True))


def startup_problem() -> str | None:
    """Why the app must not start (DEBUG off): a sensitive name exists and the keys are missing. None when fine."""
    if settings.DEBUG or keys_configured():
        return None
    try:
        from .models import AttributeDefinition

        if not AttributeDefinition.objects.filter(sensitive=True).exists():
            return None
    except DatabaseError:  # before the first migrate: no registry yet, nothing sensitive
        return None
    return "A name in the attribute registry is marked sensitive, but " + KEYS_MISSING[0].lower() + KEYS_MISSING[1:]


def check_startup() -> None:
    """Raise ImproperlyConfigured when `startup_problem` finds one (crm_project/wsgi.py calls it)."""
    problem = startup_problem()
    if problem:
        raise ImproperlyConfigured(problem)


def name_is_sensitive(name: str) -> bool:
    from .selectors import definition_for

    definition = definition_for(name)
    return definition is not None and definition.sensitive


def sensitive_expression():
    """`Exists(...)`: whether the row's name is marked sensitive, to annotate attribute querysets with."""
    from django.db.models import Exists, OuterRef

    from .models import AttributeDefinition

    return Exists(AttributeDefinition.objects.filter(name=OuterRef("attribute_name"), sensitive=True))


class Presenter:
    """What one reader may see of attribute values: the plain value of a sensitive one only with
    `view_sensitive_customer_attribute`, each such read recorded (`SensitiveReveal`, written by `flush`); otherwise
    None (JSON null), `MASK` in pages. A value is sensitive when its row holds a ciphertext or a token, or its name
    is marked sensitive (a row the marking job has not reached yet)."""

    def __init__(self, user, channel: str, *, record: bool = True):
        from .history import token_name

        self.user = user
        self.channel = channel
        self.token = token_name()  # now: a streamed export records its reads after the request has returned
        self.record = record
        self._reads: list[tuple[int, str]] = []

    @cached_property
    def may_view(self) -> bool:
        """Asked only when a value is sensitive: most lists have none, and a permission check is not free."""
        from .permissions import may_view_sensitive

        return may_view_sensitive(self.user)

    @staticmethod
    def is_hidden(*, value: str, ciphertext: str = "", name_sensitive: bool = False) -> bool:
        return bool(ciphertext) or is_token(value) or name_sensitive

    def value(
        self, *, customer_id: int, name: str, value: str, ciphertext: str = "", name_sensitive: bool = False
    ) -> tuple[str | None, bool]:
        """(what to show, whether it is sensitive)."""
        if not self.is_hidden(value=value, ciphertext=ciphertext, name_sensitive=name_sensitive):
            return value, False
        if not self.may_view:
            return None, True
        if ciphertext:
            try:
                shown = decrypt(customer_id, name, ciphertext)
            except Undecryptable as error:  # a key dropped too early: say so in the log, show it as hidden
                logger.error("sensitive value of %s for customer %s: %s", name, customer_id, error)
                return None, True
        elif is_token(value):  # a history or event row: the value itself was never kept
            return None, True
        else:
            shown = value
        if self.record:
            self._reads.append((customer_id, name))
        return shown, True

    def item(self, item: dict, *, ciphertext: str = "", name_sensitive: bool = False) -> dict:
        """An API item (attribute_value, customer_id, attribute_name) as this reader may see it, in place."""
        shown, hidden = self.value(
            customer_id=item["customer_id"], name=item["attribute_name"], value=item["attribute_value"],
            ciphertext=ciphertext, name_sensitive=name_sensitive,
        )  # fmt: skip
        if hidden:
            item["attribute_value"] = shown
            item["sensitive"] = True
        return item

    def flush(self) -> None:
        """Record the reads of sensitive values so far (one multi-row INSERT)."""
        if not self._reads:
            return
        from .models import SensitiveReveal

        user = self.user if getattr(self.user, "is_authenticated", False) else None
        username = user.get_username() if user is not None else ""
        token = self.token
        SensitiveReveal.objects.bulk_create(
            [
                SensitiveReveal(user=user, username=username, token_name=token, customer_id=customer_id,
                                attribute_name=name, channel=self.channel)
                for customer_id, name in dict.fromkeys(self._reads)
            ],
            batch_size=500,
        )  # fmt: skip
        self._reads = []


def mask_records(records, *, value_fields=("attribute_value", "previous_value")) -> None:
    """History rows or change events, in place: a sensitive one (a token, or a name marked sensitive whose rows the
    marking job has not reached yet) gets `sensitive = True` and its values None. Whoever reads: history and events
    keep only that the value changed. One query for the names."""
    records = list(records)
    names = {r.attribute_name for r in records} | {r.previous_name for r in records if r.previous_name}
    marked = set()
    if names:
        from .models import AttributeDefinition

        marked = set(AttributeDefinition.objects.filter(name__in=names, sensitive=True).values_list("name", flat=True))
    for record in records:
        hidden = record.attribute_name in marked or (record.previous_name or "") in marked
        hidden = hidden or any(is_token(getattr(record, field)) for field in value_fields)
        record.sensitive = hidden
        if hidden:
            for field in value_fields:
                setattr(record, field, None)
