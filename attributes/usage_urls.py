from django.urls import path

from . import views_usage

app_name = "attribute_usage"

# Mounted at the site root: these pages are about names across all customers.
urlpatterns = [
    path("attributes/usage/", views_usage.UsageView.as_view(), name="usage"),
    path("attributes/rename/", views_usage.RenameView.as_view(), name="rename"),
]
