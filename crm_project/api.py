"""API plumbing shared by every app's endpoints: strict JSON fields, errors, paging and throttling."""

import codecs
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from .parsing import MAX_ID, parse_id, parse_int, unstorable_character

# Responses every operation may give, for the OpenAPI schema.
ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each failing field and the reason."),
    401: OpenApiResponse(description="No valid credentials (send `Authorization: Bearer <token>`)."),
    403: OpenApiResponse(description="The user lacks the permission this operation needs."),
    429: OpenApiResponse(description="Too many requests; retry after `Retry-After` seconds."),
}
UNSUPPORTED = {
    413: OpenApiResponse(description="The body is larger than the server accepts."),
    415: OpenApiResponse(description="The body is not `application/json`."),
}

# The specification's timestamp format: "2025-01-04 10:30:00", in the configured TIME_ZONE.
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "example": "2025-01-04 10:30:00"}
)
class SpecDateTimeField(serializers.DateTimeField):
    """A read-only timestamp as the specification writes it, "2025-01-04 10:30:00", in TIME_ZONE."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", DATETIME_FORMAT)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


def object_id(raw: str | int) -> int:
    """An id from a URL; anything but 1 to 2**63 - 1 in ASCII digits names nothing (404), never a 500."""
    number = parse_id(str(raw)) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if number is None:
        raise Http404("Not found.")
    return number


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would turn 123 or true into "123"/"True"."""

    default_error_messages = {"invalid": "Must be a JSON string."}

    def __init__(self, **kwargs):
        # The service trims and validates (one set of rules for every path); the API only checks the type.
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false and nothing else (DRF's BooleanField would take "yes", 1 or "on")."""

    default_error_messages = {"invalid": "Must be a JSON boolean."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else: no "12", 12.0 or true, and within 64-bit range."""

    default_error_messages = {"invalid": "Must be a JSON integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class DirectRepresentationMixin:
    """Render `Meta.fields` straight from the instance's attributes, timestamps in the specification's format.

    The same output as the declared fields, built directly: lists of up to 1000 objects are the API's hottest
    path, and DRF's field-by-field rendering was a fifth of a request's time (cProfile, bench list and find).
    Only for plain fields whose value is the attribute itself (ids, text, timestamps).
    """

    timestamp_fields: tuple[str, ...] = ("created", "last_modified")

    def to_representation(self, instance) -> dict:
        data = {name: getattr(instance, name) for name in getattr(self, "represented_fields", self.Meta.fields)}
        tz = timezone.get_current_timezone()  # once, not per field: it is a context-local lookup
        for name in self.timestamp_fields:
            data[name] = data[name].astimezone(tz).strftime(DATETIME_FORMAT)
        return data


class NoUnknownFieldsMixin:
    """Reject keys the endpoint does not know (a typo must not be silently ignored).

    Read-only fields of the resource (ids, timestamps) may be echoed back and are ignored, never applied.
    """

    ignored_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = set(data) - set(self.fields) - set(self.ignored_fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return super().to_internal_value(data)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Busy(exceptions.APIException):
    status_code = 409
    default_detail = "The resource is busy; try again shortly."
    default_code = "busy"


def exception_handler(exc, context):
    """DRF handles its own exceptions; map Django's ValidationError to 400 and keep permission messages.

    Django's refusals of oversized requests would otherwise be an HTML 400 page on a JSON API. A ValidationError
    with a `retry_after` (a name a rename job holds) is a temporary conflict: 409 with `Retry-After`.
    """
    if isinstance(exc, DjangoValidationError) and getattr(exc, "retry_after", None):
        response = drf_exception_handler(Busy(" ".join(exc.messages)), context)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    return drf_exception_handler(exc, context)


class HeaderLimitOffsetPagination(LimitOffsetPagination):
    """Pages of at most 1000 as a plain JSON list; paging travels in RFC 8288 `Link` and `X-Total-Count`.

    Bounded at any size:
    - `X-Total-Count` counts at most COUNT_CAP matches (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`); past that the
      header is left out, as GitLab's API leaves out `X-Total` past 10,000 (counting every one of 10M rows took
      400 ms). Whether there is a next page is known from reading one row more than the page.
    - A list ordered by a unique key (the view sets `keyset`) also takes `after=<key>`: the rows after that key,
      an index range read at any depth. Its `Link: rel="next"` uses `after`, so a client that follows the links
      never pays for depth; `offset` stays for the first MAX_OFFSET rows (an OFFSET reads every row it skips).
    """

    default_limit = 1000
    max_limit = 1000
    MAX_OFFSET = 100_000
    COUNT_CAP = 1_000_000
    after_query_param = "after"

    # A view that can count faster than `queryset.count()` sets this before paginating.
    total: int | None = None
    # A view whose queryset is ordered by this unique integer field (ascending) sets it, to allow `after`.
    keyset: str | None = None
    # Set by paginate_queryset; a view that pages by itself sets `count` and leaves these.
    after: int | None = None
    has_next: bool | None = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.after = self.get_after(request)
        self.count = self.get_count(queryset)
        if self.after is not None:
            queryset = queryset.filter(**{f"{self.keyset}__gt": self.after})
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        self.rows = rows[: self.limit]
        return self.rows

    def get_count(self, queryset) -> int | None:
        if self.total is not None:
            return self.total
        counted = queryset.order_by()[: self.COUNT_CAP + 1].count()
        return None if counted > self.COUNT_CAP else counted

    def get_next_link(self):
        more = self.has_next if self.has_next is not None else self.offset + self.limit < (self.count or 0)
        if not more:
            return None
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
        if self.keyset is not None and self.offset == 0:
            last = self.rows[-1]
            key = last[self.keyset] if isinstance(last, dict) else getattr(last, self.keyset)
            return replace_query_param(url, self.after_query_param, key)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self):
        return None if self.after is not None else super().get_previous_link()  # `after` pages go forward only

    def get_paginated_response(self, data):
        links = []
        if (url := self.get_next_link()) is not None:
            links.append(f'<{url}>; rel="next"')
        if (url := self.get_previous_link()) is not None:
            links.append(f'<{url}>; rel="prev"')
        headers = {} if self.count is None else {"X-Total-Count": str(self.count)}
        if links:
            headers["Link"] = ", ".join(links)
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is not None and parse_int(raw, minimum=1, maximum=10**9) is None:
            raise exceptions.ValidationError({"limit": [f"Must be an integer from 1 to {self.max_limit}."]})
        return super().get_limit(request)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        offset = parse_int(raw)
        if offset is None:
            raise exceptions.ValidationError({"offset": ["Must be a non-negative integer."]})
        if self.keyset is not None and offset > self.MAX_OFFSET:
            raise exceptions.ValidationError(
                {
                    "offset": [
                        f"At most {self.MAX_OFFSET}: page further with `{self.after_query_param}` (the next link in "
                        "the `Link` header does)."
                    ]
                }
            )
        return offset

    def get_after(self, request) -> int | None:
        raw = request.query_params.get(self.after_query_param)
        if raw is None or self.keyset is None:
            return None
        after = parse_int(raw)
        if after is None:
            raise exceptions.ValidationError({self.after_query_param: ["Must be a non-negative integer."]})
        if self.offset_query_param in request.query_params:
            raise exceptions.ValidationError({self.after_query_param: ["Give `after` or `offset`, not both."]})
        return after


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """object_pairs_hook: `{"customer_id": 1, "customer_id": 2}` is ambiguous, so it is refused, not last-wins."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        name = f"“{duplicate}”" if unstorable_character(duplicate) is None else "a key"
        raise exceptions.ParseError(f"JSON parse error - {name} appears more than once in an object.")
    return data


def _first_unstorable(data) -> str | None:
    """The first NUL or lone surrogate in any key or string of parsed JSON (iteratively: no deep recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if (char := unstorable_character(key)) is not None:
                    return char
                pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and (char := unstorable_character(item)) is not None:
            return char
    return None


def unstorable_message(char: str) -> str:
    if char == "\x00":
        return "Null characters are not allowed (U+0000)."
    return f"Lone surrogate characters are not allowed (U+{ord(char):04X}); send valid Unicode."


class SafeJSONParser(JSONParser):
    """Strict JSON: one value per key, text every database can store, no NaN, no RecursionError on deep nesting.

    JSON can spell what UTF-8 cannot (`"\\ud800"`) and what PostgreSQL cannot store (`"\\u0000"`). Either,
    anywhere in the body, is refused here, before any of it reaches a query or an error message that would
    echo it (rendering the echo of a lone surrogate fails). The error names the top-level field when there is
    one and never repeats the character itself.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            reader = codecs.getreader(encoding)(stream)
            data = json.load(reader, object_pairs_hook=_no_duplicate_keys, parse_constant=strict_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:  # invalid JSON or invalid UTF-8
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        if (char := _first_unstorable(data)) is not None:
            if isinstance(data, dict):
                for key, value in data.items():
                    if unstorable_character(key) is None and (found := _first_unstorable(value)) is not None:
                        raise exceptions.ValidationError({key: [unstorable_message(found)]})
            raise exceptions.ParseError(f"JSON parse error - {unstorable_message(char)}")
        return data


class StrictBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API without its inline <style> of syntax colours, so the strict CSP holds there too."""

    def get_context(self, *args, **kwargs):
        context = super().get_context(*args, **kwargs)
        context["code_style"] = None
        return context


class FastContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for what integrations send: no `Accept`, `*/*` or exactly the first
    renderer's type (JSON), without `?format=`. DRF parses and ranks the Accept list on every request to reach the
    same answer (the first renderer and its media type): 5% of the hottest GET in the profile (issue 17)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0] if renderers else None
        if first is not None and not format_suffix:
            accept = request.META.get("HTTP_ACCEPT")
            param = self.settings.URL_FORMAT_OVERRIDE
            override = param and request.META.get("QUERY_STRING") and param in request.query_params
            if accept in (None, "", "*/*", first.media_type) and not override:
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)


def rendered(view, data) -> HttpResponse | Response:
    """`Response(data)` of a view, rendered at once when content negotiation chose DRF's JSON renderer (what every
    integration gets): the same body and Content-Type, without a response to build as a template and render after
    the view. Building and rendering that TemplateResponse was a twentieth of the hottest GET (issue 17). Any other
    renderer (the browsable API) gets DRF's Response as before; DRF adds its Allow and Vary headers to either."""
    request = view.request
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is not JSONRenderer:
        return Response(data)
    body = renderer.render(data, request.accepted_media_type, view.get_renderer_context())
    return HttpResponse(body, content_type=renderer.media_type)
