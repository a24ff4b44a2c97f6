from django.urls import re_path

from .views import CustomerViewSet

urlpatterns = [
    re_path(r"^customer/?$", CustomerViewSet.as_view({"get": "list", "put": "create"}), name="customer"),
    re_path(
        r"^customer/customer_id/(?P<customer_id>[0-9]+)/?$",
        CustomerViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="customer-detail",
    ),
]
