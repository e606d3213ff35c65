"""The Art. 30 register export (REQUIREMENTS B15)."""

from __future__ import annotations

import csv
import io

from people import inventory

URL = "/en/registre.csv"


def _rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_it_sends_anonymous_visitors_to_the_admin_login(client):
    response = client.get("/registre.csv")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/registre.csv"


def test_it_refuses_staff_outside_the_dpo_group(staff_client, charlie):
    client = staff_client(charlie)
    assert client.get(URL).status_code == 403


def test_it_refuses_the_dpo_without_a_second_factor(client, bob):
    client.force_login(bob)  # a session that never went through the TOTP step
    assert client.get(URL).status_code == 403


def test_it_gives_the_register_to_the_dpo(staff_client, bob):
    client = staff_client(bob)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]


def test_it_gives_the_register_to_a_superuser(staff_client, admin_user):
    client = staff_client(admin_user)
    assert client.get(URL).status_code == 200


def test_it_has_one_row_per_processing_activity_with_every_art30_item(staff_client, bob):
    client = staff_client(bob)
    rows = _rows(client.get(URL))
    assert [row["Processing activity"] for row in rows] == [
        "Customer and user management",
        "Payments and invoicing",
        "Prospecting (newsletters and offers)",
        "Site operation, cookies and audience measurement",
        "Support and contact requests",
        "Data protection rights requests",
    ]
    headings = [str(heading) for _key, heading in inventory.REGISTER_COLUMNS]
    assert list(rows[0]) == headings
    for row in rows:
        for heading in headings:
            assert row[heading].strip(), (row["Processing activity"], heading)
    audience = rows[3]
    assert (
        "Google LLC (Google Analytics) (United States)"
        in audience["Transfers outside the EU and safeguards (30(1)(e))"]
    )


def test_it_exports_the_retention_periods_the_sweeps_enforce(staff_client, bob, settings):
    # B15: the register and the sweeps read the same settings.RETENTION_MONTHS.
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "card_evidence": 14}
    client = staff_client(bob)
    seen = {}
    for row in _rows(client.get(URL)):
        for pair in filter(None, row["Retention settings (months)"].split("; ")):
            key, months = pair.split("=")
            seen[key] = int(months)
    assert seen == {key: settings.RETENTION_MONTHS[key] for key in seen}
    assert seen["card_evidence"] == 14
    assert set(seen) == inventory.retention_keys()
