from django.urls import path

from . import views_registry as views

app_name = "attribute_registry"

# Mounted under /attributes/registry/.
urlpatterns = [
    path("", views.RegistryListView.as_view(), name="list"),
    path("new/", views.DefinitionCreateView.as_view(), name="create"),
    path("<id:pk>/edit/", views.DefinitionUpdateView.as_view(), name="update"),
    path("<id:pk>/delete/", views.DefinitionDeleteView.as_view(), name="delete"),
]
