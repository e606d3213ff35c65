from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import inventory, services
from . import stripe as people_stripe
from .dpo_permissions import DPO_GROUP


def is_dpo(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user may see the DPO's documents: a DPO staff member or a superuser,
    signed in with their second factor (django-otp's `is_verified`)."""
    if not (user.is_authenticated and user.is_active and user.is_verified()):
        return False
    return user.is_superuser or (user.is_staff and user.groups.filter(name=DPO_GROUP).exists())


def dpo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send anonymous users to the admin login; refuse (403) everyone but the DPO."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_dpo(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def data_we_hold(request: HttpRequest) -> HttpResponse:
    """What we hold, why, for whom and how long: built from the inventory only (B13, B16)."""
    return render(
        request,
        "people/data.html",
        {
            "categories": inventory.category_summaries(),
            "activities": inventory.PROCESSING_ACTIVITIES,
            "recipients": inventory.recipients(),
            "controller_identity": inventory.controller_identity(),
        },
    )


@require_GET
@dpo_required
def register_csv(request: HttpRequest) -> HttpResponse:
    """The Art. 30 register, one row per processing activity (REQUIREMENTS B15)."""
    filename = f"okasio-registre-art30-{timezone.now():%Y-%m-%d}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    response.write("\ufeff")  # a BOM, so spreadsheet software reads UTF-8 accents right
    writer = csv.writer(response)
    writer.writerow([str(heading) for _key, heading in inventory.REGISTER_COLUMNS])
    for row in inventory.register_rows():
        writer.writerow([row[key] for key, _heading in inventory.REGISTER_COLUMNS])
    return response


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events (STYLE 13): 400 unless signed with STRIPE_WEBHOOK_SECRET; 200 once
    handled, for a repeat and for a type we don't handle (otherwise Stripe keeps trying).
    An error while handling is a 500: nothing was kept, and Stripe sends it again.
    """
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = people_stripe.verify_webhook(request.body, signature)
    except people_stripe.BadWebhook:
        return HttpResponseBadRequest("Bad signature or payload", content_type="text/plain")
    services.handle_stripe_event(event=event, now=timezone.now())
    return HttpResponse("OK", content_type="text/plain")
