"""The webhook's HTTP surface (aiohttp): `POST /validate`, `POST /mutate`, and nothing else.

* A body that is not an AdmissionReview v1 request gets HTTP 400 with a one-line reason: without a request
  uid no AdmissionReview answer is possible, and 400 tells the caller the fault is theirs.
* An unknown path gets 404 and any method other than POST on the two paths 405. Upstream answers every
  unknown path with 500 "Illegal path requested", which makes a misconfigured `clientConfig.service.path`
  look like a webhook crash in the API server's log and in alerting on 5xx; 404 names the real fault.
* An unexpected exception while deciding gets HTTP 500 with the exception's type only: the trace goes to
  the log (upstream returns the stack trace to the caller, which can quote the resource, secrets included).

Bodies are limited to 3 MiB, the API server's own request limit plus headroom for the review envelope.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from flink_operator.webhook.admission import Admission
from flink_operator.webhook.review import JSON, AdmissionRequest, ReviewError, parse_review

VALIDATE_PATH = "/validate"
MUTATE_PATH = "/mutate"
MAX_BODY_BYTES = 3 * 1024 * 1024

_log = logging.getLogger("flink_operator.webhook")

Decide = Callable[[AdmissionRequest], Awaitable[JSON]]


def _handler(decide: Decide) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            admission_request = parse_review(body)
        except ReviewError as error:
            return web.Response(status=400, text=f"invalid AdmissionReview: {error}\n")
        try:
            answer = await decide(admission_request)
        except Exception as error:
            _log.exception("Admission of %s failed", admission_request.describe)
            return web.Response(status=500, text=f"admission failed: {type(error).__name__}\n")
        return web.json_response(answer)

    return handle


async def _not_found(request: web.Request) -> web.Response:
    if request.path in (VALIDATE_PATH, MUTATE_PATH):
        return web.Response(status=405, headers={"Allow": "POST"}, text="only POST is allowed\n")
    return web.Response(
        status=404, text=f"no such path {request.path!r}; use {VALIDATE_PATH} or {MUTATE_PATH}\n"
    )


def build_app(admission: Admission) -> web.Application:
    """The aiohttp application answering admission requests with `admission`."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(VALIDATE_PATH, _handler(admission.validate))
    app.router.add_post(MUTATE_PATH, _handler(admission.mutate))
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app
