"""The second step of signing in, setting up an authenticator app, and each person's two-step
sign-in page (next to their profile). The rules are in accounts/two_factor.py.

- After the password (`auth.LoginView`), a sign-in that owes a second factor comes here
  (`two_factor_verify`): a 6-digit code from the app, or one of the recovery codes. A person
  who must have an app and has none is sent on to `two_factor_enrol`: a QR code (an SVG made
  by segno, inline as a data: image, which the page's CSP allows, as it allows no inline
  script or style), the key written out for typing in by hand, and a first code to confirm
  it; then the ten recovery codes, shown once (the page is not cached, and they are not kept
  in the session). Only then is the session verified (django_otp.login, under a new session
  key).
- `TwoFactorMiddleware` (settings.MIDDLEWARE, after the session checks) keeps a session that
  still owes its second factor to those pages, the language switch and signing out; any other
  page sends it to the second step, coming back afterwards. Signed email links and the API
  answer it as they answer an anonymous visitor: a link needs no login, and the API would
  otherwise take the half-signed-in session cookie as a signed-in user. A session that owes
  nothing costs no query here.
- `two_factor_settings`: on or off, how many recovery codes are left; new recovery codes and
  turning it off (when not required) each ask for a code again, so a session left open on
  someone's desk cannot do either.

Wrong codes are throttled by the device (django-otp): the refusal says for how long, with
status 429, and the right code is refused too meanwhile.
"""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from medworks.accounts import two_factor as second_factor
from medworks.accounts.two_factor import (
    SESSION_ENROL_KEY,
    TooManyAttempts,
    session_mark_verified,
    session_settle,
    session_two_factor_pending,
    two_factor_device,
    two_factor_key_is_valid,
    two_factor_key_new,
    two_factor_provisioning,
    two_factor_recovery_codes_regenerate,
    two_factor_required,
    two_factor_status,
)
from medworks.core.errors import DomainError

from ..access import actor_of
from ..forms import add_domain_errors

# What a session that owes its second factor may open (URL names in the web: namespace).
OPEN_WHILE_PENDING = frozenset({"two_factor_verify", "two_factor_enrol", "logout", "language_set"})
# Answered as to an anonymous visitor: the API (keys, not sessions) and signed email links.
API_PREFIX = "/api/"
LINKS_MODULE = "medworks.web.links"


class TwoFactorMiddleware:
    """After AuthenticationMiddleware, django-otp's OTPMiddleware and SessionLimitsMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and session_two_factor_pending(session=request.session, user=user):
            request.two_factor_pending = True  # the header then offers no menu
            answer = self._gate(request)
            if answer is not None:
                return answer
        return self.get_response(request)

    @staticmethod
    def _gate(request: HttpRequest) -> HttpResponse | None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and match.namespace == "web" and match.url_name in OPEN_WHILE_PENDING:
            return None
        links = match is not None and getattr(match.func, "__module__", "").startswith(LINKS_MODULE)
        if links or request.path_info.startswith(API_PREFIX):
            anonymous = AnonymousUser()
            request.user = anonymous

            async def auser():
                return anonymous

            request.auser = auser
            return None
        if request.method in ("GET", "HEAD"):
            return redirect(second_step_url(request.get_full_path()))
        return redirect(second_step_url(""))


def second_step_url(next_url: str) -> str:
    """The second step of signing in, coming back to `next_url` afterwards."""
    url = reverse("web:two_factor_verify")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go afterwards: a page of this site, not one of these steps (no loop)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    steps = (reverse("web:two_factor_verify"), reverse("web:two_factor_enrol"))
    if (
        target
        and not target.startswith(steps)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class CodeForm(forms.Form):
    """A code: the app's 6 digits, or (at the second step and to confirm a change) a recovery
    code. Its shape decides which it is; spaces and dashes are ignored."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "size": 14,
            }
        ),
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
    )


class AppCodeForm(forms.Form):
    """The first code of a new app: 6 digits."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "size": 8,
            }
        ),
        help_text=gettext_lazy("The 6 digits the app shows for MedWorks Booking Desk."),
    )


def _refused(form: forms.Form, error: DomainError) -> int:
    add_domain_errors(form, error)
    return 429 if isinstance(error, TooManyAttempts) else 400


# --- The second step --------------------------------------------------------------------


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """A code after the password: only then is the session signed in for good."""
    user = request.user
    next_url = _next_url(request, reverse("web:home"))
    if not session_two_factor_pending(session=request.session, user=user):
        return redirect(next_url)
    if two_factor_device(user) is None:
        if two_factor_required(user):
            return redirect(_with_next("web:two_factor_enrol", next_url))
        session_settle(session=request.session)  # the app was removed and none is required
        return redirect(next_url)

    form = CodeForm(request.POST or None, auto_id="f-%s")
    form.fields["code"].widget.attrs["autofocus"] = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, left = second_factor.two_factor_verify(
                    user=user, code=form.cleaned_data["code"], actor=actor_of(request)
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                session_mark_verified(request, device)
                if left is not None:  # a recovery code: say how many are left
                    messages.warning(request, _recovery_codes_left_message(left))
                return redirect(next_url)
        else:
            status = 400
    return render(
        request,
        "web/account/two_factor_verify.html",
        {"form": form, "next": next_url},
        status=status,
    )


def _recovery_codes_left_message(left: int) -> str:
    return ngettext(
        "You signed in with a recovery code: %(count)d is left. "
        "Make new ones on your two-step sign-in page.",
        "You signed in with a recovery code: %(count)d are left. "
        "Make new ones on your two-step sign-in page.",
        left,
    ) % {"count": left}


# --- Enrolment --------------------------------------------------------------------------


def _qr_code(url: str) -> str:
    """The otpauth:// URL as a QR code: an SVG image as a data: URI (no script, no style)."""
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#111")


@never_cache
@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan, type the first code, keep the recovery codes."""
    user = request.user
    next_url = _next_url(request, reverse("web:two_factor"))
    if two_factor_device(user) is not None:
        messages.info(request, _("Two-step sign-in is already on for your account."))
        return redirect("web:two_factor")  # (a session owing its code is sent to the code)
    key = request.session.get(SESSION_ENROL_KEY)
    if not two_factor_key_is_valid(key):
        key = request.session[SESSION_ENROL_KEY] = two_factor_key_new()

    form = AppCodeForm(request.POST or None, auto_id="f-%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = second_factor.two_factor_enrol(
                    user=user, key=key, code=form.cleaned_data["code"], actor=actor_of(request)
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                session_mark_verified(request, device)
                return render(
                    request,
                    "web/account/two_factor_recovery_codes.html",
                    {"codes": codes, "next": next_url, "just_enrolled": True},
                )
        else:
            status = 400
    provisioning = two_factor_provisioning(user=user, key=key)
    context = {
        "form": form,
        "next": next_url,
        "qr_code": _qr_code(provisioning.url),
        "secret": provisioning.secret,
        "pending": getattr(request, "two_factor_pending", False),
    }
    return render(request, "web/account/two_factor_enrol.html", context, status=status)


# --- The person's own settings ----------------------------------------------------------


def _settings_page(request, *, regenerate=None, disable=None, status=200) -> HttpResponse:
    context = {
        "status": two_factor_status(request.user),
        "regenerate_form": regenerate or CodeForm(prefix="regenerate"),
        "disable_form": disable or CodeForm(prefix="disable"),
    }
    return render(request, "web/account/two_factor.html", context, status=status)


@login_required
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """On or off, the recovery codes left, and the buttons to change them."""
    return _settings_page(request)


@never_cache
@require_POST
@login_required
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes (the old ones stop working), after a code."""
    form = CodeForm(request.POST, prefix="regenerate")
    if not form.is_valid():
        return _settings_page(request, regenerate=form, status=400)
    try:
        codes = two_factor_recovery_codes_regenerate(
            user=request.user, code=form.cleaned_data["code"], actor=actor_of(request)
        )
    except DomainError as error:
        status = _refused(form, error)
        return _settings_page(request, regenerate=form, status=status)
    return render(
        request,
        "web/account/two_factor_recovery_codes.html",
        {"codes": codes, "next": reverse("web:two_factor"), "just_enrolled": False},
    )


@require_POST
@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turn two-step sign-in off (when it is not required), after a code."""
    form = CodeForm(request.POST, prefix="disable")
    if not form.is_valid():
        return _settings_page(request, disable=form, status=400)
    try:
        second_factor.two_factor_disable(
            user=request.user, code=form.cleaned_data["code"], actor=actor_of(request)
        )
    except DomainError as error:
        status = _refused(form, error)
        return _settings_page(request, disable=form, status=status)
    session_settle(session=request.session)
    messages.success(request, _("Two-step sign-in is off. You sign in with your password alone."))
    return redirect("web:two_factor")
