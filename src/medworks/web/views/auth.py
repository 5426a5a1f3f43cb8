"""Signing in and out, and sending each person to the face their organisation uses."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from medworks.accounts.permissions import Capability, user_can

# Checked in this order: a MedWorks user never lands on a portal.
_LANDINGS = [
    (Capability.BACK_OFFICE, "web:staff_home"),
    (Capability.INSURER_PORTAL, "web:portal_home"),
    (Capability.CLINIC_PORTAL, "web:clinic_home"),
]


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or an image cannot sign someone out."""


def home(request: HttpRequest) -> HttpResponse:
    """The landing after login: staff to the back office, insurers and clinics to their portal."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    for capability, url_name in _LANDINGS:
        if user_can(request.user, capability):
            return redirect(url_name)
    # Signed in, but no role that opens any page: say so rather than loop back to login.
    raise PermissionDenied("no usable role")
