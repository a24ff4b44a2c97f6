"""`/crm/webhook/…`: manage webhook endpoints and see their deliveries. Every route needs `manage_webhooks`."""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from attributes.permissions import WebhooksApiPermission
from crm_project.api import HeaderLimitOffsetPagination, object_id
from jobs.api import accepted

from . import selectors, services
from .models import Delivery, Webhook

ERRORS = {
    400: OpenApiResponse(description="Invalid input; nothing changed."),
    401: OpenApiResponse(description="No valid credentials."),
    403: OpenApiResponse(description="Needs `manage_webhooks`."),
    404: OpenApiResponse(description="No such webhook or delivery."),
}


class WebhookSerializer(serializers.ModelSerializer):
    health = serializers.CharField(read_only=True, help_text="healthy, failing or disabled")

    class Meta:
        model = Webhook
        fields = [
            "webhook_id", "url", "description", "event_types", "attribute_names", "enabled", "disabled_reason",
            "health", "failing_since", "last_success", "created", "last_modified",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_…): shown this once only.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    """Parses only: the service validates (URL safety, known event types)."""

    url = serializers.CharField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(child=serializers.CharField(max_length=32), max_length=10)
    attribute_names = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list, max_length=100
    )
    enabled = serializers.BooleanField(required=False, default=True)

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(self.fields))):
            raise ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class AttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="Null: no answer (timeout, refused, …).")
    duration_ms = serializers.IntegerField()
    error = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField(source="id")
    message_id = serializers.UUIDField(help_text="The webhook-id header: the event id.")
    event_type = serializers.CharField()
    sequence = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    attempt_log = AttemptSerializer(many=True, help_text="Every try, newest first.")


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new secret; the previous one also signs for 24 hours.")


class ReplaySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=2**63 - 1)


def _webhook(webhook_id: str) -> Webhook:
    try:
        key = uuid.UUID(str(webhook_id))
    except ValueError:
        raise Http404("No such webhook.") from None
    return get_object_or_404(Webhook, pk=key)


def _call(function, **kwargs):
    """Services raise Django's ValidationError; the API answers 400 with its messages."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from None


class WebhookViewSet(viewsets.GenericViewSet):
    permission_classes = [WebhooksApiPermission]
    serializer_class = WebhookSerializer
    pagination_class = HeaderLimitOffsetPagination

    def get_queryset(self):
        return Webhook.objects.all()

    @extend_schema(operation_id="webhook_list", summary="List webhooks", responses={200: WebhookSerializer(many=True),
                   **ERRORS})  # fmt: skip
    def list(self, request):
        page = self.paginate_queryset(Webhook.objects.order_by("created"))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhook_create",
        summary="Create a webhook",
        description="Required permission: `manage_webhooks`. Answers the signing `secret` once.",
        request=WebhookInputSerializer,
        responses={201: WebhookCreatedSerializer, **ERRORS},
    )
    def create(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = _call(services.webhook_create, actor=request.user, **data.validated_data)
        body = WebhookSerializer(webhook).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="webhook_retrieve", responses={200: WebhookSerializer, **ERRORS})
    def retrieve(self, request, webhook_id):
        return Response(WebhookSerializer(_webhook(webhook_id)).data)

    @extend_schema(
        operation_id="webhook_update", request=WebhookInputSerializer(partial=True),
        responses={200: WebhookSerializer, **ERRORS},
    )  # fmt: skip
    def partial_update(self, request, webhook_id):
        webhook = _webhook(webhook_id)
        data = WebhookInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {name: data.validated_data[name] for name in request.data if name in data.validated_data}
        webhook = _call(services.webhook_update, actor=request.user, webhook=webhook, **changes)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(operation_id="webhook_delete", responses={200: OpenApiResponse(description="Deleted."), **ERRORS})
    def destroy(self, request, webhook_id):
        services.webhook_delete(actor=request.user, webhook=_webhook(webhook_id))
        return Response({"result": "success"})

    @extend_schema(operation_id="webhook_rotate_secret", request=None, responses={200: SecretSerializer, **ERRORS})
    def rotate_secret(self, request, webhook_id):
        secret = services.webhook_rotate_secret(actor=request.user, webhook=_webhook(webhook_id))
        return Response({"secret": secret})

    @extend_schema(operation_id="webhook_test", request=None, responses={200: DeliverySerializer, **ERRORS})
    def test(self, request, webhook_id):
        delivery = services.webhook_test(actor=request.user, webhook=_webhook(webhook_id))
        return Response(DeliverySerializer(selectors.delivery_with_attempts(delivery.pk)).data)

    @extend_schema(operation_id="webhook_deliveries", responses={200: DeliverySerializer(many=True), **ERRORS})
    def deliveries(self, request, webhook_id):
        webhook = _webhook(webhook_id)
        page = self.paginate_queryset(selectors.deliveries(webhook))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(operation_id="webhook_delivery_retry", request=None, responses={200: DeliverySerializer, **ERRORS})
    def retry(self, request, webhook_id, delivery_id):
        webhook = _webhook(webhook_id)
        delivery = get_object_or_404(Delivery, webhook=webhook, pk=object_id(delivery_id))
        delivery = _call(services.delivery_retry, actor=request.user, delivery=delivery)
        return Response(DeliverySerializer(selectors.delivery_with_attempts(delivery.pk)).data)

    @extend_schema(
        operation_id="webhook_replay", request=ReplaySerializer,
        responses={202: OpenApiResponse(description="A replay job was started."), **ERRORS},
    )  # fmt: skip
    def replay(self, request, webhook_id):
        webhook = _webhook(webhook_id)
        data = ReplaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = _call(services.webhook_replay, actor=request.user, webhook=webhook, after=data.validated_data["after"])
        return accepted(job)
