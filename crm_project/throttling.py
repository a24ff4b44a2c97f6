"""API throttles that cost the same whatever the rate: a counter per client and window, not a list of timestamps.

DRF's throttles keep every request's timestamp of the last period in one cache entry, read and written (pickled)
whole on every request: at the default 6000/min a busy integration's entry holds up to 6000 floats, about 0.35 ms
of CPU per request (more than the database query of the list endpoint). Here an entry is `(window_start, count)`:
the window opens at a client's first request and lasts the rate's period; past `count` = the limit, requests get
429 with `Retry-After` until it closes. Like DRF's, a read and a write of one small entry per request.

A fixed window admits at most the limit per window; across a window's end a client can send up to twice the limit
within one period (DRF's sliding log would not allow that). Counters live in the `throttle` cache
(`API_THROTTLE_CACHE`, settings.py): `shared`, the default cache (Redis in production, so every instance counts
together, at two cache round trips per request), or `local`, each process's own memory (no round trip; the limit
then holds per process, so the fleet admits up to the limit times the number of processes).
"""

from django.core.cache import caches
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ClientAddressMixin:
    """DRF's `get_ident` (the client address, trusting NUM_PROXIES proxies), reading X-Forwarded-For from META: DRF
    reads `request.headers`, which builds a mapping of every header on the first use (1% of the hottest GET)."""

    def get_ident(self, request) -> str:
        xff = request.META.get("HTTP_X_FORWARDED_FOR")
        remote_addr = request.META.get("REMOTE_ADDR")
        num_proxies = api_settings.NUM_PROXIES
        if num_proxies is not None:
            if num_proxies == 0 or xff is None:
                return remote_addr
            addrs = xff.split(",")
            return addrs[-min(num_proxies, len(addrs))].strip()
        return "".join(xff.split()) if xff else remote_addr


class WindowCounterMixin(ClientAddressMixin):
    """Replaces SimpleRateThrottle's timestamp log with a window counter; scopes, rates and idents are DRF's."""

    cache_alias = "throttle"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        cache = caches[self.cache_alias]
        self.now = self.timer()
        start, count = cache.get(self.key, None) or (self.now, 0)
        if self.now - start >= self.duration:  # the last window has closed: this request opens a new one
            start, count = self.now, 0
        self.window_start = start
        if count >= self.num_requests:
            return False
        cache.set(self.key, (start, count + 1), max(1, round(start + self.duration - self.now)))
        return True

    def wait(self) -> float:
        return max(self.window_start + self.duration - self.now, 1.0)


class UserWindowThrottle(WindowCounterMixin, UserRateThrottle):
    """Per user (token or session): `API_THROTTLE_USER_RATE`."""


class AnonWindowThrottle(WindowCounterMixin, AnonRateThrottle):
    """Per client address without credentials: `API_THROTTLE_ANON_RATE`."""
