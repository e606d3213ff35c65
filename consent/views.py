from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from people import inventory
from people.models import SavedCard
from rights import views as rights_views

from . import banner, services
from .models import ConsentSource, Purpose, TextKind


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The privacy policy, built from the inventory and the settings (B16, D1-D14)."""
    return render(
        request,
        "consent/policy.html",
        {
            "activities": inventory.PROCESSING_ACTIVITIES,
            "recipients": inventory.recipients(),
            "controller_identity": inventory.controller_identity(),
            "cookie_purposes": banner.snapshot(request.LANGUAGE_CODE)["purposes"],
            "choice_months": banner.choice_months(),
            "max_cookie_months": banner.MAX_COOKIE_MONTHS,
            "opposition_months": settings.RETENTION_MONTHS["opposition_list"],
            "ga_enabled": bool(settings.GA_MEASUREMENT_ID),
        },
    )


# --- One-click unsubscribe (B9, B10, RFC 8058) ---------------------------------------------


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", no token, no login
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (link scanners fetch GETs: RFC 8058 § 3.2); POST unsubscribes."""
    subject = services.subject_for_token(token)
    if subject is None:
        raise Http404
    if request.method == "POST":
        services.unsubscribe(subject=subject, now=timezone.now())
        return render(request, "consent/unsubscribed.html")
    return render(
        request,
        "consent/unsubscribe.html",
        {"token": token, "wording": services.wording(TextKind.UNSUBSCRIBE)},
    )


# --- The person's consents, in the privacy space (B12, C10) ---------------------------------


def _privacy_email(request: HttpRequest) -> str:
    """The verified address of the privacy space (rights app), or "" when signed out."""
    return rights_views.space_email(request, timezone.now())


def _sign_in_needed(request: HttpRequest) -> HttpResponse:
    return redirect("rights:space_sign_in")


@never_cache
@require_GET
def my_consents(request: HttpRequest) -> HttpResponse:
    email = _privacy_email(request)
    if not email:
        return _sign_in_needed(request)
    marketing = services.current_consents(email=email).get(Purpose.MARKETING_EMAIL)
    # The box shows what happens, not only what was ticked: a client with no record gets
    # newsletters too (soft opt-in, CPCE L34-5), and must see it to untick it (B10, B12).
    receives = services.may_send_marketing(email=email, now=timezone.now())
    return render(
        request,
        "consent/my_consents.html",
        {
            "marketing_granted": receives,
            "marketing_as_client": receives and marketing is None,
            "marketing_record": marketing,
            "marketing_wording": services.wording(TextKind.MARKETING),
            "cards": SavedCard.objects.filter(
                person__email__iexact=email, consent_withdrawn_at__isnull=True
            ).order_by("id"),
        },
    )


@never_cache
@require_POST
def set_marketing(request: HttpRequest) -> HttpResponse:
    email = _privacy_email(request)
    if not email:
        return _sign_in_needed(request)
    now = timezone.now()
    ticked = request.POST.get("marketing") == "on"
    # Only a change of the box is a choice: saving a box shown ticked by the soft opt-in is
    # no consent (B10: never from a pre-ticked box), nor saving one shown unticked under a
    # restriction a withdrawal.
    if ticked == (request.POST.get("shown") == "on"):
        return redirect("consent:my_consents")
    if ticked:
        services.grant_marketing(email=email, source=ConsentSource.PRIVACY_SPACE, now=now)
    else:
        services.withdraw_marketing(email=email, source=ConsentSource.PRIVACY_SPACE, now=now)
    return redirect("consent:my_consents")


@never_cache
@require_POST
def withdraw_card(request: HttpRequest, payment_method: str) -> HttpResponse:
    email = _privacy_email(request)
    if not email:
        return _sign_in_needed(request)
    card = SavedCard.objects.of(email, payment_method)
    if card is None:
        raise Http404
    services.withdraw_saved_card(card=card, source=ConsentSource.PRIVACY_SPACE, now=timezone.now())
    return redirect("consent:my_consents")
