from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("<id:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<id:pk>/edit/", views.CustomerUpdateView.as_view(), name="update"),
    path("<id:pk>/delete/", views.CustomerDeleteView.as_view(), name="delete"),
]
