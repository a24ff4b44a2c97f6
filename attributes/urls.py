from django.urls import path

from . import views

app_name = "attributes"

# Mounted under /customers/<customer_id>/attributes/.
urlpatterns = [
    path("", views.AttributeTabView.as_view(), name="tab"),
    path("add/", views.AttributeCreateView.as_view(), name="create"),
    path("<id:attribute_id>/edit/", views.AttributeUpdateView.as_view(), name="update"),
    path("<id:attribute_id>/delete/", views.AttributeDeleteView.as_view(), name="delete"),
]
