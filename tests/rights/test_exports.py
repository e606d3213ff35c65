"""Access and portability exports (rights.exports; REQUIREMENTS B1, B2, B7, A9)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import inventory
from people import stripe as people_stripe
from rights import exports, tasks
from rights.models import Export, ExportKind, OutgoingEmail
from tests.conftest import NOW

from .conftest import link_in


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _stripe_knows_no_one(monkeypatch):
    """Stripe's part of the package is tested against localstripe in
    tests/people/test_stripe_calls.py; here, Stripe has nothing on anyone."""
    monkeypatch.setattr(people_stripe, "customer_data", lambda customer_id: None)


def _zip(export: Export) -> zipfile.ZipFile:
    return zipfile.ZipFile(exports.export_path(export))


def _download_token(dsr) -> str:
    email = OutgoingEmail.objects.filter(request=dsr, template="export_ready").latest("id")
    return link_in(email.body_text, "/telecharger/").rstrip("/").split("/")[-1]


def test_it_writes_every_category_as_json_and_csv(holdings, make_dsr):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    names = set(_zip(export).namelist())
    layout = exports.package_layout(ExportKind.ACCESS)
    assert {f"{f.stem}.json" for f in layout} | {f"{f.stem}.csv" for f in layout} <= names
    assert "summary.html" in names
    with _zip(export) as zf:
        purchases = json.loads(zf.read("purchases.json"))
        rows = list(csv.reader(io.TextIOWrapper(zf.open("purchases.csv"), encoding="utf-8")))
        for f in layout:
            json.loads(zf.read(f"{f.stem}.json"))
            list(csv.reader(io.TextIOWrapper(zf.open(f"{f.stem}.csv"), encoding="utf-8")))
        identity = json.loads(zf.read("identity.json"))
        technical = json.loads(zf.read("technical.json"))
    invoices = {r["invoice_number"] for r in purchases["records"] if r["record"] == "purchase"}
    assert invoices == {holdings["recent"].invoice_number, holdings["old"].invoice_number}
    assert rows[0][0] == "record" and len(rows) == len(purchases["records"]) + 1
    assert identity["records"][0]["first_name"] == "Alice"
    assert technical["records"][0]["ip_address"] == "192.0.2.10"


def test_it_covers_every_model_the_inventory_declares():
    declared = {f.model for f in inventory.personal_fields()}
    assert declared <= set(inventory.PERSON_LOOKUPS) | set(inventory.NOT_PERSON_ROWS)


def test_it_never_writes_integer_ids(holdings, make_dsr):
    dsr = make_dsr(confirm=True)
    with _zip(exports.build_export(dsr=dsr, now=NOW)) as zf:
        content = json.loads(zf.read("content.json"))
    review = next(r for r in content["records"] if r["record"] == "review")
    assert review["activity"] == "Rando en baie de Somme"
    assert "id" not in review and "person" not in review


def test_it_summarises_every_item_of_article_15(holdings, make_dsr):
    dsr = make_dsr(confirm=True)
    with _zip(exports.build_export(dsr=dsr, now=NOW)) as zf:
        html = zf.read("summary.html").decode()
    for section in ["a", "b", "c", "d", "e", "f", "g", "h", "2"]:
        assert f'id="art15-{section}"' in html
    assert "Stripe Payments Europe Ltd" in html and "OVH SAS" in html  # names, not categories
    assert "Ireland" in html
    assert "CNIL" in html and "article 77" in html
    assert "10 years after" in html  # retention per category
    assert "You gave it to us" in html  # source
    assert "/en/demande/erasure/" in html


def test_it_writes_the_summary_in_the_request_language(holdings, make_dsr):
    dsr = make_dsr(confirm=True, language="fr")
    with _zip(exports.build_export(dsr=dsr, now=NOW)) as zf:
        html = zf.read("summary.html").decode()
    assert '<html lang="fr">' in html


def test_it_answers_someone_we_hold_nothing_about(make_dsr):
    dsr = make_dsr(confirm=True, email="nobody@example.fr")
    with _zip(exports.build_export(dsr=dsr, now=NOW)) as zf:
        html = zf.read("summary.html").decode()
        rights = json.loads(zf.read("rights.json"))
        purchases = json.loads(zf.read("purchases.json"))
    assert "we hold no personal data about you." in html
    assert [r["record"] for r in rights["records"]][:1] == ["datasubjectrequest"]
    assert purchases["records"] == []


def test_it_exports_for_portability_only_the_portable_fields(holdings, make_dsr):
    dsr = make_dsr(confirm=True, kind="portability")
    export = exports.build_export(dsr=dsr, now=NOW)
    assert export.kind == ExportKind.PORTABILITY
    with _zip(export) as zf:
        names = zf.namelist()
        text = "".join(zf.read(n).decode() for n in names if n.endswith(".json"))
        schema = zf.read("schema.md").decode()
    assert not [n for n in names if n.lower().endswith(".pdf")]
    assert "summary.html" not in names
    assert "technical.json" not in names  # legitimate interest: not portable (20(1))
    assert "rights.json" not in names  # legal obligation
    for excluded in ["card_last4", "stripe_charge_id", "invoice_number", "ip_address", "code"]:
        assert f'"{excluded}"' not in text
    assert '"billing_name"' in text and '"first_name"' in text
    assert "| `purchase` | `billing_name` | Name on the invoice | text |" in schema


def test_it_makes_the_same_queries_whatever_the_number_of_rows(alice, make_purchase):
    def queries_for(n: int) -> int:
        for _ in range(n):
            make_purchase(person=alice)
        with (
            CaptureQueriesContext(connection) as captured,
            zipfile.ZipFile(io.BytesIO(), "w") as zf,
        ):
            exports.write_package(
                zf, kind=ExportKind.ACCESS, person=alice, email=alice.email, chunk_size=4
            )
        return len(captured)

    few = queries_for(2)
    many = queries_for(30)
    assert few == many
    assert many <= len(exports.package_layout(ExportKind.ACCESS)) * 6


def test_it_streams_rows_in_chunks(alice, make_purchase, monkeypatch):
    from django.db.models.query import QuerySet

    seen = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    make_purchase(person=alice)
    with zipfile.ZipFile(io.BytesIO(), "w") as zf:
        exports.write_package(zf, kind=ExportKind.ACCESS, person=alice, email=alice.email)
    assert seen and set(seen) == {2000}


def test_it_keeps_the_file_in_private_storage(holdings, make_dsr, settings, tmp_path):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    path = exports.export_path(export)
    assert path.parent == tmp_path / "exports"
    assert path.stat().st_mode & 0o077 == 0
    assert export.size == path.stat().st_size
    assert export.expires_at == NOW + timedelta(days=settings.RIGHTS_EXPORT_LINK_DAYS)
    assert "alice" not in export.file_path and "alice" not in export.file_name


def test_it_downloads_once_through_the_emailed_link(client, holdings, make_dsr, time_machine):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    url = f"/en/telecharger/{_download_token(dsr)}/"
    assert client.get(url).status_code == 200  # a button: link scanners do not spend it
    response = client.post(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()
    export.refresh_from_db()
    assert export.downloaded_at is not None
    assert client.post(url).status_code == 410  # single use


def test_it_refuses_an_expired_export(client, holdings, make_dsr, time_machine):
    dsr = make_dsr(confirm=True)
    exports.build_export(dsr=dsr, now=NOW)
    time_machine.move_to(NOW + timedelta(days=8), tick=False)
    assert client.post(f"/en/telecharger/{_download_token(dsr)}/").status_code == 410
    assert client.post("/en/telecharger/not-a-token/").status_code == 404


def test_the_tracker_sends_a_new_download_link(client, holdings, make_dsr, time_machine):
    dsr = make_dsr(confirm=True)
    exports.build_export(dsr=dsr, now=NOW)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    page = client.get(f"/en/suivi/{dsr.tracker_token}/").content.decode()
    assert 'id="send-download-link"' in page
    before = OutgoingEmail.objects.filter(template="export_ready").count()
    response = client.post(f"/en/suivi/{dsr.tracker_token}/lien/")
    assert response.status_code == 200
    assert OutgoingEmail.objects.filter(template="export_ready").count() == before + 1


def test_it_deletes_expired_exports(holdings, make_dsr):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    path = exports.export_path(export)
    # Retention's exports policy deletes them (tests/retention/test_purge_rights_leftovers.py).
    from retention.sweeps import purge_exports

    assert purge_exports(now=NOW + timedelta(days=6)).affected == 0
    assert purge_exports(now=NOW + timedelta(days=7)).affected == 1
    assert not path.exists() and not Export.objects.exists()


def test_the_task_builds_by_id_after_commit(holdings, make_dsr, django_capture_on_commit_callbacks):
    dsr = make_dsr(confirm=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        exports.start_export(dsr=dsr, now=NOW)
    assert len(callbacks) == 1
    assert tasks.build_export(dsr.id) == Export.objects.get(request=dsr).size


def test_it_has_no_stripe_data_without_a_stripe_customer(alice):
    assert exports.stripe_data_for(alice) is None


def test_it_includes_the_files_the_person_gave(alice, make_dsr):
    from django.core.files.base import ContentFile

    alice.photo.save("alice.jpg", ContentFile(b"\xff\xd8 a photo"))
    dsr = make_dsr(confirm=True)
    with _zip(exports.build_export(dsr=dsr, now=NOW)) as zf:
        identity = json.loads(zf.read("identity.json"))
        path = identity["records"][0]["photo"]
        assert zf.read(f"files/{path}") == b"\xff\xd8 a photo"


def test_an_erasure_deletes_the_exports_waiting_to_be_downloaded(
    client, holdings, make_dsr, bob, django_capture_on_commit_callbacks, monkeypatch
):
    """B4: after an erasure no copy of the data is left to download, from the emailed link
    or from the tracker's "email me a link"."""
    from rights import fulfilment

    for seam in ("stripe_delete_customer", "stripe_detach_payment_method"):
        monkeypatch.setattr(fulfilment, seam, lambda **kwargs: None)  # tested elsewhere
    access = make_dsr(confirm=True)
    export = exports.build_export(dsr=access, now=NOW)
    token = _download_token(access)
    erasure = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})

    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.erase(dsr=erasure, by=bob, now=NOW)

    assert not Export.objects.exists()
    assert not exports.export_path(export).exists()
    assert client.post(f"/en/telecharger/{token}/").status_code in (404, 410)
    page = client.get(f"/en/suivi/{access.tracker_token}/").content.decode()
    assert 'id="send-download-link"' not in page
