"""`GET /crm/attribute/usage`: the usage audit (`attributes.selectors.usage_report`) as JSON, a page of names at a time.

The figures are the summary the refresh job keeps (`as_of` says when it ran); defined and description are live.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from crm_project.api import HeaderLimitOffsetPagination, SpecDateTimeField
from crm_project.parsing import unstorable_character
from crm_project.replicas import replica_reads

from .. import selectors
from ..permissions import Action, AttributeApiPermission
from ..validators import NAME_MAX_LENGTH
from .views import PAGING

ALLOWED_PARAMS = {"limit", "offset", "name_prefix", "format"}


class TopValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField(help_text="Customers with this value.")


class NameUsageSerializer(serializers.Serializer):
    attribute_name = serializers.CharField(source="name")
    customers = serializers.IntegerField(help_text="Customers that have the name.")
    distinct_values = serializers.IntegerField()
    top_values = serializers.SerializerMethodField(help_text=f"The {selectors.TOP_VALUES} most common values.")
    last_modified = SpecDateTimeField(help_text="Latest change of any of its values.")
    defined = serializers.BooleanField(help_text="Whether the registry has a definition for the name.")
    description = serializers.CharField(help_text="The registry's description; empty when not defined.")

    @staticmethod
    @extend_schema_field(TopValueSerializer(many=True))
    def get_top_values(obj: selectors.NameUsage) -> list[dict]:
        return [{"value": value, "count": count} for value, count in obj.top_values]


class DefinitionSummarySerializer(serializers.Serializer):
    attribute_name = serializers.CharField(source="name")
    description = serializers.CharField()


class UsageReportSerializer(serializers.Serializer):
    names = NameUsageSerializer(
        many=True, help_text="This page (`limit`, `offset`) of the names in use starting with `name_prefix`, by name."
    )
    unused_definitions = DefinitionSummarySerializer(
        many=True, help_text=f"Defined names no customer has (the first {selectors.LIST_CAP})."
    )
    undefined_names = serializers.ListField(
        source="undefined",
        child=serializers.CharField(),
        help_text=f"Names in use without a registry definition (the first {selectors.LIST_CAP}).",
    )
    near_duplicates = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Groups of similar names (in use or defined), e.g. billing_method, billing_methods, billingmethod "
        f"(the first {selectors.LIST_CAP} groups, each with its first {selectors.GROUP_CAP} members; "
        "with `name_prefix`, the groups with a member starting with it).",
    )
    as_of = SpecDateTimeField(
        allow_null=True,
        help_text="When the figures were refreshed (about every minute); null before the first refresh.",
    )
    names_count = serializers.IntegerField(source="total", help_text="Names in use matching (also `X-Total-Count`).")
    unused_definitions_count = serializers.IntegerField(source="unused_count")
    undefined_names_count = serializers.IntegerField(source="undefined_count")
    near_duplicates_count = serializers.IntegerField(source="near_duplicate_count")


class UsageParamsSerializer(serializers.Serializer):
    name_prefix = serializers.CharField(
        required=False, allow_blank=True, max_length=NAME_MAX_LENGTH, trim_whitespace=False
    )

    def validate_name_prefix(self, value: str) -> str:
        if unstorable_character(value) is not None:
            raise ValidationError("Must not contain NUL or lone surrogates.")
        return value


class AttributeUsageViewSet(viewsets.ViewSet):
    """The usage audit; read-only."""

    permission_classes = [AttributeApiPermission]
    required_actions = {"usage": Action.VIEW}

    @extend_schema(
        operation_id="attribute_usage",
        summary="Usage audit of attribute names",
        description="Required permission: `view_customer_attribute`. A page of the names in use (by name, at most "
        "1000; `X-Total-Count` and `Link` headers) with their number of customers, distinct values, most common "
        "values and last change, and whether the registry defines it; defined names nobody uses; names used but not "
        "defined; groups of near-duplicate names. The figures are as of `as_of` (a background refresh about every "
        "minute); `defined` and `description` are read live. Unknown query parameters are a 400.",
        parameters=[
            OpenApiParameter("name_prefix", str, description="Only names starting with this (case-sensitive)."),
            *PAGING,
        ],
        responses={
            200: UsageReportSerializer,
            400: OpenApiResponse(description="An unknown parameter, or an invalid `limit`, `offset` or `name_prefix`."),
            401: OpenApiResponse(description="No valid credentials (send `Authorization: Bearer <token>`)."),
            403: OpenApiResponse(description="The user lacks view_customer_attribute."),
            429: OpenApiResponse(description="Too many requests; retry after `Retry-After` seconds."),
        },
    )
    @replica_reads
    def usage(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - ALLOWED_PARAMS)
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        params = UsageParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        paginator = HeaderLimitOffsetPagination()
        paginator.request = request
        paginator.limit, paginator.offset = paginator.get_limit(request), paginator.get_offset(request)
        prefix = params.validated_data.get("name_prefix", "")
        report = selectors.usage_report(name_prefix=prefix, offset=paginator.offset, limit=paginator.limit)
        paginator.count = report.total
        return paginator.get_paginated_response(UsageReportSerializer(report).data)
