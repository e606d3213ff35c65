"""Technical traces (IP address, browser): 13 months."""

from __future__ import annotations

from datetime import timedelta

from people.models import TechnicalTrace
from retention.sweeps import purge_technical_traces
from tests.conftest import NOW
from tests.retention.conftest import months_ago


def _at(day):
    return NOW.replace(year=day.year, month=day.month, day=day.day)


def test_it_deletes_traces_a_day_after_13_months(make_trace, alice):
    kept = make_trace(person=alice, seen_at=_at(months_ago(NOW.date(), 13, +1)))
    anonymous_kept = make_trace(seen_at=_at(months_ago(NOW.date(), 13)))
    gone = make_trace(person=alice, seen_at=_at(months_ago(NOW.date(), 13, -1)))
    anonymous_gone = make_trace(seen_at=_at(months_ago(NOW.date(), 13, -1)) - timedelta(hours=12))

    result = purge_technical_traces(now=NOW)

    assert set(TechnicalTrace.objects.values_list("pk", flat=True)) == {
        kept.pk,
        anonymous_kept.pk,
    }
    assert result.affected == 2
    assert not TechnicalTrace.objects.filter(pk__in=[gone.pk, anonymous_gone.pk]).exists()
