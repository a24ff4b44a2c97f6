"""Every page of attributes, under one namespace (`attributes:`), mounted at the site root.

Two groups: the pages of one customer (the Attributes and History tabs, their forms and its CSV export),
under /customers/<customer_id>/attributes/, and the pages about attributes across customers.
"""

from django.urls import include, path

from .views import csv, history, registry, tab, usage

app_name = "attributes"

customer_patterns = [
    path("", tab.AttributeTabView.as_view(), name="tab"),
    path("export.csv", csv.CustomerAttributesExportView.as_view(), name="export"),
    path("add/", tab.AttributeCreateView.as_view(), name="create"),
    path("history/", history.AttributeHistoryView.as_view(), name="history"),
    path("history/<id:history_id>/restore/", history.AttributeRestoreView.as_view(), name="restore"),
    path("<id:attribute_id>/edit/", tab.AttributeUpdateView.as_view(), name="update"),
    path("<id:attribute_id>/delete/", tab.AttributeDeleteView.as_view(), name="delete"),
    path("<id:attribute_id>/reveal/", tab.AttributeRevealView.as_view(), name="reveal"),
]

site_patterns = [
    path("customers/attributes-export.csv", csv.FilteredAttributesExportView.as_view(), name="filtered_export"),
    path("attributes/import/", csv.AttributeImportView.as_view(), name="import"),
    path("attributes/usage/", usage.UsageView.as_view(), name="usage"),
    path("attributes/rename/", usage.RenameView.as_view(), name="rename"),
    path("attributes/registry/", registry.RegistryListView.as_view(), name="registry"),
    path("attributes/registry/reveal-log/", registry.RevealLogView.as_view(), name="reveal_log"),
    path("attributes/registry/new/", registry.DefinitionCreateView.as_view(), name="registry_create"),
    path("attributes/registry/<id:pk>/edit/", registry.DefinitionUpdateView.as_view(), name="registry_update"),
    path("attributes/registry/<id:pk>/delete/", registry.DefinitionDeleteView.as_view(), name="registry_delete"),
]

urlpatterns = [
    *site_patterns,
    path("customers/<id:customer_id>/attributes/", include(customer_patterns)),
]
