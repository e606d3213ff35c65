"""Every public page, with the data each needs: one table for the CSP, accessibility and
screenshot tests (tests/security/test_csp.py, tests/e2e/test_public_pages.py).

`make_public_pages` builds the data (at the real time: live_server pages use the real
clock) and returns page name → French path; the English page is "/en" + that path.
Pages of the privacy space need its session: `space_session` makes one.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

EMAIL = "alice.pages@example.fr"
# Pages that answer something other than 200, on purpose.
STATUS = {"link-invalid": 404, "link-expired": 410, "link-used": 410, "keep-in-touch-gone": 404}
# Pages shown inside the privacy space (they need `space_session`).
IN_SPACE = {"space", "consents"}


def make_public_pages() -> dict[str, str]:
    from consent import services as consent_services
    from consent.models import ConsentSource
    from people.models import Person, SavedCard
    from retention import services as retention_services
    from retention.models import Repermission
    from rights import services
    from rights.models import LinkPurpose, PauseReason, RequestKind, SecretLink

    now = timezone.now()
    person = Person.objects.create(
        email=EMAIL, first_name="Alice", last_name="Martin", collected_at=now, is_prospect=True
    )
    SavedCard.objects.create(
        person=person,
        stripe_payment_method_id="pm_pages",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=now.year + 2,
        consent_given_at=now,
        consent_text_version="v1",
    )
    consent_services.grant_marketing(email=EMAIL, source=ConsentSource.PRIVACY_SPACE, now=now)

    def file(kind: str, *, at=now, **details) -> tuple:
        dsr = services.submit_request(
            kind=kind, email=EMAIL, name="Alice Martin", language="fr", details=details, now=at
        )
        _, token = SecretLink.issue(
            purpose=LinkPurpose.CONFIRM,
            request=dsr,
            expires_at=dsr.confirmation_expires_at(),
            now=at,
        )
        return dsr, token

    # A confirmed request, waiting for the person's answer: the fullest tracker.
    tracked, used = file("access")
    _, _, tracker = services.confirm_request(token=used, now=now)
    dpo = get_user_model().objects.create_user("pages-dpo", is_staff=True)
    tracked.refresh_from_db()
    tracked.ask_person(
        reason=PauseReason.CLARIFICATION,
        message="Which address did you use on the platform?",
        pause_clock=False,
        by=dpo,
        now=now,
    )
    _, unconfirmed = file("erasure", scope="everything")
    _, expired = file("restriction", at=now - timedelta(days=30), case="accuracy")
    prospect = Repermission.objects.create(person=person, asked_at=now, sent_at=now)

    pages = {
        "home": "/",
        **{f"form-{kind}": f"/demande/{kind}/" for kind in RequestKind.values},
        "submitted": "/demande/envoyee/",
        "confirm": f"/confirmer/{unconfirmed}/",
        "link-invalid": "/confirmer/not-a-link/",
        "link-expired": f"/confirmer/{expired}/",
        "link-used": f"/confirmer/{used}/",
        "tracker": f"/suivi/{tracker}/",
        "download": "/telecharger/a-download-link/",
        "sign-in": "/espace/connexion/",
        "sign-in-sent": "/espace/connexion/envoyee/",
        "sign-in-enter": "/espace/connexion/a-sign-in-link/",
        "space": "/espace/",
        "consents": "/vie-privee/consentements/",
        "data": "/donnees/",
        "policy": "/politique-de-confidentialite/",
        "unsubscribe": f"/desinscription/{consent_services.unsubscribe_token(email=EMAIL)}/",
        "keep-in-touch": f"/garder-contact/{retention_services.repermission_token(prospect)}/",
        "keep-in-touch-gone": "/garder-contact/a-stale-link/",
    }
    return pages


def space_session(email: str = EMAIL) -> str:
    """A privacy-space session for `email`; return its key (the `sessionid` cookie)."""
    from rights.views import SPACE_SESSION_KEY

    session = SessionStore()
    until = timezone.now() + timedelta(minutes=30)
    session[SPACE_SESSION_KEY] = {"email": email, "until": until.isoformat()}
    session.create()
    return session.session_key
