from django.urls import path

from . import views

app_name = "bench"

urlpatterns = [
    path("attributes/<int:customer_id>", views.attributes_for_customer, name="attributes"),
    path("upsert", views.upsert, name="upsert"),
    path("customers", views.find_customers, name="customers"),
]
