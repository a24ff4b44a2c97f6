from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response

from crm_project.api import ERRORS, UNSUPPORTED, HeaderLimitOffsetPagination, object_id

from .. import extensions
from ..models import Customer
from .serializers import CustomerSerializer

NOT_FOUND = {404: OpenApiResponse(description="No such customer.")}
PAGING = [
    OpenApiParameter("limit", int, description="Page size, 1 to 1000 (default 1000)."),
    OpenApiParameter("offset", int, description="Number of customers to skip, at most 100000 (deeper: `after`)."),
    OpenApiParameter(
        "after",
        int,
        description="Customers after this customer_id (the `Link` header's next link uses it); not with offset.",
    ),
]
PAGING_PARAMS = {"limit", "offset", "after", "format"}


class CustomerModelPermissions(DjangoModelPermissions):
    """Django's model permissions, with GET needing `view_customer` (DRF's default lets every GET through)."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"]}
    perms_map["HEAD"] = perms_map["GET"]
    perms_map["PUT"] = ["%(app_label)s.add_%(model_name)s"]

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated and getattr(view, "action", None) is None:
            return True  # a method the endpoint lacks: 405 for everyone signed in, not 403 for some
        return super().has_permission(request, view)


class CustomerViewSet(viewsets.GenericViewSet):
    """Customers: list (paged), create, read, change, delete."""

    queryset = Customer.objects.order_by("customer_id")
    serializer_class = CustomerSerializer
    permission_classes = [CustomerModelPermissions]
    pagination_class = HeaderLimitOffsetPagination

    def get_object(self) -> Customer:
        return get_object_or_404(Customer, pk=object_id(self.kwargs["customer_id"]))

    @extend_schema(
        operation_id="customer_list",
        summary="List customers",
        description="Required permission: `customers.view_customer`. A JSON list in pages of at most 1000; "
        'the next page is in the `Link: <…>; rel="next"` header and the total in `X-Total-Count`. '
        "Filter by attribute with the `attribute…` parameters (all must hold; needs `view_customer_attribute` "
        "too); unknown parameters are a 400.",
        parameters=[*extensions.api_parameters(), *PAGING],
        responses={200: CustomerSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        applied = []
        for list_filter in extensions.list_filters():
            ignore = extensions.others_params(list_filter, PAGING_PARAMS)
            if (result := list_filter.for_api(request, queryset, ignore=ignore)) is not None:
                applied.append(result)
                queryset = result.queryset
        if len(applied) == 1:  # the filter counts its own matches faster than a count of the filtered query
            self.paginator.total = applied[0].count()
        self.paginator.keyset = "customer_id"
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customer_create",
        summary="Create a customer",
        description="Required permission: `customers.add_customer`.",
        request=CustomerSerializer,
        responses={201: CustomerSerializer, **ERRORS, **UNSUPPORTED},
    )
    def create(self, request, *args, **kwargs):
        serializer = CustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="customer_retrieve",
        summary="Get a customer",
        description="Required permission: `customers.view_customer`.",
        responses={200: CustomerSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(CustomerSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="customer_update",
        summary="Change a customer",
        description="Required permission: `customers.change_customer`.",
        request=CustomerSerializer(partial=True),
        responses={200: CustomerSerializer, **ERRORS, **NOT_FOUND, **UNSUPPORTED},
    )
    def partial_update(self, request, *args, **kwargs):
        serializer = CustomerSerializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    @extend_schema(
        operation_id="customer_delete",
        summary="Delete a customer and its attributes",
        description="Required permission: `customers.delete_customer`.",
        responses={200: OpenApiResponse(description='`{"result": "success"}`'), **ERRORS, **NOT_FOUND},
    )
    def destroy(self, request, *args, **kwargs):
        self.get_object().delete()
        return Response({"result": "success"})
