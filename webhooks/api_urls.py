from django.urls import re_path

from .api import WebhookViewSet

WEBHOOK = r"(?P<webhook_id>[0-9a-fA-F-]{1,36})"

urlpatterns = [
    re_path(r"^webhook/?$", WebhookViewSet.as_view({"get": "list", "post": "create"}), name="webhook"),
    re_path(
        rf"^webhook/{WEBHOOK}/?$",
        WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="webhook-detail",
    ),
    re_path(
        rf"^webhook/{WEBHOOK}/rotate-secret/?$",
        WebhookViewSet.as_view({"post": "rotate_secret"}),
        name="webhook-rotate-secret",
    ),
    re_path(rf"^webhook/{WEBHOOK}/test/?$", WebhookViewSet.as_view({"post": "test"}), name="webhook-test"),
    re_path(
        rf"^webhook/{WEBHOOK}/deliveries/?$", WebhookViewSet.as_view({"get": "deliveries"}), name="webhook-deliveries"
    ),
    re_path(
        rf"^webhook/{WEBHOOK}/deliveries/(?P<delivery_id>[0-9]{{1,18}})/retry/?$",
        WebhookViewSet.as_view({"post": "retry"}),
        name="webhook-delivery-retry",
    ),
    re_path(rf"^webhook/{WEBHOOK}/replay/?$", WebhookViewSet.as_view({"post": "replay"}), name="webhook-replay"),
]
