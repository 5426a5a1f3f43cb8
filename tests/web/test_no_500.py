"""No input gives a 500 (issue 14): an id longer than any the database holds, a page number past
any integer, on every route, as staff and as an insurer."""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver

HUGE = "9" * 20
FILL = {"id": HUGE, "str": "MW-2026-000001", "slug": "complete"}


def _routes():
    for pattern in get_resolver("medworks.web.urls").url_patterns:
        route = str(pattern.pattern)
        params = re.findall(r"<(\w+):(\w+)>", route)
        yield pattern.name, route, params


def test_every_id_in_a_url_is_bounded():
    for name, _route, params in _routes():
        for converter, _param in params:
            assert converter != "int", f"{name}: use <id:...> so an overlong id is a 404"


@pytest.mark.parametrize("persona", ["coordinator", "insurer_user", "clinic_user"])
def test_an_overlong_id_or_page_number_is_never_a_500(db, client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for name, route, _params in _routes():
        url = "/" + re.sub(r"<(\w+):(\w+)>", lambda m: FILL.get(m.group(1), "x"), route)
        for probe in (url, url + f"?page={HUGE}"):
            response = client.get(probe)
            assert response.status_code < 500, (name, probe, response.status_code)
    # An id one digit past the bound is no route at all.
    assert client.get(f"/staff/patients/{'9' * 19}/access/").status_code == 404
