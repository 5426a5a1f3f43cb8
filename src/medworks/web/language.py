"""The language of the pages, chosen per person.

A signed-in user's own preference (their profile page), else the language cookie (the switch in
every page's header), else the browser's Accept-Language, else English. Django's
LocaleMiddleware does the last three; `UserLanguageMiddleware`, after authentication, applies
the preference. The switch posts to `language_set`, which sets the cookie and, for a signed-in
user, saves the preference too.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medworks.accounts.services import user_set_language
from medworks.accounts.two_factor import two_factor_status

from .access import actor_of

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in user's preference wins."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = user.preferred_language if user is not None and user.is_authenticated else ""
        if language in LANGUAGE_CODES:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's switch: this page again, in the chosen language (login not required)."""
    language = request.POST.get("language", "")
    response = redirect(_next_url(request))
    if language not in LANGUAGE_CODES:
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language, actor=actor_of(request))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the pages and of your emails"),
        choices=settings.LANGUAGES,
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """A person's own settings: their language; and whether they sign in in two steps (their
    two-step sign-in page, web/views/two_factor.py, is linked from here)."""
    form = ProfileForm(
        request.POST or None,
        initial={"language": request.user.preferred_language or translation.get_language()},
    )
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_set_language(user=request.user, language=language, actor=actor_of(request))
        translation.activate(language)
        messages.success(request, _("Your language is saved."))
        response = redirect(reverse("web:profile"))
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response
    context = {"form": form, "two_factor": two_factor_status(request.user)}
    return render(request, "web/profile.html", context, status=400 if form.errors else 200)
