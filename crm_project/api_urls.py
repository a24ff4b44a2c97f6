"""Everything under /crm/: the documented REST API, its OpenAPI schema and the Swagger UI."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("attributes.api.urls")),
    path("", include("customers.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's bundle sets inline styles as it renders; only this developer page allows them
    # (scripts stay strictly same-origin).
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
]
