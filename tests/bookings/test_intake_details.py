"""The intake reader's labelled details: date of birth, street and city, services. Read only
where the message labels them, and only when unambiguous (the agent, or the inbox, decides)."""

from __future__ import annotations

import pytest

from medworks.bookings.intake import guess_from_text
from medworks.network.models import Service


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("DOB 1980-04-12", "1980-04-12"),
        ("Date of birth: 12 April 1980", "1980-04-12"),
        ("Date of birth: April 12, 1980", "1980-04-12"),
        ("D.O.B.: 3 Sept. 1975", "1975-09-03"),
        ("Date de naissance : 1er février 1990", "1990-02-01"),
        ("Née le 3 septembre 1975", "1975-09-03"),
        ("Date of birth: 04/12/1980", ""),  # April or December: the agent says
        ("Date of birth: 1980-02-30", ""),
    ],
)
def test_a_date_of_birth_is_read_only_when_written_unambiguously(line, iso):
    assert guess_from_text(f"Patient: Jean Tremblay\n{line}\n").date_of_birth == iso


@pytest.mark.parametrize(
    ("line", "street", "city"),
    [
        ("Address: 300 Front Street West, Toronto, ON M5V 3L9", "300 Front Street West", "Toronto"),
        ("Address: 300 Front St W, Toronto ON M5V 3L9", "300 Front St W", "Toronto"),
        (
            "Adresse : 1200 rue Sainte-Catherine O, Montréal (Québec) H3B 1K9",
            "1200 rue Sainte-Catherine O",
            "Montréal",
        ),
        ("Address: see the attached form", "", ""),
    ],
)
def test_the_street_and_city_come_from_the_address_line(line, street, city):
    guess = guess_from_text(line)
    assert (guess.address, guess.city) == (street, city)


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        ("Service: X-ray", ["XRAY"]),
        ("Service demandé : Radiographie", ["XRAY"]),
        ("Services: MRI, blood test", ["MRI", "BLOOD"]),
        ("Service: MRI of the left knee", ["MRI"]),
        ("Exam: Abdominal ultrasound", ["ULTRASOUND"]),
        ("Service: something we do not offer", []),
    ],
)
def test_services_are_read_from_a_service_line_against_the_catalogue(db, line, codes):
    guess = guess_from_text(line)
    found = [Service.objects.get(pk=pk).code for pk in guess.services]
    assert found == codes
    assert guess.initial().get("services", []) == guess.services
    if not codes:
        assert any("No catalogue service was recognised" in n for n in guess.notes)
