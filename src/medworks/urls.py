from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from medworks.web.health import healthz


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon. Resolved
    per request, not at import: in production the static manifest may not exist yet when a
    command (migrate) loads the URLs."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("medworks.api.urls")),
    path("favicon.ico", favicon),
    # For the proxy and the orchestrator, not a page (web/health.py): outside the web: routes,
    # whose pages all answer below 500 (tests/web/test_no_500.py) and need a capability or are
    # listed public (tests/web/test_permissions.py).
    path("healthz", healthz, name="healthz"),
    path("", include("medworks.web.urls")),
]
