"""Refuse, up front, request text that no field accepts and no database can store.

PostgreSQL text cannot hold NUL: a `%00` in any query parameter or form field that reached a query was a
`DataError` (500). Rather than re-checking every parameter in every view, this middleware answers 400 to a
request whose query string or form body (names or values; uploaded files are checked by their importer)
holds NUL or a lone surrogate: JSON under /crm/, plain text elsewhere. JSON bodies are checked by the API's
parser (`crm_project.api.SafeJSONParser`). The message names the parameter but never echoes the character.
"""

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

from .parsing import unstorable_character

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _offending_field(data) -> str | None:
    for key, values in data.lists():
        if unstorable_character(key) is not None:
            return ""
        if any(unstorable_character(value) is not None for value in values if isinstance(value, str)):
            return key
    return None


class RejectUnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            # No query string, no parameters: request.GET is left unmade (most API calls have none).
            field = _offending_field(request.GET) if request.META.get("QUERY_STRING") else None
            if field is None and request.method == "POST" and request.content_type in FORM_TYPES:
                field = _offending_field(request.POST)
        except (SuspiciousOperation, MultiPartParserError, OSError):
            field = None  # too many fields, an oversized or malformed body: the view refuses it, as before
        if field is not None:
            return self.refuse(request, field)
        return self.get_response(request)

    @staticmethod
    def refuse(request, field: str) -> HttpResponse:
        where = f"“{field}”" if field else "a parameter name"
        message = f"Invalid input: {where} contains a NUL character or a lone surrogate, which no field accepts."
        if request.path_info.startswith("/crm/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
