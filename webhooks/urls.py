from django.urls import path, re_path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("<uuid:webhook_id>/", views.webhook_detail, name="detail"),
    re_path(
        r"^(?P<webhook_id>[0-9a-f-]{36})/(?P<action>test|rotate|enable|disable|delete)/$",
        views.webhook_action,
        name="action",
    ),
    path("<uuid:webhook_id>/deliveries/<id:delivery_id>/retry/", views.delivery_retry, name="retry"),
]
