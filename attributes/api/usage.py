"""`GET /crm/attribute/usage`: the usage audit (`attributes.selectors.usage_report`) as JSON."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from crm_project.api import SpecDateTimeField

from .. import selectors
from ..permissions import Action, AttributeApiPermission


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
    names = NameUsageSerializer(many=True, help_text="Every attribute name in use, by name.")
    unused_definitions = DefinitionSummarySerializer(many=True, help_text="Defined names no customer has.")
    undefined_names = serializers.ListField(
        source="undefined", child=serializers.CharField(), help_text="Names in use without a registry definition."
    )
    near_duplicates = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Groups of similar names (in use or defined), e.g. billing_method, billing_methods, billingmethod.",
    )


class AttributeUsageViewSet(viewsets.ViewSet):
    """The usage audit; read-only."""

    permission_classes = [AttributeApiPermission]
    required_actions = {"usage": Action.VIEW}

    @extend_schema(
        operation_id="attribute_usage",
        summary="Usage audit of attribute names",
        description="Required permission: `view_customer_attribute`. Every name in use with its number of "
        "customers, distinct values, most common values and last change, and whether the registry defines it; "
        "defined names nobody uses; names used but not defined; groups of near-duplicate names.",
        responses={
            200: UsageReportSerializer,
            401: OpenApiResponse(description="No valid credentials (send `Authorization: Bearer <token>`)."),
            403: OpenApiResponse(description="The user lacks view_customer_attribute."),
            429: OpenApiResponse(description="Too many requests; retry after `Retry-After` seconds."),
        },
    )
    def usage(self, request, *args, **kwargs):
        return Response(UsageReportSerializer(selectors.usage_report()).data)
