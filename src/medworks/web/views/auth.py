"""Signing in and out, and sending each person to the face their organisation uses."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from medworks.accounts.forms import LoginForm
from medworks.accounts.permissions import Capability, user_can
from medworks.accounts.two_factor import session_two_factor_pending

from .two_factor import second_step_url

# Checked in this order: a MedWorks user never lands on a portal.
_LANDINGS = [
    (Capability.BACK_OFFICE, "web:staff_home"),
    (Capability.INSURER_PORTAL, "web:portal_home"),
    (Capability.CLINIC_PORTAL, "web:clinic_home"),
]


class LoginView(auth_views.LoginView):
    """The password step. A sign-in that owes a second factor (the person has an app, or must
    have one: accounts/two_factor.py) goes on to the second step, then where it was going."""

    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self):
        url = super().get_success_url()
        if session_two_factor_pending(session=self.request.session, user=self.request.user):
            return second_step_url(url)
        return url


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The login page again, saying the sign-in is locked and for how long, answered 429.

    django-axes calls it (settings.AXES_LOCKOUT_CALLABLE) for an attempt on a locked-out
    account or address, the right password included; staff can lift the lock sooner."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed sign-in attempts: signing in is locked for %(minutes)d minute. "
        "Try again later, or ask MedWorks staff to unlock your account.",
        "Too many failed sign-in attempts: signing in is locked for %(minutes)d minutes. "
        "Try again later, or ask MedWorks staff to unlock your account.",
        minutes,
    ) % {"minutes": minutes}
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = LoginForm(request, initial={"username": username})
    context = {"form": form, "lockout_message": message, "next": next_url}
    return render(request, LoginView.template_name, context, status=429)


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
