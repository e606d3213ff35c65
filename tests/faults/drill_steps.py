"""`python -m tests.faults.drill_steps STEP`: the application side of the backup drill
(tests/faults/test_backup_drill.py), against the database in DATABASE_URL.

- seed: two people (Alice, who asks for erasure, and Bob, who stays), a DPO, Alice's
  confirmed erasure request; prints its reference;
- erase REFERENCE: the DPO erases Alice (rights.fulfilment.execute_erasure);
- people: prints the addresses of everyone held, as JSON;
- unsubscribe EMAIL: the address's one-click unsubscribe (opposition list, B9);
- consent EMAIL: the address ticks the marketing box again (its entry leaves the list);
- opposed EMAIL: prints whether the address is on the opposition list.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta


def seed() -> None:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from people.models import Person, TechnicalTrace
    from rights import services
    from rights.models import LinkPurpose, SecretLink

    now = timezone.now()
    collected = now - timedelta(days=30)
    for email, first in (("alice@example.fr", "Alice"), ("bob@example.fr", "Bob")):
        person = Person.objects.create(
            email=email, first_name=first, last_name="Martin", collected_at=collected
        )
        TechnicalTrace.objects.create(person=person, ip_address="192.0.2.10", seen_at=collected)
    dpo = User.objects.create_user("drill-dpo", "dpo@okasio.fr", is_staff=True)
    dpo.groups.add(Group.objects.get(name="DPO"))
    dsr = services.submit_request(
        kind="erasure",
        email="alice@example.fr",
        name="Alice Martin",
        language="fr",
        details={"scope": "everything"},
        now=now,
    )
    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    services.confirm_request(token=token, now=now)
    print(dsr.code)


def erase(reference: str) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from people.models import Person
    from rights import fulfilment
    from rights.models import DataSubjectRequest

    dsr = DataSubjectRequest.objects.get(code=reference)
    person = Person.objects.get(email=dsr.email)
    by = User.objects.get(username="drill-dpo")
    fulfilment.execute_erasure(dsr=dsr, person=person, by=by, now=timezone.now())


def people() -> None:
    from people.models import Person

    print(json.dumps(sorted(Person.objects.values_list("email", flat=True))))


def unsubscribe(email: str) -> None:
    from django.utils import timezone

    from audit.hashing import subject_hash
    from consent import services

    services.unsubscribe(subject=subject_hash(email), now=timezone.now())


def consent(email: str) -> None:
    from django.utils import timezone

    from consent import services
    from consent.models import ConsentSource

    services.grant_marketing(email=email, source=ConsentSource.SIGNUP, now=timezone.now())


def opposed(email: str) -> None:
    from consent import services

    print(json.dumps(services.is_opposed(email=email)))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okasio_privacy.settings")
    import django

    django.setup()
    step, *args = sys.argv[1:]
    steps = {"seed": seed, "erase": erase, "people": people}
    steps |= {"unsubscribe": unsubscribe, "consent": consent, "opposed": opposed}
    steps[step](*args)
