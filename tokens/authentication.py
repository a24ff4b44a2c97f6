"""`Authorization: Bearer <token>` for DRF, as the specification's examples send it.

Failed bearer authentications are counted per client address: past API_THROTTLE_AUTH_FAILURE_RATE every
bearer request from that address answers 429 with Retry-After (a valid token included, so guessing cannot
continue until the window passes). DRF's own throttles run after authentication and so never see a 401.

A view with a `token_companion(request)` method may return a `tokens.selectors.Companion`, a read of its own run in
the token's statement, and find what it loaded as `request.auth.companion`: the hottest GET is one statement. DRF
authenticates before it checks permissions, and the view reads the value only after both, as it would its own query.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from crm_project.throttling import ClientAddressMixin

from .models import digest
from .selectors import Companion, active_token


class FailedAuthenticationThrottle(ClientAddressMixin, SimpleRateThrottle):
    """Failed bearer authentications per client address (REMOTE_ADDR, or per NUM_PROXIES behind proxies)."""

    scope = "auth_failure"

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _recent(self, key: str) -> list[float]:
        self.now = self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > self.now - self.duration]
        self.history = history
        return history

    def check(self, request) -> None:
        """Raise Throttled (429 with Retry-After) while this address is past its limit of failures."""
        if self.rate is None:
            return
        if len(self._recent(self.get_cache_key(request))) >= self.num_requests:
            raise exceptions.Throttled(wait=self.wait())

    def record_failure(self, request) -> None:
        if self.rate is None:
            return
        key = self.get_cache_key(request)
        self.cache.set(key, [self.timer(), *self._recent(key)], self.duration)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        throttle = FailedAuthenticationThrottle()
        throttle.check(request)
        try:
            return self._authenticate(header, request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    @staticmethod
    def _companion(request) -> Companion | None:
        """What the request's view asks to read in the token's statement (module docstring), if anything."""
        view = (getattr(request, "parser_context", None) or {}).get("view")
        ask = getattr(view, "token_companion", None)
        return ask(request) if ask is not None else None

    def _authenticate(self, header: list[bytes], request=None):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: use 'Bearer <token>'."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        # One statement: the token, its user (active only) and the user's permissions (tokens/selectors.py).
        token = active_token(digest(raw), timezone.now(), self._companion(request))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        token.touch()
        return token.user, token  # DRF sets request.auth = token: what other apps read to know which token acted

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
