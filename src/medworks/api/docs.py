"""The API's interactive docs page (/api/v1/docs): Swagger UI served by the app itself.

Django Ninja's own Swagger page loads its scripts from a CDN and starts them with an inline
script, which the app's Content-Security-Policy (web/security.py) forbids. This page loads the
vendored swagger-ui-dist (static/api/swagger/, recorded in web/static/web/VENDORED.md) and a
static starter (docs.js), so it runs under the same strict policy as every other page.
"""

from __future__ import annotations

from django.shortcuts import render
from ninja.openapi.docs import DocsBase


class SelfHostedSwagger(DocsBase):
    template = "api/docs.html"

    def render_page(self, request, api, **kwargs):
        context = {
            "api": api,
            "openapi_url": self.get_openapi_url(api, kwargs),
            # The session authenticator needs the CSRF token on unsafe methods ("Try it out").
            "add_csrf": any(getattr(auth, "csrf", False) for auth in api.auth),
        }
        return render(request, self.template, context)
