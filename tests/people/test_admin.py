"""The DPO's back office for people: read-mostly, no deletion (STYLE 15)."""

from __future__ import annotations

import pytest


@pytest.fixture
def dpo_client(staff_client, bob):
    return staff_client(bob)


def test_it_finds_a_person_by_email_or_code(dpo_client, alice, make_person):
    make_person(email="other@example.fr")
    by_email = dpo_client.get("/admin/people/person/", {"q": "alice@"})
    assert by_email.status_code == 200
    assert "alice@example.fr" in by_email.content.decode()
    assert "other@example.fr" not in by_email.content.decode()
    by_code = dpo_client.get("/admin/people/person/", {"q": str(alice.code)})
    assert "alice@example.fr" in by_code.content.decode()


def test_it_searches_by_name_only_through_the_email(dpo_client, alice):
    # STYLE 15: search on code and email only.
    response = dpo_client.get("/admin/people/person/", {"q": "Martin"})
    assert response.status_code == 200
    assert "alice@example.fr" not in response.content.decode()


def test_it_offers_no_bulk_delete(dpo_client, alice):
    response = dpo_client.get("/admin/people/person/")
    assert "delete_selected" not in response.content.decode()


def test_it_lets_nobody_delete_a_person_from_the_admin(staff_client, admin_user, alice):
    # Erasure is a workflow (Stripe, opposition list, audit), not the delete button (B4).
    client = staff_client(admin_user)
    assert client.get(f"/admin/people/person/{alice.pk}/delete/").status_code == 403


def test_it_lets_the_dpo_open_a_person_with_their_purchases(dpo_client, alice):
    assert dpo_client.get(f"/admin/people/person/{alice.pk}/change/").status_code == 200


def test_it_keeps_outsiders_out(staff_client, charlie, alice):
    client = staff_client(charlie)
    assert client.get("/admin/people/person/").status_code == 403


def test_it_lets_nobody_edit_a_restricted_person(dpo_client, alice):
    # B5, GDPR 18(2): restricted data are stored, not edited.
    from rights.fulfilment import restrict_processing
    from rights.models import RestrictionCase
    from tests.conftest import NOW

    url = f"/admin/people/person/{alice.pk}/change/"
    assert b'name="_save"' in dpo_client.get(url).content

    restrict_processing(person=alice, case=RestrictionCase.ACCURACY, by=None, now=NOW)

    page = dpo_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert "GDPR 18" in page.content.decode() or "RGPD" in page.content.decode()
    response = dpo_client.post(url, {"email": "changed@example.fr", "first_name": "Eve"})
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.email == "alice@example.fr"
