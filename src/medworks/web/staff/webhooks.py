"""Staff pages for insurers' webhook endpoints (beside their API keys): list, create (the
secret shown once), change, rotate the secret, pause or resume, send a test event, resend a
delivery, and each endpoint's recent deliveries.

The insurer's portal serves the same pages for its own endpoints (web/insurer/webhooks.py):
`EndpointPages` holds both, told apart by the audience, and every endpoint is loaded through
`selectors.endpoints_for_user`, so a page can only reach what that queryset allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability
from medworks.core.errors import DomainError
from medworks.webhooks import selectors, services
from medworks.webhooks.models import WebhookEndpoint
from medworks.webhooks.workflow import ENDPOINT_WORKFLOW

from ..access import actor_of, require_capability
from ..forms import add_domain_errors


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("HTTPS, on a public address. We POST each event there as JSON."),
    )
    description = forms.CharField(label=_("What receives it"), max_length=100, required=False)
    contact_email = forms.EmailField(
        label=_("Contact email"),
        help_text=_("Told by email if the endpoint keeps failing and is disabled."),
    )
    event_kinds = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_kinds"].choices = services.wantable_kinds()


class StaffEndpointForm(EndpointForm):
    insurer = forms.ModelChoiceField(
        label=_("Insurance partner"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.INSURER, is_active=True),
        empty_label=_("Choose an insurer"),
    )
    field_order = ["insurer", "url", "description", "contact_email", "event_kinds"]


def _fields(form: EndpointForm) -> dict:
    data = form.cleaned_data
    return {
        "url": data["url"],
        "description": data["description"],
        "contact_email": data["contact_email"],
        "event_kinds": data["event_kinds"],
    }


@dataclass(frozen=True)
class EndpointPages:
    """The pages of one audience: "staff" (every insurer) or "insurer" (its own endpoints)."""

    audience: str
    prefix: str  # url names: <prefix>s, <prefix>_detail, ...

    def names(self) -> dict[str, str]:
        p = f"web:{self.prefix}"
        return {
            "list": f"{p}s",
            "detail": f"{p}_detail",
            "rotate": f"{p}_rotate",
            "step": f"{p}_step",
            "test": f"{p}_test",
            "resend": f"{p}_resend",
        }

    def _template(self, name: str) -> str:
        return f"web/{self.audience}/webhooks/{name}.html"

    def _new_form(self, request: HttpRequest, data=None) -> EndpointForm:
        if self.audience == "staff":
            initial = {"insurer": request.GET.get("insurer")}
            return StaffEndpointForm(data, prefix="new", initial=initial)
        return EndpointForm(data, prefix="new", initial={"contact_email": request.user.email})

    def _endpoint(self, request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
        try:
            return selectors.endpoints_for_user(request.user).get(pk=endpoint_id)
        except WebhookEndpoint.DoesNotExist:
            raise Http404 from None

    def _context(self, **extra) -> dict:
        return {"audience": self.audience, "names": self.names(), **extra}

    def _secret_page(self, request, endpoint: WebhookEndpoint, secret: str, *, rotated: bool):
        # Rendered, not redirected: the secret exists only in this response, never cached.
        response = render(
            request,
            self._template("secret"),
            self._context(endpoint=endpoint, secret=secret, rotated=rotated),
        )
        response["Cache-Control"] = "no-store"
        return response

    def list(self, request: HttpRequest) -> HttpResponse:
        form = self._new_form(request, request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                insurer = form.cleaned_data.get("insurer") or request.user.organisation
                try:
                    endpoint, secret = services.webhook_endpoint_create(
                        insurer=insurer, actor=actor_of(request), **_fields(form)
                    )
                except DomainError as exc:
                    add_domain_errors(form, exc)
                else:
                    return self._secret_page(request, endpoint, secret, rotated=False)
            status = 422
        endpoints = selectors.endpoints_with_last_delivery(request.user)
        return render(
            request,
            self._template("list"),
            self._context(form=form, endpoints=endpoints),
            status=status,
        )

    def detail(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint(request, endpoint_id)
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "contact_email": endpoint.contact_email,
            "event_kinds": endpoint.event_kinds,
        }
        form = EndpointForm(request.POST if request.method == "POST" else None, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.webhook_endpoint_update(
                        endpoint=endpoint, actor=actor_of(request), **_fields(form)
                    )
                except DomainError as exc:
                    add_domain_errors(form, exc)
                else:
                    messages.success(request, gettext("The endpoint is saved."))
                    return redirect(self.names()["detail"], endpoint.pk)
            status = 422
        actor = actor_of(request)
        return render(
            request,
            self._template("detail"),
            self._context(
                endpoint=endpoint,
                form=form,
                deliveries=selectors.recent_deliveries(endpoint),
                moves=[m for m in ENDPOINT_WORKFLOW.moves(endpoint, actor) if m.allowed],
            ),
            status=status,
        )

    def rotate(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint(request, endpoint_id)
        try:
            secret = services.webhook_endpoint_secret_rotate(
                endpoint=endpoint, actor=actor_of(request)
            )
        except DomainError as exc:
            messages.warning(request, exc.message)
            return redirect(self.names()["detail"], endpoint.pk)
        return self._secret_page(request, endpoint, secret, rotated=True)

    def step(self, request: HttpRequest, endpoint_id: int, name: str) -> HttpResponse:
        endpoint = self._endpoint(request, endpoint_id)
        try:
            services.webhook_endpoint_step(endpoint=endpoint, name=name, actor=actor_of(request))
        except DomainError as exc:
            messages.warning(request, exc.message)
        return redirect(self.names()["detail"], endpoint.pk)

    def test(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint(request, endpoint_id)
        try:
            services.webhook_test_send(endpoint=endpoint, actor=actor_of(request))
        except DomainError as exc:
            messages.warning(request, exc.message)
        else:
            messages.success(request, gettext("A test event is on its way."))
        return redirect(self.names()["detail"], endpoint.pk)

    def resend(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        endpoint = self._endpoint(request, endpoint_id)
        delivery = endpoint.deliveries.filter(pk=request.POST.get("delivery_id") or 0).first()
        if delivery is None:
            raise Http404
        try:
            services.webhook_delivery_resend(delivery=delivery, actor=actor_of(request))
        except DomainError as exc:
            messages.warning(request, exc.message)
        else:
            messages.success(request, gettext("The event is sent again, with the same id."))
        return redirect(self.names()["detail"], endpoint.pk)


STAFF_PAGES = EndpointPages(audience="staff", prefix="staff_webhook")
_guard = require_capability(Capability.API_KEYS_MANAGE)


@_guard
def webhook_list(request: HttpRequest) -> HttpResponse:
    return STAFF_PAGES.list(request)


@_guard
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return STAFF_PAGES.detail(request, endpoint_id)


@require_POST
@_guard
def webhook_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return STAFF_PAGES.rotate(request, endpoint_id)


@require_POST
@_guard
def webhook_step(request: HttpRequest, endpoint_id: int, name: str) -> HttpResponse:
    return STAFF_PAGES.step(request, endpoint_id, name)


@require_POST
@_guard
def webhook_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return STAFF_PAGES.test(request, endpoint_id)


@require_POST
@_guard
def webhook_resend(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return STAFF_PAGES.resend(request, endpoint_id)
