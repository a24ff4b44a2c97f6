"""The documented attribute endpoints, plus search, bulk writes and CSV export.

Thin: parse with a serializer, call a service, render. Every single-attribute response carries an
`ETag`; `If-Match` (PATCH, DELETE, updating PUT) and `If-None-Match: *` (create-only PUT) guard
against lost updates with 412 and the current attribute.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response

from crm_project.api import ERRORS, MAX_ID, UNSUPPORTED, HeaderLimitOffsetPagination, object_id, rendered
from crm_project.parsing import parse_id
from crm_project.replicas import replica_reads
from customers.models import Customer
from tokens.selectors import Companion

from .. import csvio, filters, selectors, sensitive, services
from ..models import Attribute
from ..permissions import Action, AttributeApiPermission, has_permission
from .serializers import (
    AttributePatchSerializer,
    AttributePutSerializer,
    AttributeSerializer,
    BulkErrorSerializer,
    BulkResultSerializer,
    DeleteResultSerializer,
)

BEING_RENAMED = {
    409: OpenApiResponse(description="A rename job holds the name; nothing was written. Retry after `Retry-After`.")
}
NOT_FOUND = {404: OpenApiResponse(description="No such attribute or customer.")}
STALE = {
    412: OpenApiResponse(
        AttributeSerializer, description="Precondition failed: the body is the current attribute (If-Match stale)."
    )
}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Only write if the attribute's current ETag is one of these (or `*`: if it exists).",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`*`: create only; 412 when the customer already has the name.",
)
SEARCH_PARAMS = [
    OpenApiParameter("attribute_name", str, description="Attribute name the value operators test."),
    OpenApiParameter("attribute_value", str, description="Exact value."),
    OpenApiParameter("attribute_value__in", str, description="Comma-separated values."),
    OpenApiParameter("attribute_value__startswith", str, description="Value prefix."),
    OpenApiParameter("attribute_value__icontains", str, description="Substring, case-insensitive."),
]
CUSTOMER_SEARCH_PARAMS = [
    *SEARCH_PARAMS,
    OpenApiParameter("attribute_exists", OpenApiTypes.BOOL, description="Has (true) or lacks (false) the name."),
    OpenApiParameter("attribute", str, many=True, description="`name:value`, repeatable; all must hold."),
]
PAGING = [
    OpenApiParameter("limit", int, description="Page size, 1 to 1000 (default 1000)."),
    OpenApiParameter("offset", int, description="Number of rows to skip."),
]
KEYSET_PAGING = [
    PAGING[0],
    OpenApiParameter("offset", int, description="Number of rows to skip, at most 100000 (deeper: `after`)."),
    OpenApiParameter(
        "after",
        int,
        description="Rows after this attribute_id (the `Link` header's next link uses it); not with offset.",
    ),
]
PAGING_IGNORED = {"limit", "offset", "after", "format"}


def _perm(name: str) -> str:
    return f"Required permission: `{name}`."


def _if_match(request) -> list[str] | None:
    """The entity tags of `If-Match` as Django parses them (`W/` kept, so a weak tag never matches; `["*"]`)."""
    header = request.headers.get("If-Match")
    return parse_etags(header) if header is not None else None


def attribute_response(
    attribute: Attribute, request, code: int = status.HTTP_200_OK, *, read: bool = False
) -> Response:
    """One attribute, its sensitive value masked unless the caller may view it (`read`: a GET, recorded as a
    reveal; a write's response echoes what the caller just sent and is not). The ETag never depends on the plain
    value: a sensitive row's `attribute_value` is its index token."""
    presenter = sensitive.Presenter(request.user, "api", record=read)
    name_sensitive = read and not attribute.value_ciphertext and sensitive.name_is_sensitive(attribute.attribute_name)
    item = presenter.item(
        AttributeSerializer(attribute).data, ciphertext=attribute.value_ciphertext, name_sensitive=name_sensitive
    )
    presenter.flush()
    return Response(item, status=code, headers={"ETag": attribute.etag})


class AttributeViewSet(viewsets.GenericViewSet):
    """Customer attributes: create-or-update by name, read, change, rename, delete, search, bulk, export."""

    queryset = Attribute.objects.all()
    serializer_class = AttributeSerializer
    permission_classes = [AttributeApiPermission]
    required_actions = {
        "upsert": Action.CREATE,
        "bulk": Action.CREATE,
        "retrieve": Action.VIEW,
        "partial_update": Action.UPDATE,
        "destroy": Action.DELETE,
        "list_for_customer": Action.VIEW,
        "list": Action.VIEW,
        "export": Action.VIEW,
    }
    customer_data_actions = frozenset({"export"})  # its CSV has customer_name: also needs customers.view_customer

    @property
    def pagination_class(self):
        # Only the search pages; the customer's attributes are the specification's plain list, never paged.
        return HeaderLimitOffsetPagination if getattr(self, "action", None) == "list" else None

    def get_object(self) -> Attribute:
        return get_object_or_404(Attribute, pk=object_id(self.kwargs["attribute_id"]))

    def handle_exception(self, exc):
        if isinstance(exc, services.PreconditionFailed):
            # The current attribute only for those who may read it; others learn no value.
            if exc.current is None or not has_permission(self.request.user, Action.VIEW):
                return Response({"detail": str(exc)}, status=status.HTTP_412_PRECONDITION_FAILED)
            return attribute_response(exc.current, self.request, status.HTTP_412_PRECONDITION_FAILED)
        if isinstance(exc, Attribute.DoesNotExist):  # deleted by someone else while we worked
            exc = Http404("Not found.")
        if isinstance(exc, ParseError) and getattr(self, "action", None) == "bulk":  # one documented 400 shape for bulk
            return _bulk_errors([services.ItemError(None, "non_field_errors", str(exc.detail))])
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="attribute_upsert",
        summary="Create or update an attribute",
        description=_perm("create_customer_attribute")
        + " When the customer already has the name, the write is an update and also needs "
        "`update_customer_attribute`; the existing `attribute_id` is kept.",
        parameters=[IF_MATCH, IF_NONE_MATCH],
        request=AttributePutSerializer,
        responses={
            201: OpenApiResponse(AttributeSerializer, description="Created."),
            200: OpenApiResponse(AttributeSerializer, description="Updated (or unchanged)."),
            **ERRORS,
            **STALE,
            **BEING_RENAMED,
            **UNSUPPORTED,
        },
    )
    def upsert(self, request, *args, **kwargs):
        body = AttributePutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None and if_none_match.strip() != "*":
            raise ValidationError({"If-None-Match": ["Only `*` (create only) is supported on PUT."]})
        outcome = services.attribute_upsert(
            customer=body.validated_data["customer_id"],  # by id: the write statement checks that it exists
            name=body.validated_data["attribute_name"],
            value=body.validated_data["attribute_value"],
            actor=request.user,
            if_match=_if_match(request),
            create_only=if_none_match is not None,
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return attribute_response(outcome.attribute, request, code)

    @extend_schema(
        operation_id="attribute_retrieve",
        summary="Get an attribute by id",
        description=_perm("view_customer_attribute"),
        responses={200: AttributeSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return attribute_response(self.get_object(), request, read=True)

    @extend_schema(
        operation_id="attribute_update",
        summary="Change an attribute's value or name",
        description=_perm("update_customer_attribute")
        + " A new `attribute_name` renames the attribute (refused if the customer already has that name). "
        "Renaming away from a name the attribute registry marks protected removes that name like a delete: it "
        "also needs delete_customer_attribute and `?confirm=<current attribute_name>`; without them the answer "
        "is a 403, or a 400 naming `confirm`, and nothing changes. "
        "`customer_id`, if sent, must be the attribute's customer.",
        parameters=[
            IF_MATCH,
            OpenApiParameter(
                "confirm",
                str,
                description="The attribute's current name, typed as confirmation; required to rename a protected "
                "name away.",
            ),
        ],
        request=AttributePatchSerializer,
        responses={200: AttributeSerializer, **ERRORS, **NOT_FOUND, **STALE, **BEING_RENAMED, **UNSUPPORTED},
    )
    def partial_update(self, request, *args, **kwargs):
        attribute = self.get_object()
        body = AttributePatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "customer_id" in data and data["customer_id"] != attribute.customer_id:
            raise ValidationError({"customer_id": ["This attribute belongs to another customer."]})
        attribute = services.attribute_update(
            attribute=attribute,
            name=data.get("attribute_name"),
            value=data.get("attribute_value"),
            actor=request.user,
            if_match=_if_match(request),
            confirm=request.query_params.get("confirm"),
        )
        return attribute_response(attribute, request)

    @extend_schema(
        operation_id="attribute_delete",
        summary="Delete an attribute",
        description=_perm("delete_customer_attribute")
        + " A name the attribute registry marks protected also needs `?confirm=<attribute_name>`; without it, "
        "or with another name, the answer is a 400 naming `confirm` and nothing is deleted.",
        parameters=[
            IF_MATCH,
            OpenApiParameter(
                "confirm",
                str,
                description="The attribute's name, typed as confirmation; required when the name is protected.",
            ),
        ],
        responses={200: DeleteResultSerializer, **ERRORS, **NOT_FOUND, **STALE, **BEING_RENAMED},
    )
    def destroy(self, request, *args, **kwargs):
        services.attribute_delete(
            attribute=self.get_object(),
            actor=request.user,
            if_match=_if_match(request),
            confirm=request.query_params.get("confirm"),
        )
        return Response({"result": "success"})

    def token_companion(self, request) -> Companion | None:
        """The customer's attributes read in the bearer token's statement (`tokens.authentication`): the list, the
        API's hottest GET, is one statement where it was two (issue 17)."""
        if self.action != "list_for_customer":
            return None
        customer_id = parse_id(str(self.kwargs.get("customer_id", "")))
        if customer_id is None:
            return None
        sql, params = selectors.customer_attributes_read(customer_id)
        return Companion(sql, params, selectors.load_customer_attributes)

    @extend_schema(
        operation_id="attribute_list_for_customer",
        summary="All attributes of a customer",
        description=_perm("view_customer_attribute") + " A JSON list sorted by name; `[]` when there are none.",
        responses={200: AttributeSerializer(many=True), **ERRORS, **NOT_FOUND},
    )
    def list_for_customer(self, request, customer_id: int, *args, **kwargs):
        customer_id = object_id(customer_id)
        # Read with the bearer token when it came that way (token_companion); DRF has checked permissions since.
        items = getattr(request.auth, "companion", None)
        if items is None:
            items = selectors.customer_attribute_items(customer_id)
        if not items and not Customer.objects.filter(pk=customer_id).exists():  # only then: [] or 404?
            raise Http404("No such customer.")
        presenter = sensitive.Presenter(request.user, "api")
        for item in items:
            presenter.item(item, ciphertext=item.pop("value_ciphertext"), name_sensitive=item.pop("name_sensitive"))
        presenter.flush()
        return rendered(self, items)

    @extend_schema(
        operation_id="attribute_list",
        summary="Find attributes across customers",
        description=_perm("view_customer_attribute")
        + " For audits and integration syncs: attributes filtered by name and value, ordered by id, in pages "
        'of at most 1000 (`Link: <…>; rel="next"`, `X-Total-Count`). Unknown parameters are a 400.',
        parameters=[*SEARCH_PARAMS, *KEYSET_PAGING],
        responses={200: AttributeSerializer(many=True), **ERRORS},
    )
    @replica_reads
    def list(self, request, *args, **kwargs):
        queryset = Attribute.objects.order_by("attribute_id").annotate(name_sensitive=sensitive.sensitive_expression())
        filterset = filters.AttributeFilterSet(request.query_params, queryset=queryset, extra_params=PAGING_IGNORED)
        filterset.validate()
        self.paginator.keyset = "attribute_id"
        page = self.paginate_queryset(filterset.qs)
        items = AttributeSerializer(page, many=True).data
        presenter = sensitive.Presenter(request.user, "api")
        for item, attribute in zip(items, page, strict=True):
            presenter.item(item, ciphertext=attribute.value_ciphertext, name_sensitive=attribute.name_sensitive)
        presenter.flush()
        return self.get_paginated_response(items)

    @extend_schema(
        operation_id="attribute_bulk_upsert",
        summary="Create or update many attributes at once",
        description=_perm("create_customer_attribute")
        + " (and `update_customer_attribute` when an item names an existing attribute). A JSON list of up to "
        "1000 `{customer_id, attribute_name, attribute_value}` items, any customers, applied all-or-nothing in "
        "one transaction. 200: the resulting attributes in request order, each with `result`. 400: "
        '`{"errors": [{"index", "field", "message"}]}` for every failing item; nothing is written.',
        request=AttributePutSerializer(many=True),
        responses={
            200: BulkResultSerializer(many=True),
            **ERRORS,
            400: BulkErrorSerializer,
            **BEING_RENAMED,
            **UNSUPPORTED,
        },
    )
    def bulk(self, request, *args, **kwargs):
        try:
            outcomes = services.attribute_bulk_upsert(
                items=request.data, actor=request.user, ignored_fields=AttributePutSerializer.ignored_fields
            )
        except services.BulkRejected as rejected:
            return _bulk_errors(rejected.errors)
        render = AttributeSerializer().to_representation
        presenter = sensitive.Presenter(request.user, "api", record=False)  # the values the caller just sent
        items = [presenter.item(render(o.attribute), ciphertext=o.attribute.value_ciphertext) for o in outcomes]
        return Response([{**item, "result": o.result.value} for item, o in zip(items, outcomes, strict=True)])

    @extend_schema(
        operation_id="attribute_export_csv",
        summary="Export attributes as CSV",
        description=_perm("view_customer_attribute")
        + " It names customers, so it also needs `customers.view_customer`."
        + " Streams `customer_id,customer_name,attribute_name,attribute_value,last_modified`. Without "
        "parameters: every attribute. `customer_id`: one customer's. The customer search parameters of "
        "`GET /crm/customer/` export the attributes of the matching customers.",
        parameters=[OpenApiParameter("customer_id", int), *CUSTOMER_SEARCH_PARAMS],
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    @replica_reads
    def export(self, request, *args, **kwargs):
        params = request.query_params.copy()
        attributes = Attribute.objects.all()
        filename = "attributes.csv"
        if "customer_id" in params:
            customer_id = parse_id(params.pop("customer_id")[-1])
            if customer_id is None:  # beyond 64 bits or not ASCII digits is invalid input, not a 404
                raise ValidationError({"customer_id": [f"Must be an integer from 1 to {MAX_ID}."]})
            attributes = attributes.filter(customer_id=customer_id)
            filename = f"customer-{customer_id}-attributes.csv"
        attributes = filters.exported_attributes(
            params, customers=Customer.objects.all(), extra_params={"format"}, attributes=attributes
        )
        return csvio.csv_response(attributes, filename, user=request.user)


def _bulk_errors(errors) -> Response:
    body = [{"index": e.index, "field": e.field, "message": e.message} for e in errors]
    return Response({"errors": body}, status=status.HTTP_400_BAD_REQUEST)
