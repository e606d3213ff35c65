"""`manage.py seed_demo`: a realistic, fake French population for demos and manual testing.

Deterministic (Faker fr_FR and random seeded with --seed), dated relative to now, so that the
retention sweeps and the rights workflows have real work to do: prospects older than three
years, former clients, card evidence past its 13/15 months, old technical traces.
Idempotent: when people already exist it creates nothing and only resets and prints the
login of the demo DPO account.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from people.dpo_permissions import DPO_GROUP
from people.models import (
    Activity,
    ActivityParticipation,
    ContactRequest,
    Person,
    Purchase,
    PurchaseKind,
    Review,
    SavedCard,
    TechnicalTrace,
)
from rights.models import Channel, DataSubjectRequest

ACTIVITY_KINDS = [
    "Atelier poterie",
    "Escape game",
    "Randonnée",
    "Cours de cuisine",
    "Soirée jeux de société",
    "Initiation à l'escalade",
    "Visite guidée",
    "Atelier d'écriture",
    "Dégustation de bières",
    "Atelier photo",
    "Cours de danse",
    "Quiz en équipe",
]
OFFERS = [
    ("Activité à l'unité", PurchaseKind.ONE_OFF, 2500),
    ("Pack 5 activités", PurchaseKind.ONE_OFF, 9900),
    ("Atelier premium", PurchaseKind.ONE_OFF, 4900),
    ("Abonnement mensuel", PurchaseKind.SUBSCRIPTION, 1990),
    ("Abonnement équipe", PurchaseKind.SUBSCRIPTION, 7900),
]
CONTACT_SUBJECTS = [
    "Question sur une activité",
    "Problème de paiement",
    "Demande de devis pour une équipe",
    "Je n'arrive pas à me connecter",
    "Modifier ma réservation",
    "Partenariat",
]
CARD_BRANDS = ["visa", "mastercard", "cartes_bancaires", "amex"]


class Command(BaseCommand):
    help = "Create a fake French population (people, purchases, activities...) and a DPO login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=300, help="How many people (300).")
        parser.add_argument("--seed", type=int, default=2020, help="Random seed (2020).")
        parser.add_argument(
            "--password", help="The DPO account's password (default: a new random one)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (a throwaway DB only)."
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates fake people: refused with DEBUG off. "
                "Use --force, on a throwaway database only."
            )
        now = timezone.now()
        existing = Person.objects.count()
        if existing:
            self.stdout.write(f"{existing} people already exist: no demo data created.")
        else:
            with transaction.atomic():
                counts = seed(people=options["people"], seed=options["seed"], now=now)
            self.stdout.write(
                "Created " + ", ".join(f"{count} {name}" for name, count in counts.items()) + "."
            )
        password = options["password"] or secrets.token_urlsafe(12)
        username, device = ensure_dpo_user(password=password)
        if not DataSubjectRequest.objects.exists():
            logged = seed_requests(by=device.user, now=now)
            self.stdout.write(f"Logged {logged} demo requests for the DPO's queue.")
        self.stdout.write(
            self.style.SUCCESS(f"DPO login: {username} / {password} at {settings.SITE_URL}/admin/")
        )
        self.stdout.write(
            "The admin also asks for a TOTP code: add this key to an authenticator app\n"
            f"  {device.config_url}\n"
            f"or print the current code with: python manage.py demo_totp {username}"
        )


def ensure_dpo_user(*, password: str) -> tuple[str, TOTPDevice]:
    """Create or update the demo DPO account (staff, in the DPO group) and its TOTP device."""
    user, _created = get_user_model().objects.get_or_create(
        username="dpo", defaults={"email": "dpo@okasio.fr"}
    )
    user.is_staff = True
    user.is_active = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=DPO_GROUP))
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="demo", defaults={"confirmed": True}
    )
    return user.get_username(), device


# The demo queue: one request of each kind and two more, received between 2 and 40 days ago,
# so the DPO sees some due soon and one overdue. What each right needs, as the forms ask it.
DEMO_REQUESTS = [
    ("access", 2, {}),
    ("rectification", 6, {"what_is_wrong": "Mon adresse est ancienne", "correction": "Lille"}),
    ("erasure", 12, {"scope": "everything"}),
    ("portability", 19, {}),
    ("restriction", 24, {"case": "accuracy"}),
    ("objection", 27, {"target": "marketing"}),
    ("access", 33, {}),
    ("objection", 40, {"target": "other", "grounds": "J’ai déménagé à l’étranger"}),
]


def seed_requests(*, by: AbstractBaseUser, now: datetime) -> int:
    """Log the demo requests as received by email (their acknowledgements go out as usual);
    return how many."""
    from rights.services import log_received_request

    people = Person.objects.order_by("pk")[: len(DEMO_REQUESTS)]
    for person, (kind, days_ago, details) in zip(people, DEMO_REQUESTS, strict=False):
        log_received_request(
            kind=kind,
            email=person.email,
            name=f"{person.first_name} {person.last_name}",
            language="fr",
            channel=Channel.EMAIL,
            received_at=now - timedelta(days=days_ago),
            by=by,
            now=now,
            details=details,
        )
    return min(len(people), len(DEMO_REQUESTS))


def seed(*, people: int, seed: int, now: datetime) -> dict[str, int]:
    """Create the demo population; return how many rows of each kind were created."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed)

    persons = Person.objects.bulk_create(_people(fake, rng, people, now))
    activities = Activity.objects.bulk_create(_activities(fake, rng, persons, now))
    participations = ActivityParticipation.objects.bulk_create(
        _participations(rng, persons, activities, now)
    )
    counts = {
        "people": len(persons),
        "activities": len(activities),
        "participations": len(participations),
        "reviews": len(Review.objects.bulk_create(_reviews(fake, rng, participations, now))),
        "purchases": len(Purchase.objects.bulk_create(_purchases(rng, persons, now))),
        "saved cards": len(SavedCard.objects.bulk_create(_saved_cards(rng, persons, now))),
        "contact requests": len(
            ContactRequest.objects.bulk_create(_contact_requests(fake, rng, persons, now))
        ),
        "technical traces": len(
            TechnicalTrace.objects.bulk_create(_traces(fake, rng, persons, now))
        ),
    }
    return counts


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def _people(fake: Faker, rng: random.Random, count: int, now: datetime) -> list[Person]:
    people = []
    for i in range(count):
        first, last = fake.first_name(), fake.last_name()
        collected_at = now - timedelta(days=rng.randint(1, 5 * 365))
        person = Person(
            email=f"{slugify(first)}.{slugify(last)}.{i}@{fake.free_email_domain()}",
            first_name=first,
            last_name=last,
            company=fake.company() if rng.random() < 0.3 else "",
            phone=fake.phone_number() if rng.random() < 0.7 else "",
            street=fake.street_address(),
            postal_code=fake.postcode(),
            city=fake.city(),
            country="FR",
            photo=f"people/photos/demo-{i}.jpg" if rng.random() < 0.15 else "",
            collected_at=collected_at,
        )
        kind = rng.random()
        if kind < 0.35:  # a prospect: a newsletter sign-up, a contact form
            person.is_prospect = True
        elif kind < 0.55:  # a user who never bought, often also a prospect
            person.is_user = True
            person.is_prospect = rng.random() < 0.6
        else:  # a client; a third of them former clients
            person.is_user = person.is_client = True
            person.stripe_customer_id = f"cus_demo{i:06d}"
            if kind > 0.85:
                person.client_relationship_ended_at = _between(rng, collected_at, now)
        # Clicks, logins, purchases, replies (never e-mail opens, C8); some never came back.
        if rng.random() < 0.75:
            person.last_contact_initiated_at = _between(rng, collected_at, now)
        people.append(person)
    return people


def _activities(
    fake: Faker, rng: random.Random, persons: list[Person], now: datetime
) -> list[Activity]:
    organisers = [p for p in persons if p.is_user] or persons
    activities = []
    for _ in range(max(5, len(persons) // 8)):
        created_at = now - timedelta(days=rng.randint(1, 3 * 365))
        activities.append(
            Activity(
                title=f"{rng.choice(ACTIVITY_KINDS)} à {fake.city()}",
                description=fake.paragraph(nb_sentences=3),
                organiser=rng.choice(organisers),
                is_private=rng.random() < 0.25,
                starts_at=created_at + timedelta(days=rng.randint(3, 60), hours=rng.randint(9, 20)),
                created_at=created_at,
            )
        )
    return activities


def _participations(
    rng: random.Random, persons: list[Person], activities: list[Activity], now: datetime
) -> list[ActivityParticipation]:
    participations = []
    for person in persons:
        if not person.is_user:
            continue
        for activity in rng.sample(activities, k=min(len(activities), rng.randint(0, 5))):
            joined_at = _between(rng, max(activity.created_at, person.collected_at), now)
            participations.append(
                ActivityParticipation(person=person, activity=activity, joined_at=joined_at)
            )
    return participations


def _reviews(
    fake: Faker, rng: random.Random, participations: list[ActivityParticipation], now: datetime
) -> list[Review]:
    return [
        Review(
            person=p.person,
            activity=p.activity,
            rating=rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 3, 6, 8])[0],
            text=fake.sentence(nb_words=14),
            created_at=_between(rng, p.joined_at, now),
        )
        for p in participations
        if rng.random() < 0.3
    ]


def _purchases(rng: random.Random, persons: list[Person], now: datetime) -> list[Purchase]:
    purchases = []
    four_years_ago = now - timedelta(days=4 * 365)
    for person in persons:
        if not person.is_client:
            continue
        deferred = rng.random() < 0.15
        brand = rng.choice(CARD_BRANDS)
        last4 = f"{rng.randint(0, 9999):04d}"
        start = max(person.collected_at, four_years_ago)
        end = person.client_relationship_ended_at or now
        label, kind, amount = rng.choice(OFFERS)
        if kind == PurchaseKind.SUBSCRIPTION:  # monthly instalments
            first = _between(rng, start, end).date()
            debits = [first + timedelta(days=30 * n) for n in range(rng.randint(1, 18))]
            debits = [d for d in debits if d <= end.date()]
        else:
            debits = sorted(_between(rng, start, end).date() for _ in range(rng.randint(1, 4)))
        for debited_on in debits:
            n = len(purchases) + 1
            purchases.append(
                Purchase(
                    person=person,
                    stripe_charge_id=f"ch_demo{n:08d}",
                    kind=kind,
                    description=label,
                    amount_cents=amount,
                    debited_on=debited_on,
                    invoice_number=f"F{debited_on.year}-{n:06d}",
                    invoiced_on=debited_on,
                    billing_name=f"{person.first_name} {person.last_name}",
                    billing_address=f"{person.street}\n{person.postal_code} {person.city}",
                    card_brand=brand,
                    card_last4=last4,
                    **_expiry(rng, debited_on),
                    is_deferred_debit=deferred,
                )
            )
    return purchases


def _expiry(rng: random.Random, after: date) -> dict[str, int]:
    return {"card_exp_month": rng.randint(1, 12), "card_exp_year": after.year + rng.randint(1, 4)}


def _saved_cards(rng: random.Random, persons: list[Person], now: datetime) -> list[SavedCard]:
    cards = []
    for person in persons:
        if person.is_client and not person.client_relationship_ended_at and rng.random() < 0.4:
            expiry = _expiry(rng, now.date())
            cards.append(
                SavedCard(
                    person=person,
                    stripe_payment_method_id=f"pm_demo{len(cards) + 1:06d}",
                    brand=rng.choice(CARD_BRANDS),
                    last4=f"{rng.randint(0, 9999):04d}",
                    exp_month=expiry["card_exp_month"],
                    exp_year=expiry["card_exp_year"],
                    consent_given_at=_between(rng, person.collected_at, now),
                    consent_text_version="carte-2024-01",
                )
            )
    return cards


def _contact_requests(
    fake: Faker, rng: random.Random, persons: list[Person], now: datetime
) -> list[ContactRequest]:
    requests = []
    for person in persons:
        if rng.random() < 0.2:
            created_at = _between(rng, person.collected_at, now)
            requests.append(
                ContactRequest(
                    person=person,
                    subject=rng.choice(CONTACT_SUBJECTS),
                    message=fake.paragraph(nb_sentences=4),
                    created_at=created_at,
                    last_exchange_at=min(now, created_at + timedelta(days=rng.randint(0, 20))),
                )
            )
    return requests


def _traces(
    fake: Faker, rng: random.Random, persons: list[Person], now: datetime
) -> list[TechnicalTrace]:
    visitors = [p for p in persons if p.is_user] + [None] * max(10, len(persons) // 3)
    traces = []
    for person in visitors:
        for _ in range(rng.randint(1, 6)):
            browser, user_agent = rng.choice(
                [("Chrome", fake.chrome), ("Firefox", fake.firefox), ("Safari", fake.safari)]
            )
            agent = user_agent()
            traces.append(
                TechnicalTrace(
                    person=person,
                    ip_address=fake.ipv4_public() if rng.random() < 0.85 else fake.ipv6(),
                    user_agent=agent,
                    browser=browser,
                    operating_system=_operating_system(agent),
                    seen_at=now - timedelta(minutes=rng.randint(1, 2 * 365 * 24 * 60)),
                )
            )
    return traces


def _operating_system(user_agent: str) -> str:
    for marker, name in [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]:
        if marker in user_agent:
            return name
    return ""
