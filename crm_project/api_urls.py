"""Everything under /crm/: the documented REST API, its OpenAPI schema and the Swagger UI."""

from csp.decorators import csp_update
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SwaggerUIView(SpectacularSwaggerSplitView):
    """Swagger UI, whose only renderer is an HTML template: OPTIONS answers `Allow` itself (DRF's metadata
    response has no template to render, a 500)."""

    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


urlpatterns = [
    path("", include("attributes.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("jobs.api_urls")),
    path("", include("webhooks.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's bundle sets inline styles as it renders; only this developer page allows them
    # (scripts stay strictly same-origin).
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SwaggerUIView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
]
