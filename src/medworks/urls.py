from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon. Resolved
    per request, not at import: in production the static manifest may not exist yet when a
    command (migrate) loads the URLs."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("medworks.api.urls")),
    path("favicon.ico", favicon),
    path("", include("medworks.web.urls")),
]
