"""The privacy office's pages: the breach register and the access trail, for the Chief of
Staff and the Director of Operations only (Capability.PRIVACY); every other persona is
refused, an anonymous visitor sent to log in. Forms show their errors on the fields and keep
what was typed (a card number excepted); the pages read in French."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.core.models import AuditEvent
from medworks.privacy import services
from medworks.privacy.models import BreachRecord, RealRisk
from tests import factories
from tests.factories import act
from tests.test_translations import _english_words

pytestmark = pytest.mark.django_db

PRIVACY_OFFICE = {"chief", "director"}
PERSONAS = [
    "chief",
    "director",
    "booking_agent",
    "coordinator",
    "finance_user",
    "ceo",
    "insurer_user",
    "clinic_user",
    "outsider",
]

# The route x persona table of the privacy pages (tests/web/test_permissions.py reads its
# names): url name -> (target, {method: personas allowed}). Targets: "breach", "patient",
# "user", none.
PRIVACY_ROUTES = {
    "privacy_breaches": (None, {"get": PRIVACY_OFFICE}),
    "privacy_breach_new": (None, {"get": PRIVACY_OFFICE, "post": PRIVACY_OFFICE}),
    "privacy_breach_detail": ("breach", {"get": PRIVACY_OFFICE, "post": PRIVACY_OFFICE}),
    "privacy_access": (None, {"get": PRIVACY_OFFICE, "post": PRIVACY_OFFICE}),
    "privacy_patient_trail": ("patient", {"get": PRIVACY_OFFICE}),
    "privacy_patient_trail_export": ("patient", {"post": PRIVACY_OFFICE}),
    "privacy_user_trail": ("user", {"get": PRIVACY_OFFICE}),
    "privacy_user_trail_export": ("user", {"post": PRIVACY_OFFICE}),
}


@pytest.fixture
def chief(db):
    return factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF], username="chief")


@pytest.fixture
def director(db):
    return factories.make_user(roles=[RoleCode.DIRECTOR_OF_OPERATIONS], username="director")


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo")


def _form(**overrides):
    data = {
        "found_on": timezone.localdate().isoformat(),
        "occurred_from": "",
        "occurred_to": "",
        "circumstances": "A GOP was emailed to the wrong insurer.",
        "information_involved": "Patient name and date of birth.",
        "people_affected_count": "1",
        "people_affected": "One patient.",
        "real_risk": RealRisk.UNDETERMINED,
        "risk_reasoning": "",
        "commissioner_notified_at": "",
        "individuals_notified_at": "",
        "organisations_notified": "",
        "notes": "Recall requested from the recipient.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def breach(chief):
    from tests.privacy.test_breach_register import breach_data

    return services.breach_record_create(data=breach_data(), actor=act(chief))


@pytest.fixture
def case(booking_agent):
    return factories.make_booking_request()


def _url(name, target, *, breach, case, booking_agent):
    args = {
        None: [],
        "breach": [breach.pk],
        "patient": [case.patient_id],
        "user": [booking_agent.pk],
    }[target]
    return reverse(f"web:{name}", args=args)


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in PRIVACY_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_privacy_route_admits_only_the_privacy_office(
    client, request, breach, case, booking_agent, name, method, persona
):
    target, methods = PRIVACY_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, breach=breach, case=case, booking_agent=booking_agent)
    before = (
        BreachRecord.objects.count(),
        AuditEvent.objects.filter(action__startswith="privacy.").count(),
    )
    if method == "post":
        data = {**_form(), "find": "user", "username": "agent", "order_id": case.order_id}
        response = client.post(url, data)
    else:
        response = client.get(url)
    if allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        after = (
            BreachRecord.objects.count(),
            AuditEvent.objects.filter(action__startswith="privacy.").count(),
        )
        assert after == before


@pytest.mark.parametrize("name", list(PRIVACY_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_privacy_pages(
    client, breach, case, booking_agent, name
):
    target, methods = PRIVACY_ROUTES[name]
    method = next(iter(methods))
    url = _url(name, target, breach=breach, case=case, booking_agent=booking_agent)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_the_navigation_shows_privacy_to_the_office_only(client, chief, booking_agent):
    link = reverse("web:privacy_breaches")
    client.force_login(chief)
    assert link in client.get(reverse("web:staff_home")).content.decode()
    client.force_login(booking_agent)
    assert link not in client.get(reverse("web:staff_home")).content.decode()


def test_a_breach_is_recorded_from_the_page(client, chief):
    client.force_login(chief)
    response = client.post(reverse("web:privacy_breach_new"), _form())
    breach = BreachRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:privacy_breach_detail", args=[breach.pk])
    assert breach.recorded_by == chief
    page = client.get(reverse("web:privacy_breaches")).content.decode()
    assert breach.reference in page


def test_a_bad_form_shows_its_field_errors_and_keeps_what_was_typed(client, chief):
    client.force_login(chief)
    response = client.post(
        reverse("web:privacy_breach_new"),
        _form(circumstances="", real_risk=RealRisk.NO, risk_reasoning=""),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "circumstances" in form.errors
    assert "risk_reasoning" in form.errors
    page = response.content.decode()
    assert "Recall requested from the recipient." in page
    assert "Patient name and date of birth." in page
    assert not BreachRecord.objects.exists()


def test_a_service_refusal_lands_on_its_field(client, chief):
    client.force_login(chief)
    response = client.post(
        reverse("web:privacy_breach_new"),
        _form(real_risk=RealRisk.YES, risk_reasoning=""),
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["risk_reasoning"]


def test_a_card_number_is_refused_and_never_shown_again(client, chief):
    client.force_login(chief)
    response = client.post(
        reverse("web:privacy_breach_new"), _form(notes="Card 4111 1111 1111 1111 was in it")
    )
    assert response.status_code == 400
    assert "notes" in response.context["form"].errors
    page = response.content.decode()
    assert "4111 1111 1111 1111" not in page
    assert "A GOP was emailed to the wrong insurer." in page
    assert not BreachRecord.objects.exists()


def test_a_breach_is_changed_from_its_page(client, director, breach):
    client.force_login(director)
    url = reverse("web:privacy_breach_detail", args=[breach.pk])
    assert "An order email was sent to the wrong clinic" in client.get(url).content.decode()
    response = client.post(
        url,
        _form(
            real_risk=RealRisk.YES,
            risk_reasoning="Health information; misuse probable.",
            commissioner_notified_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.real_risk == RealRisk.YES and breach.updated_by == director
    assert breach.commissioner_notified_at is not None


def test_a_bad_change_keeps_the_page_and_the_record(client, chief, breach):
    client.force_login(chief)
    url = reverse("web:privacy_breach_detail", args=[breach.pk])
    response = client.post(url, _form(found_on="not a date"))
    assert response.status_code == 400
    assert "found_on" in response.context["form"].errors
    breach.refresh_from_db()
    assert breach.circumstances.startswith("An order email")


def test_the_privacy_pages_read_in_french(client, chief, case, booking_agent):
    from tests.privacy.test_breach_register import breach_data

    breach = services.breach_record_create(
        data=breach_data(
            circumstances="Un courriel envoyé à la mauvaise clinique.",
            information_involved="Nom et date de naissance.",
            people_affected="Un patient.",
        ),
        actor=act(chief),
    )
    client.cookies["django_language"] = "fr"
    client.force_login(chief)
    for url in (
        reverse("web:privacy_breaches"),
        reverse("web:privacy_breach_new"),
        reverse("web:privacy_breach_detail", args=[breach.pk]),
        reverse("web:privacy_access"),
        reverse("web:privacy_patient_trail", args=[case.patient_id]),
        reverse("web:privacy_user_trail", args=[booking_agent.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'lang="fr-CA"' in html
        assert _english_words(html, allowed=set()) == {}, url
