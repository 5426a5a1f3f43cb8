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
from .views import auth, two_factor

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    # Each person's language: the header's switch (anyone) and their profile (signed in).
    path("language/", language.language_set, name="language_set"),
    path("profile/", language.profile, name="profile"),
    # The second factor: the step after the password, setting up an app, the person's page.
    path("login/two-factor/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("profile/two-factor/", two_factor.two_factor_settings, name="two_factor"),
    path("profile/two-factor/enrol/", two_factor.two_factor_enrol, name="two_factor_enrol"),
    path(
        "profile/two-factor/recovery-codes/",
        two_factor.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("profile/two-factor/off/", two_factor.two_factor_disable, name="two_factor_disable"),
    *staff.urlpatterns,
    *insurer.urlpatterns,
    *clinic.urlpatterns,
    *links.urlpatterns,
]
