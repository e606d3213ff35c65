"""Post-mortem directives (LIL arts 84-85; REQUIREMENTS B14, D13): recorded, changed and
revoked by the person in their privacy space; found and carried out by the DPO."""

from __future__ import annotations

import zipfile

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from people import inventory
from rights import directives, services
from rights.models import (
    DataSubjectRequest,
    DirectiveInstruction,
    OutgoingEmail,
    PostMortemDirective,
)
from tests.conftest import NOW

PAGE = "/en/espace/directives/"
NAMED = {
    "instruction": "communicate",
    "executor_name": "Chloé Martin",
    "executor_email": "Chloe@Example.fr",
    "wishes": "Gardez mes avis sur les activités.",
}


def admin_page(directive) -> str:
    return f"/admin/rights/postmortemdirective/{directive.pk}/change/"


@time_machine.travel(NOW, tick=False)
def test_a_person_records_a_directive_naming_someone(space_client):
    browser = space_client("alice@example.fr")
    assert browser.get(PAGE).status_code == 200

    response = browser.post(PAGE, NAMED)

    assert response.status_code == 302 and response["Location"] == PAGE + "?saved=1"
    directive = PostMortemDirective.objects.get()
    assert (directive.email, directive.instruction) == ("alice@example.fr", "communicate")
    assert (directive.executor_name, directive.executor_email) == (
        "Chloé Martin",
        "chloe@example.fr",
    )
    assert directive.recorded_at == directive.changed_at == NOW
    services.relay_pending_emails(now=NOW)
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["alice@example.fr"]
    assert "Give a copy of my data to the person I name" in confirmation.body
    assert "Chloé Martin" in confirmation.body and "/en/espace/directives/" in confirmation.body
    event = AuditEvent.objects.get(action="directive.recorded")
    assert event.object_ref == str(directive.code) and "alice" not in str(event.details)


@time_machine.travel(NOW, tick=False)
def test_giving_a_copy_needs_the_address_of_who_receives_it(space_client):
    browser = space_client()

    response = browser.post(PAGE, {**NAMED, "executor_email": ""})

    assert response.status_code == 200
    assert (
        "Give the address of the person who should receive the copy." in response.content.decode()
    )
    assert not PostMortemDirective.objects.exists()
    with pytest.raises(ValidationError, match="Give the address of the person"):
        _directive("communicate", executor_email="")  # the service, without the form
    assert not PostMortemDirective.objects.exists()


def test_it_can_be_changed_then_revoked_at_any_time(space_client):
    with time_machine.travel(NOW, tick=False):
        browser = space_client()
        browser.post(PAGE, NAMED)
    later = NOW.replace(year=NOW.year + 1)
    with time_machine.travel(later, tick=False):
        browser = space_client()
        browser.post(PAGE, {"instruction": "erase"})
        directive = PostMortemDirective.objects.get()
        assert (
            directive.instruction == DirectiveInstruction.ERASE and directive.executor_email == ""
        )
        assert (directive.recorded_at, directive.changed_at) == (NOW, later)
        assert "Your directive since" in browser.get(PAGE).content.decode()

        assert browser.post("/en/espace/directives/retirer/")["Location"] == PAGE

    assert not PostMortemDirective.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("directive.")] == [
        "directive.recorded",
        "directive.changed",
        "directive.revoked",
    ]


@time_machine.travel(NOW, tick=False)
def test_only_the_signed_in_address_sees_or_changes_its_directive(client, space_client):
    space_client("alice@example.fr").post(PAGE, NAMED)

    assert client.get(PAGE)["Location"] == "/en/espace/connexion/"
    other = space_client("zed@example.fr")
    assert other.get(PAGE).context["directive"] is None
    other.post("/en/espace/directives/retirer/")
    assert PostMortemDirective.objects.get().email == "alice@example.fr"


@time_machine.travel(NOW, tick=False)
def test_the_dpo_finds_it_by_address_and_on_the_request_page(
    space_client, staff_client, bob, make_dsr, alice
):
    space_client("alice@example.fr").post(PAGE, NAMED)
    directive = PostMortemDirective.objects.get()
    dsr = make_dsr(kind="erasure", details={"scope": "everything"}, confirm=True)
    dpo = staff_client(bob)

    found = dpo.get("/admin/rights/postmortemdirective/", {"q": "alice@example.fr"})
    request_page = dpo.get(f"/admin/rights/datasubjectrequest/{dsr.pk}/change/")

    assert list(found.context["cl"].result_list) == [directive]
    assert request_page.context["directive"] == directive
    assert 'id="directive"' in request_page.content.decode()
    # The access package and the erasure plan find it too (inventory.PERSON_LOOKUPS).
    mine = inventory.rows_of("rights.PostMortemDirective", person=alice, email=alice.email)
    assert list(mine) == [directive]


@time_machine.travel(NOW, tick=False)
def test_the_dpo_records_how_it_was_carried_out_once(space_client, staff_client, bob):
    browser = space_client("alice@example.fr")
    browser.post(PAGE, NAMED)
    directive = PostMortemDirective.objects.get()
    dpo = staff_client(bob)

    empty = dpo.post(admin_page(directive), {"carried_out_note": "  "})
    assert empty.status_code == 200 and empty.context["adminform"].form.errors
    done = dpo.post(
        admin_page(directive),
        {"carried_out_note": "Acte de décès et pièce d'identité de Chloé vus; copie envoyée."},
    )

    assert done.status_code == 302
    directive.refresh_from_db()
    assert (directive.carried_out_at, directive.carried_out_by) == (NOW, bob)
    assert AuditEvent.objects.filter(action="directive.carried_out", actor_user=bob).count() == 1
    # Carried out, it is proof: neither the DPO nor the privacy space changes it any more.
    assert "carried_out_note" in dpo.get(admin_page(directive)).context["adminform"].readonly_fields
    browser.post(PAGE, {"instruction": "erase"})
    assert not directives.revoke_directive(email="alice@example.fr", now=NOW)
    directive.refresh_from_db()
    assert directive.instruction == DirectiveInstruction.COMMUNICATE


def test_other_staff_cannot_see_directives(staff_client, django_user_model):
    clerk = django_user_model.objects.create_user(
        "clerk", "c@okasio.fr", "pw-123456", is_staff=True
    )
    assert staff_client(clerk).get("/admin/rights/postmortemdirective/").status_code == 403


# --- A request from the person named, about the deceased ----------------------------------


def _directive(instruction: str, executor_email: str = "chloe@example.fr") -> PostMortemDirective:
    return directives.record_directive(
        email="alice@example.fr",
        instruction=instruction,
        executor_name="Chloé Martin",
        executor_email=executor_email,
        wishes="",
        language="fr",
        now=NOW,
    )


def _log(bob, kind: str, *, email: str = "chloe@example.fr", details=None):
    return services.log_received_request(
        kind=kind,
        email=email,
        name="Chloé Martin",
        language="fr",
        channel="post",
        received_at=NOW,
        details=details or {},
        deceased_email="Alice@Example.fr",
        by=bob,
        now=NOW,
    )


@time_machine.travel(NOW, tick=False)
def test_the_person_named_receives_the_copy_of_the_deceased_data(alice, bob, settings, tmp_path):
    from rights import exports

    settings.MEDIA_ROOT = tmp_path
    _directive("communicate")
    dsr = _log(bob, "access")

    export = exports.build_export(dsr=dsr, now=NOW)

    assert (dsr.email, dsr.deceased_email, dsr.subject_email) == (
        "chloe@example.fr",
        "alice@example.fr",
        "alice@example.fr",
    )
    with zipfile.ZipFile(tmp_path / export.file_path) as package:
        everything = "".join(
            package.read(name).decode() for name in package.namelist() if name.endswith(".json")
        )
    assert "alice@example.fr" in everything and "Alice" in everything
    services.relay_pending_emails(now=NOW)
    assert {m.to[0] for m in mail.outbox} == {"chloe@example.fr", "alice@example.fr"}
    ready = OutgoingEmail.objects.get(template="export_ready")
    assert ready.to == "chloe@example.fr"  # never the deceased's address


@time_machine.travel(NOW, tick=False)
def test_an_erasure_from_the_person_named_erases_the_deceased(alice, bob, staff_client):
    from audit.hashing import subject_hash
    from consent.models import OppositionEntry
    from people.models import Person
    from rights import fulfilment

    _directive("erase", executor_email="")  # names nobody: an heir asks
    dsr = _log(bob, "erasure", email="heir@example.fr", details={"scope": "everything"})
    page = staff_client(bob).get(f"/admin/rights/datasubjectrequest/{dsr.pk}/change/")
    assert 'id="deceased"' in page.content.decode() and page.context["directive"]

    fulfilment.erase(dsr=dsr, by=bob, now=NOW)

    assert not Person.objects.filter(email="alice@example.fr").exists()
    assert OppositionEntry.objects.filter(subject_hash=subject_hash("alice@example.fr")).exists()
    done = OutgoingEmail.objects.get(template="erasure_done")
    assert done.to == "heir@example.fr"
    # Written to the heir about the person who died, not as if the data were the heir's.
    assert done.subject == "Nous avons effacé les données de la personne décédée"
    assert "pour la personne décédée, comme le prévoient ses directives" in done.body_text
    assert "Son adresse figure désormais sur notre liste d’opposition" in done.body_text
    assert "votre demande d’effacement" not in done.body_text
    assert "Votre adresse" not in done.body_text


@pytest.mark.parametrize(
    ("instruction", "kind", "requester", "field"),
    [
        ("erase", "access", "chloe@example.fr", "kind"),  # the directive says erase
        ("keep", "erasure", "chloe@example.fr", "kind"),  # nothing to request
        ("communicate", "access", "mallory@example.fr", "email"),  # someone else is named
        (None, "erasure", "chloe@example.fr", "deceased_email"),  # no directive
    ],
)
@time_machine.travel(NOW, tick=False)
def test_only_what_the_directive_allows_can_be_logged(
    alice, bob, staff_client, instruction, kind, requester, field
):
    if instruction:
        _directive(instruction)

    with pytest.raises(ValidationError) as refused:
        _log(bob, kind, email=requester, details={"scope": "everything"})
    response = staff_client(bob).post(
        "/admin/rights/datasubjectrequest/add/",
        {
            "kind": kind,
            "channel": "post",
            "email": requester,
            "language": "fr",
            "received_at_0": "2026-01-10",
            "received_at_1": "10:00:00",
            "details": "{}",
            "deceased_email": "alice@example.fr",
        },
    )

    assert field in refused.value.message_dict
    assert response.status_code == 200 and field in response.context["adminform"].form.errors
    assert not DataSubjectRequest.objects.filter(deceased_email="alice@example.fr").exists()
