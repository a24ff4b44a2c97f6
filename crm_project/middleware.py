"""Project-wide response rules that belong to no app."""

from dataclasses import asdict

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.utils.cache import patch_cache_control
from django.utils.functional import empty


class PrivateResponsesMiddleware:
    """Responses for a signed-in user or a bearer token carry `Cache-Control: private, no-store`.

    They hold customer data (pages, CSV, JSON), so neither a shared proxy nor the browser's disk cache may keep
    them (a page must not come back through the Back button after sign-out on a shared machine). `no-store` over
    `private, no-cache`: nothing here answers a conditional GET with 304 (ETags serve If-Match on writes), so
    revalidation would gain nothing. Static files never reach this middleware (WhiteNoise answers them first,
    with their long-lived public caching), and anonymous public pages (schema, docs, health) keep their own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # DRF sets the token's user on the Django request too, so both kinds of credentials are seen here.
        # A lazy user nobody evaluated means the view used no identity (and reading it now would cost a query).
        user = getattr(request, "user", None)
        user = getattr(user, "_wrapped", user)
        signed_in = user is not None and user is not empty and user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_store=True)
        return response


class StaticPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with a response's header built once per policy instead of on every response.

    Our policy is static (settings.CONTENT_SECURITY_POLICY; no nonce anywhere), yet django-csp rebuilds the header
    from the settings twice per response (the policy and the report-only one): a tenth of the API's hottest GET in
    the profile (issue 17). A response with a per-view policy (`@csp_update` on the API docs), a request that asked
    for a nonce, or changed settings (tests' override_settings) still go through django-csp's own path."""

    _cached: tuple | None = None  # (policy settings, report-only settings, header, report-only header)
    _PER_VIEW = (
        "_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro",
        "_csp_exempt", "_csp_exempt_ro",
    )  # fmt: skip

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in self._PER_VIEW):
            return super().process_response(request, response)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        cached = StaticPolicyCSPMiddleware._cached
        if cached is None or cached[0] is not policy or cached[1] is not report_only or settings.DEBUG:
            return self._build_and_cache(request, response, policy, report_only)
        for header, value, config in ((HEADER, cached[2], policy), (HEADER_REPORT_ONLY, cached[3], report_only)):
            prefixes = tuple((config or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if value and header not in response and not request.path_info.startswith(prefixes):
                response[header] = value
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def _build_and_cache(self, request, response, policy, report_only):
        response = super().process_response(request, response)
        if not settings.DEBUG:  # DEBUG skips the header on 404 and 500: don't learn from those
            parts = self.get_policy_parts(request=request, response=response)
            parts_ro = self.get_policy_parts(request=request, response=response, report_only=True)
            StaticPolicyCSPMiddleware._cached = (
                policy, report_only, build_policy(**asdict(parts)), build_policy(**asdict(parts_ro), report_only=True)
            )  # fmt: skip
        return response
