from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import converters, metrics, views  # noqa: F401 (registers the "id" converter)

urlpatterns = [
    # The API first: its routes are the busiest, and resolving a path tries the patterns in order (no page's path
    # starts with crm/, so the order changes nothing else).
    path("crm/", include("crm_project.api_urls")),
    path("", RedirectView.as_view(pattern_name="customers:list", permanent=False)),
    # Sign-in, sign-out and password change. No self-service password reset: it needs outgoing mail,
    # which this product does not configure; admins reset passwords in Django admin.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("", include("attributes.urls")),
    path("customers/", include("customers.urls")),
    path("account/tokens/", include("tokens.urls")),
    path("jobs/", include("jobs.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

if settings.CRM_BENCH:  # bare-SQL baselines for `make bench`; never mounted otherwise
    urlpatterns.append(path("bench/", include("bench.urls")))

# A database outage answers 503 with a clear message (JSON for the API), never a stack trace.
handler500 = "crm_project.views.server_error"
# Unknown paths under /crm/ answer JSON, as every API error does.
handler404 = "crm_project.views.page_not_found"
