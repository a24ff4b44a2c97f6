"""History endpoints: every recorded change of a customer's attributes, or of one attribute (even deleted), and
the restore of one recorded change (the History tab's Restore button)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets

from crm_project.api import HeaderLimitOffsetPagination, SpecDateTimeField, object_id
from crm_project.replicas import replica_reads
from customers.models import Customer

from .. import selectors, sensitive, services
from ..history import ACTIONS
from ..models import Attribute
from ..permissions import Action, AttributeApiPermission
from .serializers import AttributeSerializer
from .views import BEING_RENAMED, ERRORS, PAGING, attribute_response


class AttributeHistorySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    attribute_id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    action = serializers.SerializerMethodField(help_text="created, updated or deleted")
    operation = serializers.CharField(help_text="create, update, rename, delete, restore, bulk, import, …")
    attribute_name = serializers.CharField(help_text="The name after the change (at deletion: the deleted name).")
    attribute_value = serializers.CharField(
        allow_null=True,
        help_text="The value after the change (at deletion: the deleted value); null for a sensitive value.",
    )
    previous_name = serializers.CharField(help_text="The name before a rename; empty otherwise.")
    previous_value = serializers.CharField(
        allow_null=True, help_text="The value before an update; empty otherwise; null for a sensitive value."
    )
    sensitive = serializers.BooleanField(
        required=False, help_text="Present (true) for a sensitive value: only that it changed is shown."
    )
    changed_at = SpecDateTimeField(source="history_date")
    changed_by = serializers.CharField(source="actor_name", help_text="Username; empty for system writes.")
    token_name = serializers.CharField(help_text="API token used, if any.")
    channel = serializers.CharField(help_text="ui, api, admin, cli, seed or system")
    request_id = serializers.CharField(help_text="X-Request-ID of the request (or the job's) that made the change.")

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        if not getattr(instance, "sensitive", False):
            data.pop("sensitive", None)  # plain rows keep the shape they always had
        return data

    def get_action(self, record) -> str:
        return ACTIONS[record.history_type]


HISTORY_ERRORS = {
    400: OpenApiResponse(description="Invalid `limit` or `offset`."),
    401: OpenApiResponse(description="No valid credentials."),
    403: OpenApiResponse(description="Needs `view_customer_attribute`."),
    404: OpenApiResponse(description="No such customer, or no history for this attribute id."),
    429: OpenApiResponse(description="Too many requests; retry after `Retry-After` seconds."),
}


class AttributeHistoryViewSet(viewsets.GenericViewSet):
    """Attribute history, newest first, in pages of at most 1000 (Link and X-Total-Count headers)."""

    permission_classes = [AttributeApiPermission]
    pagination_class = HeaderLimitOffsetPagination
    serializer_class = AttributeHistorySerializer
    # A restore is a write by name: the service adds update_customer_attribute when the name exists.
    required_actions = {"for_customer": Action.VIEW, "for_attribute": Action.VIEW, "restore": Action.CREATE}

    def get_queryset(self):
        return selectors.history_records()

    def _page(self, queryset):
        page = self.paginate_queryset(queryset)
        sensitive.mask_records(page)
        return self.get_paginated_response(AttributeHistorySerializer(page, many=True).data)

    @extend_schema(
        operation_id="attribute_history_for_customer",
        summary="History of a customer's attributes",
        description="Required permission: `view_customer_attribute`. Every create, update, rename and delete, "
        "newest first, from any path; survives the attributes' deletion.",
        parameters=PAGING,
        responses={200: AttributeHistorySerializer(many=True), **HISTORY_ERRORS},
    )
    @replica_reads
    def for_customer(self, request, customer_id, *args, **kwargs):
        customer = get_object_or_404(Customer, pk=object_id(customer_id))
        return self._page(selectors.history_records(customer_id=customer.pk))

    @extend_schema(
        operation_id="attribute_history_for_attribute",
        summary="History of one attribute",
        description="Required permission: `view_customer_attribute`. Works for deleted attributes too.",
        parameters=PAGING,
        responses={200: AttributeHistorySerializer(many=True), **HISTORY_ERRORS},
    )
    @replica_reads
    def for_attribute(self, request, attribute_id, *args, **kwargs):
        records = selectors.history_records(attribute_id=object_id(attribute_id))
        if not records.exists():
            raise Http404("No history for this attribute id.")
        return self._page(records)

    @extend_schema(
        operation_id="attribute_history_restore",
        summary="Restore a recorded change",
        description="Required permission: `create_customer_attribute` (and `update_customer_attribute` when the "
        "customer has the name now). Writes the name and value the history row recorded (a deleted attribute "
        "comes back, or an earlier value) through the normal write path: validated, recorded with operation "
        "`restore`, and published as a change event.",
        request=None,
        responses={
            201: OpenApiResponse(AttributeSerializer, description="Restored as a new attribute."),
            200: OpenApiResponse(AttributeSerializer, description="Restored over the current value (or unchanged)."),
            **ERRORS,
            404: OpenApiResponse(description="No such history entry."),
            **BEING_RENAMED,
        },
    )
    def restore(self, request, history_id, *args, **kwargs):
        try:
            outcome = services.attribute_restore(history_id=object_id(history_id), actor=request.user)
        except Attribute.history.model.DoesNotExist:
            raise Http404("No such history entry.") from None
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return attribute_response(outcome.attribute, request, code)
