"""`manage.py import_prospects`: a prospect list, never re-importing an objector (B11, C8)."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from consent import services
from people.models import Person
from tests.conftest import NOW

HEADER = "email,first_name,last_name,company,phone,collected_at,source\n"


@pytest.fixture
def run(tmp_path, db):
    def run_import(body: str, *args: str, header: str = HEADER) -> str:
        path = tmp_path / "prospects.csv"
        path.write_text(header + body, encoding="utf-8")
        out = StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("import_prospects", str(path), *args, stdout=out)
        return out.getvalue()

    return run_import


def test_it_creates_prospects_with_their_details(run):
    output = run(
        "Zoe@Example.fr,Zoé,Leroy,Acme,+33 6 12 34 56 78,2025-11-02 09:30,salon-lille-2025\n"
        "marc@example.fr,,,,,,\n"
    )
    zoe = Person.objects.get(email="zoe@example.fr")
    assert (zoe.first_name, zoe.company, zoe.is_prospect) == ("Zoé", "Acme", True)
    assert zoe.collected_at.isoformat() == "2025-11-02T09:30:00+00:00"
    assert Person.objects.get(email="marc@example.fr").collected_at == NOW
    assert output.strip().endswith("created 2, refused (opposition list) 0, "
                                   "skipped (already known) 0, invalid 0")  # fmt: skip
    event = AuditEvent.objects.get(action="consent.prospects_imported")
    assert event.details == {
        "created": 2,
        "opposed": 0,
        "existing": 0,
        "invalid": 0,
        "sources": {"salon-lille-2025": 1},
    }


def test_it_refuses_the_opposition_list_and_skips_known_people(run, make_person):
    services.forget_subject(email="gone@example.fr", now=NOW)
    make_person(email="Known@example.fr")
    output = run(
        "new@example.fr,,,,,,\n"  # line 2
        "GONE@example.fr,,,,,,\n"  # line 3
        "known@example.fr,Other,,,,,\n"  # line 4
        "new@example.fr,,,,,,\n"  # line 5: twice in the file
    )
    assert "on the opposition list, refused: lines 3" in output
    assert "already known, skipped: lines 4, 5" in output
    assert not Person.objects.filter(email__iexact="gone@example.fr").exists()
    assert Person.objects.get(email="Known@example.fr").first_name == "Alice"  # untouched
    assert Person.objects.count() == 2


def test_it_reports_invalid_rows_by_line_without_their_values(run):
    output = run(
        "not-an-address,Jean,,,,,\n"  # line 2
        "ok@example.fr,,,,,2027-01-01,\n"  # line 3: collected in the future
        "ok2@example.fr,,,,,,bad<source>\n"  # line 4
    )
    assert "line 2: invalid (email)" in output
    assert "line 3: invalid (collected_at)" in output
    assert "line 4: invalid (source)" in output
    assert "not-an-address" not in output and "Jean" not in output and "ok@" not in output
    assert not Person.objects.exists()


def test_it_prints_no_personal_data(run, make_person):
    services.forget_subject(email="gone@example.fr", now=NOW)
    make_person(email="known@example.fr")
    output = run("gone@example.fr,Gina,,,,,\nknown@example.fr,Kim,,,,,\nn@example.fr,Nour,,,,,\n")
    assert "@" not in output
    assert not any(name in output for name in ["Gina", "Kim", "Nour"])


def test_it_changes_nothing_in_a_dry_run(run):
    output = run("a@example.fr,,,,,,\nb@example.fr,,,,,,\n", "--dry-run")
    assert "would create 2" in output
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(action="consent.prospects_imported").exists()


def test_it_accepts_the_optional_columns_left_out(run):
    output = run("a@example.fr\n", header="email\n")
    assert "created 1" in output and Person.objects.count() == 1


def test_it_refuses_a_file_without_an_email_column_or_with_unknown_ones(run):
    with pytest.raises(CommandError, match="no `email` column"):
        run("Ann\n", header="first_name\n")
    with pytest.raises(CommandError, match="Unknown columns: iban"):
        run("a@example.fr,FR76\n", header="email,iban\n")


def test_it_works_in_bounded_batches(run, django_assert_max_num_queries):
    rows = "".join(f"p{n}@example.fr,,,,,,\n" for n in range(30))
    # Per batch of 10: two look-ups, then per row the opposition re-check and the insert
    # (with their savepoints); no query grows with the file beyond that.
    with django_assert_max_num_queries(3 * (2 + 2 + 10 * 4) + 10):
        output = run(rows, "--batch-size", "10")
    assert "created 30" in output
