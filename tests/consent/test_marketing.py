"""Who may receive marketing, and what every marketing email carries (B9, B10, B11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core import mail

from consent import services
from consent.models import Action, ConsentRecord, ConsentSource, OppositionEntry, Purpose
from rights.models import OutgoingEmail
from tests.conftest import NOW

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "emails" / "marketing"


def test_it_refuses_a_prospect_without_consent(make_person):
    make_person(email="p@example.fr", is_prospect=True)
    assert not services.may_send_marketing(email="p@example.fr", now=NOW)


def test_it_allows_a_prospect_who_ticked_the_box(db):
    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    assert services.may_send_marketing(email="P@example.fr ", now=NOW)


def test_it_allows_a_client_by_soft_opt_in_until_3_years_after_the_relationship(make_person):
    # CPCE L34-5: clients, for analogous services, with an objection offered in every email.
    make_person(email="c@example.fr", is_client=True)
    assert services.may_send_marketing(email="c@example.fr", now=NOW)
    make_person(
        email="old@example.fr",
        is_client=True,
        client_relationship_ended_at=NOW - relativedelta(months=36, days=1),
    )
    assert not services.may_send_marketing(email="old@example.fr", now=NOW)


def test_it_honours_a_withdrawal_over_the_soft_opt_in(make_person):
    make_person(email="c@example.fr", is_client=True)
    services.withdraw_marketing(email="c@example.fr", source=ConsentSource.PRIVACY_SPACE, now=NOW)
    assert not services.may_send_marketing(email="c@example.fr", now=NOW)


def test_it_honours_the_opposition_list_over_a_consent(db):
    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    services.forget_subject(email="p@example.fr", now=NOW)
    assert not services.may_send_marketing(email="p@example.fr", now=NOW)


def test_it_lets_the_person_consent_again_after_withdrawing(db):
    services.withdraw_marketing(email="p@example.fr", source=ConsentSource.PRIVACY_SPACE, now=NOW)
    later = NOW + relativedelta(days=1)
    services.grant_marketing(email="p@example.fr", source=ConsentSource.PRIVACY_SPACE, now=later)
    assert services.may_send_marketing(email="p@example.fr", now=later)


@pytest.mark.parametrize("stored", ["p@example.fr", "P@Example.fr"])
def test_it_sends_nothing_to_a_person_whose_data_are_restricted(make_person, stored):
    # B5: restricted data are stored, not used; marketing is a use. Person.email keeps the
    # case it was given.
    from rights.fulfilment import restrict_processing
    from rights.models import RestrictionCase

    person = make_person(email=stored, is_prospect=True)
    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    assert services.may_send_marketing(email="p@example.fr", now=NOW)

    restrict_processing(person=person, case=RestrictionCase.ACCURACY, by=None, now=NOW)

    assert not services.may_send_marketing(email="p@example.fr", now=NOW)
    assert services.marketing_recipients(emails=["p@example.fr"], now=NOW) == []


def test_it_filters_a_batch_in_four_queries(make_person, django_assert_num_queries):
    for n in range(20):
        services.grant_marketing(email=f"p{n}@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    services.withdraw_marketing(email="p3@example.fr", source=ConsentSource.API, now=NOW)
    emails = [f"p{n}@example.fr" for n in range(25)]
    with django_assert_num_queries(4):
        allowed = services.marketing_recipients(emails=emails, now=NOW)
    assert allowed == [f"p{n}@example.fr" for n in range(20) if n != 3]


def test_it_records_consent_with_the_exact_text_shown(db):
    record = services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    assert record.purpose == Purpose.MARKETING_EMAIL and record.action == Action.GRANTED
    # The exact text shown, in the language it was shown in (French by default).
    assert record.text.snapshot["text"].startswith("J’accepte de recevoir par e-mail")
    assert record.text.hash == record.text_id
    assert "p@example.fr" not in str(record.subject_hash)


def test_it_refuses_to_edit_a_consent_record(db):
    record = services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    record.action = Action.REFUSED
    with pytest.raises(ValueError):
        record.save()


@time_machine.travel(NOW, tick=False)  # the token is signed with a timestamp
def test_it_sends_marketing_with_the_unsubscribe_link_and_rfc_8058_headers(
    db, django_capture_on_commit_callbacks
):
    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_marketing_email(
            email="p@example.fr", template="newsletter", context={"body": "Hi"}, now=NOW
        )
    assert sent
    [message] = mail.outbox
    url = services.unsubscribe_url(email="p@example.fr")
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    assert url.replace("&", "&amp;") in message.alternatives[0][0]
    assert url.startswith("https://vie-privee.okasio.fr/desinscription/")


@time_machine.travel(NOW, tick=False)
def test_it_queues_marketing_in_the_outbox_within_the_callers_transaction(
    db, django_capture_on_commit_callbacks
):
    from rights import services as rights_services
    from rights.models import EmailStatus

    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.send_marketing_email(
            email="p@example.fr", template="newsletter", context={"body": "Hi"}, now=NOW
        )
    outgoing = OutgoingEmail.objects.get()
    assert (outgoing.template, outgoing.status) == ("marketing/newsletter", EmailStatus.PENDING)
    url = services.unsubscribe_url(email="p@example.fr")
    assert outgoing.headers == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    [callback] = callbacks
    assert (callback.func, callback.args) == (rights_services.enqueue_email, (outgoing.id,))


def test_it_sends_marketing_exactly_once_after_a_broker_outage(
    db, django_capture_on_commit_callbacks
):
    from unittest import mock

    from rights import services as rights_services
    from rights.models import EmailStatus

    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    down = mock.patch("rights.tasks.send_email.delay", side_effect=ConnectionError("down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        assert services.send_marketing_email(
            email="p@example.fr", template="newsletter", context={}, now=NOW
        )
    assert not mail.outbox
    assert OutgoingEmail.objects.get().status == EmailStatus.PENDING

    assert rights_services.relay_pending_emails(now=NOW) == 1
    assert rights_services.relay_pending_emails(now=NOW) == 0
    [message] = mail.outbox
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_sends_nothing_to_someone_who_may_not_receive_marketing(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.send_marketing_email(
            email="p@example.fr", template="newsletter", context={}, now=NOW
        )
    assert not mail.outbox
    assert not OutgoingEmail.objects.exists()


def test_it_puts_the_unsubscribe_link_and_the_objection_block_in_every_marketing_template():
    # B9, B10: a template lint. Every marketing body includes the objection block, which
    # carries the unsubscribe link.
    bodies = list(TEMPLATES.glob("*/body.txt")) + list(TEMPLATES.glob("*/body.html"))
    assert len(bodies) >= 2
    for path in bodies:
        source = path.read_text()
        assert re.search(r'{%\s*include\s+"emails/marketing/_objection\.(txt|html)"', source), path
    for partial in TEMPLATES.glob("_objection.*"):
        source = partial.read_text()
        assert "{{ unsubscribe_url }}" in source, partial
        assert "Your right to say no to marketing" in source, partial


def test_it_does_not_record_the_address_in_the_opposition_list(db):
    services.forget_subject(email="p@example.fr", now=NOW)
    entry = OppositionEntry.objects.get()
    assert "@" not in entry.subject_hash and len(entry.subject_hash) == 64
    assert not ConsentRecord.objects.filter(subject_hash__contains="@").exists()
