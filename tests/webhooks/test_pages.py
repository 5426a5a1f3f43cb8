"""The webhook pages: staff who manage API keys (every insurer) and the insurer's own portal
users (its endpoints only). The secret is shown once; recent deliveries are listed with a
resend button; a test event can be sent."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from medworks.accounts.models import RoleCode
from medworks.webhooks import services
from medworks.webhooks.models import EndpointStatus, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.factories import act

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "insurer_user",
    "clinic_user",
    "outsider",
]
STAFF = {"coordinator"}  # API_KEYS_MANAGE: the directory editors
PORTAL = {"insurer_user"}  # INSURER_PORTAL, for the insurer's own endpoints

# url name -> (target, {method: personas allowed}); tests/web/test_permissions.py reads it.
WEBHOOK_ROUTES = {
    "staff_webhooks": (None, {"get": STAFF, "post": STAFF}),
    "staff_webhook_detail": ("endpoint", {"get": STAFF, "post": STAFF}),
    "staff_webhook_rotate": ("endpoint", {"post": STAFF}),
    "staff_webhook_step": ("step", {"post": STAFF}),
    "staff_webhook_test": ("endpoint", {"post": STAFF}),
    "staff_webhook_resend": ("endpoint", {"post": STAFF}),
    "portal_webhooks": (None, {"get": PORTAL, "post": PORTAL}),
    "portal_webhook_detail": ("endpoint", {"get": PORTAL, "post": PORTAL}),
    "portal_webhook_rotate": ("endpoint", {"post": PORTAL}),
    "portal_webhook_step": ("step", {"post": PORTAL}),
    "portal_webhook_test": ("endpoint", {"post": PORTAL}),
    "portal_webhook_resend": ("endpoint", {"post": PORTAL}),
}


@pytest.fixture
def portal_endpoint(insurer_user):
    return make_endpoint(
        insurer=insurer_user.organisation,
        actor_user=insurer_user,
        url="https://hooks.maple-assist.example/medworks",
    )


def _url(name, target, endpoint):
    if target is None:
        return reverse(f"web:{name}")
    if target == "step":
        return reverse(f"web:{name}", args=[endpoint.pk, "pause"])
    return reverse(f"web:{name}", args=[endpoint.pk])


def _state():
    return sorted(WebhookEndpoint.objects.values_list("pk", "status", "url", "secret_sealed"))


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in WEBHOOK_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_webhook_route_admits_only_its_roles(
    client, request, portal_endpoint, name, method, persona
):
    endpoint, _secret = portal_endpoint
    target, methods = WEBHOOK_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, endpoint)
    before = (_state(), WebhookDelivery.objects.count())
    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested below
        response = client.post(url, {"new-url": "https://x.example/", "delivery_id": 1})
    else:
        response = client.get(url)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert (_state(), WebhookDelivery.objects.count()) == before


@pytest.mark.parametrize("name", list(WEBHOOK_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_webhook_pages(
    client, portal_endpoint, name
):
    endpoint, _secret = portal_endpoint
    target, methods = WEBHOOK_ROUTES[name]
    response = getattr(client, next(iter(methods)))(_url(name, target, endpoint))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def _secret_in(response) -> str:
    match = re.search(r'id="webhook-secret"[^>]*value="(whsec_[^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_staff_make_an_endpoint_for_an_insurer_from_the_api_keys_page_and_see_its_secret_once(
    client, coordinator, insurer_user
):
    client.force_login(coordinator)
    keys_page = client.get(reverse("web:api_keys")).content.decode()
    assert reverse("web:staff_webhooks") in keys_page
    made = client.post(
        reverse("web:staff_webhooks"),
        {
            "new-insurer": insurer_user.organisation.pk,
            "new-url": "https://hooks.maple-assist.example/medworks",
            "new-description": "Claims system",
            "new-contact_email": "it@maple-assist.example",
            "new-event_kinds": ["created", "approve_date", "invoice_issued"],
        },
    )
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    secret = _secret_in(made)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.insurer == insurer_user.organisation
    assert endpoint.event_kinds == ["approve_date", "created", "invoice_issued"]
    listing = client.get(reverse("web:staff_webhooks")).content.decode()
    assert "hooks.maple-assist.example" in listing and secret not in listing
    detail = client.get(reverse("web:staff_webhook_detail", args=[endpoint.pk])).content.decode()
    assert secret not in detail


def test_a_private_address_is_refused_on_the_form(client, insurer_user, settings):
    settings.MEDWORKS_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_webhooks"),
        {
            "new-url": "https://192.168.1.20/hooks",
            "new-contact_email": "it@maple-assist.example",
            "new-event_kinds": ["created"],
        },
    )
    assert response.status_code == 422
    assert "public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_insurer_manages_its_endpoint_from_the_portal(client, insurer_user, portal_endpoint):
    endpoint, old_secret = portal_endpoint
    client.force_login(insurer_user)
    home = client.get(reverse("web:portal_home")).content.decode()
    assert reverse("web:portal_webhooks") in home

    tested = client.post(reverse("web:portal_webhook_test", args=[endpoint.pk]))
    assert tested.status_code == 302
    test = WebhookDelivery.objects.get(kind="test")
    page = client.get(reverse("web:portal_webhook_detail", args=[endpoint.pk])).content.decode()
    assert test.event_id in page and "Resend" in page

    client.post(reverse("web:portal_webhook_resend", args=[endpoint.pk]), {"delivery_id": test.pk})
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [test.event_id] * 2

    rotated = client.post(reverse("web:portal_webhook_rotate", args=[endpoint.pk]))
    assert rotated["Cache-Control"] == "no-store"
    new_secret = _secret_in(rotated)
    assert new_secret != old_secret
    assert "signed with both the previous and the new secret" in rotated.content.decode()

    client.post(reverse("web:portal_webhook_step", args=[endpoint.pk, "pause"]))
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.PAUSED
    client.post(reverse("web:portal_webhook_step", args=[endpoint.pk, "resume"]))
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ACTIVE

    changed = client.post(
        reverse("web:portal_webhook_detail", args=[endpoint.pk]),
        {
            "url": "https://hooks2.maple-assist.example/medworks",
            "contact_email": "ops@maple-assist.example",
            "event_kinds": ["cancel"],
        },
    )
    assert changed.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_kinds) == (
        "https://hooks2.maple-assist.example/medworks",
        ["cancel"],
    )


def test_an_insurer_never_reaches_another_insurers_endpoint(client, portal_endpoint):
    endpoint, _secret = portal_endpoint
    other = factories.make_organisation(name="Other Insurer")
    stranger = factories.make_user(roles=[RoleCode.INSURER_USER], organisation=other)
    client.force_login(stranger)
    listing = client.get(reverse("web:portal_webhooks")).content.decode()
    assert "hooks.maple-assist.example" not in listing
    for name in ("portal_webhook_detail",):
        assert client.get(reverse(f"web:{name}", args=[endpoint.pk])).status_code == 404
    for name in ("portal_webhook_rotate", "portal_webhook_test", "portal_webhook_resend"):
        assert client.post(reverse(f"web:{name}", args=[endpoint.pk])).status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_the_staff_list_page_reads_as_many_queries_for_one_endpoint_as_for_five(
    client, coordinator, insurer_user, portal_endpoint, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(coordinator)
    url = reverse("web:staff_webhooks")
    client.get(url)  # warm: session, user, roles
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(4):
        services.webhook_test_send(endpoint=portal_endpoint[0], actor=act(insurer_user))
        make_endpoint(
            insurer=insurer_user.organisation,
            actor_user=insurer_user,
            url=f"https://hooks{n}.maple-assist.example/",
        )
    with django_assert_num_queries(len(one)):
        page = client.get(url).content.decode()
    assert page.count("maple-assist.example") >= 5
