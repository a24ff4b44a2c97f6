import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "crm_"
# Last use is written at most this often per token, so a busy integration does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def digest(raw_token: str) -> str:
    """SHA-256 of the token. Tokens are 256-bit random, so a fast digest is as safe as a slow password hash."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(models.Q(expires__isnull=True) | models.Q(expires__gt=now))


class ApiToken(models.Model):
    """A named bearer token for an integration. Only its SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses this token, e.g. 'billing sync'.")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(max_length=12, editable=False, help_text="The token's first characters.")
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @classmethod
    def issue(cls, *, user, name: str, expires_days: int | None = None) -> tuple["ApiToken", str]:
        """Create a token for `user`; returns the row and the raw token, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token = cls.objects.create(user=user, name=name, key_digest=digest(raw), key_hint=raw[:10], expires=expires)
        return token, raw

    def touch(self) -> None:
        """Record use, at most once per LAST_USED_RESOLUTION (a conditional UPDATE, no read-modify-write)."""
        now = timezone.now()
        if self.last_used is None or now - self.last_used >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used=now)
            self.last_used = now
