"""Every page carries a strict Content-Security-Policy (nothing but the app's own origin: no
inline script or style anywhere) and a Permissions-Policy."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

from medworks.web.security import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "medworks" / "web" / "templates"


def test_pages_send_a_strict_csp_and_a_permissions_policy(client, insurer_user):
    for response in (
        client.get(reverse("web:login")),
        (client.force_login(insurer_user), client.get(reverse("web:portal_home")))[1],
    ):
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_style_or_event_handlers():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"<style\b", text):
            offenders.append(template.name)
        if re.search(r"\sstyle=\"|\son[a-z]+=\"", text):
            offenders.append(template.name)
    assert offenders == []


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client):
    page = client.get("/login/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("web/favicon.svg")


def test_the_api_docs_page_has_the_same_policy_and_loads_only_the_apps_own_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = response.content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
    assert re.search(r"<style\b|\sstyle=\"|\son[a-z]+=\"", page) is None
    sources = re.findall(r"(?:src|href)=\"([^\"]+)\"", page)
    assert sources and all(source.startswith("/static/api/swagger/") for source in sources)


def test_the_url_configuration_loads_before_collectstatic_in_production(settings, tmp_path):
    """Production's static storage looks names up in a manifest collectstatic writes; the URLs
    must load without it (a command such as migrate loads them first)."""
    import importlib

    import medworks.urls

    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    from django.contrib.staticfiles.storage import staticfiles_storage

    staticfiles_storage._wrapped = None  # forget the storage built for the test settings
    try:
        importlib.reload(medworks.urls)
    finally:
        staticfiles_storage._wrapped = None
