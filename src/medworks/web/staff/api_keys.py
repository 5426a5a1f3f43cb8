"""Staff page for insurers' API keys: list them, make one (its secret shown once), revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from medworks.accounts import selectors, services
from medworks.accounts.models import ApiKey, Organisation, OrganisationKind
from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError

from ..access import actor_of, require_capability
from ..forms import add_domain_errors


class ApiKeyForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Insurance partner"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.INSURER, is_active=True),
        empty_label=_("Choose an insurer"),
    )
    name = forms.CharField(
        label=_("What uses it"),
        max_length=100,
        help_text=_("e.g. 'Claims system (production)': shown here to tell keys apart."),
    )


def _list(request: HttpRequest, form: ApiKeyForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "web/staff/api_keys.html",
        {"form": form, "insurers": selectors.insurers_with_api_keys()},
        status=status,
    )


@require_capability(Capability.API_KEYS_MANAGE)
def api_key_list(request: HttpRequest) -> HttpResponse:
    return _list(request, ApiKeyForm(initial={"organisation": request.GET.get("organisation")}))


@require_capability(Capability.API_KEYS_MANAGE)
def api_key_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("web:api_keys")
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, secret = services.api_key_create(
                organisation=form.cleaned_data["organisation"],
                name=form.cleaned_data["name"],
                actor=actor_of(request),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            # Rendered, not redirected: the secret exists only in this response. Nothing may
            # keep a copy of it (browser cache, proxy).
            response = render(
                request, "web/staff/api_key_created.html", {"key": key, "secret": secret}
            )
            response["Cache-Control"] = "no-store"
            return response
    return _list(request, form, status=422)


@require_POST
@require_capability(Capability.API_KEYS_MANAGE)
def api_key_revoke(request: HttpRequest) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=request.POST.get("key_id") or 0)
    try:
        services.api_key_revoke(api_key=key, actor=actor_of(request))
    except DomainError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(
            request,
            gettext("Key %(prefix)s… of %(insurer)s is revoked.")
            % {"prefix": key.prefix, "insurer": key.organisation.name},
        )
    return redirect("web:api_keys")
