"""The app's URLs plus two that fail unexpectedly, one under /api/ and one page: what a bug
looks like to a caller (tests/api/test_error_shape.py)."""

from django.urls import path

from medworks.urls import urlpatterns as app_urlpatterns


def crash(request):
    raise RuntimeError("secret internals")


urlpatterns = [path("api/v1/crash", crash), path("crash", crash), *app_urlpatterns]
