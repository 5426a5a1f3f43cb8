"""Every request gets an id: every log line written while it is answered carries it, the
response says it (`X-Request-ID`), and one line per request records how it went.

First in settings.MIDDLEWARE, so the other middleware's lines (a refused host, a redirect to
HTTPS, a 500) carry it too. The proxy's `X-Request-ID` is kept when it is a sane token (1-64
characters of A-Z a-z 0-9 . _ -), so the proxy's access log and ours join on it; anything
else is replaced by a new id (uuid4 hex), never written to the logs.

The request line names the route's pattern (`portal/requests/<id:order_id>/`), not the path:
a path or query string can hold a signed link's token or a patient's name typed in a search.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from medworks.core.logs import log_context, sane_request_id

HEADER = "X-Request-ID"
logger = logging.getLogger("medworks.request")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = sane_request_id(request.headers.get(HEADER))
        with log_context(request_id=given) as request_id:
            request.request_id = request_id
            started = time.monotonic()
            response = self.get_response(request)
            # Django's own line for an answer of 400 and above ("Not Found: /path"), written
            # here, inside the context: the handler would write it after this middleware,
            # without the id (log_response writes it once, whoever calls it first).
            if response.status_code >= 400:
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
            match = getattr(request, "resolver_match", None)
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                f"/{match.route}" if match is not None else "(unrouted)",
                response.status_code,
                # Rounded before it is an argument: a float's 17 digits could pass for a card.
                round((time.monotonic() - started) * 1000, 1),
            )
        response[HEADER] = request_id
        return response
