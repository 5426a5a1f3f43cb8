"""The web faces, by audience: each folder has its views, forms and URLs side by side."""

from django.urls import path

from . import (
    converters,  # noqa: F401  (registers the "id" converter the audiences use)
    language,
)
from .clinic import urls as clinic
from .insurer import urls as insurer
from .links import urls as links
from .staff import urls as staff
from .views import auth

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    # Each person's language: the header's switch (anyone) and their profile (signed in).
    path("language/", language.language_set, name="language_set"),
    path("profile/", language.profile, name="profile"),
    *staff.urlpatterns,
    *insurer.urlpatterns,
    *clinic.urlpatterns,
    *links.urlpatterns,
]
