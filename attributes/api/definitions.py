"""`/crm/attribute/definition/…`: the attribute registry over the API.

Reading needs `view_customer_attribute`; writing needs `manage_attribute_registry` (`RegistryApiPermission`).
`PUT /crm/attribute/definition/{name}` creates the definition or replaces it as a whole (fields left out take their
defaults), through the same services as the Registry page and admin.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm_project.api import (
    ERRORS,
    UNSUPPORTED,
    HeaderLimitOffsetPagination,
    NoUnknownFieldsMixin,
    SpecDateTimeField,
    StrictBooleanField,
    StrictCharField,
)

from .. import services
from ..models import AttributeDefinition
from ..permissions import RegistryApiPermission

NOT_FOUND = {404: OpenApiResponse(description="No definition of this name.")}
NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="The attribute name, e.g. `external_crm_id`.")
WRITABLE = [field for field in services.definitions.FIELDS if field != "name"]


class DefinitionSerializer(serializers.ModelSerializer):
    """A registry entry as the API shows it."""

    created = SpecDateTimeField()
    last_modified = SpecDateTimeField()

    class Meta:
        model = AttributeDefinition
        fields = [*services.definitions.FIELDS, "created", "last_modified"]
        read_only_fields = fields


class DefinitionInputSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """Body of `PUT /crm/attribute/definition/{name}`: JSON types only; the service validates (`full_clean`)."""

    ignored_fields = frozenset({"created", "last_modified"})
    name = StrictCharField(required=False, help_text="Optional; must be the name in the path.")
    description = StrictCharField(required=False)
    value_type = serializers.ChoiceField(choices=AttributeDefinition.ValueType.choices, required=False)
    choices = StrictCharField(required=False, help_text="For `choice`: the allowed values, one per line.")
    pattern = StrictCharField(required=False, help_text="For `regex`: the whole value must match it (RE2).")
    example = StrictCharField(required=False)
    dependent_systems = StrictCharField(required=False, help_text="Comma-separated systems that read it.")
    protected = StrictBooleanField(required=False)
    sensitive = StrictBooleanField(required=False, help_text="Store values encrypted and mask them.")


class DefinitionViewSet(viewsets.GenericViewSet):
    """The attribute registry: list, read, create-or-replace by name, delete."""

    queryset = AttributeDefinition.objects.order_by("name")
    serializer_class = DefinitionSerializer
    permission_classes = [RegistryApiPermission]
    pagination_class = HeaderLimitOffsetPagination

    def get_object(self) -> AttributeDefinition:
        definition = AttributeDefinition.objects.filter(name=self.kwargs["name"]).first()
        if definition is None:
            raise Http404("No definition of this name.")
        return definition

    @extend_schema(
        operation_id="attribute_definition_list",
        summary="List the attribute registry",
        description="Required permission: `view_customer_attribute`. Every definition, by name, in pages of at "
        "most 1000 (`Link`, `X-Total-Count`).",
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1 to 1000 (default 1000)."),
            OpenApiParameter("offset", int, description="Number of rows to skip."),
        ],
        responses={200: DefinitionSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - {"limit", "offset", "format"})
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DefinitionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="attribute_definition_retrieve",
        summary="Get the definition of a name",
        description="Required permission: `view_customer_attribute`.",
        parameters=[NAME],
        responses={200: DefinitionSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(DefinitionSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="attribute_definition_put",
        summary="Define a name, or replace its definition",
        description="Required permission: `manage_attribute_registry`. Creates the definition (201) or replaces "
        "it (200); fields left out take their defaults. `sensitive: true` stores the name's values encrypted "
        "and masks them for users without `view_sensitive_customer_attribute`; changing it on a name in use "
        "encrypts or decrypts its stored values in a background job: the response then has `job_id` "
        "(`GET /crm/job/{job_id}` shows its progress).",
        parameters=[NAME],
        request=DefinitionInputSerializer,
        responses={
            201: OpenApiResponse(DefinitionSerializer, description="Created."),
            200: OpenApiResponse(DefinitionSerializer, description="Replaced."),
            **ERRORS,
            **UNSUPPORTED,
        },
    )
    def update(self, request, *args, **kwargs):
        name = self.kwargs["name"]
        body = DefinitionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if data.pop("name", name) != name:
            raise ValidationError({"name": ["Must be the name in the path (rename names with the rename job)."]})
        fields = {
            field: data.get(field, AttributeDefinition._meta.get_field(field).get_default()) for field in WRITABLE
        }
        definition = AttributeDefinition.objects.filter(name=name).first()
        if definition is None:
            definition = services.definition_create(actor=request.user, name=name, **fields)
            code = status.HTTP_201_CREATED
        else:
            definition = services.definition_update(definition=definition, actor=request.user, **fields)
            code = status.HTTP_200_OK
        data = DefinitionSerializer(definition).data
        if getattr(definition, "job", None) is not None:  # the values are being encrypted or decrypted
            data["job_id"] = str(definition.job.pk)
        return Response(data, status=code)

    @extend_schema(
        operation_id="attribute_definition_delete",
        summary="Delete the definition of a name",
        description="Required permission: `manage_attribute_registry`. Customers' attributes of the name stay; "
        "their values are no longer checked. A sensitive name must be unmarked (its values decrypted) first.",
        parameters=[NAME],
        responses={200: OpenApiResponse(description='`{"result": "success"}`'), **ERRORS, **NOT_FOUND},
    )
    def destroy(self, request, *args, **kwargs):
        services.definition_delete(definition=self.get_object(), actor=request.user)
        return Response({"result": "success"})
