"""Opposition-list entries: kept at least 3 years from the objection, then deleted (B11)."""

from __future__ import annotations

from audit.hashing import subject_hash
from consent.models import OppositionChannel, OppositionEntry
from retention.sweeps import purge_opposition_list
from tests.conftest import NOW
from tests.retention.conftest import months_ago


def _entry(email: str, *, objected_on) -> OppositionEntry:
    return OppositionEntry.objects.create(
        subject_hash=subject_hash(email),
        channel=OppositionChannel.EMAIL,
        objected_at=NOW.replace(
            year=objected_on.year, month=objected_on.month, day=objected_on.day
        ),
    )


def test_it_keeps_entries_until_three_years_have_passed(db):
    day_before = _entry("a@example.fr", objected_on=months_ago(NOW.date(), 36, +1))
    last_day = _entry("b@example.fr", objected_on=months_ago(NOW.date(), 36))
    day_after = _entry("c@example.fr", objected_on=months_ago(NOW.date(), 36, -1))

    result = purge_opposition_list(now=NOW)

    assert set(OppositionEntry.objects.values_list("pk", flat=True)) == {
        day_before.pk,
        last_day.pk,
    }
    assert result.affected == 1
    assert not OppositionEntry.objects.filter(pk=day_after.pk).exists()


def test_it_follows_a_longer_period_from_the_settings(db, settings):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "opposition_list": 48}
    entry = _entry("a@example.fr", objected_on=months_ago(NOW.date(), 40))

    assert purge_opposition_list(now=NOW).affected == 0
    assert OppositionEntry.objects.filter(pk=entry.pk).exists()


def test_it_changes_nothing_in_a_dry_run(db):
    _entry("a@example.fr", objected_on=months_ago(NOW.date(), 40))

    result = purge_opposition_list(now=NOW, dry_run=True)

    assert result.affected == 1
    assert OppositionEntry.objects.count() == 1
