"""Site-wide error pages: Django's handler500, which tells a database outage from a bug."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views import defaults

RETRY_AFTER_SECONDS = 60
UNAVAILABLE = _(
    "The service is briefly unavailable and your request was not recorded. "
    "Please try again in a minute."
)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception. The database unreachable (restarting, failing over) is a 503
    the person can act on: nothing was recorded, try again in a minute. Anything else is
    Django's plain 500. Django logs both as usual; neither shows a traceback.

    OperationalError: the server is gone or refuses connections; InterfaceError: a
    connection it closed under us. Other database errors (IntegrityError...) are bugs: 500.
    The 503 page touches no database (base.html needs none), or it would fail too.
    """
    if not isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": str(UNAVAILABLE)}, status=503)
    else:
        page = render_to_string("503.html", {"message": UNAVAILABLE}, request=request)
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
