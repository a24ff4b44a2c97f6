from django.urls import path

from . import views_csv

app_name = "attribute_csv"

# Mounted at the site root: these pages are not under one customer.
urlpatterns = [
    path("customers/attributes-export.csv", views_csv.FilteredAttributesExportView.as_view(), name="export"),
    path("attributes/import/", views_csv.AttributeImportView.as_view(), name="import"),
]
