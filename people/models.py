"""What Okasio holds about whom: the records the charter (sections 1, 4, 5, 7) describes.

Every field that holds personal data is declared in `people/inventory.py`, which says why it
is held, who receives it, how long it is kept and what erasure does to it. A test fails when
a field here is missing there.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person is to Okasio (charter section 4). A person can hold several at once."""

    VISITOR = "visitor", _("Visitor")
    USER = "user", _("User")
    CLIENT = "client", _("Client")
    PROSPECT = "prospect", _("Prospect")


class PurchaseKind(models.TextChoices):
    ONE_OFF = "one_off", _("One-off purchase")
    SUBSCRIPTION = "subscription", _("Subscription instalment")


class PersonQuerySet(models.QuerySet):
    def with_email(self, email: str) -> PersonQuerySet:
        """Match the address the way the unique constraint does: case-insensitively."""
        return self.filter(email__iexact=email.strip())

    def unrestricted(self) -> PersonQuerySet:
        """Leave out people whose data are restricted (GDPR 18; B5): marketing sends,
        exports to third parties and edits start from here.
        """
        return self.exclude(self._under_restriction())

    def restricted(self) -> PersonQuerySet:
        """Only the people whose data are restricted (GDPR 18; B5)."""
        return self.filter(self._under_restriction())

    def _under_restriction(self) -> Exists:
        restriction = apps.get_model("rights", "Restriction")
        return Exists(restriction.objects.active().filter(person=OuterRef("pk")))


class Person(models.Model):
    code = models.UUIDField(
        _("customer reference"), default=uuid.uuid4, unique=True, editable=False
    )
    email = models.EmailField(_("email address"))
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    street = models.CharField(_("street address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, default="FR")
    # A path in the media storage; no ImageField, which would need Pillow.
    photo = models.FileField(_("photo"), upload_to="people/photos/", blank=True)

    # Roles (charter section 4). Nobody flagged is a visitor.
    is_user = models.BooleanField(_("has an account"), default=False)
    is_client = models.BooleanField(_("is or was a client"), default=False)
    is_prospect = models.BooleanField(_("is a prospect"), default=False)

    collected_at = models.DateTimeField(_("first collected"), default=timezone.now)
    # Clicks, purchases, logins, replies: never an e-mail open (REQUIREMENTS C8, D14).
    last_contact_initiated_at = models.DateTimeField(
        _("last contact you initiated"), null=True, blank=True
    )
    client_relationship_ended_at = models.DateTimeField(
        _("end of the client relationship"), null=True, blank=True
    )
    stripe_customer_id = models.CharField(
        _("Stripe customer ID"), max_length=255, blank=True, default=""
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="people_person_email_ci_unique"),
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="people_person_stripe_customer_unique",
            ),
            models.CheckConstraint(
                condition=Q(client_relationship_ended_at__isnull=True) | Q(is_client=True),
                name="people_person_relationship_end_needs_client",
            ),
        ]
        indexes = [
            # Used by retention.sweeps for prospects: 3 years after collection... (C8)
            models.Index(fields=["collected_at"], name="people_person_collected"),
            # ...or after the last contact they initiated (C8)
            models.Index(fields=["last_contact_initiated_at"], name="people_person_last_contact"),
            # Used by retention.sweeps for client prospecting data: 3 years after the end (C8)
            models.Index(fields=["client_relationship_ended_at"], name="people_person_rel_ended"),
        ]

    def __str__(self) -> str:
        return self.email or f"Person #{self.pk}"

    @property
    def roles(self) -> list[Role]:
        roles = [
            role
            for role, flag in [
                (Role.USER, self.is_user),
                (Role.CLIENT, self.is_client),
                (Role.PROSPECT, self.is_prospect),
            ]
            if flag
        ]
        return roles or [Role.VISITOR]

    @property
    def is_restricted(self) -> bool:
        return self.restrictions.filter(lifted_at__isnull=True).exists()


class Activity(models.Model):
    title = models.CharField(_("activity title"), max_length=200)
    description = models.TextField(_("activity description"), blank=True)
    organiser = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organised_activities",
        verbose_name=_("organiser"),
    )
    # Private: uninvited users cannot see it; staff only for technical support (charter 5).
    is_private = models.BooleanField(_("private"), default=False)
    starts_at = models.DateTimeField(_("activity start"))
    created_at = models.DateTimeField(_("activity created"), default=timezone.now)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return self.title or f"Activity #{self.pk}"


class ActivityParticipation(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="participations", verbose_name=_("person")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=_("activity joined"),
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("activity participation")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "activity"], name="people_participation_once_per_activity"
            ),
        ]

    def __str__(self) -> str:
        return f"Participation #{self.pk}"


class Purchase(models.Model):
    """A one-off purchase or a subscription instalment, as Stripe charged it.

    One row, fields with different fates: the invoice data stay 10 years (Code de commerce
    L123-22, REQUIREMENTS C9); the card details are evidence for a dispute, kept 13 months
    after the debit date, 15 for a deferred-debit card (CMF L133-24, C10), then blanked by a
    sweep. Never a card number (PAN), never a CVV (C10).
    """

    # SET_NULL: erasing the person leaves the invoice, which carries its own billing
    # name and address, as the law requires (B4).
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="purchases",
        verbose_name=_("person"),
    )
    stripe_charge_id = models.CharField(_("Stripe charge ID"), max_length=255, unique=True)
    kind = models.CharField(_("kind of purchase"), max_length=20, choices=PurchaseKind)
    description = models.CharField(_("what was bought"), max_length=255)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    debited_on = models.DateField(_("debit date"))

    # The invoice (10 years, L123-22).
    invoice_number = models.CharField(_("invoice number"), max_length=40, unique=True)
    invoiced_on = models.DateField(_("invoice date"))
    billing_name = models.CharField(_("name on the invoice"), max_length=255)
    billing_address = models.TextField(_("address on the invoice"), blank=True)

    # The card used: dispute evidence (13/15 months after debited_on), blanked by a sweep.
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    card_last4 = models.CharField(_("card last 4 digits"), max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(_("card expiry month"), null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(_("card expiry year"), null=True, blank=True)
    is_deferred_debit = models.BooleanField(_("deferred-debit card"), default=False)

    class Meta:
        verbose_name = _("purchase")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PurchaseKind.values), name="people_purchase_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(card_exp_month__isnull=True)
                | Q(card_exp_month__gte=1, card_exp_month__lte=12),
                name="people_purchase_card_exp_month_valid",
            ),
            # The card details are there together or blanked together.
            models.CheckConstraint(
                condition=Q(
                    card_brand="",
                    card_last4="",
                    card_exp_month__isnull=True,
                    card_exp_year__isnull=True,
                )
                | (
                    ~Q(card_last4="") & Q(card_exp_month__isnull=False, card_exp_year__isnull=False)
                ),
                name="people_purchase_card_all_or_nothing",
            ),
        ]
        indexes = [
            # Used by retention.sweeps for card evidence: 13/15 months after the debit (C10)
            models.Index(fields=["debited_on"], name="people_purchase_debited_on"),
            # Used by retention.sweeps for accounting records: 10 years (C9)
            models.Index(fields=["invoiced_on"], name="people_purchase_invoiced_on"),
        ]

    def __str__(self) -> str:
        return self.invoice_number or f"Purchase #{self.pk}"


class SavedCardQuerySet(models.QuerySet):
    def of(self, email: str, payment_method: str) -> SavedCard | None:
        """The card with this payment method of the person with this address (any case), with
        its person; None when the card is not theirs: a person names only their own cards."""
        return (
            self.select_related("person")
            .filter(
                stripe_payment_method_id=payment_method,
                person__in=Person.objects.with_email(email),
            )
            .first()
        )


class SavedCard(models.Model):
    """A card kept for future purchases: only with the person's consent (REQUIREMENTS C10, B12).

    Stripe holds the card number; we hold its payment method ID and what identifies it on
    screen. The consent app holds the consent records themselves (consent.ConsentRecord);
    here, the timestamp and the wording version the person ticked.
    """

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="saved_cards", verbose_name=_("person")
    )
    stripe_payment_method_id = models.CharField(
        _("Stripe payment method ID"), max_length=255, unique=True
    )
    brand = models.CharField(_("card brand"), max_length=20)
    last4 = models.CharField(_("card last 4 digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("card expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("card expiry year"))
    consent_given_at = models.DateTimeField(_("consent to keep the card given"))
    consent_text_version = models.CharField(_("consent wording version"), max_length=40)
    # Set when consent is withdrawn, in the transaction that records the withdrawal; the row
    # goes once Stripe has detached the card (retried by retention's
    # saved_cards_without_consent when Stripe failed at the time).
    consent_withdrawn_at = models.DateTimeField(
        _("consent to keep the card withdrawn"), null=True, blank=True
    )

    objects = SavedCardQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved card")
        constraints = [
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12),
                name="people_savedcard_exp_month_valid",
            ),
        ]
        indexes = [
            # Used by retention.sweeps.purge_saved_cards_without_consent (C10)
            models.Index(
                fields=["consent_withdrawn_at"],
                condition=Q(consent_withdrawn_at__isnull=False),
                name="people_savedcard_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}" if self.last4 else f"Saved card #{self.pk}"


class Review(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("person")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        verbose_name=_("activity reviewed"),
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("review text"), blank=True)
    created_at = models.DateTimeField(_("review written"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="people_review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"Review #{self.pk} ({self.rating}/5)"


class ContactRequest(models.Model):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="contact_requests",
        verbose_name=_("person"),
    )
    subject = models.CharField(_("subject of your message"), max_length=255)
    message = models.TextField(_("your message"))
    created_at = models.DateTimeField(_("message sent"), default=timezone.now)
    last_exchange_at = models.DateTimeField(_("last exchange"), default=timezone.now)

    class Meta:
        verbose_name = _("contact request")
        indexes = [
            # Used by retention.sweeps for contact requests: 3 years after the last exchange
            models.Index(fields=["last_exchange_at"], name="people_contact_last_exchange"),
        ]

    def __str__(self) -> str:
        return f"Contact request #{self.pk}"


class TechnicalTrace(models.Model):
    """IP address and browser seen on a visit (charter section 1: "données techniques")."""

    # Null: a visitor we cannot tie to anyone.
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="technical_traces",
        verbose_name=_("person"),
    )
    ip_address = models.GenericIPAddressField(_("IP address"))
    user_agent = models.TextField(_("browser identification (user agent)"), blank=True)
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    operating_system = models.CharField(_("operating system"), max_length=100, blank=True)
    seen_at = models.DateTimeField(_("seen"), default=timezone.now)

    class Meta:
        verbose_name = _("technical trace")
        indexes = [
            # Used by retention.sweeps for technical traces: 13 months after seen_at
            models.Index(fields=["seen_at"], name="people_trace_seen_at"),
        ]

    def __str__(self) -> str:
        return f"Technical trace #{self.pk}"


class StripeEvent(models.Model):
    """A Stripe webhook event we handled, once per event id (STYLE 13).

    Recorded in the same transaction as what the event changed: a repeat finds it and
    changes nothing; a crash before the commit leaves neither, and Stripe sends it again.
    Only Stripe's id and the event's type: the payload (names, emails) is not kept.
    """

    stripe_event_id = models.CharField(_("Stripe event ID"), max_length=255, unique=True)
    type = models.CharField(_("event type"), max_length=100)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("Stripe event")
        indexes = [
            # Used by the admin's list, newest first, and retention.sweeps.purge_stripe_events
            models.Index(fields=["received_at"], name="people_stripeevent_received"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}" if self.stripe_event_id else "Stripe event"
