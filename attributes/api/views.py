"""The documented attribute endpoints. Thin: parse with a serializer, call a service, render."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm_project.api import object_id
from customers.models import Customer

from .. import services
from ..models import Attribute
from ..permissions import Action, AttributeApiPermission
from .serializers import AttributePatchSerializer, AttributePutSerializer, AttributeSerializer, DeleteResultSerializer

ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each failing field and the reason."),
    401: OpenApiResponse(description="No valid credentials (send `Authorization: Bearer <token>`)."),
    403: OpenApiResponse(description="The user lacks the permission this operation needs."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such attribute or customer.")}


def _perm(name: str) -> str:
    return f"Required permission: `{name}`."


class AttributeViewSet(viewsets.GenericViewSet):
    """Customer attributes: create-or-update by name, read, change, rename and delete."""

    queryset = Attribute.objects.all()
    serializer_class = AttributeSerializer
    permission_classes = [AttributeApiPermission]
    lookup_field = "attribute_id"
    pagination_class = None
    required_actions = {
        "upsert": Action.CREATE,
        "retrieve": Action.VIEW,
        "partial_update": Action.UPDATE,
        "destroy": Action.DELETE,
        "list_for_customer": Action.VIEW,
    }

    def get_object(self) -> Attribute:
        return get_object_or_404(Attribute, pk=object_id(self.kwargs["attribute_id"]))

    @extend_schema(
        operation_id="attribute_upsert",
        summary="Create or update an attribute",
        description=_perm("create_customer_attribute")
        + " When the customer already has the name, the write is an update and also needs "
        "`update_customer_attribute`; the existing `attribute_id` is kept.",
        request=AttributePutSerializer,
        responses={201: AttributeSerializer, 200: AttributeSerializer, **ERRORS},
    )
    def upsert(self, request, *args, **kwargs):
        body = AttributePutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = Customer.objects.filter(pk=body.validated_data["customer_id"]).first()
        if customer is None:
            raise ValidationError({"customer_id": ["No customer with this id."]})
        outcome = services.attribute_upsert(
            customer=customer,
            name=body.validated_data["attribute_name"],
            value=body.validated_data["attribute_value"],
            actor=request.user,
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return Response(AttributeSerializer(outcome.attribute).data, status=code)

    @extend_schema(
        operation_id="attribute_retrieve",
        summary="Get an attribute by id",
        description=_perm("view_customer_attribute"),
        responses={200: AttributeSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(AttributeSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="attribute_update",
        summary="Change an attribute's value or name",
        description=_perm("update_customer_attribute")
        + " A new `attribute_name` renames the attribute (refused if the customer already has that name). "
        "`customer_id`, if sent, must be the attribute's customer.",
        request=AttributePatchSerializer,
        responses={200: AttributeSerializer, **ERRORS, **NOT_FOUND},
    )
    def partial_update(self, request, *args, **kwargs):
        attribute = self.get_object()
        body = AttributePatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "customer_id" in data and data["customer_id"] != attribute.customer_id:
            raise ValidationError({"customer_id": ["This attribute belongs to another customer."]})
        try:
            attribute = services.attribute_update(
                attribute=attribute,
                name=data.get("attribute_name"),
                value=data.get("attribute_value"),
                actor=request.user,
            )
        except Attribute.DoesNotExist:  # deleted by someone else since we read it
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(AttributeSerializer(attribute).data)

    @extend_schema(
        operation_id="attribute_delete",
        summary="Delete an attribute",
        description=_perm("delete_customer_attribute"),
        responses={200: DeleteResultSerializer, **ERRORS, **NOT_FOUND},
    )
    def destroy(self, request, *args, **kwargs):
        services.attribute_delete(attribute=self.get_object(), actor=request.user)
        return Response({"result": "success"})

    @extend_schema(
        operation_id="attribute_list_for_customer",
        summary="All attributes of a customer",
        description=_perm("view_customer_attribute") + " A JSON list sorted by name; `[]` when there are none.",
        responses={200: AttributeSerializer(many=True), **ERRORS, **NOT_FOUND},
    )
    def list_for_customer(self, request, customer_id: int, *args, **kwargs):
        customer = get_object_or_404(Customer, pk=object_id(customer_id))
        attributes = Attribute.objects.filter(customer=customer).order_by("attribute_name")
        return Response(AttributeSerializer(attributes, many=True).data)
