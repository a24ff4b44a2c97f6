"""`GET /crm/attribute/reveal-log/`: every read of a sensitive value, newest first (registry permission)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from crm_project.api import ERRORS, HeaderLimitOffsetPagination, SpecDateTimeField
from crm_project.parsing import parse_id

from .. import permissions, selectors
from ..models import SensitiveReveal


class RevealSerializer(serializers.ModelSerializer):
    reveal_id = serializers.IntegerField(source="id")
    username = serializers.CharField(help_text="Who read it; empty for system code.")
    at = SpecDateTimeField()

    class Meta:
        model = SensitiveReveal
        fields = ["reveal_id", "at", "username", "token_name", "customer_id", "attribute_name", "channel"]
        read_only_fields = fields


class RegistryOnly(permissions.RegistryApiPermission):
    """Reading the reveal log is a registry matter: `manage_attribute_registry`, GET included."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method != "OPTIONS":
            permissions.require_registry(request.user, "You need the manage_attribute_registry permission.")
        return True


class RevealLogViewSet(viewsets.GenericViewSet):
    permission_classes = [RegistryOnly]
    pagination_class = HeaderLimitOffsetPagination
    serializer_class = RevealSerializer

    @extend_schema(
        operation_id="attribute_reveal_log",
        summary="Reads of sensitive values",
        description="Required permission: `manage_attribute_registry`. Every read of a sensitive value (a Reveal "
        "in the tab, an API response that returned it, a CSV export that included it): who, token, when, which "
        "customer and name, channel. Newest first, in pages of at most 1000.",
        parameters=[
            OpenApiParameter("customer_id", int, description="Only this customer's."),
            OpenApiParameter("attribute_name", str, description="Only this name's."),
            OpenApiParameter("limit", int, description="Page size, 1 to 1000 (default 1000)."),
            OpenApiParameter("offset", int, description="Number of rows to skip."),
        ],
        responses={200: RevealSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        params = request.query_params
        unknown = sorted(set(params) - {"customer_id", "attribute_name", "limit", "offset", "format"})
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        filters = {}
        if "customer_id" in params:
            if (customer_id := parse_id(params["customer_id"])) is None:
                raise ValidationError({"customer_id": ["Must be a positive integer."]})
            filters["customer_id"] = customer_id
        if "attribute_name" in params:
            filters["attribute_name"] = params["attribute_name"]
        page = self.paginate_queryset(selectors.reveal_log(**filters))
        return self.get_paginated_response(RevealSerializer(page, many=True).data)
