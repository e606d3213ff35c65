"""The personal-data inventory: the single source of truth (DESIGN.md).

Every model field of the project's apps that holds personal data is declared here once, with
its category, purposes (each with its legal basis), recipients (country, transfer basis),
retention rule, what erasure does to it, whether portability includes it and where it comes
from. Fields that hold no personal data are listed in NOT_PERSONAL with the reason.
`tests/people/test_inventory.py` fails when a field is in neither, so the inventory cannot
drift from the schema.

Everything else reads it: the public "data we process" page, the Art. 30 register
(REQUIREMENTS B15, B16), and later the access package, the portability export, the erasure
plan and the retention sweeps.

Retention durations are never written here: a `Retention` names a key of
`settings.RETENTION_MONTHS`, the one place they live.

To declare another app's model: add a section below (one per model, in app order), then its
id and non-personal fields to NOT_PERSONAL with a reason, and a `PROCESSING_ACTIVITIES` entry
if it serves a new purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.hashing import subject_hash

# The dataclasses below compare by identity (eq=False): each is declared once as a
# module constant and fields point at those constants. It also keeps their lazy,
# translatable texts from being evaluated at import time.

# --- Vocabulary ----------------------------------------------------------------------------


class Category(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    CONTACT = "contact", _("Contact details")
    RELATIONSHIP = "relationship", _("Your relationship with Okasio")
    PURCHASES = "purchases", _("Purchases, subscriptions and invoices")
    CARD_EVIDENCE = "card_evidence", _("Card used for a payment (evidence if it is contested)")
    SAVED_CARD = "saved_card", _("Card saved for your next purchases")
    CONTENT = "content", _("Activities and reviews")
    CORRESPONDENCE = "correspondence", _("Your messages to Okasio")
    TECHNICAL = "technical", _("Technical data (IP address, browser, operating system)")
    AUDIENCE = "audience", _("Audience measurement (cookies)")
    RIGHTS = "rights", _("Your data protection requests and their proof")
    CONSENTS = "consents", _("Your consents, refusals and objections, and their proof")
    POST_MORTEM = "post_mortem", _("Your directive for your data after your death")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Your consent (GDPR 6(1)(a))")
    CONTRACT = "contract", _("Performance of our contract with you (GDPR 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation (GDPR 6(1)(c))")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Our legitimate interest (GDPR 6(1)(f))")


class Erasure(models.TextChoices):
    """What an erasure request (GDPR 17) does to a field."""

    DELETE = "delete", _("Deleted")
    ANONYMISE = "anonymise", _("Anonymised")
    KEEP = "keep", _("Kept until the end of the legal period, then deleted")


class Source(models.TextChoices):
    PROVIDED = "provided", _("You gave it to us")
    OBSERVED = "observed", _("Recorded from your use of the site and the platform")
    STRIPE = "stripe", _("From Stripe, our payment provider")
    ASSIGNED = "assigned", _("Assigned by Okasio")
    INFERRED = "inferred", _("Deduced by Okasio")


# Portability covers what the person provided or generated, processed on consent or
# contract (GDPR 20(1); WP242; REQUIREMENTS B7); never what Okasio assigned or deduced.
PORTABLE_SOURCES = {Source.PROVIDED, Source.OBSERVED}
PORTABLE_BASES = {LegalBasis.CONSENT, LegalBasis.CONTRACT}


@dataclass(frozen=True, eq=False)
class Purpose:
    label: str
    legal_basis: LegalBasis
    # What the interest is, when the basis is legitimate interest (GDPR 13(1)(d)).
    legitimate_interest: str = ""


@dataclass(frozen=True, eq=False)
class Recipient:
    name: str
    country: str
    transfer_basis: str
    role: str
    outside_eu: bool = False
    # The purposes it receives data for; empty means all the purposes of the field.
    only_for: tuple[Purpose, ...] = ()
    # Whether a rectification, erasure or restriction must be passed on to it (GDPR 19).
    # False for the hosts of our own database: a change made here is made there.
    notify: bool = True


@dataclass(frozen=True, eq=False)
class Retention:
    """How long data are kept.

    With a `setting_key`, the period is `settings.RETENTION_MONTHS[setting_key]` months and
    runs from `start` (e.g. "the debit date"). Without one, the period ends on an event
    rather than a date, and `start` says which (e.g. "until you withdraw your consent").
    `applies_to` narrows the rule to some people when a field has several rules.
    """

    setting_key: str | None
    start: str
    legal_reason: str = ""
    applies_to: str = ""
    # For the erasure plan: the row's date field the period runs from ("debited_on")...
    start_field: str = ""
    # ...counted from the close of that date's financial year, 31 December (C9)...
    from_year_end: bool = False
    # ...and, when a field has several rules, the rows this one covers: (field, value).
    only_when: tuple[str, object] | None = None

    @property
    def months(self) -> int | None:
        return retention_months(self.setting_key) if self.setting_key else None

    def describe(self) -> str:
        """Return the rule in words, in the active language ("N months after the visit")."""
        if self.months is None:
            text = str(self.start)
        else:
            text = gettext("%(duration)s after %(start)s") % {
                "duration": _duration(self.months),
                "start": self.start,
            }
        return labelled(capfirst(str(self.applies_to)), text) if self.applies_to else capfirst(text)


@dataclass(frozen=True, eq=False)
class Field:
    """One model field that holds personal data, and everything the GDPR asks about it."""

    model: str  # the model's label, "people.Person"
    field_name: str
    category: Category
    purposes: tuple[Purpose, ...]
    recipients: tuple[Recipient, ...]
    retention: tuple[Retention, ...]
    erasure: Erasure
    portable: bool
    source: Source
    # Why the field survives an erasure request (GDPR 17(3)); required when erasure is KEEP.
    keep_reason: str = ""
    # What erasure does, when "deleted"/"anonymised" alone would not say enough.
    erasure_note: str = ""

    @property
    def label(self) -> str:
        """The model field's verbose name, as people read it."""
        model_field = apps.get_model(self.model)._meta.get_field(self.field_name)
        return capfirst(str(getattr(model_field, "verbose_name", self.field_name)))

    @property
    def is_link(self) -> bool:
        """Whether the field is the link from a row to the person (a foreign key to Person)."""
        model_field = apps.get_model(self.model)._meta.get_field(self.field_name)
        related = getattr(model_field, "related_model", None)
        return related is not None and related._meta.label == "people.Person"

    @property
    def legal_bases(self) -> tuple[LegalBasis, ...]:
        return tuple(dict.fromkeys(purpose.legal_basis for purpose in self.purposes))


@dataclass(frozen=True, eq=False)
class ProcessingActivity:
    """One entry of the Art. 30 register (REQUIREMENTS B15).

    Its data categories, recipients and retention are derived from the fields that serve
    its purposes; `extra_*` add what no model here holds (Google Analytics' own data...).
    """

    name: str
    purposes: tuple[Purpose, ...]
    data_subjects: tuple[str, ...]
    extra_categories: tuple[Category, ...] = ()
    extra_recipients: tuple[Recipient, ...] = ()
    extra_retention: tuple[Retention, ...] = ()
    security: str = ""

    def fields(self) -> tuple[Field, ...]:
        return tuple(f for f in FIELDS if set(f.purposes) & set(self.purposes))

    def categories(self) -> list[Category]:
        found = [f.category for f in self.fields()] + list(self.extra_categories)
        return list(dict.fromkeys(found))

    def recipients(self) -> list[Recipient]:
        found = [
            r
            for f in self.fields()
            for r in f.recipients
            if not r.only_for or set(r.only_for) & set(self.purposes)
        ]
        return _unique(found + list(self.extra_recipients))

    def retention(self) -> list[Retention]:
        found = [r for f in self.fields() for r in f.retention] + list(self.extra_retention)
        return _unique(found)


# --- Purposes (charter section 4) -------------------------------------------------------------

SERVICE_ACCESS = Purpose(
    _("Give you access to our services and activities and manage their use"),
    LegalBasis.CONTRACT,
)
CLIENT_MANAGEMENT = Purpose(
    _("Manage clients: contracts, quotes, invoices and the follow-up of the relationship"),
    LegalBasis.CONTRACT,
)
PAYMENT = Purpose(_("Take payment for purchases and subscriptions"), LegalBasis.CONTRACT)
SAVED_CARD = Purpose(_("Keep your card for your next purchases"), LegalBasis.CONSENT)
ACCOUNTING = Purpose(
    _("Keep accounting records and invoices, as the law requires"), LegalBasis.LEGAL_OBLIGATION
)
DISPUTES = Purpose(
    _("Handle unpaid amounts, disputes and contested payments"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Proving a payment and defending our rights if it is contested"),
)
CONTACT_FILE = Purpose(
    _("Keep a file of our visitors, users, clients and prospects"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Knowing who we work with and answering them consistently"),
)
MARKETING_CLIENTS = Purpose(
    _("Send our clients newsletters and offers about services like those they bought"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Telling our clients about similar services (CPCE L34-5); you can say no at any time"),
)
MARKETING_PROSPECTS = Purpose(
    _("Send newsletters and offers to prospects who agreed to receive them"),
    LegalBasis.CONSENT,
)
STATISTICS = Purpose(
    _("Produce business statistics about our services and activities"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Improving our services and choosing new activities"),
)
AUDIENCE = Purpose(
    _("Measure the audience of our pages with Google Analytics cookies"), LegalBasis.CONSENT
)
ENQUIRIES = Purpose(
    _("Answer your requests for information and tailor our answers"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Answering the people who contact us"),
)
SUPPORT = Purpose(
    _("Help you create and join activities and solve technical problems"), LegalBasis.CONTRACT
)
SECURITY = Purpose(
    _("Keep the site and the platform secure and working"),
    LegalBasis.LEGITIMATE_INTEREST,
    _("Protecting our services and their users against abuse and attacks"),
)
RIGHTS = Purpose(
    _("Handle your data protection requests and prove that we did"),
    LegalBasis.LEGAL_OBLIGATION,
)
CONSENT_PROOF = Purpose(
    _("Prove the consents you gave, refused or withdrew (GDPR 7(1))"),
    LegalBasis.LEGAL_OBLIGATION,
)
ERASURE_FINAL_NOTICE = Purpose(
    _("Tell you when the data kept after your erasure request are deleted"),
    LegalBasis.LEGAL_OBLIGATION,
)
OPPOSITION = Purpose(
    _("Respect your objection to marketing (GDPR 21(3)) and not add you to our lists again"),
    LegalBasis.LEGAL_OBLIGATION,
)
POST_MORTEM = Purpose(
    _(
        "Carry out your directive for your data after your death "
        "(Loi Informatique et Libertés, art. 85)"
    ),
    LegalBasis.LEGAL_OBLIGATION,
)

# --- Recipients (charter sections 5, 8, 9, 15; REQUIREMENTS C7, D2) ---------------------------

NO_TRANSFER = _("None: the data stay in the EU")

OVH = Recipient(
    name="OVH SAS",
    country=_("France"),
    transfer_basis=NO_TRANSFER,
    role=_("Hosting of the website (processor)"),
    notify=False,
)
GOOGLE_CLOUD = Recipient(
    name="Google Ireland Ltd (Google Cloud)",
    country=_("Belgium"),
    transfer_basis=_(
        "None: servers in the Belgium region of the EU. Possible access by Google LLC "
        "(United States) under the EU-US Data Privacy Framework adequacy decision "
        "[à confirmer: sub-processor list]"
    ),
    role=_("Hosting of the platform (processor)"),
    notify=False,
)
STRIPE = Recipient(
    name="Stripe Payments Europe Ltd",
    country=_("Ireland"),
    transfer_basis=_(
        "None for Stripe Payments Europe (EU). Possible sub-processing by Stripe, Inc. "
        "(United States) under the EU-US Data Privacy Framework adequacy decision "
        "[à confirmer: sub-processor list]"
    ),
    role=_("Payment service provider: takes payments and holds card numbers"),
    only_for=(PAYMENT, SAVED_CARD, ACCOUNTING, DISPUTES),
)
GOOGLE_LLC = Recipient(
    name="Google LLC (Google Analytics)",
    country=_("United States"),
    transfer_basis=_("EU adequacy decision (EU-US Data Privacy Framework)"),
    role=_("Audience measurement, only with your consent"),
    outside_eu=True,
)
STATUTORY_AUDITOR = Recipient(
    name=_("Our statutory auditor (commissaire aux comptes)"),
    country=_("France"),
    transfer_basis=NO_TRANSFER,
    role=_("Audit of the accounts"),
    only_for=(ACCOUNTING,),
)
AUTHORITIES = Recipient(
    name=_("Public bodies, officers of the court and debt collection agencies"),
    country=_("France"),
    transfer_basis=NO_TRANSFER,
    role=_("Only when the law requires it, or to recover an unpaid amount"),
    only_for=(ACCOUNTING, DISPUTES),
)
# The charter names no e-mailing provider: add it here when the DPO confirms which one.

HOSTING = (OVH, GOOGLE_CLOUD)
PAYMENT_CHAIN = (*HOSTING, STRIPE)
ACCOUNTING_CHAIN = (*PAYMENT_CHAIN, STATUTORY_AUDITOR, AUTHORITIES)

# --- Retention rules (charter section 7; REQUIREMENTS C8-C10, B11) ----------------------------

RELATIONSHIP_RETENTION = Retention(
    None,
    _("as long as your account or our client relationship lasts"),
    applies_to=_("users and clients"),
)
CLIENT_PROSPECTING_RETENTION = Retention(
    "client_prospecting",
    _("the end of the client relationship"),
    applies_to=_("former clients, for prospecting"),
)
PROSPECT_RETENTION = Retention(
    "prospect",
    _(
        "collection or the last contact you initiated (a click, a purchase, a login or a "
        "reply; opening an e-mail does not count), unless you then tell us you want to hear "
        "from us"
    ),
    applies_to=_("prospects who are not clients"),
)
PERSON_RETENTION = (RELATIONSHIP_RETENTION, CLIENT_PROSPECTING_RETENTION, PROSPECT_RETENTION)

ACCOUNTING_LAW = _("Code de commerce L123-22: accounting documents and supporting documents")
ACCOUNTING_RETENTION = Retention(
    "accounting",
    _("the close of the financial year of the invoice (31 December)"),
    legal_reason=ACCOUNTING_LAW,
    start_field="invoiced_on",
    from_year_end=True,
)

CARD_EVIDENCE_LAW = _(
    "Code monétaire et financier L133-24: the period in which a payment can be contested"
)
CARD_EVIDENCE_RETENTION = (
    Retention(
        "card_evidence",
        _("the debit date"),
        legal_reason=CARD_EVIDENCE_LAW,
        applies_to=_("immediate-debit cards"),
        start_field="debited_on",
        only_when=("is_deferred_debit", False),
    ),
    Retention(
        "card_evidence_deferred_debit",
        _("the debit date"),
        legal_reason=CARD_EVIDENCE_LAW,
        applies_to=_("deferred-debit cards"),
        start_field="debited_on",
        only_when=("is_deferred_debit", True),
    ),
)
SAVED_CARD_RETENTION = Retention(None, _("until you withdraw your consent or close your account"))
ACCOUNT_CONTENT_RETENTION = Retention("account_content", _("the last time you used your account"))
CONTACT_RETENTION = Retention("contact_requests", _("the last exchange"))
TECHNICAL_RETENTION = Retention("technical_traces", _("the visit"))
AUDIENCE_RETENTION = Retention(
    None,
    _("as configured in Google Analytics and the cookie banner [à confirmer: consent app]"),
)
LEGAL_HOLD_RETENTION = Retention(None, _("until the dispute or the legal claim is settled"))
CONSENT_PROOF_LAW = _("GDPR 7(1): we must be able to prove consent; limitation period of claims")
CONSENT_PROOF_RETENTION = Retention(
    "consent_proof",
    _("the consent stops being relied on (withdrawn, or replaced by a new choice)"),
    legal_reason=CONSENT_PROOF_LAW,
)
OPPOSITION_RETENTION = Retention(
    "opposition_list",
    _("your objection, at the earliest"),
    legal_reason=_("CNIL guidance: keep what is needed to respect an objection"),
)
RIGHTS_PROOF_RETENTION = Retention(
    None,
    _("as long as the proof may be needed [period to be set by the DPO: REQUIREMENTS A11]"),
)

CLOSED_REQUEST_RETENTION = Retention(
    "closed_requests",
    _("the request is closed, then anonymised: the facts of the procedure stay as proof"),
    applies_to=_("confirmed requests"),
)
UNCONFIRMED_REQUEST_RETENTION = Retention(
    "unconfirmed_requests",
    _("the confirmation link expired, then deleted"),
    applies_to=_("requests never confirmed"),
)
# What identifies the person in a request: anonymised after closure (retention's
# closed_requests policy), deleted with a request never confirmed.
RIGHTS_REQUEST_RETENTION = (CLOSED_REQUEST_RETENTION, UNCONFIRMED_REQUEST_RETENTION)
# The facts of the procedure (kind, dates, outcome, ground, days taken): kept as proof (A11).
RIGHTS_FACTS_RETENTION = (RIGHTS_PROOF_RETENTION, UNCONFIRMED_REQUEST_RETENTION)
FINAL_NOTICE_RETENTION = Retention(
    None,
    _("until the final notice: deleted once we have told you the kept data are gone"),
)
SENT_EMAIL_RETENTION = Retention(
    None,
    lazy(
        lambda: (
            gettext("%(days)s days after sending, then deleted")
            % {"days": settings.RIGHTS_SENT_EMAIL_RETENTION_DAYS}
        ),
        str,
    )(),
)
SIGN_IN_LINK_RETENTION = Retention(
    None, _("until the link expires, for sign-in links; with the request, for the others")
)
EXPORT_RETENTION = Retention(
    None,
    lazy(
        lambda: (
            gettext("%(days)s days after it is prepared, then the file is deleted")
            % {"days": settings.RIGHTS_EXPORT_LINK_DAYS}
        ),
        str,
    )(),
)
DIRECTIVE_RETENTION = Retention(
    None,
    _(
        "until you revoke it; once carried out, as proof of what was done [period to be set "
        "by the DPO: REQUIREMENTS A11]"
    ),
)
ERASURE_LEDGER_RETENTION = Retention(
    None, _("as long as a backup taken before your erasure may be restored")
)
STRIPE_DELETION_RETENTION = Retention(
    None, _("until Stripe confirms it deleted the customer, after your erasure")
)
RIGHTS_KEEP_REASON = _(
    "GDPR 5(2) and 17(3)(b): proof that your requests were received and answered in time"
)

# --- The fields -------------------------------------------------------------------------------


def _declare(model: str, names: str, **attrs: object) -> tuple[Field, ...]:
    """Declare several fields of one model that share everything but their name."""
    return tuple(Field(model=model, field_name=name, **attrs) for name in names.split())


PERSON_PURPOSES = (
    SERVICE_ACCESS,
    CLIENT_MANAGEMENT,
    CONTACT_FILE,
    MARKETING_CLIENTS,
    MARKETING_PROSPECTS,
    ENQUIRIES,
)
PURCHASE_PURPOSES = (CLIENT_MANAGEMENT, PAYMENT, ACCOUNTING)

# What every field of a post-mortem directive shares, whoever wrote it (B14).
DIRECTIVE_RECORD = {
    "category": Category.POST_MORTEM,
    "purposes": (POST_MORTEM,),
    "recipients": HOSTING,
    "retention": (DIRECTIVE_RETENTION,),
    "erasure": Erasure.DELETE,
    "portable": False,
}
# What every invoice field shares: kept for the accounting period, whatever erasure asks
# (Code de commerce L123-22; REQUIREMENTS C9, B4).
INVOICE_RECORD = {
    "category": Category.PURCHASES,
    "purposes": PURCHASE_PURPOSES,
    "recipients": ACCOUNTING_CHAIN,
    "retention": (ACCOUNTING_RETENTION,),
    "erasure": Erasure.KEEP,
    "keep_reason": ACCOUNTING_LAW,
}

FIELDS: tuple[Field, ...] = (
    # people.Person
    *_declare(
        "people.Person",
        "code",
        category=Category.IDENTITY,
        purposes=(SERVICE_ACCESS, CLIENT_MANAGEMENT, RIGHTS),
        recipients=HOSTING,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Person",
        "first_name last_name",
        category=Category.IDENTITY,
        purposes=(*PERSON_PURPOSES, PAYMENT),
        recipients=PAYMENT_CHAIN,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.Person",
        "company photo",
        category=Category.IDENTITY,
        purposes=PERSON_PURPOSES,
        recipients=HOSTING,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.Person",
        "email",
        category=Category.CONTACT,
        purposes=(*PERSON_PURPOSES, PAYMENT, RIGHTS),
        recipients=PAYMENT_CHAIN,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        erasure_note=_(
            "A keyed hash of the address joins the opposition list, so it is never "
            "imported again for marketing"
        ),
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.Person",
        "phone street postal_code city country",
        category=Category.CONTACT,
        purposes=PERSON_PURPOSES,
        recipients=HOSTING,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.Person",
        "is_user is_client is_prospect client_relationship_ended_at",
        category=Category.RELATIONSHIP,
        purposes=(CLIENT_MANAGEMENT, CONTACT_FILE, MARKETING_CLIENTS, MARKETING_PROSPECTS),
        recipients=HOSTING,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Person",
        "collected_at last_contact_initiated_at",
        category=Category.RELATIONSHIP,
        purposes=(CONTACT_FILE, MARKETING_CLIENTS, MARKETING_PROSPECTS),
        recipients=HOSTING,
        retention=PERSON_RETENTION,
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.OBSERVED,
    ),
    *_declare(
        "people.Person",
        "stripe_customer_id",
        category=Category.PURCHASES,
        purposes=(PAYMENT,),
        recipients=PAYMENT_CHAIN,
        retention=(RELATIONSHIP_RETENTION,),
        erasure=Erasure.DELETE,
        erasure_note=_("The customer is also deleted at Stripe"),
        portable=False,
        source=Source.STRIPE,
    ),
    # people.Purchase: invoice data (accounting period) and card evidence (C10) on one row
    *_declare(
        "people.Purchase",
        "person",
        category=Category.PURCHASES,
        purposes=PURCHASE_PURPOSES,
        recipients=HOSTING,
        retention=(ACCOUNTING_RETENTION,),
        erasure=Erasure.ANONYMISE,
        erasure_note=_("The invoice is detached from your record; it keeps the billing name"),
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Purchase",
        "kind description amount_cents currency debited_on",
        **INVOICE_RECORD,
        portable=True,
        source=Source.OBSERVED,
    ),
    *_declare(
        "people.Purchase",
        "billing_name billing_address",
        **INVOICE_RECORD,
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.Purchase",
        "invoice_number invoiced_on",
        **INVOICE_RECORD,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Purchase",
        "stripe_charge_id",
        category=Category.PURCHASES,
        purposes=(PAYMENT, ACCOUNTING, DISPUTES),
        recipients=PAYMENT_CHAIN,
        retention=(ACCOUNTING_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=ACCOUNTING_LAW,
        portable=False,
        source=Source.STRIPE,
    ),
    *_declare(
        "people.Purchase",
        "card_brand card_last4 card_exp_month card_exp_year is_deferred_debit",
        category=Category.CARD_EVIDENCE,
        purposes=(DISPUTES,),
        recipients=PAYMENT_CHAIN,
        retention=CARD_EVIDENCE_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=CARD_EVIDENCE_LAW,
        portable=False,
        source=Source.STRIPE,
    ),
    # people.SavedCard: only with consent (C10, B12); Stripe holds the card number
    *_declare(
        "people.SavedCard",
        "person stripe_payment_method_id brand last4 exp_month exp_year",
        category=Category.SAVED_CARD,
        purposes=(SAVED_CARD,),
        recipients=PAYMENT_CHAIN,
        retention=(SAVED_CARD_RETENTION,),
        erasure=Erasure.DELETE,
        erasure_note=_("The payment method is also detached at Stripe"),
        portable=False,
        source=Source.STRIPE,
    ),
    *_declare(
        "people.SavedCard",
        "consent_given_at consent_text_version consent_withdrawn_at",
        category=Category.SAVED_CARD,
        purposes=(SAVED_CARD,),
        recipients=HOSTING,
        retention=(SAVED_CARD_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.OBSERVED,
    ),
    # people.Activity: created by an organiser, joined by others
    *_declare(
        "people.Activity",
        "organiser",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, SUPPORT),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.ANONYMISE,
        erasure_note=_("The activity stays for its participants, without its organiser"),
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Activity",
        "title description starts_at created_at",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, SUPPORT),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.ANONYMISE,
        # Nothing can find personal details in free text reliably: the person is told the
        # text stays as written and can ask for a part of it to go.
        erasure_note=_(
            "The activity stays for its participants, without its organiser; its title and "
            "description stay as written: tell us if they hold personal details to remove"
        ),
        portable=True,
        source=Source.PROVIDED,
    ),
    *_declare(
        "people.ActivityParticipation",
        "person",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, STATISTICS),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.ActivityParticipation",
        "activity joined_at",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, STATISTICS),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.OBSERVED,
    ),
    # people.Review
    *_declare(
        "people.Review",
        "person",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, STATISTICS),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.Review",
        "activity rating text created_at",
        category=Category.CONTENT,
        purposes=(SERVICE_ACCESS, STATISTICS),
        recipients=HOSTING,
        retention=(ACCOUNT_CONTENT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.PROVIDED,
    ),
    # people.ContactRequest
    *_declare(
        "people.ContactRequest",
        "person",
        category=Category.CORRESPONDENCE,
        purposes=(ENQUIRIES, SUPPORT),
        recipients=HOSTING,
        retention=(CONTACT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "people.ContactRequest",
        "subject message created_at last_exchange_at",
        category=Category.CORRESPONDENCE,
        purposes=(ENQUIRIES, SUPPORT),
        recipients=HOSTING,
        retention=(CONTACT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=True,
        source=Source.PROVIDED,
    ),
    # people.TechnicalTrace: legitimate interest, so not portable (GDPR 20(1))
    *_declare(
        "people.TechnicalTrace",
        "person ip_address user_agent browser operating_system seen_at",
        category=Category.TECHNICAL,
        purposes=(SECURITY, STATISTICS),
        recipients=HOSTING,
        retention=(TECHNICAL_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.OBSERVED,
    ),
    # audit.AuditEvent: the person appears only as a keyed hash of their address (A11)
    *_declare(
        "audit.AuditEvent",
        "subject_hash",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=(RIGHTS_PROOF_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 5(2) and 17(3)(b): proof that your requests were handled; a keyed hash, "
            "not your address"
        ),
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.DataSubjectRequest: kept as proof after an erasure request (A11); legal
    # obligation, so not portable (GDPR 20(1))
    *_declare(
        "rights.DataSubjectRequest",
        "email deceased_email name details",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_REQUEST_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.PROVIDED,
    ),
    *_declare(
        "rights.DataSubjectRequest",
        "identity_doubt_reason",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_REQUEST_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "rights.DataSubjectRequest",
        "code kind status channel language received_at received_on raw_due_on due_on "
        "extended_at extension_reason extension_justification extended_due_on confirmed_at "
        "reminded_at closed_at latest_due_on current_due_on paused_since "
        "identity_method_asked identity_checked_at identity_check_method outcome_ground "
        "outcome_reasons outcome_facts closed_on days_taken anonymised_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.RequestStep and rights.RequestPause: the history the person sees on the tracker
    *_declare(
        "rights.RequestStep",
        "message",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_REQUEST_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "rights.RequestStep",
        "request kind at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "rights.RequestPause",
        "request reason asked_at paused_from paused_until",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.SecretLink: confirmation, tracker and sign-in links (the token is never stored)
    *_declare(
        "rights.SecretLink",
        "request email created_at expires_at used_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=(SIGN_IN_LINK_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.OutgoingEmail: the outbox; what we wrote to you, purged soon after sending
    *_declare(
        "rights.OutgoingEmail",
        "request to language subject body_text body_html headers created_at sent_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=(SENT_EMAIL_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.Export: the access or portability ZIP, deleted when its link expires
    *_declare(
        "rights.Export",
        "request file_path created_at expires_at downloaded_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=(EXPORT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.RecipientNotification and rights.ObjectionDecision: proof of how a request was
    # answered (GDPR 19, 21(1))
    *_declare(
        "rights.RecipientNotification",
        "request recipient fields status created_at notified_at attempts last_attempt_at "
        "last_error",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    *_declare(
        "rights.ObjectionDecision",
        "request upheld compelling_grounds decided_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.Restriction: while active, the person's data are stored, not used (GDPR 18)
    *_declare(
        "rights.Restriction",
        "person case request started_at lift_notice_at lifted_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=RIGHTS_FACTS_RETENTION,
        erasure=Erasure.DELETE,
        erasure_note=_("Erasure ends the restriction: nothing is left to restrict"),
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.ErasureLedger: a keyed hash, so an erasure survives a backup restore
    *_declare(
        "rights.ErasureLedger",
        "subject_hash request_code executed_at last_reapplied_at",
        category=Category.RIGHTS,
        purposes=(RIGHTS,),
        recipients=HOSTING,
        retention=(ERASURE_LEDGER_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 17 and 5(2): so that your erasure is applied again if a backup is restored; "
            "a keyed hash, not your address"
        ),
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.ErasureLedger: the address for the one final notice, blanked once it is sent
    *_declare(
        "rights.ErasureLedger",
        "notice_email notice_language",
        category=Category.CONTACT,
        purposes=(ERASURE_FINAL_NOTICE,),
        recipients=HOSTING,
        retention=(FINAL_NOTICE_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 12(1) and 17: to tell you when the data kept for a legal reason are deleted"
        ),
        portable=False,
        source=Source.PROVIDED,
    ),
    *_declare(
        "rights.ErasureLedger",
        "final_notice_due_on final_notice_sent_at",
        category=Category.RIGHTS,
        purposes=(ERASURE_FINAL_NOTICE,),
        recipients=HOSTING,
        retention=(ERASURE_LEDGER_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=RIGHTS_KEEP_REASON,
        portable=False,
        source=Source.ASSIGNED,
    ),
    # rights.PendingStripeDeletion: an erasure's Stripe customer, until Stripe confirms
    *_declare(
        "rights.PendingStripeDeletion",
        "customer_id",
        category=Category.PURCHASES,
        purposes=(RIGHTS,),
        recipients=PAYMENT_CHAIN,
        retention=(STRIPE_DELETION_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_("GDPR 17 and 19: to have the customer deleted at Stripe too"),
        portable=False,
        source=Source.STRIPE,
    ),
    # rights.PostMortemDirective: what the person wants done after their death (LIL art. 85)
    *_declare(
        "rights.PostMortemDirective",
        "code email instruction executor_name executor_email wishes recorded_at changed_at",
        **DIRECTIVE_RECORD,
        source=Source.PROVIDED,
    ),
    *_declare(
        "rights.PostMortemDirective",
        "carried_out_at carried_out_note",
        **DIRECTIVE_RECORD,
        source=Source.ASSIGNED,
    ),
    # consent.ConsentRecord: append-only proof of every choice; a keyed hash or a browser id
    *_declare(
        "consent.ConsentRecord",
        "code subject_hash browser_id purpose action text source at",
        category=Category.CONSENTS,
        purposes=(CONSENT_PROOF,),
        recipients=HOSTING,
        retention=(CONSENT_PROOF_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 7(1) and 17(3)(e): proof of what you agreed to or refused; it names you "
            "only by a keyed hash of your address"
        ),
        portable=False,
        source=Source.OBSERVED,
    ),
    # consent.OppositionEntry: the opposition list (B11)
    *_declare(
        "consent.OppositionEntry",
        "subject_hash channel objected_at",
        category=Category.CONSENTS,
        purposes=(OPPOSITION,),
        recipients=HOSTING,
        retention=(OPPOSITION_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 17(3)(b) and 21(3): so that your objection is respected and your address "
            "is never imported again; a keyed hash, not your address"
        ),
        portable=False,
        source=Source.PROVIDED,
    ),
    # retention.LegalHold: a dispute or claim keeps the person's data out of every sweep
    *_declare(
        "retention.LegalHold",
        "person reason reference since until",
        category=Category.RELATIONSHIP,
        purposes=(DISPUTES,),
        recipients=HOSTING,
        retention=(LEGAL_HOLD_RETENTION,),
        erasure=Erasure.KEEP,
        keep_reason=_(
            "GDPR 17(3)(e): needed to establish, exercise or defend legal claims while the "
            "dispute lasts"
        ),
        portable=False,
        source=Source.ASSIGNED,
    ),
    # retention.Repermission: the one "shall we keep in touch?" email to a prospect (C8)
    *_declare(
        "retention.Repermission",
        "person asked_at sent_at answered_yes_at",
        category=Category.RELATIONSHIP,
        purposes=(MARKETING_PROSPECTS,),
        recipients=HOSTING,
        retention=(PROSPECT_RETENTION,),
        erasure=Erasure.DELETE,
        portable=False,
        source=Source.ASSIGNED,
    ),
)

# Fields that hold no personal data, with the reason. Every model's `id` is here.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    **{
        (label, "id"): "internal primary key, never shown outside the server (STYLE 6)"
        for label in [
            "people.Person",
            "people.Activity",
            "people.ActivityParticipation",
            "people.Purchase",
            "people.SavedCard",
            "people.Review",
            "people.ContactRequest",
            "people.TechnicalTrace",
            "people.StripeEvent",
            "audit.AuditEvent",
            "rights.DataSubjectRequest",
            "rights.RequestStep",
            "rights.RequestPause",
            "rights.SecretLink",
            "rights.OutgoingEmail",
            "rights.Export",
            "rights.RecipientNotification",
            "rights.ObjectionDecision",
            "rights.Restriction",
            "rights.ErasureLedger",
            "rights.ErasureKeptRow",
            "rights.PendingStripeDeletion",
            "rights.PostMortemDirective",
            "consent.ConsentRecord",
            "consent.ConsentText",
            "consent.OppositionEntry",
            "retention.SweepRun",
            "retention.LegalHold",
            "retention.Repermission",
        ]
    },
    ("rights.Export", "code"): "a random public code (UUID) of the export",
    ("rights.Export", "kind"): "access or portability: a category",
    ("rights.Export", "size"): "the file's size in bytes",
    ("rights.ObjectionDecision", "decided_by"): "the Okasio staff account that decided: staff data",
    ("rights.Restriction", "code"): "a random public code (UUID) of the restriction",
    ("rights.ErasureLedger", "summary"): "counts and dates per model and action; never a value",
    ("rights.PendingStripeDeletion", "notification"): "the request's Stripe notification: "
    "an internal key",
    ("rights.PendingStripeDeletion", "queued_at"): "when the deletion was last queued",
    **{
        ("rights.ErasureKeptRow", name): "which row an erasure kept and until when: a model "
        "name, an internal key and a date; the row itself no longer names the person"
        for name in ["ledger", "model", "row_id", "keep_until"]
    },
    ("retention.LegalHold", "code"): "a random public code (UUID) of the hold",
    ("retention.LegalHold", "created_by"): "the Okasio staff account that placed the hold: "
    "staff data, not about the people Okasio serves",
    ("retention.Repermission", "code"): "a random public code (UUID), signed into the link",
    **{
        ("retention.SweepRun", name): "the ledger of a retention run: counts and times, "
        "about no one"
        for name in [
            "code",
            "policy",
            "as_of",
            "started_at",
            "finished_at",
            "dry_run",
            "skipped",
            "rows_examined",
            "rows_affected",
            "rows_held",
            "details",
            "error",
        ]
    },
    ("consent.ConsentText", "hash"): "the hash of a wording shown to everyone",
    ("consent.ConsentText", "kind"): "which wording: banner, marketing box...",
    ("consent.ConsentText", "snapshot"): "the wording itself, the same for everyone",
    ("consent.ConsentText", "first_recorded_at"): "when a wording was first used",
    ("rights.DataSubjectRequest", "logged_by"): "the Okasio staff account that logged it: "
    "staff data, not the person's",
    ("rights.DataSubjectRequest", "assignee"): "the Okasio staff account handling it: "
    "staff data, not the person's",
    ("rights.RequestPause", "decided_by"): "the Okasio staff account that decided: staff data",
    ("rights.PostMortemDirective", "carried_out_by"): "the Okasio staff account that carried "
    "it out: staff data",
    ("rights.SecretLink", "purpose"): "confirm, tracker or sign-in: a category",
    ("rights.SecretLink", "token_hash"): "SHA-256 of a random token; the token itself is "
    "never stored",
    ("rights.OutgoingEmail", "code"): "a random public code (UUID) of the email",
    ("rights.OutgoingEmail", "template"): "the name of an email template",
    ("rights.OutgoingEmail", "status"): "delivery state",
    ("rights.OutgoingEmail", "attempts"): "number of delivery attempts",
    ("rights.OutgoingEmail", "link"): "which kind of link the sender adds (confirm, tracker)",
    ("people.Activity", "is_private"): "a setting of the activity, not about a person",
    **{
        ("people.StripeEvent", name): "the ledger of Stripe webhook events handled: Stripe's "
        "event id and type, and when; the event's content (who, what) is not kept"
        for name in ["stripe_event_id", "type", "received_at"]
    },
    ("audit.AuditEvent", "at"): "when a procedural step happened; tied to a person only "
    "through subject_hash",
    ("audit.AuditEvent", "actor_type"): "staff, system or the person: a category",
    ("audit.AuditEvent", "actor_user"): "the Okasio staff account that acted: staff data, "
    "covered by Okasio's staff records, not by this inventory of the people it serves",
    ("audit.AuditEvent", "action"): "a code such as request.submitted",
    ("audit.AuditEvent", "object_type"): "a model label",
    ("audit.AuditEvent", "object_ref"): "a random public code (UUID) of the object",
    ("audit.AuditEvent", "details"): "record_event refuses personal-data keys and "
    "email-like values",
    ("audit.AuditEvent", "prev_hash"): "chain hash",
    ("audit.AuditEvent", "hash"): "chain hash",
}

# --- Whose rows: one person's rows in each model (access, portability, erasure) -------------

# How to find one person's rows in each model the inventory declares: (by, lookup), where
# `by` is "person" (the lookup is compared with the Person), "email" (with their address,
# case-insensitively, for records kept by address) or "subject_hash" (with the keyed hash of
# their address, for records that never hold it). In declaration order: the exports write
# them in this order and the erasure plan lists them in it.
PERSON_LOOKUPS: dict[str, tuple[str, str]] = {
    "people.Person": ("person", "pk"),
    "people.Purchase": ("person", "person"),
    "people.SavedCard": ("person", "person"),
    "people.Activity": ("person", "organiser"),
    "people.ActivityParticipation": ("person", "person"),
    "people.Review": ("person", "person"),
    "people.ContactRequest": ("person", "person"),
    "people.TechnicalTrace": ("person", "person"),
    "rights.DataSubjectRequest": ("email", "email__iexact"),
    "rights.RequestStep": ("email", "request__email__iexact"),
    "rights.RequestPause": ("email", "request__email__iexact"),
    "rights.RecipientNotification": ("email", "request__email__iexact"),
    "rights.ObjectionDecision": ("email", "request__email__iexact"),
    "rights.Restriction": ("person", "person"),
    "rights.PostMortemDirective": ("email", "email__iexact"),
    "consent.ConsentRecord": ("subject_hash", "subject_hash"),
    "consent.OppositionEntry": ("subject_hash", "subject_hash"),
    "retention.LegalHold": ("person", "person"),
    "retention.Repermission": ("person", "person"),
}

# Models with personal data that the exports and the erasure plan leave out, and why.
# A test fails when a declared model is in neither PERSON_LOOKUPS nor here.
NOT_PERSON_ROWS: dict[str, str] = {
    "audit.AuditEvent": "the proof log names people only by a keyed hash; the tracker shows "
    "each request's steps",
    "rights.SecretLink": "link hashes, spent or expiring on their own",
    "rights.OutgoingEmail": "copies of emails the person received, purged after "
    "RIGHTS_SENT_EMAIL_RETENTION_DAYS; the erasure confirmation itself goes through it",
    "rights.Export": "the export itself; an erasure deletes the address's exports "
    "(rights.exports.delete_exports_about)",
    "rights.PendingStripeDeletion": "written by the erasure once the person is gone; the "
    "customer id names no one here",
    "rights.ErasureLedger": "a keyed hash written by the erasure, for backup restores, and "
    "the address for the final notice, blanked once it is sent",
}


# --- The Art. 30 register (REQUIREMENTS B15) ----------------------------------------------------

SECURITY_MEASURES = _(
    "Hosting in the EU (OVH, France; Google Cloud, Belgium); HTTPS only, with HSTS; staff "
    "access limited to the DPO group, with sessions ending after 8 hours; card numbers held "
    "by Stripe only, CVV never stored; an append-only, hash-chained audit log that names "
    "people only by a keyed hash; retention periods enforced by scheduled deletion jobs."
)

PROCESSING_ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        name=_("Customer and user management"),
        purposes=(SERVICE_ACCESS, CLIENT_MANAGEMENT, CONTACT_FILE, STATISTICS),
        data_subjects=(_("Users"), _("Clients and former clients")),
        security=SECURITY_MEASURES,
    ),
    ProcessingActivity(
        name=_("Payments and invoicing"),
        purposes=(PAYMENT, SAVED_CARD, ACCOUNTING, DISPUTES),
        data_subjects=(_("Clients and former clients"),),
        security=SECURITY_MEASURES,
    ),
    ProcessingActivity(
        name=_("Prospecting (newsletters and offers)"),
        purposes=(MARKETING_CLIENTS, MARKETING_PROSPECTS, OPPOSITION, CONSENT_PROOF),
        data_subjects=(_("Clients and former clients"), _("Prospects")),
        security=SECURITY_MEASURES,
    ),
    ProcessingActivity(
        name=_("Site operation, cookies and audience measurement"),
        purposes=(AUDIENCE, SECURITY, CONSENT_PROOF),
        data_subjects=(_("Visitors"), _("Users"), _("Clients and former clients")),
        extra_categories=(Category.AUDIENCE,),
        extra_recipients=(GOOGLE_LLC,),
        extra_retention=(AUDIENCE_RETENTION,),
        security=SECURITY_MEASURES,
    ),
    ProcessingActivity(
        name=_("Support and contact requests"),
        purposes=(ENQUIRIES, SUPPORT),
        data_subjects=(_("Visitors"), _("Users"), _("Clients and former clients")),
        security=SECURITY_MEASURES,
    ),
    ProcessingActivity(
        name=_("Data protection rights requests"),
        purposes=(RIGHTS, ERASURE_FINAL_NOTICE, POST_MORTEM),
        data_subjects=(_("Anyone who exercises a data protection right"),),
        extra_categories=(Category.IDENTITY, Category.CONTACT),
        security=SECURITY_MEASURES,
    ),
)

# (column key, heading): one column per Art. 30(1) item.
REGISTER_COLUMNS: list[tuple[str, str]] = [
    ("activity", _("Processing activity")),
    ("controller", _("Controller and contact (30(1)(a))")),
    ("dpo", _("Data protection officer (30(1)(a))")),
    ("purposes", _("Purposes (30(1)(b))")),
    ("legal_bases", _("Legal bases")),
    ("data_subjects", _("Categories of data subjects (30(1)(c))")),
    ("data_categories", _("Categories of personal data (30(1)(c))")),
    ("recipients", _("Categories of recipients (30(1)(d))")),
    ("transfers", _("Transfers outside the EU and safeguards (30(1)(e))")),
    ("retention", _("Time limits for erasure (30(1)(f))")),
    ("retention_months", _("Retention settings (months)")),
    ("security", _("Security measures (30(1)(g))")),
]


# --- Helpers ----------------------------------------------------------------------------------


def personal_fields() -> tuple[Field, ...]:
    """Return every declared personal-data field, of every model."""
    return FIELDS


def fields_for(model: type[models.Model] | str) -> tuple[Field, ...]:
    """Return the declared personal-data fields of one model (a class or "app.Model")."""
    label = _label(model)
    return tuple(f for f in FIELDS if f.model == label)


def get_field(model: type[models.Model] | str, field_name: str) -> Field:
    """Return the declaration of one field; raise KeyError when it is not declared."""
    for f in fields_for(model):
        if f.field_name == field_name:
            return f
    raise KeyError(f"{_label(model)}.{field_name} is not in the inventory")


def portable_fields(model: type[models.Model] | str) -> tuple[Field, ...]:
    """Return the fields of one model that a portability export includes (GDPR 20, B7)."""
    return tuple(f for f in fields_for(model) if f.portable)


def is_declared(model: type[models.Model] | str, field_name: str) -> bool:
    """Return whether the field is in the inventory or in NOT_PERSONAL."""
    label = _label(model)
    return (label, field_name) in NOT_PERSONAL or any(
        f.field_name == field_name for f in fields_for(label)
    )


def person_models() -> list[str]:
    """Return the labels of the models holding one person's rows, in PERSON_LOOKUPS order."""
    return [label for label in PERSON_LOOKUPS if apps.is_installed(label.split(".")[0])]


def rows_of(model: type[models.Model] | str, *, person: models.Model | None, email: str):
    """Return the QuerySet of one person's rows in `model` (see PERSON_LOOKUPS).

    `person` may be None (someone we hold no record for, only requests): then the models
    found through the Person are empty, never the rows of nobody (detached invoices).
    """
    label = _label(model)
    by, lookup = PERSON_LOOKUPS[label]
    manager = apps.get_model(label)._default_manager
    if by == "person":
        return manager.filter(**{lookup: person.pk}) if person is not None else manager.none()
    if not email.strip():
        return manager.none()
    if by == "subject_hash":
        return manager.filter(**{lookup: subject_hash(email)})
    return manager.filter(**{lookup: email.strip()})


def retention_months(key: str) -> int:
    """Return the retention period named `key`, from settings.RETENTION_MONTHS."""
    return settings.RETENTION_MONTHS[key]


def retention_for(
    model: type[models.Model] | str, field_name: str, key: str | None = None
) -> Retention:
    """Return the dated rule (one with a RETENTION_MONTHS key) the inventory declares for a
    field: the only one, or the one named `key` when the field has several (a prospect's
    and a former client's). Raise LookupError when there is no such rule.

    The retention sweeps read their periods through this, so a sweep and the public pages
    cannot disagree: a rule removed or renamed here stops its sweep.
    """
    rules = [
        rule
        for rule in get_field(model, field_name).retention
        if rule.setting_key and (key is None or rule.setting_key == key)
    ]
    if len(rules) != 1:
        raise LookupError(
            f"{_label(model)}.{field_name} declares {len(rules)} dated rule(s)"
            + (f" named {key!r}" if key else "")
        )
    return rules[0]


def retention_keys() -> set[str]:
    """Return every settings.RETENTION_MONTHS key the inventory uses."""
    rules = [r for f in FIELDS for r in f.retention]
    rules += [r for a in PROCESSING_ACTIVITIES for r in a.extra_retention]
    return {r.setting_key for r in rules if r.setting_key}


def recipients() -> list[Recipient]:
    """Return every recipient named anywhere in the inventory, in declaration order."""
    found = [r for f in FIELDS for r in f.recipients]
    found += [r for a in PROCESSING_ACTIVITIES for r in a.extra_recipients]
    return _unique(found)


@dataclass(frozen=True, eq=False)
class CategorySummary:
    """What the public page says about one category of data (B16)."""

    category: Category
    fields: list[Field]
    # What people read: the fields' labels, without the links to the person's record.
    field_labels: list[str]
    purposes: list[Purpose]
    recipients: list[Recipient]
    retention: list[Retention]
    sources: list[Source]
    portable: str  # "all", "some" or "none"
    # What erasure does: (erasure, why or how), without repeats.
    erasure: list[tuple[Erasure, str]]


def category_summaries() -> list[CategorySummary]:
    """Return, per category, in Category order, what is held, why, for whom, how long."""
    summaries = []
    for category in Category:
        fields = [f for f in FIELDS if f.category == category]
        if not fields:
            continue
        portable = {f.portable for f in fields}
        summaries.append(
            CategorySummary(
                category=category,
                fields=fields,
                field_labels=list(dict.fromkeys(f.label for f in fields if not f.is_link)),
                purposes=_unique(p for f in fields for p in f.purposes),
                recipients=_unique(r for f in fields for r in f.recipients),
                retention=_unique(r for f in fields for r in f.retention),
                sources=list(dict.fromkeys(f.source for f in fields)),
                portable="all" if portable == {True} else "none" if portable == {False} else "some",
                erasure=list(
                    dict.fromkeys((f.erasure, str(f.keep_reason or f.erasure_note)) for f in fields)
                ),
            )
        )
    return summaries


@dataclass(frozen=True, eq=False)
class Holding:
    """How many rows of one model Okasio holds about a person, and their categories."""

    model_label: str  # "people.Purchase"
    model_name: str
    count: int
    categories: list[Category]


# The requests themselves and what hangs from them: the request page shows those on its own.
REQUEST_TRAIL = frozenset(
    {
        "rights.DataSubjectRequest",
        "rights.RequestStep",
        "rights.RequestPause",
        "rights.RecipientNotification",
        "rights.ObjectionDecision",
    }
)


def holdings_for(email: str) -> list[Holding]:
    """Return what Okasio holds about the person with this address: one entry per model of
    PERSON_LOOKUPS that has rows, counts only.

    The rows are found as the export and the erasure plan find them (rows_of): through the
    person's record, and by the address or its keyed hash (consents, an opposition, a
    post-mortem directive), so an address with no customer record may still hold something.
    The requests are left out (REQUEST_TRAIL). One query per model.
    """
    person = apps.get_model("people", "Person").objects.with_email(email).first()
    found = []
    for label in person_models():
        if label in REQUEST_TRAIL:
            continue
        count = rows_of(label, person=person, email=email).count()
        if count:
            found.append(
                Holding(
                    model_label=label,
                    model_name=str(capfirst(apps.get_model(label)._meta.verbose_name_plural)),
                    count=count,
                    categories=list(dict.fromkeys(f.category for f in fields_for(label))),
                )
            )
    return found


def controller_identity() -> str:
    """Return the controller's name and address (GDPR 13(1)(a)), from settings.CONTROLLER."""
    name, address = settings.CONTROLLER["name"], settings.CONTROLLER["address"]
    # The configured address may already start with the company name.
    return address if address.startswith(name) else f"{name}, {address}"


def register_rows() -> list[dict[str, str]]:
    """Return the Art. 30 register, one row per processing activity, keyed as REGISTER_COLUMNS.

    Texts are in the active language. `retention_months` lists "key=months" pairs read from
    settings, so the export always says what the sweeps enforce (B15).
    """
    controller = settings.CONTROLLER
    controller_text = f"{controller_identity()}; {controller['privacy_email']}"
    dpo_text = controller["dpo_email"] or gettext(
        "No DPO designated (GDPR 37); privacy contact: %(email)s"
    ) % {"email": controller["privacy_email"]}
    rows = []
    for activity in PROCESSING_ACTIVITIES:
        recipients_ = activity.recipients()
        retention = activity.retention()
        rows.append(
            {
                "activity": str(activity.name),
                "controller": controller_text,
                "dpo": dpo_text,
                "purposes": _join(p.label for p in activity.purposes),
                "legal_bases": _join(
                    labelled(p.label, p.legal_basis.label)
                    + (f" ({p.legitimate_interest})" if p.legitimate_interest else "")
                    for p in activity.purposes
                ),
                "data_subjects": _join(activity.data_subjects),
                "data_categories": _join(c.label for c in activity.categories()),
                "recipients": _join(
                    labelled(f"{r.name} ({r.country})", r.role) for r in recipients_
                ),
                "transfers": _join(
                    labelled(f"{r.name} ({r.country})", r.transfer_basis)
                    for r in recipients_
                    if r.transfer_basis is not NO_TRANSFER
                )
                or gettext("None"),
                "retention": _join(r.describe() for r in retention),
                "retention_months": _join(
                    f"{r.setting_key}={r.months}" for r in retention if r.setting_key
                ),
                "security": str(activity.security),
            }
        )
    return rows


def _label(model: type[models.Model] | str) -> str:
    return model if isinstance(model, str) else model._meta.label


def _unique(items: Iterable) -> list:
    """Return the items without repeats (compared by identity), in first-seen order."""
    return list({id(item): item for item in items}.values())


def labelled(label: object, value: object) -> str:
    """Return "label: value" with the active language's punctuation (French: "label : value")."""
    return gettext("%(label)s: %(value)s") % {"label": label, "value": value}


def _join(texts: Iterable[object]) -> str:
    return "; ".join(str(text) for text in texts)


def _duration(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
    return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
