"""Project-wide response rules that belong to no app."""

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
