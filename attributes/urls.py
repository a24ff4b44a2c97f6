from django.urls import path

from . import views, views_csv, views_history

app_name = "attributes"

# Mounted under /customers/<customer_id>/attributes/.
urlpatterns = [
    path("", views.AttributeTabView.as_view(), name="tab"),
    path("export.csv", views_csv.CustomerAttributesExportView.as_view(), name="export"),
    path("add/", views.AttributeCreateView.as_view(), name="create"),
    path("history/", views_history.AttributeHistoryView.as_view(), name="history"),
    path("history/<id:history_id>/restore/", views_history.AttributeRestoreView.as_view(), name="restore"),
    path("<id:attribute_id>/edit/", views.AttributeUpdateView.as_view(), name="update"),
    path("<id:attribute_id>/delete/", views.AttributeDeleteView.as_view(), name="delete"),
]
